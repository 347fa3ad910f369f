//! The users function: the inspector that shows how a user's quota resolves.

mod routes;

pub use routes::{ROUTES, USERS_PATH};
