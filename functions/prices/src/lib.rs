//! The prices function: model prices (create, list, read, delete a
//! scheduled one) and quotes.

mod routes;

pub use routes::{PRICES_PATH, ROUTES};
