//! The assignments function: who gets which tier.

mod routes;

pub use routes::{ASSIGNMENTS_PATH, ROUTES};
