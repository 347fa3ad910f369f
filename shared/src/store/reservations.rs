//! Strict mode's writes: a reservation is one transaction that checks the
//! configuration version, holds the estimate on the user's usage row under
//! one bound per limit (releasing expired reservations on the way), and
//! checks that the request was not recorded already.

use super::dynamo::{ALL_OLD, DynamoStore};
use super::item::usage_key;
use super::item::{self, key, n};
use super::keys;
use super::keys::GroupRow;
use super::schema::TTL;
use super::usage::Adds;
use crate::error::Error;
use crate::model::period::{Period, Window};
use crate::model::{GroupId, LimitId, Metric, Reservation, UserId};
use crate::quota::port::{ReleaseOutcome, ReserveOutcome, ReservePlan};
use crate::rules::reserve::{MAX_OPEN_RESERVATIONS, MAX_POOL_HOLDS, PoolPlan};
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

/// The attribute a counter of `window` and `metric` is kept in, on a row
/// of `today`'s month (a model limit's when `limit` is set).
fn counter_attr(window: Window, metric: Metric, limit: Option<&LimitId>, today: &Period) -> String {
    let counter = match metric {
        Metric::Cost => item::COMMITTED_COST,
        Metric::Tokens => item::COMMITTED_TOKENS,
        Metric::Requests => item::COMMITTED_REQUESTS,
    };
    let counter = match limit {
        None => counter.to_string(),
        Some(limit) => item::model_committed_attr(limit, metric),
    };
    match window {
        Window::Daily => item::day_attr(today, &counter),
        Window::Monthly => counter,
    }
}

/// A member's hold on a strict group's pool row: the estimate on the pool's
/// committed counters under the plan's bounds, the hold itself
/// (`hold:{user}#{request}`), at most [`MAX_POOL_HOLDS`] open, releasing
/// expired holds of any member on the way (each at most once: it must still
/// be there).
fn pool_hold_update(table: &str, user: &UserId, r: &Reservation, plan: &PoolPlan, at: DateTime<Utc>) -> Update {
    let today = Period::containing(Window::Daily, at);
    let month = Period::containing(Window::Monthly, at);
    let held = Reservation { limit: None, groups: vec![], ..r.clone() };
    let mut adds = Adds::default();
    adds.pool_hold(&held);
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(key(keys::group_usage_pk(&plan.group, GroupRow::Pool), keys::usage_sk(&month))))
        .expression_attribute_names("#h", item::hold_attr(user, &r.request_id))
        .expression_attribute_values(":h", item::reservation_value(&held))
        .expression_attribute_names("#ttl", TTL)
        .expression_attribute_values(":ttl", item::usage_expiry(&month));
    let mut conditions = match &plan.replaces {
        None => vec!["attribute_not_exists(#h)".to_string()],
        Some(old) => {
            adds.pool_release(old);
            update = update
                .expression_attribute_names("#hexp", "expiresAt")
                .expression_attribute_values(":hexp", item::time(old.expires_at));
            vec!["#h.#hexp = :hexp".to_string()]
        }
    };
    let open_before = MAX_POOL_HOLDS - 1 + plan.release.len() + usize::from(plan.replaces.is_some());
    conditions.push("(attribute_not_exists(#open) OR #open <= :open)".to_string());
    update = update
        .expression_attribute_names("#open", item::OPEN_HOLDS)
        .expression_attribute_values(":open", n(open_before));
    let mut removes = Vec::new();
    for (i, old) in plan.release.iter().enumerate() {
        adds.pool_release(&old.reservation);
        update = update
            .expression_attribute_names(format!("#x{i}"), item::hold_attr(&old.user, &old.reservation.request_id));
        conditions.push(format!("attribute_exists(#x{i})"));
        removes.push(format!("#x{i}"));
    }
    for (i, bound) in plan.bounds.iter().enumerate() {
        conditions.push(format!("(attribute_not_exists(#b{i}) OR #b{i} <= :b{i})"));
        update = update
            .expression_attribute_names(format!("#b{i}"), counter_attr(bound.window, bound.metric, None, &today))
            .expression_attribute_values(format!(":b{i}"), n(bound.at_most));
    }
    let (update, add_clause) = adds.clause(update);
    let remove = if removes.is_empty() { String::new() } else { format!(" REMOVE {}", removes.join(", ")) };
    update
        .update_expression(format!("{add_clause} SET #h = :h, #ttl = :ttl{remove}"))
        .condition_expression(conditions.join(" AND "))
        .build()
        .expect("required fields set")
}

