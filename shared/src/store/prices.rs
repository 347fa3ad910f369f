//! Model prices, three copies each, written together with the configuration
//! version bumps and the admin change, so the very next check prices with it:
//! - the canonical item (`PRICE#{priceId}`), read by id;
//! - the copy in the shared configuration (`CONFIG`), which checks cache;
//!   copies a later price of the same model replaced are pruned by the next
//!   price write, so the configuration holds what is in effect or scheduled;
//! - the history copy (`PRICES`, `{model}#{effectiveFrom}`), one per model
//!   and instant, which lists, quotes of the past and the jump check read.
//!
//! Prices are never updated; one whose `effectiveFrom` has not come yet may be
//! deleted. `PRICES` is one partition: only admin writes and reads touch it.

use super::cursor;
use super::dynamo::{ALL_OLD, DynamoStore, store_error};
use super::events_write::audit_put;
use super::item::{self, Item, key, price_copy, price_from_item, price_history, price_to_item, s};
use super::keys;
use super::schema::{PK, SK};
use crate::error::{Entity, Error};
use crate::model::price::{Price, PriceModel};
use crate::model::{AdminChange, PriceId};
use crate::page::{Page, PageRequest};
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::{DateTime, SecondsFormat, Utc};

/// Superseded configuration copies one price write removes at most (the
/// rest go with the next write); keeps the transaction well inside 100 items.
pub const MAX_PRUNED_PER_WRITE: usize = 20;
// A price write (its 3 items, the pruned copies, its audit event) beside
// every version copy stays inside one transaction's 100 items.
const PRICE_WRITE_ITEMS: u32 = 3 + MAX_PRUNED_PER_WRITE as u32 + 1;
const _: () = assert!(PRICE_WRITE_ITEMS <= crate::fanout::ADMIN_ITEMS_BESIDES_VERSION);

fn not_found(id: &PriceId) -> Error {
    Error::NotFound { entity: Entity::Price, id: id.to_string() }
}

