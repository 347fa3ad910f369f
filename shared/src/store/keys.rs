//! Key layout of both tables. Every key part comes from a validated id type,
//! none of which can contain `#`, so no input can reach another item's key.
//!
//! quota table
//! | item                         | pk                  | sk                     |
//! |------------------------------|---------------------|------------------------|
//! | config version (shard n)     | VERSION#{n}         | VERSION                |
//! | tier                         | CONFIG              | TIER#{tierId}          |
//! | shared assignment (copy)     | CONFIG              | ASSIGNMENT#{id}        |
//! | assignment (canonical)       | ASSIGNMENT#{id}     | ASSIGNMENT             |
//! | direct assignment (copy)     | USER#{userId}       | ASSIGNMENT             |
//! | override (canonical)         | OVERRIDE#{id}       | OVERRIDE               |
//! | the user's overrides (copy)  | USER#{userId}       | OVERRIDES              |
//! | usage of a month             | USER#{userId}       | USAGE#{yyyy-mm}        |
//! | a user's day (analytics)     | USER#{userId}       | DAY#{yyyy-mm-dd}       |
//! | idempotency marker           | USER#{userId}       | REQUEST#{requestId}    |
//! | a settled day's totals       | TOTAL#{yyyy-mm-dd}  | ALL or TIER#{tierId}   |
//! | a model price (canonical)    | PRICE#{priceId}     | PRICE                  |
//! | a model price (shared copy)  | CONFIG              | PRICE#{priceId}        |
//! | a model's price history      | PRICES              | {model}#{effectiveFrom} |
//! | group                        | CONFIG              | GROUP#{groupId}        |
//! | a group's named member       | GROUP#{groupId}     | MEMBER#{userId}        |
//! | a user's named groups        | USER#{userId}       | GROUPS                 |
//!
//! quota table indexes
//! | index    | pk                                     | sk                            |
//! |----------|----------------------------------------|-------------------------------|
//! | byTarget | ASSIGNMENTS / OVERRIDES                | {type}#{value}#{id} / {validFrom}#{id} |
//! | byTier   | TIER#{tierId} / OVERRIDES#{userId}     | ASSIGNMENT#{id} / {validFrom}#{id} |
//! | byRank   | TOPM#{yyyy-mm}#{shard} (month rows), TOPD#{yyyy-mm-dd}#{shard} (day rows) | cost (a Number) |
//!
//! events table: pk USER#{userId} (or AUDIT#{type}#{id} for an admin change
//! about no user), sk {occurredAt}#{eventId}; indexes byTier (TIER#{tierId}),
//! byType (TYPE#{eventType}) and byMonth (EVENTS#{yyyy-mm}), same sort key;
//! a quota event's three index keys carry `#{n}`, its partition of
//! `Fanout::event_partitions` (none for partition 0 and admin changes).
//!
//! [`PARTITION_KEYS`] lists every partition key form above; the stack's IAM
//! policies may name only those (`shared/schema/keys.json`, infra's tests).

use crate::model::period::Period;
use crate::model::{AssignmentId, AssignmentType, EventType, OverrideId, TierId, UserId};
use chrono::{DateTime, SecondsFormat, Utc};

/// Every partition key form of both tables and their indexes, as
/// `dynamodb:LeadingKeys` patterns (`*` stands for the rest of the key).
pub const PARTITION_KEYS: [&str; 19] = [
    "CONFIG",
    "VERSION#*",
    "ASSIGNMENT#*",
    "OVERRIDE#*",
    "USER#*",
    "TOTAL#*",
    "ASSIGNMENTS",
    "OVERRIDES",
    "TIER#*",
    "OVERRIDES#*",
    "TOPM#*",
    "TOPD#*",
    "AUDIT#*",
    "TYPE#*",
    "EVENTS#*",
    "PRICE#*",
    "PRICES",
    "GROUP#*",
    "SHADOW#*",
];

/// The partition key pattern `key` is of, if any.
pub fn partition_key_pattern(key: &str) -> Option<&'static str> {
    PARTITION_KEYS.into_iter().find(|p| match p.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => key == *p,
    })
}

/// The JSON that `infra/` checks its IAM policies against.
pub fn keys_json() -> String {
    serde_json::to_string_pretty(&serde_json::json!({ "partitionKeys": PARTITION_KEYS })).expect("static data") + "\n"
}

