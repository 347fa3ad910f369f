//! The overrides function: temporary per-user exceptions to the tiers.

mod routes;

pub use routes::{OVERRIDES_PATH, ROUTES};
