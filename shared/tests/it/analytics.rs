//! Usage analytics against the emulator: top users per month and per day,
//! daily totals (kept once a day is over), exact to the cent, by tier.

use quota_shared::config::FailureMode;
use quota_shared::model::period::{Period, Window};
use quota_shared::model::{JwtRole, RequestId, Target, TierId, UsageDelta, UserId};
use quota_shared::quota::Checker;
use quota_shared::quota::RecordRequest;
use quota_shared::rules::decide::NoMatchPolicy;
use quota_shared::rules::resolve::Subject;
use quota_shared::store::DynamoStore;
use testkit::{assignment, at, fresh_store, money, tier};

async fn seeded() -> Checker<DynamoStore> {
    let store = fresh_store().await;
    store.create_tier(&tier("basic", "1000", ""), &testkit::audit()).await.unwrap();
    store.create_tier(&tier("staff", "1000", ""), &testkit::audit()).await.unwrap();
    store.create_assignment(&assignment("a-default", "basic", Target::DefaultTier), &testkit::audit()).await.unwrap();
    let role = Target::JwtRole(JwtRole::parse("Staff").unwrap());
    store.create_assignment(&assignment("a-staff", "staff", role), &testkit::audit()).await.unwrap();
    Checker::new(store, NoMatchPolicy::Allow, FailureMode::Open)
}

fn record(user: &str, roles: &[&str], id: &str, cost: &str, tokens: u64) -> RecordRequest {
    RecordRequest {
        subject: Subject {
            user_id: UserId::parse(user).unwrap(),
            roles: roles.iter().map(|r| JwtRole::parse(*r).unwrap()).collect(),
            email: None,
        },
        context: None,
        request_id: RequestId::parse(id).unwrap(),
        usage: quota_shared::model::Consumption::client(UsageDelta {
            cost: money(cost),
            input_tokens: tokens,
            output_tokens: tokens / 2,
        }),
        session_id: None,
    }
}

#[tokio::test]
async fn top_users_and_daily_totals_equal_what_the_records_added() {
    let c = seeded().await;
    let day1 = "2026-11-27T10:00:00Z";
    let day2 = "2026-11-28T09:00:00Z";
    for (user, roles, id, cost, when) in [
        ("ann", &["Staff"][..], "a1", "1.10", day1),
        ("ann", &["Staff"][..], "a2", "0.05", day2),
        ("bob", &[][..], "b1", "3.3333", day1),
        ("cat", &[][..], "c1", "0.01", day2),
        ("cat", &[][..], "c2", "0.02", day2),
        ("dan", &["Staff"][..], "d1", "2", day2),
    ] {
        c.record(&record(user, roles, id, cost, 100), at(when)).await.unwrap();
    }
    let store = c.store();
    let month = Period::containing(Window::Monthly, at(day1));
    let top = store.top_users(&month, None, 3).await.unwrap();
    let names: Vec<(&str, String)> = top.iter().map(|u| (u.user_id.as_str(), u.cost.to_string())).collect();
    assert_eq!(names, [("bob", "3.3333".to_string()), ("dan", "2.00".into()), ("ann", "1.15".into())]);
    assert_eq!((top[2].requests, top[2].input_tokens, top[2].output_tokens), (2, 200, 100));
    assert_eq!(top[1].tier_id, Some(TierId::parse("staff").unwrap()));
    let staff = store.top_users(&month, Some(&TierId::parse("staff").unwrap()), 10).await.unwrap();
    assert_eq!(staff.iter().map(|u| u.user_id.as_str()).collect::<Vec<_>>(), ["dan", "ann"]);

    let d2 = Period::containing(Window::Daily, at(day2));
    let today = store.top_users(&d2, None, 10).await.unwrap();
    assert_eq!(
        today.iter().map(|u| (u.user_id.as_str(), u.cost.to_string())).collect::<Vec<_>>(),
        [("dan", "2.00".to_string()), ("ann", "0.05".into()), ("cat", "0.03".into())]
    );

    let days = [Period::containing(Window::Daily, at(day1)), d2];
    let later = at("2026-11-29T12:00:00Z");
    let totals = store.daily_totals(&days, None, later).await.unwrap();
    assert_eq!(
        (totals[0].day.as_str(), totals[0].cost.to_string(), totals[0].active_users),
        ("2026-11-27", "4.4333".into(), 2)
    );
    assert_eq!((totals[1].cost.to_string(), totals[1].requests, totals[1].active_users), ("2.08".into(), 4, 3));
    assert_eq!(totals[1].input_tokens, 400);
    // Settled days are kept: asking again is one read a day.
    store.requests().reset();
    assert_eq!(store.daily_totals(&days, None, later).await.unwrap(), totals);
    assert_eq!(store.requests().snapshot(), [("GetItem".to_string(), 2)].into());
    let staff_days = store.daily_totals(&days, Some(&TierId::parse("staff").unwrap()), later).await.unwrap();
    assert_eq!((staff_days[1].cost.to_string(), staff_days[1].active_users), ("2.05".into(), 2));
}

#[tokio::test]
async fn a_record_outside_the_guard_is_ranked_by_its_own_add() {
    let c = seeded().await;
    let now = at("2026-11-27T10:00:00Z");
    let user = UserId::parse("eve").unwrap();
    let delta = UsageDelta { cost: money("7"), input_tokens: 1, output_tokens: 1 };
    c.store().add_usage(&user, &RequestId::parse("u1").unwrap(), &delta, now).await.unwrap();
    let month = Period::containing(Window::Monthly, now);
    let top = c.store().top_users(&month, None, 1).await.unwrap();
    assert_eq!((top[0].user_id.as_str(), top[0].cost.to_string()), ("eve", "7.00".to_string()));
}
