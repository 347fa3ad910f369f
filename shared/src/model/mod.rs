//! The domain's data: plain types, validated when built.

mod assignment;
mod audit;
mod email;
mod event;
mod ids;
mod money;
pub(crate) mod tier;
mod usage;

pub use assignment::{Assignment, AssignmentType, MAX_PRIORITY, NewAssignment, Target, validate_priority};
pub use audit::Audit;
pub use email::{DomainPattern, Email};
pub use event::{EventType, QuotaEvent};
pub use ids::{AssignmentId, EventId, JwtRole, RequestId, SessionId, TierId, UserId};
pub use money::Money;
pub use tier::{DEFAULT_SOFT_LIMIT_PERCENTAGE, LimitAction, NewTier, Tier};
pub use usage::{MAX_TOKENS, UsageDelta, UsageSnapshot, UsageTotals};
