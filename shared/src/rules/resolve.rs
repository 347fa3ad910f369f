//! Who gets which tier: the resolution cascade, pure and without I/O.
//!
//! Order: direct user > JWT role > email domain > default. Inside a class the
//! highest priority wins; among email domains of one priority an exact domain
//! beats a wildcard beats a regex; then the older assignment wins (ids are
//! time-ordered), so the answer never depends on storage order. Disabled
//! assignments and disabled or missing tiers are skipped and the cascade goes on.

use crate::model::shadow::PolicyMode;
use crate::model::{
    Assignment, AssignmentId, AssignmentType, DomainPattern, Email, JwtRole, OverrideId, PatternKind, Target, Tier,
    TierId, UserId,
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
    /// Every model price (see `rules::pricing`), cached with the rest.
    pub prices: Vec<crate::model::price::Price>,
    /// Every group (their rules and limits; named members are per user).
    pub groups: Vec<crate::model::group::Group>,
}

/// More roles than this is not a real user (the check and the inspector refuse it).
pub const MAX_ROLES: usize = 100;

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
    /// No tier applies; the no-match policy decides.
    None,
    /// A record that was not told enough to know the tier its check judged
    /// (see `record`): usage counted, nothing judged.
    Unresolved,
    /// An active override decides (the answer's `override` says which).
    Override,
}

impl MatchedBy {
    /// Reads back what `Display` wrote.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "direct_user" => MatchedBy::DirectUser,
            "default_tier" => MatchedBy::DefaultTier,
            "none" => MatchedBy::None,
            "unresolved" => MatchedBy::Unresolved,
            "override" => MatchedBy::Override,
            _ => match raw.split_once(':')? {
                ("jwt_role", role) => MatchedBy::JwtRole(JwtRole::parse(role).ok()?),
                ("email_domain", domain) => MatchedBy::EmailDomain(DomainPattern::parse(domain).ok()?),
                _ => return None,
            },
        })
    }
}

impl fmt::Display for MatchedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchedBy::DirectUser => f.write_str("direct_user"),
            MatchedBy::JwtRole(r) => write!(f, "jwt_role:{r}"),
            MatchedBy::EmailDomain(d) => write!(f, "email_domain:{d}"),
            MatchedBy::DefaultTier => f.write_str("default_tier"),
            MatchedBy::None => f.write_str("none"),
            MatchedBy::Unresolved => f.write_str("unresolved"),
            MatchedBy::Override => f.write_str("override"),
        }
    }
}

impl Serialize for MatchedBy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What became of one candidate (an override or an assignment), for the inspector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Selected,
    AssignmentDisabled,
    TierMissing,
    TierDisabled,
    /// Usable, but another candidate was chosen first.
    Outranked,
    OverrideDisabled,
    OverrideUpcoming,
    OverrideExpired,
}

/// Where a candidate comes from: an assignment (with its type) or an override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all_fields = "camelCase")]
pub enum CandidateSource {
    #[serde(rename = "overrideId")]
    Override(OverrideId),
    #[serde(untagged)]
    Assignment { assignment_id: AssignmentId, assignment_type: AssignmentType },
}

/// By hand: the derive does not follow the untagged variant.
impl utoipa::PartialSchema for CandidateSource {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::ToSchema;
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder};
        let reference = |name: std::borrow::Cow<'static, str>| utoipa::openapi::Ref::from_schema_name(name);
        OneOfBuilder::new()
            .item(ObjectBuilder::new().property("overrideId", reference(OverrideId::name())).required("overrideId"))
            .item(
                ObjectBuilder::new()
                    .property("assignmentId", reference(AssignmentId::name()))
                    .property("assignmentType", reference(AssignmentType::name()))
                    .required("assignmentId")
                    .required("assignmentType"),
            )
            .into()
    }
}

