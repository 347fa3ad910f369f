//! The check function's contract, driven by the `events/check` fixtures
//! (direct invokes and API Gateway HTTP events) against the emulator.

use check_fn::{App, routes};
use quota_shared::config::TableNames;
use quota_shared::model::{JwtRole, Target, UserId};
use serde_json::Value;
use testkit::{assignment, fresh_store, money, tier};

/// Faculty get a tier of 1.00 a month; everyone else has none.
async fn app() -> App {
    let store = fresh_store().await;
    store.create_tier(&tier("faculty", "1", ""), &testkit::audit()).await.unwrap();
    let a = assignment("a-fac", "faculty", Target::JwtRole(JwtRole::parse("Faculty").unwrap()));
    store.create_assignment(&a, &testkit::audit()).await.unwrap();
    let config = testkit::config(TableNames { quota: String::new(), events: String::new() });
    check_fn::app(store, &config)
}

async fn requests_of(app: &App, user: &str) -> u64 {
    let now = chrono::Utc::now();
    app.store().get_usage(&UserId::parse(user).unwrap(), now).await.unwrap().monthly.requests
}

/// What the Lambda runtime would answer for the fixture: it goes through
/// lambda_http's own event parsing (pass-through for direct invokes) and
/// response shaping, to the function's router.
async fn run(app: &App, name: &str) -> Value {
    let text = testkit::fixture("check", name, &[]);
    let request: lambda_http::request::LambdaRequest = serde_json::from_str(&text).expect("a Lambda payload");
    let event = lambda_http::LambdaEvent::new(request, lambda_http::Context::default());
    let mut adapter = lambda_http::Adapter::from(routes::router(app.clone(), None));
    let answer = lambda_http::Service::call(&mut adapter, event).await.expect("the router is infallible");
    serde_json::to_value(answer).expect("serialises")
}

