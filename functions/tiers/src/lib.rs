//! The tiers function: create, list, read, update and delete quota tiers.

mod routes;

pub use routes::{TIERS_PATH, api, router, routes};
