//! The change log the configuration version's copies carry: every admin
//! write bumps every copy and sets one of [`LOG_SLOTS`] slots (chosen at
//! random) to `{changeId} {sortKey}...`, the shared configuration items its
//! transaction wrote. A container whose cached configuration is one or two
//! writes behind reads only those items again (see `ConfigCache::changed_since`);
//! without the log, every container would Query the whole `CONFIG`
//! partition after each admin write, which at internet scale is the
//! hottest key of all (containers x configuration size, docs/scale.md).
//! Bounded: 8 slots of at most 3 keys keep each copy under 1 KB, so a
//! check still reads it for 1 unit and a strict hold's condition on it
//! costs 2.

use super::dynamo::DynamoStore;
use super::item::{self, Item, assignment_from_item, key};
use super::keys;
use super::schema::{PK, SK};
use crate::error::Error;
use crate::model::{AssignmentId, GroupId, PriceId, TierId};
use crate::quota::port::{ConfigChange, ConfigKey};
use crate::rules::config_update::{ConfigItem, ConfigItemId, ConfigUpdate};
use aws_sdk_dynamodb::types::TransactWriteItem;

pub(crate) const LOG_SLOTS: u32 = 8;
/// More items than this in one write: the entry says `*` (read it all).
const MAX_KEYS_PER_ENTRY: usize = 3;

/// The attribute of log slot `n` on a version copy.
pub(crate) fn slot_attr(n: u32) -> String {
    format!("chg{n}")
}

/// The shared configuration items a transaction writes (their sort keys).
fn config_keys(items: &[TransactWriteItem]) -> Vec<String> {
    let pk_of = |key: Option<&Item>| -> Option<String> {
        let key = key?;
        (key.get(PK)?.as_s().ok()? == keys::CONFIG_PK).then(|| key.get(SK)?.as_s().ok().cloned())?
    };
    items
        .iter()
        .filter_map(|i| {
            pk_of(i.put().map(|p| p.item()))
                .or_else(|| pk_of(i.update().map(|u| u.key())))
                .or_else(|| pk_of(i.delete().map(|d| d.key())))
        })
        .collect()
}

/// A new log entry for a transaction of `items`, and the slot it goes to.
pub(crate) fn entry_for(items: &[TransactWriteItem]) -> (u32, String) {
    let random = uuid::Uuid::new_v4().as_u128();
    let id = format!("{:08x}", random as u32);
    let slot = ((random >> 64) as u32) % LOG_SLOTS;
    let mut keys = config_keys(items);
    keys.sort();
    keys.dedup();
    let listed = keys.len() <= MAX_KEYS_PER_ENTRY && keys.iter().all(|k| !k.contains(' '));
    let entry = if listed { std::iter::once(id).chain(keys).collect::<Vec<_>>().join(" ") } else { format!("{id} *") };
    (slot, entry)
}

/// The log a version copy carries.
pub(crate) fn changes_of(copy: Option<&Item>) -> Vec<ConfigChange> {
    let Some(copy) = copy else { return vec![] };
    (0..LOG_SLOTS)
        .filter_map(|n| item::opt_s(copy, &slot_attr(n)))
        .filter_map(|entry| {
            let mut parts = entry.split(' ');
            let id = parts.next()?.to_string();
            let rest: Vec<&str> = parts.collect();
            let keys = (rest != ["*"]).then(|| rest.iter().map(|k| ConfigKey(k.to_string())).collect());
            Some(ConfigChange { id, keys })
        })
        .collect()
}

/// Which item a configuration sort key names.
fn item_id(sk: &str) -> Option<ConfigItemId> {
    if let Some(id) = sk.strip_prefix(keys::TIER_PREFIX) {
        TierId::parse(id).ok().map(ConfigItemId::Tier)
    } else if let Some(id) = sk.strip_prefix(keys::ASSIGNMENT_PREFIX) {
        AssignmentId::parse(id).ok().map(ConfigItemId::Assignment)
    } else if let Some(id) = sk.strip_prefix(keys::PRICE_CONFIG_PREFIX) {
        PriceId::parse(id).ok().map(ConfigItemId::Price)
    } else if let Some(id) = sk.strip_prefix(keys::GROUP_PREFIX) {
        GroupId::parse(id).ok().map(ConfigItemId::Group)
    } else {
        None
    }
}

/// A configuration item of the shared configuration (`None`: another kind,
/// which the check does not cache).
pub(crate) fn config_item(sk: &str, it: &Item) -> Result<Option<ConfigItem>, Error> {
    Ok(Some(if sk.starts_with(keys::TIER_PREFIX) {
        ConfigItem::Tier(item::tier_from_item(it)?)
    } else if sk.starts_with(keys::ASSIGNMENT_PREFIX) {
        ConfigItem::Assignment(assignment_from_item(it)?)
    } else if sk.starts_with(keys::PRICE_CONFIG_PREFIX) {
        ConfigItem::Price(item::price_from_item(it)?)
    } else if sk.starts_with(keys::GROUP_PREFIX) {
        ConfigItem::Group(item::group_from_item(it)?)
    } else {
        return Ok(None);
    }))
}

impl DynamoStore {
    /// The shared configuration items `keys` as they now are, in one
    /// consistent BatchGetItem (a log names at most 8 x 3). A malformed
    /// item counts as gone, as the full read skips it.
    pub async fn load_config_items(&self, keys: &[ConfigKey]) -> Result<Vec<ConfigUpdate>, Error> {
        let wanted: Vec<(ConfigItemId, String)> =
            keys.iter().filter_map(|k| item_id(&k.0).map(|id| (id, k.0.clone()))).collect();
        if wanted.is_empty() {
            return Ok(vec![]);
        }
        let found = self.batch_get(wanted.iter().map(|(_, sk)| key(keys::CONFIG_PK, sk)).collect()).await?;
        Ok(wanted
            .into_iter()
            .map(|(id, sk)| {
                let it = found.iter().find(|i| i.get(SK).and_then(|v| v.as_s().ok()) == Some(&sk));
                let item = it.and_then(|it| match config_item(&sk, it) {
                    Ok(item) => item,
                    Err(e) => {
                        tracing::error!(sk, error = %e, "skipping a malformed configuration item");
                        crate::emf::count(crate::emf::Counter::ConfigItemsSkipped, &[]);
                        None
                    }
                });
                ConfigUpdate { id, item }
            })
            .collect())
    }
}
