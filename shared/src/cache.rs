//! The per-container cache of the shared configuration, tagged with the
//! configuration version it was read at. A check compares the tag with the
//! version it reads anyway, so an admin change is seen by the very next check.

use crate::resolve::SharedConfig;
use std::sync::{Arc, RwLock};

#[derive(Debug, Default)]
pub struct ConfigCache {
    slot: RwLock<Option<(u64, Arc<SharedConfig>)>>,
}

impl ConfigCache {
    /// The cached configuration if it is exactly at `version`.
    pub fn get(&self, version: u64) -> Option<Arc<SharedConfig>> {
        let slot = self.slot.read().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().filter(|(v, _)| *v == version).map(|(_, c)| c.clone())
    }

    /// Keeps `config` as read at `version`. The refill reads the configuration
    /// after the version, so the content is at least that new; an older tag
    /// only costs one more refill later, never a stale answer.
    pub fn put(&self, version: u64, config: Arc<SharedConfig>) {
        let mut slot = self.slot.write().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_none_or(|(v, _)| *v <= version) {
            *slot = Some((version, config));
        }
    }

    pub fn version(&self) -> Option<u64> {
        self.slot.read().unwrap_or_else(|e| e.into_inner()).as_ref().map(|(v, _)| *v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_only_at_the_same_version_and_never_goes_back() {
        let cache = ConfigCache::default();
        assert!(cache.get(0).is_none());
        cache.put(3, Arc::new(SharedConfig::default()));
        assert!(cache.get(3).is_some());
        assert!(cache.get(4).is_none());
        cache.put(2, Arc::new(SharedConfig::default()));
        assert_eq!(cache.version(), Some(3));
    }
}
