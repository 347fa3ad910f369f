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
            s.load_user_view(&quota_shared::model::UserId::parse("u").unwrap(), &[], at(NOW))
                .await
                .unwrap()
                .config_version
        }
    };
    let before = version(&store).await;
    let now_price =
        price(serde_json::json!({"model": "gpt-x", "inputPerMillion": "2.5", "outputPerMillion": "10"}), NOW);
    let change =
        AdminChange::new("admin@uni.edu", "create", now_price.change_target(), None, Some(&now_price), at(NOW));
    store.create_price(&now_price, &[], &change).await.unwrap();
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
    store.create_price(&scheduled, &[], &change).await.unwrap();
    let delete = |p: &quota_shared::model::price::Price| {
        AdminChange::new("admin@uni.edu", "delete", p.change_target(), Some(p), None, at(NOW))
    };
    assert!(
        matches!(store.delete_price(&now_price, at(NOW), &delete(&now_price)).await, Err(Error::Conflict(_))),
        "in effect: kept"
    );
    store.delete_price(&scheduled, at(NOW), &delete(&scheduled)).await.unwrap();
    assert!(store.get_price(&scheduled.price_id).await.unwrap().is_none());
    assert_eq!(store.load_shared_config().await.unwrap().prices.len(), 1, "its copy left the configuration too");
    assert!(matches!(store.delete_price(&scheduled, at(NOW), &delete(&scheduled)).await, Err(Error::NotFound { .. })));
    // Three writes, three admin changes; the refused delete left none.
    let filter = EventFilter { kind: Some(EventType::AdminChange), ..Default::default() };
    let page = quota_shared::page::PageRequest { limit: 50, next_token: None };
    let events = store.search_events(&filter, &page, at(NOW)).await.unwrap();
    let prices = events.items.iter().filter(|e| matches!(e, quota_shared::model::Event::Admin(c) if c.target_type == quota_shared::model::TargetType::Price)).count();
    assert_eq!(prices, 3);
}

#[tokio::test]
async fn history_lists_pages_by_model_and_a_replaced_copy_leaves_the_configuration() {
    use quota_shared::model::price::PriceModel;
    use quota_shared::page::PageRequest;
    let store = fresh_store().await;
    let create = |p: quota_shared::model::price::Price, superseded: Vec<quota_shared::model::price::Price>| {
        let store = store.clone();
        async move {
            let change = AdminChange::new("admin@uni.edu", "create", p.change_target(), None, Some(&p), at(NOW));
            let old: Vec<_> = superseded.iter().collect();
            store.create_price(&p, &old, &change).await.map(|_| p)
        }
    };
    let body = |model: &str, input: &str, from: &str| serde_json::json!({"model": model, "inputPerMillion": input, "outputPerMillion": "10", "effectiveFrom": from});
    let a1 = create(price(body("a", "1", "2026-01-01T00:00:00Z"), NOW), vec![]).await.unwrap();
    let a2 = create(price(body("a", "2", "2026-06-01T00:00:00Z"), NOW), vec![a1.clone()]).await.unwrap();
    let a3 = create(price(body("a", "3", "2027-01-01T00:00:00Z"), NOW), vec![]).await.unwrap();
    let fallback = create(price(body("*", "5", "2026-01-01T00:00:00Z"), NOW), vec![]).await.unwrap();
    let ab = create(price(body("a-b", "4", "2026-02-01T00:00:00Z"), NOW), vec![]).await.unwrap();
    let same_instant = create(price(body("a", "9", "2026-06-01T00:00:00Z"), NOW), vec![]).await;
    assert!(matches!(same_instant, Err(Error::Conflict(m)) if m.contains("already has a price")));

    let config: Vec<_> = store.load_shared_config().await.unwrap().prices.into_iter().map(|p| p.price_id).collect();
    assert!(!config.contains(&a1.price_id), "the replaced copy was pruned");
    assert_eq!(config.len(), 4);
    assert_eq!(store.get_price(&a1.price_id).await.unwrap().as_ref(), Some(&a1), "history keeps it");

    let model = PriceModel::Model(ModelId::parse("model", "a").unwrap());
    let all = PageRequest { limit: 50, next_token: None };
    let history: Vec<_> =
        store.price_history(&model, None, &all).await.unwrap().items.into_iter().map(|p| p.price_id).collect();
    assert_eq!(history, [a3.price_id.clone(), a2.price_id.clone(), a1.price_id.clone()], "newest first, a-b apart");
    let then = store.price_before(&model, at("2026-05-31T23:59:59Z")).await.unwrap();
    assert_eq!(then.map(|p| p.price_id), Some(a1.price_id.clone()));
    let two = PageRequest { limit: 2, next_token: None };
    let first = store.price_history(&model, None, &two).await.unwrap();
    let rest = PageRequest { limit: 2, next_token: first.next_token.clone() };
    assert_eq!(store.price_history(&model, None, &rest).await.unwrap().items.len(), 1);

    // In effect now, one per model, in model order, a page at a time.
    let one = |token| PageRequest { limit: 1, next_token: token };
    let mut seen = vec![];
    let mut token = None;
    loop {
        let page = store.prices_at(at(NOW), &one(token)).await.unwrap();
        seen.extend(page.items.into_iter().map(|p| p.price_id));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, [fallback.price_id.clone(), a2.price_id.clone(), ab.price_id.clone()]);
    let before_any: Vec<_> = store.prices_at(at("2026-01-15T00:00:00Z"), &all).await.unwrap().items;
    assert_eq!(before_any.iter().map(|p| &p.price_id).collect::<Vec<_>>(), [&fallback.price_id, &a1.price_id]);
    assert_eq!(store.all_prices().await.unwrap().len(), 5);
    let forged = PageRequest { limit: 1, next_token: Some("bm90LWEtdG9rZW4".into()) };
    assert!(matches!(store.prices_at(at(NOW), &forged).await, Err(Error::InvalidCursor)));
}
