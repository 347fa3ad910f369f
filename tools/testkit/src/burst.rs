//! A burst of records for one user: `callers` concurrent callers spread over
//! `processes` checkers (each its own cache and writer, as separate Lambda
//! containers), each warmed by one check first. Shared by the contention
//! tests and `make bench`.

use chrono::{DateTime, Utc};
use quota_shared::config::FailureMode;
use quota_shared::model::{Money, RequestId, UsageDelta};
use quota_shared::quota::context::QuotaContext;
use quota_shared::quota::{CheckRequest, Checker, Estimate};
use quota_shared::quota::{RecordAnswer, RecordRequest};
use quota_shared::rules::decide::NoMatchPolicy;
use quota_shared::rules::resolve::Subject;
use quota_shared::store::DynamoStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Burst {
    pub answers: Vec<RecordAnswer>,
    /// DynamoDB requests the records sent, by operation (not the warm-up checks).
    pub requests: BTreeMap<String, u64>,
}

impl Burst {
    pub fn per_record(&self) -> f64 {
        self.requests.values().sum::<u64>() as f64 / self.answers.len().max(1) as f64
    }
}

pub async fn burst(
    store: &DynamoStore,
    subject: &Subject,
    processes: usize,
    callers: usize,
    records: usize,
    cost: Money,
    now: DateTime<Utc>,
) -> Burst {
    let checkers: Vec<_> = (0..processes)
        .map(|_| Arc::new(Checker::new(store.clone(), NoMatchPolicy::Allow, FailureMode::Open)))
        .collect();
    for c in &checkers {
        c.check(
            &CheckRequest { subject: subject.clone(), model: None, session_id: None, estimate: Default::default() },
            now,
        )
        .await
        .unwrap();
    }
    store.requests().reset();
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let (c, next, subject) = (checkers[caller % processes].clone(), next.clone(), subject.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= records {
                        return answers;
                    }
                    let request = RecordRequest {
                        subject: subject.clone(),
                        context: None,
                        request_id: RequestId::parse(format!("burst-{i}")).expect("valid id"),
                        usage: quota_shared::model::Consumption::client(UsageDelta {
                            cost,
                            input_tokens: 3,
                            output_tokens: 2,
                        }),
                        session_id: None,
                    };
                    answers.push(c.record(&request, now).await.expect("recorded"));
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.extend(t.await.expect("caller finished"));
    }
    Burst { answers, requests: store.requests().snapshot() }
}

/// What a burst of check-then-record turns did.
pub struct Turns {
    /// Checks that allowed (and whose request was then recorded).
    pub allowed: usize,
    /// DynamoDB requests of the whole burst, by operation.
    pub requests: BTreeMap<String, u64>,
}

/// `turns` check-then-record turns for one user by `callers` concurrent
/// callers over `processes` checkers: each check names its request id and
/// `estimate` (reserved by strict tiers); an allowed turn records `cost`.
#[allow(clippy::too_many_arguments)]
pub async fn check_then_record(
    store: &DynamoStore,
    subject: &Subject,
    processes: usize,
    callers: usize,
    turns: usize,
    estimate: Money,
    cost: Money,
    now: DateTime<Utc>,
) -> Turns {
    let checkers: Vec<_> = (0..processes)
        .map(|_| Arc::new(Checker::new(store.clone(), NoMatchPolicy::Allow, FailureMode::Closed)))
        .collect();
    store.requests().reset();
    let (next, allowed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let c = checkers[caller % processes].clone();
            let (next, allowed, subject) = (next.clone(), allowed.clone(), subject.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= turns {
                        return;
                    }
                    let id = RequestId::parse(format!("turn-{i}")).expect("valid id");
                    let check = CheckRequest {
                        subject: subject.clone(),
                        model: None,
                        session_id: None,
                        estimate: Estimate {
                            request_id: Some(id.clone()),
                            cost: Some(estimate),
                            tokens: None,
                            ..Default::default()
                        },
                    };
                    let answer = c.check(&check, now).await.unwrap();
                    assert!(!answer.degraded, "{answer:?}");
                    if answer.decision.allowed {
                        allowed.fetch_add(1, Ordering::SeqCst);
                        let record = RecordRequest {
                            subject: subject.clone(),
                            context: answer
                                .quota_context
                                .as_deref()
                                .map(|c| QuotaContext::decode(c, &subject.user_id).expect("its own context")),
                            request_id: id,
                            usage: quota_shared::model::Consumption::client(UsageDelta {
                                cost,
                                input_tokens: 0,
                                output_tokens: 0,
                            }),
                            session_id: None,
                        };
                        c.record(&record, now).await.expect("recorded");
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("caller finished");
    }
    Turns { allowed: allowed.load(Ordering::SeqCst), requests: store.requests().snapshot() }
}
