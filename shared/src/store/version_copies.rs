//! Keeping the configuration version's copies equal. Every admin write adds
//! one to every copy in its own transaction, so equal copies stay equal; a
//! copy added by raising `QUOTA_VERSION_COPIES` (or left behind while a
//! lowered count was in force) starts out different, and a check's cache,
//! tagged with the value its user's copy showed, must never meet the same
//! value meaning another moment on another copy. So the tiers function
//! aligns them when it starts (see docs/scale.md for the rollout steps).

use super::dynamo::DynamoStore;
use super::item::{self, Item, key, n};
use super::keys;
use super::schema::PK;
use crate::error::Error;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem, Update};

const VALUE: &str = "configVersion";

/// A copy's value as a condition on it (a missing copy counts as 0).
fn unchanged(value: u64) -> (String, Option<u64>) {
    if value == 0 { ("attribute_not_exists(#v)".into(), None) } else { ("#v = :old".into(), Some(value)) }
}

impl DynamoStore {
    /// Sets every copy an admin write bumps to copy 0's value, in one
    /// transaction that holds only while copy 0 and the copies set still show
    /// what was read (an admin write in between: read again, up to three
    /// times). Returns how many copies were set.
    pub async fn align_version_copies(&self) -> Result<usize, Error> {
        let copies = self.fanout.version_writes();
        for _ in 0..3 {
            let wanted: Vec<Item> = (0..copies).map(|c| key(keys::version_pk(c), keys::VERSION_SK)).collect();
            let found = self.batch_get(wanted).await?;
            let value_of = |copy: u32| -> Result<u64, Error> {
                let pk = keys::version_pk(copy);
                let item = found.iter().find(|i| i.get(PK).and_then(|v| v.as_s().ok()) == Some(&pk));
                Ok(item.map(|i| item::opt_n(i, VALUE)).transpose()?.flatten().unwrap_or(0))
            };
            let target = value_of(0)?;
            let mut off = Vec::new();
            for copy in 1..copies {
                let value = value_of(copy)?;
                if value != target {
                    off.push((copy, value));
                }
            }
            if off.is_empty() {
                return Ok(0);
            }
            let (condition, old) = unchanged(target);
            let mut check = ConditionCheck::builder()
                .table_name(self.quota())
                .set_key(Some(key(keys::version_pk(0), keys::VERSION_SK)))
                .condition_expression(condition)
                .expression_attribute_names("#v", VALUE);
            if let Some(old) = old {
                check = check.expression_attribute_values(":old", n(old));
            }
            let mut items =
                vec![TransactWriteItem::builder().condition_check(check.build().expect("fields set")).build()];
            for (copy, value) in &off {
                let (condition, old) = unchanged(*value);
                let mut update = Update::builder()
                    .table_name(self.quota())
                    .set_key(Some(key(keys::version_pk(*copy), keys::VERSION_SK)))
                    .update_expression("SET #v = :target")
                    .condition_expression(condition)
                    .expression_attribute_names("#v", VALUE)
                    .expression_attribute_values(":target", n(target));
                if let Some(old) = old {
                    update = update.expression_attribute_values(":old", n(old));
                }
                items.push(TransactWriteItem::builder().update(update.build().expect("fields set")).build());
            }
            if self.transact(items).await?.is_ok() {
                return Ok(off.len());
            }
        }
        Err(Error::Unavailable("the configuration version kept moving while its copies were aligned".into()))
    }
}
