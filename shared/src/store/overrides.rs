//! Overrides: the canonical item (read by id, listed through the indexes)
//! and the user's copy (`USER#{id}` / `OVERRIDES`), which the check reads in
//! its one BatchGetItem. Both are written in one transaction; the copy's
//! version guards it against concurrent writers (admins, and the check that
//! marks an override as applied).

use super::dynamo::{DynamoStore, store_error};
use super::events_write::audit_put;
use super::item::{self, key, n, s};
use super::schema::{ASSIGNMENTS_BY_TARGET, ASSIGNMENTS_BY_TIER, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, PK, SK};
use super::{cursor, keys};
use crate::error::{Entity, Error};
use crate::model::shadow::PolicyMode;
use crate::model::{
    AdminChange, MAX_OVERRIDES_IN_EFFECT, Override, OverrideId, OverrideStatus, OverrideView, QuotaEvent, UserId,
    UserOverrides,
};
use crate::page::{Page, PageRequest};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

/// How often a write is tried again when another writer moved the user's copy.
const COPY_RETRIES: usize = 4;

/// Which overrides a list answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverrideFilter {
    pub user: Option<UserId>,
    pub status: Option<OverrideStatus>,
    pub mode: Option<PolicyMode>,
}

enum Change<'a> {
    Create(&'a Override),
    Update { next: &'a Override, expected_version: u64 },
    Delete { current: &'a Override },
}

fn not_found(id: &OverrideId) -> Error {
    Error::NotFound { entity: Entity::Override, id: id.to_string() }
}

impl DynamoStore {
    pub async fn get_override(&self, id: &OverrideId) -> Result<Option<Override>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(self.quota())
            .set_key(Some(key(keys::override_pk(id), keys::OVERRIDE_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        out.item().map(item::override_from_item).transpose()
    }

    /// The user's copy: every override of the user not yet expired.
    pub async fn get_user_overrides(&self, user: &UserId) -> Result<UserOverrides, Error> {
        let out = self
            .client
            .get_item()
            .table_name(self.quota())
            .set_key(Some(key(keys::user_pk(user), keys::OVERRIDES_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        item::user_overrides_from_item(out.item())
    }

    /// Stores a new override; 409 when the user already has the most
    /// overrides in effect or upcoming that the check reads.
    pub async fn create_override(&self, o: &Override, now: DateTime<Utc>, audit: &AdminChange) -> Result<(), Error> {
        self.write_override(&o.user_id, Change::Create(o), now, audit).await
    }

    /// Replaces an override if it is still at `expected_version`.
    pub async fn update_override(
        &self,
        next: &Override,
        expected_version: u64,
        now: DateTime<Utc>,
        audit: &AdminChange,
    ) -> Result<(), Error> {
        self.write_override(&next.user_id, Change::Update { next, expected_version }, now, audit).await
    }

    /// Deletes an override (if still at `current`'s version).
    pub async fn delete_override(
        &self,
        current: &Override,
        now: DateTime<Utc>,
        audit: &AdminChange,
    ) -> Result<(), Error> {
        self.write_override(&current.user_id, Change::Delete { current }, now, audit).await
    }

    /// One transaction: the canonical item, and the user's copy rewritten
    /// from what was read (expired overrides and their flags pruned) on the
    /// condition that nobody wrote the copy meanwhile; a lost race reads again.
    async fn write_override(
        &self,
        user: &UserId,
        change: Change<'_>,
        now: DateTime<Utc>,
        audit: &AdminChange,
    ) -> Result<(), Error> {
        for _ in 0..COPY_RETRIES {
            let seen = self.get_user_overrides(user).await?;
            let mut copy = seen.clone();
            let (id, canonical) = match &change {
                Change::Create(o) => {
                    copy.overrides.push((*o).clone());
                    let put = Put::builder()
                        .table_name(self.quota())
                        .set_item(Some(item::override_to_item(o)))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .expect("required fields set");
                    (&o.override_id, TransactWriteItem::builder().put(put).build())
                }
                Change::Update { next, expected_version } => {
                    copy.overrides.retain(|x| x.override_id != next.override_id);
                    copy.overrides.push((*next).clone());
                    let put = Put::builder()
                        .table_name(self.quota())
                        .set_item(Some(item::override_to_item(next)))
                        .condition_expression("attribute_exists(pk) AND #version = :expected")
                        .expression_attribute_names("#version", "version")
                        .expression_attribute_values(":expected", n(*expected_version))
                        .build()
                        .expect("required fields set");
                    (&next.override_id, TransactWriteItem::builder().put(put).build())
                }
                Change::Delete { current } => {
                    copy.overrides.retain(|x| x.override_id != current.override_id);
                    let delete = Delete::builder()
                        .table_name(self.quota())
                        .set_key(Some(key(keys::override_pk(&current.override_id), keys::OVERRIDE_SK)))
                        .condition_expression("attribute_exists(pk) AND #version = :expected")
                        .expression_attribute_names("#version", "version")
                        .expression_attribute_values(":expected", n(current.audit.version))
                        .build()
                        .expect("required fields set");
                    (&current.override_id, TransactWriteItem::builder().delete(delete).build())
                }
            };
            copy.overrides.retain(|o| o.valid_until > now);
            copy.applied.retain(|a| copy.overrides.iter().any(|o| &o.override_id == a));
            if matches!(change, Change::Create(_)) && copy.overrides.len() > MAX_OVERRIDES_IN_EFFECT {
                return Err(Error::Conflict(format!(
                    "user {user} already has {MAX_OVERRIDES_IN_EFFECT} overrides in effect or upcoming; \
                     delete or end some first"
                )));
            }
            copy.version = seen.version + 1;
            let guard = if seen.version == 0 {
                "attribute_not_exists(pk)".to_string()
            } else {
                format!("{} = :seen", item::COPY_VERSION_ATTR)
            };
            let mut put_copy = Put::builder()
                .table_name(self.quota())
                .set_item(Some(item::user_overrides_to_item(user, &copy)))
                .condition_expression(guard);
            if seen.version > 0 {
                put_copy = put_copy.expression_attribute_values(":seen", n(seen.version));
            }
            let items = vec![
                canonical,
                TransactWriteItem::builder().put(put_copy.build().expect("required fields set")).build(),
                audit_put(self.events(), audit),
            ];
            match self.transact_retrying(items).await? {
                Ok(()) => return Ok(()),
                Err(c) if c.condition_failed(1).is_some() => continue,
                Err(c) if c.condition_failed(0).is_some() => {
                    return Err(match change {
                        Change::Create(_) => Error::Conflict(format!("override {id} already exists")),
                        Change::Update { expected_version, .. } => match self.get_override(id).await? {
                            Some(_) => Error::PreconditionFailed {
                                entity: Entity::Override,
                                id: id.to_string(),
                                expected: expected_version,
                            },
                            None => not_found(id),
                        },
                        Change::Delete { current } => match self.get_override(id).await? {
                            Some(_) => Error::PreconditionFailed {
                                entity: Entity::Override,
                                id: id.to_string(),
                                expected: current.audit.version,
                            },
                            None => not_found(id),
                        },
                    });
                }
                Err(_) => return Err(Error::Store("override write cancelled".into())),
            }
        }
        Err(Error::Conflict(format!("the overrides of user {user} kept changing; try again")))
    }

    /// Overrides, newest `validFrom` first, optionally of one user and/or in
    /// one status at `now`. A Query on an index (all overrides, or the
    /// user's); the status is a key range plus a filter, and short reads are
    /// topped up so a page is full unless the list ends.
    pub async fn list_overrides(
        &self,
        filter: &OverrideFilter,
        page: &PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<OverrideView>, Error> {
        let (index, pk_attr, sk_attr, partition) = match &filter.user {
            Some(u) => (ASSIGNMENTS_BY_TIER, GSI2_PK, GSI2_SK, keys::user_overrides_pk(u)),
            None => (ASSIGNMENTS_BY_TARGET, GSI1_PK, GSI1_SK, keys::OVERRIDES_GSI_PK.to_string()),
        };
        let boundary = keys::override_sort_after(now);
        // Active and expired overrides started at or before now, upcoming ones after.
        let (range, status_filter) = match filter.status {
            None => (None, None),
            Some(OverrideStatus::Active) => (Some("<="), Some("enabled = :true AND validUntil > :now")),
            Some(OverrideStatus::Upcoming) => (Some(">"), Some("enabled = :true")),
            Some(OverrideStatus::Expired) => (Some("<="), Some("enabled = :true AND validUntil <= :now")),
            Some(OverrideStatus::Disabled) => (None, Some("enabled = :false")),
        };
        let start = cursor::decode(page.next_token.as_deref(), &[PK, SK, pk_attr, sk_attr], (pk_attr, &partition))?;
        if let Some(sort) = start.as_ref().and_then(|k| k.get(sk_attr)).and_then(|v| v.as_s().ok()) {
            // `{validFrom with millis}#{id}`: anything else was not issued here.
            if sort.len() <= 25 || sort.as_bytes()[24] != b'#' {
                return Err(Error::InvalidCursor);
            }
            match range {
                Some("<=") if sort.as_str() > boundary.as_str() => return Err(Error::InvalidCursor),
                // The upcoming overrides below this token have all started since it was issued.
                Some(">") if sort.as_str() <= boundary.as_str() => {
                    return Ok(Page { items: vec![], next_token: None });
                }
                _ => {}
            }
        }
        let mut q = self
            .client
            .query()
            .table_name(self.quota())
            .index_name(index)
            .expression_attribute_names("#pk", pk_attr)
            .expression_attribute_values(":pk", s(&partition))
            .scan_index_forward(false);
        q = match range {
            Some(op) => q
                .key_condition_expression(format!("#pk = :pk AND #sk {op} :boundary"))
                .expression_attribute_names("#sk", sk_attr)
                .expression_attribute_values(":boundary", s(&boundary)),
            None => q.key_condition_expression("#pk = :pk"),
        };
        let filters: Vec<&str> = status_filter.into_iter().chain(filter.mode.map(item::mode_condition)).collect();
        if let Some(mode) = filter.mode {
            q = q
                .expression_attribute_names("#mode", item::MODE)
                .expression_attribute_values(":mode", s(mode.as_str()));
        }
        if let Some(f) = status_filter {
            if f.contains(":true") {
                q = q.expression_attribute_values(":true", AttributeValue::Bool(true));
            }
            if f.contains(":false") {
                q = q.expression_attribute_values(":false", AttributeValue::Bool(false));
            }
            if f.contains(":now") {
                q = q.expression_attribute_values(":now", item::time(now));
            }
        }
        if !filters.is_empty() {
            q = q.filter_expression(filters.join(" AND "));
        }
        let parse = |it: &item::Item| Ok(item::override_from_item(it)?.view(now));
        let (found, start) = self.query_filling(q, Some(page.limit as usize), start, parse).await?;
        Ok(Page { items: found, next_token: cursor::encode(start.as_ref()) })
    }

    /// Stores the `override_applied` event unless this override already had
    /// it: the flag lives on the user's copy (whose version it moves, so an
    /// admin write in between reads it again rather than dropping it).
    pub async fn record_override_applied(&self, event: &QuotaEvent) -> Result<bool, Error> {
        let Some(id) = &event.override_id else { return Ok(false) };
        let mark = Update::builder()
            .table_name(self.quota())
            .set_key(Some(key(keys::user_pk(&event.user_id), keys::OVERRIDES_SK)))
            .update_expression("SET #applied.#id = :true ADD #version :one")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(#applied.#id)")
            .expression_attribute_names("#applied", item::APPLIED_ATTR)
            .expression_attribute_names("#id", id.as_str())
            .expression_attribute_names("#version", item::COPY_VERSION_ATTR)
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":one", n(1))
            .build()
            .expect("required fields set");
        self.store_flagged_event(mark, event).await
    }
}
