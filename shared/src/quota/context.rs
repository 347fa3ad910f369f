//! The quota context: what a check judged, handed to the chat backend with
//! the answer and passed back with the record of the same turn, so that the
//! record judges warnings against the same tier on any container.
//!
//! It is a statement, not a credential: the chat backend that could forge it
//! could as well send other roles, and it is trusted (IAM) to do neither. It
//! is opaque (versioned, base64url JSON) so that integrators pass it through
//! rather than build it, and bound to its user: another user's context is refused.

use crate::error::FieldError;
use crate::model::group::MAX_GROUPS_PER_USER;
use crate::model::{GroupId, OverrideId, TierId, UserId};
use crate::rules::resolve::MatchedBy;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The format's version, the token's prefix.
const PREFIX: &str = "qc1.";
/// Far above any real context (ids are bounded, ten groups at most);
/// refuses junk before decoding.
pub const MAX_CONTEXT_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaContext {
    pub user_id: UserId,
    /// The tier the cascade resolved; `None` when no tier applied.
    pub tier_id: Option<TierId>,
    /// How the cascade matched it.
    pub matched_by: MatchedBy,
    /// The override that decided instead, if one did.
    pub override_id: Option<OverrideId>,
    /// The configuration version the check read (for logs and diagnosis).
    pub config_version: u64,
    /// The groups the check judged: the record counts toward each.
    pub groups: Vec<GroupId>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    u: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    m: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    o: Option<String>,
    v: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    g: Vec<String>,
}

fn invalid() -> FieldError {
    FieldError::new("quotaContext", "is not a quotaContext a check of this service answered")
}

impl QuotaContext {
    pub fn encode(&self) -> String {
        let wire = Wire {
            u: self.user_id.to_string(),
            t: self.tier_id.as_ref().map(ToString::to_string),
            m: self.matched_by.to_string(),
            o: self.override_id.as_ref().map(ToString::to_string),
            v: self.config_version,
            g: self.groups.iter().map(ToString::to_string).collect(),
        };
        let json = serde_json::to_vec(&wire).expect("plain strings serialise");
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    /// Parses a context for `user`; every field is validated as it was when issued.
    pub fn decode(raw: &str, user: &UserId) -> Result<Self, FieldError> {
        if raw.len() > MAX_CONTEXT_LEN {
            return Err(invalid());
        }
        let body = raw.strip_prefix(PREFIX).ok_or_else(invalid)?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid())?;
        let wire: Wire = serde_json::from_slice(&json).map_err(|_| invalid())?;
        let context = QuotaContext {
            user_id: UserId::parse(wire.u).map_err(|_| invalid())?,
            tier_id: wire.t.map(TierId::parse).transpose().map_err(|_| invalid())?,
            matched_by: MatchedBy::parse(&wire.m).ok_or_else(invalid)?,
            override_id: wire.o.map(OverrideId::parse).transpose().map_err(|_| invalid())?,
            config_version: wire.v,
            groups: wire.g.into_iter().map(GroupId::parse).collect::<Result<_, _>>().map_err(|_| invalid())?,
        };
        if context.groups.len() > MAX_GROUPS_PER_USER || !context.groups.is_sorted() {
            return Err(invalid());
        }
        // A tier without a match, or a match without a tier, was never issued.
        let consistent = match (&context.tier_id, &context.matched_by) {
            (None, MatchedBy::None) => true,
            (Some(_), MatchedBy::None | MatchedBy::Unresolved | MatchedBy::Override) | (None, _) => false,
            (Some(_), _) => true,
        };
        if !consistent {
            return Err(invalid());
        }
        if &context.user_id != user {
            return Err(FieldError::new("quotaContext", "was answered for another user"));
        }
        Ok(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JwtRole;

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn round_trips_and_is_bound_to_its_user() {
        let c = QuotaContext {
            user_id: user("dana"),
            tier_id: Some(TierId::parse("faculty").unwrap()),
            matched_by: MatchedBy::JwtRole(JwtRole::parse("Faculty").unwrap()),
            override_id: Some(OverrideId::generate()),
            config_version: 7,
            groups: vec![GroupId::parse("chem").unwrap(), GroupId::parse("lab-1").unwrap()],
        };
        let token = c.encode();
        assert!(token.starts_with("qc1.") && token.len() < 250, "{token}");
        assert_eq!(QuotaContext::decode(&token, &user("dana")), Ok(c));
        let other = QuotaContext::decode(&token, &user("eve")).unwrap_err();
        assert_eq!(other.message, "was answered for another user");
        let none = QuotaContext {
            user_id: user("x"),
            tier_id: None,
            matched_by: MatchedBy::None,
            override_id: None,
            config_version: 0,
            groups: vec![],
        };
        assert_eq!(QuotaContext::decode(&none.encode(), &user("x")), Ok(none));
    }

    #[test]
    fn refuses_what_no_check_answered() {
        let forge = |json: &str| format!("qc1.{}", URL_SAFE_NO_PAD.encode(json));
        for bad in [
            String::new(),
            "qc1.".into(),
            "qc2.e30".into(),
            "qc1.!!!".into(),
            forge("{}"),
            forge(r#"{"u":"a","t":"t","m":"none","v":1}"#),
            forge(r#"{"u":"a","m":"default_tier","v":1}"#),
            forge(r#"{"u":"a#b","t":"t","m":"default_tier","v":1}"#),
            forge(r#"{"u":"a","t":"t","m":"jwt_role:","v":1}"#),
            forge(r#"{"u":"a","t":"t","m":"unresolved","v":1}"#),
            forge(r#"{"u":"a","t":"t","m":"override","v":1}"#),
            forge(r#"{"u":"a","t":"t","m":"default_tier","o":"a#b","v":1}"#),
            forge(r#"{"u":"a","t":"t","m":"default_tier","v":-1}"#),
            forge(r#"{"u":"a","t":"t","m":"default_tier","v":1,"x":1}"#),
            forge(r#"{"u":"a","t":"t","m":"default_tier","v":1,"g":["b","a"]}"#),
            forge(r#"{"u":"a","t":"t","m":"default_tier","v":1,"g":["a#b"]}"#),
            "qc1.".to_string() + &"A".repeat(MAX_CONTEXT_LEN),
        ] {
            assert!(QuotaContext::decode(&bad, &user("a")).is_err(), "{bad}");
        }
    }
}
