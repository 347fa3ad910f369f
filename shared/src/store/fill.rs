//! Reading a page that a filter may leave short.

use super::dynamo::{DynamoStore, store_error};
use super::item::Item;
use crate::error::Error;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

impl DynamoStore {
    /// Runs `query` from `start` until `wanted` items are read (all of them
    /// when `None`) or the results end, carrying `LastEvaluatedKey`. A
    /// filter applies after `Limit`, so one Query may come back short; each
    /// asks for exactly what is missing, so the last key read is the page's
    /// end. Returns the items and the key to go on from (`None`: the end).
    pub(super) async fn query_filling<T>(
        &self,
        query: QueryFluentBuilder,
        wanted: Option<usize>,
        mut start: Option<Item>,
        parse: impl Fn(&Item) -> Result<T, Error>,
    ) -> Result<(Vec<T>, Option<Item>), Error> {
        let mut items = Vec::new();
        loop {
            let mut q = query.clone().set_exclusive_start_key(start.take());
            if let Some(wanted) = wanted {
                q = q.limit((wanted - items.len()) as i32);
            }
            let out = q.send().await.map_err(|e| store_error("Query", e))?;
            for it in out.items() {
                items.push(parse(it)?);
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() || wanted.is_some_and(|w| items.len() >= w) {
                return Ok((items, start));
            }
        }
    }
}
