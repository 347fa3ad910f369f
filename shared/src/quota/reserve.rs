//! The strict check: reserve the estimate in one conditional write, or
//! refuse with the exact reason. The pure bounds are `rules::reserve`.

use crate::emf::{self, Counter};
use crate::error::Error;
use crate::model::group::Group;
use crate::model::model_limit::{ModelLimit, matching};
use crate::model::period::{Period, Window};
use crate::model::{Enforcement, GroupId, GroupUsage, LimitId, PoolHold, RequestId, Reservation, UserId};
use crate::quota::answer::{CheckAnswer, ReservationSummary};
use crate::quota::cache::UserEntry;
use crate::quota::checker::Checker;
use crate::quota::group_events::EventSubject;
use crate::quota::port::{CheckStore, ReserveOutcome, ReservePlan, UserView};
use crate::quota::request::CheckRequest;
use crate::quota::shadow_events::shadow_outcomes;
use crate::rules::basis::Basis;
use crate::rules::decide::{BlockedBy, ModelScope, Scope, Verdict, WarningLevel};
use crate::rules::groups::{Memberships, memberships};
use crate::rules::reserve::{
    Bound, MAX_OPEN_RESERVATIONS, MAX_POOL_HOLDS, PoolPlan, bounds, committed_of, misfits, releasable, strict_rules,
    too_many_open, used_of,
};
use crate::rules::{pricing, resolve};
use chrono::{DateTime, Duration, Utc};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Attempts before giving up (each refusal returns the current row, so a
/// retry only happens when the row changed in a way that lets it fit).
pub const RESERVE_ATTEMPTS: usize = 4;

/// A retried strict check must repeat its estimate: the same request id
/// with another one is refused (409) rather than answered with the hold the
/// first made, as a record retried with other figures is.
fn same_estimate(held: &Reservation, asked: &Reservation) -> Result<(), Error> {
    if (held.cost, held.tokens) == (asked.cost, asked.tokens) {
        return Ok(());
    }
    emf::count(Counter::IdempotencyConflicts, &[]);
    Err(Error::IdempotencyConflict(format!(
        "request id {} holds a reservation of {} and {} tokens; a retried check must send the same estimate \
         (use a new requestId for a new request)",
        held.request_id, held.cost, held.tokens
    )))
}

impl<S: CheckStore> Checker<S> {
    pub(super) async fn strict_check(
        &self,
        request: &CheckRequest,
        mut view: UserView,
        now: DateTime<Utc>,
    ) -> Result<CheckAnswer, Error> {
        let subject = &request.subject;
        let user = &subject.user_id;
        let today = Period::containing(Window::Daily, now).key();
        let request_id = request.estimate.request_id.clone().unwrap_or_else(RequestId::generate);
        let _turn = self.turns.take(user).await;
        for _ in 0..RESERVE_ATTEMPTS {
            let config = self.config_at(&view).await?;
            let resolution = resolve::resolve(&config, view.direct.as_ref(), subject);
            let basis = Basis::at(&resolution, &view.overrides, now);
            let groups = memberships(&config, subject, &view.named_groups);
            let strict_groups: Vec<&Group> =
                groups.groups.iter().map(|m| m.group).filter(|g| g.enforcement == Enforcement::Strict).collect();
            let own = strict_rules(&basis);
            // Only groups strict: the hold is kept on the user's row too
            // (for the record and a release to find), under no bound of its own.
            let Some(rules) = own.clone().or_else(|| strict_groups.first().map(|g| Cow::Owned(g.rules()))) else {
                // The configuration changed under us: no longer strict.
                self.users.put(user.clone(), UserEntry { day: today, view: view.clone() });
                return Ok(self.strict_answer(&basis, &groups, &view, request, now, None));
            };
            let about =
                EventSubject { user, tier: basis.tier.map(|t| &t.tier_id), session: request.session_id.as_ref() };
            self.note_group_warnings(&groups, &mut view.group_usage, &about, now).await;
            // A group's pool spent blocks before anything is held.
            let as_is = self.strict_answer(&basis, &groups, &view, request, now, None);
            if as_is.decision.blocked_by.as_ref().is_some_and(|b| b.scope == Scope::Group) {
                self.users.put(user.clone(), UserEntry { day: today, view: view.clone() });
                self.note_block(&basis, &as_is.decision, &view, request, now).await;
                return Ok(as_is);
            }
            // A model and token estimates, without a cost: the price in effect
            // prices the reservation (an unpriced model is refused).
            let priced = match &request.model {
                Some(model) => {
                    let price = pricing::ensure_priced(&config.prices, model, now)?;
                    request.estimate.to_price().map(|tokens| (price.pricing(&tokens), tokens.total()))
                }
                None => None,
            };
            let priced = priced.filter(|_| request.estimate.cost.is_none());
            let estimated = request.estimate.cost.or(priced.as_ref().map(|(p, _)| p.total));
            let default = rules.default_reservation.or(strict_groups.iter().find_map(|g| g.default_reservation));
            let Some(cost) = estimated.or(default) else {
                return Ok(self.refuse(
                    &basis,
                    &groups,
                    &view,
                    request,
                    now,
                    &[],
                    "This quota is strict: send estimatedCost with the check (the tier sets no defaultReservation).",
                ));
            };
            let ttl = std::iter::once(rules.reservation_ttl_seconds)
                .chain(strict_groups.iter().map(|g| g.reservation_ttl_seconds))
                .min()
                .unwrap_or(rules.reservation_ttl_seconds);
            let reservation = Reservation {
                request_id: request_id.clone(),
                cost,
                tokens: request.estimate.tokens.or(priced.as_ref().map(|(_, t)| *t)).unwrap_or(0),
                day: today.clone(),
                expires_at: now + Duration::seconds(i64::from(ttl)),
                // Entries are disjoint: at most one rations the model.
                limit: own.as_ref().and_then(|r| {
                    matching(&r.model_limits, request.model.as_ref()).first().map(|e| e.limit_id.clone())
                }),
                groups: strict_groups.iter().map(|g| g.group_id.clone()).collect(),
            };
            if too_many_open(&view.usage, &request_id, now) {
                return Ok(self.refuse_full(&basis, &groups, &view, request, now, None));
            }
            let release = releasable(&view.usage, &request_id, now);
            let replaces = view.usage.reservation(&request_id).filter(|r| r.expired(now)).cloned();
            let freed: Vec<Reservation> = release.iter().chain(&replaces).cloned().collect();
            let bounds = match &own {
                Some(rules) => bounds(rules, &reservation, &freed, &today),
                None => vec![],
            };
            let mut pools = Vec::new();
            for g in &strict_groups {
                let Some(usage) = view.group_usage.get(&g.group_id) else {
                    return Err(Error::Unavailable(format!("group {} was not read", g.group_id)));
                };
                let plan = PoolPlan::new(&g.group_id, &g.rules(), usage, user, &reservation, now, &today);
                if plan.too_many(usage) {
                    return Ok(self.refuse_full(&basis, &groups, &view, request, now, Some(&g.group_id)));
                }
                pools.push(plan);
            }
            // An estimate larger than a limit never fits: refuse without a write.
            let never: Vec<Bound> = bounds
                .iter()
                .chain(pools.iter().flat_map(|p| &p.bounds))
                .filter(|b| b.at_most.is_sign_negative())
                .cloned()
                .collect();
            if !never.is_empty() {
                return Ok(self.refuse(&basis, &groups, &view, request, now, &never, ""));
            }
            let plan = ReservePlan {
                user,
                reservation: &reservation,
                config_version: view.config_version,
                release: &release,
                replaces: replaces.as_ref(),
                bounds: &bounds,
                pools: &pools,
                at: now,
            };
            match self.store.reserve(plan).await? {
                ReserveOutcome::Reserved => {
                    for r in &freed {
                        view.usage.release(&r.request_id, &today);
                    }
                    view.usage.hold(reservation.clone());
                    hold_pools(&mut view.group_usage, &pools, user, &reservation, &today);
                    emf::count(Counter::Reservations, &[]);
                    let mut answer = self.strict_answer(&basis, &groups, &view, request, now, Some(&reservation));
                    let shadows = shadow_outcomes(&config, &basis, &groups, &view, request, &answer.decision, now);
                    self.note_shadow(&shadows, &mut view.usage, request, now).await;
                    self.users.put(user.clone(), UserEntry { day: today, view: view.clone() });
                    if let (Some(held), Some((p, _))) = (answer.reservation.as_mut(), &priced) {
                        held.price_id = Some(p.price_id.clone());
                    }
                    return Ok(answer);
                }
                ReserveOutcome::AlreadyRecorded => {
                    return Ok(self.strict_answer(&basis, &groups, &view, request, now, None));
                }
                ReserveOutcome::ConfigChanged => view = self.read_view(subject, now).await?.0,
                ReserveOutcome::PoolRefused(group) => {
                    view.group_usage.extend(self.store.load_group_usage(std::slice::from_ref(&group), now).await?);
                    let (Some(g), Some(usage)) =
                        (strict_groups.iter().find(|g| g.group_id == group), view.group_usage.get(&group))
                    else {
                        continue;
                    };
                    let plan = PoolPlan::new(&group, &g.rules(), usage, user, &reservation, now, &today);
                    if plan.too_many(usage) {
                        return Ok(self.refuse_full(&basis, &groups, &view, request, now, Some(&group)));
                    }
                    let misfits = plan.misfits(usage);
                    if !misfits.is_empty() {
                        return Ok(self.refused(&basis, &groups, &view, request, now, &misfits).await);
                    }
                    // It fits the pool as it is now (a hold settled or expired): again.
                }
                ReserveOutcome::Refused(current) => {
                    view.usage = *current;
                    // A retried check: the reservation it made stands (the
                    // row says so; a cached view could be stale).
                    if let Some(held) = view.usage.reservation(&request_id).filter(|r| !r.expired(now)).cloned() {
                        same_estimate(&held, &reservation)?;
                        self.users.put(user.clone(), UserEntry { day: today, view: view.clone() });
                        return Ok(self.strict_answer(&basis, &groups, &view, request, now, Some(&held)));
                    }
                    if too_many_open(&view.usage, &request_id, now) {
                        self.users.put(user.clone(), UserEntry { day: today.clone(), view: view.clone() });
                        return Ok(self.refuse_full(&basis, &groups, &view, request, now, None));
                    }
                    let misfits = match &own {
                        Some(rules) => misfits(rules, &view.usage, &reservation, now, &today),
                        None => vec![],
                    };
                    if !misfits.is_empty() {
                        return Ok(self.refused(&basis, &groups, &view, request, now, &misfits).await);
                    }
                    // It fits the row as it is now (a reservation settled or expired): again.
                }
            }
        }
        Err(Error::Unavailable("the reservation kept racing other writes; retry".into()))
    }

    /// A refusal read from the store (the row or pool as it is now): the
    /// view is kept, and a block that is not only waiting for holds to end
    /// is stored as an event once per window.
    async fn refused(
        &self,
        basis: &Basis<'_>,
        groups: &Memberships<'_>,
        view: &UserView,
        request: &CheckRequest,
        now: DateTime<Utc>,
        misfits: &[Bound],
    ) -> CheckAnswer {
        let today = Period::containing(Window::Daily, now).key();
        self.users.put(request.subject.user_id.clone(), UserEntry { day: today, view: view.clone() });
        let outcome = self.refuse(basis, groups, view, request, now, misfits, "");
        if outcome.decision.retry_at.is_none() {
            self.note_block(basis, &outcome.decision, view, request, now).await;
        }
        outcome
    }

    /// An allowed answer, holding `held` if any.
    fn strict_answer(
        &self,
        basis: &Basis<'_>,
        groups: &Memberships<'_>,
        view: &UserView,
        request: &CheckRequest,
        now: DateTime<Utc>,
        held: Option<&Reservation>,
    ) -> CheckAnswer {
        let user = &request.subject.user_id;
        let models = ModelScope::of(request.model.as_ref());
        let mut outcome = CheckAnswer::judge(basis, &view.usage, models, self.no_match, now).with_groups(
            groups,
            &view.group_usage,
            now,
        );
        outcome.quota_context = Some(CheckAnswer::context_for(user, basis, groups, view.config_version));
        outcome.reservation = held.map(ReservationSummary::from);
        outcome
    }

    /// A refusal: the user holds [`MAX_OPEN_RESERVATIONS`] already (or a
    /// strict group's pool [`MAX_POOL_HOLDS`]); retry when the first of
    /// them expires (or settle or release some).
    fn refuse_full(
        &self,
        basis: &Basis<'_>,
        groups: &Memberships<'_>,
        view: &UserView,
        request: &CheckRequest,
        now: DateTime<Utc>,
        pool: Option<&GroupId>,
    ) -> CheckAnswer {
        let (message, holds) = match pool.and_then(|g| Some((g, view.group_usage.get(g)?))) {
            Some((g, usage)) => (
                format!(
                    "Group {g} holds {MAX_POOL_HOLDS} open reservations of its members, the most its pool may: \
                     retry when the first expires."
                ),
                &usage.total.reservations,
            ),
            None => (
                format!(
                    "This user holds {MAX_OPEN_RESERVATIONS} open reservations, the most there may be: record or \
                     release the turns they belong to, or retry when the first expires."
                ),
                &view.usage.reservations,
            ),
        };
        let mut outcome = self.refuse(basis, groups, view, request, now, &[], &message);
        outcome.decision.retry_at = holds.iter().map(|r| r.expires_at).filter(|t| *t > now).min();
        outcome
    }

    /// A refusal: the reservation does not fit `misfits` (the window that
    /// resets last decides). When the limit is only full of reservations
    /// that will settle or expire, the answer says to retry when the first
    /// of them expires rather than at the window's reset.
    #[allow(clippy::too_many_arguments)]
    fn refuse(
        &self,
        basis: &Basis<'_>,
        groups: &Memberships<'_>,
        view: &UserView,
        request: &CheckRequest,
        now: DateTime<Utc>,
        misfits: &[Bound],
        message: &str,
    ) -> CheckAnswer {
        let mut outcome = self.strict_answer(basis, groups, view, request, now, None);
        let d = &mut outcome.decision;
        d.allowed = false;
        d.decision = Verdict::Block;
        let worst = misfits.iter().max_by_key(|b| Period::containing(b.window, now).resets_at);
        if let Some(b) = worst {
            // A group's bound is of its pooled usage and its members' holds.
            let usage = match &b.group_id {
                Some(g) => view.group_usage.get(g).map_or(&view.usage, |u| &u.total),
                None => &view.usage,
            };
            let used = used_of(usage, b);
            let held = committed_of(usage, b).remaining_after(used);
            d.blocking_window = Some(b.window);
            d.blocking_metric = Some(b.metric);
            let scope = match (&b.group_id, &b.limit_id) {
                (Some(_), _) => Scope::Group,
                (None, Some(_)) => Scope::Model,
                (None, None) => Scope::User,
            };
            d.blocked_by = Some(BlockedBy {
                scope,
                limit_id: b.limit_id.clone(),
                group_id: b.group_id.clone(),
                period: b.window,
                metric: b.metric,
            });
            let entry = b.limit_id.as_ref().and_then(|id| basis_entry(basis, id));
            d.suggested_model = entry.and_then(|e| e.suggest_model.clone());
            let (window, noun) = (b.window.as_str(), b.metric.noun());
            let noun = match (&b.group_id, &b.limit_id) {
                (Some(g), _) => format!("{noun} limit of group {g}"),
                (None, Some(id)) => format!("{noun} limit for {id}"),
                (None, None) => format!("{noun} limit"),
            };
            d.message = if b.estimate.value() > b.limit.value() {
                format!("This request's estimate ({}) is more than the {window} {noun} ({}).", b.estimate, b.limit)
            } else {
                format!(
                    "Strict {window} {noun} of {}: {used} used and {held} reserved leave no room for this request's estimate ({}).",
                    b.limit, b.estimate
                )
            };
            // Full of holds: retry when the first expires. Full of usage: at the reset.
            if b.fits_without_holds(used) {
                d.retry_at = usage.reservations.iter().map(|r| r.expires_at).filter(|t| *t > now).min();
            } else {
                d.warning_level = WarningLevel(Some(100));
            }
        }
        if !message.is_empty() {
            d.message = message.to_string();
        }
        if let Some(m) = d.suggested_model.as_ref() {
            d.message = format!("{} Try {m} instead.", d.message);
        }
        outcome
    }
}

/// The pools' holds just made (and the expired ones let go of), in the view.
fn hold_pools(
    group_usage: &mut BTreeMap<GroupId, GroupUsage>,
    pools: &[PoolPlan],
    user: &UserId,
    r: &Reservation,
    today: &str,
) {
    let held = Reservation { limit: None, groups: vec![], ..r.clone() };
    for plan in pools {
        let Some(u) = group_usage.get_mut(&plan.group) else { continue };
        for gone in
            plan.release.iter().map(|h| (&h.user, &h.reservation)).chain(plan.replaces.iter().map(|r| (user, r)))
        {
            u.holds.retain(|h| !(&h.user == gone.0 && h.reservation.request_id == gone.1.request_id));
            u.pool.release(&gone.1.request_id, today);
            u.total.release(&gone.1.request_id, today);
        }
        u.holds.push(PoolHold { user: user.clone(), reservation: held.clone() });
        u.pool.hold(held.clone());
        u.total.hold(held.clone());
    }
}

/// The model limit `id` of the rules that decide.
fn basis_entry(basis: &Basis<'_>, id: &LimitId) -> Option<ModelLimit> {
    basis.rules()?.model_limits.iter().find(|e| &e.limit_id == id).cloned()
}
