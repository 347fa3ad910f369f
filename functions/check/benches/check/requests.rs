//! 1. DynamoDB requests per operation, counted from the requests the SDK sent.

use super::*;

pub(crate) fn row(name: &str, counts: &BTreeMap<String, u64>) {
    let get = |k: &str| counts.get(k).copied().unwrap_or(0);
    let total: u64 = counts.values().sum();
    println!(
        "| {name} | {} | {} | {} | {} | {total} |",
        get("BatchGetItem"),
        get("Query"),
        get("GetItem"),
        get("TransactWriteItems")
    );
    assert_eq!(get("Scan"), 0, "a Scan was sent");
}

pub(crate) async fn requests_per_operation() {
    let now = at(NOW);
    let store = seeded().await;
    let c = checker(store.clone());
    let counter = store.requests().clone();
    async fn counted<F: std::future::Future>(
        counter: &quota_shared::store::RequestCounter,
        f: F,
    ) -> BTreeMap<String, u64> {
        counter.reset();
        f.await;
        counter.snapshot()
    }
    println!("## DynamoDB requests per operation (counted from what the SDK sent, emulator)\n");
    println!("| operation | BatchGetItem | Query | GetItem | TransactWriteItems | round trips |");
    println!("|---|---|---|---|---|---|");
    row("check, new container", &counted(&counter, c.check(&check_request("u1"), now)).await);
    row("check, warm", &counted(&counter, c.check(&check_request("u2"), now)).await);
    store.create_tier(&tier("extra", "1", ""), &testkit::audit()).await.expect("admin write");
    row("check, right after an admin change", &counted(&counter, c.check(&check_request("u1"), now)).await);
    row(
        "record, after a check in this container",
        &counted(&counter, c.record(&record_request("u1", "r1"), now)).await,
    );
    row("record, retry of the same requestId", &counted(&counter, c.record(&record_request("u1", "r1"), now)).await);
    let other = checker(store.clone());
    // Records of a user's turns, seconds apart, served by one container or another.
    let (soon, later) = (now + chrono::Duration::seconds(2), now + chrono::Duration::seconds(4));
    row("record, new container", &counted(&counter, other.record(&record_request("u1", "r2"), soon)).await);
    row(
        "record, after a record in another container",
        &counted(&counter, c.record(&record_request("u1", "r3"), later)).await,
    );
    other.record(&record_request("u1", "r4"), later).await.expect("recorded");
    row(
        "record, under a second after another container's",
        &counted(&counter, c.record(&record_request("u1", "r5"), later)).await,
    );
    let blocked = UsageDelta { cost: money("200"), input_tokens: 0, output_tokens: 0 };
    store
        .add_usage(&UserId::parse("u9").expect("valid"), &RequestId::parse("big").expect("valid"), &blocked, now)
        .await
        .expect("spend");
    let mut plain = check_request("u9");
    plain.subject.roles.clear();
    c.check(&check_request("u8"), now).await.unwrap();
    row("check, first block of the window", &counted(&counter, c.check(&plain, now)).await);
    row("check, repeated block", &counted(&counter, c.check(&plain, now)).await);

    let dana = UserId::parse("dana").expect("valid");
    let grant = testkit::monthly_override(dana.as_str(), "50");
    row(
        "create override",
        &counted(&counter, async { store.create_override(&grant, now, &testkit::audit()).await.expect("create") })
            .await,
    );
    row("check, first decided by an override", &counted(&counter, c.check(&check_request("dana"), now)).await);
    row("check, warm, override active", &counted(&counter, c.check(&check_request("dana"), now)).await);
    row("record, override active", &counted(&counter, c.record(&record_request("dana", "o1"), now)).await);
    let active = OverrideFilter { user: None, status: Some(OverrideStatus::Active), mode: None };
    let page = PageRequest::default();
    row(
        "list overrides, status=active",
        &counted(&counter, async { store.list_overrides(&active, &page, now).await.expect("list") }).await,
    );
    let mine = OverrideFilter { user: Some(dana), status: None, mode: None };
    row(
        "list overrides, userId=dana",
        &counted(&counter, async { store.list_overrides(&mine, &page, now).await.expect("list") }).await,
    );

    // Model prices: a price write moves the configuration version like any
    // admin write; after it a check naming a model and a record by tokens
    // read the prices from the cached configuration.
    let price: quota_shared::model::price_body::NewPrice = serde_json::from_value(serde_json::json!({
        "model": "*", "inputPerMillion": "3", "outputPerMillion": "15", "effectiveFrom": "2026-01-01T00:00:00Z"
    }))
    .expect("a valid price");
    let price = price.into_draft(now).expect("valid").into_price("bench", now);
    store.create_price(&price, &[], &testkit::audit()).await.expect("admin write");
    let mut by_model = check_request("u2");
    by_model.model = Some(quota_shared::model::price::ModelId::parse("model", "openai/gpt-4o").expect("valid"));
    row("check with model, right after a price write", &counted(&counter, c.check(&by_model, now)).await);
    row("check with model, warm", &counted(&counter, c.check(&by_model, now)).await);
    let mut by_tokens = record_request("u2", "t1");
    by_tokens.usage = quota_shared::model::Consumption {
        model: by_model.model.clone(),
        tokens: quota_shared::model::price::TokenCounts {
            input: 1200,
            output: 300,
            cached_input: 5000,
            cache_write: 0,
        },
        cost: None,
    };
    row("record by tokens (priced), after a check", &counted(&counter, c.record(&by_tokens, now)).await);

    // Strict mode beside the standard rows above: a user on a strict tier.
    let strict = quota_shared::model::Tier {
        enforcement: quota_shared::model::Enforcement::Strict,
        default_reservation: Some(money("0.05")),
        ..tier("strict", "", "100")
    };
    store.create_tier(&strict, &testkit::audit()).await.expect("admin write");
    let st = UserId::parse("st").expect("valid");
    store
        .create_assignment(&assignment("a-st", "strict", Target::DirectUser(st)), &testkit::audit())
        .await
        .expect("admin write");
    let strict_check = |id: &str| CheckRequest {
        subject: subject("st"),
        model: None,
        session_id: None,
        estimate: quota_shared::quota::Estimate {
            request_id: Some(RequestId::parse(id).expect("valid")),
            cost: None,
            tokens: None,
            ..Default::default()
        },
    };
    let s = checker(store.clone());
    row("strict check, new container (reserves)", &counted(&counter, s.check(&strict_check("s1"), now)).await);
    row("strict record, settles the reservation", &counted(&counter, s.record(&record_request("st", "s1"), now)).await);
    row("strict check, warm (reserves)", &counted(&counter, s.check(&strict_check("s2"), now)).await);
    row("strict check, retry of the same requestId", &counted(&counter, s.check(&strict_check("s2"), now)).await);
    row(
        "strict record, settles after a check elsewhere",
        &counted(
            &counter,
            checker(store.clone()).record(&record_request("st", "s2"), now + chrono::Duration::seconds(3)),
        )
        .await,
    );
    println!();
}
