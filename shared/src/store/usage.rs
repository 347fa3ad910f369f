//! The hot path's reads and writes: one BatchGetItem for everything a check
//! needs about a user, one transaction per recorded request.

use super::dynamo::{ALL_OLD, CONTENTION_RETRIES, Cancelled, DynamoStore, contention_backoff, store_error};
use super::events_write::event_put;
use super::item::{self, Item, epoch, key, n, s, time, usage_key};
use super::keys::{self, GroupRow};
use super::schema::{PK, RANK_PK, SK, TTL};
use crate::error::Error;
use crate::fanout::Fanout;
use crate::model::Metric;
use crate::model::period::{Period, Window};
use crate::model::{
    Charge, Consumption, GroupId, GroupUsage, LimitId, QuotaEvent, RequestId, Reservation, TierId, UsageDelta,
    UsageSnapshot, UserId,
};
use crate::quota::port::UserView;
use crate::quota::port::{GroupShare, GuardedRecord, RecordOutcome, RecordPlan, Recording};
use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{KeysAndAttributes, Put, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// Idempotency markers outlive any sane client retry by far.
pub const REQUEST_MARKER_DAYS: i64 = 7;
pub use super::item::USAGE_RETENTION_DAYS;

/// Names the call that wrote a marker. When the SDK retries a transaction
/// whose first attempt did commit (a timeout on the way back), the retry finds
/// the marker of its own call: that is this call's success, not a duplicate.
const NONCE: &str = "nonce";

fn own_marker(old: Option<&Item>, nonce: &str) -> bool {
    old.and_then(|o| item::opt_s(o, NONCE)) == Some(nonce)
}

/// Counter changes, netted per attribute: an update expression may name an
/// attribute once, and a settle both adds the actual cost and releases the
/// estimate on the same counters.
#[derive(Default)]
pub(super) struct Adds(BTreeMap<String, Decimal>);

impl Adds {
    pub(super) fn add(&mut self, attr: String, value: Decimal) {
        *self.0.entry(attr).or_default() += value;
    }

    /// Adds to the committed counters of the month and of `day` (if any).
    pub(super) fn committed(&mut self, day: Option<&str>, cost: Decimal, tokens: Decimal, requests: Decimal) {
        for (attr, value) in
            [(item::COMMITTED_COST, cost), (item::COMMITTED_TOKENS, tokens), (item::COMMITTED_REQUESTS, requests)]
        {
            self.add(attr.to_string(), value);
            if let Some(day) = day {
                self.add(item::day_attr_of(day, attr), value);
            }
        }
    }

    /// Releases a reservation's hold (month, and its day) and its place
    /// among the open ones.
    pub(super) fn release(&mut self, r: &Reservation) {
        self.committed(Some(&r.day), -r.cost.value(), -Decimal::from(r.tokens), -Decimal::ONE);
        if let Some(limit) = &r.limit {
            self.model_committed(limit, &r.day, -r.cost.value(), -Decimal::from(r.tokens), -Decimal::ONE);
        }
        self.add(item::OPEN_RESERVATIONS.to_string(), -Decimal::ONE);
    }

    /// Adds to a model limit's committed counters, of the month and of `day`.
    pub(super) fn model_committed(
        &mut self,
        limit: &LimitId,
        day: &str,
        cost: Decimal,
        tokens: Decimal,
        requests: Decimal,
    ) {
        for (metric, value) in [(Metric::Cost, cost), (Metric::Tokens, tokens), (Metric::Requests, requests)] {
            let attr = item::model_committed_attr(limit, metric);
            self.add(item::day_attr_of(day, &attr), value);
            self.add(attr, value);
        }
    }

    /// Holds a reservation: its estimate (and one request) on the committed
    /// counters of the month and its day, and one more open place.
    pub(super) fn hold(&mut self, r: &Reservation) {
        self.committed(Some(&r.day), r.cost.value(), Decimal::from(r.tokens), Decimal::ONE);
        if let Some(limit) = &r.limit {
            self.model_committed(limit, &r.day, r.cost.value(), Decimal::from(r.tokens), Decimal::ONE);
        }
        self.add(item::OPEN_RESERVATIONS.to_string(), Decimal::ONE);
    }

    /// Adds one request's figures to the month's totals and `day`'s.
    pub(super) fn request(&mut self, delta: &UsageDelta, day: &Period) {
        for (attr, value) in [
            (item::COST, delta.cost.value()),
            (item::INPUT_TOKENS, Decimal::from(delta.input_tokens)),
            (item::OUTPUT_TOKENS, Decimal::from(delta.output_tokens)),
            (item::REQUESTS, Decimal::ONE),
        ] {
            self.add(attr.to_string(), value);
            self.add(item::day_attr(day, attr), value);
        }
    }

    /// Holds a member's reservation on a strict group's pool row.
    pub(super) fn pool_hold(&mut self, r: &Reservation) {
        self.committed(Some(&r.day), r.cost.value(), Decimal::from(r.tokens), Decimal::ONE);
        self.add(item::OPEN_HOLDS.to_string(), Decimal::ONE);
    }

    /// Releases a member's hold from a strict group's pool row.
    pub(super) fn pool_release(&mut self, r: &Reservation) {
        self.committed(Some(&r.day), -r.cost.value(), -Decimal::from(r.tokens), -Decimal::ONE);
        self.add(item::OPEN_HOLDS.to_string(), -Decimal::ONE);
    }

    /// The `ADD` clause, with its names and values (`#a{i}`, `:a{i}`).
    pub(super) fn clause(self, mut update: UpdateBuilder) -> (UpdateBuilder, String) {
        let mut parts = Vec::new();
        for (i, (attr, value)) in self.0.into_iter().enumerate() {
            parts.push(format!("#a{i} :a{i}"));
            update = update
                .expression_attribute_names(format!("#a{i}"), attr)
                .expression_attribute_values(format!(":a{i}"), n(value));
        }
        (update, format!("ADD {}", parts.join(", ")))
    }
}

/// ADDs a request to the month's and the day's counters (usage and
/// committed), sets the event flags `#f{i}` (to the events' ids), and settles
/// the request's reservation if it holds one; the caller adds its own
/// conditions to the ones returned (the reservation's state, `#rsv`).
fn usage_update(
    table: &str,
    fanout: &Fanout,
    r: &Recording<'_>,
    events: &[QuotaEvent],
) -> (UpdateBuilder, Vec<String>) {
    let (user, delta, at, tier) = (r.user, &r.charge.delta, r.at, r.tier);
    let month = Period::containing(Window::Monthly, at);
    let day = Period::containing(Window::Daily, at);
    let mut adds = Adds::default();
    adds.request(delta, &day);
    let tokens = Decimal::from(delta.input_tokens + delta.output_tokens);
    // The model limits whose models this is (at most MAX_MODEL_LIMITS).
    for limit in r.model_limits {
        for (metric, value) in
            [(Metric::Cost, delta.cost.value()), (Metric::Tokens, tokens), (Metric::Requests, Decimal::ONE)]
        {
            let attr = item::model_attr(limit, metric);
            adds.add(item::day_attr(&day, &attr), value);
            adds.add(attr, value);
        }
        adds.model_committed(limit, &day.key(), delta.cost.value(), tokens, Decimal::ONE);
    }
    adds.committed(Some(&day.key()), delta.cost.value(), tokens, Decimal::ONE);
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(usage_key(user, at)))
        .expression_attribute_names("#rsv", item::reservation_attr(r.request));
    // A settle releases the reservation's estimate: it leaves the counters
    // exactly once, because the reservation must still be there.
    let conditions = match r.settles {
        Some(reservation) => {
            adds.release(reservation);
            vec!["attribute_exists(#rsv)".to_string()]
        }
        None => vec!["attribute_not_exists(#rsv)".to_string()],
    };
    let (builder, add_clause) = adds.clause(update);
    update = builder;
    // The month leaderboard partition: the byRank index sorts by the row's
    // own cost, so the ADD above keeps it exact with no further write.
    let mut sets = vec!["#ttl = :ttl, #rpk = :rpk, #ru = :ru, #lw = :lw, #lwt = :lwt".to_string()];
    update = update
        .expression_attribute_names("#lw", item::LAST_WRITER)
        .expression_attribute_names("#lwt", item::LAST_WRITE_AT)
        .expression_attribute_values(":lw", s(r.writer))
        .expression_attribute_values(":lwt", time(at))
        .expression_attribute_names("#rpk", RANK_PK)
        .expression_attribute_names("#ru", "userId")
        .expression_attribute_values(
            ":rpk",
            s(keys::rank_month_pk(&month.month_key(), keys::rank_shard(user, fanout.rank_shards))),
        )
        .expression_attribute_values(":ru", s(user.as_str()));
    if let Some(t) = tier {
        sets.push("#rt = :rt".to_string());
        update = update.expression_attribute_names("#rt", "tierId").expression_attribute_values(":rt", s(t.as_str()));
    }
    for (i, event) in events.iter().enumerate() {
        sets.push(format!("#f{i} = :f{i}"));
        update = update
            .expression_attribute_names(format!("#f{i}"), item::event_flag(event))
            .expression_attribute_values(format!(":f{i}"), s(event.event_id.as_str()));
    }
    let remove = if r.settles.is_some() { " REMOVE #rsv" } else { "" };
    let update = update
        .update_expression(format!("{add_clause} SET {}{remove}", sets.join(", ")))
        .expression_attribute_names("#ttl", TTL)
        .expression_attribute_values(":ttl", item::usage_expiry(&month));
    (update, conditions)
}

