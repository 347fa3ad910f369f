//! Strict mode: a check reserves its estimate (and one request) against
//! every limit in one conditional write, and the record of the same request
//! id settles it. The store compares the committed counters (usage plus
//! held reservations) with a bound per limit, so no interleaving of checks
//! can push usage past a limit when estimates cover the actual costs. A
//! reservation that is never settled stops counting once it expires: the
//! next reservation releases it in its own write (and counts on that), at
//! most once, because the release requires it to still be there.

use crate::model::period::Window;
use crate::model::{
    Amount, Enforcement, GroupId, GroupUsage, LimitId, Limits, Metric, PoolHold, RequestId, Reservation, Tier,
    UsageSnapshot, UserId,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// The most a committed counter (usage plus holds) may hold before a
/// reservation, so that after it (and after the releases in the same write)
/// it stays within the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub window: Window,
    pub metric: Metric,
    /// The model limit whose counter it bounds (none: the user's own).
    pub limit_id: Option<LimitId>,
    /// The strict group whose pool it bounds (none: the user's row).
    pub group_id: Option<GroupId>,
    pub at_most: Decimal,
    /// The limit and the estimate it was made from (for the refusal's words).
    pub limit: Amount,
    pub estimate: Amount,
}

impl Bound {
    /// True when the estimate would fit beside `used` alone: the limit is
    /// full of reservations, which settle or expire soon.
    pub fn fits_without_holds(&self, used: Amount) -> bool {
        used.value() + self.estimate.value() <= self.limit.value()
    }
}

/// Expired reservations one hold releases at most in its own write: each
/// adds a condition, and DynamoDB refuses an expression over 4 KB or 300
/// operators (25 keep the whole condition near 1 KB and 80 operators); the
/// next holds release the rest.
pub const MAX_RELEASES_PER_HOLD: usize = 25;

/// Reservations a user may hold open at once (expired ones not released
/// yet included): each is ~200 bytes of the month's usage row, which must
/// stay far below DynamoDB's 400 KB item limit (100 keep it near 20 KB).
pub const MAX_OPEN_RESERVATIONS: usize = 100;

/// What a hold of `request` releases in its own write: the expired
/// reservations of others, oldest first, at most [`MAX_RELEASES_PER_HOLD`]
/// (its own lapsed hold is replaced, not released: one write may not name an
/// attribute twice).
pub fn releasable(usage: &UsageSnapshot, request: &RequestId, now: DateTime<Utc>) -> Vec<Reservation> {
    let mut expired: Vec<Reservation> =
        usage.reservations.iter().filter(|r| r.expired(now) && &r.request_id != request).cloned().collect();
    expired.sort_by(|a, b| (a.expires_at, &a.request_id).cmp(&(b.expires_at, &b.request_id)));
    expired.truncate(MAX_RELEASES_PER_HOLD);
    expired
}

/// Everything a hold of `request` lets go of in its write: the releasable
/// expired reservations, and its own lapsed hold, which it replaces.
pub fn freed(usage: &UsageSnapshot, request: &RequestId, now: DateTime<Utc>) -> Vec<Reservation> {
    let mut freed = releasable(usage, request, now);
    freed.extend(usage.reservation(request).filter(|r| r.expired(now)).cloned());
    freed
}

/// True when a hold of `request` now (after what its write lets go of)
/// would pass [`MAX_OPEN_RESERVATIONS`].
pub fn too_many_open(usage: &UsageSnapshot, request: &RequestId, now: DateTime<Utc>) -> bool {
    let after = usage.reservations.len() - freed(usage, request, now).len() + 1;
    after > MAX_OPEN_RESERVATIONS
}

/// What the reservations released now give back to a window's counter
/// (the user's own, or a model limit's: only the holds against it).
fn released(release: &[Reservation], window: Window, metric: Metric, today: &str, of: Option<&LimitId>) -> Decimal {
    release
        .iter()
        .filter(|r| window == Window::Monthly || r.day == today)
        .filter(|r| of.is_none() || r.limit.as_ref() == of)
        .map(|r| r.amount(metric).value())
        .sum()
}

