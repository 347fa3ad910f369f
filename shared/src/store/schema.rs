//! The tables and indexes, defined once. The repository builds its keys from
//! these names, tests create tables from them, and `infra/` deploys them from
//! `schema/tables.json`, which a test keeps equal to these definitions.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexDef {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: &'static str,
    /// `S` or `N`: a numeric sort key orders by value.
    pub sort_key_type: &'static str,
    /// `ALL` where items are small and written once (listings then need no
    /// second read); `INCLUDE` where a hot item would otherwise rewrite its
    /// whole copy on every write (the usage rows in the leaderboards).
    pub projection: &'static str,
    /// With `INCLUDE`: the attributes projected besides the keys.
    pub non_key_attributes: &'static [&'static str],
    /// Which access pattern the index serves, for people reading the schema.
    pub serves: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableDef {
    /// The stable logical name; deployed names add a stage prefix.
    pub logical_name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: &'static str,
    pub ttl_attribute: &'static str,
    pub indexes: &'static [IndexDef],
}

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TTL: &str = "ttl";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
pub const GSI3_PK: &str = "gsi3pk";
pub const GSI3_SK: &str = "gsi3sk";
/// The leaderboard partition of a usage row (month or user-day).
pub const RANK_PK: &str = "rankpk";
/// A usage row's own cost (the month's on a month row, the day's on a day row).
pub const RANK_SK: &str = "cost";

/// Assignments by type and matching value: `ASSIGNMENTS` / `{type}#{value}#{id}`.
pub const ASSIGNMENTS_BY_TARGET: &str = "byTarget";
/// Assignments by tier: `TIER#{tierId}` / `ASSIGNMENT#{id}`.
pub const ASSIGNMENTS_BY_TIER: &str = "byTier";
/// Events by tier: `TIER#{tierId}` / `{occurredAt}#{eventId}`.
pub const EVENTS_BY_TIER: &str = "byTier";
/// Events by type: `TYPE#{eventType}` / `{occurredAt}#{eventId}`.
pub const EVENTS_BY_TYPE: &str = "byType";
/// Every event of a month: `EVENTS#{yyyy-mm}` / `{occurredAt}#{eventId}`.
pub const EVENTS_BY_MONTH: &str = "byMonth";
/// Usage rows by cost: `TOPM#{month}#{shard}` or `TOPD#{day}#{shard}` /
/// the row's cost as a number, so every ADD keeps the leaderboard exact.
/// (Named anew when its projection narrowed from ALL: DynamoDB cannot
/// change an index's projection in place.)
pub const USAGE_BY_COST: &str = "byRank";

/// Configuration, users' own items, usage and idempotency markers.
pub const QUOTA_TABLE: TableDef = TableDef {
    logical_name: "quota",
    partition_key: PK,
    sort_key: SK,
    ttl_attribute: TTL,
    indexes: &[
        IndexDef {
            name: ASSIGNMENTS_BY_TARGET,
            partition_key: GSI1_PK,
            sort_key: GSI1_SK,
            sort_key_type: "S",
            projection: "ALL",
            non_key_attributes: &[],
            serves: "list assignments, filtered by type and by userId / jwtRole / emailDomain",
        },
        IndexDef {
            name: ASSIGNMENTS_BY_TIER,
            partition_key: GSI2_PK,
            sort_key: GSI2_SK,
            sort_key_type: "S",
            projection: "ALL",
            non_key_attributes: &[],
            serves: "list the assignments of one tier",
        },
        IndexDef {
            name: USAGE_BY_COST,
            partition_key: RANK_PK,
            sort_key: RANK_SK,
            sort_key_type: "N",
            // Only what the leaderboards read: a reservation, a settle's
            // committed counters or an event flag then writes no index copy,
            // and a record's copy is a few dozen bytes, not the whole row.
            projection: "INCLUDE",
            non_key_attributes: &["userId", "tierId", "inputTokens", "outputTokens", "requests"],
            serves: "usage leaderboards: month and user-day rows by cost, QUOTA_RANK_SHARDS partitions per period",
        },
    ],
};

/// Quota events (blocks, warnings, overrides applied).
pub const EVENTS_TABLE: TableDef = TableDef {
    logical_name: "events",
    partition_key: PK,
    sort_key: SK,
    ttl_attribute: TTL,
    indexes: &[
        IndexDef {
            name: EVENTS_BY_TIER,
            partition_key: GSI1_PK,
            sort_key: GSI1_SK,
            sort_key_type: "S",
            projection: "ALL",
            non_key_attributes: &[],
            serves: "events of one tier, by time",
        },
        IndexDef {
            name: EVENTS_BY_TYPE,
            partition_key: GSI2_PK,
            sort_key: GSI2_SK,
            sort_key_type: "S",
            projection: "ALL",
            non_key_attributes: &[],
            serves: "events of one type, by time",
        },
        IndexDef {
            name: EVENTS_BY_MONTH,
            partition_key: GSI3_PK,
            sort_key: GSI3_SK,
            sort_key_type: "S",
            projection: "ALL",
            non_key_attributes: &[],
            serves: "all events, by time (QUOTA_EVENT_PARTITIONS partitions per month)",
        },
    ],
};

pub const TABLES: [TableDef; 2] = [QUOTA_TABLE, EVENTS_TABLE];

/// The JSON that `infra/` reads.
pub fn tables_json() -> String {
    serde_json::to_string_pretty(&TABLES).expect("static data serialises") + "\n"
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_schema_json_matches_the_definitions() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/tables.json");
        let want = super::tables_json();
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(have, want, "schema/tables.json is stale: run `UPDATE_SCHEMA=1 cargo test -p quota-shared schema`");
    }
}
