//! The groups function: group budgets (create, list, read, update, delete)
//! and their named members.

mod routes;

pub use routes::{GROUPS_PATH, ROUTES};
