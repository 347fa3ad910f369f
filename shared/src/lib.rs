//! The quota service's shared crate, in five rooms with arrows pointing down:
//!
//! 1. `model`: the domain's plain types (ids, money, amounts, periods,
//!    tiers, assignments, overrides, usage, events), validated when built.
//! 2. `rules`: pure decisions on them (resolve, basis, decide, reserve).
//! 3. `quota`: the hot path's flows (the `Checker`: check, reserve, record)
//!    and the port they need from a store.
//! 4. `store`: the DynamoDB implementation of the port and the admin
//!    repositories; the only place that sees the SDK.
//! 5. `http`: problem+json, extractors, the admin routes' shared parts and
//!    the OpenAPI conventions.
//!
//! Beside them: `auth` (JWT verification), `config` (settings, read once), `fanout` (how far shared keys spread),
//! `error` (the one error type), `emf` (metrics), `notify`, `page`, `openapi`.

mod names;

pub mod auth;
pub mod config;
pub mod emf;
pub mod error;
pub mod fanout;
pub mod http;
pub mod model;
pub mod notify;
pub mod openapi;
pub mod page;
pub mod quota;
pub mod rules;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::{Error, Result};
