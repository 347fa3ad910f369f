//! One shared configuration item read again after an admin change, applied
//! to a container's cached configuration: a change costs each container the
//! items it touched, not the whole configuration (which every container
//! reading at once would make the hottest key of all; docs/scale.md).

use crate::model::group::Group;
use crate::model::price::Price;
use crate::model::{Assignment, AssignmentId, GroupId, PriceId, Tier, TierId};
use crate::rules::resolve::SharedConfig;

/// Which shared configuration item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigItemId {
    Tier(TierId),
    Assignment(AssignmentId),
    Price(PriceId),
    Group(GroupId),
}

/// A shared configuration item as it now is.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigItem {
    Tier(Tier),
    Assignment(Assignment),
    Price(Price),
    Group(Group),
}

/// An item read again: what it now is, or `None` when it is gone.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigUpdate {
    pub id: ConfigItemId,
    pub item: Option<ConfigItem>,
}

impl SharedConfig {
    /// Replaces (or removes) the item `update` names, keeping each list in
    /// id order, as a full read (in sort key order) leaves it.
    pub fn apply(&mut self, update: ConfigUpdate) {
        match update.id {
            ConfigItemId::Tier(id) => {
                self.tiers.remove(&id);
            }
            ConfigItemId::Assignment(id) => self.assignments.retain(|a| a.assignment_id != id),
            ConfigItemId::Price(id) => self.prices.retain(|p| p.price_id != id),
            ConfigItemId::Group(id) => self.groups.retain(|g| g.group_id != id),
        }
        match update.item {
            None => {}
            Some(ConfigItem::Tier(t)) => {
                self.tiers.insert(t.tier_id.clone(), t);
            }
            Some(ConfigItem::Assignment(a)) => {
                self.assignments.push(a);
                self.assignments.sort_by(|x, y| x.assignment_id.as_str().cmp(y.assignment_id.as_str()));
            }
            Some(ConfigItem::Price(p)) => {
                self.prices.push(p);
                self.prices.sort_by(|x, y| x.price_id.as_str().cmp(y.price_id.as_str()));
            }
            Some(ConfigItem::Group(g)) => {
                self.groups.push(g);
                self.groups.sort_by(|x, y| x.group_id.as_str().cmp(y.group_id.as_str()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Target;
    use crate::testing::{assignment, tier};

    #[test]
    fn an_update_replaces_inserts_in_order_or_removes() {
        let mut config = SharedConfig::default();
        for id in ["a3", "a1"] {
            config.apply(ConfigUpdate {
                id: ConfigItemId::Assignment(AssignmentId::parse(id).unwrap()),
                item: Some(ConfigItem::Assignment(assignment(id, "basic", Target::DefaultTier))),
            });
        }
        config.apply(ConfigUpdate {
            id: ConfigItemId::Assignment(AssignmentId::parse("a3").unwrap()),
            item: Some(ConfigItem::Assignment(assignment("a3", "pro", Target::DefaultTier))),
        });
        let ids: Vec<(&str, &str)> =
            config.assignments.iter().map(|a| (a.assignment_id.as_str(), a.tier_id.as_str())).collect();
        assert_eq!(ids, [("a1", "basic"), ("a3", "pro")]);
        config.apply(ConfigUpdate { id: ConfigItemId::Tier(TierId::parse("pro").unwrap()), item: None });
        config.apply(ConfigUpdate {
            id: ConfigItemId::Tier(TierId::parse("pro").unwrap()),
            item: Some(ConfigItem::Tier(tier("pro", "10", ""))),
        });
        assert!(config.tiers.contains_key(&TierId::parse("pro").unwrap()));
        config.apply(ConfigUpdate { id: ConfigItemId::Assignment(AssignmentId::parse("a1").unwrap()), item: None });
        assert_eq!(config.assignments.len(), 1);
    }
}
