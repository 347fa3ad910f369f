//! What a user has spent in the current day and month.

use super::{Amount, GroupId, LimitId, Metric, Money, RequestId, UserId};
use crate::error::{Error, FieldErrors};
use crate::model::period::Window;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Token counts above this are certainly a mistake (and would stop summing
/// exactly in the store long before u64 overflows).
pub const MAX_TOKENS: u64 = 1_000_000_000;

/// Running totals of one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageTotals {
    pub cost: Money,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub requests: u64,
}

impl UsageTotals {
    /// The figure a metric counts (tokens: input and output together).
    pub fn amount(&self, metric: super::Metric) -> super::Amount {
        match metric {
            super::Metric::Cost => super::Amount::Money(self.cost),
            super::Metric::Tokens => super::Amount::Count(self.input_tokens + self.output_tokens),
            super::Metric::Requests => super::Amount::Count(self.requests),
        }
    }

    pub fn plus(self, d: &UsageDelta) -> Self {
        Self {
            cost: self.cost.plus(d.cost),
            input_tokens: self.input_tokens + d.input_tokens,
            output_tokens: self.output_tokens + d.output_tokens,
            requests: self.requests + 1,
        }
    }
}

/// What one LLM request adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageDelta {
    pub cost: Money,
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
}

impl UsageDelta {
    pub fn validate(&self) -> Result<(), Error> {
        let mut errors = FieldErrors::default();
        for (field, n) in [("inputTokens", self.input_tokens), ("outputTokens", self.output_tokens)] {
            if n > MAX_TOKENS {
                errors.push(field, format!("must be at most {MAX_TOKENS}"));
            }
        }
        errors.into_result()
    }
}

/// A user's usage at one instant: today's and this month's totals, and the
/// events already recorded this month (so they are not recorded twice).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsageSnapshot {
    pub daily: UsageTotals,
    pub monthly: UsageTotals,
    pub recorded_events: BTreeSet<String>,
    /// Who recorded into the row last, and when.
    pub last_write: Option<LastWrite>,
    /// Usage plus the reservations held, per window (strict mode's measure).
    pub committed_daily: Committed,
    pub committed_monthly: Committed,
    /// Reservations not yet settled or released (expired ones included
    /// until a check releases them).
    pub reservations: Vec<Reservation>,
    /// Usage of each model limit's models (only entries used this month).
    pub models: BTreeMap<LimitId, ModelUsage>,
}

/// What a model limit's models used, per window. Tokens are all four kinds
/// together (held as `input_tokens`, so `amount(Tokens)` reads them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModelUsage {
    pub daily: UsageTotals,
    pub monthly: UsageTotals,
    /// Usage plus the strict reservations held against the entry.
    pub committed_daily: Committed,
    pub committed_monthly: Committed,
}

impl ModelUsage {
    pub fn totals(&self, window: Window) -> &UsageTotals {
        match window {
            Window::Daily => &self.daily,
            Window::Monthly => &self.monthly,
        }
    }

    pub fn committed(&self, window: Window) -> &Committed {
        match window {
            Window::Daily => &self.committed_daily,
            Window::Monthly => &self.committed_monthly,
        }
    }
}

impl Committed {
    fn moved(self, cost: Money, tokens: u64, up: bool) -> Committed {
        if up {
            Committed { cost: self.cost.plus(cost), tokens: self.tokens + tokens, requests: self.requests + 1 }
        } else {
            Committed {
                cost: self.cost.saturating_sub(cost),
                tokens: self.tokens.saturating_sub(tokens),
                requests: self.requests.saturating_sub(1),
            }
        }
    }
}

/// A window's usage plus the reservations held in it: what a strict check
/// may not push past a limit. Stored as its own counters, so that one
/// condition in the store compares it with a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Committed {
    pub cost: Money,
    pub tokens: u64,
    pub requests: u64,
}

