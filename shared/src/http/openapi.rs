//! The document conventions every operation follows, beside the HTTP code
//! that implements them: paging and If-Match parameters, problem+json
//! answers, the bearer scheme, and the rules JSON Schema can state about
//! bodies (free texts, limits). `tools/dev` applies them to the generated
//! document.

use utoipa::PartialSchema;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Components, Ref, RefOr};

/// The paging parameters of every list.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Items per page (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The `nextToken` of the previous page, as it was answered.
    #[param(rename = "nextToken", max_length = 2048)]
    next_token: Option<String>,
}

/// `If-Match` of a conditional write: the `ETag` a read answered.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IfMatch {
    /// `"3"`: the write applies only to that version (else 412). Any other
    /// entity tag names no version this API issued, and a weak one (`W/"3"`)
    /// never matches (If-Match compares strongly): 412. `*`: any version.
    /// (A comma separates tags, so the API reads no tag containing one.)
    #[param(rename = "If-Match", pattern = r#"^(\*|(W/)?"[\x21\x23-\x2B\x2D-\x7E]*")$"#, required = false)]
    if_match: String,
}

/// The conventions every route follows, added to each operation of a
/// generated document so that no handler repeats them: problem+json for
/// bad input, oversized or mistyped bodies, internal faults and an
/// unavailable store; the bearer scheme (401, 403 for admins) on the admin
/// routes and `/api/quota/me`.
pub struct Conventions;

impl utoipa::Modify for Conventions {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Components::new);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components.schemas.insert("Problem".into(), crate::http::Problem::schema());
        components.schemas.insert("FieldError".into(), crate::error::FieldError::schema());
        text_rules(components);
        limit_rules(components);
        for (path, item) in api.paths.paths.iter_mut() {
            let admin = path.starts_with("/api/admin/");
            let bearer = admin || path == "/api/quota/me";
            for op in
                [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete, &mut item.put].into_iter().flatten()
            {
                let has_body = op.request_body.is_some();
                let mut add = |status: &str, why: &str| {
                    op.responses.responses.entry(status.to_string()).or_insert_with(|| problem(why));
                };
                add("400", "Invalid input: `errors` names each field.");
                if bearer {
                    add("401", "No token, or not a valid one.");
                }
                if admin {
                    add("403", "A valid token without the admin role.");
                }
                if has_body {
                    add("413", "The body is over 64 KiB.");
                    add("415", "The body is not application/json.");
                }
                add("500", "An internal fault (details are logged, never answered).");
                add("503", "The store is unavailable or too slow; retry after `Retry-After`.");
                if bearer {
                    op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
                }
            }
        }
    }
}

/// Free texts an admin writes (names, descriptions, reasons): without the
/// characters `check_text` refuses, and names and reasons not blank once
/// trimmed, as the handlers hold them.
pub fn text_rules(components: &mut Components) {
    use crate::model::{TEXT_FORBIDDEN, TEXT_SPACE};
    let any = format!("^[^{TEXT_FORBIDDEN}]*$");
    let not_blank = format!("^[^{TEXT_FORBIDDEN}]*[^{TEXT_FORBIDDEN}{TEXT_SPACE}][^{TEXT_FORBIDDEN}]*$");
    let texts = [
        ("NewTier", "tierName", &not_blank),
        ("NewTier", "description", &any),
        ("TierPatch", "tierName", &not_blank),
        ("TierPatch", "description", &any),
        ("NewOverride", "reason", &not_blank),
        ("OverridePatch", "reason", &not_blank),
        ("NewPrice", "note", &any),
        ("NewPrice", "source", &any),
    ];
    for (schema, field, pattern) in texts {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) else { continue };
        if let Some(RefOr::T(Schema::Object(property))) = object.properties.get_mut(field) {
            property.pattern = Some(pattern.clone());
        }
    }
}

