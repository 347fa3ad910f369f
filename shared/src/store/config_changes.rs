//! Reading back the shared configuration items an admin write changed (the
//! change log is in `change_log.rs`), and reading any configuration item
//! into the shape the check caches.

use super::dynamo::DynamoStore;
use super::item::{self, Item, assignment_from_item, key};
use super::keys;
use super::schema::SK;
use crate::error::Error;
use crate::model::{AssignmentId, GroupId, PriceId, TierId};
use crate::quota::port::ConfigKey;
use crate::rules::config_update::{ConfigItem, ConfigItemId, ConfigUpdate};

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