impl utoipa::ToSchema for CandidateSource {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    #[serde(flatten)]
    pub source: CandidateSource,
    pub matched_by: MatchedBy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_id: Option<TierId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
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

/// Inside the email-domain class and one priority: exact before wildcard
/// before regex (the more specific pattern wins).
fn specificity(a: &Assignment) -> Option<PatternKind> {
    match &a.target {
        Target::EmailDomain(d) => Some(d.kind()),
        _ => None,
    }
}

fn matches(a: &Assignment, subject: &Subject) -> Option<MatchedBy> {
    match &a.target {
        Target::DirectUser(u) => (u == &subject.user_id).then_some(MatchedBy::DirectUser),
        Target::JwtRole(r) => subject.roles.contains(r).then(|| MatchedBy::JwtRole(r.clone())),
        Target::EmailDomain(d) => {
            subject.email.as_ref().is_some_and(|e| d.matches(e)).then(|| MatchedBy::EmailDomain(d.clone()))
        }
        Target::DefaultTier => Some(MatchedBy::DefaultTier),
    }
}

impl SharedConfig {
    /// Whether a user's roles or email can change their tier: some usable
    /// role or email-domain assignment exists.
    pub fn depends_on_identity(&self) -> bool {
        self.assignments.iter().any(|a| {
            a.enabled
                && matches!(a.target, Target::JwtRole(_) | Target::EmailDomain(_))
                && self.tiers.get(&a.tier_id).is_some_and(|t| t.enabled)
        })
    }
}

/// Resolves the subject's tier from the shared configuration and the user's
/// own direct assignment (which lives with the user, not in the shared config).
/// Shadow assignments take no part (see [`shadow_assignment`]).
pub fn resolve<'a>(config: &'a SharedConfig, direct: Option<&Assignment>, subject: &Subject) -> Resolution<'a> {
    resolve_among(config, direct, subject, false)
}

/// The shadow assignment the cascade would select if the shadow ones were
/// enforced, and its tier (none when an enforced one would still win).
pub fn shadow_assignment<'a>(
    config: &'a SharedConfig,
    direct: Option<&Assignment>,
    subject: &Subject,
) -> Option<(&'a Assignment, &'a Tier)> {
    if !config.assignments.iter().any(|a| a.mode == PolicyMode::Shadow) {
        return None;
    }
    let r = resolve_among(config, direct, subject, true);
    let chosen = r.assignment_id?;
    let a = config.assignments.iter().find(|a| a.assignment_id == chosen && a.mode == PolicyMode::Shadow)?;
    Some((a, r.tier?))
}

