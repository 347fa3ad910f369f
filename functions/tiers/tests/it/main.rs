//! The tiers function end to end, as one test binary (see shared/tests/it).

mod events;
mod store_down;
