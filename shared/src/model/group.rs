//! Group budgets: a shared pool (a department, a course, a team) with the
//! limits a tier has, beside each member's own tier. Who belongs is a set of
//! rules on the group: named users (kept apart, as member items, so that
//! thousands of them never make the group large), JWT roles and email
//! domains, matched as assignments match them.

use super::limits::{with_limits, with_limits_patch};
use super::shadow::PolicyMode;
use super::tier::Settings;
use super::{
    Audit, DEFAULT_RESERVATION_TTL_SECONDS, DEFAULT_SOFT_LIMIT_PERCENTAGE, DomainPattern, Email, Enforcement, GroupId,
    JwtRole, LimitAction, Limits, Money,
};
use crate::error::{Error, FieldErrors};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Groups that apply to one user at most: each adds its usage to the
/// user's check and record.
pub const MAX_GROUPS_PER_USER: usize = 10;
/// Roles or domain patterns one group names.
pub const MAX_GROUP_RULES: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub group_id: GroupId,
    #[schema(min_length = 1, max_length = 100)]
    pub group_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    pub enabled: bool,
    #[serde(flatten)]
    pub limits: Limits,
    #[schema(maximum = 100)]
    pub soft_limit_percentage: u8,
    pub action_on_limit: LimitAction,
    pub enforcement: Enforcement,
    pub default_reservation: Option<Money>,
    #[schema(minimum = 1, maximum = 86_400)]
    pub reservation_ttl_seconds: u32,
    /// Users with any of these roles belong.
    #[schema(max_items = 20)]
    pub jwt_roles: Vec<JwtRole>,
    /// Users whose email matches any of these belong (exact, `*.` wildcard,
    /// `regex:`).
    #[schema(max_items = 20)]
    pub email_domains: Vec<DomainPattern>,
    /// `shadow`: its pool is counted and judged beside the active policies,
    /// never deciding (and never holding, even when strict).
    pub mode: PolicyMode,
    #[serde(flatten)]
    pub audit: Audit,
}

/// A group as answered: with how many named members it has.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    #[serde(flatten)]
    pub group: Group,
    pub member_count: u64,
}

with_limits! {
/// The body that creates a group.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewGroup {
    pub group_id: GroupId,
    #[schema(min_length = 1, max_length = 100)]
    pub group_name: String,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    #[schema(maximum = 100)]
    pub soft_limit_percentage: Option<u8>,
    #[serde(default)]
    pub action_on_limit: Option<LimitAction>,
    #[serde(default)]
    pub enforcement: Option<Enforcement>,
    #[serde(default)]
    pub default_reservation: Option<Money>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86_400)]
    pub reservation_ttl_seconds: Option<u32>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub jwt_roles: Vec<JwtRole>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub email_domains: Vec<DomainPattern>,
    /// `shadow`: judged beside the active policies, never deciding (default `enforce`).
    #[serde(default)]
    pub mode: Option<PolicyMode>,
}}

with_limits_patch! {
/// The body of a PATCH: the fields present change; `null` clears the
/// nullable ones; `jwtRoles` and `emailDomains` replace the lists.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupPatch {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    pub group_name: Option<String>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(max_length = 1000)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    #[schema(maximum = 100)]
    pub soft_limit_percentage: Option<u8>,
    #[serde(default)]
    pub action_on_limit: Option<LimitAction>,
    #[serde(default)]
    pub enforcement: Option<Enforcement>,
    #[serde(default, deserialize_with = "super::present")]
    pub default_reservation: Option<Option<Money>>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86_400)]
    pub reservation_ttl_seconds: Option<u32>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub jwt_roles: Option<Vec<JwtRole>>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub email_domains: Option<Vec<DomainPattern>>,
    /// `enforce` promotes a shadow group (an audited change); `shadow` demotes.
    #[serde(default)]
    pub mode: Option<PolicyMode>,
}}

fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