/// A user's month usage row as the records of the month so far left it:
/// `month` in `requests` records, of which `today` in `today_requests` on
/// the day of `at` (counters and their committed twins). For simulations
/// that start mid-month (`make scale-sim`); the hot path never builds one.
pub fn usage_row(
    user: &UserId,
    at: DateTime<Utc>,
    (month, requests): (&UsageDelta, u64),
    (today, today_requests): (&UsageDelta, u64),
) -> Item {
    let day = Period::containing(Window::Daily, at).key();
    let mut row = usage_key(user, at);
    let figures = |d: &UsageDelta, n: u64| {
        let tokens = Decimal::from(d.input_tokens + d.output_tokens);
        [
            (item::COST, d.cost.value()),
            (item::INPUT_TOKENS, Decimal::from(d.input_tokens)),
            (item::OUTPUT_TOKENS, Decimal::from(d.output_tokens)),
            (item::REQUESTS, Decimal::from(n)),
            (item::COMMITTED_COST, d.cost.value()),
            (item::COMMITTED_TOKENS, tokens),
            (item::COMMITTED_REQUESTS, Decimal::from(n)),
        ]
    };
    for (attr, value) in figures(month, requests) {
        row.insert(attr.to_string(), n(value));
    }
    for (attr, value) in figures(today, today_requests) {
        row.insert(item::day_attr_of(&day, attr), n(value));
    }
    row.insert(TTL.to_string(), item::usage_expiry(&Period::containing(Window::Monthly, at)));
    row
}

