//! Identifiers, validated when parsed so that nothing else has to: a fixed
//! character set without the key delimiter `#`, and a bounded length.

use crate::error::FieldError;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Characters allowed in ids. `#` (our key delimiter), `/` (path separator),
/// whitespace and control characters are excluded so no id can forge a key.
fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '@' | '+' | '=')
}

/// Roles come from identity providers and often carry a path (`org/admins`).
fn role_char(c: char) -> bool {
    id_char(c) || c == '/'
}

fn validate(field: &str, raw: &str, max: usize, allowed: fn(char) -> bool) -> Result<(), FieldError> {
    if raw.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if raw.len() > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    if let Some(bad) = raw.chars().find(|c| !allowed(*c)) {
        return Err(FieldError::new(field, format!("contains {bad:?}; allowed are letters, digits and . _ - : @ + =")));
    }
    // A path segment of its own in every URL the API answers (Location).
    if raw == "." || raw == ".." {
        return Err(FieldError::new(field, "must not be . or .."));
    }
    Ok(())
}

/// The characters `check_text` refuses, as a regex class body (JSON Schema
/// and Rust regex both read `\uXXXX`): the schemas of free texts say so.
pub const TEXT_FORBIDDEN: &str = r"\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069";

/// What `str::trim` removes, spelled out (a regex `\s` differs by dialect).
pub const TEXT_SPACE: &str = r"\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// Refuses control characters (NUL, CR/LF, ...) and the bidirectional
/// overrides and isolates that make a text display other than it reads
/// (U+202A..U+202E, U+2066..U+2069, and the marks U+200E/U+200F, U+061C) in
/// free text an admin writes and others read (names, descriptions, reasons).
pub fn check_text(field: &str, text: &str) -> Result<(), FieldError> {
    let bidi =
        |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}');
    match text.chars().find(|c| c.is_control() || bidi(*c)) {
        Some(c) => Err(FieldError::new(
            field,
            format!("must not contain control or bidi characters (found U+{:04X})", c as u32),
        )),
        None => Ok(()),
    }
}

/// The id character sets as JSON Schema patterns, without lookarounds
/// (test generators need plain regexes): any run of the allowed characters
/// except `.` and `..` alone.
const ID_PATTERN: &str =
    r"^(?:[A-Za-z0-9_:@+=-][A-Za-z0-9._:@+=-]*|\.(?:[A-Za-z0-9_:@+=-][A-Za-z0-9._:@+=-]*|\.[A-Za-z0-9._:@+=-]+))$";
const ROLE_PATTERN: &str =
    r"^(?:[A-Za-z0-9_:@+=/-][A-Za-z0-9._:@+=/-]*|\.(?:[A-Za-z0-9_:@+=/-][A-Za-z0-9._:@+=/-]*|\.[A-Za-z0-9._:@+=/-]+))$";

fn pattern_of(chars: fn(char) -> bool) -> &'static str {
    if chars('/') { ROLE_PATTERN } else { ID_PATTERN }
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal, $chars:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const FIELD: &'static str = $field;

            pub fn parse(raw: impl Into<String>) -> Result<Self, FieldError> {
                let raw = raw.into();
                validate($field, &raw, $max, $chars)?;
                Ok(Self(raw))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(raw).map_err(|e| serde::de::Error::custom(e.message))
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .min_length(Some(1))
                    .max_length(Some($max))
                    .pattern(Some(pattern_of($chars)))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

define_id!(
    /// A group's id, chosen by the admin (`chemistry`, `team-42`).
    GroupId, "groupId", 64, id_char
);
define_id!(
    /// A model limit's id within its tier or override (`premium-models`).
    LimitId, "limitId", 64, id_char
);
define_id!(
    /// A tier's id, chosen by the admin (`basic`, `premium`).
    TierId, "tierId", 64, id_char
);
define_id!(
    /// Server-generated assignment id.
    AssignmentId, "assignmentId", 64, id_char
);
define_id!(
    /// The chat user's id as the identity provider gives it (sub, email, uuid).
    UserId, "userId", 128, id_char
);
define_id!(
    /// The caller's id for one LLM request; usage is counted once per id.
    RequestId, "requestId", 128, id_char
);
define_id!(
    /// The chat session a request belongs to; carried into events.
    SessionId, "sessionId", 128, id_char
);
define_id!(
    /// A role from the user's JWT.
    JwtRole, "jwtRole", 128, role_char
);
define_id!(
    /// Server-generated event id.
    EventId, "eventId", 128, id_char
);
define_id!(
    /// Server-generated override id (time-ordered).
    OverrideId, "overrideId", 64, id_char
);

define_id!(
    /// Server-generated price id (time-ordered).
    PriceId, "priceId", 64, id_char
);

impl PriceId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}

