//! The error every shared operation returns. Each surface (HTTP, direct invoke)
//! maps it to its own answer in exactly one place.

use serde::Serialize;
use thiserror::Error;

/// One rejected input field: `field` is the JSON name the caller sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// All the problems found in one input, so the caller can fix them in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs a parse step and keeps its error, so validation can go on.
    pub fn check<T, E: Into<FieldError>>(&mut self, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.0.push(e.into());
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), Error> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::Validation(self)) }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

/// Which kind of stored thing an error is about; it becomes part of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Tier,
    Assignment,
    Override,
    Price,
    Group,
    Member,
    Route,
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Entity::Tier => "tier",
            Entity::Assignment => "assignment",
            Entity::Override => "override",
            Entity::Price => "price",
            Entity::Group => "group",
            Entity::Member => "member",
            Entity::Route => "route",
        })
    }
}

/// The crate's one error type: every layer returns it, and `http::problem`
/// maps it to a problem+json answer in one place (validation 400 with its
/// fields, 401/403/404/409/412, `Unavailable` 503 with Retry-After, the rest
/// a generic 500 whose cause is only logged).
#[derive(Debug, Error)]
pub enum Error {
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    #[error("{entity} {id} not found")]
    NotFound { entity: Entity, id: String },
    #[error("{0}")]
    Conflict(String),
    /// A request id already recorded with other figures.
    #[error("idempotency conflict: {0}")]
    IdempotencyConflict(String),
    /// A new price moves a rate more than tenfold from the model's previous
    /// price, unconfirmed (the per-token-for-per-million mistake).
    #[error("{0}")]
    PriceJump(String),
    /// A model with no price and no fallback price: nothing may be spent on it.
    #[error("model {0} has no price and there is no fallback price (*); an admin must price it first")]
    UnpricedModel(String),
    #[error("{entity} {id} was changed by someone else (expected version {expected})")]
    PreconditionFailed { entity: Entity, id: String, expected: u64 },
    #[error("invalid pagination token")]
    InvalidCursor,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The store answered with an error that is not passing; details stay in logs.
    #[error("store failed: {0}")]
    Store(String),
    /// The store could not be reached in time, or throttled: try again soon.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl Error {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(FieldError::new(field, message).into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
