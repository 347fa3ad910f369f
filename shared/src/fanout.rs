//! How far each shared key is spread: the deployment's fan-out settings,
//! sized from the traffic the stage must carry (docs/scale.md derives them
//! and `make scale-sim` checks them against DynamoDB's per-partition limits).
//!
//! Each count has a `previous` companion, set only while a change rolls out,
//! so that no reader ever looks where a writer has not written:
//! - version copies: writers bump the larger count, readers use the smaller
//!   (raise: deploy `8 -> 48` with previous 8, then drop previous);
//! - leaderboard shards, group usage shards and event partitions: writers
//!   use the new count, readers merge the larger one (rows written under
//!   the old count stay found).

use thiserror::Error;

/// Checks read one copy each, strongly consistently: 100,000 checks a second
/// over 48 copies is about 2,100 reads a copy, 70 % of a partition's 3,000
/// (sized for 75 %: users do not spread evenly over the copies).
pub const DEFAULT_VERSION_COPIES: u32 = 48;
/// Every admin transaction bumps every copy: the largest (a price with 20
/// pruned copies: 3 + 20 + copies + its audit event) must stay inside
/// TransactWriteItems' 100 actions.
pub const MAX_VERSION_COPIES: u32 = 64;
/// The largest admin transaction's items besides the version copies.
pub const ADMIN_ITEMS_BESIDES_VERSION: u32 = 24;

/// Each record moves its month and day rows in the byRank index (a delete
/// and a put each): 100,000 records a second x 2 / 320 shards is 625 index
/// writes a shard, 63 % of a partition's 1,000 (sized for 75 %).
pub const DEFAULT_RANK_SHARDS: u32 = 320;
/// A top-users question queries every shard of its period.
pub const MAX_RANK_SHARDS: u32 = 1024;

/// A group's usage rows a month: its records spread over them, and every
/// member's check reads all of them and the pool row.
pub const DEFAULT_GROUP_USAGE_SHARDS: u32 = 8;
/// A check's BatchGetItem holds the user's 5 keys and, for each of at most
/// 10 groups, its shards and its pool row: 5 + 10 x (8 + 1) = 95 of 100.
pub const MAX_GROUP_USAGE_SHARDS: u32 = 8;

// The ceilings hold by construction (TransactWriteItems and BatchGetItem
// take at most 100 items).
const _: () = assert!(MAX_VERSION_COPIES + ADMIN_ITEMS_BESIDES_VERSION <= 100);
const _: () = assert!(5 + 10 * (MAX_GROUP_USAGE_SHARDS + 1) <= 100);

/// Each stored event is listed on three shared index partitions (its
/// month's, its type's, its tier's). Events are once per user, threshold,
/// window and period, but an admin lowering a tier's limit under most of
/// its users makes each one's next check store one: at 100,000 checks a
/// second, ~45,000 events in a second (make scale-sim --tighten-at), over
/// 64 partitions ~700 each, inside a partition's 1,000.
pub const DEFAULT_EVENT_PARTITIONS: u32 = 64;
/// A search by month, type or tier reads every partition for each page.
pub const MAX_EVENT_PARTITIONS: u32 = 64;

/// The fan-out of the shared keys: see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fanout {
    pub version_copies: u32,
    pub version_copies_previous: Option<u32>,
    pub rank_shards: u32,
    pub rank_shards_previous: Option<u32>,
    pub group_usage_shards: u32,
    pub group_usage_shards_previous: Option<u32>,
    pub event_partitions: u32,
    pub event_partitions_previous: Option<u32>,
}

impl Default for Fanout {
    fn default() -> Self {
        Self {
            version_copies: DEFAULT_VERSION_COPIES,
            version_copies_previous: None,
            rank_shards: DEFAULT_RANK_SHARDS,
            rank_shards_previous: None,
            group_usage_shards: DEFAULT_GROUP_USAGE_SHARDS,
            group_usage_shards_previous: None,
            event_partitions: DEFAULT_EVENT_PARTITIONS,
            event_partitions_previous: None,
        }
    }
}

/// A fan-out setting out of its range.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{name} is {value}; expected {min} to {max} ({why})")]
pub struct FanoutError {
    pub name: &'static str,
    pub value: u32,
    pub min: u32,
    pub max: u32,
    pub why: &'static str,
}

/// Each setting: its environment name, its range, and why the ceiling.
pub const SETTINGS: [(&str, u32, &str); 4] = [
    ("QUOTA_VERSION_COPIES", MAX_VERSION_COPIES, "every admin transaction bumps every copy, within 100 actions"),
    ("QUOTA_RANK_SHARDS", MAX_RANK_SHARDS, "a top-users question queries every shard"),
    ("QUOTA_GROUP_USAGE_SHARDS", MAX_GROUP_USAGE_SHARDS, "a check reads 10 groups' shards in one BatchGetItem"),
    ("QUOTA_EVENT_PARTITIONS", MAX_EVENT_PARTITIONS, "a search reads every partition for each page"),
];

