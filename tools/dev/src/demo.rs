//! The demo data `make run` loads: five tiers (basic rations the premium
//! models: 20 requests a day), one assignment of each type, four models'
//! prices, and some usage so that every decision shows up.

use chrono::Utc;
use quota_shared::config::Config;
use quota_shared::error::Error;
use quota_shared::model::{
    AdminChange, Email, JwtRole, Money, NewAssignment, NewTier, RequestId, SessionId, UsageDelta, UserId,
};
use quota_shared::quota::{CheckRequest, Checker};
use quota_shared::rules::resolve::Subject;
use quota_shared::store::DynamoStore;

const ACTOR: &str = "demo-seed";

fn tier(json: &str) -> NewTier {
    serde_json_from(json)
}

fn assignment(json: &str) -> NewAssignment {
    serde_json_from(json)
}

fn serde_json_from<T: serde::de::DeserializeOwned>(json: &str) -> T {
    serde_json::from_str(json).expect("demo data is valid")
}

/// A few real models at their published list prices (USD per million
/// tokens), from the start of 2025, so the demo prices records by tokens.
const DEMO_PRICES: [&str; 4] = [
    r#"{"model":"openai/gpt-4o","aliases":["gpt-4o","openai/gpt-4o-2024-*"],"effectiveFrom":"2025-01-01T00:00:00Z","inputPerMillion":"2.50","outputPerMillion":"10.00","cachedInputPerMillion":"1.25","source":"openai.com/api/pricing (demo)"}"#,
    r#"{"model":"openai/gpt-4o-mini","aliases":["gpt-4o-mini","openai/gpt-4o-mini-*"],"effectiveFrom":"2025-01-01T00:00:00Z","inputPerMillion":"0.15","outputPerMillion":"0.60","cachedInputPerMillion":"0.075","source":"openai.com/api/pricing (demo)"}"#,
    r#"{"model":"anthropic/claude-sonnet-4-5","aliases":["claude-sonnet-4-5*","anthropic/claude-sonnet-4-5*"],"effectiveFrom":"2025-01-01T00:00:00Z","inputPerMillion":"3","outputPerMillion":"15","cachedInputPerMillion":"0.30","cacheWritePerMillion":"3.75","longContext":{"thresholdTokens":200000,"inputPerMillion":"6","outputPerMillion":"22.50","cachedInputPerMillion":"0.60","cacheWritePerMillion":"7.50"},"source":"anthropic.com/pricing (demo)"}"#,
    r#"{"model":"anthropic/claude-haiku-4-5","aliases":["claude-haiku-4-5*","anthropic/claude-haiku-4-5*"],"effectiveFrom":"2025-01-01T00:00:00Z","inputPerMillion":"1","outputPerMillion":"5","cachedInputPerMillion":"0.10","cacheWritePerMillion":"1.25","source":"anthropic.com/pricing (demo)"}"#,
];

