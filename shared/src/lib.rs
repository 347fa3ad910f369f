//! The quota service's shared crate: domain model, resolution, decision,
//! periods, the DynamoDB repository and configuration.

mod names;

pub mod auth;
pub mod basis;
pub mod cache;
pub mod check;
pub mod config;
pub mod context;
pub mod decide;
pub mod emf;
pub mod error;
pub mod http;
pub mod model;
pub mod notify;
pub mod openapi;
pub mod page;
pub mod period;
pub mod record;
pub mod resolve;
pub mod store;
pub mod strict;
mod strict_check;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod turns;

pub use error::{Error, Result};
