//! Usage analytics, read from what the records keep: each user's month row
//! and day row carry a leaderboard partition (`TOPM#{month}#{shard}` or
//! `TOPD#{day}#{shard}`; `Fanout::rank_shards` shards a period, so no
//! partition takes every record's index write) on the byRank index, which
//! sorts them by their own cost. Top users merge the shards' heads; a day's
//! totals sum its rows once the day is over and are kept, so every later
//! question about that day is one read. No Scan.

use super::dynamo::{DynamoStore, store_error};
use super::item::{self, Item, key, n, s};
use super::keys;
use super::schema::{RANK_PK, USAGE_BY_COST};
use crate::error::Error;
use crate::model::period::Period;
use crate::model::{GroupId, Money, TierId, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// A completed day's totals are kept only once it ended this long ago: the
/// leaderboard index is read eventually consistently, and its copy of a
/// record normally follows within a second but can lag behind a throttled
/// index for minutes. Until then the day is summed live on every question.
pub const SETTLE: Duration = Duration::hours(1);
/// A day that ended less than this ago is read twice before it is kept.
pub const RECHECK_WITHIN: Duration = Duration::days(1);

/// Leaderboard shards queried at once.
const SHARDS_AT_ONCE: usize = 16;

/// One user's figures for a period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserTotals {
    pub user_id: UserId,
    /// The tier of the user's latest record in the period.
    pub tier_id: Option<TierId>,
    pub cost: Money,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub requests: u64,
}

/// All users' figures for one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayTotals {
    pub day: String,
    pub cost: Money,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub requests: u64,
    pub active_users: u64,
}

fn totals_from(row: &Item) -> Result<UserTotals, Error> {
    Ok(UserTotals {
        user_id: UserId::parse(item::get_s(row, "userId")?).map_err(|_| Error::Store("malformed userId".into()))?,
        tier_id: item::opt_s(row, "tierId").and_then(|t| TierId::parse(t).ok()),
        cost: Money::from_stored(item::get_n(row, item::COST)?),
        input_tokens: item::opt_n(row, item::INPUT_TOKENS)?.unwrap_or(0),
        output_tokens: item::opt_n(row, item::OUTPUT_TOKENS)?.unwrap_or(0),
        requests: item::opt_n(row, item::REQUESTS)?.unwrap_or(0),
    })
}

/// Which leaderboard: every user's in a period, or a group's members' in a month.
#[derive(Clone, Copy)]
enum Board<'a> {
    Users(&'a Period),
    Group(&'a GroupId, &'a Period),
}

impl DynamoStore {
    /// Every row of one leaderboard partition, highest cost first, up to
    /// `limit` (all of them when `None`), only `tier`'s when given.
    async fn leaderboard(
        &self,
        board: Board<'_>,
        shard: u32,
        tier: Option<&TierId>,
        limit: Option<usize>,
    ) -> Result<Vec<UserTotals>, Error> {
        let pk = match board {
            Board::Users(period) => match period.window {
                crate::model::period::Window::Monthly => keys::rank_month_pk(&period.month_key(), shard),
                crate::model::period::Window::Daily => keys::rank_day_pk(&period.key(), shard),
            },
            Board::Group(group, month) => keys::group_rank_month_pk(group, &month.month_key(), shard),
        };
        let mut q = self
            .client
            .query()
            .table_name(self.quota())
            .index_name(USAGE_BY_COST)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", RANK_PK)
            .expression_attribute_values(":pk", s(&pk))
            .scan_index_forward(false);
        if let Some(t) = tier {
            q = q.filter_expression("tierId = :tier").expression_attribute_values(":tier", s(t.as_str()));
        }
        Ok(self.query_filling(q, limit, None, totals_from).await?.0)
    }

