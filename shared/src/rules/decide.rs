//! Allow, warn or block, from a resolved tier and the user's current usage.
//! Pure: the same inputs always give the same decision.

use crate::model::model_limit::{ModelLimit, matching};
use crate::model::period::{Period, Window};
use crate::model::price::ModelId;
use crate::model::{Amount, GroupId, LimitAction, LimitId, Metric, Tier, UsageSnapshot};
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};

/// Warns at this share of a limit whatever the tier's soft percentage.
pub const HARD_WARNING_PERCENTAGE: u8 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Warn,
    Block,
}

/// What to do when no tier applies to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoMatchPolicy {
    #[default]
    Allow,
    Block,
}

/// The highest warning threshold crossed, shown as "80%"; `None` as "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct WarningLevel(pub Option<u8>);

impl Serialize for WarningLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(p) => s.collect_str(&format_args!("{p}%")),
            None => s.serialize_str("none"),
        }
    }
}

/// A share of a limit, exact inside and a plain JSON number outside
/// (12.5); it is a display value, not money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percentage(pub Decimal);

impl Serialize for Percentage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.0.normalize().to_string();
        s.serialize_f64(text.parse().unwrap_or(0.0))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WindowStatus {
    pub period: Window,
    /// What the figures count: money (decimal strings) or tokens and
    /// requests (whole numbers).
    pub metric: Metric,
    /// The model limit this window is of (absent: the tier's own limits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_id: Option<LimitId>,
    /// The group whose pooled budget this window is (absent: the user's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    /// `None` (null) when the usage is not known: the store could not be read.
    pub usage: Option<Amount>,
    pub limit: Option<Amount>,
    pub remaining: Option<Amount>,
    pub percentage_used: Option<Percentage>,
    #[serde(serialize_with = "rfc3339")]
    pub resets_at: DateTime<Utc>,
}

fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub allowed: bool,
    pub decision: Verdict,
    pub warning_level: WarningLevel,
    pub windows: Vec<WindowStatus>,
    pub message: String,
    /// What blocked: the scope and window of the limit reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<BlockedBy>,
    /// A block by a model limit that names a model to use instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_model: Option<ModelId>,
    /// The window that blocked (the one resetting last, if both did).
    #[serde(skip)]
    pub blocking_window: Option<Window>,
    /// What it counted.
    #[serde(skip)]
    pub blocking_metric: Option<Metric>,
    /// When trying again may succeed, if sooner than the window's reset (a
    /// strict check refused while reservations that will settle are held).
    #[serde(skip)]
    pub retry_at: Option<DateTime<Utc>>,
}

crate::names::named_enum! {
    /// Whose limit blocked: the user's own (tier or override), a model
    /// limit's, or a group's pooled budget.
    pub enum Scope {
        User,
        Model,
        Group,
    }
}

/// The answer's `blockedBy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockedBy {
    pub scope: Scope,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_id: Option<LimitId>,
    /// The group whose budget is spent (scope `group`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    pub period: Window,
    pub metric: Metric,
}

/// Which model limits a decision looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelScope<'a> {
    /// None: the request names no model.
    Unnamed,
    /// The entries that ration this model show and decide.
    Of(&'a ModelId),
    /// Every entry shows its windows and none decides (the inspector and
    /// `/api/quota/me`: no request, so no model).
    Every,
}

impl<'a> ModelScope<'a> {
    pub fn of(model: Option<&'a ModelId>) -> Self {
        model.map_or(ModelScope::Unnamed, ModelScope::Of)
    }

    /// The entries of `tier` shown, and whether they decide.
    fn entries(self, tier: &'a Tier) -> (Vec<&'a ModelLimit>, bool) {
        match self {
            ModelScope::Unnamed => (vec![], false),
            ModelScope::Of(m) => (matching(&tier.model_limits, Some(m)), true),
            ModelScope::Every => (tier.model_limits.iter().collect(), false),
        }
    }
}

impl Decision {
    /// Whole seconds until a blocked user may try again (for Retry-After).
    pub fn retry_after_seconds(&self, now: DateTime<Utc>) -> Option<i64> {
        if let Some(at) = self.retry_at {
            // Whole seconds, rounded up, at least one.
            return Some(((at - now).num_milliseconds().max(1) + 999) / 1000);
        }
        self.blocking_window.map(|w| Period::containing(w, now).seconds_until_reset(now))
    }
}

