//! The answers: what a check (and a record, in the shape of a check) tells
//! the chat backend. [`CheckAnswer::judge`] is the one place that turns a
//! basis and usage into a decision.

use crate::model::period::Window;
use crate::model::price::Pricing;
use crate::model::{
    CostSource, GroupId, GroupUsage, Money, PriceId, RequestId, Reservation, TierId, UsageSnapshot, UserId,
};
use crate::quota::context::QuotaContext;
use crate::rules::basis::{Basis, OverrideSummary};
use crate::rules::decide::{self, Decision, ModelScope, NoMatchPolicy, Verdict, WarningLevel};
use crate::rules::groups::{self, Memberships};
use crate::rules::resolve::MatchedBy;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// The answer's `reservation`: what a strict check holds until the record
/// of `requestId` settles it, or until `expiresAt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationSummary {
    pub request_id: RequestId,
    pub amount: Money,
    #[serde(skip_serializing_if = "is_zero")]
    pub tokens: u64,
    #[serde(serialize_with = "crate::model::millis")]
    pub expires_at: DateTime<Utc>,
    /// The price that priced the amount, when the check sent a model and
    /// token estimates instead of a cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_id: Option<PriceId>,
    /// The model limit it is held against too, when one rations the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_id: Option<crate::model::LimitId>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl From<&Reservation> for ReservationSummary {
    fn from(r: &Reservation) -> Self {
        ReservationSummary {
            request_id: r.request_id.clone(),
            amount: r.cost,
            tokens: r.tokens,
            expires_at: r.expires_at,
            price_id: None,
            limit_id: r.limit.clone(),
        }
    }
}