/// The limits a tier or a custom override may set, and whether each is money.
fn limit_fields() -> [(&'static str, bool); 6] {
    crate::model::Limits::FIELDS.map(|(name, _, metric)| (name, metric == crate::model::Metric::Cost))
}

/// The cross-field rules of creating a tier or an override that JSON Schema
/// can state, added to the derived body schemas (the handlers check the same,
/// `Tier::validate` and `Override::validate`): a tier is unlimited and sets
/// no limit, or sets at least one; a strict tier or override names its
/// default reservation; a custom override sets at least one limit, an
/// unlimited one none. Client generators and schemathesis then make bodies the API takes.
pub fn limit_rules(components: &mut Components) {
    use serde_json::{Map, Value, json};
    let limit = |money: bool| match money {
        true => json!({"$ref": "#/components/schemas/Money"}),
        false => json!({"type": "integer", "minimum": 1, "maximum": crate::model::MAX_COUNT_LIMIT}),
    };
    // A shape with no limit set (each absent or null), and `key` as `value`.
    let no_limit = |key: &str, value: Value| {
        let mut properties: Map<String, Value> =
            limit_fields().iter().map(|(f, _)| (f.to_string(), json!({"type": "null"}))).collect();
        properties.insert(key.into(), value);
        json!({"type": "object", "required": [key], "properties": properties})
    };
    // A shape with `field` set, and `key` as `value`.
    let one_limit = |(field, money): (&str, bool), key: &str, value: Value| json!({"type": "object", "required": [field], "properties": {field: limit(money), key: value}});
    let mut tier_limits = vec![no_limit("unlimited", json!({"type": "boolean", "enum": [true]}))];
    tier_limits.extend(
        limit_fields()
            .into_iter()
            .map(|l| one_limit(l, "unlimited", json!({"type": ["boolean", "null"], "enum": [false, null]}))),
    );
    // Strict names its default reservation (a tier's, or a strict override's own).
    let strict_reserves = json!({"anyOf": [
        {"type": "object", "properties": {"enforcement": {"type": ["string", "null"], "enum": ["standard", null]}}},
        {"type": "object", "required": ["enforcement", "defaultReservation"], "properties": {
            "enforcement": {"type": "string", "enum": ["strict"]}, "defaultReservation": limit(true)}},
    ]});
    let tier = json!({"allOf": [{"anyOf": tier_limits}, strict_reserves.clone()]});
    let mut override_limits = vec![no_limit("overrideType", json!({"type": "string", "enum": ["unlimited"]}))];
    override_limits.extend(
        limit_fields()
            .into_iter()
            .map(|l| one_limit(l, "overrideType", json!({"type": "string", "enum": ["custom_limit"]}))),
    );
    let over = json!({"allOf": [{"anyOf": override_limits}, strict_reserves]});
    for (name, rules) in [("NewTier", tier), ("NewOverride", over)] {
        let Some(derived) = components.schemas.remove(name) else { continue };
        let rules: RefOr<Schema> = serde_json::from_value(rules).expect("the rules are a schema");
        let both = utoipa::openapi::schema::AllOfBuilder::new().item(derived).item(rules);
        components.schemas.insert(name.into(), both.into());
    }
}

/// A problem+json answer.
pub fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
        )
        .into()
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    #[test]
    fn the_if_match_pattern_takes_every_entity_tag_the_api_reads() {
        use crate::http::if_match;
        let params = <IfMatch as utoipa::IntoParams>::into_params(|| None);
        let schema = params[0].schema.as_ref().unwrap();
        let RefOr::T(Schema::Object(schema)) = schema else { panic!("an object schema") };
        let pattern = regex::Regex::new(schema.pattern.as_deref().unwrap()).unwrap();
        for tag in [
            "\"3\"",
            "W/\"3\"",
            "\"stale-etag\"",
            "\"\"",
            "*",
            "3",
            "\"3",
            "\"a b\"",
            "\"3\", \"4\"",
            "w/\"3\"",
            "W/3",
            "\"e!,h\"",
        ] {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(axum::http::header::IF_MATCH, tag.parse().unwrap());
            let read = if_match(&headers).is_ok();
            assert_eq!(pattern.is_match(tag), read, "{tag}");
        }
    }
}