impl NewGroup {
    pub fn into_group(self, actor: &str, now: DateTime<Utc>) -> Result<Group, Error> {
        let group = Group {
            limits: self.limits(),
            group_id: self.group_id,
            group_name: self.group_name.trim().to_string(),
            description: trimmed(self.description),
            enabled: self.enabled.unwrap_or(true),
            soft_limit_percentage: self.soft_limit_percentage.unwrap_or(DEFAULT_SOFT_LIMIT_PERCENTAGE),
            action_on_limit: self.action_on_limit.unwrap_or_default(),
            enforcement: self.enforcement.unwrap_or_default(),
            default_reservation: self.default_reservation,
            reservation_ttl_seconds: self.reservation_ttl_seconds.unwrap_or(DEFAULT_RESERVATION_TTL_SECONDS),
            jwt_roles: self.jwt_roles,
            email_domains: self.email_domains,
            mode: self.mode.unwrap_or_default(),
            audit: Audit::new(actor, now),
        };
        group.validate()?;
        Ok(group)
    }
}

impl Group {
    /// The next version with `patch` applied and validated.
    pub fn patched(&self, patch: GroupPatch, actor: &str, now: DateTime<Utc>) -> Result<Group, Error> {
        let limits = patch.limits_patch();
        let empty = patch.group_name.is_none()
            && patch.description.is_none()
            && patch.enabled.is_none()
            && patch.soft_limit_percentage.is_none()
            && patch.action_on_limit.is_none()
            && patch.enforcement.is_none()
            && patch.default_reservation.is_none()
            && patch.reservation_ttl_seconds.is_none()
            && patch.jwt_roles.is_none()
            && patch.email_domains.is_none()
            && patch.mode.is_none()
            && limits.is_empty();
        if empty {
            return Err(Error::field("body", "names no field to change"));
        }
        let mut next = self.clone();
        limits.apply(&mut next.limits);
        if let Some(name) = patch.group_name {
            next.group_name = name.trim().to_string();
        }
        if let Some(d) = patch.description {
            next.description = trimmed(d);
        }
        next.enabled = patch.enabled.unwrap_or(next.enabled);
        next.soft_limit_percentage = patch.soft_limit_percentage.unwrap_or(next.soft_limit_percentage);
        next.action_on_limit = patch.action_on_limit.unwrap_or(next.action_on_limit);
        next.enforcement = patch.enforcement.unwrap_or(next.enforcement);
        if let Some(r) = patch.default_reservation {
            next.default_reservation = r;
        }
        next.reservation_ttl_seconds = patch.reservation_ttl_seconds.unwrap_or(next.reservation_ttl_seconds);
        next.jwt_roles = patch.jwt_roles.unwrap_or(next.jwt_roles);
        next.email_domains = patch.email_domains.unwrap_or(next.email_domains);
        next.mode = patch.mode.unwrap_or(next.mode);
        next.audit = self.audit.touched(actor, now);
        next.validate()?;
        Ok(next)
    }

    /// The rules every stored group satisfies: a tier's settings, at least
    /// one limit (a pool without one limits nothing), bounded rule lists.
    pub fn validate(&self) -> Result<(), Error> {
        let mut errors = FieldErrors::default();
        let settings = Settings {
            kind: "group",
            name_field: "groupName",
            name: &self.group_name,
            description: self.description.as_deref(),
            soft_limit_percentage: self.soft_limit_percentage,
            enforcement: self.enforcement,
            default_reservation: self.default_reservation,
            reservation_ttl_seconds: self.reservation_ttl_seconds,
        };
        settings.validate_texts(&mut errors);
        self.limits.validate(&mut errors);
        if self.limits.is_empty() {
            errors.push("monthlyCostLimit", "set at least one cost, token or request limit");
        }
        settings.validate_soft_limit(&mut errors);
        settings.validate_reservations(&mut errors);
        for (field, n) in [("jwtRoles", self.jwt_roles.len()), ("emailDomains", self.email_domains.len())] {
            if n > MAX_GROUP_RULES {
                errors.push(field, format!("at most {MAX_GROUP_RULES}"));
            }
        }
        errors.into_result()
    }

