//! Model prices: the canonical item (by id) and its copy in the shared
//! configuration, written together with the configuration version bumps
//! and the admin change, so the very next check prices with it. Prices are
//! never updated; one whose `effectiveFrom` has not come yet may be deleted.

use super::dynamo::{ALL_OLD, DynamoStore, store_error};
use super::events_write::audit_put;
use super::item::{self, key, price_copy, price_from_item, price_to_item};
use super::keys;
use crate::error::{Entity, Error};
use crate::model::price::Price;
use crate::model::{AdminChange, PriceId};
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::{DateTime, Utc};

fn not_found(id: &PriceId) -> Error {
    Error::NotFound { entity: Entity::Price, id: id.to_string() }
}

impl DynamoStore {
    /// Stores a new price (and its configuration copy and the admin change).
    pub async fn create_price(&self, price: &Price, audit: &AdminChange) -> Result<(), Error> {
        let put = |item| {
            let put = Put::builder().table_name(self.quota()).set_item(Some(item));
            let put = put.condition_expression("attribute_not_exists(pk)").build().expect("required fields set");
            TransactWriteItem::builder().put(put).build()
        };
        let mut items = vec![put(price_to_item(price)), put(price_copy(price))];
        items.extend(self.version_bumps());
        items.push(audit_put(self.events(), audit));
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
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

    /// Deletes a price that has not taken effect by `now` (409 once it has:
    /// usage was priced with it, and history keeps it).
    pub async fn delete_price(&self, id: &PriceId, now: DateTime<Utc>, audit: &AdminChange) -> Result<(), Error> {
        let delete = |pk: String, sk: String| {
            Delete::builder()
                .table_name(self.quota())
                .set_key(Some(key(pk, sk)))
                .condition_expression("attribute_exists(pk) AND effectiveFrom > :now")
                .expression_attribute_values(":now", item::time(now))
                .return_values_on_condition_check_failure(ALL_OLD)
                .build()
                .expect("required fields set")
        };
        let mut items = vec![
            TransactWriteItem::builder().delete(delete(keys::price_pk(id), keys::PRICE_SK.into())).build(),
            TransactWriteItem::builder().delete(delete(keys::CONFIG_PK.into(), keys::price_config_sk(id))).build(),
        ];
        items.extend(self.version_bumps());
        items.push(audit_put(self.events(), audit));
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
            Err(c) => match c.condition_failed(0).map(|r| r.item.is_some()) {
                Some(true) => {
                    Err(Error::Conflict(format!("price {id} is in effect: only a scheduled price may be deleted")))
                }
                Some(false) => Err(not_found(id)),
                None => Err(Error::Store("delete price cancelled".into())),
            },
        }
    }
}