fn resolve_among<'a>(
    config: &'a SharedConfig,
    direct: Option<&Assignment>,
    subject: &Subject,
    with_shadow: bool,
) -> Resolution<'a> {
    let mut matched: Vec<(&Assignment, MatchedBy)> = direct
        .into_iter()
        .chain(config.assignments.iter())
        .filter(|a| with_shadow || a.mode == PolicyMode::Enforce)
        .filter_map(|a| matches(a, subject).map(|m| (a, m)))
        .collect();
    matched.sort_by(|(a, _), (b, _)| {
        class(a.target.kind())
            .cmp(&class(b.target.kind()))
            .then(b.priority.cmp(&a.priority))
            .then(specificity(a).cmp(&specificity(b)))
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
                chosen = Some((tier.expect("checked above"), by.clone(), a.assignment_id.clone()));
                Outcome::Selected
            };
            Candidate {
                source: CandidateSource::Assignment {
                    assignment_id: a.assignment_id.clone(),
                    assignment_type: a.target.kind(),
                },
                matched_by: by,
                tier_id: Some(a.tier_id.clone()),
                priority: Some(a.priority),
                outcome,
            }
        })
        .collect();
    match chosen {
        Some((tier, matched_by, id)) => {
            Resolution { tier: Some(tier), matched_by, assignment_id: Some(id), candidates }
        }
        None => Resolution { tier: None, matched_by: MatchedBy::None, assignment_id: None, candidates },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assignment, tier};

    fn role(r: &str) -> JwtRole {
        JwtRole::parse(r).unwrap()
    }

    fn subject(user: &str, roles: &[&str], email: Option<&str>) -> Subject {
        Subject {
            user_id: UserId::parse(user).unwrap(),
            roles: roles.iter().map(|r| role(r)).collect(),
            email: email.map(|e| Email::parse(e).unwrap()),
        }
    }

    /// basic (default), staff (role Staff), faculty (role Faculty, priority
    /// 250), uni (domain uni.edu) and vip, used by direct assignments.
    fn config() -> SharedConfig {
        let tiers = ["basic", "staff", "faculty", "uni", "vip"]
            .into_iter()
            .map(|id| (TierId::parse(id).unwrap(), tier(id, "100", "")))
            .collect();
        let mut faculty = assignment("a-faculty", "faculty", Target::JwtRole(role("Faculty")));
        faculty.priority = 250;
        SharedConfig {
            tiers,
            assignments: vec![
                assignment("a-default", "basic", Target::DefaultTier),
                assignment("a-staff", "staff", Target::JwtRole(role("Staff"))),
                faculty,
                assignment("a-uni", "uni", Target::EmailDomain(DomainPattern::parse("uni.edu").unwrap())),
            ],
            prices: vec![],
            groups: vec![],
        }
    }

    fn direct(user: &str, tier: &str) -> Assignment {
        assignment("a-direct", tier, Target::DirectUser(UserId::parse(user).unwrap()))
    }

    fn tier_of(r: &Resolution<'_>) -> Option<String> {
        r.tier.map(|t| t.tier_id.to_string())
    }

    #[test]
    fn direct_user_beats_role_beats_domain_beats_default() {
        let c = config();
        let d = direct("u1", "vip");
        let s = subject("u1", &["Staff"], Some("a@uni.edu"));
        let r = resolve(&c, Some(&d), &s);
        assert_eq!((tier_of(&r).as_deref(), r.matched_by.to_string().as_str()), (Some("vip"), "direct_user"));
        let r = resolve(&c, None, &s);
        assert_eq!((tier_of(&r).as_deref(), r.matched_by.to_string().as_str()), (Some("staff"), "jwt_role:Staff"));
        let r = resolve(&c, None, &subject("u1", &[], Some("a@uni.edu")));
        assert_eq!((tier_of(&r).as_deref(), r.matched_by.to_string().as_str()), (Some("uni"), "email_domain:uni.edu"));
        let r = resolve(&c, None, &subject("u1", &["Nobody"], Some("a@else.org")));
        assert_eq!((tier_of(&r).as_deref(), r.matched_by.to_string().as_str()), (Some("basic"), "default_tier"));
    }

    #[test]
    fn a_direct_assignment_for_someone_else_does_not_apply() {
        let c = config();
        let d = direct("u2", "vip");
        let r = resolve(&c, Some(&d), &subject("u1", &[], None));
        assert_eq!(tier_of(&r).as_deref(), Some("basic"));
    }

    #[test]
    fn multiple_roles_take_the_highest_priority() {
        let c = config();
        let r = resolve(&c, None, &subject("u1", &["Staff", "Faculty"], None));
        assert_eq!(tier_of(&r).as_deref(), Some("faculty"));
        assert_eq!(r.matched_by, MatchedBy::JwtRole(role("Faculty")));
        let staff = r
            .candidates
            .iter()
            .find(|c| matches!(&c.source, CandidateSource::Assignment { assignment_id, .. } if assignment_id.as_str() == "a-staff"))
            .unwrap();
        assert_eq!(staff.outcome, Outcome::Outranked);
    }

    #[test]
    fn equal_priorities_break_by_assignment_id_whatever_the_order() {
        let mut c = config();
        c.assignments.push(assignment("a-00-first", "vip", Target::JwtRole(role("Staff"))));
        let mut reversed = c.clone();
        reversed.assignments.reverse();
        let forward = resolve(&c, None, &subject("u1", &["Staff"], None));
        let backward = resolve(&reversed, None, &subject("u1", &["Staff"], None));
        assert_eq!(tier_of(&forward).as_deref(), Some("vip"));
        assert_eq!(forward.tier, backward.tier);
        assert_eq!(forward.candidates, backward.candidates);
    }

    #[test]
    fn disabled_assignment_is_skipped_and_the_cascade_goes_on() {
        let mut c = config();
        c.assignments.iter_mut().find(|a| a.assignment_id.as_str() == "a-staff").unwrap().enabled = false;
        let r = resolve(&c, None, &subject("u1", &["Staff"], None));
        assert_eq!(tier_of(&r).as_deref(), Some("basic"));
        assert_eq!(r.candidates[0].outcome, Outcome::AssignmentDisabled);
        let mut d = direct("u1", "vip");
        d.enabled = false;
        let r = resolve(&c, Some(&d), &subject("u1", &[], None));
        assert_eq!(tier_of(&r).as_deref(), Some("basic"));
    }

    #[test]
    fn disabled_or_missing_tier_is_skipped() {
        let mut c = config();
        c.tiers.get_mut(&TierId::parse("staff").unwrap()).unwrap().enabled = false;
        let d = direct("u1", "gone");
        let r = resolve(&c, Some(&d), &subject("u1", &["Staff"], None));
        assert_eq!(tier_of(&r).as_deref(), Some("basic"));
        let outcomes: Vec<Outcome> = r.candidates.iter().map(|c| c.outcome).collect();
        assert_eq!(outcomes, [Outcome::TierMissing, Outcome::TierDisabled, Outcome::Selected]);
    }

    #[test]
    fn no_quota_configured_resolves_to_none() {
        let empty = SharedConfig::default();
        let r = resolve(&empty, None, &subject("u1", &["Staff"], None));
        assert_eq!(r.tier, None);
        assert_eq!(r.matched_by, MatchedBy::None);
        assert!(r.candidates.is_empty());
        let mut c = config();
        c.assignments.retain(|a| a.target != Target::DefaultTier);
        let r = resolve(&c, None, &subject("u1", &[], None));
        assert_eq!(r.matched_by.to_string(), "none");
    }

    #[test]
    fn among_email_domains_priority_then_exact_then_wildcard_then_regex_then_age_decide() {
        let mut c = config();
        let pattern = |p: &str| Target::EmailDomain(DomainPattern::parse(p).unwrap());
        c.assignments = vec![
            assignment("a-1-regex", "staff", pattern("regex:.*\\.uni\\.edu")),
            assignment("a-2-wild", "faculty", pattern("*.uni.edu")),
            assignment("a-3-exact", "uni", pattern("cs.uni.edu")),
        ];
        let cs = subject("u1", &[], Some("a@cs.uni.edu"));
        let r = resolve(&c, None, &cs);
        assert_eq!(r.matched_by.to_string(), "email_domain:cs.uni.edu", "exact beats wildcard beats regex");
        let outcomes: Vec<_> = r.candidates.iter().map(|c| (c.matched_by.to_string(), c.outcome)).collect();
        assert_eq!(
            outcomes,
            [
                ("email_domain:cs.uni.edu".to_string(), Outcome::Selected),
                ("email_domain:*.uni.edu".to_string(), Outcome::Outranked),
                ("email_domain:regex:.*\\.uni\\.edu".to_string(), Outcome::Outranked),
            ],
            "the candidates say which pattern matched"
        );
        c.assignments[0].priority = 200;
        let r = resolve(&c, None, &cs);
        assert_eq!(r.matched_by.to_string(), "email_domain:regex:.*\\.uni\\.edu", "priority first");
        let math = subject("u1", &[], Some("a@math.uni.edu"));
        c.assignments[0].priority = 150;
        assert_eq!(resolve(&c, None, &math).matched_by.to_string(), "email_domain:*.uni.edu");
    }
}
