//! Group budgets in a decision: which groups a user belongs to, each
//! group's own decision on its pooled usage, and how they join the user's:
//! a request must fit the user's limits and every group's, and the first
//! limit reached blocks, whichever scope it is in. Pure.

use crate::model::group::{Group, MAX_GROUPS_PER_USER};
use crate::model::period::Window;
use crate::model::shadow::PolicyMode;
use crate::model::{Enforcement, GroupId, GroupUsage, LimitAction, UsageSnapshot};
use crate::rules::decide::{self, Decision, ModelScope, Scope, Verdict, WindowStatus};
use crate::rules::resolve::{SharedConfig, Subject};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// One group a user belongs to, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership<'c> {
    pub group: &'c Group,
    /// `member` (named), `jwt_role:{role}` or `email_domain:{pattern}`.
    pub matched_by: String,
}

/// The groups that apply to a user, and whether more matched than apply.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Memberships<'c> {
    /// The groups that decide.
    pub groups: Vec<Membership<'c>>,
    /// The shadow groups the user is in: counted and judged, never deciding.
    pub shadow: Vec<Membership<'c>>,
    /// More than [`MAX_GROUPS_PER_USER`] matched: only the smallest ids apply.
    pub truncated: bool,
}

impl Memberships<'_> {
    /// Every group whose usage is read and counted: the deciding ones, then the shadow ones.
    pub fn ids(&self) -> Vec<GroupId> {
        self.all().map(|m| m.group.group_id.clone()).collect()
    }

    /// Every group, deciding or shadow.
    pub fn all(&self) -> impl Iterator<Item = &Membership<'_>> {
        self.groups.iter().chain(&self.shadow)
    }
}

/// The enabled groups `subject` belongs to: named in `named` (the user's
/// own membership items, each with the creation instant of the group it
/// was made for: a group deleted and made again has other members), or
/// matched by a group's roles or email domains. At most
/// [`MAX_GROUPS_PER_USER`], the smallest ids first.
pub fn memberships<'c>(
    config: &'c SharedConfig,
    subject: &Subject,
    named: &BTreeMap<GroupId, DateTime<Utc>>,
) -> Memberships<'c> {
    let (groups, truncated) = matching(config, subject, named, PolicyMode::Enforce, MAX_GROUPS_PER_USER);
    // Shadow groups are read (and counted) too, in the room the active ones
    // leave: the check's BatchGetItem has keys for ten groups.
    let room = MAX_GROUPS_PER_USER - groups.len();
    let (shadow, _) = matching(config, subject, named, PolicyMode::Shadow, room);
    Memberships { groups, shadow, truncated }
}

fn matching<'c>(
    config: &'c SharedConfig,
    subject: &Subject,
    named: &BTreeMap<GroupId, DateTime<Utc>>,
    mode: PolicyMode,
    most: usize,
) -> (Vec<Membership<'c>>, bool) {
    let mut groups: Vec<Membership<'c>> = config
        .groups
        .iter()
        .filter(|g| g.enabled && g.mode == mode)
        .filter_map(|g| {
            let is_named = named
                .get(&g.group_id)
                .is_some_and(|made| made.timestamp_millis() == g.audit.created_at.timestamp_millis());
            let matched_by = if is_named {
                Some("member".to_string())
            } else {
                g.matched_by(&subject.roles, subject.email.as_ref())
            };
            matched_by.map(|matched_by| Membership { group: g, matched_by })
        })
        .collect();
    groups.sort_by(|a, b| a.group.group_id.cmp(&b.group.group_id));
    let truncated = groups.len() > most;
    groups.truncate(most);
    (groups, truncated)
}

/// A group's decision on its pooled usage: a tier's decision on the
/// group's limits, its windows (the limited ones: a group's unlimited
/// window says nothing) and block naming the group.
pub fn decide_group(group: &Group, usage: &UsageSnapshot, now: DateTime<Utc>) -> Decision {
    let mut d = decide::decide(&group.rules(), usage, ModelScope::Unnamed, now);
    d.windows.retain(|w| w.limit.is_some());
    for w in &mut d.windows {
        w.group_id = Some(group.group_id.clone());
    }
    if let Some(b) = d.blocked_by.as_mut() {
        b.scope = Scope::Group;
        b.group_id = Some(group.group_id.clone());
    }
    if d.decision != Verdict::Allow {
        let text = d.message.replace("This tier only warns.", "This group only warns.");
        d.message = format!("Group {} ({}): {text}", group.group_name, group.group_id);
    } else {
        d.message = String::new();
    }
    d
}

