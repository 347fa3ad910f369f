//! A DynamoDB client that answers from memory, so the bench can see what a
//! check costs the function itself (our code plus the SDK's request building
//! and response parsing) without any network or emulator time.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use quota_shared::config::DEFAULT_DYNAMODB_ATTEMPT_TIMEOUT;
use quota_shared::config::TableNames;
use quota_shared::model::UserId;
use quota_shared::model::period::{Period, Window};
use quota_shared::store::{DynamoStore, keys, tuned};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone)]
struct Stub {
    batch_get: Arc<String>,
    query: Arc<String>,
    sent: Arc<AtomicU64>,
}

impl HttpConnector for Stub {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        // Counted here rather than by the store's opt-in interceptor, so the
        // store measured is the production one.
        self.sent.fetch_add(1, Ordering::Relaxed);
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let body = if target.ends_with("BatchGetItem") {
            self.batch_get.as_str().to_string()
        } else if target.ends_with("Query") {
            self.query.as_str().to_string()
        } else {
            "{}".to_string()
        };
        let response = HttpResponse::new(StatusCode::try_from(200).expect("valid"), SdkBody::from(body));
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Stub {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

pub const TABLE: &str = "quota-bench";

/// A store whose every read returns: config version 5, no direct assignment,
/// a month of usage for `user` on `day` (3.50, of which 1.25 today), and a
/// configuration with one tier (basic: 100 a month, 10 a day) as the default.
/// The counter is the number of requests the store sent.
pub fn stub_store(user: &UserId, at: chrono::DateTime<chrono::Utc>) -> (DynamoStore, Arc<AtomicU64>) {
    let month = Period::containing(Window::Monthly, at);
    let day = Period::containing(Window::Daily, at).day_of_month();
    let d = |name: &str| format!("d{day:02}:{name}");
    let batch_get = json!({
        "Responses": { TABLE: [
            {"pk": {"S": keys::version_pk(keys::version_shard(user, quota_shared::fanout::Fanout::default().version_reads()))}, "sk": {"S": keys::VERSION_SK}, "configVersion": {"N": "5"}},
            {"pk": {"S": keys::user_pk(user)}, "sk": {"S": keys::usage_sk(&month)},
             "cost": {"N": "3.5"}, "inputTokens": {"N": "35000"}, "outputTokens": {"N": "7000"}, "requests": {"N": "70"},
             d("cost"): {"N": "1.25"}, d("inputTokens"): {"N": "12500"}, d("outputTokens"): {"N": "2500"}, d("requests"): {"N": "25"}}
        ]},
        "UnprocessedKeys": {}
    });
    let audit = json!({"createdAt": {"S": "2026-11-01T00:00:00.000Z"}, "createdBy": {"S": "bench"},
        "updatedAt": {"S": "2026-11-01T00:00:00.000Z"}, "updatedBy": {"S": "bench"}, "version": {"N": "1"}});
    let mut tier = json!({"pk": {"S": "CONFIG"}, "sk": {"S": "TIER#basic"}, "tierId": {"S": "basic"}, "tierName": {"S": "Basic"},
        "monthlyCostLimit": {"N": "100"}, "dailyCostLimit": {"N": "10"}, "softLimitPercentage": {"N": "80"},
        "actionOnLimit": {"S": "block"}, "unlimited": {"BOOL": false}, "enabled": {"BOOL": true}});
    let mut default = json!({"pk": {"S": "CONFIG"}, "sk": {"S": "ASSIGNMENT#a-default"}, "assignmentId": {"S": "a-default"},
        "tierId": {"S": "basic"}, "assignmentType": {"S": "default_tier"}, "priority": {"N": "100"}, "enabled": {"BOOL": true}});
    for item in [&mut tier, &mut default] {
        item.as_object_mut().expect("object").extend(audit.as_object().expect("object").clone());
    }
    let query = json!({"Items": [tier, default], "Count": 2, "ScannedCount": 2});
    let sent = Arc::new(AtomicU64::new(0));
    let stub =
        Stub { batch_get: Arc::new(batch_get.to_string()), query: Arc::new(query.to_string()), sent: sent.clone() };
    let builder = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "stub"))
        .endpoint_url("http://stub.invalid")
        .http_client(stub);
    let conf = tuned(builder, DEFAULT_DYNAMODB_ATTEMPT_TIMEOUT).build();
    let tables = TableNames { quota: TABLE.into(), events: "events-bench".into() };
    (DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), tables), sent)
}