pub const CONFIG_PK: &str = "CONFIG";
pub const PRICE_SK: &str = "PRICE";
pub const PRICE_CONFIG_PREFIX: &str = "PRICE#";
pub const TIER_PREFIX: &str = "TIER#";
pub const ASSIGNMENT_PREFIX: &str = "ASSIGNMENT#";
pub const ASSIGNMENT_SK: &str = "ASSIGNMENT";
pub const VERSION_SK: &str = "VERSION";
pub const OVERRIDES_SK: &str = "OVERRIDES";
pub const ASSIGNMENTS_GSI_PK: &str = "ASSIGNMENTS";
pub const OVERRIDE_SK: &str = "OVERRIDE";
pub const OVERRIDES_GSI_PK: &str = "OVERRIDES";

/// A price's copy in the shared configuration (what the check caches).
pub fn price_config_sk(id: &crate::model::PriceId) -> String {
    format!("{PRICE_CONFIG_PREFIX}{id}")
}

/// A price's canonical item (written once, never updated).
pub fn price_pk(id: &crate::model::PriceId) -> String {
    format!("PRICE#{id}")
}

/// Every price's history copy, under one partition: `{model}#{effectiveFrom}`
/// sorts a model's prices by time, one per instant. Model ids cannot hold
/// `#` (nor `$`), and `*` is the fallback's.
pub const PRICES_PK: &str = "PRICES";