impl Fanout {
    /// The spread every count is validated against: 1 to its ceiling, the
    /// `previous` ones too.
    pub fn validate(self) -> Result<Self, FanoutError> {
        let values = [
            (0, self.version_copies, self.version_copies_previous),
            (1, self.rank_shards, self.rank_shards_previous),
            (2, self.group_usage_shards, self.group_usage_shards_previous),
            (3, self.event_partitions, self.event_partitions_previous),
        ];
        for (i, now, previous) in values {
            let (name, max, why) = SETTINGS[i];
            for (name, value) in [(name, Some(now)), (previous_name(i), previous)] {
                if let Some(value) = value.filter(|v| !(1..=max).contains(v)) {
                    return Err(FanoutError { name, value, min: 1, max, why });
                }
            }
        }
        Ok(self)
    }

    /// How many version copies an admin write bumps.
    pub fn version_writes(&self) -> u32 {
        self.version_copies.max(self.version_copies_previous.unwrap_or(0))
    }

    /// Among how many version copies a check picks its user's.
    pub fn version_reads(&self) -> u32 {
        self.version_copies.min(self.version_copies_previous.unwrap_or(u32::MAX))
    }

    /// How many leaderboard shards a question about a period merges.
    pub fn rank_reads(&self) -> u32 {
        self.rank_shards.max(self.rank_shards_previous.unwrap_or(0))
    }

    /// How many of a group's shard rows a check reads (and sums).
    pub fn group_reads(&self) -> u32 {
        self.group_usage_shards.max(self.group_usage_shards_previous.unwrap_or(0))
    }

    /// How many partitions of the month, type and tier event listings a
    /// search merges.
    pub fn event_reads(&self) -> u32 {
        self.event_partitions.max(self.event_partitions_previous.unwrap_or(0))
    }
}

/// The settings as infra's stage settings validate them
/// (`shared/schema/fanout.json`): the CDK key, the environment name, the
/// default, the ceiling and why.
pub fn schema_json() -> String {
    let d = Fanout::default();
    let defaults = [d.version_copies, d.rank_shards, d.group_usage_shards, d.event_partitions];
    let cdk = ["versionCopies", "rankShards", "groupUsageShards", "eventPartitions"];
    let settings: Vec<serde_json::Value> = SETTINGS
        .iter()
        .enumerate()
        .map(|(i, (env, max, why))| {
            serde_json::json!({
                "key": cdk[i], "env": env, "previousKey": format!("{}Previous", cdk[i]),
                "previousEnv": previous_name(i), "default": defaults[i], "min": 1, "max": max, "why": why,
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "settings": settings })).expect("static data") + "\n"
}

/// The environment name of setting `i`'s rollout companion.
pub fn previous_name(i: usize) -> &'static str {
    [
        "QUOTA_VERSION_COPIES_PREVIOUS",
        "QUOTA_RANK_SHARDS_PREVIOUS",
        "QUOTA_GROUP_USAGE_SHARDS_PREVIOUS",
        "QUOTA_EVENT_PARTITIONS_PREVIOUS",
    ][i]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Fanout::default().validate(), Ok(Fanout::default()));
    }

    #[test]
    fn committed_schema_matches_the_settings() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/fanout.json");
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(path, schema_json()).unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(path).unwrap_or_default(),
            schema_json(),
            "schema/fanout.json is stale: run `UPDATE_SCHEMA=1 cargo test -p quota-shared fanout`"
        );
    }

    #[test]
    fn each_count_and_its_previous_is_bounded() {
        let bad = Fanout { rank_shards: 0, ..Fanout::default() }.validate().unwrap_err();
        assert_eq!(bad.name, "QUOTA_RANK_SHARDS");
        let bad = Fanout { version_copies_previous: Some(65), ..Fanout::default() }.validate().unwrap_err();
        assert_eq!((bad.name, bad.max), ("QUOTA_VERSION_COPIES_PREVIOUS", 64));
        let bad = Fanout { group_usage_shards: 9, ..Fanout::default() }.validate().unwrap_err();
        assert_eq!(bad.name, "QUOTA_GROUP_USAGE_SHARDS");
    }

    #[test]
    fn during_a_rollout_writers_cover_what_readers_use() {
        let raising = Fanout { version_copies: 48, version_copies_previous: Some(8), ..Fanout::default() };
        assert_eq!((raising.version_writes(), raising.version_reads()), (48, 8));
        let lowering = Fanout { version_copies: 8, version_copies_previous: Some(48), ..Fanout::default() };
        assert_eq!((lowering.version_writes(), lowering.version_reads()), (48, 8));
        let shards = Fanout { rank_shards: 16, rank_shards_previous: Some(320), ..Fanout::default() };
        assert_eq!(shards.rank_reads(), 320, "rows written under 320 shards stay found");
        let settled = Fanout::default();
        assert_eq!((settled.version_writes(), settled.version_reads(), settled.rank_reads()), (48, 48, 320));
    }
}
