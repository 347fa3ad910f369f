//! The record's judgement: which tier and override a record judges with,
//! decided without I/O from what its check said (the quotaContext) or what
//! the record is told.

use crate::quota::port::UserView;
use crate::quota::request::RecordRequest;
use crate::rules::basis::Basis;
use crate::rules::resolve::{self, MatchedBy, SharedConfig};
use chrono::{DateTime, Utc};

/// The tier a record judges with: the one its check judged, or none at all.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement<'c> {
    Judged(Basis<'c>),
    Unjudged,
}

/// Decides, without I/O, what a record judges with, so that it never stores
/// or answers a warning, block or tier that the check of the same turn
/// would not:
/// 1. the check's `quotaContext`, when given: its tier and override, if they
///    still exist and are enabled (else nothing is judged);
/// 2. else the roles / email given, resolved as a check given them would
///    (an override active now beats it, as in a check);
/// 3. else, without any identity: the same, only if identity cannot change
///    the tier (a direct assignment wins, or no role / email-domain
///    assignment is in use); otherwise nothing is judged.
pub fn judgement<'c>(
    config: &'c SharedConfig,
    view: &'c UserView,
    request: &RecordRequest,
    now: DateTime<Utc>,
) -> Judgement<'c> {
    if let Some(context) = &request.context {
        let tier = match &context.tier_id {
            None => None,
            Some(id) => match config.tiers.get(id).filter(|t| t.enabled) {
                Some(tier) => Some(tier),
                None => return Judgement::Unjudged,
            },
        };
        let decided_by = match &context.override_id {
            None => None,
            Some(id) => match view.overrides.overrides.iter().find(|o| &o.override_id == id && o.enabled) {
                Some(o) => Some(o),
                None => return Judgement::Unjudged,
            },
        };
        let matched_by = if tier.is_some() { context.matched_by.clone() } else { MatchedBy::None };
        return Judgement::Judged(Basis { tier, matched_by, decided_by });
    }
    let resolution = resolve::resolve(config, view.direct.as_ref(), &request.subject);
    let told_identity = !request.subject.roles.is_empty() || request.subject.email.is_some();
    if told_identity || resolution.matched_by == MatchedBy::DirectUser || !config.depends_on_identity() {
        Judgement::Judged(Basis::at(&resolution, &view.overrides, now))
    } else {
        Judgement::Unjudged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Assignment, JwtRole, Override, OverrideType, RequestId, Target, UsageDelta, UsageSnapshot, UserId,
        UserOverrides,
    };
    use crate::quota::context::QuotaContext;
    use crate::rules::resolve::Subject;
    use crate::testing::{assignment, at, money, tier};

    const NOW: &str = "2026-11-27T10:00:00Z";

    fn config(with_role: bool) -> SharedConfig {
        let mut config = SharedConfig::default();
        for t in [tier("basic", "10", ""), tier("faculty", "100", "")] {
            config.tiers.insert(t.tier_id.clone(), t);
        }
        config.assignments.push(assignment("a-default", "basic", Target::DefaultTier));
        if with_role {
            config.assignments.push(assignment(
                "a-fac",
                "faculty",
                Target::JwtRole(JwtRole::parse("Faculty").unwrap()),
            ));
        }
        config
    }

    fn view(direct: Option<Assignment>, overrides: Vec<Override>) -> UserView {
        UserView {
            config_version: 1,
            direct,
            overrides: UserOverrides { overrides, ..Default::default() },
            usage: UsageSnapshot::default(),
            ..Default::default()
        }
    }

    fn unlimited(from: &str, until: &str) -> Override {
        crate::testing::override_of("u", OverrideType::Unlimited, from, until)
    }

    fn request(roles: &[&str], context: Option<QuotaContext>) -> RecordRequest {
        RecordRequest {
            subject: Subject {
                user_id: UserId::parse("u").unwrap(),
                roles: roles.iter().map(|r| JwtRole::parse(*r).unwrap()).collect(),
                email: None,
            },
            context,
            request_id: RequestId::parse("r").unwrap(),
            usage: crate::model::Consumption::client(UsageDelta {
                cost: money("1"),
                input_tokens: 0,
                output_tokens: 0,
            }),
            session_id: None,
        }
    }

    fn context(tier: Option<&str>, matched_by: MatchedBy, over: Option<&Override>) -> Option<QuotaContext> {
        Some(QuotaContext {
            user_id: UserId::parse("u").unwrap(),
            tier_id: tier.map(|t| crate::model::TierId::parse(t).unwrap()),
            matched_by,
            override_id: over.map(|o| o.override_id.clone()),
            config_version: 1,
            groups: vec![],
        })
    }

    /// The tier judged with ("" for none), `+override` when one decides; None when unjudged.
    fn judged(c: &SharedConfig, v: &UserView, r: &RecordRequest) -> Option<String> {
        match judgement(c, v, r, at(NOW)) {
            Judgement::Judged(b) => Some(format!(
                "{}{}",
                b.tier.map(|t| t.tier_id.to_string()).unwrap_or_default(),
                if b.decided_by.is_some() { "+override" } else { "" }
            )),
            Judgement::Unjudged => None,
        }
    }

    #[test]
    fn an_edited_context_names_another_tier_of_the_same_user_and_nothing_more() {
        // The trust model, as stated in docs/api.md: the context is the trusted
        // backend's word, bound to its user. An edit can name another enabled
        // tier (as other roles could), never a missing one or another user's
        // override.
        let c = config(true);
        let v = view(None, vec![]);
        let other = request(&[], context(Some("faculty"), MatchedBy::DefaultTier, None));
        assert_eq!(judged(&c, &v, &other).as_deref(), Some("faculty"));
        let missing = request(&[], context(Some("gold"), MatchedBy::DefaultTier, None));
        assert_eq!(judged(&c, &v, &missing), None, "a tier that does not exist: nothing judged");
        let foreign = unlimited("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z");
        let not_theirs = request(&[], context(Some("basic"), MatchedBy::Override, Some(&foreign)));
        assert_eq!(judged(&c, &v, &not_theirs), None, "an override the user does not have: nothing judged");
    }

    #[test]
    fn the_context_decides_over_whatever_else_the_record_says() {
        let (c, v) = (config(true), view(None, vec![]));
        let faculty = || context(Some("faculty"), MatchedBy::JwtRole(JwtRole::parse("Faculty").unwrap()), None);
        assert_eq!(judged(&c, &v, &request(&[], faculty())).as_deref(), Some("faculty"));
        assert_eq!(judged(&c, &v, &request(&["Other"], faculty())).as_deref(), Some("faculty"));
        let none = request(&["Faculty"], context(None, MatchedBy::None, None));
        assert_eq!(judged(&c, &v, &none).as_deref(), Some(""), "no tier: the no-match policy");
        let gone = request(&[], context(Some("deleted"), MatchedBy::DefaultTier, None));
        assert_eq!(judged(&c, &v, &gone), None);
    }

    #[test]
    fn without_a_context_only_an_identity_that_cannot_matter_may_be_missing() {
        let (c, v) = (config(true), view(None, vec![]));
        assert_eq!(judged(&c, &v, &request(&["Faculty"], None)).as_deref(), Some("faculty"));
        assert_eq!(judged(&c, &v, &request(&["Other"], None)).as_deref(), Some("basic"), "told roles");
        assert_eq!(judged(&c, &v, &request(&[], None)), None, "roles could change the tier");
        let direct = view(Some(assignment("a-u", "faculty", Target::DirectUser(UserId::parse("u").unwrap()))), vec![]);
        assert_eq!(judged(&c, &direct, &request(&[], None)).as_deref(), Some("faculty"), "direct wins");
        assert_eq!(judged(&config(false), &v, &request(&[], None)).as_deref(), Some("basic"));
        let mut disabled = config(true);
        disabled.assignments[1].enabled = false;
        assert_eq!(judged(&disabled, &v, &request(&[], None)).as_deref(), Some("basic"));
    }

    #[test]
    fn an_override_in_the_context_is_judged_while_it_exists_and_an_active_one_beats_the_tier() {
        let c = config(false);
        let o = unlimited("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z");
        let v = view(None, vec![o.clone()]);
        let told = request(&[], context(Some("basic"), MatchedBy::DefaultTier, Some(&o)));
        assert_eq!(judged(&c, &v, &told).as_deref(), Some("basic+override"));
        assert_eq!(judged(&c, &view(None, vec![]), &told), None, "a deleted override judges nothing");
        assert_eq!(judged(&c, &v, &request(&[], None)).as_deref(), Some("basic+override"), "active now");
        let later = view(None, vec![unlimited("2026-11-28T00:00:00Z", "2026-12-01T00:00:00Z")]);
        assert_eq!(judged(&c, &later, &request(&[], None)).as_deref(), Some("basic"), "upcoming: not yet");
    }
}