pub fn price_history_sk(model: &crate::model::price::PriceModel, from: DateTime<Utc>) -> String {
    format!("{}{}", price_history_prefix(model), from.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// The sort key prefix of one model's history.
pub fn price_history_prefix(model: &crate::model::price::PriceModel) -> String {
    format!("{model}#")
}

/// Past every history key of `model`: `$` sorts after `#` and before every
/// character a model id may continue with.
pub fn price_history_after(model: &str) -> String {
    format!("{model}$")
}

pub const GROUP_PREFIX: &str = "GROUP#";
pub const MEMBER_PREFIX: &str = "MEMBER#";
pub const USER_GROUPS_SK: &str = "GROUPS";

/// A group's item in the shared configuration.
pub fn group_sk(id: &crate::model::GroupId) -> String {
    format!("{GROUP_PREFIX}{id}")
}

/// The partition of a group's named members.
pub fn group_pk(id: &crate::model::GroupId) -> String {
    format!("{GROUP_PREFIX}{id}")
}

/// Which of a group's usage rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupRow {
    Shard(u32),
    /// The unsharded row: a strict group's holds and usage, every group's event flags.
    Pool,
}

/// A group's usage is kept in `shards` rows a month (standard records add
/// to one, chosen by request id; `Fanout::group_usage_shards`) and one pool
/// row (a strict group's holds, and its event flags); a check reads them all
/// in its one BatchGetItem. Each shard is its own partition key: a group
/// takes about shards x 500 transactional records a second (a transactional
/// write costs 2 units of a partition's 1,000).
impl GroupRow {
    /// Every row of a group: the `shards` shards, then the pool.
    pub fn all(shards: u32) -> impl Iterator<Item = GroupRow> {
        (0..shards).map(GroupRow::Shard).chain([GroupRow::Pool])
    }

    /// The shard of `shards` a standard record adds to: spread by its
    /// request id, and the same for a retry.
    pub fn for_request(request: &crate::model::RequestId, shards: u32) -> GroupRow {
        GroupRow::Shard(fnv1a(request.as_str()).rotate_left(7) % shards)
    }
}

/// FNV-1a: stable across processes and releases, unlike std's hasher.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The partition of one of a group's usage rows (each its own partition
/// key, so that a group's writes spread).
pub fn group_usage_pk(id: &crate::model::GroupId, row: GroupRow) -> String {
    match row {
        GroupRow::Shard(n) => format!("{GROUP_PREFIX}{id}#U{n}"),
        GroupRow::Pool => format!("{GROUP_PREFIX}{id}#POOL"),
    }
}

/// A member's figures in a group for a month, on the member's own partition
/// (the group's leaderboard reads them through the byRank index).
pub fn member_usage_sk(id: &crate::model::GroupId, month: &str) -> String {
    format!("{GROUP_PREFIX}{id}#{month}")
}

/// The group's month leaderboard partition of a member (sharded as the
/// users' own leaderboard).
pub fn group_rank_month_pk(id: &crate::model::GroupId, month: &str, shard: u32) -> String {
    format!("{GROUP_PREFIX}{id}#TOPM#{month}#{shard}")
}

/// The index partition a shadow policy's events are listed in.
pub fn shadow_events_pk(policy: &crate::model::PolicyRef) -> String {
    format!("SHADOW#{policy}")
}

/// The index partition a group's events are listed in.
pub fn group_events_pk(id: &crate::model::GroupId) -> String {
    format!("{GROUP_PREFIX}{id}")
}

pub fn member_sk(user: &UserId) -> String {
    format!("{MEMBER_PREFIX}{user}")
}

pub fn override_pk(id: &OverrideId) -> String {
    format!("OVERRIDE#{id}")
}

/// Partition of one user's overrides in the byTier index (overloaded: user
/// ids cannot contain `#`, so this never meets a `TIER#` partition).
pub fn user_overrides_pk(user: &UserId) -> String {
    format!("OVERRIDES#{user}")
}

/// Sort key of an override in both listing indexes: `validFrom` (fixed-width
/// RFC 3339 with milliseconds, so text order is time order), then the id.
pub fn override_sort(valid_from: DateTime<Utc>, id: &OverrideId) -> String {
    format!("{}#{id}", valid_from.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Sorts after every override sort key that starts at or before `t`.
pub fn override_sort_after(t: DateTime<Utc>) -> String {
    format!("{}#~", t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

pub fn version_pk(shard: u32) -> String {
    format!("VERSION#{shard}")
}

/// A stable copy of `copies` for a user, so one user's checks always read
/// the same copy (every admin write bumps every copy).
pub fn version_shard(user: &UserId, copies: u32) -> u32 {
    fnv1a(user.as_str()) % copies
}

pub fn tier_sk(id: &TierId) -> String {
    format!("{TIER_PREFIX}{id}")
}

pub fn assignment_pk(id: &AssignmentId) -> String {
    format!("{ASSIGNMENT_PREFIX}{id}")
}

pub fn shared_assignment_sk(id: &AssignmentId) -> String {
    format!("{ASSIGNMENT_PREFIX}{id}")
}

pub fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

pub fn usage_sk(month: &Period) -> String {
    format!("USAGE#{}", month.month_key())
}

pub fn request_sk(request: &crate::model::RequestId) -> String {
    format!("REQUEST#{request}")
}

/// A target value as it may stand in a key: ids and domains cannot contain
/// `#`, but a `regex:` pattern can, so its pattern is base64url-encoded.
fn key_value(value: &str) -> std::borrow::Cow<'_, str> {
    use base64::Engine;
    match value.strip_prefix(crate::model::DomainPattern::REGEX_KEY_PREFIX) {
        Some(pattern) => {
            let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pattern);
            format!("{}{encoded}", crate::model::DomainPattern::REGEX_KEY_PREFIX).into()
        }
        None => value.into(),
    }
}

/// Sort key in the byTarget index; the value is empty for default assignments.
pub fn target_sk(kind: AssignmentType, value: &str, id: &AssignmentId) -> String {
    format!("{}#{}#{id}", kind.as_str(), key_value(value))
}

/// The prefix that selects one type, or one type and value, in byTarget.
pub fn target_prefix(kind: AssignmentType, value: Option<&str>) -> String {
    match value {
        Some(v) => format!("{}#{}#", kind.as_str(), key_value(v)),
        None => format!("{}#", kind.as_str()),
    }
}

pub fn tier_gsi_pk(tier: &TierId) -> String {
    format!("{TIER_PREFIX}{tier}")
}

pub fn event_type_pk(kind: EventType) -> String {
    format!("TYPE#{}", kind.as_str())
}

/// A user's shard of `shards` in the leaderboards (stable, like the version
/// copy). Leaderboards spread over `Fanout::rank_shards` index partitions
/// per period, so no single key takes every record's index write.
pub fn rank_shard(user: &UserId, shards: u32) -> u32 {
    fnv1a(user.as_str()).rotate_left(13) % shards
}

/// A user's totals of one UTC day (with the user).
pub fn user_day_sk(day: &Period) -> String {
    format!("DAY#{}", day.key())
}

/// The month leaderboard partition (byRank index, month usage rows).
pub fn rank_month_pk(month: &str, shard: u32) -> String {
    format!("TOPM#{month}#{shard}")
}

/// The day leaderboard partition (byRank index, user-day rows).
pub fn rank_day_pk(day: &str, shard: u32) -> String {
    format!("TOPD#{day}#{shard}")
}

/// A cached aggregate of a completed day (all users, or one tier's).
pub fn day_total_key(day: &str, tier: Option<&TierId>) -> (String, String) {
    (format!("TOTAL#{day}"), tier.map_or_else(|| "ALL".to_string(), |t| format!("TIER#{t}")))
}

/// Where an admin change about no user lives: with its target.
pub fn audit_pk(target_type: &str, target_id: &str) -> String {
    format!("AUDIT#{target_type}#{target_id}")
}

/// The byMonth partition of every event of `month` (`2026-11`).
pub fn event_month_pk(month: &str) -> String {
    format!("EVENTS#{month}")
}

/// Which of `partitions` an event is listed in (by month, type and tier).
pub fn event_partition(event: &crate::model::EventId, partitions: u32) -> u32 {
    fnv1a(event.as_str()).rotate_left(3) % partitions.max(1)
}

/// Partition `n` of an event listing whose first partition is `pk` (the
/// first keeps the plain key: events listed before partitions existed stay
/// in it). Ids cannot hold `#`, so no suffix meets another key.
pub fn in_partition(pk: String, n: u32) -> String {
    if n == 0 { pk } else { format!("{pk}#{n}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_shards_are_stable_and_spread() {
        let u = UserId::parse("alice").unwrap();
        assert_eq!(version_shard(&u, 8), version_shard(&u, 8));
        let used: std::collections::BTreeSet<u32> =
            (0..2000).map(|i| version_shard(&UserId::parse(format!("user-{i}")).unwrap(), 40)).collect();
        assert_eq!(used.len(), 40);
    }

    #[test]
    fn every_partition_key_built_is_of_a_listed_form_and_every_form_is_built() {
        use crate::model::{EventType, RequestId};
        let (user, tier) = (UserId::parse("dana").unwrap(), TierId::parse("faculty").unwrap());
        let (assignment, over) = (AssignmentId::parse("a1").unwrap(), OverrideId::parse("o1").unwrap());
        let _ = request_sk(&RequestId::parse("r1").unwrap());
        let built = [
            CONFIG_PK.to_string(),
            version_pk(3),
            assignment_pk(&assignment),
            override_pk(&over),
            user_pk(&user),
            day_total_key("2026-11-27", None).0,
            ASSIGNMENTS_GSI_PK.to_string(),
            OVERRIDES_GSI_PK.to_string(),
            tier_gsi_pk(&tier),
            user_overrides_pk(&user),
            rank_month_pk("2026-11", 3),
            rank_day_pk("2026-11-27", 3),
            audit_pk("tier", "faculty"),
            event_type_pk(EventType::Warning),
            event_month_pk("2026-11"),
            price_pk(&crate::model::PriceId::generate()),
            PRICES_PK.to_string(),
            group_pk(&crate::model::GroupId::parse("chem").unwrap()),
            shadow_events_pk(&crate::model::PolicyRef::Tier(tier.clone())),
        ];
        let forms: Vec<_> = built.iter().map(|k| partition_key_pattern(k).unwrap_or_else(|| panic!("{k}"))).collect();
        // In order, so a prefix shadowing another (OVERRIDES vs OVERRIDES#*) shows.
        assert_eq!(forms, PARTITION_KEYS, "each key builder matches its own form");
    }

    #[test]
    fn committed_keys_json_matches_the_list() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/keys.json");
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(path, keys_json()).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            have,
            keys_json(),
            "schema/keys.json is stale: run `UPDATE_SCHEMA=1 cargo test -p quota-shared keys`"
        );
    }

    #[test]
    fn target_prefixes_do_not_overlap_between_values() {
        let id = AssignmentId::parse("a1").unwrap();
        let re = target_sk(AssignmentType::EmailDomain, "regex:a#b|c", &id);
        assert_eq!(re.matches('#').count(), 2, "{re}");
        assert!(re.starts_with(&target_prefix(AssignmentType::EmailDomain, Some("regex:a#b|c"))));
        let fac = target_sk(AssignmentType::JwtRole, "Faculty", &id);
        assert!(fac.starts_with(&target_prefix(AssignmentType::JwtRole, Some("Faculty"))));
        assert!(!fac.starts_with(&target_prefix(AssignmentType::JwtRole, Some("Fac"))));
        assert!(!fac.starts_with(&target_prefix(AssignmentType::DirectUser, None)));
    }
}
