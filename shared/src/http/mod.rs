//! The HTTP surface every function shares: errors as problem+json
//! (`problem`), request parsing (`extract`), and what admin routes add
//! (`admin`: state, authentication, ETags), and the OpenAPI document's
//! conventions (`openapi`).

pub mod admin;
pub mod extract;
pub mod openapi;
pub mod problem;

pub use admin::{AdminRoutes, AdminState, created, ensure_version, etag, if_match, json_with_etag, mode_param};
pub use extract::{JsonBody, MAX_BODY_BYTES, Params, only_params, parse_json, parse_value};
pub use problem::{ApiError, PROBLEM_JSON, Problem, ensure_problem, json_response, no_route, problem_response};
