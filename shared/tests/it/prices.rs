//! Model prices in the store (issue 23, the store before its routes): a new
//! price is in the configuration the next check reads, found by the pricing
//! rule; only a scheduled price may be deleted; every write is audited.

use quota_shared::error::Error;
use quota_shared::model::price::ModelId;
use quota_shared::model::price_body::NewPrice;
use quota_shared::model::{AdminChange, EventType};
use quota_shared::rules::pricing::price_in_effect;
use quota_shared::store::EventFilter;
use testkit::{at, fresh_store};

const NOW: &str = "2026-11-27T10:00:00Z";

fn price(json: serde_json::Value, now: &str) -> quota_shared::model::price::Price {
    let body: NewPrice = serde_json::from_value(json).unwrap();
    body.into_draft(at(now)).unwrap().into_price("admin@uni.edu", at(now))
}

#[tokio::test]
async fn a_new_price_reaches_the_next_checks_configuration_and_only_a_scheduled_one_is_deleted() {
    let store = fresh_store().await;
    let version = |s: &quota_shared::store::DynamoStore| {
        let s = s.clone();
        async move {
            s.load_user_view(&quota_shared::model::UserId::parse("u").unwrap(), at(NOW)).await.unwrap().config_version
        }
    };
    let before = version(&store).await;
    let now_price =
        price(serde_json::json!({"model": "gpt-x", "inputPerMillion": "2.5", "outputPerMillion": "10"}), NOW);
    let change =
        AdminChange::new("admin@uni.edu", "create", now_price.change_target(), None, Some(&now_price), at(NOW));
    store.create_price(&now_price, &change).await.unwrap();
    assert_eq!(store.get_price(&now_price.price_id).await.unwrap().as_ref(), Some(&now_price));
    assert!(version(&store).await > before, "a price write moves the configuration version");

    let config = store.load_shared_config().await.unwrap();
    let model = ModelId::parse("model", "gpt-x").unwrap();
    assert_eq!(price_in_effect(&config.prices, &model, at(NOW)).map(|p| &p.price_id), Some(&now_price.price_id));

    let scheduled = price(
        serde_json::json!({"model": "gpt-x", "inputPerMillion": "2", "outputPerMillion": "8", "effectiveFrom": "2026-12-01T00:00:00Z"}),
        NOW,
    );
    let change =
        AdminChange::new("admin@uni.edu", "create", scheduled.change_target(), None, Some(&scheduled), at(NOW));
    store.create_price(&scheduled, &change).await.unwrap();
    let delete = |p: &quota_shared::model::price::Price| {
        AdminChange::new("admin@uni.edu", "delete", p.change_target(), Some(p), None, at(NOW))
    };
    assert!(
        matches!(store.delete_price(&now_price.price_id, at(NOW), &delete(&now_price)).await, Err(Error::Conflict(_))),
        "in effect: kept"
    );
    store.delete_price(&scheduled.price_id, at(NOW), &delete(&scheduled)).await.unwrap();
    assert!(store.get_price(&scheduled.price_id).await.unwrap().is_none());
    assert_eq!(store.load_shared_config().await.unwrap().prices.len(), 1, "its copy left the configuration too");
    assert!(matches!(
        store.delete_price(&scheduled.price_id, at(NOW), &delete(&scheduled)).await,
        Err(Error::NotFound { .. })
    ));
    // Three writes, three admin changes; the refused delete left none.
    let filter = EventFilter { kind: Some(EventType::AdminChange), ..Default::default() };
    let page = quota_shared::page::PageRequest { limit: 50, next_token: None };
    let events = store.search_events(&filter, &page, at(NOW)).await.unwrap();
    let prices = events.items.iter().filter(|e| matches!(e, quota_shared::model::Event::Admin(c) if c.target_type == quota_shared::model::TargetType::Price)).count();
    assert_eq!(prices, 3);
}
