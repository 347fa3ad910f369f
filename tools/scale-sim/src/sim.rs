//! The traffic: a configuration created through the store's admin code,
//! then each simulated second a sample of the target's checks and records,
//! through the real `Checker` of a sample of the function's containers,
//! and an admin change every few seconds.

use crate::connector::{self, EVENTS, QUOTA};
use crate::load::Load;
use crate::memdb::MemDb;
use crate::population::{self, LABS, Population, Rng};
use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use quota_shared::config::FailureMode;
use quota_shared::fanout::Fanout;
use quota_shared::model::{AdminChange, Consumption, Enforcement, NewOverride, Target, Tier, UsageDelta};
use quota_shared::quota::{CheckRequest, Checker, Estimate, QuotaContext, RecordRequest};
use quota_shared::rules::decide::NoMatchPolicy;
use quota_shared::store::DynamoStore;
use quota_shared::testing::{assignment, money, tier};
use std::sync::{Arc, Mutex};

/// Tasks the turns of a second are split over (the machine's cores).
const WORKERS: usize = 4;

pub struct Settings {
    pub users: u32,
    /// Checks a second; each allowed one is recorded (a blocked turn is not).
    pub checks: f64,
    pub seconds: u32,
    /// The share of the traffic (and of the containers) simulated; every
    /// count is divided by it.
    pub sample: f64,
    pub fanout: Fanout,
    /// An admin change every this many seconds.
    pub admin_every: u32,
    pub zipf: f64,
    /// The most turns a second one user makes.
    pub user_cap: f64,
    /// The check function's concurrent containers at the target.
    pub containers: u32,
    /// Department groups (by email domain), each a budget of its members.
    pub groups: u32,
    /// At this measured second, an admin lowers the student tier's daily
    /// limit to $0.50, under most of its users' day so far: a burst of
    /// block events (each user's next check stores one).
    pub tighten_at: Option<u32>,
}

pub struct Outcome {
    pub load: Load,
    pub checks: u64,
    pub records: u64,
    pub blocked: u64,
    pub containers: usize,
    pub top_share: f64,
    pub admin_changes: u32,
}

/// The simulation starts mid-month, mid-day (UTC).
pub fn start() -> DateTime<Utc> {
    quota_shared::testing::at("2026-12-15T12:00:00Z")
}

fn audit(now: DateTime<Utc>) -> AdminChange {
    let target = quota_shared::model::ChangeTarget {
        target_type: quota_shared::model::TargetType::Tier,
        target_id: "scale-sim".into(),
        user_id: None,
        tier_id: None,
    };
    AdminChange::new::<()>("scale-sim", "setup", target, None, None, now)
}

fn strict(mut t: Tier, reservation: &str) -> Tier {
    t.enforcement = Enforcement::Strict;
    t.default_reservation = Some(money(reservation));
    t
}

/// Tiers, assignments (default, a domain, two roles), `groups` department
/// groups, 4 strict lab groups, 1,000 overrides (a fifth strict) of users
/// drawn by activity.
async fn configure(store: &DynamoStore, population: &Population, groups: u32) {
    let now = start();
    for t in [tier("basic", "20", "2"), tier("student", "30", "3"), tier("faculty", "100", "10")] {
        store.create_tier(&t, &audit(now)).await.expect("tier");
    }
    store.create_tier(&strict(tier("contractor", "50", "5"), "0.05"), &audit(now)).await.expect("tier");
    let role = |r: &str| Target::JwtRole(quota_shared::model::JwtRole::parse(r).expect("valid"));
    let domain = Target::EmailDomain(quota_shared::model::DomainPattern::parse("*.uni.edu").expect("valid"));
    for a in [
        assignment("a-default", "basic", Target::DefaultTier),
        assignment("a-uni", "student", domain),
        assignment("a-faculty", "faculty", role("Faculty")),
        assignment("a-contractor", "contractor", role("Contractor")),
    ] {
        store.create_assignment(&a, &audit(now)).await.expect("assignment");
    }
    let departments = (0..groups).map(|g| (format!("dept-{g}"), format!("d{g}.uni.edu"), false));
    let labs = (0..LABS).map(|l| (format!("lab-{l}"), format!("lab{l}.uni.edu"), true));
    for (id, domain, strict) in departments.chain(labs) {
        let mut body = serde_json::json!({
            "groupId": id, "groupName": id, "monthlyCostLimit": "5000", "emailDomains": [domain],
        });
        if strict {
            body["enforcement"] = "strict".into();
            body["defaultReservation"] = "0.05".into();
        }
        let group = serde_json::from_value::<quota_shared::model::group::NewGroup>(body)
            .expect("a group body")
            .into_group("scale-sim", now);
        store.create_group(&group.expect("a valid group"), &audit(now)).await.expect("group");
    }
    let mut rng = Rng::new(7);
    for i in 0..1000u32 {
        let rank = population.draw(&mut rng);
        store.create_override(&override_for(rank, i % 5 == 0, now), now, &audit(now)).await.expect("override");
    }
}

