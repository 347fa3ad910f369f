//! Assignments: the canonical item (listed by the indexes) and the copy the
//! hot path reads (with the user, or in the shared configuration).

use super::attr::{Item, audit, corrupt, get_bool, get_n, get_s, id, key, n, put_audit, s};
use crate::error::Error;
use crate::model::{Assignment, AssignmentId, AssignmentType, DomainPattern, JwtRole, Target, TierId, UserId};
use crate::store::keys;
use crate::store::schema::{GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK};
use aws_sdk_dynamodb::types::AttributeValue;

/// The attributes of an assignment, without keys: the canonical item and its
/// copies (shared config or the user's own) carry the same ones.
fn assignment_attributes(a: &Assignment) -> Item {
    let mut item = Item::new();
    item.insert("entity".into(), s("assignment"));
    item.insert("assignmentId".into(), s(a.assignment_id.as_str()));
    item.insert("tierId".into(), s(a.tier_id.as_str()));
    item.insert("assignmentType".into(), s(a.target.kind().as_str()));
    match &a.target {
        Target::DirectUser(u) => item.insert("userId".into(), s(u.as_str())),
        Target::JwtRole(r) => item.insert("jwtRole".into(), s(r.as_str())),
        Target::EmailDomain(d) => item.insert("emailDomain".into(), s(d.as_str())),
        Target::DefaultTier => None,
    };
    item.insert("priority".into(), n(a.priority));
    item.insert("enabled".into(), AttributeValue::Bool(a.enabled));
    item.insert(super::MODE.into(), s(a.mode.as_str()));
    put_audit(&mut item, &a.audit);
    item
}

/// The canonical item, with the index keys that list it.
pub fn assignment_to_item(a: &Assignment) -> Item {
    let mut item = assignment_attributes(a);
    item.extend(key(keys::assignment_pk(&a.assignment_id), keys::ASSIGNMENT_SK));
    item.insert(GSI1_PK.into(), s(keys::ASSIGNMENTS_GSI_PK));
    item.insert(GSI1_SK.into(), s(keys::target_sk(a.target.kind(), a.target.value(), &a.assignment_id)));
    item.insert(GSI2_PK.into(), s(keys::tier_gsi_pk(&a.tier_id)));
    item.insert(GSI2_SK.into(), s(keys::shared_assignment_sk(&a.assignment_id)));
    item
}

/// Where the hot path reads the assignment: with the user for direct ones,
/// in the shared configuration for the others.
pub fn assignment_copy_key(a: &Assignment) -> Item {
    match &a.target {
        Target::DirectUser(u) => key(keys::user_pk(u), keys::ASSIGNMENT_SK),
        _ => key(keys::CONFIG_PK, keys::shared_assignment_sk(&a.assignment_id)),
    }
}

pub fn assignment_copy(a: &Assignment) -> Item {
    let mut item = assignment_attributes(a);
    item.extend(assignment_copy_key(a));
    item
}

pub fn assignment_from_item(item: &Item) -> Result<Assignment, Error> {
    let kind = AssignmentType::parse(get_s(item, "assignmentType")?).ok_or_else(|| corrupt("assignmentType", item))?;
    let target = match kind {
        AssignmentType::DirectUser => Target::DirectUser(id(item, "userId", UserId::parse)?),
        AssignmentType::JwtRole => Target::JwtRole(id(item, "jwtRole", JwtRole::parse)?),
        AssignmentType::EmailDomain => Target::EmailDomain(id(item, "emailDomain", |d| DomainPattern::parse(&d))?),
        AssignmentType::DefaultTier => Target::DefaultTier,
    };
    Ok(Assignment {
        assignment_id: id(item, "assignmentId", AssignmentId::parse)?,
        tier_id: id(item, "tierId", TierId::parse)?,
        target,
        priority: get_n(item, "priority")?,
        enabled: get_bool(item, "enabled")?,
        mode: super::mode_of(item)?,
        audit: audit(item)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::{PK, SK};
    use crate::testing::assignment;

    fn every_kind() -> Vec<Assignment> {
        vec![
            assignment("a-user", "t", Target::DirectUser(UserId::parse("dana").unwrap())),
            assignment("a-role", "t", Target::JwtRole(JwtRole::parse("Faculty").unwrap())),
            assignment("a-dom", "t", Target::EmailDomain(DomainPattern::parse("*.uni.edu").unwrap())),
            assignment("a-def", "t", Target::DefaultTier),
        ]
    }

    #[test]
    fn every_kind_survives_its_canonical_item_and_its_copy() {
        for a in every_kind() {
            let canonical = assignment_to_item(&a);
            assert_eq!(assignment_from_item(&canonical).unwrap(), a);
            assert_eq!(assignment_to_item(&assignment_from_item(&canonical).unwrap()), canonical);
            assert_eq!(assignment_from_item(&assignment_copy(&a)).unwrap(), a);
        }
    }

    #[test]
    fn a_direct_assignment_is_copied_to_its_user_and_the_others_to_the_shared_configuration() {
        let kinds = every_kind();
        let pk = |a: &Assignment| assignment_copy_key(a)[PK].as_s().unwrap().clone();
        assert_eq!(pk(&kinds[0]), keys::user_pk(&UserId::parse("dana").unwrap()));
        assert_eq!(assignment_copy_key(&kinds[0])[SK], s(keys::ASSIGNMENT_SK));
        assert!(kinds[1..].iter().all(|a| pk(a) == keys::CONFIG_PK));
    }

    #[test]
    fn a_malformed_assignment_item_is_refused() {
        let good = assignment_to_item(&every_kind()[0]);
        for (name, value) in [("assignmentType", Some(s("vip"))), ("userId", None), ("priority", Some(s("high")))] {
            let mut item = good.clone();
            match value {
                Some(v) => item.insert(name.into(), v),
                None => item.remove(name),
            };
            assert!(assignment_from_item(&item).is_err(), "{name} broken");
        }
        let mut role = assignment_to_item(&every_kind()[1]);
        role.insert("jwtRole".into(), s(""));
        assert!(assignment_from_item(&role).is_err(), "an empty role");
    }
}
