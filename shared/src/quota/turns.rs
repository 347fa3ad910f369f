//! Writes of one user take turns within a process. Concurrent records of a
//! user served by one process (the local server, or a container serving
//! several requests) would otherwise race for the same usage row, and every
//! loser would pay a retry; in turn, each knows the exact state the previous
//! one left, and its guarded write succeeds first time.

use crate::model::UserId;
use std::hash::{BuildHasher, RandomState};
use tokio::sync::{Mutex, MutexGuard};

/// Users share a fixed number of locks (by hash): memory stays flat however
/// many users a long-running process sees, and two users rarely share one.
pub const STRIPES: usize = 256;

pub struct Turns {
    hasher: RandomState,
    stripes: Vec<Mutex<()>>,
}

impl Default for Turns {
    fn default() -> Self {
        Self { hasher: RandomState::new(), stripes: (0..STRIPES).map(|_| Mutex::new(())).collect() }
    }
}

impl Turns {
    /// Waits for the user's turn; the turn lasts while the guard lives.
    pub async fn take(&self, user: &UserId) -> MutexGuard<'_, ()> {
        let stripe = self.hasher.hash_one(user.as_str()) as usize % self.stripes.len();
        self.stripes[stripe].lock().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn one_user_one_writer_at_a_time() {
        let turns = Arc::new(Turns::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (turns, inside, most) = (turns.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    let _turn = turns.take(&UserId::parse("u").unwrap()).await;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
    }
}
