//! Mapping between domain types and DynamoDB items, one file per item kind,
//! each with its round-trip tests. Nothing outside `store` sees an
//! `AttributeValue`. Hand-written rather than serde_dynamo: see docs/design.md.

mod assignment;
mod attr;
mod charge;
mod event;
mod group;
mod model_limit;
mod overrides;
mod price;
mod tier;
mod usage;

pub use assignment::*;
pub use attr::{Item, MODE, epoch, get_n, get_s, get_time, key, mode_condition, mode_of, n, opt_n, opt_s, s, time};
pub use charge::*;
pub use event::*;
pub use group::*;
pub use model_limit::*;
pub use overrides::*;
pub use price::*;
pub use tier::*;
pub use usage::*;