pub fn percentage(usage: Amount, limit: Amount) -> Percentage {
    let p = usage.value() * Decimal::ONE_HUNDRED / limit.value();
    Percentage(p.round_dp_with_strategy(2, RoundingStrategy::ToZero))
}

/// True when usage has reached `threshold` percent of `limit`, compared exactly.
fn reached(usage: Amount, limit: Amount, threshold: u8) -> bool {
    usage.value() * Decimal::ONE_HUNDRED >= limit.value() * Decimal::from(threshold)
}

/// Every (window, metric) a tier limits, with its limit: cost first.
pub fn limits(tier: &Tier) -> Vec<(Window, Metric, Amount)> {
    Metric::ALL
        .into_iter()
        .flat_map(|m| Window::ALL.into_iter().map(move |w| (w, m)))
        .filter_map(|(w, m)| tier.limit_of(w, m).map(|l| (w, m, l)))
        .collect()
}

/// The warning thresholds of a tier, ascending: its soft percentage and 90.
pub fn thresholds(tier: &Tier) -> Vec<u8> {
    let mut t = vec![HARD_WARNING_PERCENTAGE];
    // 0 means "no soft warning": warning at 0 % would warn on every request.
    if tier.soft_limit_percentage > 0 && tier.soft_limit_percentage < 100 {
        t.push(tier.soft_limit_percentage);
    }
    t.sort_unstable();
    t.dedup();
    t
}