/// The keys of every row of a group's usage in the month of `at`.
fn group_usage_keys(group: &GroupId, shards: u32, at: DateTime<Utc>) -> Vec<Item> {
    let month = keys::usage_sk(&Period::containing(Window::Monthly, at));
    GroupRow::all(shards).map(|row| key(keys::group_usage_pk(group, row), &month)).collect()
}

/// Each group's usage: its rows among `found`, summed, with its pool row
/// and the holds on it apart.
fn group_usages(
    groups: &[GroupId],
    shards: u32,
    found: &[Item],
    at: DateTime<Utc>,
) -> Result<BTreeMap<GroupId, GroupUsage>, Error> {
    let mut usages = BTreeMap::new();
    for g in groups {
        let mut usage = GroupUsage::default();
        for (row, k) in GroupRow::all(shards).zip(group_usage_keys(g, shards, at)) {
            let item = found.iter().find(|i| i.get(PK) == k.get(PK) && i.get(SK) == k.get(SK));
            usage.total.absorb(&item::usage_from_item(item, at)?);
            if row == GroupRow::Pool {
                usage.pool = item::usage_from_item(item, at)?;
                usage.holds = item::pool_holds(item)?;
                usage.pool.reservations = usage.holds.iter().map(|h| h.reservation.clone()).collect();
            }
        }
        usage.total.reservations = usage.pool.reservations.clone();
        usages.insert(g.clone(), usage);
    }
    Ok(usages)
}

