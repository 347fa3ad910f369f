use chrono::{DateTime, Utc};
use serde::Serialize;

/// Who created and last changed a record, and when; `version` drives
/// optimistic concurrency (it is the ETag of the admin API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    #[serde(serialize_with = "super::millis")]
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    #[serde(serialize_with = "super::millis")]
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: u64,
}

impl Audit {
    pub fn new(actor: &str, now: DateTime<Utc>) -> Self {
        Self {
            created_at: now,
            created_by: actor.to_string(),
            updated_at: now,
            updated_by: actor.to_string(),
            version: 1,
        }
    }

    /// The audit of the next version of the same record.
    pub fn touched(&self, actor: &str, now: DateTime<Utc>) -> Self {
        Self { updated_at: now, updated_by: actor.to_string(), version: self.version + 1, ..self.clone() }
    }
}
