//! The per-container cache of the shared configuration, tagged with the
//! configuration version it was read at. A check compares the tag with the
//! version it reads anyway, so an admin change is seen by the very next check.

use crate::model::UserId;
use crate::quota::port::{ConfigChange, ConfigKey, UserView};
use crate::rules::resolve::SharedConfig;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, RwLock};

/// The cached configuration, its version, and the ids of the change log
/// entries the version copy showed when it was read.
type Slot = (u64, Arc<SharedConfig>, Vec<String>);

#[derive(Debug, Default)]
pub struct ConfigCache {
    slot: RwLock<Option<Slot>>,
}

impl ConfigCache {
    /// The cached configuration if it is exactly at `version`.
    pub fn get(&self, version: u64) -> Option<Arc<SharedConfig>> {
        let slot = self.slot.read().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().filter(|(v, _, _)| *v == version).map(|(_, c, _)| c.clone())
    }

    /// The newest configuration this container holds, whatever its version
    /// (a guess of which groups a user is in, before the version is read).
    pub fn latest(&self) -> Option<Arc<SharedConfig>> {
        let slot = self.slot.read().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().map(|(_, c, _)| c.clone())
    }

    /// The cached configuration and the items to read again to bring it to
    /// `version`, when the log `changes` holds every admin write since the
    /// cached version: one new entry per version step, each listing its
    /// items. Otherwise (an entry overwritten before this container saw
    /// it, too many items, no cache) `None`: read it all again.
    pub fn changed_since(&self, version: u64, changes: &[ConfigChange]) -> Option<(Arc<SharedConfig>, Vec<ConfigKey>)> {
        let slot = self.slot.read().unwrap_or_else(|e| e.into_inner());
        let (cached, config, seen) = slot.as_ref()?;
        let new: Vec<&ConfigChange> = changes.iter().filter(|c| !seen.contains(&c.id)).collect();
        if version <= *cached || version - cached != new.len() as u64 {
            return None;
        }
        let mut keys: Vec<ConfigKey> = Vec::new();
        for change in new {
            keys.extend(change.keys.clone()?);
        }
        keys.sort();
        keys.dedup();
        Some((config.clone(), keys))
    }

    /// Keeps `config` as read at `version` (with the log entries `seen`).
    /// The refill reads the configuration after the version, so the content
    /// is at least that new; an older tag only costs one more refill later,
    /// never a stale answer.
    pub fn put(&self, version: u64, config: Arc<SharedConfig>, seen: &[ConfigChange]) {
        let mut slot = self.slot.write().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_none_or(|(v, _, _)| *v <= version) {
            *slot = Some((version, config, seen.iter().map(|c| c.id.clone()).collect()));
        }
    }
}

/// What this container last read or wrote about a user: the view of their
/// latest check (or record). A record uses it as its expected state, so that
/// on a warm container it needs no read; a wrong guess costs one retry,
/// never a wrong total. (Who the user is never comes from here: a record
/// judges only with what it is told, see `record::judgement`.)
#[derive(Debug, Clone, PartialEq)]
pub struct UserEntry {
    /// The UTC day the usage was read for; another day's daily totals are useless.
    pub day: String,
    pub view: UserView,
}

pub struct UserCache {
    entries: Mutex<LruCache<UserId, UserEntry>>,
}

impl UserCache {
    pub fn new(capacity: usize) -> Self {
        Self { entries: Mutex::new(LruCache::new(NonZeroUsize::new(capacity.max(1)).expect("at least 1"))) }
    }

    pub fn get(&self, user: &UserId, day: &str) -> Option<UserEntry> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(user).filter(|e| e.day == day).cloned()
    }

    /// Keeps `entry`, except that usage never goes back: a check that read
    /// before a record of this container and finished after it would
    /// otherwise leave the older state, and the next record would miss.
    pub fn put(&self, user: UserId, mut entry: UserEntry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = entries.peek(&user)
            && old.day == entry.day
            && old.view.usage.monthly.requests > entry.view.usage.monthly.requests
        {
            entry.view.usage = old.view.usage.clone();
        }
        // The configuration change log serves only the read that brought it
        // (ConfigCache::changed_since); kept with 10,000 users' views it
        // would cost megabytes for nothing, and a view used again later
        // whose version is gone refills the whole configuration anyway.
        entry.view.config_changes = Vec::new();
        entries.put(user, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_only_at_the_same_version_and_never_goes_back() {
        let cache = ConfigCache::default();
        assert!(cache.get(0).is_none());
        cache.put(3, Arc::new(SharedConfig::default()), &[]);
        assert!(cache.get(3).is_some());
        assert!(cache.get(4).is_none());
        cache.put(2, Arc::new(SharedConfig::default()), &[]);
        assert!(cache.get(3).is_some(), "an older version never replaces a newer one");
        assert!(cache.get(2).is_none());
    }

    fn change(id: &str, keys: Option<&[&str]>) -> ConfigChange {
        ConfigChange { id: id.into(), keys: keys.map(|k| k.iter().map(|s| ConfigKey(s.to_string())).collect()) }
    }

    #[test]
    fn a_change_is_read_item_by_item_only_when_the_log_holds_every_step() {
        let cache = ConfigCache::default();
        let seen = [change("x", Some(&["TIER#a"]))];
        assert!(cache.changed_since(5, &seen).is_none(), "nothing cached: read it all");
        cache.put(5, Arc::new(SharedConfig::default()), &seen);
        let log = [seen[0].clone(), change("y", Some(&["TIER#b", "ASSIGNMENT#1"])), change("z", Some(&["TIER#b"]))];
        let (_, keys) = cache.changed_since(7, &log).expect("two steps, two new entries");
        assert_eq!(keys, ["ASSIGNMENT#1", "TIER#b"].map(|k| ConfigKey(k.into())));
        assert!(cache.changed_since(8, &log).is_none(), "three steps, two entries: one was overwritten");
        assert!(cache.changed_since(6, &log).is_none(), "one step, two entries: not this log");
        let unlisted = [seen[0].clone(), change("y", None)];
        assert!(cache.changed_since(6, &unlisted).is_none(), "too many items to list");
    }
}

#[cfg(test)]
mod user_cache_tests {
    use super::*;
    use crate::model::UsageSnapshot;

    fn entry(day: &str) -> UserEntry {
        UserEntry {
            day: day.into(),
            view: UserView {
                config_version: 1,
                direct: None,
                overrides: Default::default(),
                usage: UsageSnapshot::default(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn entries_are_per_day_and_bounded() {
        let cache = UserCache::new(2);
        let u = |s: &str| UserId::parse(s).unwrap();
        cache.put(u("a"), entry("2026-11-27"));
        assert!(cache.get(&u("a"), "2026-11-27").is_some());
        assert!(cache.get(&u("a"), "2026-11-28").is_none(), "yesterday's daily totals are not today's");
        cache.put(u("b"), entry("2026-11-27"));
        let mut with_log = entry("2026-11-27");
        with_log.view.config_changes = vec![ConfigChange { id: "x".into(), keys: None }];
        cache.put(u("c"), with_log);
        assert!(cache.get(&u("a"), "2026-11-27").is_none(), "least recently used goes first");
        assert!(cache.get(&u("c"), "2026-11-27").is_some());
        assert!(cache.get(&u("c"), "2026-11-27").unwrap().view.config_changes.is_empty(), "the log is not kept");
    }
}
