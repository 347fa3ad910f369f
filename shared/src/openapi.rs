//! The OpenAPI side of the types whose JSON is written by hand (money as
//! decimal strings, figures of any metric, display values): their schemas
//! live with the types' crate. What every operation of the document shares
//! (paging, If-Match, problem answers, the bearer scheme, the rules JSON
//! Schema can state) is `http::openapi`; the document itself is generated
//! from the handlers (`utoipa::path`) and assembled by `tools/dev`.

use crate::model::price::{ModelId, ModelPattern, PriceModel, Rate};
use crate::model::{Amount, DomainPattern, Email, Money};
use crate::rules::decide::{Percentage, WarningLevel};
use crate::rules::resolve::MatchedBy;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// Money in requests and answers: a non-negative decimal string with at
/// most 10 decimal places ("12.50"); requests may also send a JSON number.
/// A request's amount must also be at most 1e9, which totals in answers may
/// pass, so the bound is the server's to check (400 with the field named).
pub const MONEY_PATTERN: &str = r"^[0-9]+(\.[0-9]{1,10})?$";

fn string(pattern: Option<&str>, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(pattern.map(str::to_string))
        .description(Some(description))
        .into()
}

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        // Requests may send a JSON number too; its text is read exactly and
        // held to the same rules (at most 10 decimals, under 1e9).
        OneOfBuilder::new()
            .item(string(Some(MONEY_PATTERN), "A decimal amount as a string."))
            .item(ObjectBuilder::new().schema_type(Type::Number).minimum(Some(0)))
            .description(Some("A decimal amount: a string in answers (\"12.50\"); a string or a number in requests."))
            .into()
    }
}
impl ToSchema for Money {}

impl PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        // Answers only: money is always a string there.
        OneOfBuilder::new()
            .item(string(Some(MONEY_PATTERN), "Money."))
            .item(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
            .description(Some("Money (a decimal string) for cost, a whole number for tokens and requests."))
            .into()
    }
}
impl ToSchema for Amount {}

impl PartialSchema for Percentage {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(Some(0))
            .description(Some("Percent of a limit used."))
            .into()
    }
}
impl ToSchema for Percentage {}

impl PartialSchema for WarningLevel {
    fn schema() -> RefOr<Schema> {
        string(Some(r"^(none|[0-9]{1,3}%)$"), "The highest warning threshold reached (\"80%\"), or \"none\".")
    }
}
impl ToSchema for WarningLevel {}

impl PartialSchema for MatchedBy {
    fn schema() -> RefOr<Schema> {
        string(
            Some(r"^(direct_user|default_tier|none|unresolved|override|jwt_role:.+|email_domain:.+)$"),
            "How the tier was found: direct_user, jwt_role:{role}, email_domain:{pattern}, default_tier, \
             override, none, or unresolved (a record told too little).",
        )
    }
}
impl ToSchema for MatchedBy {}

impl PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^[^@\s]{1,64}@[A-Za-z0-9.-]+$"))
            .max_length(Some(254))
            .into()
    }
}
impl ToSchema for Email {}

impl PartialSchema for DomainPattern {
    fn schema() -> RefOr<Schema> {
        // As `DomainPattern::parse` reads it: trimmed, an optional `@`, then
        // `*.` and two or more labels, or `regex:` and a pattern (which must
        // also compile, and names at most 256 characters: not stated here).
        use crate::model::TEXT_SPACE;
        let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
        let pattern = format!(r"^[{TEXT_SPACE}]*(@?(\*\.)?{label}(\.{label})+[{TEXT_SPACE}]*|regex:[\s\S]+)$");
        string(Some(&pattern), "A domain (uni.edu), a wildcard (*.uni.edu) or regex:<pattern>.")
    }
}
impl ToSchema for DomainPattern {}

/// A per-million rate: at most 4 decimal places, at most 1,000,000.
pub const RATE_PATTERN: &str = r"^[0-9]{1,7}(\.[0-9]{1,4})?$";
/// A model id: letters, digits and `. _ - : @ + = /`.
pub const MODEL_PATTERN: &str = r"^[A-Za-z0-9._:@+=/-]{1,128}$";

impl PartialSchema for Rate {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(string(Some(RATE_PATTERN), "USD per million tokens as a decimal string."))
            .item(ObjectBuilder::new().schema_type(Type::Number).minimum(Some(0)).maximum(Some(1_000_000)))
            .description(Some(
                "USD per million tokens, at most 4 decimal places: a string in answers (\"3.75\"); \
                 a string or a number (read as its exact text) in requests.",
            ))
            .into()
    }
}
impl ToSchema for Rate {}

impl PartialSchema for ModelId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(MODEL_PATTERN))
            .max_length(Some(128))
            .description(Some("A model as the chat backend names it (`anthropic/claude-sonnet-4-5`)."))
            .into()
    }
}
impl ToSchema for ModelId {}

impl PartialSchema for ModelPattern {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^[A-Za-z0-9._:@+=/-]{1,128}\*?$"))
            .max_length(Some(129))
            .description(Some("A model id, or a prefix ending in `*` (`anthropic/claude-sonnet-4-5*`)."))
            .into()
    }
}
impl ToSchema for ModelPattern {}

impl PartialSchema for PriceModel {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^(\*|[A-Za-z0-9._:@+=/-]{1,128})$"))
            .max_length(Some(128))
            .description(Some("The model a price is for, or `*`: the fallback for models with no price of their own."))
            .into()
    }
}
impl ToSchema for PriceModel {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_pattern_schema_takes_what_parse_takes() {
        let RefOr::T(Schema::Object(schema)) = DomainPattern::schema() else { panic!("an object schema") };
        let pattern = regex::Regex::new(schema.pattern.as_deref().unwrap()).unwrap();
        let long = format!("{}.edu", "a".repeat(64));
        let samples = [
            "uni.edu",
            "*.uni.edu",
            "@uni.edu",
            " Uni.EDU ",
            "@*.cs.uni.edu",
            "a-b.c-d.org",
            "regex:.*\\.edu",
            "regex:x",
            "uni",
            "-a.edu",
            "a-.edu",
            "a..b",
            "*.uni",
            "uni.edu.",
            "*.*.uni.edu",
            "ünï.edu",
            "uni .edu",
            "regex:",
            "",
            " ",
            "@",
            "*.",
            &long,
            "x@uni.edu",
            "uni.edu\n",
        ];
        for sample in samples {
            assert_eq!(pattern.is_match(sample), DomainPattern::parse(sample).is_ok(), "{sample:?}");
        }
        // The one thing the schema cannot say: a regex: pattern must compile.
        assert!(pattern.is_match("regex:(") && DomainPattern::parse("regex:(").is_err());
    }
}
