//! The groups function: group budgets (create, list, read, update, delete)
//! and their named members, and the group's pooled usage now.

mod routes;
mod usage;

pub use routes::{GROUPS_PATH, ROUTES};