fn body(http: &Value) -> Value {
    serde_json::from_str(http["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn check_answers_in_the_documented_shape() {
    let app = app().await;
    let out = run(&app, "check.json").await;
    assert_eq!(out["allowed"], true);
    assert_eq!(out["decision"], "allow");
    assert_eq!(out["matchedBy"], "jwt_role:Faculty");
    assert_eq!(out["tier"]["tierId"], "faculty");
    assert_eq!(out["tier"]["tierName"], "FACULTY");
    assert_eq!(out["warningLevel"], "none");
    let monthly = &out["windows"][1];
    assert_eq!(monthly["period"], "monthly");
    assert_eq!(
        (monthly["usage"].as_str(), monthly["limit"].as_str(), monthly["remaining"].as_str()),
        (Some("0.00"), Some("1.00"), Some("1.00"))
    );
    assert_eq!(monthly["percentageUsed"], 0.0);
    assert!(monthly["resetsAt"].as_str().unwrap().ends_with("T00:00:00Z"));
    assert!(out["message"].as_str().is_some());
    assert!(out["quotaContext"].as_str().is_some_and(|c| c.starts_with("qc1.")), "{out}");
}

#[tokio::test]
async fn record_counts_once_per_request_id_and_keeps_the_cost_exact() {
    let app = app().await;
    run(&app, "check.json").await;
    let first = run(&app, "record.json").await;
    assert_eq!(first["duplicate"], false, "{first}");
    assert_eq!(first["windows"][1]["usage"], "0.0123");
    assert_eq!(first["requestId"], "r-123");
    // Its quotaContext says what the check judged: faculty, by role.
    assert_eq!((first["judged"].as_bool(), first["tier"]["tierId"].as_str()), (Some(true), Some("faculty")));
    assert_eq!(first["matchedBy"], "jwt_role:Faculty");
    let retry = run(&app, "record.json").await;
    assert_eq!(retry["duplicate"], true);
    assert_eq!(retry["windows"], first["windows"], "a retry answers what the first call did");
    let as_number = run(&app, "record-cost-as-number.json").await;
    assert_eq!(as_number["windows"][1]["usage"], "0.0246", "0.0123 sent as a JSON number stays exact");
    // No context and no roles, and the tier depends on roles: counted, not judged.
    assert_eq!((as_number["judged"].as_bool(), as_number["matchedBy"].as_str()), (Some(false), Some("unresolved")));
    assert_eq!(requests_of(&app, "u1").await, 2);
}

#[tokio::test]
async fn bad_payloads_get_a_clear_error_and_write_nothing() {
    let app = app().await;
    for (name, field) in [
        ("error-negative-cost.json", "cost"),
        ("error-non-numeric-cost.json", "cost"),
        ("error-missing-user.json", "userId"),
        ("error-bad-user-id.json", "userId"),
        ("error-unknown-action.json", "action"),
        ("error-wrong-type.json", "inputTokens"),
        ("error-foreign-context.json", "quotaContext"),
        ("error-over-precise-cost.json", "cost"),
        ("error-zero-estimate.json", "estimatedCost"),
    ] {
        let out = run(&app, name).await;
        assert_eq!(out["status"], 400, "{name}: {out}");
        assert_eq!(out["type"], "urn:quota:problem:invalid-input", "{name}");
        assert_eq!(out["errors"][0]["field"], field, "{name}: {out}");
        assert!(out.get("allowed").is_none(), "{name}: an error never says allowed");
    }
    assert_eq!(requests_of(&app, "u1").await, 0);
}

#[tokio::test]
async fn http_events_go_through_the_same_routes() {
    let app = app().await;
    let ok = run(&app, "http-check.json").await;
    assert_eq!(ok["statusCode"], 200, "{ok}");
    assert_eq!(ok["headers"]["content-type"], "application/json");
    assert_eq!(body(&ok)["matchedBy"], "jwt_role:Faculty");
    let usage = run(&app, "http-usage.json").await;
    assert_eq!(usage["statusCode"], 200, "{usage}");
    assert_eq!(body(&usage)["windows"][1]["usage"], "0.50");
    let bad = run(&app, "http-error-malformed.json").await;
    assert_eq!(bad["statusCode"], 400);
    assert_eq!(bad["headers"]["content-type"], "application/problem+json");
}

#[tokio::test]
async fn a_block_over_http_is_429_with_retry_after() {
    let app = app().await;
    let user = UserId::parse("u1").unwrap();
    let d = quota_shared::model::UsageDelta { cost: money("1"), input_tokens: 0, output_tokens: 0 };
    let r = quota_shared::model::RequestId::parse("spent").unwrap();
    app.store().add_usage(&user, &r, &d, chrono::Utc::now()).await.unwrap();
    let blocked = run(&app, "http-check.json").await;
    assert_eq!(blocked["statusCode"], 429, "{blocked}");
    let retry: i64 = blocked["headers"]["retry-after"].as_str().unwrap().parse().unwrap();
    assert!((1..=31 * 24 * 3600).contains(&retry), "{retry}");
    assert_eq!(body(&blocked)["decision"], "block", "{blocked}");
    let in_body = body(&blocked)["retryAfterSeconds"].as_i64().unwrap();
    assert!((retry - 1..=retry).contains(&in_body), "the body says it too: {in_body} vs {retry}");
    // The direct invoke answers the same decision without HTTP semantics,
    // and says when to try again in the answer (it has no headers).
    let direct = run(&app, "check.json").await;
    assert_eq!(direct["allowed"], false);
    assert!(direct["retryAfterSeconds"].as_i64().is_some_and(|s| s > 0), "{direct}");
    let recorded = run(&app, "record.json").await;
    assert!(recorded.get("retryAfterSeconds").is_none(), "a record is counted, never refused: it has none");
}

/// `s1` is on a strict tier of 1.00 a day (directly assigned).
async fn strict_app() -> App {
    let app = app().await;
    let strict = quota_shared::model::Tier {
        enforcement: quota_shared::model::Enforcement::Strict,
        default_reservation: Some(money("0.05")),
        ..tier("metered", "", "1")
    };
    app.store().create_tier(&strict, &testkit::audit()).await.unwrap();
    let direct = assignment("a-s1", "metered", Target::DirectUser(UserId::parse("s1").unwrap()));
    app.store().create_assignment(&direct, &testkit::audit()).await.unwrap();
    app
}

#[tokio::test]
async fn a_strict_check_reserves_and_its_record_settles() {
    let app = strict_app().await;
    let held = run(&app, "check-strict.json").await;
    assert_eq!(held["allowed"], true, "{held}");
    let r = &held["reservation"];
    assert_eq!(
        (r["requestId"].as_str(), r["amount"].as_str(), r["tokens"].as_u64()),
        (Some("turn-1"), Some("0.40"), Some(2000))
    );
    assert!(r["expiresAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{held}");
    // The same check again (a retry, here over HTTP) holds nothing more.
    let again = run(&app, "http-check-strict.json").await;
    assert_eq!((again["statusCode"].as_u64(), body(&again)["reservation"].clone()), (Some(200), r.clone()));
    // 0.40 held of 1.00: 0.70 does not fit until the hold settles or expires.
    let full = run(&app, "http-check-strict-full.json").await;
    assert_eq!(full["statusCode"], 429, "{full}");
    let retry: i64 = full["headers"]["retry-after"].as_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry), "retry when the hold expires, not tomorrow: {retry}");
    assert!(body(&full)["message"].as_str().unwrap().contains("reserved"), "{full}");
    // The record settles: 0.35 counted, the 0.40 released.
    let settled = run(&app, "record-settle.json").await;
    assert_eq!(settled["windows"][0]["usage"], "0.35", "{settled}");
    let usage = app.store().get_usage(&UserId::parse("s1").unwrap(), chrono::Utc::now()).await.unwrap();
    assert_eq!((usage.committed_daily.cost, usage.reservations.len()), (money("0.35"), 0));
    // 0.35 used + 0.70 is over 1.00 by usage alone: refused until the day resets.
    let over = run(&app, "http-check-strict-full.json").await;
    assert_eq!(over["statusCode"], 429, "{over}");
    assert!(body(&over)["message"].as_str().unwrap().contains("0.35 used"), "{over}");
}

#[tokio::test]
async fn a_failed_turn_releases_its_hold_by_invoke_or_over_http_once() {
    let app = strict_app().await;
    assert_eq!(run(&app, "check-strict.json").await["reservation"]["amount"], "0.40");
    let released = run(&app, "release.json").await;
    assert_eq!(
        (released["released"].as_bool(), released["reason"].as_str()),
        (Some(true), Some("released")),
        "{released}"
    );
    assert_eq!(released["amount"], "0.40");
    let usage = app.store().get_usage(&UserId::parse("s1").unwrap(), chrono::Utc::now()).await.unwrap();
    assert_eq!((usage.committed_daily.cost, usage.reservations.len()), (money("0"), 0));
    let again = run(&app, "http-release.json").await;
    assert_eq!(again["statusCode"], 200, "{again}");
    assert_eq!((body(&again)["released"].as_bool(), body(&again)["reason"].as_str()), (Some(false), Some("not_held")));
}

/// Prices anthropic/claude-sonnet-4-5 (and its dated ids) as published.
async fn priced(app: &App) {
    let body: quota_shared::model::price_body::NewPrice = serde_json::from_value(serde_json::json!({
        "model": "anthropic/claude-sonnet-4-5", "aliases": ["anthropic/claude-sonnet-4-5*"],
        "effectiveFrom": "2026-01-01T00:00:00Z", "inputPerMillion": "3", "outputPerMillion": "15",
        "cachedInputPerMillion": "0.30", "cacheWritePerMillion": "3.75"
    }))
    .unwrap();
    let now = chrono::Utc::now();
    let price = body.into_draft(now).unwrap().into_price("admin", now);
    app.store().create_price(&price, &[], &testkit::audit()).await.unwrap();
}

#[tokio::test]
async fn a_record_by_tokens_is_priced_exactly_and_an_unpriced_model_writes_nothing() {
    let app = app().await;
    priced(&app).await;
    let unpriced = run(&app, "error-unpriced-model.json").await;
    assert_eq!(
        (unpriced["status"].as_u64(), unpriced["type"].as_str()),
        (Some(422), Some("urn:quota:problem:unpriced-model"))
    );
    assert!(unpriced["detail"].as_str().unwrap().contains("mistral/large"), "{unpriced}");
    let nothing = run(&app, "error-no-cost-no-model.json").await;
    assert_eq!((nothing["status"].as_u64(), nothing["errors"][0]["field"].as_str()), (Some(400), Some("cost")));
    assert_eq!(requests_of(&app, "u1").await, 0, "neither wrote anything");

    let first = run(&app, "record-by-tokens.json").await;
    assert_eq!((first["costSource"].as_str(), first["cost"].as_str()), (Some("price"), Some("0.0231")), "{first}");
    let p = &first["pricing"];
    assert_eq!(
        (p["input"].as_str(), p["cachedInput"].as_str(), p["output"].as_str(), p["total"].as_str()),
        (Some("0.0036"), Some("0.015"), Some("0.0045"), Some("0.0231")),
        "cached tokens once, at their own rate"
    );
    assert_eq!(p["priceModel"], "anthropic/claude-sonnet-4-5", "the dated id through the alias");
    assert_eq!(first["windows"][1]["usage"], "0.0231");
    // A new price in between: the retry answers the first pricing, adds nothing.
    let body: quota_shared::model::price_body::NewPrice = serde_json::from_value(serde_json::json!({
        "model": "anthropic/claude-sonnet-4-5", "inputPerMillion": "6", "outputPerMillion": "30"
    }))
    .unwrap();
    let now = chrono::Utc::now();
    let newer = body.into_draft(now).unwrap().into_price("admin", now);
    app.store().create_price(&newer, &[], &testkit::audit()).await.unwrap();
    let retry = run(&app, "record-by-tokens.json").await;
    assert_eq!((retry["duplicate"].as_bool(), retry["pricing"].clone()), (Some(true), p.clone()), "{retry}");
    assert_eq!(requests_of(&app, "u1").await, 1);
    let usage = app.store().get_usage(&UserId::parse("u1").unwrap(), now).await.unwrap();
    assert_eq!((usage.monthly.cost, usage.monthly.input_tokens), (money("0.0231"), 51_200), "the whole prompt counts");
}

#[tokio::test]
async fn a_check_by_model_refuses_an_unpriced_one_and_a_strict_check_reserves_the_tokens_price() {
    let app = strict_app().await;
    priced(&app).await;
    assert_eq!(run(&app, "check-model.json").await["allowed"], true);
    let unpriced = run(&app, "check-unpriced-model.json").await;
    assert_eq!(
        (unpriced["status"].as_u64(), unpriced["type"].as_str()),
        (Some(422), Some("urn:quota:problem:unpriced-model"))
    );
    assert!(unpriced.get("allowed").is_none(), "an error never says allowed: {unpriced}");
    let held = run(&app, "check-strict-by-tokens.json").await;
    let r = &held["reservation"];
    // 20,000 input at 3 and 4,000 output at 15 a million.
    assert_eq!((r["amount"].as_str(), r["tokens"].as_u64()), (Some("0.12"), Some(24_000)), "{held}");
    assert!(r["priceId"].is_string(), "{held}");
}

#[tokio::test]
async fn every_fixture_is_exercised_by_a_test() {
    let covered = [
        "record-by-tokens.json",
        "error-unpriced-model.json",
        "error-no-cost-no-model.json",
        "check-model.json",
        "check-unpriced-model.json",
        "check-strict-by-tokens.json",
        "release.json",
        "http-release.json",
        "check-strict.json",
        "record-settle.json",
        "error-zero-estimate.json",
        "http-check-strict.json",
        "http-check-strict-full.json",
        "check.json",
        "record.json",
        "record-cost-as-number.json",
        "error-negative-cost.json",
        "error-non-numeric-cost.json",
        "error-missing-user.json",
        "error-bad-user-id.json",
        "error-unknown-action.json",
        "error-wrong-type.json",
        "error-foreign-context.json",
        "error-over-precise-cost.json",
        "http-check.json",
        "http-usage.json",
        "http-error-malformed.json",
    ];
    let present = testkit::fixture_names("check");
    let mut want: Vec<String> = covered.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(present, want, "a fixture without a test (or a test without its fixture)");
}