impl AssignmentId {
    /// A new time-ordered id, so ties between equal priorities break by age.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}

impl RequestId {
    /// For a strict check sent without one: its answer's reservation names it,
    /// and the record must send it back.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }
}

impl EventId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}

impl OverrideId {
    /// A new time-ordered id: the newer of two overrides created in the same
    /// millisecond still wins deterministically.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_id_shapes() {
        for ok in ["basic", "user-1", "a.b@uni.edu", "auth0:x", "0f8fad5b-d9cb-469f-a165-70867728950e"] {
            assert!(UserId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_key_delimiters_and_junk() {
        for bad in ["", "a#b", "a/b", "a b", "tab\t", "ünï", "x\u{0}"] {
            let err = UserId::parse(bad).unwrap_err();
            assert_eq!(err.field, "userId", "{bad:?}");
        }
    }

    #[test]
    fn dot_segments_are_not_ids() {
        for bad in [".", ".."] {
            assert_eq!(TierId::parse(bad).unwrap_err().message, "must not be . or ..");
        }
        assert!(TierId::parse("...").is_ok());
        assert!(TierId::parse(".hidden").is_ok());
    }

    #[test]
    fn free_text_refuses_controls_and_bidi_overrides() {
        for bad in ["a\u{0}b", "line\r\nbreak", "tab\there", "evil\u{202E}gpj.exe", "x\u{2066}y"] {
            assert!(check_text("reason", bad).is_err(), "{bad:?}");
        }
        assert!(check_text("reason", "Konferenz in München — 50 € 🎉").is_ok());
    }

    #[test]
    fn the_schemas_text_classes_are_what_check_text_and_trim_do() {
        let forbidden = regex::Regex::new(&format!("^[{TEXT_FORBIDDEN}]$")).unwrap();
        let space = regex::Regex::new(&format!("^[{TEXT_SPACE}]$")).unwrap();
        for c in (0..0x3100).chain(0xFE00..0x10000).filter_map(char::from_u32) {
            let text = c.to_string();
            assert_eq!(forbidden.is_match(&text), check_text("reason", &text).is_err(), "U+{:04X}", c as u32);
            assert_eq!(space.is_match(&text), c.is_whitespace(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn bounds_length() {
        assert!(TierId::parse("a".repeat(64)).is_ok());
        let err = TierId::parse("a".repeat(65)).unwrap_err();
        assert!(err.message.contains("64"));
    }

    #[test]
    fn roles_may_carry_a_path_but_not_a_hash() {
        assert!(JwtRole::parse("org/Faculty").is_ok());
        assert!(JwtRole::parse("org#Faculty").is_err());
    }

    #[test]
    fn deserialising_validates() {
        let ok: TierId = serde_json::from_str("\"basic\"").unwrap();
        assert_eq!(ok.as_str(), "basic");
        assert!(serde_json::from_str::<TierId>("\"a#b\"").is_err());
    }

    #[test]
    fn generated_ids_are_valid_and_ordered() {
        let a = AssignmentId::generate();
        let b = AssignmentId::generate();
        assert!(AssignmentId::parse(a.as_str()).is_ok());
        assert!(a < b);
    }
}