/// A custom override of `rank` for the month ($60; strict ones reserve 5 cents).
fn override_for(rank: u32, strict: bool, now: DateTime<Utc>) -> quota_shared::model::Override {
    let mut body = serde_json::json!({
        "userId": format!("u{rank}"), "overrideType": "custom_limit", "monthlyCostLimit": "60",
        "validUntil": (now + Duration::days(10)).to_rfc3339(), "reason": "scale-sim",
    });
    if strict {
        body["enforcement"] = "strict".into();
        body["defaultReservation"] = "0.05".into();
    }
    serde_json::from_value::<NewOverride>(body)
        .expect("an override body")
        .into_override("scale-sim", now)
        .expect("valid")
}

/// One turn: the check, and the record when allowed (what the chat backend does).
async fn turn(c: &Checker<DynamoStore>, rank: u32, n: u64, cost_cents: u64, now: DateTime<Utc>) -> (bool, bool) {
    let subject = population::subject(rank);
    let check = CheckRequest { subject: subject.clone(), model: None, session_id: None, estimate: Estimate::default() };
    let answer = c.check(&check, now).await.expect("the check answers");
    if !answer.decision.allowed {
        return (true, false);
    }
    let context = answer.quota_context.as_deref().map(|raw| QuotaContext::decode(raw, &subject.user_id).expect("ours"));
    let request_id =
        answer.request_id.unwrap_or_else(|| quota_shared::model::RequestId::parse(format!("t{n}")).expect("valid"));
    let usage = Consumption::client(UsageDelta {
        cost: quota_shared::model::Money::parse("cost", &format!("0.{cost_cents:04}")).expect("valid"),
        input_tokens: 400 + cost_cents * 10,
        output_tokens: 200,
    });
    let record = RecordRequest { subject, context, request_id, usage, session_id: None };
    c.record(&record, now + Duration::milliseconds(800)).await.expect("the record answers");
    (false, true)
}

