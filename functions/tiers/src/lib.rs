//! The tiers function: create, list, read, update and delete quota tiers.

mod routes;

pub use routes::{ROUTES, TIERS_PATH};
