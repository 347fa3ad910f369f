//! Repository tests for the admin side, against the emulator (`make test`).

use quota_shared::Error;
use quota_shared::model::{AssignmentType, DomainPattern, JwtRole, Target, TierId, UserId};
use quota_shared::page::PageRequest;
use quota_shared::store::AssignmentFilter;
use testkit::{assignment, at, fresh_store, tier};

fn page(limit: u32, token: Option<String>) -> PageRequest {
    PageRequest { limit, next_token: token }
}

#[tokio::test]
async fn tier_lifecycle_with_conditional_writes() {
    let store = fresh_store().await;
    let basic = tier("basic", "100", "");
    store.create_tier(&basic, &testkit::audit()).await.unwrap();
    assert!(matches!(store.create_tier(&basic, &testkit::audit()).await, Err(Error::Conflict(_))));
    assert_eq!(store.get_tier(&basic.tier_id).await.unwrap(), Some(basic.clone()));

    let mut changed = basic.clone();
    changed.tier_name = "Basic plus".into();
    changed.limits.daily_cost_limit = Some(testkit::money("5"));
    changed.audit = basic.audit.touched("admin2", at("2026-11-27T12:00:00Z"));
    store.update_tier(&changed, 1, &testkit::audit()).await.unwrap();
    assert_eq!(store.get_tier(&basic.tier_id).await.unwrap(), Some(changed.clone()));
    // A second admin still holding version 1 cannot overwrite.
    let stale = store.update_tier(&changed, 1, &testkit::audit()).await;
    assert!(matches!(stale, Err(Error::PreconditionFailed { expected: 1, .. })), "{stale:?}");
    let missing = tier("nope", "1", "");
    assert!(matches!(store.update_tier(&missing, 1, &testkit::audit()).await, Err(Error::NotFound { .. })));

    assert!(matches!(
        store.delete_tier(&basic.tier_id, Some(1), &testkit::audit()).await,
        Err(Error::PreconditionFailed { .. })
    ));
    store.delete_tier(&basic.tier_id, Some(2), &testkit::audit()).await.unwrap();
    assert_eq!(store.get_tier(&basic.tier_id).await.unwrap(), None);
    assert!(matches!(store.delete_tier(&basic.tier_id, None, &testkit::audit()).await, Err(Error::NotFound { .. })));
}

#[tokio::test]
async fn tiers_list_in_pages_with_an_optional_enabled_filter() {
    let store = fresh_store().await;
    for i in 0..7 {
        let mut t = tier(&format!("t{i}"), "10", "");
        t.enabled = i % 2 == 0;
        store.create_tier(&t, &testkit::audit()).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let p = store.list_tiers(&page(3, token), None).await.unwrap();
        assert!(p.items.len() <= 3);
        seen.extend(p.items.into_iter().map(|t| t.tier_id.to_string()));
        token = p.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["t0", "t1", "t2", "t3", "t4", "t5", "t6"]);

    let enabled = store.list_tiers(&page(3, None), Some(true)).await.unwrap();
    let ids: Vec<String> = enabled.items.iter().map(|t| t.tier_id.to_string()).collect();
    assert_eq!(ids, ["t0", "t2", "t4"], "a filtered page is filled, not cut short");
    let rest = store.list_tiers(&page(3, enabled.next_token), Some(true)).await.unwrap();
    assert_eq!(rest.items.iter().map(|t| t.tier_id.to_string()).collect::<Vec<_>>(), ["t6"]);
}

#[tokio::test]
async fn forged_or_foreign_tokens_are_refused() {
    let store = fresh_store().await;
    for i in 0..3 {
        store.create_tier(&tier(&format!("t{i}"), "10", ""), &testkit::audit()).await.unwrap();
    }
    let tier_token = store.list_tiers(&page(1, None), None).await.unwrap().next_token.unwrap();
    let r = store.list_assignments(&AssignmentFilter::default(), &page(1, Some(tier_token))).await;
    assert!(matches!(r, Err(Error::InvalidCursor)), "{r:?}");
    assert!(matches!(store.list_tiers(&page(1, Some("garbage".into())), None).await, Err(Error::InvalidCursor)));
    // Well-formed tokens that point outside the tiers (or at nothing) are not ours either.
    use base64::Engine;
    let forge = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    for forged in [r#"{"pk":"CONFIG","sk":""}"#, r#"{"pk":"CONFIG","sk":"ASSIGNMENT#x"}"#] {
        let r = store.list_tiers(&page(1, Some(forge(forged))), None).await;
        assert!(matches!(r, Err(Error::InvalidCursor)), "{forged}: {r:?}");
    }
    let unfiltered = r#"{"pk":"ASSIGNMENT#a","sk":"ASSIGNMENT","gsi1pk":"ASSIGNMENTS","gsi1sk":""}"#;
    let r = store.list_assignments(&AssignmentFilter::default(), &page(1, Some(forge(unfiltered)))).await;
    assert!(matches!(r, Err(Error::InvalidCursor)), "{r:?}");
}

