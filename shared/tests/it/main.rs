//! The shared crate against the emulator, as one test binary: each file
//! below was its own binary, each linking the whole AWS SDK again (disk and
//! link time on CI for nothing).

mod analytics;
mod auth;
mod aws_rules;
mod check;
mod config_changes;
mod contention;
mod events_search;
mod fanout;
mod group_budgets;
mod groups;
mod limits;
mod model_limits;
mod no_scan;
mod overrides;
mod prices;
mod properties;
mod record;
mod scripted;
mod shadow;
mod store_tiers_assignments;
mod store_usage_events;
mod strict;