impl DynamoStore {
    pub async fn reserve(&self, plan: ReservePlan<'_>) -> Result<ReserveOutcome, Error> {
        let r = plan.reservation;
        let today = Period::containing(Window::Daily, plan.at);
        let month = Period::containing(Window::Monthly, plan.at);

        let version = ConditionCheck::builder()
            .table_name(self.quota())
            .set_key(Some(key(
                keys::version_pk(keys::version_shard(plan.user, self.fanout.version_reads())),
                keys::VERSION_SK,
            )))
            .expression_attribute_names("#v", "configVersion");
        let version = if plan.config_version == 0 {
            version.condition_expression("attribute_not_exists(#v)")
        } else {
            version.condition_expression("#v = :v").expression_attribute_values(":v", n(plan.config_version))
        };

        let mut adds = Adds::default();
        adds.hold(r);
        let mut update = Update::builder()
            .table_name(self.quota())
            .set_key(Some(usage_key(plan.user, plan.at)))
            .expression_attribute_names("#rsv", item::reservation_attr(&r.request_id))
            .expression_attribute_values(":rsv", item::reservation_value(r))
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":ttl", item::usage_expiry(&month));
        // A new hold, or this request's own lapsed one, replaced as it was read
        // (a retried check): its release and the new hold are one SET.
        let mut conditions = match plan.replaces {
            None => vec!["attribute_not_exists(#rsv)".to_string()],
            Some(old) => {
                adds.release(old);
                update = update
                    .expression_attribute_names("#rexp", "expiresAt")
                    .expression_attribute_values(":rexp", item::time(old.expires_at));
                vec!["#rsv.#rexp = :rexp".to_string()]
            }
        };
        // At most MAX_OPEN_RESERVATIONS open after this write.
        let open_before = MAX_OPEN_RESERVATIONS - 1 + plan.release.len() + usize::from(plan.replaces.is_some());
        conditions.push("(attribute_not_exists(#open) OR #open <= :open)".to_string());
        update = update
            .expression_attribute_names("#open", item::OPEN_RESERVATIONS)
            .expression_attribute_values(":open", n(open_before));
        let mut removes = Vec::new();
        for (i, old) in plan.release.iter().enumerate() {
            adds.release(old);
            update = update.expression_attribute_names(format!("#x{i}"), item::reservation_attr(&old.request_id));
            conditions.push(format!("attribute_exists(#x{i})"));
            removes.push(format!("#x{i}"));
        }
        for (i, bound) in plan.bounds.iter().enumerate() {
            let attr = counter_attr(bound.window, bound.metric, bound.limit_id.as_ref(), &today);
            // A counter not written yet holds zero, which is within any bound >= 0.
            conditions.push(format!("(attribute_not_exists(#b{i}) OR #b{i} <= :b{i})"));
            update = update
                .expression_attribute_names(format!("#b{i}"), attr)
                .expression_attribute_values(format!(":b{i}"), n(bound.at_most));
        }
        let (update, add_clause) = adds.clause(update);
        let remove = if removes.is_empty() { String::new() } else { format!(" REMOVE {}", removes.join(", ")) };
        let update = update
            .update_expression(format!("{add_clause} SET #rsv = :rsv, #ttl = :ttl{remove}"))
            .condition_expression(conditions.join(" AND "))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .expect("required fields set");

