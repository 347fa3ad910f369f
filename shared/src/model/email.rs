//! Email addresses and the domain patterns that email-domain assignments match.

use crate::error::FieldError;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

fn validate_domain(field: &str, domain: &str) -> Result<(), FieldError> {
    if domain.is_empty() || domain.len() > 253 {
        return Err(FieldError::new(field, "domain must be 1 to 253 characters"));
    }
    for label in domain.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(FieldError::new(field, format!("{domain:?} is not a valid domain name")));
        }
    }
    if !domain.contains('.') {
        return Err(FieldError::new(field, "domain needs at least two labels (uni.edu)"));
    }
    Ok(())
}

/// A user's email, as the chat backend passes it; only its domain matters here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    domain: String,
}

impl Email {
    pub const FIELD: &'static str = "email";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.len() > 320 {
            return Err(FieldError::new(Self::FIELD, "must be at most 320 characters"));
        }
        let (local, domain) =
            raw.rsplit_once('@').ok_or_else(|| FieldError::new(Self::FIELD, "must look like name@domain"))?;
        if local.is_empty() {
            return Err(FieldError::new(Self::FIELD, "must look like name@domain"));
        }
        let domain = domain.to_ascii_lowercase();
        validate_domain(Self::FIELD, &domain)?;
        Ok(Self { domain })
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// `uni.edu` matches exactly that domain; `*.uni.edu` matches its subdomains
/// (`cs.uni.edu`) but not `uni.edu` itself, so both can get different tiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DomainPattern(String);

impl DomainPattern {
    pub const FIELD: &'static str = "emailDomain";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let lower = raw.trim().to_ascii_lowercase();
        let lower = lower.strip_prefix('@').unwrap_or(&lower).to_string();
        let bare = lower.strip_prefix("*.").unwrap_or(&lower);
        validate_domain(Self::FIELD, bare)?;
        Ok(Self(lower))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, email: &Email) -> bool {
        match self.0.strip_prefix("*.") {
            Some(parent) => {
                email.domain().strip_suffix(parent).is_some_and(|head| head.len() > 1 && head.ends_with('.'))
            }
            None => email.domain() == self.0,
        }
    }
}

impl fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DomainPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[test]
    fn exact_domain_matches_case_insensitively() {
        let p = DomainPattern::parse("Uni.EDU").unwrap();
        assert!(p.matches(&email("a@uni.edu")));
        assert!(p.matches(&email("A@UNI.edu")));
        assert!(!p.matches(&email("a@cs.uni.edu")));
        assert!(!p.matches(&email("a@otheruni.edu")));
    }

    #[test]
    fn wildcard_matches_subdomains_only() {
        let p = DomainPattern::parse("*.uni.edu").unwrap();
        assert!(p.matches(&email("a@cs.uni.edu")));
        assert!(p.matches(&email("a@x.cs.uni.edu")));
        assert!(!p.matches(&email("a@uni.edu")));
        assert!(!p.matches(&email("a@evil-uni.edu")));
    }

    #[test]
    fn rejects_bad_domains_and_emails() {
        for bad in ["", "edu", "uni..edu", "-uni.edu", "uni.edu#x", "*.", "a b.edu"] {
            assert!(DomainPattern::parse(bad).is_err(), "{bad:?}");
        }
        for bad in ["nobody", "@uni.edu", "a@", "a@uni", "a@uni.edu/x"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(DomainPattern::parse("@uni.edu").unwrap().as_str(), "uni.edu");
    }
}
