//! End to end over real HTTP: the local stack (`make run`'s router) on a
//! random port, driven with reqwest like an admin console and a chat backend.

use quota_shared::auth::Verifier;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use testkit::{bearer, local_audience, local_auth, local_issuer, local_secret};

struct Stack {
    base: String,
    http: Client,
    admin: String,
}

async fn stack() -> Stack {
    let store = testkit::fresh_store().await;
    let config = testkit::config(store.table_names().clone());
    let router = quota_dev::local_router(
        store,
        Arc::new(Verifier::new(local_auth()).unwrap()),
        Some(Arc::new(Verifier::new(testkit::local_user_auth()).unwrap())),
        &config,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Stack { base, http: Client::new(), admin: bearer("admin@uni.edu", &["admin"]) }
}

impl Stack {
    async fn send(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(m) = if_match {
            req = req.header("if-match", m);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        let text = resp.text().await.unwrap();
        (status, headers, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (s, _, b) = self.send(method, path, Some(&self.admin), body, None).await;
        (s, b)
    }

    async fn config_version(&self) -> u64 {
        self.admin(Method::GET, "/api/admin/quota/users/probe", None).await.1["configVersion"].as_u64().unwrap()
    }
}

#[tokio::test]
async fn an_admin_change_reaches_the_next_check_and_the_inspector() {
    let s = stack().await;
    let (st, _) = s
        .admin(
            Method::POST,
            "/api/admin/quota/tiers",
            Some(json!({"tierId": "faculty", "tierName": "Faculty", "monthlyCostLimit": "1"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let check = json!({"userId": "u1", "roles": ["Faculty"]});
    let (_, _, before) = s.send(Method::POST, "/api/quota/check", None, Some(check.clone()), None).await;
    assert_eq!(before["matchedBy"], "none");
    let (st, _) = s
        .admin(
            Method::POST,
            "/api/admin/quota/assignments",
            Some(json!({"tierId": "faculty", "assignmentType": "jwt_role", "jwtRole": "Faculty"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, _, after) = s.send(Method::POST, "/api/quota/check", None, Some(check.clone()), None).await;
    assert_eq!(after["matchedBy"], "jwt_role:Faculty", "visible to the very next check");
    let record = json!({"userId": "u1", "requestId": "r1", "cost": "1.00", "roles": ["Faculty"]});
    let (st, _, rec) = s.send(Method::POST, "/api/quota/usage", None, Some(record), None).await;
    assert_eq!((st, rec["decision"].as_str()), (StatusCode::OK, Some("block")));
    let (st, headers, blocked) = s.send(Method::POST, "/api/quota/check", None, Some(check), None).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    assert_eq!(blocked["allowed"], false);
    let (_, inspect) = s.admin(Method::GET, "/api/admin/quota/users/u1?roles=Faculty", None).await;
    assert_eq!(inspect["tier"]["tierId"], "faculty");
    assert_eq!(inspect["usage"]["monthly"]["cost"], "1.00");
    assert_eq!(inspect["recentEvents"][0]["eventType"], "block");
}

#[tokio::test]
async fn lists_page_through_everything_once() {
    let s = stack().await;
    for i in 0..7 {
        let body = json!({"tierId": format!("t{i}"), "tierName": format!("T{i}"), "dailyCostLimit": 1});
        assert_eq!(s.admin(Method::POST, "/api/admin/quota/tiers", Some(body)).await.0, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &token {
            Some(t) => format!("/api/admin/quota/tiers?limit=3&nextToken={t}"),
            None => "/api/admin/quota/tiers?limit=3".into(),
        };
        let (st, page) = s.admin(Method::GET, &path, None).await;
        assert_eq!(st, StatusCode::OK);
        pages += 1;
        seen.extend(page["items"].as_array().unwrap().iter().map(|t| t["tierId"].as_str().unwrap().to_string()));
        token = page["nextToken"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["t0", "t1", "t2", "t3", "t4", "t5", "t6"]);
    assert_eq!(pages, 3);
    let (st, body) = s.admin(Method::GET, "/api/admin/quota/tiers?nextToken=forged", None).await;
    assert_eq!((st, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("nextToken")));
}

#[tokio::test]
async fn two_admins_cannot_silently_overwrite_each_other() {
    let s = stack().await;
    s.admin(
        Method::POST,
        "/api/admin/quota/tiers",
        Some(json!({"tierId": "b", "tierName": "B", "monthlyCostLimit": 5})),
    )
    .await;
    let (_, headers, _) = s.send(Method::GET, "/api/admin/quota/tiers/b", Some(&s.admin), None, None).await;
    let etag = headers["etag"].to_str().unwrap().to_string();
    let alice = bearer("alice", &["admin"]);
    let bob = bearer("bob", &["admin"]);
    let (st, h, body) = s
        .send(
            Method::PATCH,
            "/api/admin/quota/tiers/b",
            Some(&alice),
            Some(json!({"monthlyCostLimit": 7})),
            Some(&etag),
        )
        .await;
    assert_eq!((st, h["etag"].to_str().unwrap()), (StatusCode::OK, "\"2\""));
    assert_eq!(body["updatedBy"], "alice");
    let (st, _, problem) = s
        .send(Method::PATCH, "/api/admin/quota/tiers/b", Some(&bob), Some(json!({"monthlyCostLimit": 9})), Some(&etag))
        .await;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED);
    assert_eq!(problem["type"], "urn:quota:problem:precondition-failed");
    let (_, now) = s.admin(Method::GET, "/api/admin/quota/tiers/b", None).await;
    assert_eq!(now["monthlyCostLimit"], "7.00");
    let (st, _, _) = s.send(Method::DELETE, "/api/admin/quota/tiers/b", Some(&bob), None, Some(&etag)).await;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED, "a stale delete is refused too");
}

fn token_with(claims: Value, secret: &[u8], alg: jsonwebtoken::Algorithm) -> String {
    let t =
        jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims, &jsonwebtoken::EncodingKey::from_secret(secret))
            .unwrap();
    format!("Bearer {t}")
}

#[tokio::test]
async fn every_bad_token_is_refused_and_writes_nothing() {
    let s = stack().await;
    let secret = local_secret().as_bytes();
    let now = chrono::Utc::now().timestamp();
    let claims = |extra: Value| {
        let mut c =
            json!({"sub": "x", "iss": local_issuer(), "aud": local_audience(), "exp": now + 600, "roles": ["admin"]});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    use base64::Engine;
    let none = format!(
        "Bearer {}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims(json!({})).to_string())
    );
    let cases = [
        ("missing", None, 401),
        ("expired", Some(token_with(claims(json!({"exp": now - 3600})), secret, jsonwebtoken::Algorithm::HS256)), 401),
        ("wrong issuer", Some(token_with(claims(json!({"iss": "evil"})), secret, jsonwebtoken::Algorithm::HS256)), 401),
        (
            "wrong audience",
            Some(token_with(claims(json!({"aud": "other"})), secret, jsonwebtoken::Algorithm::HS256)),
            401,
        ),
        (
            "wrong key",
            Some(token_with(
                claims(json!({})),
                b"some-other-secret-long-enough-000000",
                jsonwebtoken::Algorithm::HS256,
            )),
            401,
        ),
        ("alg none", Some(none), 401),
        ("HS512", Some(token_with(claims(json!({})), secret, jsonwebtoken::Algorithm::HS512)), 401),
        ("not an admin", Some(bearer("staff", &["Staff"])), 403),
    ];
    for (name, auth, status) in cases {
        let body = json!({"tierId": "sneaky", "tierName": "S", "unlimited": true});
        let (st, headers, problem) =
            s.send(Method::POST, "/api/admin/quota/tiers", auth.as_deref(), Some(body), None).await;
        assert_eq!(st.as_u16(), status, "{name}: {problem}");
        assert_eq!(headers["content-type"], "application/problem+json", "{name}");
        assert_eq!(headers.get("www-authenticate").is_some(), status == 401, "{name}");
    }
    assert_eq!(s.admin(Method::GET, "/api/admin/quota/tiers/sneaky", None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(s.config_version().await, 0);
}

#[tokio::test]
async fn rejected_writes_change_nothing() {
    let s = stack().await;
    s.admin(
        Method::POST,
        "/api/admin/quota/tiers",
        Some(json!({"tierId": "basic", "tierName": "Basic", "monthlyCostLimit": 10})),
    )
    .await;
    s.admin(
        Method::POST,
        "/api/admin/quota/assignments",
        Some(json!({"tierId": "basic", "assignmentType": "direct_user", "userId": "u1"})),
    )
    .await;
    let version = s.config_version().await;
    let (_, tiers_before) = s.admin(Method::GET, "/api/admin/quota/tiers", None).await;
    let (_, assignments_before) = s.admin(Method::GET, "/api/admin/quota/assignments", None).await;
    let rejected = [
        (Method::POST, "/api/admin/quota/tiers", json!({"tierId": "x", "tierName": "X", "monthlyCostLimit": 0}), 400),
        (
            Method::POST,
            "/api/admin/quota/tiers",
            json!({"tierId": "basic", "tierName": "again", "unlimited": true}),
            409,
        ),
        (
            Method::POST,
            "/api/admin/quota/tiers",
            json!({"tierId": "x", "tierName": "x".repeat(70_000), "unlimited": true}),
            413,
        ),
        (Method::PATCH, "/api/admin/quota/tiers/basic", json!({"softLimitPercentage": 150}), 400),
        (Method::PATCH, "/api/admin/quota/tiers/basic", json!({"unlimited": true}), 400),
        (
            Method::POST,
            "/api/admin/quota/assignments",
            json!({"tierId": "ghost", "assignmentType": "default_tier"}),
            400,
        ),
        (
            Method::POST,
            "/api/admin/quota/assignments",
            json!({"tierId": "basic", "assignmentType": "direct_user", "userId": "u1"}),
            409,
        ),
        (Method::POST, "/api/admin/quota/assignments", json!({"tierId": "basic", "assignmentType": "jwt_role"}), 400),
        (Method::DELETE, "/api/admin/quota/tiers/basic", Value::Null, 409),
        (Method::DELETE, "/api/admin/quota/tiers/bad%23id", Value::Null, 400),
    ];
    for (method, path, body, status) in rejected {
        let body = (!body.is_null()).then_some(body);
        let (st, _, problem) = s.send(method.clone(), path, Some(&s.admin), body, None).await;
        assert_eq!(st.as_u16(), status, "{method} {path}: {problem}");
    }
    assert_eq!(s.config_version().await, version, "no admin write happened");
    assert_eq!(s.admin(Method::GET, "/api/admin/quota/tiers", None).await.1, tiers_before);
    assert_eq!(s.admin(Method::GET, "/api/admin/quota/assignments", None).await.1, assignments_before);
    let (st, _, problem) = s.send(Method::GET, "/api/admin/nothing-here", Some(&s.admin), None, None).await;
    assert_eq!((st, problem["status"].as_u64()), (StatusCode::NOT_FOUND, Some(404)));
}

/// The issue's "give Dana 50 USD this month" and "lift the limit for the
/// on-call bot", end to end: the admin grants, the check applies, the
/// inspector explains, PATCH and DELETE reach the very next check.
#[tokio::test]
async fn an_override_granted_over_http_decides_the_next_check_and_the_inspector_shows_it() {
    let s = stack().await;
    let tier = json!({"tierId": "basic", "tierName": "Basic", "monthlyCostLimit": "1"});
    assert_eq!(s.admin(Method::POST, "/api/admin/quota/tiers", Some(tier)).await.0, StatusCode::CREATED);
    let default = json!({"tierId": "basic", "assignmentType": "default_tier"});
    assert_eq!(s.admin(Method::POST, "/api/admin/quota/assignments", Some(default)).await.0, StatusCode::CREATED);
    let spend = json!({"userId": "dana", "requestId": "r1", "cost": "5"});
    s.send(Method::POST, "/api/quota/usage", None, Some(spend), None).await;
    let check = || s.send(Method::POST, "/api/quota/check", None, Some(json!({"userId": "dana"})), None);
    assert_eq!(check().await.0, StatusCode::TOO_MANY_REQUESTS, "5 of basic's 1");

    let until = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let grant = json!({"userId": "dana", "overrideType": "custom_limit", "monthlyCostLimit": "50",
        "validUntil": until, "reason": "conference demo"});
    let (st, headers, created) =
        s.send(Method::POST, "/api/admin/quota/overrides", Some(&s.admin), Some(grant), None).await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "active");
    let id = created["overrideId"].as_str().unwrap().to_string();
    assert_eq!(headers["location"], format!("/api/admin/quota/overrides/{id}").as_str());

    let (st, _, allowed) = check().await;
    assert_eq!(st, StatusCode::OK, "{allowed}");
    assert_eq!((allowed["matchedBy"].as_str(), allowed["tier"]["tierId"].as_str()), (Some("override"), Some("basic")));
    assert_eq!(allowed["override"]["overrideId"], id.as_str());
    assert_eq!(allowed["windows"][1]["limit"], "50.00");

    let (_, inspection) = s.admin(Method::GET, "/api/admin/quota/users/dana", None).await;
    assert_eq!(inspection["matchedBy"], "override");
    assert_eq!(inspection["overrides"][0]["decides"], true);
    assert_eq!(inspection["overrides"][0]["status"], "active");
    assert_eq!(inspection["candidates"][0]["overrideId"], id.as_str());
    assert_eq!(inspection["candidates"][0]["outcome"], "selected");
    assert_eq!(inspection["candidates"][1]["outcome"], "outranked", "the default assignment, beaten");

    let (st, _, listed) =
        s.send(Method::GET, "/api/admin/quota/overrides?userId=dana&status=active", Some(&s.admin), None, None).await;
    assert_eq!((st, listed["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)));

    let path = format!("/api/admin/quota/overrides/{id}");
    let (st, _, disabled) =
        s.send(Method::PATCH, &path, Some(&s.admin), Some(json!({"enabled": false})), Some("\"1\"")).await;
    assert_eq!((st, disabled["status"].as_str()), (StatusCode::OK, Some("disabled")));
    assert_eq!(check().await.0, StatusCode::TOO_MANY_REQUESTS, "disabled: the tier decides again");
    s.send(Method::PATCH, &path, Some(&s.admin), Some(json!({"enabled": true})), None).await;
    assert_eq!(check().await.0, StatusCode::OK);
    let (st, _, _) = s.send(Method::DELETE, &path, Some(&s.admin), None, Some("\"3\"")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(check().await.0, StatusCode::TOO_MANY_REQUESTS, "deleted: the very next check");

    let bad = json!({"userId": "dana", "overrideType": "unlimited", "monthlyCostLimit": "5",
        "validUntil": until, "reason": "x"});
    let (st, _, problem) = s.send(Method::POST, "/api/admin/quota/overrides", Some(&s.admin), Some(bad), None).await;
    assert_eq!((st, problem["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("monthlyCostLimit")));
}

/// Every error is problem+json, including the router's own 404 and 405 and
/// the path and query rejections, and none names an internal parameter.
#[tokio::test]
async fn every_error_answer_is_problem_json() {
    let s = stack().await;
    for (method, path, status) in [
        (Method::PUT, "/api/admin/quota/tiers", StatusCode::METHOD_NOT_ALLOWED),
        (Method::GET, "/api/admin/quota/tiers/%C0%AF", StatusCode::BAD_REQUEST),
        (Method::GET, "/api/admin/quota/tiers?limit=%ZZ%C0", StatusCode::BAD_REQUEST),
        (Method::GET, "/api/admin/quota/nothing-here", StatusCode::NOT_FOUND),
        (Method::GET, "/api/quota/check", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let resp = s
            .http
            .request(method.clone(), format!("{}{path}", s.base))
            .header("authorization", &s.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), status, "{method} {path}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json", "{method} {path}");
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert!(resp.headers().contains_key("allow"), "{method} {path}: 405 says what is allowed");
        }
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["status"], status.as_u16());
        assert!(!body.to_string().contains("tier_id"), "{body}");
    }
}

#[tokio::test]
async fn a_query_parameter_given_twice_is_refused_not_half_applied() {
    let s = stack().await;
    for (path, field) in [
        ("/api/admin/quota/tiers?limit=1&limit=2", "limit"),
        ("/api/admin/quota/assignments?tierId=basic&tierId=pro", "tierId"),
        ("/api/admin/quota/overrides?userId=alice&status=active&userId=bob", "userId"),
        ("/api/admin/quota/events?type=block&userId=alice&type=warning", "type"),
        ("/api/admin/quota/analytics/top-users?period=2026-11&period=2026-10", "period"),
        ("/api/admin/quota/analytics/daily?from=2026-11-01&to=2026-11-02&to=2026-11-30", "to"),
        ("/api/admin/quota/users/alice?roles=Faculty&roles=admin", "roles"),
    ] {
        let (status, body) = s.admin(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["errors"], json!([{"field": field, "message": "is given more than once"}]), "{path}");
    }
    // Once each, the same filters are fine.
    let (status, body) = s.admin(Method::GET, "/api/admin/quota/events?type=block&userId=alice", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_a_malformed_one_400() {
    let s = stack().await;
    let tier = json!({"tierId": "basic", "tierName": "Basic", "monthlyCostLimit": "1"});
    s.admin(Method::POST, "/api/admin/quota/tiers", Some(tier)).await;
    let patch = Some(json!({"tierName": "B"}));
    let path = "/api/admin/quota/tiers/basic";
    let (st, _, _) = s.send(Method::PATCH, path, Some(&s.admin), patch.clone(), Some("\"stale-etag\"")).await;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED);
    let (st, _, _) = s.send(Method::PATCH, path, Some(&s.admin), patch.clone(), Some("stale")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _, _) = s.send(Method::DELETE, path, Some(&s.admin), None, Some("\"stale-etag\"")).await;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED);
}

/// The HTTP edges a hostile client probes: the Bearer scheme in any case, a
/// weak ETag (If-Match compares strongly), two Authorization headers, a body
/// in an encoding the server would not decode; nothing is written by the
/// refused ones.
#[tokio::test]
async fn http_edges_answer_as_the_rfcs_say() {
    let s = stack().await;
    let tiers = "/api/admin/quota/tiers";
    let upper = s.admin.replacen("Bearer", "BEARER", 1);
    let (st, _, _) = s.send(Method::GET, tiers, Some(&upper), None, None).await;
    assert_eq!(st, StatusCode::OK, "the scheme is case-insensitive");
    s.admin(Method::POST, tiers, Some(json!({"tierId": "basic", "tierName": "Basic", "monthlyCostLimit": "1"}))).await;
    let (st, _, _) = s
        .send(
            Method::PATCH,
            "/api/admin/quota/tiers/basic",
            Some(&s.admin),
            Some(json!({"tierName": "B"})),
            Some("W/\"1\""),
        )
        .await;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED, "a weak tag never matches");
    let twice = s
        .http
        .get(format!("{}{tiers}", s.base))
        .header("authorization", &s.admin)
        .header("authorization", bearer("other@uni.edu", &["admin"]))
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
    let problem: Value = twice.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "Authorization");
    let gzip = s
        .http
        .post(format!("{}{tiers}", s.base))
        .header("authorization", &s.admin)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(r#"{"tierId": "zipped", "tierName": "Z", "unlimited": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(gzip.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (st, _) = s.admin(Method::GET, "/api/admin/quota/tiers/zipped", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing written");
}

/// A change that is invalid in itself is refused as such (400) even with a
/// stale If-Match: preconditions only decide a request that would succeed
/// (RFC 9110 13.2.1), and nothing is written either way.
#[tokio::test]
async fn an_invalid_change_is_400_whatever_its_if_match() {
    let s = stack().await;
    let tier = json!({"tierId": "basic", "tierName": "Basic", "monthlyCostLimit": "1"});
    s.admin(Method::POST, "/api/admin/quota/tiers", Some(tier)).await;
    let assignment = json!({"assignmentType": "jwt_role", "jwtRole": "Staff", "tierId": "basic"});
    let (st, a) = s.admin(Method::POST, "/api/admin/quota/assignments", Some(assignment)).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let until = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let over = json!({"userId": "u1", "overrideType": "unlimited", "validUntil": until, "reason": "r"});
    let (st, o) = s.admin(Method::POST, "/api/admin/quota/overrides", Some(over)).await;
    assert_eq!(st, StatusCode::CREATED, "{o}");
    let cases = [
        ("/api/admin/quota/tiers/basic".to_string(), json!({"tierName": "   "}), "tierName"),
        (
            format!("/api/admin/quota/assignments/{}", a["assignmentId"].as_str().unwrap()),
            json!({"priority": 5_000_000}),
            "priority",
        ),
        (format!("/api/admin/quota/overrides/{}", o["overrideId"].as_str().unwrap()), json!({"reason": " "}), "reason"),
    ];
    for (path, patch, field) in cases {
        let (st, _, body) = s.send(Method::PATCH, &path, Some(&s.admin), Some(patch), Some("\"99\"")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
        let (_, now) = s.admin(Method::GET, &path, None).await;
        assert_eq!(now["version"], 1, "{path}: nothing written");
    }
}

/// A client that sends part of its headers, or of its body, and then
/// nothing, is cut off by the local server instead of holding a connection.
#[tokio::test]
async fn slow_clients_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let store = testkit::fresh_store().await;
    let config = testkit::config(store.table_names().clone());
    let router = quota_dev::local_router(
        store,
        Arc::new(Verifier::new(local_auth()).unwrap()),
        Some(Arc::new(Verifier::new(testkit::local_user_auth()).unwrap())),
        &config,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let timeouts = quota_dev::ClientTimeouts {
        headers: std::time::Duration::from_millis(300),
        request: std::time::Duration::from_millis(500),
    };
    tokio::spawn(quota_dev::serve(listener, router, timeouts));

    let answer = |partial: &'static [u8]| async move {
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        socket.write_all(partial).await.unwrap();
        let mut out = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), socket.read_to_end(&mut out)).await;
        (read.is_ok(), String::from_utf8_lossy(&out).to_string())
    };
    let (closed, _) = answer(b"POST /api/quota/check HTTP/1.1\r\nHost: x\r\n").await;
    assert!(closed, "partial headers: the server closes the connection");
    let (closed, text) = answer(
        b"POST /api/quota/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"user",
    )
    .await;
    assert!(closed, "partial body: answered and closed");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    // What hyper would refuse with a bare status line is problem+json too.
    let huge: &'static [u8] = Box::leak(
        format!("GET /api/admin/quota/tiers HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000))
            .into_bytes()
            .into_boxed_slice(),
    );
    let (_, text) = answer(huge).await;
    assert!(text.starts_with("HTTP/1.1 431"), "{}", &text[..text.len().min(200)]);
    assert!(text.contains("application/problem+json") && text.contains("\"status\":431"), "{text}");
    let (_, text) = answer(b"GARBAGE\r\n\r\n").await;
    assert!(text.starts_with("HTTP/1.1 400") && text.contains("application/problem+json"), "{text}");
    let many: &'static [u8] = Box::leak(
        format!("GET / HTTP/1.1\r\n{}\r\n", (0..120).map(|i| format!("X-H{i}: v\r\n")).collect::<String>())
            .into_bytes()
            .into_boxed_slice(),
    );
    let (_, text) = answer(many).await;
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
}

/// "Who changed the Faculty tier?": every successful admin write leaves one
/// admin_change event, written with the change; a refused write leaves none.
#[tokio::test]
async fn every_admin_write_leaves_one_audit_event_and_a_refused_one_none() {
    let s = stack().await;
    let s = &s;
    let changes = |query: &'static str| async move {
        let path = format!("/api/admin/quota/events?{query}");
        s.admin(Method::GET, &path, None).await.1["items"].as_array().cloned().unwrap_or_default()
    };
    let tier = json!({"tierId": "faculty", "tierName": "Faculty", "monthlyCostLimit": "100"});
    assert_eq!(s.admin(Method::POST, "/api/admin/quota/tiers", Some(tier)).await.0, StatusCode::CREATED);
    let role = json!({"tierId": "faculty", "assignmentType": "jwt_role", "jwtRole": "Faculty"});
    let (_, assignment) = s.admin(Method::POST, "/api/admin/quota/assignments", Some(role)).await;
    let path = "/api/admin/quota/tiers/faculty";
    let (st, _, _) =
        s.send(Method::PATCH, path, Some(&s.admin), Some(json!({"monthlyCostLimit": "120"})), Some("\"1\"")).await;
    assert_eq!(st, StatusCode::OK);
    // Refused: a stale If-Match, and a delete of a tier in use.
    let (st, _, _) = s.send(Method::PATCH, path, Some(&s.admin), Some(json!({"tierName": "F"})), Some("\"1\"")).await;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.admin(Method::DELETE, path, None).await.0, StatusCode::CONFLICT);

    let faculty = changes("tierId=faculty&type=admin_change").await;
    let actions: Vec<&str> = faculty.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["tier.update", "assignment.create", "tier.create"], "newest first, refused writes absent");
    assert_eq!(faculty[0]["actor"], "admin@uni.edu");
    assert_eq!(faculty[0]["changes"]["monthlyCostLimit"], json!({"before": "100.00", "after": "120.00"}));
    assert_eq!(faculty[0]["targetType"], "tier");
    let by_target = changes("targetId=faculty").await;
    assert_eq!(by_target.len(), 2, "the tier's own changes");
    let assignment_id = assignment["assignmentId"].as_str().unwrap();
    let by_actor = changes("actor=admin@uni.edu").await;
    assert_eq!(by_actor.len(), 3);
    assert!(by_actor.iter().any(|e| e["targetId"] == assignment_id));
    assert!(changes("actor=someone-else").await.is_empty());
}

/// The chat UI's own quota: the caller is the token's subject (no user
/// parameter exists), answered as a check would, without side effects.
#[tokio::test]
async fn me_answers_the_callers_own_quota_without_side_effects() {
    let s = stack().await;
    let tier = json!({"tierId": "basic", "tierName": "Basic", "monthlyCostLimit": "1"});
    s.admin(Method::POST, "/api/admin/quota/tiers", Some(tier)).await;
    let faculty = json!({"tierId": "faculty", "tierName": "Faculty", "monthlyCostLimit": "100"});
    s.admin(Method::POST, "/api/admin/quota/tiers", Some(faculty)).await;
    s.admin(
        Method::POST,
        "/api/admin/quota/assignments",
        Some(json!({"tierId": "basic", "assignmentType": "default_tier"})),
    )
    .await;
    let role = json!({"tierId": "faculty", "assignmentType": "jwt_role", "jwtRole": "Faculty"});
    s.admin(Method::POST, "/api/admin/quota/assignments", Some(role)).await;
    s.send(
        Method::POST,
        "/api/quota/usage",
        None,
        Some(json!({"userId": "eve", "requestId": "r1", "cost": "5"})),
        None,
    )
    .await;

    let dana = testkit::user_bearer("dana", &["Faculty"]);
    let (st, _, mine) = s.send(Method::GET, "/api/quota/me", Some(&dana), None, None).await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    assert_eq!(
        (mine["tier"]["tierId"].as_str(), mine["matchedBy"].as_str()),
        (Some("faculty"), Some("jwt_role:Faculty"))
    );
    assert_eq!(mine["windows"][1]["remaining"], "100.00");
    // eve is over her limit: /me says so, and stores no block event.
    let eve = testkit::user_bearer("eve", &[]);
    let (st, _, hers) = s.send(Method::GET, "/api/quota/me", Some(&eve), None, None).await;
    assert_eq!((st, hers["decision"].as_str()), (StatusCode::OK, Some("block")), "{hers}");
    let (_, events) = s.admin(Method::GET, "/api/admin/quota/events?userId=eve&type=block", None).await;
    assert_eq!(events["items"], json!([]), "no side effects");
    // Only end-user tokens of this service: none, an admin token (other audience), garbage.
    for bad in [None, Some(s.admin.as_str()), Some("Bearer nope")] {
        let (st, _, problem) = s.send(Method::GET, "/api/quota/me", bad, None, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{bad:?}: {problem}");
    }
    let (st, _, problem) = s.send(Method::GET, "/api/quota/me?userId=eve", Some(&dana), None, None).await;
    assert_eq!(
        (st, problem["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("userId")),
        "there is no user parameter"
    );
}

#[tokio::test]
async fn analytics_are_served_by_the_local_stack() {
    let s = stack().await;
    let day_before = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let tier = json!({"tierId": "basic", "tierName": "Basic", "monthlyCostLimit": "100"});
    s.admin(Method::POST, "/api/admin/quota/tiers", Some(tier)).await;
    s.admin(
        Method::POST,
        "/api/admin/quota/assignments",
        Some(json!({"tierId": "basic", "assignmentType": "default_tier"})),
    )
    .await;
    for (user, id, cost) in [("ann", "a1", "0.10"), ("bob", "b1", "0.30"), ("ann", "a2", "0.25")] {
        let body = json!({"userId": user, "requestId": id, "cost": cost});
        let (st, _, _) = s.send(Method::POST, "/api/quota/usage", None, Some(body), None).await;
        assert_eq!(st, StatusCode::OK);
    }
    if chrono::Utc::now().format("%Y-%m-%d").to_string() != day_before {
        return; // The records straddled midnight UTC: the periods below would split them.
    }
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let (st, top) = s.admin(Method::GET, &format!("/api/admin/quota/analytics/top-users?period={month}"), None).await;
    assert_eq!(st, StatusCode::OK, "{top}");
    let users: Vec<(&str, &str)> = top["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["userId"].as_str().unwrap(), u["cost"].as_str().unwrap()))
        .collect();
    assert_eq!(users, [("ann", "0.35"), ("bob", "0.30")]);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let (_, daily) =
        s.admin(Method::GET, &format!("/api/admin/quota/analytics/daily?from={today}&to={today}"), None).await;
    assert_eq!(
        (daily["items"][0]["cost"].as_str(), daily["items"][0]["activeUsers"].as_u64()),
        (Some("0.65"), Some(2))
    );
}

#[tokio::test]
async fn the_local_stack_serves_its_openapi_document_naming_every_route_it_answers() {
    let s = stack().await;
    let (status, headers, doc) = s.send(Method::GET, "/openapi.json", None, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            // A documented operation exists: without a token, an admin route
            // says 401, a check route 400/415 for a missing body; never 404/405.
            let concrete = path.replace("{tierId}", "t").replace("{assignmentId}", "a").replace("{overrideId}", "o");
            let concrete = concrete.replace("{userId}", "u").replace("{priceId}", "p").replace("{groupId}", "g");
            let (status, _, _) = s.send(method.to_uppercase().parse().unwrap(), &concrete, None, None, None).await;
            assert!(![404, 405].contains(&status.as_u16()), "{method} {path}: {status}");
        }
    }
    assert_eq!(paths.len(), 24, "every route of every function (the direct invoke is no HTTP route)");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

#[tokio::test]
async fn the_local_stack_serves_the_console_files_and_nothing_else_of_its_directory() {
    let s = stack().await;
    let no_redirects = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |path: &str| no_redirects.get(format!("{}{path}", s.base)).send();
    // Relative module paths need the trailing slash.
    let bare = get("/console").await.unwrap();
    assert_eq!(bare.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.headers()["location"], "/console/");
    let page = get("/console/").await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains(r#"<script type="importmap">"#));
    for (path, kind) in [
        ("/console/app.js", "text/javascript"),
        ("/console/pages/tiers.js", "text/javascript"),
        ("/console/lib/api.js", "text/javascript"),
        ("/console/style.css", "text/css"),
        ("/console/config.json", "application/json"),
    ] {
        let answer = get(path).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
        assert!(answer.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
    }
    // The local config: the API on the same origin, the local sign-in.
    let config: Value = get("/console/config.json").await.unwrap().json().await.unwrap();
    assert_eq!(config, json!({"apiUrl": "", "auth": {"mode": "local"}}));
    for path in [
        "/console/package.json",
        "/console/package-lock.json",
        "/console/node_modules/preact/package.json",
        "/console/pages/../../Cargo.toml",
        "/console/pages/%2e%2e/%2e%2e/Cargo.toml",
        "/console/nothing.js",
    ] {
        let answer = get(path).await.unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn a_page_on_another_origin_may_call_the_stack_as_it_may_call_the_deployed_api() {
    let s = stack().await;
    let origin = "http://localhost:3000";
    let preflight = s
        .http
        .request(Method::OPTIONS, format!("{}/api/quota/me", s.base))
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::OK);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    assert!(preflight.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let answer = s.http.get(format!("{}/api/admin/quota/tiers", s.base)).header("origin", origin).send().await.unwrap();
    // CORS is no authorization: the route still wants its token.
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(answer.headers()["access-control-allow-origin"], "*");
    assert!(answer.headers()["access-control-expose-headers"].to_str().unwrap().contains("etag"));
}