impl Committed {
    pub fn amount(&self, metric: Metric) -> Amount {
        match metric {
            Metric::Cost => Amount::Money(self.cost),
            Metric::Tokens => Amount::Count(self.tokens),
            Metric::Requests => Amount::Count(self.requests),
        }
    }
}

/// A strict check's hold on a user's quota: its estimate (and one request),
/// until the record of the same request id settles it or it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub request_id: RequestId,
    pub cost: Money,
    pub tokens: u64,
    /// The UTC day (`yyyy-mm-dd`) whose counters hold it.
    pub day: String,
    pub expires_at: DateTime<Utc>,
    /// The model limit it is also held against (the one rationing the
    /// check's model), whose committed counters it moves too.
    pub limit: Option<LimitId>,
    /// The strict groups whose pools hold it too (the record settles each,
    /// a release lets go of each).
    pub groups: Vec<GroupId>,
}

impl Reservation {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }

    /// What it holds of a metric.
    pub fn amount(&self, metric: Metric) -> Amount {
        match metric {
            Metric::Cost => Amount::Money(self.cost),
            Metric::Tokens => Amount::Count(self.tokens),
            Metric::Requests => Amount::Count(1),
        }
    }
}

/// The latest record into a usage row: by which writer (one per process),
/// at what time. Only a hint for choosing how to record, never for totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWrite {
    pub writer: String,
    pub at: DateTime<Utc>,
}

/// A row another writer recorded into this recently is being written by
/// several processes at once (several containers serving one user).
pub const CONTENDED_WITHIN: Duration = Duration::seconds(1);

impl UsageSnapshot {
    pub fn totals(&self, window: Window) -> &UsageTotals {
        match window {
            Window::Daily => &self.daily,
            Window::Monthly => &self.monthly,
        }
    }

    pub fn committed(&self, window: Window) -> &Committed {
        match window {
            Window::Daily => &self.committed_daily,
            Window::Monthly => &self.committed_monthly,
        }
    }

    /// What the models of `limit` used (nothing yet: zero).
    pub fn model(&self, limit: &LimitId) -> ModelUsage {
        self.models.get(limit).copied().unwrap_or_default()
    }

    /// [`Self::plus`], the request also counted toward the model limits `limits`.
    pub fn plus_for(&self, d: &UsageDelta, limits: &[LimitId]) -> Self {
        let mut next = self.plus(d);
        let counted = UsageDelta { cost: d.cost, input_tokens: d.input_tokens + d.output_tokens, output_tokens: 0 };
        for id in limits {
            let m = next.models.entry(id.clone()).or_default();
            m.daily = m.daily.plus(&counted);
            m.monthly = m.monthly.plus(&counted);
            m.committed_daily = m.committed_daily.moved(d.cost, counted.input_tokens, true);
            m.committed_monthly = m.committed_monthly.moved(d.cost, counted.input_tokens, true);
        }
        next
    }

    /// The state after recording `d`; its committed figures grow by the same.
    pub fn plus(&self, d: &UsageDelta) -> Self {
        let add = |c: Committed| Committed {
            cost: c.cost.plus(d.cost),
            tokens: c.tokens + d.input_tokens + d.output_tokens,
            requests: c.requests + 1,
        };
        Self {
            daily: self.daily.plus(d),
            monthly: self.monthly.plus(d),
            committed_daily: add(self.committed_daily),
            committed_monthly: add(self.committed_monthly),
            ..self.clone()
        }
    }

    /// Holds `r` (a strict check's reservation made on `today`).
    pub fn hold(&mut self, r: Reservation) {
        for c in [&mut self.committed_daily, &mut self.committed_monthly] {
            *c = c.moved(r.cost, r.tokens, true);
        }
        if let Some(id) = &r.limit {
            let m = self.models.entry(id.clone()).or_default();
            m.committed_daily = m.committed_daily.moved(r.cost, r.tokens, true);
            m.committed_monthly = m.committed_monthly.moved(r.cost, r.tokens, true);
        }
        self.reservations.push(r);
    }