/// One of a user's groups as the inspector and `/api/quota/me` show it:
/// why the user is in it, and its pooled windows (what remains in each).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupStatus {
    pub group_id: GroupId,
    pub group_name: String,
    /// `member` (named), `jwt_role:{role}` or `email_domain:{pattern}`.
    pub matched_by: String,
    pub enforcement: Enforcement,
    pub action_on_limit: LimitAction,
    pub windows: Vec<WindowStatus>,
}

/// The status of each of `groups` whose usage was read.
pub fn statuses(
    groups: &Memberships<'_>,
    usage: &BTreeMap<GroupId, GroupUsage>,
    now: DateTime<Utc>,
) -> Vec<GroupStatus> {
    groups
        .groups
        .iter()
        .filter_map(|m| {
            let used = usage.get(&m.group.group_id)?;
            Some(GroupStatus {
                group_id: m.group.group_id.clone(),
                group_name: m.group.group_name.clone(),
                matched_by: m.matched_by.clone(),
                enforcement: m.group.enforcement,
                action_on_limit: m.group.action_on_limit,
                windows: decide_group(m.group, &used.total, now).windows,
            })
        })
        .collect()
}

/// How long a block keeps the user out: the window resetting last decides
/// (a block with no window, the no-match policy's, first).
fn block_rank(d: &Decision) -> u8 {
    match d.blocking_window {
        None => 3,
        Some(Window::Monthly) => 2,
        Some(Window::Daily) => 1,
    }
}

