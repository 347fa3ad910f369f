//! Parsing requests at the edge: a JSON body extractor that caps the size
//! and names the offending field, and the query-parameter allow-list.

use super::problem::ApiError;
use crate::error::{Error, FieldError, FieldErrors};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// Bodies above this are refused with 413; every body we accept is far smaller.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Deserializes one JSON value into `T`, naming the field that did not fit.
/// Anything but whitespace after the value is refused: a second value must
/// never slip through unseen (or be written by a lenient reader downstream).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(path_error)?;
    de.end().map_err(|_| Error::field("body", "has data after the JSON value"))?;
    Ok(value)
}

/// Like [`parse_json`], for a payload the Lambda runtime already parsed.
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(path_error)
}

fn path_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> Error {
    Error::Validation(FieldErrors::from(field_error(&e.path().to_string(), &e.inner().to_string())))
}

/// Turns serde's message into a field and a message without positions.
fn field_error(path: &str, message: &str) -> FieldError {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    // Missing and unknown fields are reported at the parent; name the field itself.
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some(end) = rest.find('`')
        {
            let name = &rest[..end];
            let field = match path {
                "." => name.to_string(),
                p if p == name || p.ends_with(&format!(".{name}")) => p.to_string(),
                p => format!("{p}.{name}"),
            };
            let what =
                if prefix.starts_with("missing") { "is required".to_string() } else { "is not a known field".into() };
            return FieldError::new(field, what);
        }
    }
    // Syntax errors have no usable path ("." or "?").
    let field = if path == "." || path.contains('?') { "body".to_string() } else { path.to_string() };
    FieldError::new(field, plain_number_message(message).unwrap_or_else(|| message.to_string()))
}

/// serde names Rust types ("invalid value: integer `-5`, expected u64");
/// a caller of a JSON API should read what to send instead.
fn plain_number_message(message: &str) -> Option<String> {
    let (got, rust_type) = message.rsplit_once(", expected ")?;
    let range = match rust_type {
        "u8" => format!("from 0 to {}", u8::MAX),
        "u16" => format!("from 0 to {}", u16::MAX),
        "u32" => format!("from 0 to {}", u32::MAX),
        "u64" | "usize" => "0 or more".to_string(),
        _ => return None,
    };
    let got = got.strip_prefix("invalid type: ").or_else(|| got.strip_prefix("invalid value: ")).unwrap_or(got);
    Some(format!("must be a whole number {range} (got {got})"))
}

/// The request body as `T`: JSON, at most [`MAX_BODY_BYTES`], with 400 /
/// 413 / 415 as problem+json when it is not.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("(not text)"));
        match content_type {
            Some(ct) if is_json(ct) => {}
            Some(ct) => {
                let shown: String = ct.chars().take(100).collect();
                return Err(ApiError(Error::UnsupportedMediaType(format!("expected application/json, got {shown}"))));
            }
            None => {
                return Err(ApiError(Error::UnsupportedMediaType("Content-Type: application/json is required".into())));
            }
        }
        // A body this server would have to decode (gzip, ...) is not read as
        // if it were plain: it is refused (RFC 9110 15.5.16).
        for encoding in req.headers().get_all(header::CONTENT_ENCODING) {
            let encoding = encoding.to_str().unwrap_or("(not text)").trim();
            if !encoding.eq_ignore_ascii_case("identity") {
                let shown: String = encoding.chars().take(40).collect();
                return Err(ApiError(Error::UnsupportedMediaType(format!(
                    "Content-Encoding {shown} is not supported: send the JSON body unencoded"
                ))));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError(Error::PayloadTooLarge { limit: MAX_BODY_BYTES })
            } else {
                // The client stopped sending or sent a broken body: say so.
                ApiError(Error::field("body", "could not be read completely"))
            }
        })?;
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError(Error::PayloadTooLarge { limit: MAX_BODY_BYTES }));
        }
        if bytes.is_empty() {
            return Err(ApiError(Error::field("body", "a JSON body is required")));
        }
        parse_json(&bytes).map(JsonBody).map_err(ApiError)
    }
}

/// `application/json` or a `+json` type (`application/merge-patch+json`),
/// case-insensitive, with any parameters (`; charset=utf-8`); nothing else.
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let Some((kind, subtype)) = essence.split_once('/') else { return false };
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
    let suffixed = subtype.strip_suffix("+json").is_some_and(|head| !head.is_empty());
    kind == "application" && token(subtype) && (subtype == "json" || suffixed)
}

/// The query string as parameter → value, percent-decoded. A parameter given
/// twice (`?userId=alice&userId=bob`) is refused with 400 rather than one of
/// them silently winning: a filter the caller believes applied must apply.
#[derive(Debug)]
pub struct Params(pub HashMap<String, String>);

