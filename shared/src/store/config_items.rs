//! What tiers and groups share as items of the shared configuration: a new
//! one put if its id is free, an update over the version read, a delete
//! refused while a counter says it is in use, each with the configuration
//! version bumps and the admin change in the same transaction.

use super::dynamo::{ALL_OLD, DynamoStore};
use super::events_write::audit_put;
use super::item::{self, Item, key, n};
use super::keys;
use crate::error::{Entity, Error};
use crate::model::AdminChange;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

impl DynamoStore {
    /// Puts `item` if its key is free (409 `{entity} {id} already exists`).
    pub(super) async fn create_config_item(
        &self,
        item: Item,
        entity: Entity,
        id: &str,
        audit: &AdminChange,
    ) -> Result<(), Error> {
        let put = Put::builder()
            .table_name(self.quota())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("required fields set");
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        let bumps = self.version_bumps(&items).await?;
        items.extend(bumps);
        items.push(audit_put(self.events(), audit));
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
            Err(c) if c.condition_failed(0).is_some() => Err(Error::Conflict(format!("{entity} {id} already exists"))),
            Err(c) => Err(Error::Store(format!("create {entity} cancelled: {:?}", c.codes()))),
        }
    }

    /// Sets `attrs` on the configuration item `sk` if its version still is
    /// `expected_version` (412 if it moved, 404 if it is gone).
    pub(super) async fn update_config_item(
        &self,
        sk: String,
        attrs: Vec<(&'static str, AttributeValue)>,
        expected_version: u64,
        (entity, id): (Entity, &str),
        audit: &AdminChange,
    ) -> Result<(), Error> {
        let set: Vec<String> = (0..attrs.len()).map(|i| format!("#a{i} = :a{i}")).collect();
        let mut update = Update::builder()
            .table_name(self.quota())
            .set_key(Some(key(keys::CONFIG_PK, sk)))
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression("attribute_exists(pk) AND #version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected_version))
            .return_values_on_condition_check_failure(ALL_OLD);
        for (i, (name, value)) in attrs.into_iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(format!(":a{i}"), value);
        }
        let mut items = vec![TransactWriteItem::builder().update(update.build().expect("required fields set")).build()];
        let bumps = self.version_bumps(&items).await?;
        items.extend(bumps);
        items.push(audit_put(self.events(), audit));
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
            Err(c) => match c.condition_failed(0) {
                Some(r) if r.item.is_some() => {
                    Err(Error::PreconditionFailed { entity, id: id.to_string(), expected: expected_version })
                }
                Some(_) => Err(Error::NotFound { entity, id: id.to_string() }),
                None => Err(Error::Store(format!("update {entity} cancelled: {:?}", c.codes()))),
            },
        }
    }

    /// Deletes the configuration item `sk` if its version still is
    /// `expected_version` (when given) and, when `in_use` names a counter,
    /// that counter is zero. The precondition is answered first (RFC 9110: a
    /// stale If-Match is 412 even for an item in use); then 409, saying
    /// "{entity} {id} " and `in_use`'s phrase with `{n}` the count.
    pub(super) async fn delete_config_item(
        &self,
        sk: String,
        expected_version: Option<u64>,
        in_use: Option<(&'static str, &'static str)>,
        (entity, id): (Entity, &str),
        audit: &AdminChange,
    ) -> Result<(), Error> {
        let mut condition = "attribute_exists(pk)".to_string();
        let mut delete = Delete::builder()
            .table_name(self.quota())
            .set_key(Some(key(keys::CONFIG_PK, sk)))
            .return_values_on_condition_check_failure(ALL_OLD);
        if let Some((counter, _)) = in_use {
            condition.push_str(" AND (attribute_not_exists(#used) OR #used = :zero)");
            delete = delete.expression_attribute_names("#used", counter).expression_attribute_values(":zero", n(0));
        }
        if let Some(v) = expected_version {
            condition.push_str(" AND #version = :expected");
            delete =
                delete.expression_attribute_names("#version", "version").expression_attribute_values(":expected", n(v));
        }
        let delete = delete.condition_expression(condition).build().expect("required fields set");
        let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
        let bumps = self.version_bumps(&items).await?;
        items.extend(bumps);
        items.push(audit_put(self.events(), audit));
        let stale = |expected| Error::PreconditionFailed { entity, id: id.to_string(), expected };
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
            Err(c) => match c.condition_failed(0).map(|r| r.item.as_ref()) {
                Some(Some(old)) => {
                    let current: Option<u64> = item::opt_n(old, "version").ok().flatten();
                    if let Some(v) = expected_version.filter(|v| current != Some(*v)) {
                        return Err(stale(v));
                    }
                    match in_use {
                        Some((counter, phrase)) => {
                            let count: u64 = item::opt_n(old, counter).ok().flatten().unwrap_or(0);
                            if count > 0 {
                                let said = phrase.replace("{n}", &count.to_string());
                                Err(Error::Conflict(format!("{entity} {id} {said}")))
                            } else {
                                Err(stale(expected_version.unwrap_or_default()))
                            }
                        }
                        None => Err(stale(expected_version.unwrap_or_default())),
                    }
                }
                Some(None) => Err(Error::NotFound { entity, id: id.to_string() }),
                None => Err(Error::Store(format!("delete {entity} cancelled: {:?}", c.codes()))),
            },
        }
    }
}
