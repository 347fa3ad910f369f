//! /api/admin/quota/prices[/{priceId}], /api/admin/quota/prices/quote

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SubsecRound, Utc};
use quota_shared::auth::Admin;
use quota_shared::error::{Entity, Error};
use quota_shared::http::Problem;
use quota_shared::http::openapi::{IfMatch, PageParams};
use quota_shared::http::{
    AdminRoutes, AdminState, ApiError, JsonBody, Params, created, ensure_version, if_match, json_response,
    json_with_etag, only_params,
};
use quota_shared::model::price::{ModelId, Price, PriceModel, Pricing};
use quota_shared::model::price_body::{NewPrice, QuoteRequest};
use quota_shared::model::{AdminChange, PriceId};
use quota_shared::page::{Page, PageRequest};
use quota_shared::rules::pricing::{MAX_CONFIG_PRICES, check_jump, price_in_effect, superseded};
use utoipa_axum::{router::OpenApiRouter, routes};

pub const PRICES_PATH: &str = "/api/admin/quota/prices";

/// The function's routes: `ROUTES.router(state)` for its Lambda, `.routes`
/// for the local stack, `.api()` for the OpenAPI document.
pub const ROUTES: AdminRoutes = AdminRoutes(documented);

fn documented() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(quote)).routes(routes!(read, remove))
}

fn price_id(raw: &str) -> Result<PriceId, Error> {
    PriceId::parse(raw).map_err(|e| Error::Validation(e.into()))
}

fn instant(field: &str, raw: Option<&String>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    match raw {
        None => Ok(now),
        Some(raw) => DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| Error::field(field, "must be an RFC 3339 instant (2026-12-01T00:00:00Z)")),
    }
}

#[utoipa::path(post, path = "/api/admin/quota/prices", tag = "prices", operation_id = "createPrice", request_body = NewPrice,
    responses(
        (status = 201, description = "Created; `ETag` and `Location` name it.", body = Price),
        (status = 409, description = "A rate moved more than tenfold from the model's previous price (`price-jump`: \
            send `confirmJump: true` if it is meant), the model already has a price taking effect at that instant, \
            `effectiveFrom` is in the past while the model has a price in effect (history is never rewritten), \
            or the configuration holds its maximum of prices.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create(
    State(s): State<AdminState>,
    admin: Admin,
    JsonBody(body): JsonBody<NewPrice>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let draft = body.into_draft(now)?;
    let confirmed = draft.confirm_jump;
    let price = draft.into_price(&admin.actor, now);
    // The price this one follows when it takes effect: a tenfold move is a
    // unit mistake until the admin says otherwise.
    let previous = s.store.price_before(&price.model, price.effective_from).await?;
    // History is not rewritten: once a model has a price in effect, a new
    // one takes effect now or later (a model's first price may be backdated).
    // (Compared at the millisecond prices are kept to: "now" is not the past.)
    if price.effective_from < now.trunc_subsecs(3) && s.store.price_before(&price.model, now).await?.is_some() {
        return Err(Error::Conflict(format!(
            "{} has a price in effect: a new price takes effect now or later, never in the past \
             (leave effectiveFrom out for now)",
            price.model
        ))
        .into());
    }
    check_jump(&price.rates, previous.as_ref(), confirmed)?;
    let mut held = s.store.load_shared_config().await?.prices;
    held.push(price.clone());
    let replaced = superseded(&held, now);
    if held.len() - replaced.len() > MAX_CONFIG_PRICES {
        return Err(Error::Conflict(format!(
            "the configuration holds at most {MAX_CONFIG_PRICES} prices in effect or scheduled; \
             delete scheduled prices first"
        ))
        .into());
    }
    let replaced: Vec<&Price> = replaced.into_iter().filter(|p| p.price_id != price.price_id).collect();
    let change = AdminChange::new(&admin.actor, "create", price.change_target(), None, Some(&price), now);
    s.store.create_price(&price, &replaced, &change).await?;
    tracing::info!(actor = %admin.actor, action = "price.create", price_id = %price.price_id, model = %price.model, "admin write");
    Ok(created(&price, price.audit.version, &format!("{PRICES_PATH}/{}", price.price_id)))
}

#[utoipa::path(get, path = "/api/admin/quota/prices", tag = "prices", operation_id = "listPrices",
    params(PageParams,
        ("at" = Option<String>, Query, format = DateTime, description = "The instant whose prices to list (default now)."),
        ("model" = Option<PriceModel>, Query, description = "One model's (or `*`'s) prices, newest first; with `at`, those in effect by then."),
    ),
    responses((status = 200, description = "Without `model`: the price in effect for each model, by model. \
        With `model`: that model's history.", body = Page<Price>)))]