impl Params {
    pub fn parse(query: &str) -> Result<Self, Error> {
        let mut params = HashMap::new();
        let mut errors = FieldErrors::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let repeated = params.insert(key.to_string(), value.into_owned()).is_some();
            if repeated && !errors.0.iter().any(|e| e.field == key) {
                errors.push(key.into_owned(), "is given more than once");
            }
        }
        errors.into_result()?;
        Ok(Params(params))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Params::parse(parts.uri.query().unwrap_or("")).map_err(ApiError)
    }
}

/// Rejects query parameters other than `allowed`, so typos do not pass silently.
pub fn only_params(query: &HashMap<String, String>, allowed: &[&str]) -> Result<(), Error> {
    let mut errors = FieldErrors::default();
    for key in query.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errors.push(key.clone(), format!("is not a query parameter here (allowed: {})", allowed.join(", ")));
    }
    errors.into_result()
}

/// The request's one `Authorization` header, if any. Two are refused (400)
/// rather than the first winning: a proxy and a client each adding one is
/// a request whose caller is ambiguous.
pub fn authorization(headers: &axum::http::HeaderMap) -> Result<Option<&str>, Error> {
    let mut all = headers.get_all(axum::http::header::AUTHORIZATION).iter();
    let first = all.next();
    if all.next().is_some() {
        return Err(Error::field("Authorization", "send one Authorization header, not several"));
    }
    Ok(first.and_then(|v| v.to_str().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewTier;

    fn fields(e: Error) -> Vec<(String, String)> {
        match e {
            Error::Validation(f) => f.0.into_iter().map(|e| (e.field, e.message)).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn names_the_field_for_type_missing_and_unknown_errors() {
        let wrong = parse_json::<NewTier>(br#"{"tierId":"b","tierName":5}"#).unwrap_err();
        assert_eq!(fields(wrong)[0].0, "tierName");
        let missing = parse_json::<NewTier>(br#"{"tierId":"b"}"#).unwrap_err();
        assert_eq!(fields(missing), [("tierName".to_string(), "is required".to_string())]);
        let unknown = parse_json::<NewTier>(br#"{"tierId":"b","tierName":"B","bogus":1}"#).unwrap_err();
        assert_eq!(fields(unknown), [("bogus".to_string(), "is not a known field".to_string())]);
        let bad_id = parse_json::<NewTier>(br#"{"tierId":"a#b","tierName":"B"}"#).unwrap_err();
        let f = fields(bad_id);
        assert_eq!(f[0].0, "tierId");
        assert!(!f[0].1.contains("line"), "{}", f[0].1);
        let malformed = parse_json::<NewTier>(b"{not json").unwrap_err();
        assert_eq!(fields(malformed)[0].0, "body");
        for (body, got) in [
            (br#"{"cost":"0","inputTokens":-5}"#.as_slice(), "integer `-5`"),
            (br#"{"cost":"0","inputTokens":1.5}"#, "floating point `1.5`"),
            (br#"{"cost":"0","inputTokens":"5"}"#, "string \"5\""),
        ] {
            let wrong = parse_json::<crate::model::UsageDelta>(body).unwrap_err();
            let message = format!("must be a whole number 0 or more (got {got})");
            assert_eq!(fields(wrong), [("inputTokens".to_string(), message)]);
        }
        let too_big = parse_json::<NewTier>(br#"{"tierId":"b","tierName":"B","softLimitPercentage":300}"#).unwrap_err();
        let message = "must be a whole number from 0 to 255 (got integer `300`)";
        assert_eq!(fields(too_big), [("softLimitPercentage".to_string(), message.to_string())]);
        let trailing = parse_json::<serde_json::Value>(br#"{"cost":"0.5"}{"cost":"-5"}"#).unwrap_err();
        assert_eq!(fields(trailing), [("body".to_string(), "has data after the JSON value".to_string())]);
        assert!(parse_json::<serde_json::Value>(b" {} \n\t").is_ok(), "trailing whitespace is fine");
    }

    #[test]
    fn query_parameters_are_decoded_and_a_repeated_one_is_refused() {
        let q = Params::parse("userId=alice%40x&type=block&from=2026-11-01T00%3A00%3A00Z&empty=").unwrap().0;
        assert_eq!(q["userId"], "alice@x");
        assert_eq!(q["from"], "2026-11-01T00:00:00Z");
        assert_eq!(q["empty"], "");
        assert!(Params::parse("").unwrap().0.is_empty());
        let twice = Params::parse("userId=alice&limit=5&userId=bob&userId=carol&limit=5").unwrap_err();
        assert_eq!(
            fields(twice),
            [
                ("userId".to_string(), "is given more than once".to_string()),
                ("limit".to_string(), "is given more than once".to_string())
            ]
        );
    }

    #[test]
    fn json_media_types_match_exactly_and_case_insensitively() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/merge-patch+json",
            " application/json ;charset=UTF-8",
        ] {
            assert!(is_json(ok), "{ok}");
        }
        for bad in [
            "application/jsonpx",
            "application/json-seq",
            "text/json",
            "application/+json",
            "json",
            "",
            "application/x json",
        ] {
            assert!(!is_json(bad), "{bad}");
        }
    }
}
