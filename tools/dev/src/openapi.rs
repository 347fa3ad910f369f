//! The service's OpenAPI 3.1 document: every function's operations (each
//! generated from its handlers), with the conventions every route follows.
//! `make run` serves it at `/openapi.json`; `openapi.json` at the
//! repository root is this document, kept current by a test.

use quota_shared::http::openapi::Conventions;
use utoipa::Modify;
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};

pub fn document() -> OpenApi {
    let mut api = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Quota service for LLM chat applications")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Check before each LLM request, record its cost after it; admins manage tiers, \
                     assignments, overrides and model prices, and search events. Money is a decimal string.",
                ))
                .build(),
        )
        .build();
    api.merge(check_fn::routes::api());
    for function in crate::ADMIN_FUNCTIONS {
        api.merge(function.api());
    }
    Conventions.modify(&mut api);
    api
}

/// The document as the committed file holds it.
pub fn document_json() -> String {
    document().to_pretty_json().expect("the document serialises") + "\n"
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_openapi_json_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.json");
        let want = super::document_json();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(have == want, "openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p quota-dev --lib openapi`");
    }
}