/// Every (model limit, window, metric, threshold) the usage has reached:
/// the tier's own limits (`None`) and those of the entries rationing `model`.
pub fn warnings_reached(
    tier: &Tier,
    usage: &UsageSnapshot,
    model: Option<&ModelId>,
) -> Vec<(Option<LimitId>, Window, Metric, u8)> {
    let own = limits(tier).into_iter().map(|(w, m, limit)| (None, w, m, limit, *usage.totals(w)));
    let entries = matching(&tier.model_limits, model).into_iter().flat_map(|e| {
        let used = usage.model(&e.limit_id);
        entry_limits(e).into_iter().map(move |(w, m, limit)| (Some(e.limit_id.clone()), w, m, limit, *used.totals(w)))
    });
    own.chain(entries)
        .flat_map(|(id, w, m, limit, totals)| {
            let used = totals.amount(m);
            thresholds(tier)
                .into_iter()
                .filter(move |t| reached(used, limit, *t))
                .map(move |t| (id.clone(), w, m, t))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every (window, metric) a model limit limits, with its limit.
fn entry_limits(e: &ModelLimit) -> Vec<(Window, Metric, Amount)> {
    Metric::ALL
        .into_iter()
        .flat_map(|m| Window::ALL.into_iter().map(move |w| (w, m)))
        .filter_map(|(w, m)| e.limits.get(w, m).map(|l| (w, m, l)))
        .collect()
}

/// The limited windows of model limits, with their usage.
pub fn model_window_statuses(entries: &[&ModelLimit], usage: &UsageSnapshot, now: DateTime<Utc>) -> Vec<WindowStatus> {
    entries
        .iter()
        .flat_map(|e| {
            let used = usage.model(&e.limit_id);
            entry_limits(e).into_iter().map(move |(window, metric, limit)| {
                let u = used.totals(window).amount(metric);
                WindowStatus {
                    period: window,
                    metric,
                    limit_id: Some(e.limit_id.clone()),
                    group_id: None,
                    usage: Some(u),
                    limit: Some(limit),
                    remaining: Some(limit.remaining_after(u)),
                    percentage_used: Some(percentage(u, limit)),
                    resets_at: Period::containing(window, now).resets_at,
                }
            })
        })
        .collect()
}

/// The cost of both windows, always; tokens and requests where limited.
pub fn window_statuses(tier: Option<&Tier>, usage: &UsageSnapshot, now: DateTime<Utc>) -> Vec<WindowStatus> {
    Metric::ALL
        .into_iter()
        .flat_map(|m| Window::ALL.into_iter().map(move |w| (w, m)))
        .filter_map(|(window, metric)| {
            let limit = tier.and_then(|t| t.limit_of(window, metric));
            if metric != Metric::Cost && limit.is_none() {
                return None;
            }
            let used = usage.totals(window).amount(metric);
            Some(WindowStatus {
                period: window,
                metric,
                limit_id: None,
                group_id: None,
                usage: Some(used),
                limit,
                remaining: limit.map(|l| l.remaining_after(used)),
                percentage_used: limit.map(|l| percentage(used, l)),
                resets_at: Period::containing(window, now).resets_at,
            })
        })
        .collect()
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The decision for a user whose tier is known.
/// The windows of an answer that could not read the usage: every figure
/// unknown (null), only the reset times known.
pub fn unknown_windows(now: DateTime<Utc>) -> Vec<WindowStatus> {
    Window::ALL
        .into_iter()
        .map(|window| WindowStatus {
            period: window,
            metric: Metric::Cost,
            limit_id: None,
            group_id: None,
            usage: None,
            limit: None,
            remaining: None,
            percentage_used: None,
            resets_at: Period::containing(window, now).resets_at,
        })
        .collect()
}

pub fn decide(tier: &Tier, usage: &UsageSnapshot, models: ModelScope<'_>, now: DateTime<Utc>) -> Decision {
    let mut windows = window_statuses(Some(tier), usage, now);
    let (entries, entries_decide) = models.entries(tier);
    let own = windows.len();
    windows.extend(model_window_statuses(&entries, usage, now));
    // The windows that decide: the tier's, and the entries rationing the model asked for.
    let deciding = if entries_decide { windows.len() } else { own };
    if tier.unlimited && (deciding == own) {
        return Decision {
            allowed: true,
            decision: Verdict::Allow,
            warning_level: WarningLevel(None),
            windows,
            message: format!("Tier {} is unlimited.", tier.tier_name),
            blocked_by: None,
            suggested_model: None,
            blocking_window: None,
            blocking_metric: None,
            retry_at: None,
        };
    }
    let over: Vec<&WindowStatus> = windows[..deciding]
        .iter()
        .filter(|w| w.limit.zip(w.usage).is_some_and(|(l, u)| u.value() >= l.value()))
        .collect();
    // The window that resets last is the one that really keeps the user out
    // (cost first among equals, the tier's before a model limit's: `over`
    // keeps the windows' order, and `max_by_key` keeps the last maximum, so
    // it is searched in reverse).
    if let Some(worst) = over.iter().rev().max_by_key(|w| w.resets_at) {
        let limit = worst.limit.expect("over a limit means a limit");
        let entry = worst.limit_id.as_ref().and_then(|id| entries.iter().find(|e| &e.limit_id == id));
        let of = entry.map_or(String::new(), |e| {
            let models: Vec<String> = e.models.iter().map(ToString::to_string).collect();
            format!("for {} ({}) ", e.limit_id, models.join(", "))
        });
        let mut text = format!(
            "{} {}limit {of}of {} reached ({} used); resets at {}.",
            capitalised(worst.period),
            metric_words(worst.metric),
            limit,
            worst.usage.unwrap_or_default(),
            ts(worst.resets_at)
        );
        let suggested_model = entry.and_then(|e| e.suggest_model.clone());
        if let Some(m) = &suggested_model {
            text = format!("{text} Try {m} instead.");
        }
        let blocks = tier.action_on_limit == LimitAction::Block;
        return Decision {
            allowed: !blocks,
            decision: if blocks { Verdict::Block } else { Verdict::Warn },
            warning_level: WarningLevel(Some(100)),
            blocked_by: blocks.then(|| BlockedBy {
                scope: if worst.limit_id.is_some() { Scope::Model } else { Scope::User },
                limit_id: worst.limit_id.clone(),
                group_id: None,
                period: worst.period,
                metric: worst.metric,
            }),
            suggested_model: suggested_model.filter(|_| blocks),
            blocking_window: blocks.then_some(worst.period),
            blocking_metric: blocks.then_some(worst.metric),
            retry_at: None,
            message: if blocks { text } else { format!("{text} This tier only warns.") },
            windows,
        };
    }
    let mut level = WarningLevel(None);
    let mut warned: Option<&WindowStatus> = None;
    for w in &windows[..deciding] {
        let Some(limit) = w.limit else { continue };
        if let Some(t) = thresholds(tier).into_iter().rev().find(|t| reached(w.usage.unwrap_or_default(), limit, *t))
            && WarningLevel(Some(t)) > level
        {
            level = WarningLevel(Some(t));
            warned = Some(w);
        }
    }
    match warned {
        Some(w) => Decision {
            allowed: true,
            decision: Verdict::Warn,
            warning_level: level,
            message: format!(
                "{}% of the {} {}limit {}used ({} of {}).",
                level.0.expect("set with warned"),
                w.period.as_str(),
                metric_words(w.metric),
                w.limit_id.as_ref().map_or(String::new(), |id| format!("for {id} ")),
                w.usage.unwrap_or_default(),
                w.limit.expect("only limited windows warn")
            ),
            windows,
            blocked_by: None,
            suggested_model: None,
            blocking_window: None,
            blocking_metric: None,
            retry_at: None,
        },
        None => Decision {
            allowed: true,
            decision: Verdict::Allow,
            warning_level: level,
            message: "Within quota.".to_string(),
            windows,
            blocked_by: None,
            suggested_model: None,
            blocking_window: None,
            blocking_metric: None,
            retry_at: None,
        },
    }
}

/// The decision for a user no tier applies to.
pub fn decide_unmatched(policy: NoMatchPolicy, usage: &UsageSnapshot, now: DateTime<Utc>) -> Decision {
    let windows = window_statuses(None, usage, now);
    match policy {
        NoMatchPolicy::Allow => Decision {
            allowed: true,
            decision: Verdict::Allow,
            warning_level: WarningLevel(None),
            windows,
            message: "No quota tier applies to this user; allowed by policy.".to_string(),
            blocked_by: None,
            suggested_model: None,
            blocking_window: None,
            blocking_metric: None,
            retry_at: None,
        },
        NoMatchPolicy::Block => Decision {
            allowed: false,
            decision: Verdict::Block,
            warning_level: WarningLevel(None),
            windows,
            message: "No quota tier applies to this user; blocked by policy.".to_string(),
            blocked_by: None,
            suggested_model: None,
            blocking_window: None,
            blocking_metric: None,
            retry_at: None,
        },
    }
}

/// "" for cost (its messages read as before), "token " or "request ".
fn metric_words(m: Metric) -> &'static str {
    match m {
        Metric::Cost => "",
        Metric::Tokens => "token ",
        Metric::Requests => "request ",
    }
}

fn capitalised(w: Window) -> &'static str {
    match w {
        Window::Daily => "Daily",
        Window::Monthly => "Monthly",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{UsageDelta, UsageTotals};
    use crate::testing::{at, money, tier};

    /// When a blocked user may try again, from Retry-After's seconds.
    fn retry_at(d: &Decision, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        d.retry_after_seconds(now).map(|s| now + chrono::Duration::seconds(s))
    }

    fn usage(daily: &str, monthly: &str) -> UsageSnapshot {
        let t = |c: &str| UsageTotals { cost: money(c), ..Default::default() };
        UsageSnapshot { daily: t(daily), monthly: t(monthly), ..Default::default() }
    }

    fn now() -> DateTime<Utc> {
        at("2026-11-27T10:00:00Z")
    }

    /// Cost 100 a month, plus 5 requests a day and 1,000 tokens a month.
    fn counted_tier() -> Tier {
        let mut t = tier("t", "100", "");
        t.limits.daily_request_limit = Some(5);
        t.limits.monthly_token_limit = Some(1000);
        t
    }

    fn counted(requests: u64, tokens: u64) -> UsageSnapshot {
        let t =
            UsageTotals { cost: money("1"), input_tokens: tokens / 2, output_tokens: tokens - tokens / 2, requests };
        UsageSnapshot { daily: t, monthly: t, ..Default::default() }
    }

    #[test]
    fn token_and_request_limits_answer_their_own_windows_in_whole_numbers() {
        let d = decide(&counted_tier(), &counted(2, 300), ModelScope::Unnamed, now());
        let shape: Vec<(Window, Metric)> = d.windows.iter().map(|w| (w.period, w.metric)).collect();
        use Window::{Daily, Monthly};
        assert_eq!(
            shape,
            [(Daily, Metric::Cost), (Monthly, Metric::Cost), (Monthly, Metric::Tokens), (Daily, Metric::Requests)],
            "cost always, the others where limited"
        );
        let json = serde_json::to_value(&d.windows[2]).unwrap();
        assert_eq!(json["usage"], serde_json::json!(300));
        assert_eq!(json["limit"], serde_json::json!(1000));
        assert_eq!(json["remaining"], serde_json::json!(700));
        assert_eq!(json["metric"], "tokens");
        assert_eq!(serde_json::to_value(&d.windows[1]).unwrap()["usage"], "1.00", "cost stays a decimal string");
        assert_eq!(d.decision, Verdict::Allow);
    }

    #[test]
    fn each_metric_warns_and_blocks_like_cost() {
        let d = decide(&counted_tier(), &counted(4, 300), ModelScope::Unnamed, now());
        assert_eq!((d.decision, d.warning_level), (Verdict::Warn, WarningLevel(Some(80))));
        assert_eq!(d.message, "80% of the daily request limit used (4 of 5).");
        let tokens = decide(&counted_tier(), &counted(1, 950), ModelScope::Unnamed, now());
        assert_eq!(tokens.warning_level, WarningLevel(Some(90)));
        let blocked = decide(&counted_tier(), &counted(5, 300), ModelScope::Unnamed, now());
        assert_eq!((blocked.decision, blocked.blocking_metric), (Verdict::Block, Some(Metric::Requests)));
        assert!(blocked.message.starts_with("Daily request limit of 5 reached (5 used)"), "{}", blocked.message);
        // Both over: the monthly token window resets last, so it decides.
        let both = decide(&counted_tier(), &counted(5, 1000), ModelScope::Unnamed, now());
        assert_eq!((both.blocking_window, both.blocking_metric), (Some(Window::Monthly), Some(Metric::Tokens)));
        let reached = warnings_reached(&counted_tier(), &counted(5, 850), None);
        assert_eq!(
            reached,
            [
                (None, Window::Monthly, Metric::Tokens, 80),
                (None, Window::Daily, Metric::Requests, 80),
                (None, Window::Daily, Metric::Requests, 90)
            ]
        );
    }

    #[test]
    fn within_limits_allows() {
        let d = decide(&tier("t", "100", "10"), &usage("1", "12.5"), ModelScope::Unnamed, now());
        assert!(d.allowed);
        assert_eq!(d.decision, Verdict::Allow);
        assert_eq!(d.warning_level, WarningLevel(None));
        let monthly = &d.windows[1];
        assert_eq!(monthly.period, Window::Monthly);
        assert_eq!(monthly.remaining.map(Amount::money), Some(money("87.5")));
        assert_eq!(monthly.percentage_used, Some(Percentage(Decimal::new(125, 1))));
        assert_eq!(monthly.resets_at, at("2026-12-01T00:00:00Z"));
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["windows"][1]["usage"], "12.50");
        assert_eq!(json["windows"][1]["percentageUsed"], 12.5);
        assert_eq!(json["windows"][1]["resetsAt"], "2026-12-01T00:00:00Z");
        assert_eq!(json["warningLevel"], "none");
    }

    #[test]
    fn over_the_limit_blocks() {
        let d = decide(&tier("t", "100", ""), &usage("0", "100.01"), ModelScope::Unnamed, now());
        assert!(!d.allowed);
        assert_eq!(d.decision, Verdict::Block);
        assert_eq!(d.windows[1].remaining.map(Amount::money), Some(crate::model::Money::ZERO));
        assert_eq!(retry_at(&d, now()), Some(at("2026-12-01T00:00:00Z")));
    }

    #[test]
    fn exactly_at_the_limit_blocks_and_a_cent_below_does_not() {
        assert_eq!(
            decide(&tier("t", "100", ""), &usage("0", "100"), ModelScope::Unnamed, now()).decision,
            Verdict::Block
        );
        assert_eq!(
            decide(&tier("t", "100", ""), &usage("0", "99.99"), ModelScope::Unnamed, now()).decision,
            Verdict::Warn
        );
    }

    #[test]
    fn daily_and_monthly_limits_are_both_enforced() {
        let t = tier("t", "100", "10");
        let daily = decide(&t, &usage("10", "20"), ModelScope::Unnamed, now());
        assert_eq!(daily.decision, Verdict::Block);
        assert_eq!(daily.blocking_window, Some(Window::Daily));
        assert_eq!(retry_at(&daily, now()), Some(at("2026-11-28T00:00:00Z")));
        let monthly = decide(&t, &usage("1", "100"), ModelScope::Unnamed, now());
        assert_eq!(monthly.blocking_window, Some(Window::Monthly));
        // Both over: the user is out until the later reset.
        let both = decide(&t, &usage("10", "100"), ModelScope::Unnamed, now());
        assert_eq!(both.blocking_window, Some(Window::Monthly));
        // A daily-only tier ignores monthly totals.
        assert_eq!(
            decide(&tier("t", "", "10"), &usage("1", "5000"), ModelScope::Unnamed, now()).decision,
            Verdict::Allow
        );
    }

    #[test]
    fn unlimited_never_blocks() {
        let d = decide(&tier("u", "", ""), &usage("1000000", "1000000"), ModelScope::Unnamed, now());
        assert!(d.allowed);
        assert_eq!(d.decision, Verdict::Allow);
        assert!(d.windows.iter().all(|w| w.limit.is_none() && w.remaining.is_none()));
    }

    #[test]
    fn soft_and_ninety_percent_warn() {
        let t = tier("t", "100", "");
        let at80 = decide(&t, &usage("0", "80"), ModelScope::Unnamed, now());
        assert_eq!((at80.decision, at80.warning_level), (Verdict::Warn, WarningLevel(Some(80))));
        assert_eq!(decide(&t, &usage("0", "79.99"), ModelScope::Unnamed, now()).decision, Verdict::Allow);
        let at90 = decide(&t, &usage("0", "90"), ModelScope::Unnamed, now());
        assert_eq!(at90.warning_level, WarningLevel(Some(90)));
        assert_eq!(serde_json::to_value(&at90).unwrap()["warningLevel"], "90%");
        let mut high = t.clone();
        high.soft_limit_percentage = 95;
        assert_eq!(decide(&high, &usage("0", "91"), ModelScope::Unnamed, now()).warning_level, WarningLevel(Some(90)));
        assert_eq!(decide(&high, &usage("0", "96"), ModelScope::Unnamed, now()).warning_level, WarningLevel(Some(95)));
        high.soft_limit_percentage = 0;
        assert_eq!(decide(&high, &usage("0", "50"), ModelScope::Unnamed, now()).decision, Verdict::Allow);
    }

    #[test]
    fn the_window_closest_to_its_limit_sets_the_warning() {
        let d = decide(&tier("t", "100", "10"), &usage("9.5", "81"), ModelScope::Unnamed, now());
        assert_eq!(d.warning_level, WarningLevel(Some(90)));
        assert!(d.message.contains("daily"), "{}", d.message);
    }

    #[test]
    fn warn_only_tiers_let_requests_through_over_the_limit() {
        let mut t = tier("t", "100", "");
        t.action_on_limit = LimitAction::Warn;
        let d = decide(&t, &usage("0", "150"), ModelScope::Unnamed, now());
        assert!(d.allowed);
        assert_eq!((d.decision, d.warning_level), (Verdict::Warn, WarningLevel(Some(100))));
        assert_eq!(retry_at(&d, now()), None);
    }

    #[test]
    fn no_match_follows_the_policy() {
        let u = usage("0", "0");
        assert!(decide_unmatched(NoMatchPolicy::Allow, &u, now()).allowed);
        let blocked = decide_unmatched(NoMatchPolicy::Block, &u, now());
        assert!(!blocked.allowed);
        assert!(blocked.message.contains("policy"));
    }

    #[test]
    fn a_recorded_request_moves_usage_by_its_exact_cost() {
        let before = usage("9.99", "99.99");
        let after = before.plus(&UsageDelta { cost: money("0.01"), input_tokens: 5, output_tokens: 7 });
        assert_eq!(after.daily.cost, money("10"));
        assert_eq!(after.monthly.requests, 1);
        assert_eq!(decide(&tier("t", "100", "10"), &after, ModelScope::Unnamed, now()).decision, Verdict::Block);
    }
}
