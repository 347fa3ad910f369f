//! The notifier against the emulator's EventBridge (moto implements
//! PutEvents), fed the `events/notifier` stream fixture.

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use notifier_fn::{Bus, notify};

fn fixture() -> StreamEvent {
    serde_json::from_str(&testkit::fixture("notifier", "stream-insert.json", &[])).expect("a DynamoDB stream event")
}

async fn client() -> aws_sdk_eventbridge::Client {
    assert!(std::env::var_os("AWS_ENDPOINT_URL_EVENTBRIDGE").is_some(), "run through make test (the emulator)");
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    aws_sdk_eventbridge::Client::new(&shared)
}

#[tokio::test]
async fn new_events_are_published_and_removals_are_not() {
    let client = client().await;
    let name = format!("quota-test-{}", std::process::id());
    client.create_event_bus().name(&name).send().await.expect("bus created");
    let counter = quota_shared::store::RequestCounter::default();
    let counted =
        aws_sdk_eventbridge::Client::from_conf(client.config().to_builder().interceptor(counter.clone()).build());
    let answer = notify(&Bus::new(counted, &name), fixture()).await.unwrap();
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    assert_eq!(counter.get("PutEvents"), 1, "two INSERTs in one PutEvents; the REMOVE (a TTL expiry) is not news");
}

#[tokio::test]
async fn a_bus_that_refuses_reports_the_first_unpublished_record_for_retry() {
    let bus = Bus::new(client().await, "no-such-bus");
    let answer = notify(&bus, fixture()).await.unwrap();
    let ids: Vec<_> =
        answer.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap_or_default()).collect();
    assert_eq!(ids, ["100"], "Lambda retries from the first INSERT; nothing after it was acknowledged");
}

#[test]
fn every_fixture_is_used() {
    assert_eq!(testkit::fixture_names("notifier"), ["stream-insert.json"]);
}