    /// Every shard of a leaderboard (the larger of the stage's shard counts
    /// while one rolls out, so rows written under either are found), each
    /// as [`DynamoStore::leaderboard`] reads it, in shard order. A few run
    /// at once: hundreds of shards read one by one would take seconds.
    async fn shards(
        &self,
        board: Board<'_>,
        tier: Option<&TierId>,
        limit: Option<usize>,
    ) -> Result<Vec<Vec<UserTotals>>, Error> {
        use futures_util::{StreamExt, TryStreamExt};
        futures_util::stream::iter(0..self.fanout.rank_reads())
            .map(|shard| self.leaderboard(board, shard, tier, limit))
            .buffered(SHARDS_AT_ONCE)
            .try_collect()
            .await
    }

    /// The `limit` users who spent most in `period` (a UTC month or day),
    /// optionally of one tier: the heads of every shard, merged.
    pub async fn top_users(
        &self,
        period: &Period,
        tier: Option<&TierId>,
        limit: usize,
    ) -> Result<Vec<UserTotals>, Error> {
        self.merged(Board::Users(period), tier, limit).await
    }

    /// The `limit` members of `group` who spent most in the UTC month
    /// `month` (from each member's own figures in the group, which every
    /// record of the group adds to).
    pub async fn top_members(
        &self,
        group: &GroupId,
        month: &Period,
        tier: Option<&TierId>,
        limit: usize,
    ) -> Result<Vec<UserTotals>, Error> {
        self.merged(Board::Group(group, month), tier, limit).await
    }

    /// Every user's row of the UTC day `day` (only `tier`'s when given),
    /// from every shard of the day leaderboard: what a simulation replays.
    /// Refused (400 on `field`) once more than `budget` rows would be read.
    pub async fn day_rows(
        &self,
        day: &Period,
        tier: Option<&TierId>,
        budget: &mut usize,
        field: &str,
    ) -> Result<Vec<UserTotals>, Error> {
        let mut rows = Vec::new();
        for got in self.shards(Board::Users(day), tier, Some(*budget + 1)).await? {
            if got.len() > *budget {
                return Err(Error::field(field, "the range holds more user-days than one simulation reads: narrow it"));
            }
            *budget -= got.len();
            rows.extend(got);
        }
        Ok(rows)
    }

    /// One user's day rows from `first` to `last` (UTC days, `yyyy-mm-dd`).
    pub async fn user_days(&self, user: &UserId, first: &str, last: &str) -> Result<Vec<(String, UserTotals)>, Error> {
        let q = self
            .client
            .query()
            .table_name(self.quota())
            .key_condition_expression("pk = :pk AND sk BETWEEN :first AND :last")
            .expression_attribute_values(":pk", s(keys::user_pk(user)))
            .expression_attribute_values(":first", s(format!("DAY#{first}")))
            .expression_attribute_values(":last", s(format!("DAY#{last}")));
        let parse = |row: &Item| -> Result<(String, UserTotals), Error> {
            let day = item::get_s(row, "sk")?.trim_start_matches("DAY#").to_string();
            Ok((day, totals_from(row)?))
        };
        Ok(self.query_filling(q, None, None, parse).await?.0)
    }

