//! Pagination: a page of results and the opaque token for the next one.

use crate::error::{Error, FieldErrors};
use serde::Serialize;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 100;
/// Tokens longer than this were not made by us.
pub const MAX_TOKEN_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub next_token: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: DEFAULT_PAGE_SIZE, next_token: None }
    }
}

impl PageRequest {
    /// Validates the `limit` and `nextToken` query parameters.
    pub fn parse(limit: Option<&str>, next_token: Option<&str>) -> Result<Self, Error> {
        let mut errors = FieldErrors::default();
        let limit = match limit {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    errors.push("limit", format!("must be a whole number from 1 to {MAX_PAGE_SIZE}"));
                    DEFAULT_PAGE_SIZE
                }
            },
        };
        let next_token = next_token.filter(|t| !t.is_empty()).map(str::to_string);
        if next_token.as_ref().is_some_and(|t| t.len() > MAX_TOKEN_LEN) {
            errors.push("nextToken", "is not a token this service issued");
        }
        errors.into_result()?;
        Ok(Self { limit, next_token })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}
