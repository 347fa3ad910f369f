//! Releasing a strict check's reservation before its record: the turn's
//! LLM call failed, and its estimate should not block the user until the
//! hold expires. Exactly once: the store's condition is that the hold is
//! still there as read; releasing again, or a request that holds nothing,
//! says so and changes nothing.

use crate::emf::{self, Counter};
use crate::error::Error;
use crate::model::period::{Period, Window};
use crate::model::{Money, RequestId, UserId};
use crate::quota::cache::UserEntry;
use crate::quota::checker::Checker;
use crate::quota::port::{CheckStore, ReleaseOutcome};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRequest {
    pub user_id: UserId,
    pub request_id: RequestId,
}

crate::names::named_enum! {
    /// Why a release did what it did.
    pub enum ReleaseReason {
        /// The hold was there; it counts no more.
        Released,
        /// Nothing is held under this request id: never held, settled by its
        /// record, released before, or expired and let go by a later hold.
        NotHeld,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseAnswer {
    pub request_id: RequestId,
    pub released: bool,
    pub reason: ReleaseReason,
    /// What the released hold held (absent when nothing was released).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
}

/// Tries: a hold held anew meanwhile (a retried check) is released as it is now.
const RELEASE_ATTEMPTS: usize = 3;

impl<S: CheckStore> Checker<S> {
    /// Releases `request`'s reservation; within the request budget, else
    /// unavailable (retry with the same request id: a second release is a
    /// `not_held` answer, never a second release).
    pub async fn release(&self, request: &ReleaseRequest, now: DateTime<Utc>) -> Result<ReleaseAnswer, Error> {
        self.within_request_budget(self.try_release(request, now)).await
    }

    async fn try_release(&self, request: &ReleaseRequest, now: DateTime<Utc>) -> Result<ReleaseAnswer, Error> {
        let user = &request.user_id;
        let today = Period::containing(Window::Daily, now).key();
        let _turn = self.turns.take(user).await;
        // The row, not a cached view: a hold this container never saw counts.
        let mut view = self.store.load_user_view(user, &[], now).await?;
        for _ in 0..RELEASE_ATTEMPTS {
            let Some(held) = view.usage.reservation(&request.request_id).cloned() else {
                self.users.put(user.clone(), UserEntry { day: today, view });
                return Ok(answer(request, None));
            };
            match self.store.release(user, &held, now).await? {
                ReleaseOutcome::Released => {
                    // The strict groups' pools hold it too: each let go of
                    // once (a hold expired and let go of by another member's
                    // is gone already).
                    for group in &held.groups {
                        self.store.release_pool_hold(group, user, &held).await?;
                    }
                    view.usage.release(&held.request_id, &today);
                    self.users.put(user.clone(), UserEntry { day: today, view });
                    emf::count(Counter::Releases, &[]);
                    return Ok(answer(request, Some((held.cost, held.tokens))));
                }
                ReleaseOutcome::Stale(current) => view.usage = *current,
            }
        }
        Err(Error::Unavailable("the reservation kept changing; retry".into()))
    }
}

fn answer(request: &ReleaseRequest, released: Option<(Money, u64)>) -> ReleaseAnswer {
    ReleaseAnswer {
        request_id: request.request_id.clone(),
        released: released.is_some(),
        reason: if released.is_some() { ReleaseReason::Released } else { ReleaseReason::NotHeld },
        amount: released.map(|(cost, _)| cost),
        tokens: released.map(|(_, tokens)| tokens),
    }
}