#[tokio::test]
async fn assignments_keep_tier_counts_and_one_direct_assignment_per_user() {
    let store = fresh_store().await;
    store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap();
    store.create_tier(&tier("vip", "100", ""), &testkit::audit()).await.unwrap();
    let u1 = UserId::parse("u1").unwrap();

    let orphan = assignment("a-orphan", "ghost", Target::DefaultTier);
    match store.create_assignment(&orphan, &testkit::audit()).await {
        Err(Error::Validation(f)) => assert_eq!(f.0[0].field, "tierId"),
        other => panic!("expected a tierId error, got {other:?}"),
    }
    assert_eq!(store.get_assignment(&orphan.assignment_id).await.unwrap(), None, "nothing written");

    let direct = assignment("a-direct", "vip", Target::DirectUser(u1.clone()));
    store.create_assignment(&direct, &testkit::audit()).await.unwrap();
    let twin = assignment("a-twin", "basic", Target::DirectUser(u1.clone()));
    match store.create_assignment(&twin, &testkit::audit()).await {
        Err(Error::Conflict(m)) => assert!(m.contains("a-direct"), "{m}"),
        other => panic!("expected conflict, got {other:?}"),
    }
    assert_eq!(store.get_assignment(&twin.assignment_id).await.unwrap(), None, "nothing written");

    // vip is in use: refused, and still there.
    let vip = TierId::parse("vip").unwrap();
    match store.delete_tier(&vip, None, &testkit::audit()).await {
        Err(Error::Conflict(m)) => assert!(m.contains("1 assignment"), "{m}"),
        other => panic!("expected in-use conflict, got {other:?}"),
    }

    // Moving the assignment to basic frees vip and moves the user's copy.
    let mut moved = direct.clone();
    moved.tier_id = TierId::parse("basic").unwrap();
    moved.audit = direct.audit.touched("admin", at("2026-11-27T00:00:00Z"));
    store.update_assignment(&direct, &moved, &testkit::audit()).await.unwrap();
    let view = store.load_user_view(&u1, &[], at("2026-11-27T00:00:00Z")).await.unwrap();
    assert_eq!(view.direct.as_ref().map(|a| a.tier_id.to_string()).as_deref(), Some("basic"));
    assert!(matches!(
        store.update_assignment(&direct, &moved, &testkit::audit()).await,
        Err(Error::PreconditionFailed { .. })
    ));
    store.delete_tier(&vip, None, &testkit::audit()).await.unwrap();

    // Retargeting the direct assignment to another user frees u1.
    let u2 = UserId::parse("u2").unwrap();
    let mut retargeted = moved.clone();
    retargeted.target = Target::DirectUser(u2.clone());
    retargeted.audit = moved.audit.touched("admin", at("2026-11-27T00:00:00Z"));
    store.update_assignment(&moved, &retargeted, &testkit::audit()).await.unwrap();
    assert_eq!(store.load_user_view(&u1, &[], at("2026-11-27T00:00:00Z")).await.unwrap().direct, None);
    store.create_assignment(&twin, &testkit::audit()).await.unwrap();

    let basic = TierId::parse("basic").unwrap();
    assert!(matches!(store.delete_tier(&basic, None, &testkit::audit()).await, Err(Error::Conflict(_))));
    store.delete_assignment(&retargeted.assignment_id, Some(1), |_| testkit::audit()).await.unwrap_err();
    let gone = store.delete_assignment(&retargeted.assignment_id, Some(3), |_| testkit::audit()).await.unwrap();
    assert_eq!(gone, retargeted);
    store.delete_assignment(&twin.assignment_id, None, |_| testkit::audit()).await.unwrap();
    assert_eq!(store.load_user_view(&u2, &[], at("2026-11-27T00:00:00Z")).await.unwrap().direct, None);
    store.delete_tier(&basic, None, &testkit::audit()).await.unwrap();
}

