//! A group's warnings: stored once per group, threshold and period (the
//! flag is on the group's pool row, which every member's check reads),
//! whichever member's check or record first sees the pool past the
//! threshold. A check reads the pool as it is, so a warning a record could
//! not see (other members spent meanwhile) is stored by the next check.

use crate::model::{EventId, EventType, GroupId, GroupUsage, QuotaEvent, SessionId, TierId, UserId};
use crate::quota::checker::Checker;
use crate::quota::port::CheckStore;
use crate::rules::decide;
use crate::rules::groups::Memberships;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Who a group event is stored for: the member whose request crossed.
pub struct EventSubject<'a> {
    pub user: &'a UserId,
    pub tier: Option<&'a TierId>,
    pub session: Option<&'a SessionId>,
}

impl<S: CheckStore> Checker<S> {
    /// Stores every warning the pooled usage in `group_usage` has reached for
    /// `groups` and whose flag it does not show, marking each in the view.
    /// A failure is logged; the answer stands.
    pub(super) async fn note_group_warnings(
        &self,
        groups: &Memberships<'_>,
        group_usage: &mut BTreeMap<GroupId, GroupUsage>,
        about: &EventSubject<'_>,
        now: DateTime<Utc>,
    ) -> Vec<QuotaEvent> {
        let mut stored = Vec::new();
        for m in &groups.groups {
            let Some(usage) = group_usage.get_mut(&m.group.group_id).map(|u| &mut u.total) else { continue };
            let rules = m.group.rules();
            for (_, window, metric, threshold) in decide::warnings_reached(&rules, usage, None) {
                let used = usage.totals(window).amount(metric);
                let limit = rules.limit_of(window, metric);
                let event = QuotaEvent {
                    event_id: EventId::generate(),
                    event_type: EventType::Warning,
                    user_id: about.user.clone(),
                    tier_id: about.tier.cloned(),
                    override_id: None,
                    limit_id: None,
                    group_id: Some(m.group.group_id.clone()),
                    policy_id: None,
                    active_decision: None,
                    window: Some(window),
                    metric: Some(metric),
                    threshold: Some(threshold),
                    usage: used,
                    limit,
                    percentage: limit.map(|l| decide::percentage(used, l).0).unwrap_or_default(),
                    session_id: about.session.cloned(),
                    occurred_at: now,
                };
                if !usage.recorded_events.insert(event.dedupe_key()) {
                    continue;
                }
                match self.store.record_event_once(&event).await {
                    Ok(true) => stored.push(event),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, group = %m.group.group_id, "could not record a group warning"),
                }
            }
        }
        stored
    }
}