/// The bound of every limit the rules set, and of the model limit the
/// reservation is held against: limit − estimate + released.
pub fn bounds(rules: &Tier, r: &Reservation, release: &[Reservation], today: &str) -> Vec<Bound> {
    let own = crate::rules::decide::limits(rules).into_iter().map(|(w, m, l)| (None, w, m, l));
    let entry = rules.model_limits.iter().filter(|e| Some(&e.limit_id) == r.limit.as_ref()).flat_map(|e| {
        Limits::FIELDS.into_iter().filter_map(move |(_, w, m)| e.limits.get(w, m).map(|l| (Some(&e.limit_id), w, m, l)))
    });
    own.chain(entry)
        .map(|(of, window, metric, limit)| Bound {
            window,
            metric,
            limit_id: of.cloned(),
            group_id: None,
            at_most: limit.value() - r.amount(metric).value() + released(release, window, metric, today, of),
            limit,
            estimate: r.amount(metric),
        })
        .collect()
}

/// What the bound compares: the committed counter of its scope.
pub fn committed_of(usage: &UsageSnapshot, b: &Bound) -> Amount {
    match &b.limit_id {
        None => usage.committed(b.window).amount(b.metric),
        Some(id) => usage.model(id).committed(b.window).amount(b.metric),
    }
}

/// What the bound's scope used (without holds).
pub fn used_of(usage: &UsageSnapshot, b: &Bound) -> Amount {
    match &b.limit_id {
        None => usage.totals(b.window).amount(b.metric),
        Some(id) => usage.model(id).totals(b.window).amount(b.metric),
    }
}

/// The limits `r` does not fit in, given `usage` (expired reservations not
/// counted): the store's condition, decided from a state read from it.
pub fn misfits(rules: &Tier, usage: &UsageSnapshot, r: &Reservation, now: DateTime<Utc>, today: &str) -> Vec<Bound> {
    bounds(rules, r, &freed(usage, &r.request_id, now), today)
        .into_iter()
        .filter(|b| committed_of(usage, b).value() > b.at_most)
        .collect()
}

/// Holds one strict group's pool may carry at once (its members' turns in
/// flight): each is ~150 bytes of the pool row, far below 400 KB.
pub const MAX_POOL_HOLDS: usize = 200;

/// What a hold of `user`'s `request` does on a strict group's pool.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolPlan {
    pub group: GroupId,
    /// Expired holds of any member it lets go of (oldest first, at most
    /// [`MAX_RELEASES_PER_HOLD`]).
    pub release: Vec<PoolHold>,
    /// This request's own lapsed hold, replaced.
    pub replaces: Option<Reservation>,
    /// The pool row's committed counters' bounds: the group's limits less
    /// the estimate, less what the other rows (shards) hold, plus what is released.
    pub bounds: Vec<Bound>,
}

impl PoolPlan {
    /// The plan for `group`, whose limits are `rules`, given its usage.
    pub fn new(
        group: &GroupId,
        rules: &Tier,
        usage: &GroupUsage,
        user: &UserId,
        r: &Reservation,
        now: DateTime<Utc>,
        today: &str,
    ) -> Self {
        let own = |h: &PoolHold| &h.user == user && h.reservation.request_id == r.request_id;
        let mut release: Vec<PoolHold> =
            usage.holds.iter().filter(|h| h.reservation.expired(now) && !own(h)).cloned().collect();
        release.sort_by(|a, b| {
            (a.reservation.expires_at, &a.reservation.request_id)
                .cmp(&(b.reservation.expires_at, &b.reservation.request_id))
        });
        release.truncate(MAX_RELEASES_PER_HOLD);
        let replaces = usage.hold(user, &r.request_id).filter(|h| h.expired(now)).cloned();
        let freed: Vec<Reservation> =
            release.iter().map(|h| h.reservation.clone()).chain(replaces.iter().cloned()).collect();
        let held = Reservation { limit: None, groups: vec![], ..r.clone() };
        let bounds = bounds(rules, &held, &freed, today)
            .into_iter()
            .map(|mut b| {
                b.at_most -= usage.shards_committed(b.window).amount(b.metric).value();
                b.group_id = Some(group.clone());
                b
            })
            .collect();
        PoolPlan { group: group.clone(), release, replaces, bounds }
    }

    /// The bounds the pool row, as `usage` shows it, does not keep: the
    /// store's condition, decided from a state read from it.
    pub fn misfits(&self, usage: &GroupUsage) -> Vec<Bound> {
        self.bounds
            .iter()
            .filter(|b| usage.pool.committed(b.window).amount(b.metric).value() > b.at_most)
            .cloned()
            .collect()
    }

    /// True when the pool would hold more than [`MAX_POOL_HOLDS`] after this write.
    pub fn too_many(&self, usage: &GroupUsage) -> bool {
        usage.holds.len() - self.release.len() - usize::from(self.replaces.is_some()) + 1 > MAX_POOL_HOLDS
    }
}