/// ADDs a request to one row of a group's usage: a standard group's shard
/// (chosen by request id), a strict group's pool (what its holds compare
/// with), with the totals of the month and the day and their committed
/// counters. Settling a hold on the pool releases its estimate, on the
/// condition that the hold is still there; otherwise no condition (the
/// user's row and marker in the same transaction make it once).
fn group_update(table: &str, fanout: &Fanout, share: &GroupShare, r: &Recording<'_>, settle: bool) -> Update {
    let (delta, at) = (&r.charge.delta, r.at);
    let month = Period::containing(Window::Monthly, at);
    let day = Period::containing(Window::Daily, at);
    let mut adds = Adds::default();
    adds.request(delta, &day);
    let tokens = Decimal::from(delta.input_tokens + delta.output_tokens);
    adds.committed(Some(&day.key()), delta.cost.value(), tokens, Decimal::ONE);
    let row = if share.strict { GroupRow::Pool } else { GroupRow::for_request(r.request, fanout.group_usage_shards) };
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(key(keys::group_usage_pk(&share.group, row), keys::usage_sk(&month))))
        .expression_attribute_names("#ttl", TTL)
        .expression_attribute_values(":ttl", item::usage_expiry(&month));
    let held = r.settles.filter(|_| settle && share.strict);
    if let Some(held) = held {
        adds.pool_release(&Reservation { limit: None, groups: vec![], ..held.clone() });
        update = update
            .expression_attribute_names("#h", item::hold_attr(r.user, r.request))
            .condition_expression("attribute_exists(#h)");
    }
    let (update, add_clause) = adds.clause(update);
    let remove = if held.is_some() { " REMOVE #h" } else { "" };
    update.update_expression(format!("{add_clause} SET #ttl = :ttl{remove}")).build().expect("required fields set")
}

/// ADDs a request to the member's own figures in a group this month (on
/// the member's partition: no group-wide item), which the group's
/// leaderboard partition on the byRank index ranks by cost.
fn member_update(table: &str, fanout: &Fanout, group: &GroupId, r: &Recording<'_>) -> Update {
    let month = Period::containing(Window::Monthly, r.at);
    let row = RankedRow {
        key: key(keys::user_pk(r.user), keys::member_usage_sk(group, &month.month_key())),
        rank: keys::group_rank_month_pk(group, &month.month_key(), keys::rank_shard(r.user, fanout.rank_shards)),
        expiry: item::usage_expiry(&month),
    };
    row.update(table, r.user, &r.charge.delta, r.tier)
}

/// Items a recording writes per group: the group's row and the member's figures.
const ITEMS_PER_GROUP: usize = 2;

/// The recording's updates of its groups' rows and of the member's figures
/// in each, as transaction items (at most 2 x 10); the groups in
/// `unsettled` count without settling (their hold is gone).
fn group_items(
    table: &str,
    fanout: &Fanout,
    r: &Recording<'_>,
    unsettled: &BTreeSet<GroupId>,
) -> Vec<TransactWriteItem> {
    r.groups
        .iter()
        .flat_map(|g| {
            let settle = g.settles && !unsettled.contains(&g.group);
            [
                TransactWriteItem::builder().update(group_update(table, fanout, g, r, settle)).build(),
                TransactWriteItem::builder().update(member_update(table, fanout, &g.group, r)).build(),
            ]
        })
        .collect()
}

/// The group whose settle failed in a cancelled recording whose group
/// items start at `first`: its hold is gone (expired, let go by another
/// member's hold), so the recording is tried again without settling it.
fn unsettled_group(c: &Cancelled, r: &Recording<'_>, first: usize) -> Option<GroupId> {
    r.groups
        .iter()
        .enumerate()
        .find(|(i, g)| g.settles && c.condition_failed(first + ITEMS_PER_GROUP * i).is_some())
        .map(|(_, g)| g.group.clone())
}

/// ADDs a request to the user's row of the day (the usage analytics read
/// these rows; the byRank index ranks them by their cost).
fn user_day_update(
    user: &UserId,
    delta: &UsageDelta,
    at: DateTime<Utc>,
    tier: Option<&TierId>,
    (table, fanout): (&str, &Fanout),
) -> Update {
    let day = Period::containing(Window::Daily, at);
    let row = RankedRow {
        key: key(keys::user_pk(user), keys::user_day_sk(&day)),
        rank: keys::rank_day_pk(&day.key(), keys::rank_shard(user, fanout.rank_shards)),
        expiry: n(epoch(day.resets_at + Duration::days(USAGE_RETENTION_DAYS))),
    };
    row.update(table, user, delta, tier)
}

