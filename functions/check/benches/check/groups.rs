//! Group budgets: the requests a member's check and record send, and
//! records per second on one group with 1, 4 and 16 concurrent callers.

use super::*;
use quota_shared::model::AdminChange;
use quota_shared::model::group::{Group, NewGroup};

fn group(id: &str, json: serde_json::Value) -> Group {
    let mut body = json!({"groupId": id, "groupName": id.to_uppercase()});
    body.as_object_mut().expect("object").extend(json.as_object().expect("object").clone());
    let body: NewGroup = serde_json::from_value(body).expect("valid group");
    body.into_group("bench", at(NOW)).expect("valid group")
}

async fn create(store: &DynamoStore, g: &Group) {
    let change = AdminChange::new("bench", "create", g.change_target(), None, Some(g), at(NOW));
    store.create_group(g, &change).await.expect("seed");
}

/// The requests of a member's turn: in a role group and a named group.
pub(crate) async fn group_requests() {
    let now = at(NOW);
    let store = seeded().await;
    // The staff (by role) and a lab (by name), both pooled.
    create(&store, &group("staff-pool", json!({"monthlyCostLimit": "5000", "jwtRoles": ["Staff"]}))).await;
    let lab = group("lab", json!({"monthlyCostLimit": "500"}));
    create(&store, &lab).await;
    let user = UserId::parse("g1").expect("valid");
    let change =
        AdminChange::new("bench", "add_member", Group::member_target(&lab.group_id, &user), None, Some(&lab), now);
    store.add_member(&lab, &user, "bench", now, &change).await.expect("seed");
    let strict = group(
        "strict-lab",
        json!({"monthlyCostLimit": "500", "enforcement": "strict", "defaultReservation": "0.05", "jwtRoles": ["Strict"]}),
    );
    create(&store, &strict).await;
    let c = checker(store.clone());
    let counter = store.requests().clone();
    async fn counted<F: std::future::Future>(
        counter: &quota_shared::store::RequestCounter,
        f: F,
    ) -> (BTreeMap<String, u64>, F::Output) {
        counter.reset();
        let answer = f.await;
        (counter.snapshot(), answer)
    }
    println!("## Group budgets: DynamoDB requests of a member's turn (emulator)\n");
    println!("| operation | BatchGetItem | Query | GetItem | TransactWriteItems | round trips |");
    println!("|---|---|---|---|---|---|");
    let (first, _) = counted(&counter, c.check(&check_request("g1"), now)).await;
    super::requests::row("check of a user in two groups (role, named), new container", &first);
    let (warm, answer) = counted(&counter, c.check(&check_request("g1"), now)).await;
    let answer = answer.expect("checked");
    assert_eq!(answer.groups.len(), 2, "both groups judged");
    super::requests::row("check of a user in two groups, warm", &warm);
    let mut record = record_request("g1", "g1-r1");
    record.context =
        answer.quota_context.as_deref().map(|c| quota_shared::quota::QuotaContext::decode(c, &user).expect("issued"));
    let (recorded, _) = counted(&counter, c.record(&record, now)).await;
    super::requests::row("record of that turn (user + 2 groups, one transaction)", &recorded);
    let strict_member = CheckRequest {
        subject: Subject { roles: vec![JwtRole::parse("Strict").expect("valid")], ..subject("g2") },
        model: None,
        session_id: None,
        estimate: Default::default(),
    };
    c.check(&strict_member, now).await.expect("warm-up");
    let (held, _) = counted(&counter, c.check(&strict_member, now)).await;
    super::requests::row("check of a strict group's member, warm (holds on the pool)", &held);
    println!();
}

/// `callers` members of one standard group recording at once, each its
/// own container, `per_caller` records each: records a second, requests
/// per record, and whether the group's total is exact.
pub(crate) async fn records_on_one_group() {
    println!("## Records on one group: members recording at once (emulator, one process)\n");
    println!("| callers | records | seconds | records / s | requests per record | group total exact |");
    println!("|---|---|---|---|---|---|");
    for callers in [1usize, 4, 16] {
        let store = seeded().await;
        let g = group("dept", json!({"monthlyCostLimit": "100000", "jwtRoles": ["Staff"]}));
        create(&store, &g).await;
        // 64 records in all, whatever the number of callers.
        let per_caller = 64 / callers;
        let checkers: Vec<Arc<Checker<DynamoStore>>> = (0..callers).map(|_| Arc::new(checker(store.clone()))).collect();
        // Each member's container has checked once (its context names the group).
        let mut contexts = Vec::new();
        for (i, c) in checkers.iter().enumerate() {
            let answer = c.check(&check_request(&format!("m{i}")), at(NOW)).await.expect("checked");
            contexts.push(answer.quota_context.expect("judged"));
        }
        store.requests().reset();
        let started = Instant::now();
        let tasks: Vec<_> = checkers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (c, context) = (c.clone(), contexts[i].clone());
                tokio::spawn(async move {
                    let user = UserId::parse(format!("m{i}")).expect("valid");
                    for n in 0..per_caller {
                        let mut r = record_request(&format!("m{i}"), &format!("m{i}-{n}"));
                        r.context = Some(quota_shared::quota::QuotaContext::decode(&context, &user).expect("issued"));
                        c.record(&r, at(NOW)).await.expect("recorded");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("caller");
        }
        let elapsed = started.elapsed();
        let records = callers * per_caller;
        let requests: u64 = store.requests().snapshot().values().sum();
        let pool =
            &store.load_group_usage(std::slice::from_ref(&g.group_id), at(NOW)).await.expect("read")[&g.group_id];
        let exact = pool.total.monthly.requests == records as u64
            && pool.total.monthly.cost
                == (0..records).fold(quota_shared::model::Money::ZERO, |sum, _| sum.plus(money("0.0123")));
        println!(
            "| {callers} | {records} | {:.2} | {:.0} | {:.2} | {} |",
            elapsed.as_secs_f64(),
            records as f64 / elapsed.as_secs_f64(),
            requests as f64 / records as f64,
            if exact { "yes" } else { "NO" }
        );
    }
    println!();
}
