//! Tiers: one item each in the shared configuration partition.

use super::dynamo::{DynamoStore, store_error};
use super::item::{self, Item, key, s, tier_from_item, tier_to_item};
use super::schema::{PK, SK};
use super::{cursor, keys};
use crate::error::{Entity, Error};
use crate::model::{AdminChange, Tier, TierId};
use crate::page::{Page, PageRequest};
use aws_sdk_dynamodb::types::AttributeValue;

impl DynamoStore {
    /// Stores a new tier (and the admin change, in the same transaction); 409
    /// if the id is taken.
    pub async fn create_tier(&self, tier: &Tier, audit: &AdminChange) -> Result<(), Error> {
        self.create_config_item(tier_to_item(tier), Entity::Tier, tier.tier_id.as_str(), audit).await
    }

    pub async fn get_tier(&self, id: &TierId) -> Result<Option<Tier>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(self.quota())
            .set_key(Some(key(keys::CONFIG_PK, keys::tier_sk(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        out.item().map(tier_from_item).transpose()
    }

    /// Tiers in id order, optionally only enabled (or disabled) ones.
    pub async fn list_tiers(&self, page: &PageRequest, enabled: Option<bool>) -> Result<Page<Tier>, Error> {
        let start = cursor::decode_within(
            page.next_token.as_deref(),
            &[PK, SK],
            (PK, keys::CONFIG_PK),
            Some((SK, keys::TIER_PREFIX)),
        )?;
        // A token names a tier id after the prefix, as the ones we issue do.
        let names_a_tier = |k: &Item| {
            k.get(SK)
                .and_then(|v| v.as_s().ok())
                .and_then(|sk| sk.strip_prefix(keys::TIER_PREFIX))
                .is_some_and(|id| crate::model::TierId::parse(id).is_ok())
        };
        if start.as_ref().is_some_and(|k| !names_a_tier(k)) {
            return Err(Error::InvalidCursor);
        }
        let mut q = self
            .client
            .query()
            .table_name(self.quota())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::CONFIG_PK))
            .expression_attribute_values(":prefix", s(keys::TIER_PREFIX))
            .consistent_read(true);
        if let Some(flag) = enabled {
            q = q
                .filter_expression("enabled = :enabled")
                .expression_attribute_values(":enabled", AttributeValue::Bool(flag));
        }
        let (tiers, start) = self.query_filling(q, Some(page.limit as usize), start, tier_from_item).await?;
        Ok(Page { items: tiers, next_token: cursor::encode(start.as_ref()) })
    }

    /// Replaces a tier's mutable fields if it is still at `expected_version`.
    /// Fields are SET one by one so the assignment count kept on the same item
    /// by assignment writes is never overwritten.
    pub async fn update_tier(&self, tier: &Tier, expected_version: u64, audit: &AdminChange) -> Result<(), Error> {
        let id = (Entity::Tier, tier.tier_id.as_str());
        let attrs = item::tier_mutable_attributes(tier);
        self.update_config_item(keys::tier_sk(&tier.tier_id), attrs, expected_version, id, audit).await
    }

    /// Deletes a tier no assignment uses; 409 while one does.
    pub async fn delete_tier(
        &self,
        id: &TierId,
        expected_version: Option<u64>,
        audit: &AdminChange,
    ) -> Result<(), Error> {
        let counter = ("assignmentCount", "is used by {n} assignment(s); delete or move them first");
        let who = (Entity::Tier, id.as_str());
        self.delete_config_item(keys::tier_sk(id), expected_version, Some(counter), who, audit).await
    }
}