/// A user's figures on a leaderboard (a day's, or a month's in a group):
/// its key, its partition on the byRank index and its expiry.
struct RankedRow {
    key: Item,
    rank: String,
    expiry: aws_sdk_dynamodb::types::AttributeValue,
}

impl RankedRow {
    /// ADDs one request's figures, and names the user, the tier and the
    /// leaderboard partition.
    fn update(self, table: &str, user: &UserId, delta: &UsageDelta, tier: Option<&TierId>) -> Update {
        let mut update = Update::builder()
            .table_name(table)
            .set_key(Some(self.key))
            .expression_attribute_names("#c", item::COST)
            .expression_attribute_names("#i", item::INPUT_TOKENS)
            .expression_attribute_names("#o", item::OUTPUT_TOKENS)
            .expression_attribute_names("#r", item::REQUESTS)
            .expression_attribute_names("#u", "userId")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_names("#rpk", RANK_PK)
            .expression_attribute_values(":c", n(delta.cost.value()))
            .expression_attribute_values(":i", n(delta.input_tokens))
            .expression_attribute_values(":o", n(delta.output_tokens))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":u", s(user.as_str()))
            .expression_attribute_values(":ttl", self.expiry)
            .expression_attribute_values(":rpk", s(self.rank));
        let mut sets = vec!["#u = :u", "#ttl = :ttl", "#rpk = :rpk"];
        if let Some(t) = tier {
            sets.push("#tier = :tier");
            update = update
                .expression_attribute_names("#tier", "tierId")
                .expression_attribute_values(":tier", s(t.as_str()));
        }
        update
            .update_expression(format!("ADD #c :c, #i :i, #o :o, #r :one SET {}", sets.join(", ")))
            .build()
            .expect("required fields set")
    }
}

/// The idempotency marker: what the request added and, when known, the
/// state right after it, so that a retry can answer what the first call did.
fn marker_put(
    table: &str,
    user: &UserId,
    request: &RequestId,
    charge: &Charge,
    at: DateTime<Utc>,
    state: Option<&UsageSnapshot>,
    nonce: &str,
) -> Put {
    let mut marker = key(keys::user_pk(user), keys::request_sk(request));
    marker.insert(NONCE.into(), s(nonce));
    marker.insert("recordedAt".into(), time(at));
    marker.extend(item::charge_attributes(charge));
    marker.insert(TTL.into(), n(epoch(at + Duration::days(REQUEST_MARKER_DAYS))));
    if let Some(state) = state {
        marker.extend(item::marker_state_attributes(state));
    }
    Put::builder()
        .table_name(table)
        .set_item(Some(marker))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ALL_OLD)
        .build()
        .expect("required fields set")
}

impl DynamoStore {
    /// The configuration version, the user's direct assignment, overrides,
    /// named groups and this month's usage, and every row of `groups`' usage,
    /// read consistently in a single BatchGetItem (at most 5 + 10 x 9 = 95
    /// keys of its 100).
    pub async fn load_user_view(
        &self,
        user: &UserId,
        groups: &[GroupId],
        now: DateTime<Utc>,
    ) -> Result<UserView, Error> {
        let version_key =
            key(keys::version_pk(keys::version_shard(user, self.fanout.version_reads())), keys::VERSION_SK);
        let direct_key = key(keys::user_pk(user), keys::ASSIGNMENT_SK);
        let overrides_key = key(keys::user_pk(user), keys::OVERRIDES_SK);
        let groups_key = key(keys::user_pk(user), keys::USER_GROUPS_SK);
        let usage_key = usage_key(user, now);
        let mut wanted = vec![version_key.clone(), direct_key.clone(), overrides_key.clone(), groups_key.clone()];
        wanted.push(usage_key.clone());
        let shards = self.fanout.group_reads();
        wanted.extend(groups.iter().flat_map(|g| group_usage_keys(g, shards, now)));
        let found = self.batch_get(wanted).await?;
        let find = |k: &Item| found.iter().find(|i| i.get(PK) == k.get(PK) && i.get(SK) == k.get(SK));
        Ok(UserView {
            config_version: find(&version_key)
                .map(|i| item::opt_n(i, "configVersion"))
                .transpose()?
                .flatten()
                .unwrap_or(0),
            config_changes: super::change_log::changes_of(find(&version_key)),
            direct: find(&direct_key).map(item::assignment_from_item).transpose()?,
            overrides: item::user_overrides_from_item(find(&overrides_key))?,
            usage: item::usage_from_item(find(&usage_key), now)?,
            named_groups: item::user_groups_from_item(find(&groups_key))?,
            group_usage: group_usages(groups, shards, &found, now)?,
        })
    }