pub async fn run(s: &Settings) -> Outcome {
    let population = Population::new(s.users, s.zipf, s.checks, s.user_cap);
    let db = Arc::new(Mutex::new(MemDb::new([(QUOTA, "quota"), (EVENTS, "events")])));
    db.lock().expect("fresh").seed = Box::new(|pk, _| {
        let rank: u32 = pk.strip_prefix("USER#u")?.parse().ok()?;
        let (month, today) = population::month_so_far(rank);
        let delta = |dollars: f64| UsageDelta {
            cost: quota_shared::model::Money::parse("cost", &format!("{dollars:.2}")).expect("valid"),
            input_tokens: (dollars * 40_000.0) as u64,
            output_tokens: (dollars * 20_000.0) as u64,
        };
        let user = quota_shared::model::UserId::parse(format!("u{rank}")).ok()?;
        let row = quota_shared::store::usage_row(
            &user,
            start(),
            (&delta(month), (month * 100.0) as u64),
            (&delta(today), (today * 100.0) as u64),
        );
        Some(crate::json::item(&row))
    });
    let store = connector::store(db.clone(), s.fanout);
    configure(&store, &population, s.groups).await;
    db.lock().expect("not poisoned").load.reset();

    let containers = ((f64::from(s.containers) * s.sample).round() as usize).max(1);
    let checkers: Vec<Arc<Checker<DynamoStore>>> = (0..containers)
        .map(|_| Arc::new(Checker::new(store.clone(), NoMatchPolicy::Allow, FailureMode::Open)))
        .collect();
    let per_second = (s.checks * s.sample).round() as u64;
    let mut rng = Rng::new(42);
    let (mut checks, mut records, mut blocked, mut admin_changes, mut n) = (0u64, 0u64, 0u64, 0u32, 0u64);
    let mut student = tier("student", "30", "3");
    // The first second warms the containers up and is not counted: a
    // stage's containers start a few at a time (docs/scale.md prices a cold
    // start), not all in one second as a simulation's would.
    for second in 0..=s.seconds {
        let at = start() + Duration::seconds(i64::from(second));
        let measured = second.checked_sub(1);
        if let Some(m) = measured.filter(|m| m.is_multiple_of(s.admin_every)) {
            admin_change(&store, &mut student, m / s.admin_every, &population, &mut rng, at).await;
            admin_changes += 1;
        }
        if measured.is_some() && measured == s.tighten_at {
            let expected = student.audit.version;
            student.limits.daily_cost_limit = Some(money("0.5"));
            student.audit.version += 1;
            store.update_tier(&student, expected, &audit(at)).await.expect("tier update");
            admin_changes += 1;
        }
        // This second's turns: a check each, and a record for each allowed one.
        let mut made = 0;
        {
            let batch: Vec<(usize, u32, u64, u64)> = (0..per_second)
                .map(|_| {
                    n += 1;
                    (
                        rng.below(containers as u64) as usize,
                        population.draw_sampled(&mut rng, s.sample),
                        n,
                        20 + rng.below(180),
                    )
                })
                .collect();
            // Two workers' worth of tasks, each taking its turns 32 at a time.
            let mut tasks = Vec::new();
            for part in batch.chunks(batch.len().div_ceil(WORKERS).max(1)) {
                let part = part.to_vec();
                let checkers = checkers.clone();
                tasks.push(tokio::spawn(async move {
                    futures_util::stream::iter(part)
                        .map(|(c, rank, n, cents)| {
                            let checker = checkers[c].clone();
                            let now = at + Duration::microseconds((n % 1_000) as i64 * 900);
                            async move { turn(&checker, rank, n, cents, now).await }
                        })
                        .buffer_unordered(32)
                        .collect::<Vec<(bool, bool)>>()
                        .await
                }));
            }
            let mut results = Vec::new();
            for task in tasks {
                results.extend(task.await.expect("a turn panicked"));
            }
            for (was_blocked, recorded) in results {
                checks += 1;
                blocked += u64::from(was_blocked);
                made += u64::from(recorded);
            }
        }
        let mut db = db.lock().expect("not poisoned");
        if measured.is_none() {
            db.load.reset();
            (checks, blocked) = (0, 0);
            continue;
        }
        records += made;
        db.load.end_second();
    }
    let load = std::mem::take(&mut db.lock().expect("not poisoned").load);
    Outcome { load, checks, records, blocked, containers, top_share: population.top_share, admin_changes }
}

/// Every few seconds an admin writes: a tier's monthly limit changed (every
/// container refills its configuration at its next check), then an
/// override granted to a busy user.
async fn admin_change(
    store: &DynamoStore,
    student: &mut Tier,
    k: u32,
    population: &Population,
    rng: &mut Rng,
    at: DateTime<Utc>,
) {
    if k.is_multiple_of(2) {
        let expected = student.audit.version;
        student.limits.monthly_cost_limit = Some(money(if k.is_multiple_of(4) { "31" } else { "30" }));
        student.audit.version += 1;
        store.update_tier(student, expected, &audit(at)).await.expect("tier update");
    } else {
        let rank = population.draw(rng);
        store.create_override(&override_for(rank, false, at), at, &audit(at)).await.expect("override");
    }
}