async fn list(State(s): State<AdminState>, _: Admin, Params(q): Params) -> Result<Response, ApiError> {
    only_params(&q, &["limit", "nextToken", "at", "model"])?;
    let page = PageRequest::parse(q.get("limit").map(String::as_str), q.get("nextToken").map(String::as_str))?;
    let page = match q.get("model").map(String::as_str) {
        Some(raw) => {
            let model = match raw {
                "*" => PriceModel::Fallback,
                raw => PriceModel::Model(ModelId::parse("model", raw).map_err(|e| Error::Validation(e.into()))?),
            };
            let until = q.get("at").map(|_| instant("at", q.get("at"), Utc::now())).transpose()?;
            s.store.price_history(&model, until, &page).await?
        }
        None => s.store.prices_at(instant("at", q.get("at"), Utc::now())?, &page).await?,
    };
    Ok(json_response(StatusCode::OK, &page))
}

#[utoipa::path(get, path = "/api/admin/quota/prices/{priceId}", tag = "prices", operation_id = "getPrice",
    params(("priceId" = PriceId, Path)),
    responses(
        (status = 200, description = "The price; `ETag` is its version (prices are never updated).", body = Price),
        (status = 404, description = "No such price.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn read(State(s): State<AdminState>, _: Admin, Path(raw): Path<String>) -> Result<Response, ApiError> {
    let id = price_id(&raw)?;
    let price = s.store.get_price(&id).await?.ok_or(Error::NotFound { entity: Entity::Price, id: raw })?;
    Ok(json_with_etag(StatusCode::OK, &price, price.audit.version))
}

#[utoipa::path(delete, path = "/api/admin/quota/prices/{priceId}", tag = "prices", operation_id = "deletePrice",
    params(("priceId" = PriceId, Path), IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such price.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The price is in effect (only a scheduled price may be deleted).", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version.", body = Problem, content_type = "application/problem+json"),
    ))]
async fn remove(
    State(s): State<AdminState>,
    admin: Admin,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = price_id(&raw)?;
    let expected = if_match(&headers)?;
    let current = s.store.get_price(&id).await?.ok_or(Error::NotFound { entity: Entity::Price, id: raw.clone() })?;
    ensure_version(expected, current.audit.version, Entity::Price, &raw)?;
    let now = Utc::now();
    let change = AdminChange::new(&admin.actor, "delete", current.change_target(), Some(&current), None, now);
    s.store.delete_price(&current, now, &change).await?;
    tracing::info!(actor = %admin.actor, action = "price.delete", price_id = %id, "admin write");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/api/admin/quota/prices/quote", tag = "prices", operation_id = "quotePrice", request_body = QuoteRequest,
    responses(
        (status = 200, description = "What the request costs, part by part, and which price says so. Writes nothing.", body = Pricing),
        (status = 422, description = "The model has no price and there is no fallback (`unpriced-model`).", body = Problem, content_type = "application/problem+json"),
    ))]
async fn quote(
    State(s): State<AdminState>,
    _: Admin,
    JsonBody(body): JsonBody<QuoteRequest>,
) -> Result<Response, ApiError> {
    let (model, tokens) = body.parse()?;
    let now = Utc::now();
    let at = body.at.unwrap_or(now);
    // The configuration holds every price in effect now or later; an
    // earlier instant needs the history.
    let prices = if at >= now { s.store.load_shared_config().await?.prices } else { s.store.all_prices().await? };
    let price = price_in_effect(&prices, &model, at).ok_or_else(|| Error::UnpricedModel(model.to_string()))?;
    Ok(json_response(StatusCode::OK, &price.pricing(&tokens)))
}
