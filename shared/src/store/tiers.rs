//! Tiers: one item each in the shared configuration partition.

use super::dynamo::{ALL_OLD, DynamoStore, store_error};
use super::events_write::audit_put;
use super::item::{self, Item, key, n, s, tier_from_item, tier_to_item};
use super::schema::{PK, SK};
use super::{cursor, keys};
use crate::error::{Entity, Error};
use crate::model::{AdminChange, Tier, TierId};
use crate::page::{Page, PageRequest};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};

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
        let mut condition =
            "attribute_exists(pk) AND (attribute_not_exists(assignmentCount) OR assignmentCount = :zero)".to_string();
        let mut delete = Delete::builder()
            .table_name(self.quota())
            .set_key(Some(key(keys::CONFIG_PK, keys::tier_sk(id))))
            .expression_attribute_values(":zero", n(0))
            .return_values_on_condition_check_failure(ALL_OLD);
        if let Some(v) = expected_version {
            condition.push_str(" AND #version = :expected");
            delete =
                delete.expression_attribute_names("#version", "version").expression_attribute_values(":expected", n(v));
        }
        let delete = delete.condition_expression(condition).build().expect("required fields set");
        let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
        items.extend(self.version_bumps());
        items.push(audit_put(self.events(), audit));
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
            Err(c) => match c.condition_failed(0).map(|r| r.item.as_ref()) {
                Some(Some(old)) => Err(delete_refusal(id, old, expected_version)),
                Some(None) => Err(not_found(id)),
                None => Err(Error::Store("delete tier cancelled".into())),
            },
        }
    }
}

fn not_found(id: &TierId) -> Error {
    Error::NotFound { entity: Entity::Tier, id: id.to_string() }
}

fn delete_refusal(id: &TierId, old: &Item, expected: Option<u64>) -> Error {
    let current: Option<u64> = item::opt_n(old, "version").ok().flatten();
    // The precondition comes first (RFC 9110): a stale If-Match is 412 even for a tier in use.
    if let Some(v) = expected
        && current != Some(v)
    {
        return Error::PreconditionFailed { entity: Entity::Tier, id: id.to_string(), expected: v };
    }
    let in_use: u64 = item::opt_n(old, "assignmentCount").ok().flatten().unwrap_or(0);
    if in_use > 0 {
        return Error::Conflict(format!("tier {id} is used by {in_use} assignment(s); delete or move them first"));
    }
    Error::PreconditionFailed { entity: Entity::Tier, id: id.to_string(), expected: expected.unwrap_or_default() }
}
