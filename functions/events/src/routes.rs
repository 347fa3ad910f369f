//! GET /api/admin/quota/events?userId=&tierId=&type=&from=&to=&targetId=&actor=&limit=&nextToken=&format=json|csv

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use quota_shared::auth::Admin;
use quota_shared::error::{Error, FieldErrors};
use quota_shared::http::openapi::PageParams;
use quota_shared::http::{AdminRoutes, AdminState, ApiError, Params, json_response, only_params};
use quota_shared::model::{Event, EventType, GroupId, TierId, UserId};
use quota_shared::page::{Page, PageRequest};
use quota_shared::store::{EventFilter, TimeRange};
use std::collections::HashMap;
use strum::VariantNames;
use utoipa_axum::{router::OpenApiRouter, routes};

pub const EVENTS_PATH: &str = "/api/admin/quota/events";
/// The CSV answer's next page token travels in this header.
pub const NEXT_TOKEN_HEADER: &str = "x-next-token";

/// The function's routes: `ROUTES.router(state)` for its Lambda, `.routes`
/// for the local stack, `.api()` for the OpenAPI document.
pub const ROUTES: AdminRoutes = AdminRoutes(documented);

/// The routes with their OpenAPI operations (`utoipa::path` below).
fn documented() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(crate::analytics::top_users))
        .routes(routes!(crate::analytics::daily))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

fn instant(errors: &mut FieldErrors, field: &str, raw: Option<&String>) -> Option<DateTime<Utc>> {
    let raw = raw?;
    match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            errors.push(field, "must be an RFC 3339 time, like 2026-11-01T00:00:00Z");
            None
        }
    }
}

/// The query's filters, every one checked; all errors are reported at once.
fn filter(q: &HashMap<String, String>) -> Result<(EventFilter, Format), Error> {
    let mut errors = FieldErrors::default();
    let user = q.get("userId").and_then(|raw| errors.check(UserId::parse(raw.as_str())));
    let tier = q.get("tierId").and_then(|raw| errors.check(TierId::parse(raw.as_str())));
    let group = q.get("groupId").and_then(|raw| errors.check(GroupId::parse(raw.as_str())));
    let kind = q.get("type").and_then(|raw| {
        let parsed = EventType::parse(raw);
        if parsed.is_none() {
            errors.push("type", format!("must be one of {}", EventType::VARIANTS.join(", ")));
        }
        parsed
    });
    let from = instant(&mut errors, "from", q.get("from"));
    let to = instant(&mut errors, "to", q.get("to"));
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        errors.push("from", "must be before to (the range is half-open: from <= time < to)");
    }
    let format = match q.get("format").map(String::as_str) {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(_) => {
            errors.push("format", "must be json or csv");
            Format::Json
        }
    };
    let text = |errors: &mut FieldErrors, field: &str| {
        q.get(field).and_then(|raw| {
            let ok = !raw.is_empty() && raw.len() <= 320 && !raw.chars().any(char::is_control);
            if !ok {
                errors.push(field, "must be 1 to 320 characters without control characters");
            }
            ok.then(|| raw.clone())
        })
    };
    let target_id = text(&mut errors, "targetId");
    let actor = text(&mut errors, "actor");
    errors.into_result()?;
    Ok((EventFilter { user, group, tier, kind, range: TimeRange { from, to }, target_id, actor }, format))
}

#[utoipa::path(get, path = "/api/admin/quota/events", tag = "events", operation_id = "searchEvents", params(PageParams, ("userId" = Option<UserId>, Query), ("tierId" = Option<TierId>, Query), ("groupId" = Option<GroupId>, Query, description = "A group's warnings and blocks (whichever member crossed)."), ("type" = Option<EventType>, Query), ("from" = Option<chrono::DateTime<Utc>>, Query, description = "Included (RFC 3339)."), ("to" = Option<chrono::DateTime<Utc>>, Query, description = "Excluded (RFC 3339)."), ("targetId" = Option<String>, Query, description = "Admin changes of this target."), ("actor" = Option<String>, Query, description = "Admin changes by this actor."), ("format" = Option<String>, Query, description = "json (default) or csv.")), responses((status = 200, description = "Events newest first; as CSV with format=csv (the next token in `X-Next-Token`).", content((Page<Event> = "application/json"), (String = "text/csv")))))]
async fn search(State(s): State<AdminState>, _: Admin, Params(q): Params) -> Result<Response, ApiError> {
    only_params(
        &q,
        &["userId", "tierId", "groupId", "type", "from", "to", "targetId", "actor", "limit", "nextToken", "format"],
    )?;
    let page = PageRequest::parse(q.get("limit").map(String::as_str), q.get("nextToken").map(String::as_str))?;
    let (filter, format) = filter(&q)?;
    let found = s.store.search_events(&filter, &page, Utc::now()).await?;
    Ok(match format {
        Format::Json => json_response(StatusCode::OK, &found),
        Format::Csv => csv_response(&found)?,
    })
}