        let recorded = ConditionCheck::builder()
            .table_name(self.quota())
            .set_key(Some(key(keys::user_pk(plan.user), keys::request_sk(&r.request_id))))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("required fields set");
        let mut items = vec![
            TransactWriteItem::builder().condition_check(version.build().expect("required fields set")).build(),
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().condition_check(recorded).build(),
        ];
        for pool in plan.pools {
            items.push(
                TransactWriteItem::builder()
                    .update(pool_hold_update(self.quota(), plan.user, r, pool, plan.at))
                    .build(),
            );
        }
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(ReserveOutcome::Reserved),
            Err(c) if c.condition_failed(2).is_some() => Ok(ReserveOutcome::AlreadyRecorded),
            Err(c) if c.condition_failed(0).is_some() => Ok(ReserveOutcome::ConfigChanged),
            Err(c) if let Some(i) = (0..plan.pools.len()).find(|i| c.condition_failed(3 + i).is_some()) => {
                Ok(ReserveOutcome::PoolRefused(plan.pools[i].group.clone()))
            }
            Err(c) => match c.condition_failed(1) {
                Some(reason) => {
                    Ok(ReserveOutcome::Refused(Box::new(item::usage_from_item(reason.item.as_ref(), plan.at)?)))
                }
                None => Err(Error::Store("reservation cancelled".into())),
            },
        }
    }
}

impl DynamoStore {
    /// Lets go of `user`'s hold of `r` on `group`'s pool row, if it is still
    /// there (an expired hold another member's hold let go of is not): true
    /// when released now.
    pub async fn release_pool_hold(&self, group: &GroupId, user: &UserId, r: &Reservation) -> Result<bool, Error> {
        let held = Reservation { limit: None, groups: vec![], ..r.clone() };
        let mut adds = Adds::default();
        adds.pool_release(&held);
        let made = chrono::NaiveDate::parse_from_str(&r.day, "%Y-%m-%d")
            .map(|d| d.and_hms_opt(12, 0, 0).expect("noon exists").and_utc())
            .unwrap_or_else(|_| Utc::now());
        let month = Period::containing(Window::Monthly, made);
        let update = Update::builder()
            .table_name(self.quota())
            .set_key(Some(key(keys::group_usage_pk(group, GroupRow::Pool), keys::usage_sk(&month))))
            .expression_attribute_names("#h", item::hold_attr(user, &r.request_id))
            .expression_attribute_names("#hexp", "expiresAt")
            .expression_attribute_values(":hexp", item::time(r.expires_at));
        let (update, add_clause) = adds.clause(update);
        let update = update
            .update_expression(format!("{add_clause} REMOVE #h"))
            .condition_expression("#h.#hexp = :hexp")
            .build()
            .expect("required fields set");
        match self.transact_retrying(vec![TransactWriteItem::builder().update(update).build()]).await? {
            Ok(()) => Ok(true),
            Err(c) if c.condition_failed(0).is_some() => Ok(false),
            Err(_) => Err(Error::Store("pool release cancelled".into())),
        }
    }

    /// Lets go of a reservation before its record (the LLM call failed): its
    /// estimate leaves the committed counters and its place among the open
    /// ones, exactly once (the condition: it is still held as read).
    pub async fn release(&self, user: &UserId, r: &Reservation, at: DateTime<Utc>) -> Result<ReleaseOutcome, Error> {
        let mut adds = Adds::default();
        adds.release(r);
        // The hold lives on the row of the month it was made in.
        let made = chrono::NaiveDate::parse_from_str(&r.day, "%Y-%m-%d")
            .map(|d| d.and_hms_opt(12, 0, 0).expect("noon exists").and_utc())
            .unwrap_or(at);
        let update = Update::builder()
            .table_name(self.quota())
            .set_key(Some(usage_key(user, made)))
            .expression_attribute_names("#rsv", item::reservation_attr(&r.request_id))
            .expression_attribute_names("#rexp", "expiresAt")
            .expression_attribute_values(":rexp", item::time(r.expires_at));
        let (update, add_clause) = adds.clause(update);
        let update = update
            .update_expression(format!("{add_clause} REMOVE #rsv"))
            .condition_expression("#rsv.#rexp = :rexp")
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .expect("required fields set");
        match self.transact_retrying(vec![TransactWriteItem::builder().update(update).build()]).await? {
            Ok(()) => Ok(ReleaseOutcome::Released),
            Err(c) => match c.condition_failed(0) {
                Some(reason) => Ok(ReleaseOutcome::Stale(Box::new(item::usage_from_item(reason.item.as_ref(), at)?))),
                None => Err(Error::Store("release cancelled".into())),
            },
        }
    }
}