pub async fn seed(store: &DynamoStore, config: &Config) -> Result<(), Error> {
    store.create_tables().await?;
    let now = Utc::now();
    let tiers = [
        r#"{"tierId":"basic","tierName":"Basic","description":"Everyone","monthlyCostLimit":"10","dailyCostLimit":"2","modelLimits":[{"limitId":"premium","models":["anthropic/claude-sonnet-4-5*","openai/gpt-4o"],"dailyRequestLimit":20,"suggestModel":"openai/gpt-4o-mini"}]}"#,
        r#"{"tierId":"staff","tierName":"Staff","monthlyCostLimit":"50","dailyCostLimit":"10"}"#,
        r#"{"tierId":"faculty","tierName":"Faculty","monthlyCostLimit":"100","softLimitPercentage":75}"#,
        r#"{"tierId":"internal","tierName":"Internal","unlimited":true}"#,
        r#"{"tierId":"metered","tierName":"Metered (strict)","dailyCostLimit":"1","dailyRequestLimit":50,"monthlyTokenLimit":2000000,"enforcement":"strict","defaultReservation":"0.05"}"#,
    ];
    for json in tiers {
        let t = tier(json).into_tier(ACTOR, now)?;
        let change = AdminChange::new(ACTOR, "create", t.change_target(), None, Some(&t), now);
        match store.create_tier(&t, &change).await {
            Ok(()) | Err(Error::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let assignments = [
        r#"{"tierId":"basic","assignmentType":"default_tier"}"#,
        r#"{"tierId":"staff","assignmentType":"jwt_role","jwtRole":"Staff"}"#,
        r#"{"tierId":"faculty","assignmentType":"jwt_role","jwtRole":"Faculty"}"#,
        r#"{"tierId":"staff","assignmentType":"email_domain","emailDomain":"uni.edu"}"#,
        r#"{"tierId":"internal","assignmentType":"direct_user","userId":"alice"}"#,
        r#"{"tierId":"metered","assignmentType":"direct_user","userId":"dora"}"#,
    ];
    let existing = store.load_shared_config().await?;
    if existing.assignments.is_empty() {
        for json in assignments {
            let a = assignment(json).into_assignment(ACTOR, now)?;
            let change = AdminChange::new(ACTOR, "create", a.change_target(), None, Some(&a), now);
            match store.create_assignment(&a, &change).await {
                Ok(()) | Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    if existing.prices.is_empty() {
        for json in DEMO_PRICES {
            let body: quota_shared::model::price_body::NewPrice = serde_json_from(json);
            let p = body.into_draft(now)?.into_price(ACTOR, now);
            let change = AdminChange::new(ACTOR, "create", p.change_target(), None, Some(&p), now);
            store.create_price(&p, &[], &change).await?;
        }
    }
    // Groups: the faculty share a pool (by role); bob is a named member of a lab.
    if existing.groups.is_empty() {
        let groups = [
            r#"{"groupId":"faculty-pool","groupName":"Faculty pool","monthlyCostLimit":"200","jwtRoles":["Faculty"]}"#,
            r#"{"groupId":"lab","groupName":"Robotics lab","dailyCostLimit":"5","monthlyCostLimit":"40"}"#,
        ];
        for json in groups {
            let g = serde_json_from::<quota_shared::model::group::NewGroup>(json).into_group(ACTOR, now)?;
            let change = AdminChange::new(ACTOR, "create", g.change_target(), None, Some(&g), now);
            match store.create_group(&g, &change).await {
                Ok(()) | Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if let Some((lab, _)) = store.get_group(&quota_shared::model::GroupId::parse("lab").expect("valid")).await? {
            let bob = UserId::parse("bob").expect("valid");
            let member = quota_shared::model::group::Group::member_target(&lab.group_id, &bob);
            let change = AdminChange::new(ACTOR, "add_member", member, None, Some(&lab), now);
            match store.add_member(&lab, &bob, ACTOR, now, &change).await {
                Ok(()) | Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    // bob is near his daily limit, carol over it.
    // Request ids carry the day, so a restart the same day adds nothing and
    // a run on a later day shows the same picture.
    let day = now.format("%Y-%m-%d");
    for (user, cost) in [("bob", "1.70"), ("carol", "2.05")] {
        let request = format!("demo-{user}-{day}");
        let delta =
            UsageDelta { cost: Money::parse("cost", cost).expect("valid"), input_tokens: 1200, output_tokens: 300 };
        store
            .add_usage(&UserId::parse(user).expect("valid"), &RequestId::parse(request).expect("valid"), &delta, now)
            .await?;
    }

    let checker = Checker::new(store.clone(), config.no_match_policy, config.failure_mode);
    println!("demo data loaded into {} and {}; what check answers now:", config.tables.quota, config.tables.events);
    println!("{:<8} {:<28} {:<10} {:<9} message", "user", "matchedBy", "tier", "decision");
    for (user, roles, email) in [
        ("alice", vec![], None),
        ("dave", vec!["Faculty"], None),
        ("erin", vec![], Some("erin@uni.edu")),
        ("bob", vec![], None),
        ("carol", vec![], None),
    ] {
        let request = CheckRequest {
            subject: Subject {
                user_id: UserId::parse(user).expect("valid"),
                roles: roles.into_iter().map(|r| JwtRole::parse(r).expect("valid")).collect(),
                email: email.map(|e| Email::parse(e).expect("valid")),
            },
            model: None,
            session_id: Some(SessionId::parse("demo").expect("valid")),
            estimate: Default::default(),
        };
        let out = checker.check(&request, now).await?;
        let tier = out.tier.as_ref().map(|t| t.tier_id.to_string()).unwrap_or_else(|| "-".into());
        let verdict = serde_json::to_value(out.decision.decision).expect("serialises");
        println!(
            "{:<8} {:<28} {:<10} {:<9} {}",
            user,
            out.matched_by.to_string(),
            tier,
            verdict.as_str().unwrap_or(""),
            out.decision.message
        );
    }
    Ok(())
}
