//! The users function: the inspector that shows how a user's quota resolves.

mod routes;

pub use routes::{USERS_PATH, api, router, routes};