    /// Lets go of the reservation of `request` (settled or expired): its
    /// hold leaves the month and, when made `today`, the day.
    pub fn release(&mut self, request: &RequestId, today: &str) {
        let Some(i) = self.reservations.iter().position(|r| &r.request_id == request) else { return };
        let r = self.reservations.remove(i);
        let mut windows = vec![&mut self.committed_monthly];
        if r.day == today {
            windows.push(&mut self.committed_daily);
        }
        for c in windows {
            *c = c.moved(r.cost, r.tokens, false);
        }
        if let Some(m) = r.limit.as_ref().and_then(|id| self.models.get_mut(id)) {
            m.committed_monthly = m.committed_monthly.moved(r.cost, r.tokens, false);
            if r.day == today {
                m.committed_daily = m.committed_daily.moved(r.cost, r.tokens, false);
            }
        }
    }

    /// Adds another row's figures (a group's usage is summed from its
    /// shard rows and its pool): totals, committed counters, event flags
    /// and holds.
    pub fn absorb(&mut self, row: &UsageSnapshot) {
        let sum = |a: UsageTotals, b: &UsageTotals| UsageTotals {
            cost: a.cost.plus(b.cost),
            input_tokens: a.input_tokens + b.input_tokens,
            output_tokens: a.output_tokens + b.output_tokens,
            requests: a.requests + b.requests,
        };
        let both = |a: Committed, b: &Committed| Committed {
            cost: a.cost.plus(b.cost),
            tokens: a.tokens + b.tokens,
            requests: a.requests + b.requests,
        };
        self.daily = sum(self.daily, &row.daily);
        self.monthly = sum(self.monthly, &row.monthly);
        self.committed_daily = both(self.committed_daily, &row.committed_daily);
        self.committed_monthly = both(self.committed_monthly, &row.committed_monthly);
        self.recorded_events.extend(row.recorded_events.iter().cloned());
        self.reservations.extend(row.reservations.iter().cloned());
    }

    /// The reservation of `request`, if one is held.
    pub fn reservation(&self, request: &RequestId) -> Option<&Reservation> {
        self.reservations.iter().find(|r| &r.request_id == request)
    }

    /// True when a writer other than `me` recorded into the row within
    /// [`CONTENDED_WITHIN`] of `now`: a guarded record would likely lose.
    pub fn contended(&self, me: &str, now: DateTime<Utc>) -> bool {
        self.last_write.as_ref().is_some_and(|w| w.writer != me && now - w.at < CONTENDED_WITHIN)
    }
}

/// One member's hold on a strict group's pool row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolHold {
    pub user: UserId,
    pub reservation: Reservation,
}

/// A group's usage as a check reads it: every row summed (what decides),
/// the pool row alone (what a strict hold's condition compares: the shards
/// are what the rest adds), and the members' holds on the pool.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupUsage {
    /// Every shard and the pool, summed; its reservations are the pool's holds.
    pub total: UsageSnapshot,
    pub pool: UsageSnapshot,
    pub holds: Vec<PoolHold>,
}

impl GroupUsage {
    /// The hold of `user`'s `request`, if the pool has one.
    pub fn hold(&self, user: &UserId, request: &RequestId) -> Option<&Reservation> {
        self.holds.iter().find(|h| &h.user == user && &h.reservation.request_id == request).map(|h| &h.reservation)
    }

    /// The committed counters of the rows other than the pool (what the
    /// shards hold: records from before the group was strict).
    pub fn shards_committed(&self, window: crate::model::period::Window) -> Committed {
        let (t, p) = (self.total.committed(window), self.pool.committed(window));
        Committed {
            cost: t.cost.saturating_sub(p.cost),
            tokens: t.tokens.saturating_sub(p.tokens),
            requests: t.requests.saturating_sub(p.requests),
        }
    }
}
