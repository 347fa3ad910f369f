//! Who gets which tier: the resolution cascade, pure and without I/O.
//!
//! Order: direct user > JWT role > email domain > default. Inside a class the
//! highest priority wins and equal priorities go to the older assignment (ids
//! are time-ordered), so the answer never depends on storage order. Disabled
//! assignments and disabled or missing tiers are skipped and the cascade goes on.

use crate::model::{
    Assignment, AssignmentId, AssignmentType, DomainPattern, Email, JwtRole, Target, Tier, TierId,
    UserId,
};
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;

/// The configuration every user shares: all tiers and every assignment that
/// is not tied to one user. Small, and cached per container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SharedConfig {
    pub tiers: HashMap<TierId, Tier>,
    pub assignments: Vec<Assignment>,
}

/// The user a check is about, as the chat backend describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub user_id: UserId,
    pub roles: Vec<JwtRole>,
    pub email: Option<Email>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchedBy {
    DirectUser,
    JwtRole(JwtRole),
    EmailDomain(DomainPattern),
    DefaultTier,
    None,
}

impl fmt::Display for MatchedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchedBy::DirectUser => f.write_str("direct_user"),
            MatchedBy::JwtRole(r) => write!(f, "jwt_role:{r}"),
            MatchedBy::EmailDomain(d) => write!(f, "email_domain:{d}"),
            MatchedBy::DefaultTier => f.write_str("default_tier"),
            MatchedBy::None => f.write_str("none"),
        }
    }
}

impl Serialize for MatchedBy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What became of one candidate assignment, for the inspector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Selected,
    AssignmentDisabled,
    TierMissing,
    TierDisabled,
    /// Usable, but another assignment was chosen first.
    Outranked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub assignment_id: AssignmentId,
    pub assignment_type: AssignmentType,
    pub matched_by: MatchedBy,
    pub tier_id: TierId,
    pub priority: u32,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resolution<'a> {
    pub tier: Option<&'a Tier>,
    pub matched_by: MatchedBy,
    pub assignment_id: Option<AssignmentId>,
    /// Every assignment that matched the subject, in cascade order.
    pub candidates: Vec<Candidate>,
}

fn class(kind: AssignmentType) -> u8 {
    match kind {
        AssignmentType::DirectUser => 0,
        AssignmentType::JwtRole => 1,
        AssignmentType::EmailDomain => 2,
        AssignmentType::DefaultTier => 3,
    }
}

fn matches(a: &Assignment, subject: &Subject) -> Option<MatchedBy> {
    match &a.target {
        Target::DirectUser(u) => (u == &subject.user_id).then_some(MatchedBy::DirectUser),
        Target::JwtRole(r) => subject
            .roles
            .contains(r)
            .then(|| MatchedBy::JwtRole(r.clone())),
        Target::EmailDomain(d) => subject
            .email
            .as_ref()
            .is_some_and(|e| d.matches(e))
            .then(|| MatchedBy::EmailDomain(d.clone())),
        Target::DefaultTier => Some(MatchedBy::DefaultTier),
    }
}

/// Resolves the subject's tier from the shared configuration and the user's
/// own direct assignment (which lives with the user, not in the shared config).
pub fn resolve<'a>(
    config: &'a SharedConfig,
    direct: Option<&Assignment>,
    subject: &Subject,
) -> Resolution<'a> {
    let mut matched: Vec<(&Assignment, MatchedBy)> = direct
        .into_iter()
        .chain(config.assignments.iter())
        .filter_map(|a| matches(a, subject).map(|m| (a, m)))
        .collect();
    matched.sort_by(|(a, _), (b, _)| {
        class(a.target.kind())
            .cmp(&class(b.target.kind()))
            .then(b.priority.cmp(&a.priority))
            .then(a.assignment_id.cmp(&b.assignment_id))
    });
    // One assignment may be both the direct one and present in the config
    // (a stale cache); keep it once.
    matched.dedup_by(|(a, _), (b, _)| a.assignment_id == b.assignment_id);

    let mut chosen: Option<(&'a Tier, MatchedBy, AssignmentId)> = None;
    let candidates = matched
        .into_iter()
        .map(|(a, by)| {
            let tier = config.tiers.get(&a.tier_id);
            let outcome = if !a.enabled {
                Outcome::AssignmentDisabled
            } else if tier.is_none() {
                Outcome::TierMissing
            } else if !tier.is_some_and(|t| t.enabled) {
                Outcome::TierDisabled
            } else if chosen.is_some() {
                Outcome::Outranked
            } else {
                chosen = Some((
                    tier.expect("checked above"),
                    by.clone(),
                    a.assignment_id.clone(),
                ));
                Outcome::Selected
            };
            Candidate {
                assignment_id: a.assignment_id.clone(),
                assignment_type: a.target.kind(),
                matched_by: by,
                tier_id: a.tier_id.clone(),
                priority: a.priority,
                outcome,
            }
        })
        .collect();
    match chosen {
        Some((tier, matched_by, id)) => Resolution {
            tier: Some(tier),
            matched_by,
            assignment_id: Some(id),
            candidates,
        },
        None => Resolution {
            tier: None,
            matched_by: MatchedBy::None,
            assignment_id: None,
            candidates,
        },
    }
}
