//! The change log the configuration version's copies carry: every admin
//! write bumps every copy and sets one of [`LOG_SLOTS`] slots (the one after
//! the version it read, so the last 8 writes are all there unless two wrote
//! at once) to `{changeId} {sortKey}...`, the shared configuration items its
//! transaction wrote. A container whose cached configuration is one or two
//! writes behind reads only those items again (see `ConfigCache::changed_since`);
//! without the log, every container would Query the whole `CONFIG`
//! partition after each admin write, which at internet scale is the
//! hottest key of all (containers x configuration size, docs/scale.md).
//! Bounded: 8 slots of at most 3 keys keep each copy under 1 KB, so a
//! check still reads it for 1 unit and a strict hold's condition on it
//! costs 2.

use super::item::{self, Item};
use super::keys;
use super::schema::{PK, SK};
use crate::quota::port::{ConfigChange, ConfigKey};
use aws_sdk_dynamodb::types::TransactWriteItem;

pub(crate) const LOG_SLOTS: u32 = 8;
/// More items than this in one write, or a longer entry (long ids): the
/// entry says `*` (read it all). 8 slots of at most 100 bytes, with their
/// names and the version, stay under 1 KB.
const MAX_KEYS_PER_ENTRY: usize = 3;
const MAX_ENTRY_BYTES: usize = 100;

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

/// The slot the write that follows `version` logs into: consecutive
/// versions take consecutive slots. Two writes that read the same version
/// share one, and the later hides the earlier: a container that saw
/// neither then counts one entry short and reads it all (never a stale one).
pub(crate) fn slot_after(version: u64) -> u32 {
    ((version + 1) % u64::from(LOG_SLOTS)) as u32
}

/// A new log entry for a transaction of `items`.
pub(crate) fn entry_for(items: &[TransactWriteItem]) -> String {
    let id = format!("{:08x}", uuid::Uuid::new_v4().as_u128() as u32);
    let mut keys = config_keys(items);
    keys.sort();
    keys.dedup();
    let listed = std::iter::once(id.clone()).chain(keys.iter().cloned()).collect::<Vec<_>>().join(" ");
    let fits =
        keys.len() <= MAX_KEYS_PER_ENTRY && keys.iter().all(|k| !k.contains(' ')) && listed.len() <= MAX_ENTRY_BYTES;
    if fits { listed } else { format!("{id} *") }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::item::{key, s};
    use aws_sdk_dynamodb::types::{Delete, Put, Update};

    fn put(pk: &str, sk: &str) -> TransactWriteItem {
        let put = Put::builder().table_name("q").set_item(Some(key(pk, sk))).build().unwrap();
        TransactWriteItem::builder().put(put).build()
    }

    fn logged(items: &[TransactWriteItem]) -> ConfigChange {
        let mut copy = Item::new();
        copy.insert(slot_attr(slot_after(41)), s(entry_for(items)));
        changes_of(Some(&copy)).pop().expect("one entry")
    }

    #[test]
    fn an_entry_lists_the_config_items_a_transaction_writes_or_says_all() {
        let update =
            Update::builder().table_name("q").set_key(Some(key("CONFIG", "TIER#pro"))).update_expression("SET a = :a");
        let delete = Delete::builder().table_name("q").set_key(Some(key("CONFIG", "ASSIGNMENT#a1"))).build().unwrap();
        let items = [
            put("ASSIGNMENT#a1", "ASSIGNMENT"),
            TransactWriteItem::builder().update(update.build().unwrap()).build(),
            TransactWriteItem::builder().delete(delete).build(),
            put("USER#ann", "ASSIGNMENT"),
        ];
        let change = logged(&items);
        assert_eq!(change.id.len(), 8);
        assert_eq!(change.keys, Some(vec![ConfigKey("ASSIGNMENT#a1".into()), ConfigKey("TIER#pro".into())]));
        assert_eq!(logged(&[put("USER#ann", "ASSIGNMENT")]).keys, Some(vec![]), "no configuration item: none to read");
        let many: Vec<_> = (0..4).map(|i| put("CONFIG", &format!("PRICE#p{i}"))).collect();
        assert_eq!(logged(&many).keys, None, "four items: read it all");
        let long = put("CONFIG", &format!("GROUP#{}", "g".repeat(100)));
        assert_eq!(logged(&[long]).keys, None, "too long an entry: read it all");
        assert!(changes_of(None).is_empty());
        let slots: std::collections::BTreeSet<u32> = (0..8).map(slot_after).collect();
        assert_eq!(slots.len() as u32, LOG_SLOTS, "eight consecutive writes take eight slots");
    }
}