    /// The group's budget as the rules a decision applies (a tier's shape:
    /// its limits and settings, no model limits, never unlimited).
    pub fn rules(&self) -> super::Tier {
        let id = super::TierId::parse(self.group_id.as_str())
            .unwrap_or_else(|_| super::TierId::parse("group").expect("a valid id"));
        super::Tier {
            tier_name: self.group_name.clone(),
            limits: self.limits,
            soft_limit_percentage: self.soft_limit_percentage,
            action_on_limit: self.action_on_limit,
            unlimited: false,
            enforcement: self.enforcement,
            default_reservation: self.default_reservation,
            reservation_ttl_seconds: self.reservation_ttl_seconds,
            ..super::Tier::template(id, &self.group_name, self.audit.created_at)
        }
    }

    /// Which of its rules makes `roles`/`email` a member (named members are
    /// known from their own items, not here).
    pub fn matched_by(&self, roles: &[JwtRole], email: Option<&Email>) -> Option<String> {
        if let Some(role) = self.jwt_roles.iter().find(|r| roles.contains(r)) {
            return Some(format!("jwt_role:{role}"));
        }
        let email = email?;
        self.email_domains.iter().find(|d| d.matches(email)).map(|d| format!("email_domain:{d}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;

    fn group(json: serde_json::Value) -> Result<Group, Error> {
        let body: NewGroup = serde_json::from_value(json).map_err(|e| Error::field("body", e.to_string()))?;
        body.into_group("admin@uni.edu", at("2026-12-07T10:00:00Z"))
    }

    fn fields(r: Result<Group, Error>) -> Vec<String> {
        match r {
            Err(Error::Validation(f)) => f.0.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn a_group_pools_a_budget_with_a_tiers_settings_and_its_membership_rules() {
        let g = group(serde_json::json!({"groupId": "chem", "groupName": " Chemistry ", "monthlyCostLimit": "500",
            "jwtRoles": ["chem-students"], "emailDomains": ["*.chem.uni.edu"]}))
        .unwrap();
        assert_eq!((g.group_name.as_str(), g.enabled, g.soft_limit_percentage), ("Chemistry", true, 80));
        let role = |r: &str| JwtRole::parse(r).unwrap();
        let email = |e: &str| Email::parse(e).unwrap();
        assert_eq!(g.matched_by(&[role("x"), role("chem-students")], None).as_deref(), Some("jwt_role:chem-students"));
        assert_eq!(
            g.matched_by(&[], Some(&email("a@lab.chem.uni.edu"))).as_deref(),
            Some("email_domain:*.chem.uni.edu")
        );
        assert_eq!(g.matched_by(&[role("bio")], Some(&email("a@bio.uni.edu"))), None);
        let patched = g
            .patched(
                serde_json::from_value(serde_json::json!({"jwtRoles": [], "dailyCostLimit": "20"})).unwrap(),
                "a",
                at("2026-12-07T11:00:00Z"),
            )
            .unwrap();
        assert!(patched.jwt_roles.is_empty());
        assert_eq!(patched.audit.version, 2);
    }

    #[test]
    fn every_broken_rule_is_named() {
        assert_eq!(
            fields(group(serde_json::json!({"groupId": "g", "groupName": "", "softLimitPercentage": 101,
                "enforcement": "strict"}))),
            ["groupName", "monthlyCostLimit", "softLimitPercentage", "defaultReservation"]
        );
        let many: Vec<String> = (0..21).map(|i| format!("r{i}")).collect();
        assert_eq!(
            fields(group(
                serde_json::json!({"groupId": "g", "groupName": "G", "dailyRequestLimit": 5, "jwtRoles": many})
            )),
            ["jwtRoles"]
        );
        let g = group(serde_json::json!({"groupId": "g", "groupName": "G", "dailyRequestLimit": 5})).unwrap();
        let cleared: GroupPatch = serde_json::from_value(serde_json::json!({"dailyRequestLimit": null})).unwrap();
        assert_eq!(fields(g.patched(cleared, "a", at("2026-12-07T11:00:00Z"))), ["monthlyCostLimit"], "no limit left");
        assert!(g.patched(GroupPatch::default(), "a", at("2026-12-07T11:00:00Z")).is_err(), "an empty patch");
    }
}
