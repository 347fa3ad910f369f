//! The users function: the inspector that shows how a user's quota resolves,
//! and the shadow report (what shadow policies would have done to users).

mod routes;
mod shadow;
mod simulate;

pub use routes::{ROUTES, USERS_PATH};