    /// Every row of `groups`' usage this month, summed per group, in one
    /// BatchGetItem.
    pub async fn load_group_usage(
        &self,
        groups: &[GroupId],
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<GroupId, GroupUsage>, Error> {
        if groups.is_empty() {
            return Ok(BTreeMap::new());
        }
        let shards = self.fanout.group_reads();
        let found = self.batch_get(groups.iter().flat_map(|g| group_usage_keys(g, shards, now)).collect()).await?;
        group_usages(groups, shards, &found, now)
    }

    /// The items of `wanted` (at most 100 keys) that exist, read
    /// consistently. BatchGetItem may hand back keys it did not get to
    /// (capacity, never a fault of the request): they are asked again with
    /// the transactions' bounded pauses, then the call is unavailable (503).
    pub(super) async fn batch_get(&self, wanted: Vec<Item>) -> Result<Vec<Item>, Error> {
        let mut pending =
            KeysAndAttributes::builder().set_keys(Some(wanted)).consistent_read(true).build().expect("keys set");
        let mut found: Vec<Item> = Vec::new();
        for attempt in 1.. {
            let out = self
                .client
                .batch_get_item()
                .request_items(self.quota(), pending)
                .send()
                .await
                .map_err(|e| store_error("BatchGetItem", e))?;
            if let Some(items) = out.responses().and_then(|r| r.get(self.quota())) {
                found.extend(items.iter().cloned());
            }
            match out.unprocessed_keys().and_then(|u| u.get(self.quota())).filter(|k| !k.keys().is_empty()) {
                Some(rest) if attempt <= CONTENTION_RETRIES => {
                    pending = rest.clone();
                    tokio::time::sleep(contention_backoff(attempt)).await;
                }
                Some(_) => return Err(Error::Unavailable("BatchGetItem left keys unprocessed".into())),
                None => break,
            }
        }
        Ok(found)
    }

    /// This month's (and today's) usage of one user.
    pub async fn get_usage(&self, user: &UserId, at: DateTime<Utc>) -> Result<UsageSnapshot, Error> {
        let out = self
            .client
            .get_item()
            .table_name(self.quota())
            .set_key(Some(usage_key(user, at)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        item::usage_from_item(out.item(), at)
    }

    /// Adds one request's cost and tokens outside any check (demo data,
    /// tests): [`DynamoStore::record_usage_unguarded`] with no tier judged.
    pub async fn add_usage(
        &self,
        user: &UserId,
        request: &RequestId,
        delta: &UsageDelta,
        at: DateTime<Utc>,
    ) -> Result<RecordOutcome, Error> {
        let charge = Charge::client(Consumption::client(*delta), delta.cost);
        let recording = Recording {
            user,
            request,
            charge: &charge,
            at,
            tier: None,
            writer: "direct",
            settles: None,
            model_limits: &[],
            groups: &[],
        };
        self.record_usage_unguarded(recording).await
    }

    /// Adds one request's cost and tokens to the day and the month without
    /// the guard, exactly once per request id: the counters and the request's
    /// marker are written in one transaction, and a marker that exists
    /// already cancels it.
    pub async fn record_usage_unguarded(&self, r: Recording<'_>) -> Result<RecordOutcome, Error> {
        let (user, request, charge, at) = (r.user, r.request, r.charge, r.at);
        let (update, conditions) = usage_update(self.quota(), &self.fanout, &r, &[]);
        let update = update
            .condition_expression(conditions.join(" AND "))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .expect("required fields set");
        let nonce = uuid::Uuid::new_v4().to_string();
        let marker = marker_put(self.quota(), user, request, charge, at, None, &nonce);
        let day_row = user_day_update(user, &charge.delta, at, r.tier, (self.quota(), &self.fanout));
        let base = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().put(marker).build(),
            TransactWriteItem::builder().update(day_row).build(),
        ];
        let mut unsettled = BTreeSet::new();
        let result = loop {
            let mut items = base.clone();
            items.extend(group_items(self.quota(), &self.fanout, &r, &unsettled));
            match self.transact_retrying(items).await? {
                Err(c) if let Some(g) = unsettled_group(&c, &r, base.len()) => unsettled.insert(g),
                other => break other,
            };
        };
        match result {
            Ok(()) => Ok(RecordOutcome::Recorded),
            Err(c) => match c.condition_failed(1) {
                Some(r) if own_marker(r.item.as_ref(), &nonce) => Ok(RecordOutcome::Recorded),
                Some(r) => {
                    let (recorded_at, cost, recorded) = match &r.item {
                        Some(old) => {
                            let recorded = item::charge_from_marker(old)?;
                            (item::get_time(old, "recordedAt")?, recorded.delta.cost, Some(Box::new(recorded)))
                        }
                        // The emulator may not return the old image; the marker exists all the same.
                        None => (at, charge.delta.cost, None),
                    };
                    Ok(RecordOutcome::Duplicate { recorded_at, cost, recorded })
                }
                None => match c.condition_failed(0) {
                    // The reservation is not as the caller believed.
                    Some(r) => Ok(RecordOutcome::Stale(Box::new(item::usage_from_item(r.item.as_ref(), at)?))),
                    None => Err(Error::Store("record usage cancelled".into())),
                },
            },
        }
    }

    /// Records a request only if the stored usage still is `plan.expected`
    /// (its request count acts as the row's version), together with the
    /// request's marker and the events the new state triggers: one
    /// transaction, and the caller knows the exact new state without reading it.
    pub async fn record_usage_guarded(&self, plan: RecordPlan<'_>) -> Result<GuardedRecord, Error> {
        let r = plan.recording;
        let post = plan.expected.plus_for(&r.charge.delta, r.model_limits);
        // `#m3` is the month's request count, which every record moves by one.
        let mut conditions = vec![if plan.expected.monthly.requests == 0 {
            "(attribute_not_exists(#m3) OR #m3 = :expected)".to_string()
        } else {
            "#m3 = :expected".to_string()
        }];
        // An event flag set meanwhile (by a check's block) must not be written twice.
        conditions.extend((0..plan.events.len()).map(|i| format!("attribute_not_exists(#f{i})")));
        let (update, reservation) = usage_update(self.quota(), &self.fanout, &r, plan.events);
        conditions.extend(reservation);
        let update = update
            .condition_expression(conditions.join(" AND "))
            .expression_attribute_names("#m3", item::REQUESTS)
            .expression_attribute_values(":expected", n(plan.expected.monthly.requests))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .expect("required fields set");
        let nonce = uuid::Uuid::new_v4().to_string();
        let marker = marker_put(self.quota(), r.user, r.request, r.charge, r.at, Some(&post), &nonce);
        let mut items =
            vec![TransactWriteItem::builder().update(update).build(), TransactWriteItem::builder().put(marker).build()];
        items.extend(plan.events.iter().map(|e| event_put(self.events(), e, self.fanout.event_partitions)));
        let day_row = user_day_update(r.user, &r.charge.delta, r.at, r.tier, (self.quota(), &self.fanout));
        items.push(TransactWriteItem::builder().update(day_row).build());
        let mut unsettled = BTreeSet::new();
        let result = loop {
            let mut all = items.clone();
            all.extend(group_items(self.quota(), &self.fanout, &r, &unsettled));
            match self.transact_retrying(all).await? {
                Err(c) if let Some(g) = unsettled_group(&c, &r, items.len()) => unsettled.insert(g),
                other => break other,
            };
        };
        match result {
            Ok(()) => Ok(GuardedRecord::Recorded),
            Err(c) => {
                if let Some(r) = c.condition_failed(1) {
                    let old = r.item.as_ref();
                    if own_marker(old, &nonce) {
                        return Ok(GuardedRecord::Recorded);
                    }
                    return Ok(GuardedRecord::Duplicate {
                        state: old.map(item::marker_state).transpose()?.flatten(),
                        recorded: old.map(item::charge_from_marker).transpose()?.map(Box::new),
                    });
                }
                match c.condition_failed(0) {
                    Some(r) => Ok(GuardedRecord::Stale(item::usage_from_item(r.item.as_ref(), plan.recording.at)?)),
                    None => Err(Error::Store("guarded record cancelled".into())),
                }
            }
        }
    }
}