/// The CSV columns, in order; a header line names them. Admin changes fill
/// the last five, quota events the ones before (`limitId`: a model limit's,
/// `groupId`: a group's).
const COLUMNS: [&str; 20] = [
    "eventId",
    "eventType",
    "occurredAt",
    "userId",
    "tierId",
    "overrideId",
    "limitId",
    "groupId",
    "window",
    "metric",
    "threshold",
    "usage",
    "limit",
    "percentage",
    "sessionId",
    "actor",
    "action",
    "targetType",
    "targetId",
    "changes",
];

fn csv_row(event: &Event) -> [String; 20] {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let at = event.occurred_at().to_rfc3339_opts(SecondsFormat::Millis, true);
    match event {
        Event::Quota(e) => [
            e.event_id.to_string(),
            e.event_type.as_str().to_string(),
            at,
            e.user_id.to_string(),
            opt(e.tier_id.as_ref().map(ToString::to_string)),
            opt(e.override_id.as_ref().map(ToString::to_string)),
            opt(e.limit_id.as_ref().map(ToString::to_string)),
            opt(e.group_id.as_ref().map(ToString::to_string)),
            opt(e.window.map(|w| w.as_str().to_string())),
            opt(e.metric.map(|m| m.as_str().to_string())),
            opt(e.threshold.map(|t| t.to_string())),
            e.usage.to_string(),
            opt(e.limit.map(|l| l.to_string())),
            e.percentage.normalize().to_string(),
            opt(e.session_id.as_ref().map(ToString::to_string)),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ],
        Event::Admin(c) => [
            c.event_id.to_string(),
            c.event_type.as_str().to_string(),
            at,
            opt(c.user_id.as_ref().map(ToString::to_string)),
            opt(c.tier_id.as_ref().map(ToString::to_string)),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            c.actor.clone(),
            c.action.clone(),
            c.target_type.as_str().to_string(),
            c.target_id.clone(),
            serde_json::to_string(&c.changes).unwrap_or_default(),
        ],
    }
}

/// A cell a spreadsheet would not run: one that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return is prefixed with `'` (OWASP's advice on
/// CSV injection), whatever its column. Ids may hold `=`, `+` and `@`, and an
/// admin's email comes from their token, so no column is trusted.
fn inert(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell }
}

/// The page as `text/csv` (RFC 4180, header first); the next page's token
/// in the `X-Next-Token` header.
fn csv_response(page: &Page<Event>) -> Result<Response, Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let written = (|| {
        out.write_record(COLUMNS)?;
        for e in &page.items {
            out.write_record(csv_row(e).map(inert))?;
        }
        out.into_inner().map_err(|e| e.into_error().into())
    })();
    let body: Vec<u8> = written.map_err(|e: csv::Error| Error::Store(format!("writing CSV: {e}")))?;
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"quota-events.csv\""));
    if let Some(token) = page.next_token.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
        headers.insert(NEXT_TOKEN_HEADER, token);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quota_shared::model::{AdminChange, Amount, EventId, QuotaEvent};
    use testkit::{at, money, tier};

    fn cells(event: &Event) -> Vec<String> {
        csv_row(event).map(inert).to_vec()
    }

    #[test]
    fn no_cell_starts_a_formula_whatever_the_column() {
        let quota = QuotaEvent {
            event_id: EventId::generate(),
            event_type: EventType::Block,
            user_id: UserId::parse("=2+5").unwrap(),
            tier_id: Some(TierId::parse("@sum").unwrap()),
            override_id: None,
            limit_id: None,
            group_id: None,
            policy_id: None,
            active_decision: None,
            window: None,
            metric: None,
            threshold: None,
            usage: Amount::Money(money("1")),
            limit: None,
            percentage: 0.into(),
            session_id: Some(quota_shared::model::SessionId::parse("+cmd").unwrap()),
            occurred_at: at("2026-11-27T10:00:00Z"),
        };
        let row = cells(&Event::Quota(quota));
        assert_eq!((row[3].as_str(), row[4].as_str(), row[14].as_str()), ("'=2+5", "'@sum", "'+cmd"));
        let t = tier("t", "1", "");
        let actor = r#"=HYPERLINK("http://e.example","x")@a.b"#;
        let change = AdminChange::new(actor, "create", t.change_target(), None, Some(&t), at("2026-11-27T10:00:00Z"));
        let row = cells(&Event::Admin(change));
        assert_eq!(row[15], format!("'{actor}"));
        for (cell, want) in [("-1", "'-1"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("1.5", "1.5")] {
            assert_eq!(inert(cell.into()), want);
        }
        assert!(
            cells(&Event::Admin(AdminChange::new(
                "admin",
                "create",
                t.change_target(),
                None,
                Some(&t),
                at("2026-11-27T10:00:00Z")
            )))
            .iter()
            .all(|c| !c.starts_with(['=', '+', '-', '@', '\t', '\r']))
        );
    }
}
