//! Every `events/prices` fixture through the function's router.

use testkit::{admin_state, fixture, fixture_names, run_event};

const USED: [&str; 21] = [
    "create-fallback-now.json",
    "create-backdated.json",
    "create.json",
    "create-fallback.json",
    "create-scheduled.json",
    "create-per-token.json",
    "create-jump.json",
    "create-jump-confirmed.json",
    "create-invalid.json",
    "create-not-admin.json",
    "list.json",
    "list-at.json",
    "list-history.json",
    "list-bad.json",
    "get.json",
    "get-missing.json",
    "delete.json",
    "quote.json",
    "quote-past.json",
    "quote-unpriced.json",
    "quote-bad.json",
];

#[tokio::test]
async fn prices_from_creation_to_quotes_and_history() {
    let state = admin_state().await;
    let run = |name: &'static str, id: String| {
        let router = prices_fn::ROUTES.router(state.clone());
        async move { run_event(router, &fixture("prices", name, &[("PRICE_ID", &id)])).await }
    };
    let none = String::new;

    // Refused: every field named, nothing written.
    let mut invalid = run("create-invalid.json", none()).await.problem_fields(400);
    invalid.sort();
    assert_eq!(invalid, ["aliases[0]", "currency", "inputPerMillion", "model"]);
    let per_token = run("create-per-token.json", none()).await.problem_fields(400);
    assert_eq!(per_token, ["inputPerMillion"], "a per-token price has more than 4 decimals");
    run("create-not-admin.json", none()).await.problem_fields(403);
    let unpriced = run("quote-unpriced.json", none()).await;
    unpriced.problem_fields(422);
    assert_eq!(unpriced.body["type"], "urn:quota:problem:unpriced-model");
    assert!(unpriced.body["detail"].as_str().unwrap().contains("mistral/large"));
    assert_eq!(run("list.json", none()).await.body["items"], serde_json::json!([]), "nothing was written");

    let created = run("create.json", none()).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["priceId"].as_str().unwrap().to_string();
    assert_eq!(created.headers["location"], format!("/api/admin/quota/prices/{id}").as_str());
    assert_eq!(created.headers["etag"], "\"1\"");
    assert_eq!(created.body["cachedInputPerMillion"], "0.3", "rates answered as exact decimal strings");
    assert_eq!(created.body["longContext"]["outputPerMillion"], "22.5");
    assert_eq!(created.body["effectiveFrom"], "2026-01-01T00:00:00.000Z");

    // History is never rewritten: with a price in effect, a new one starts now or later.
    let backdated = run("create-backdated.json", none()).await;
    backdated.problem_fields(409);
    assert!(backdated.body["detail"].as_str().unwrap().contains("never in the past"), "{:?}", backdated.body);
    // A tenfold move from the previous price is a unit mistake until confirmed.
    let jump = run("create-jump.json", none()).await;
    jump.problem_fields(409);
    assert_eq!(jump.body["type"], "urn:quota:problem:price-jump");
    assert!(jump.body["detail"].as_str().unwrap().contains("outputPerMillion was 15"), "{}", jump.body["detail"]);
    let confirmed = run("create-jump-confirmed.json", none()).await;
    assert_eq!(confirmed.status, 201, "{:?}", confirmed.body);
    let later = confirmed.body["priceId"].as_str().unwrap().to_string();
    assert_eq!(run("create-fallback.json", none()).await.status, 201);
    let now = run("create-fallback-now.json", none()).await;
    assert_eq!(now.status, 201, "without effectiveFrom a price takes effect now, never 'in the past': {:?}", now.body);
    let scheduled = run("create-scheduled.json", none()).await;
    assert_eq!(scheduled.status, 201, "{:?}", scheduled.body);
    let scheduled = scheduled.body["priceId"].as_str().unwrap().to_string();

    // Quotes: through the alias, cached tokens at their own rate, exactly.
    let quote = run("quote.json", none()).await;
    assert_eq!(quote.status, 200, "{:?}", quote.body);
    assert_eq!(quote.body["priceId"], id.as_str(), "the price in effect now, not the scheduled ones");
    assert_eq!(
        (quote.body["input"].as_str(), quote.body["cachedInput"].as_str(), quote.body["output"].as_str()),
        (Some("0.0036"), Some("0.015"), Some("0.0045"))
    );
    assert_eq!((quote.body["total"].as_str(), quote.body["longContext"].as_bool()), (Some("0.0231"), Some(false)));
    let past = run("quote-past.json", none()).await;
    assert_eq!(
        (past.body["priceId"].as_str(), past.body["total"].as_str(), past.body["longContext"].as_bool()),
        (Some(id.as_str()), Some("6.00"), Some(true)),
        "a million prompt tokens pass the threshold: all at the long-context rate"
    );
    let mut bad = run("quote-bad.json", none()).await.problem_fields(400);
    bad.sort();
    assert_eq!(bad, ["inputTokens", "model"]);

    // Lists: in effect now by model (a page of one), then as of March, then history.
    let first = run("list.json", none()).await;
    assert_eq!(first.body["items"][0]["model"], "*", "the fallback sorts first");
    assert!(first.body["nextToken"].is_string());
    let march = run("list-at.json", none()).await;
    let march: Vec<_> = march.body["items"].as_array().unwrap().iter().map(|p| p["priceId"].clone()).collect();
    assert_eq!(march.len(), 2);
    assert!(march.contains(&serde_json::json!(id)), "in March the January price was in effect");
    let history = run("list-history.json", none()).await;
    let history: Vec<_> =
        history.body["items"].as_array().unwrap().iter().map(|p| p["priceId"].as_str().unwrap().to_string()).collect();
    assert_eq!(history, [scheduled.clone(), later.clone(), id.clone()], "newest first, the scheduled ones too");
    let mut bad = run("list-bad.json", none()).await.problem_fields(400);
    bad.sort();
    assert_eq!(bad, ["model"]);

    assert_eq!(run("get.json", id.clone()).await.body["priceId"], id.as_str());
    run("get-missing.json", none()).await.problem_fields(404);
    // Only a price not yet in effect may be deleted.
    let in_effect = run("delete.json", id.clone()).await;
    in_effect.problem_fields(409);
    assert_eq!(run("delete.json", scheduled.clone()).await.status, 204);
    run("get.json", scheduled.clone()).await.problem_fields(404);
    run("delete.json", scheduled).await.problem_fields(404);
}

#[test]
fn every_fixture_is_used() {
    let mut used: Vec<String> = USED.iter().map(|s| s.to_string()).collect();
    used.sort();
    assert_eq!(fixture_names("prices"), used);
}