#[tokio::test]
async fn assignments_list_by_type_value_and_tier() {
    let store = fresh_store().await;
    store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap();
    store.create_tier(&tier("staff", "50", ""), &testkit::audit()).await.unwrap();
    let role = |r: &str| Target::JwtRole(JwtRole::parse(r).unwrap());
    let all = [
        assignment("a1", "basic", Target::DefaultTier),
        assignment("a2", "staff", role("Staff")),
        assignment("a3", "staff", role("Faculty")),
        assignment("a4", "basic", role("Fac")),
        assignment("a5", "basic", Target::EmailDomain(DomainPattern::parse("uni.edu").unwrap())),
        assignment("a6", "staff", Target::DirectUser(UserId::parse("u1").unwrap())),
    ];
    for a in &all {
        store.create_assignment(a, &testkit::audit()).await.unwrap();
    }
    let ids = |f: AssignmentFilter| {
        let store = &store;
        async move {
            let mut out = Vec::new();
            let mut token = None;
            loop {
                let p = store.list_assignments(&f, &page(2, token)).await.unwrap();
                out.extend(p.items.into_iter().map(|a| a.assignment_id.to_string()));
                token = p.next_token;
                if token.is_none() {
                    break;
                }
            }
            out.sort();
            out
        }
    };
    assert_eq!(ids(AssignmentFilter::default()).await, ["a1", "a2", "a3", "a4", "a5", "a6"]);
    let roles = AssignmentFilter { kind: Some(AssignmentType::JwtRole), ..Default::default() };
    assert_eq!(ids(roles).await, ["a2", "a3", "a4"]);
    let fac =
        AssignmentFilter { kind: Some(AssignmentType::JwtRole), value: Some("Fac".into()), tier_id: None, mode: None };
    assert_eq!(ids(fac).await, ["a4"], "Fac does not match Faculty");
    let staff_tier = AssignmentFilter { tier_id: Some(TierId::parse("staff").unwrap()), ..Default::default() };
    assert_eq!(ids(staff_tier).await, ["a2", "a3", "a6"]);
    let staff_direct = AssignmentFilter {
        kind: Some(AssignmentType::DirectUser),
        value: Some("u1".into()),
        tier_id: Some(TierId::parse("staff").unwrap()),
        mode: None,
    };
    assert_eq!(ids(staff_direct).await, ["a6"]);
}

