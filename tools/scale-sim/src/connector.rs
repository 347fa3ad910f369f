//! The SDK's HTTP client, answered by the in-memory DynamoDB: the store is
//! the production one, built by `DynamoStore::new`, only its transport is
//! replaced (as the check bench's stub does).

use crate::memdb::MemDb;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use quota_shared::config::TableNames;
use quota_shared::fanout::Fanout;
use quota_shared::store::{DynamoStore, tuned};
use std::sync::{Arc, Mutex};

pub const QUOTA: &str = "quota-sim";
pub const EVENTS: &str = "events-sim";

#[derive(Clone)]
struct Memory(Arc<Mutex<MemDb>>);

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memory")
    }
}

impl HttpConnector for Memory {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let op = target.rsplit('.').next().unwrap_or_default().to_string();
        let body: serde_json::Value =
            serde_json::from_slice(request.body().bytes().expect("an in-memory body")).expect("a JSON request");
        let answer = self.0.lock().expect("not poisoned").handle(&op, &body);
        let response = HttpResponse::new(StatusCode::try_from(200).expect("valid"), SdkBody::from(answer.to_string()));
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Memory {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// The production store over `db`, with the stage's `fanout`.
pub fn store(db: Arc<Mutex<MemDb>>, fanout: Fanout) -> DynamoStore {
    let builder = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("sim", "sim", None, None, "sim"))
        .endpoint_url("http://memory.invalid")
        .http_client(Memory(db));
    let conf = tuned(builder, quota_shared::config::DEFAULT_DYNAMODB_ATTEMPT_TIMEOUT).build();
    let tables = TableNames { quota: QUOTA.into(), events: EVENTS.into() };
    DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), tables).with_fanout(fanout)
}
