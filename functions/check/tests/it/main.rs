//! The check function end to end, as one test binary (see shared/tests/it).

mod containers;
mod contract;
mod groups;
mod http_limits;