#[tokio::test]
async fn every_admin_write_bumps_the_configuration_version() {
    let store = fresh_store().await;
    let user = UserId::parse("anyone").unwrap();
    let now = at("2026-11-27T00:00:00Z");
    async fn version(
        store: &quota_shared::store::DynamoStore,
        user: &UserId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> u64 {
        store.load_user_view(user, &[], now).await.unwrap().config_version
    }
    assert_eq!(version(&store, &user, now).await, 0);
    store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap();
    assert_eq!(version(&store, &user, now).await, 1);
    let a = assignment("a1", "basic", Target::DefaultTier);
    store.create_assignment(&a, &testkit::audit()).await.unwrap();
    assert_eq!(version(&store, &user, now).await, 2);
    // A rejected write bumps nothing.
    let _ = store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await;
    assert_eq!(version(&store, &user, now).await, 2);
    store.delete_assignment(&a.assignment_id, None, |_| testkit::audit()).await.unwrap();
    store.delete_tier(&TierId::parse("basic").unwrap(), None, &testkit::audit()).await.unwrap();
    assert_eq!(version(&store, &user, now).await, 4);
    let config = store.load_shared_config().await.unwrap();
    assert!(config.tiers.is_empty() && config.assignments.is_empty());
}

#[tokio::test]
async fn shared_config_holds_tiers_and_shared_assignments_but_not_direct_ones() {
    let store = fresh_store().await;
    store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap();
    store.create_assignment(&assignment("a1", "basic", Target::DefaultTier), &testkit::audit()).await.unwrap();
    store
        .create_assignment(
            &assignment("a2", "basic", Target::DirectUser(UserId::parse("u1").unwrap())),
            &testkit::audit(),
        )
        .await
        .unwrap();
    let config = store.load_shared_config().await.unwrap();
    assert_eq!(config.tiers.len(), 1);
    let ids: Vec<&str> = config.assignments.iter().map(|a| a.assignment_id.as_str()).collect();
    assert_eq!(ids, ["a1"]);
}

#[tokio::test]
async fn a_regex_domain_with_a_key_delimiter_is_stored_listed_and_resolved() {
    let store = fresh_store().await;
    store.create_tier(&tier("labs", "10", ""), &testkit::audit()).await.unwrap();
    let pattern = DomainPattern::parse("regex:(lab#1|lab2)\\.uni\\.edu|x[0-9]+\\.uni\\.edu").unwrap();
    let a = assignment("a-re", "labs", Target::EmailDomain(pattern.clone()));
    store.create_assignment(&a, &testkit::audit()).await.unwrap();
    let exact = assignment("a-ex", "labs", Target::EmailDomain(DomainPattern::parse("lab2.uni.edu").unwrap()));
    store.create_assignment(&exact, &testkit::audit()).await.unwrap();
    let by_value = AssignmentFilter {
        kind: Some(AssignmentType::EmailDomain),
        value: Some(pattern.to_string()),
        tier_id: None,
        mode: None,
    };
    let page = store.list_assignments(&by_value, &PageRequest::default()).await.unwrap();
    assert_eq!(page.items.iter().map(|a| a.assignment_id.as_str()).collect::<Vec<_>>(), ["a-re"]);
    let got = store.get_assignment(&a.assignment_id).await.unwrap().unwrap();
    assert_eq!(got.target, a.target, "the pattern reads back as written");
    let config = store.load_shared_config().await.unwrap();
    let subject = quota_shared::rules::resolve::Subject {
        user_id: quota_shared::model::UserId::parse("u").unwrap(),
        roles: vec![],
        email: Some(quota_shared::model::Email::parse("a@x42.uni.edu").unwrap()),
    };
    let r = quota_shared::rules::resolve::resolve(&config, None, &subject);
    assert_eq!(r.matched_by.to_string(), format!("email_domain:{pattern}"));
}

#[tokio::test]
async fn a_stale_version_on_a_tier_in_use_is_a_failed_precondition_before_a_conflict() {
    let store = fresh_store().await;
    store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap();
    store.create_assignment(&assignment("a1", "basic", Target::DefaultTier), &testkit::audit()).await.unwrap();
    let id = TierId::parse("basic").unwrap();
    assert!(matches!(store.delete_tier(&id, Some(99), &testkit::audit()).await, Err(Error::PreconditionFailed { .. })));
    assert!(
        matches!(store.delete_tier(&id, Some(1), &testkit::audit()).await, Err(Error::Conflict(_))),
        "current version, in use"
    );
}

#[tokio::test]
async fn a_filtered_list_by_tier_fills_its_pages() {
    let store = fresh_store().await;
    store.create_tier(&tier("staff", "10", ""), &testkit::audit()).await.unwrap();
    // Interleave: direct assignments (filtered out) around two roles.
    for i in 0..6 {
        let user = UserId::parse(format!("u{i}")).unwrap();
        store
            .create_assignment(
                &assignment(&format!("a-{i}-direct"), "staff", Target::DirectUser(user)),
                &testkit::audit(),
            )
            .await
            .unwrap();
    }
    for r in ["R1", "R2"] {
        let role = Target::JwtRole(JwtRole::parse(r).unwrap());
        store.create_assignment(&assignment(&format!("a-9-{r}"), "staff", role), &testkit::audit()).await.unwrap();
    }
    let filter = AssignmentFilter {
        kind: Some(AssignmentType::JwtRole),
        value: None,
        tier_id: Some(TierId::parse("staff").unwrap()),
        mode: None,
    };
    let first = store.list_assignments(&filter, &page(2, None)).await.unwrap();
    assert_eq!(first.items.len(), 2, "a full page although 6 of 8 items are filtered out");
    if let Some(token) = first.next_token {
        let rest = store.list_assignments(&filter, &page(2, Some(token))).await.unwrap();
        assert!(rest.items.is_empty() && rest.next_token.is_none());
    }
}

#[tokio::test]
async fn a_forged_tier_page_token_is_refused_even_when_well_formed() {
    use base64::Engine;
    let store = fresh_store().await;
    store.create_tier(&tier("basic", "10", ""), &testkit::audit()).await.unwrap();
    let token = |sk: &str| {
        let json = serde_json::json!({"pk": "CONFIG", "sk": sk}).to_string();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    };
    for sk in ["TIER#a b", "TIER#", "TIER#x#y"] {
        let page = PageRequest { limit: 10, next_token: Some(token(sk)) };
        assert!(matches!(store.list_tiers(&page, None).await, Err(Error::InvalidCursor)), "{sk}");
    }
    let page = PageRequest { limit: 10, next_token: Some(token("TIER#aardvark")) };
    assert_eq!(store.list_tiers(&page, None).await.unwrap().items.len(), 1, "one we could have issued pages on");
}