    /// The heads of every shard of a leaderboard, merged.
    async fn merged(&self, board: Board<'_>, tier: Option<&TierId>, limit: usize) -> Result<Vec<UserTotals>, Error> {
        let mut all: Vec<UserTotals> = self.shards(board, tier, Some(limit)).await?.into_iter().flatten().collect();
        all.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.user_id.cmp(&b.user_id)));
        all.truncate(limit);
        Ok(all)
    }

    /// The totals of each day (UTC), optionally of one tier's users. A day
    /// over (by [`SETTLE`]) is summed, checked by a second read and kept;
    /// today is summed live.
    pub async fn daily_totals(
        &self,
        days: &[Period],
        tier: Option<&TierId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DayTotals>, Error> {
        let mut out = Vec::with_capacity(days.len());
        for day in days {
            let settled = day.resets_at + SETTLE <= now;
            let (pk, sk) = keys::day_total_key(&day.key(), tier);
            if settled && let Some(kept) = self.kept_day(&pk, &sk).await? {
                out.push(kept);
                continue;
            }
            let totals = self.sum_day(day, tier).await?;
            // A day over for less than a day is kept only when a second read
            // finds the same (a copy still arriving in the index shows as a
            // difference, and the next question sums again); by then an
            // index has long caught up, and one read is kept as it is.
            let recent = now < day.resets_at + RECHECK_WITHIN;
            let settled = settled && (!recent || self.sum_day(day, tier).await? == totals);
            if settled {
                self.keep_day(&pk, &sk, &totals).await?;
            }
            out.push(totals);
        }
        Ok(out)
    }

    /// A day's totals from every shard of its leaderboard.
    async fn sum_day(&self, day: &Period, tier: Option<&TierId>) -> Result<DayTotals, Error> {
        let mut totals = DayTotals {
            day: day.key(),
            cost: Money::ZERO,
            input_tokens: 0,
            output_tokens: 0,
            requests: 0,
            active_users: 0,
        };
        for rows in self.shards(Board::Users(day), tier, None).await? {
            for row in rows {
                totals.cost = totals.cost.plus(row.cost);
                totals.input_tokens += row.input_tokens;
                totals.output_tokens += row.output_tokens;
                totals.requests += row.requests;
                totals.active_users += 1;
            }
        }
        Ok(totals)
    }

    async fn kept_day(&self, pk: &str, sk: &str) -> Result<Option<DayTotals>, Error> {
        let got = self
            .client
            .get_item()
            .table_name(self.quota())
            .set_key(Some(key(pk, sk)))
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        let Some(row) = got.item() else { return Ok(None) };
        Ok(Some(DayTotals {
            day: item::get_s(row, "day")?.to_string(),
            cost: Money::from_stored(item::get_n(row, item::COST)?),
            input_tokens: item::get_n(row, item::INPUT_TOKENS)?,
            output_tokens: item::get_n(row, item::OUTPUT_TOKENS)?,
            requests: item::get_n(row, item::REQUESTS)?,
            active_users: item::get_n(row, "activeUsers")?,
        }))
    }

    async fn keep_day(&self, pk: &str, sk: &str, t: &DayTotals) -> Result<(), Error> {
        let mut row = key(pk, sk);
        row.insert("day".into(), s(&t.day));
        row.insert(item::COST.into(), n(t.cost.value()));
        row.insert(item::INPUT_TOKENS.into(), n(t.input_tokens));
        row.insert(item::OUTPUT_TOKENS.into(), n(t.output_tokens));
        row.insert(item::REQUESTS.into(), n(t.requests));
        row.insert("activeUsers".into(), n(t.active_users));
        self.client
            .put_item()
            .table_name(self.quota())
            .set_item(Some(row))
            .send()
            .await
            .map_err(|e| store_error("PutItem", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::{PK, QUOTA_TABLE, RANK_PK, RANK_SK, SK};

    #[test]
    fn the_leaderboards_read_only_what_their_index_projects() {
        let index = QUOTA_TABLE.indexes.iter().find(|i| i.name == USAGE_BY_COST).expect("the leaderboard index");
        assert_eq!(index.projection, "INCLUDE", "a usage row's other attributes never write the index");
        // An index entry holds the keys and the projected attributes, nothing else.
        let mut entry: Item = [PK, SK, RANK_PK].into_iter().map(|k| (k.to_string(), s("x"))).collect();
        entry.insert(RANK_SK.into(), n("12.5"));
        for attr in index.non_key_attributes {
            entry.insert(attr.to_string(), if *attr == "userId" || *attr == "tierId" { s("dana") } else { n(3) });
        }
        let totals = totals_from(&entry).expect("every figure read is projected");
        assert_eq!(
            (totals.cost, totals.requests, totals.tier_id.is_some()),
            (Money::from_stored(rust_decimal::Decimal::new(125, 1)), 3, true)
        );
    }
}
