//! A burst of records for one user: `callers` concurrent callers spread over
//! `processes` checkers (each its own cache and writer, as separate Lambda
//! containers), each warmed by one check first. Shared by the contention
//! tests and `make bench`.

use chrono::{DateTime, Utc};
use quota_shared::check::{CheckRequest, Checker};
use quota_shared::config::FailureMode;
use quota_shared::decide::NoMatchPolicy;
use quota_shared::model::{Money, RequestId, UsageDelta};
use quota_shared::record::{RecordAnswer, RecordRequest};
use quota_shared::resolve::Subject;
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
        c.check(&CheckRequest { subject: subject.clone(), session_id: None, estimate: Default::default() }, now).await;
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
                        delta: UsageDelta { cost, input_tokens: 3, output_tokens: 2 },
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
