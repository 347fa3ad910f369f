//! The events function: search the events (blocks, warnings, overrides
//! applied, admin changes), export them as CSV, and the usage analytics
//! (top users, daily totals).

mod analytics;
mod routes;

pub use routes::{EVENTS_PATH, ROUTES};