/// The rules that decide, when they are strict and limit something.
pub fn strict_rules<'a>(basis: &crate::rules::basis::Basis<'a>) -> Option<std::borrow::Cow<'a, Tier>> {
    basis.rules().filter(|r| r.enforcement == Enforcement::Strict && !r.unlimited)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Committed, RequestId};
    use crate::testing::{at, money, tier};

    fn reservation(id: &str, cost: &str, day: &str, expires: &str) -> Reservation {
        Reservation {
            request_id: RequestId::parse(id).unwrap(),
            cost: money(cost),
            tokens: 0,
            day: day.into(),
            expires_at: at(expires),
            limit: None,
            groups: vec![],
        }
    }

    #[test]
    fn a_bound_leaves_room_for_the_estimate_and_gives_back_what_expired() {
        let mut rules = tier("t", "100", "1");
        rules.limits.daily_request_limit = Some(10);
        let r = reservation("new", "0.05", "2026-11-27", "2026-11-27T10:10:00Z");
        let old = [reservation("old", "0.30", "2026-11-26", "2026-11-26T23:59:00Z")];
        let b = bounds(&rules, &r, &old, "2026-11-27");
        let find = |w, m| b.iter().find(|x| x.window == w && x.metric == m).unwrap().at_most;
        assert_eq!(find(Window::Daily, Metric::Cost), Decimal::new(95, 2), "yesterday's hold is not today's");
        assert_eq!(find(Window::Monthly, Metric::Cost), Decimal::new(10025, 2), "100 - 0.05 + 0.30");
        assert_eq!(find(Window::Daily, Metric::Requests), Decimal::from(9));
    }

    #[test]
    fn twenty_holds_of_five_cents_fill_a_limit_of_one_exactly() {
        let rules = tier("t", "", "1");
        let now = at("2026-11-27T10:00:00Z");
        let mut usage = UsageSnapshot::default();
        for i in 0..20 {
            let r = reservation(&format!("r{i}"), "0.05", "2026-11-27", "2026-11-27T10:10:00Z");
            assert!(misfits(&rules, &usage, &r, now, "2026-11-27").is_empty(), "hold {i} fits");
            usage.hold(r);
        }
        assert_eq!(usage.committed_daily, Committed { cost: money("1"), tokens: 0, requests: 20 });
        let one_more = reservation("r20", "0.05", "2026-11-27", "2026-11-27T10:10:00Z");
        assert_eq!(misfits(&rules, &usage, &one_more, now, "2026-11-27").len(), 1);
        // Once they expire, they no longer count.
        let later = at("2026-11-27T10:10:00Z");
        assert!(misfits(&rules, &usage, &one_more, later, "2026-11-27").is_empty());
    }

    #[test]
    fn a_hold_releases_the_oldest_expired_of_others_a_bounded_number_and_replaces_its_own() {
        let now = at("2026-11-27T10:00:00Z");
        let mut usage = UsageSnapshot::default();
        for i in 0..40 {
            // Expired a minute apart, newest first; r39 is the oldest.
            let expiry = now - chrono::Duration::minutes(i + 1);
            let r = Reservation {
                expires_at: expiry,
                ..reservation(&format!("r{i}"), "0.01", "2026-11-27", "2026-11-27T00:00:00Z")
            };
            usage.hold(r);
        }
        let own = RequestId::parse("r0").unwrap();
        let release = releasable(&usage, &own, now);
        assert_eq!(release.len(), MAX_RELEASES_PER_HOLD);
        assert_eq!(release[0].request_id.as_str(), "r39", "oldest first");
        assert!(release.iter().all(|r| r.request_id != own), "never its own: it is replaced");
        assert_eq!(freed(&usage, &own, now).len(), MAX_RELEASES_PER_HOLD + 1);
        assert!(!too_many_open(&usage, &own, now));
    }

    #[test]
    fn the_open_bound_counts_what_the_write_lets_go_of() {
        let now = at("2026-11-27T10:00:00Z");
        let mut usage = UsageSnapshot::default();
        for i in 0..MAX_OPEN_RESERVATIONS {
            usage.hold(reservation(&format!("r{i}"), "0.01", "2026-11-27", "2026-11-27T10:10:00Z"));
        }
        let new = RequestId::parse("new").unwrap();
        assert!(too_many_open(&usage, &new, now), "100 open, none expired: full");
        let later = at("2026-11-27T10:10:00Z");
        assert!(!too_many_open(&usage, &new, later), "all expired: the write releases 25 first");
    }
}
