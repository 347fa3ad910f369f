//! Opaque pagination tokens: a Query's LastEvaluatedKey as base64url JSON.
//! A token is only accepted for the partition it was issued for and only
//! with the key attributes that Query returns, so a forged token cannot
//! reach another partition or make the store fail.

use super::item::Item;
use crate::error::Error;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::BTreeMap;

pub fn encode(last_key: Option<&Item>) -> Option<String> {
    let key = last_key?;
    let flat: BTreeMap<&str, &str> =
        key.iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str()))).collect();
    let json = serde_json::to_vec(&flat).expect("string map serialises");
    Some(URL_SAFE_NO_PAD.encode(json))
}

/// `attrs` are the key attributes of the queried table or index;
/// `partition` is the (attribute, value) every token must carry.
pub fn decode(token: Option<&str>, attrs: &[&str], partition: (&str, &str)) -> Result<Option<Item>, Error> {
    decode_within(token, attrs, partition, None)
}

/// Like [`decode`], and the sort key must also start with a prefix (the
/// range the Query's key condition selects).
pub fn decode_within(
    token: Option<&str>,
    attrs: &[&str],
    partition: (&str, &str),
    sort_prefix: Option<(&str, &str)>,
) -> Result<Option<Item>, Error> {
    let Some(token) = token else { return Ok(None) };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| Error::InvalidCursor)?;
    let flat: BTreeMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| Error::InvalidCursor)?;
    // DynamoDB refuses empty key values (with a 500, for a start key): never pass one on.
    let same_keys = flat.len() == attrs.len()
        && attrs.iter().all(|a| flat.contains_key(*a))
        && flat.values().all(|v| !v.is_empty());
    if !same_keys || flat.get(partition.0).map(String::as_str) != Some(partition.1) {
        return Err(Error::InvalidCursor);
    }
    if let Some((attr, prefix)) = sort_prefix
        && !flat.get(attr).is_some_and(|v| v.starts_with(prefix))
    {
        return Err(Error::InvalidCursor);
    }
    Ok(Some(flat.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::item::s;

    #[test]
    fn round_trips_and_refuses_foreign_tokens() {
        let key: Item = [("pk".to_string(), s("CONFIG")), ("sk".to_string(), s("TIER#b"))].into();
        let token = encode(Some(&key)).unwrap();
        assert_eq!(decode(Some(&token), &["pk", "sk"], ("pk", "CONFIG")).unwrap(), Some(key));
        assert!(matches!(decode(Some(&token), &["pk", "sk"], ("pk", "USER#x")), Err(Error::InvalidCursor)));
        assert!(matches!(decode(Some(&token), &["pk", "sk", "gsi1pk"], ("pk", "CONFIG")), Err(Error::InvalidCursor)));
        assert!(matches!(decode(Some("%%%"), &["pk"], ("pk", "CONFIG")), Err(Error::InvalidCursor)));
        assert!(matches!(decode(Some("bm90IGpzb24"), &["pk"], ("pk", "CONFIG")), Err(Error::InvalidCursor)));
        assert_eq!(decode(None, &["pk"], ("pk", "CONFIG")).unwrap(), None);
        let empty_sort = encode(Some(&[("pk".to_string(), s("CONFIG")), ("sk".to_string(), s(""))].into())).unwrap();
        assert!(matches!(decode(Some(&empty_sort), &["pk", "sk"], ("pk", "CONFIG")), Err(Error::InvalidCursor)));
    }

    proptest::proptest! {
        /// Any token at all: refused or decoded into the partition asked for,
        /// with every key attribute present and non-empty; never a panic.
        #[test]
        fn arbitrary_tokens_never_escape_their_partition(token in "\\PC{0,300}", json in "\\PC{0,120}") {
            use base64::Engine;
            let encoded = URL_SAFE_NO_PAD.encode(json.as_bytes());
            for t in [token.as_str(), encoded.as_str()] {
                if let Ok(Some(key)) = decode_within(Some(t), &["pk", "sk"], ("pk", "CONFIG"), Some(("sk", "TIER#"))) {
                    proptest::prop_assert_eq!(key.get("pk").and_then(|v| v.as_s().ok()).map(String::as_str), Some("CONFIG"));
                    let sk = key.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                    proptest::prop_assert!(sk.starts_with("TIER#"));
                    proptest::prop_assert_eq!(key.len(), 2);
                }
            }
        }
    }
}
