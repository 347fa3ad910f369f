//! The events function: search the events (blocks, warnings, overrides
//! applied, admin changes) and export them as CSV.

mod routes;

pub use routes::{EVENTS_PATH, router, routes};