/// One of the user's groups in an answer: its windows are among the
/// answer's, with its `groupId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupSummary {
    pub group_id: GroupId,
    pub group_name: String,
    /// `member` (named), `jwt_role:{role}`, `email_domain:{pattern}`, or
    /// `quota_context` (a record counting toward its check's groups).
    pub matched_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TierSummary {
    pub tier_id: TierId,
    pub tier_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckAnswer {
    #[serde(flatten)]
    pub decision: Decision,
    pub matched_by: MatchedBy,
    /// The tier the cascade resolved (also while an override decides).
    pub tier: Option<TierSummary>,
    /// The active override that decided, when one did.
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_summary: Option<OverrideSummary>,
    /// The groups whose pooled budgets were judged too (their windows carry `groupId`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupSummary>,
    /// True when the store could not be read and the failure mode answered.
    pub degraded: bool,
    /// What this answer judged, for the record of the same turn to pass back
    /// (see `context`); absent when nothing was judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_context: Option<String>,
    /// A strict check's hold (see `rules::reserve`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation: Option<ReservationSummary>,
    /// On a degraded answer, the request id the check used: a hold may have
    /// been written under it before the store failed (release or settle it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// When blocked: seconds until trying again may succeed (what Retry-After
    /// says over HTTP; a direct invoke has no headers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<i64>,
}

impl CheckAnswer {
    /// When a blocked answer may be asked again (`None` when allowed): the
    /// decision's own time, 5 s for a degraded refusal, else the next UTC
    /// day (a block by the no-match policy lifts only by an admin's change).
    pub fn retry_after(&self, now: DateTime<Utc>) -> Option<i64> {
        if self.decision.allowed {
            return None;
        }
        Some(match self.decision.retry_after_seconds(now) {
            Some(seconds) => seconds,
            None if self.degraded => 5,
            None => crate::model::period::Period::containing(Window::Daily, now).seconds_until_reset(now),
        })
    }

    /// The answer as the check sends it: with `retryAfterSeconds` when blocked.
    pub fn sent(mut self, now: DateTime<Utc>) -> Self {
        self.retry_after_seconds = self.retry_after(now);
        self
    }

    /// The answer for what decides (tier and override) and the usage at
    /// `now`: the one place that turns a resolution into a decision.
    pub fn judge(
        basis: &Basis<'_>,
        usage: &UsageSnapshot,
        models: ModelScope<'_>,
        no_match: NoMatchPolicy,
        now: DateTime<Utc>,
    ) -> Self {
        let decision = match basis.rules() {
            Some(rules) => decide::decide(&rules, usage, models, now),
            None => decide::decide_unmatched(no_match, usage, now),
        };
        CheckAnswer {
            decision,
            matched_by: basis.answer_match(),
            tier: basis.tier.map(|t| TierSummary { tier_id: t.tier_id.clone(), tier_name: t.tier_name.clone() }),
            override_summary: basis.override_summary(),
            groups: vec![],
            degraded: false,
            quota_context: None,
            reservation: None,
            request_id: None,
            retry_after_seconds: None,
        }
    }

    /// Joins the decisions of the user's groups on their pooled usage (a
    /// group whose usage was not read is left out, never taken as unused).
    pub fn with_groups(
        mut self,
        groups: &Memberships<'_>,
        usage: &BTreeMap<GroupId, GroupUsage>,
        now: DateTime<Utc>,
    ) -> Self {
        let decisions: Vec<Decision> = groups
            .groups
            .iter()
            .filter_map(|m| usage.get(&m.group.group_id).map(|u| groups::decide_group(m.group, &u.total, now)))
            .collect();
        self.decision = groups::join(self.decision, decisions);
        self.groups = groups
            .groups
            .iter()
            .filter(|m| usage.contains_key(&m.group.group_id))
            .map(|m| GroupSummary {
                group_id: m.group.group_id.clone(),
                group_name: m.group.group_name.clone(),
                matched_by: m.matched_by.clone(),
            })
            .collect();
        self
    }

    /// The `quotaContext` of an answer that judged `user` on `basis` and `groups`.
    pub fn context_for(user: &UserId, basis: &Basis<'_>, groups: &Memberships<'_>, config_version: u64) -> String {
        // Sorted: the active groups and then the shadow ones are each sorted,
        // and a context carries one canonical list.
        let mut ids = groups.ids();
        ids.sort();
        ids.dedup();
        QuotaContext {
            user_id: user.clone(),
            tier_id: basis.tier.map(|t| t.tier_id.clone()),
            matched_by: if basis.tier.is_some() { basis.matched_by.clone() } else { MatchedBy::None },
            override_id: basis.decided_by.map(|o| o.override_id.clone()),
            config_version,
            groups: ids,
        }
        .encode()
    }

    /// A record's answer when it could not know its check's tier: the usage,
    /// and no limit, verdict, warning or tier.
    pub fn unjudged(usage: &UsageSnapshot, now: DateTime<Utc>) -> Self {
        CheckAnswer {
            decision: Decision {
                allowed: true,
                blocked_by: None,
                suggested_model: None,
                decision: Verdict::Allow,
                warning_level: WarningLevel(None),
                windows: decide::window_statuses(None, usage, now),
                message: "Recorded, not judged: pass the check's quotaContext (or the same roles and email) \
                          to have limits and warnings applied."
                    .into(),
                blocking_window: None,
                blocking_metric: None,
                retry_at: None,
            },
            matched_by: MatchedBy::Unresolved,
            tier: None,
            override_summary: None,
            groups: vec![],
            degraded: false,
            quota_context: None,
            reservation: None,
            request_id: None,
            retry_after_seconds: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Crossing {
    pub period: Window,
    pub metric: crate::model::Metric,
    pub threshold: WarningLevel,
    /// The model limit whose window it is (absent: the tier's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_id: Option<crate::model::LimitId>,
    /// The group whose pooled window it is (absent: the user's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordAnswer {
    #[serde(flatten)]
    pub state: CheckAnswer,
    pub request_id: RequestId,
    /// True when this request id had been recorded before; nothing was added.
    pub duplicate: bool,
    /// False when the record could not know the tier its check judged: the
    /// usage is counted, but no limit, warning or tier is answered or stored.
    pub judged: bool,
    /// Warning thresholds this request reached first in their period.
    pub crossed: Vec<Crossing>,
    /// What this request was charged (for a retry: what the first call was).
    pub cost: Money,
    /// `price`: the service priced the tokens; `client`: the cost was sent.
    pub cost_source: CostSource,
    /// The breakdown and the price, when the service priced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
}
