//! Email addresses and the domain patterns that email-domain assignments match.

use crate::error::FieldError;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::sync::Arc;

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

/// The longest address (RFC 5321: a 256-octet path less its angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;
/// The longest local part (RFC 5321 4.5.3.1.1).
pub const MAX_LOCAL_LEN: usize = 64;

/// A user's email, as the chat backend passes it; only its domain matters here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    domain: String,
}

impl Email {
    pub const FIELD: &'static str = "email";

    /// RFC 5321's lengths: a path of at most 254 characters, a local part
    /// of at most 64; exactly one `@` (so `x@evil.com@uni.edu` never passes
    /// for uni.edu) and no white space, as openapi.json's Email says.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.len() > MAX_EMAIL_LEN {
            return Err(FieldError::new(Self::FIELD, format!("must be at most {MAX_EMAIL_LEN} characters")));
        }
        let (local, domain) =
            raw.split_once('@').ok_or_else(|| FieldError::new(Self::FIELD, "must look like name@domain"))?;
        if local.is_empty() || domain.contains('@') || raw.chars().any(char::is_whitespace) {
            return Err(FieldError::new(Self::FIELD, "must look like name@domain, with one @ and no spaces"));
        }
        if local.len() > MAX_LOCAL_LEN {
            return Err(FieldError::new(
                Self::FIELD,
                format!("the part before @ must be at most {MAX_LOCAL_LEN} characters"),
            ));
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

/// Longest `regex:` pattern accepted.
pub const MAX_PATTERN_LEN: usize = 256;
/// The compiled size a pattern may take; bigger ones are refused at write time.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
pub const REGEX_PREFIX: &str = "regex:";

/// How specific a pattern is; inside the email-domain class (and one
/// priority) the more specific wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PatternKind {
    Exact,
    Wildcard,
    Regex,
}

/// `uni.edu` matches exactly that domain; `*.uni.edu` matches its subdomains
/// (`cs.uni.edu`) but not `uni.edu` itself, so both can get different tiers;
/// `regex:<pattern>` matches the whole lower-cased domain (anchored at both
/// ends, case-insensitive) with the `regex` crate, in linear time.
#[derive(Clone)]
pub struct DomainPattern {
    text: String,
    regex: Option<Arc<Regex>>,
}

impl DomainPattern {
    pub const FIELD: &'static str = "emailDomain";
    /// What a regex pattern's text starts with (for key encoding).
    pub const REGEX_KEY_PREFIX: &'static str = REGEX_PREFIX;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if let Some(pattern) = trimmed.strip_prefix(REGEX_PREFIX) {
            return Self::regex(pattern);
        }
        let lower = trimmed.to_ascii_lowercase();
        let lower = lower.strip_prefix('@').unwrap_or(&lower).to_string();
        let bare = lower.strip_prefix("*.").unwrap_or(&lower);
        validate_domain(Self::FIELD, bare)?;
        Ok(Self { text: lower, regex: None })
    }

    fn regex(pattern: &str) -> Result<Self, FieldError> {
        if pattern.is_empty() || pattern.chars().count() > MAX_PATTERN_LEN {
            return Err(FieldError::new(
                Self::FIELD,
                format!("a regex: pattern must be 1 to {MAX_PATTERN_LEN} characters"),
            ));
        }
        let compiled = RegexBuilder::new(&format!("^(?:{pattern})$"))
            .case_insensitive(true)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| {
                let why = match e {
                    regex::Error::CompiledTooBig(_) => "it is too large once compiled".to_string(),
                    other => other.to_string().lines().last().unwrap_or("invalid").trim().to_string(),
                };
                FieldError::new(Self::FIELD, format!("is not a usable regex: pattern ({why})"))
            })?;
        Ok(Self { text: format!("{REGEX_PREFIX}{pattern}"), regex: Some(Arc::new(compiled)) })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn kind(&self) -> PatternKind {
        if self.regex.is_some() {
            PatternKind::Regex
        } else if self.text.starts_with("*.") {
            PatternKind::Wildcard
        } else {
            PatternKind::Exact
        }
    }

    pub fn matches(&self, email: &Email) -> bool {
        if let Some(re) = &self.regex {
            return re.is_match(email.domain());
        }
        match self.text.strip_prefix("*.") {
            Some(parent) => {
                email.domain().strip_suffix(parent).is_some_and(|head| head.len() > 1 && head.ends_with('.'))
            }
            None => email.domain() == self.text,
        }
    }
}

// Identity is the pattern's text; the compiled regex follows from it.
impl PartialEq for DomainPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for DomainPattern {}

impl std::hash::Hash for DomainPattern {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.text.hash(h);
    }
}

impl PartialOrd for DomainPattern {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DomainPattern {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl fmt::Debug for DomainPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DomainPattern({:?})", self.text)
    }
}

impl fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for DomainPattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
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

    #[test]
    fn an_address_is_one_at_and_rfc_5321_lengths() {
        assert_eq!(Email::parse("ann@Uni.edu").unwrap().domain(), "uni.edu");
        for bad in ["x@evil.com@uni.edu", "a b@uni.edu", "@uni.edu", "ann@", "ann uni.edu"] {
            assert_eq!(Email::parse(bad).unwrap_err().field, "email", "{bad:?}");
        }
        let local = |n: usize| format!("{}@uni.edu", "a".repeat(n));
        assert!(Email::parse(&local(64)).is_ok());
        assert!(Email::parse(&local(65)).is_err(), "a local part over 64");
        let label = "b".repeat(60);
        let long = format!("aaaaaaaaaa@{label}.{label}.{label}.{label}.edu");
        assert!(long.len() > MAX_EMAIL_LEN);
        assert!(Email::parse(&long).is_err(), "an address over 254");
    }

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

    #[test]
    fn regex_patterns_match_the_whole_domain_case_insensitively() {
        let p = DomainPattern::parse("regex:(cs|math)\\.uni\\.(edu|org)").unwrap();
        assert_eq!(p.kind(), PatternKind::Regex);
        assert!(p.matches(&email("a@cs.uni.edu")));
        assert!(p.matches(&email("a@MATH.uni.org")));
        assert!(!p.matches(&email("a@x.cs.uni.edu")), "anchored at the start");
        assert!(!p.matches(&email("a@cs.uni.edu.evil.com")), "anchored at the end");
        assert_eq!(p.as_str(), "regex:(cs|math)\\.uni\\.(edu|org)");
        assert_eq!(DomainPattern::parse("*.uni.edu").unwrap().kind(), PatternKind::Wildcard);
        assert_eq!(DomainPattern::parse("uni.edu").unwrap().kind(), PatternKind::Exact);
    }

    #[test]
    fn invalid_empty_and_oversized_regexes_are_refused() {
        for bad in ["regex:", "regex:(", "regex:a{99999}", "regex:[z-a]"] {
            let e = DomainPattern::parse(bad).unwrap_err();
            assert_eq!(e.field, "emailDomain", "{bad}");
        }
        assert!(DomainPattern::parse(&format!("regex:{}", "a".repeat(257))).is_err());
        assert!(DomainPattern::parse(&format!("regex:{}", "a".repeat(256))).is_ok());
        let huge = DomainPattern::parse("regex:(\\w{50}){50}").unwrap_err();
        assert!(huge.message.contains("too large"), "{}", huge.message);
    }
}