/// The user's decision joined with their groups': every window listed (the
/// user's first), the block that keeps the user out longest (the user's
/// before a group's among equals), else the highest warning, else the user's.
pub fn join(user: Decision, groups: Vec<Decision>) -> Decision {
    if groups.is_empty() {
        return user;
    }
    let windows: Vec<_> = user.windows.iter().chain(groups.iter().flat_map(|g| &g.windows)).cloned().collect();
    let all: Vec<&Decision> = std::iter::once(&user).chain(&groups).collect();
    let mut chosen: &Decision = &user;
    let blocks: Vec<&Decision> = all.iter().copied().filter(|d| d.decision == Verdict::Block).collect();
    if let Some(first) = blocks.first() {
        chosen = first;
        for d in &blocks[1..] {
            if block_rank(d) > block_rank(chosen) {
                chosen = d;
            }
        }
    } else {
        for d in &all {
            if d.decision == Verdict::Warn
                && (chosen.decision != Verdict::Warn || d.warning_level > chosen.warning_level)
            {
                chosen = d;
            }
        }
    }
    let mut joined = chosen.clone();
    joined.windows = windows;
    if joined.decision == Verdict::Allow {
        joined.message = user.message;
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{JwtRole, UsageTotals};
    use crate::testing::{at, money, tier};

    fn group(id: &str, json: serde_json::Value) -> Group {
        let mut body = serde_json::json!({"groupId": id, "groupName": id.to_uppercase()});
        body.as_object_mut().unwrap().extend(json.as_object().unwrap().clone());
        serde_json::from_value::<crate::model::group::NewGroup>(body)
            .unwrap()
            .into_group("admin", at("2026-12-01T00:00:00Z"))
            .unwrap()
    }

    fn spent(daily: &str, monthly: &str) -> UsageSnapshot {
        let t = |c: &str| UsageTotals { cost: money(c), ..Default::default() };
        UsageSnapshot { daily: t(daily), monthly: t(monthly), ..Default::default() }
    }

    fn subject(roles: &[&str]) -> Subject {
        Subject {
            user_id: crate::model::UserId::parse("u").unwrap(),
            roles: roles.iter().map(|r| JwtRole::parse(*r).unwrap()).collect(),
            email: None,
        }
    }

    #[test]
    fn a_user_belongs_to_named_and_matching_enabled_groups_at_most_ten_smallest_ids_first() {
        let mut config = SharedConfig::default();
        for i in 0..12 {
            config.groups.push(group(
                &format!("g{i:02}"),
                serde_json::json!({"monthlyCostLimit": "5",
                "jwtRoles": ["chem"]}),
            ));
        }
        config.groups.push(group("named", serde_json::json!({"monthlyCostLimit": "5"})));
        let mut off = group("off", serde_json::json!({"monthlyCostLimit": "5", "jwtRoles": ["chem"]}));
        off.enabled = false;
        config.groups.push(off);
        let made = config.groups.last().unwrap().audit.created_at;
        let named: BTreeMap<GroupId, DateTime<Utc>> = [(GroupId::parse("named").unwrap(), made)].into();
        let m = memberships(&config, &subject(&["chem"]), &named);
        assert_eq!(m.groups.len(), MAX_GROUPS_PER_USER);
        assert!(m.truncated);
        assert_eq!(m.groups[0].group.group_id.as_str(), "g00");
        assert_eq!(m.groups[0].matched_by, "jwt_role:chem");
        let m = memberships(&config, &subject(&[]), &named);
        assert_eq!((m.groups.len(), m.groups[0].matched_by.as_str(), m.truncated), (1, "member", false));
        // A membership made for an earlier group of the same id is not one of this group's.
        let stale: BTreeMap<GroupId, DateTime<Utc>> =
            [(GroupId::parse("named").unwrap(), at("2026-11-01T00:00:00Z"))].into();
        assert!(memberships(&config, &subject(&[]), &stale).groups.is_empty());
    }

    #[test]
    fn the_first_limit_reached_blocks_whichever_scope_it_is_in() {
        let now = at("2026-12-07T10:00:00Z");
        let chem = group("chem", serde_json::json!({"monthlyCostLimit": "500"}));
        let user = decide::decide(&tier("basic", "", "5"), &spent("1", "1"), ModelScope::Unnamed, now);
        // The group's pool is spent: the group blocks, though the user has room.
        let joined = join(user.clone(), vec![decide_group(&chem, &spent("0", "500"), now)]);
        assert_eq!(joined.decision, Verdict::Block);
        let by = joined.blocked_by.clone().unwrap();
        assert_eq!((by.scope, by.group_id.unwrap().as_str(), by.period), (Scope::Group, "chem", Window::Monthly));
        assert!(joined.message.starts_with("Group CHEM (chem): Monthly limit of 500"), "{}", joined.message);
        assert_eq!(joined.windows.len(), 3, "the user's two and the group's limited one");
        assert_eq!(joined.windows[2].group_id.as_ref().map(GroupId::as_str), Some("chem"));
        // At 499.99 of 500 (a cent below) the group warns at 90 and allows.
        let warned = join(user.clone(), vec![decide_group(&chem, &spent("0", "499.99"), now)]);
        assert_eq!((warned.decision, warned.warning_level.0), (Verdict::Warn, Some(90)));
        // The user's own daily block and the group's monthly: the monthly keeps them out longer.
        let own = decide::decide(&tier("basic", "", "5"), &spent("5", "5"), ModelScope::Unnamed, now);
        let both = join(own.clone(), vec![decide_group(&chem, &spent("0", "500"), now)]);
        assert_eq!(both.blocked_by.unwrap().scope, Scope::Group);
        let only_own = join(own, vec![decide_group(&chem, &spent("0", "1"), now)]);
        assert_eq!(only_own.blocked_by.unwrap().scope, Scope::User);
        // A warn-only group over its limit warns, never blocks.
        let soft = group("soft", serde_json::json!({"monthlyCostLimit": "10", "actionOnLimit": "warn"}));
        let over = join(user.clone(), vec![decide_group(&soft, &spent("0", "11"), now)]);
        assert_eq!((over.decision, over.allowed), (Verdict::Warn, true));
        assert!(over.message.ends_with("This group only warns."), "{}", over.message);
        let fine = join(user, vec![decide_group(&chem, &spent("0", "1"), now)]);
        assert_eq!((fine.decision, fine.message.as_str()), (Verdict::Allow, "Within quota."));
    }
}