fn millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl DynamoStore {
    /// Stores a new price (its three copies and the admin change) and drops
    /// the configuration copies of `superseded` prices. 409 when the model
    /// already has a price taking effect at the same instant.
    pub async fn create_price(&self, price: &Price, superseded: &[&Price], audit: &AdminChange) -> Result<(), Error> {
        let put = |item| {
            let put = Put::builder().table_name(self.quota()).set_item(Some(item));
            let put = put.condition_expression("attribute_not_exists(pk)").build().expect("required fields set");
            TransactWriteItem::builder().put(put).build()
        };
        let mut items = vec![put(price_to_item(price)), put(price_copy(price)), put(price_history(price))];
        items.extend(superseded.iter().take(MAX_PRUNED_PER_WRITE).map(|old| {
            let delete = Delete::builder()
                .table_name(self.quota())
                .set_key(Some(key(keys::CONFIG_PK, keys::price_config_sk(&old.price_id))))
                .build()
                .expect("required fields set");
            TransactWriteItem::builder().delete(delete).build()
        }));
        let bumps = self.version_bumps(&items).await?;
        items.extend(bumps);
        items.push(audit_put(self.events(), audit));
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
            Err(c) if c.condition_failed(2).is_some() => Err(Error::Conflict(format!(
                "model {} already has a price taking effect at {}; pick another effectiveFrom",
                price.model,
                millis(price.effective_from)
            ))),
            Err(c) if c.condition_failed(0).is_some() || c.condition_failed(1).is_some() => {
                Err(Error::Conflict(format!("price {} already exists", price.price_id)))
            }
            Err(c) => Err(Error::Store(format!("create price cancelled: {:?}", c.codes()))),
        }
    }

    pub async fn get_price(&self, id: &PriceId) -> Result<Option<Price>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(self.quota())
            .set_key(Some(key(keys::price_pk(id), keys::PRICE_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        out.item().map(price_from_item).transpose()
    }

    /// Deletes `price` if it has not taken effect by `now` (409 once it has:
    /// usage was priced with it, and history keeps it).
    pub async fn delete_price(&self, price: &Price, now: DateTime<Utc>, audit: &AdminChange) -> Result<(), Error> {
        let id = &price.price_id;
        let delete = |pk: String, sk: String| {
            let delete = Delete::builder()
                .table_name(self.quota())
                .set_key(Some(key(pk, sk)))
                .condition_expression("attribute_exists(pk) AND effectiveFrom > :now")
                .expression_attribute_values(":now", item::time(now))
                .return_values_on_condition_check_failure(ALL_OLD)
                .build()
                .expect("required fields set");
            TransactWriteItem::builder().delete(delete).build()
        };
        let mut items = vec![
            delete(keys::price_pk(id), keys::PRICE_SK.into()),
            delete(keys::CONFIG_PK.into(), keys::price_config_sk(id)),
            delete(keys::PRICES_PK.into(), keys::price_history_sk(&price.model, price.effective_from)),
        ];
        let bumps = self.version_bumps(&items).await?;
        items.extend(bumps);
        items.push(audit_put(self.events(), audit));
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
            Err(c) => match (0..3).find_map(|i| c.condition_failed(i)).map(|r| r.item.is_some()) {
                Some(true) => {
                    Err(Error::Conflict(format!("price {id} is in effect: only a scheduled price may be deleted")))
                }
                Some(false) => Err(not_found(id)),
                None => Err(Error::Store(format!("delete price cancelled: {:?}", c.codes()))),
            },
        }
    }

    /// One model's prices, newest first; with `until`, only those in effect
    /// by then (the first is the one in effect at `until`).
    pub async fn price_history(
        &self,
        model: &PriceModel,
        until: Option<DateTime<Utc>>,
        page: &PageRequest,
    ) -> Result<Page<Price>, Error> {
        let prefix = keys::price_history_prefix(model);
        let start = cursor::decode_within(
            page.next_token.as_deref(),
            &[PK, SK],
            (PK, keys::PRICES_PK),
            Some((SK, prefix.as_str())),
        )?;
        // `~` sorts after every character of a timestamp.
        let upper = until.map_or_else(|| format!("{prefix}~"), |t| format!("{prefix}{}", millis(t)));
        let q = self
            .client
            .query()
            .table_name(self.quota())
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(keys::PRICES_PK))
            .expression_attribute_values(":from", s(&prefix))
            .expression_attribute_values(":to", s(upper))
            .scan_index_forward(false)
            .consistent_read(true);
        let (items, start) = self.query_filling(q, Some(page.limit as usize), start, price_from_item).await?;
        Ok(Page { items, next_token: cursor::encode(start.as_ref()) })
    }

    /// The price of `model` in effect at `at` (its own, not through aliases).
    pub async fn price_before(&self, model: &PriceModel, at: DateTime<Utc>) -> Result<Option<Price>, Error> {
        let page = self.price_history(model, Some(at), &PageRequest { limit: 1, next_token: None }).await?;
        Ok(page.items.into_iter().next())
    }

    /// The price in effect at `at` for each priced model, a page of models
    /// at a time in model order. A page reads the history of its models only;
    /// `nextToken` names the last model answered.
    pub async fn prices_at(&self, at: DateTime<Utc>, page: &PageRequest) -> Result<Page<Price>, Error> {
        let after = match page.next_token.as_deref() {
            None => None,
            Some(token) => Some(history_token::decode(token)?),
        };
        let mut answered: Vec<Price> = Vec::new();
        let mut start: Option<Item> = None;
        let mut current: Option<(String, Option<Price>)> = None;
        let want = page.limit as usize;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(self.quota())
                .expression_attribute_values(":pk", s(keys::PRICES_PK))
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            q = match &after {
                Some(model) => q
                    .key_condition_expression("pk = :pk AND sk > :after")
                    .expression_attribute_values(":after", s(keys::price_history_after(model))),
                None => q.key_condition_expression("pk = :pk"),
            };
            let out = q.send().await.map_err(|e| store_error("Query", e))?;
            for it in out.items() {
                let price = price_from_item(it)?;
                let model = price.model.to_string();
                if current.as_ref().is_none_or(|(m, _)| *m != model) {
                    if let Some((_, Some(done))) = current.take() {
                        answered.push(done);
                        if answered.len() == want {
                            let next = answered.last().map(|p| history_token::encode(&p.model.to_string()));
                            return Ok(Page { items: answered, next_token: next });
                        }
                    }
                    current = Some((model, None));
                }
                // History is oldest first within a model: keep the last in effect.
                if price.effective_from <= at
                    && let Some((_, slot)) = current.as_mut()
                {
                    *slot = Some(price);
                }
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                answered.extend(current.and_then(|(_, p)| p));
                return Ok(Page { items: answered, next_token: None });
            }
        }
    }

    /// Every price ever stored (the history partition, in pages of 1 MB):
    /// for quotes of an instant the configuration no longer holds.
    pub async fn all_prices(&self) -> Result<Vec<Price>, Error> {
        let q = self
            .client
            .query()
            .table_name(self.quota())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::PRICES_PK))
            .consistent_read(true);
        Ok(self.query_filling(q, None, None, price_from_item).await?.0)
    }
}

/// The token of [`DynamoStore::prices_at`]: the last model answered.
mod history_token {
    use crate::error::Error;
    use crate::model::price::ModelId;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const TAG: &str = "prices-after:";

    pub fn encode(model: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{TAG}{model}"))
    }

    /// The model a token names; only a model id (or `*`) is accepted, so a
    /// forged token cannot steer the key condition.
    pub fn decode(token: &str) -> Result<String, Error> {
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| Error::InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| Error::InvalidCursor)?;
        let model = text.strip_prefix(TAG).ok_or(Error::InvalidCursor)?;
        if model != "*" && ModelId::parse("nextToken", model).is_err() {
            return Err(Error::InvalidCursor);
        }
        Ok(model.to_string())
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn a_token_names_one_model_and_nothing_else() {
            assert_eq!(super::decode(&super::encode("openai/gpt-4o")).unwrap(), "openai/gpt-4o");
            assert_eq!(super::decode(&super::encode("*")).unwrap(), "*");
            for forged in ["", "x", &super::encode("a#b"), &super::encode("a$"), "cHJpY2VzLWFmdGVyOg"] {
                assert!(super::decode(forged).is_err(), "{forged}");
            }
        }
    }
}
