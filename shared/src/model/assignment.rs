//! Assignments: which users get which tier.

use super::shadow::PolicyMode;
use super::{AssignmentId, Audit, DomainPattern, JwtRole, TierId, UserId};
use crate::error::{Error, FieldErrors};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The largest priority an admin may set; keeps zero-padded sort keys short.
pub const MAX_PRIORITY: u32 = 1_000_000;

crate::names::named_enum! {
    pub enum AssignmentType {
        DirectUser,
        JwtRole,
        EmailDomain,
        DefaultTier,
    }
}

impl AssignmentType {
    /// The priority an assignment of this type gets when none is given.
    pub fn default_priority(self) -> u32 {
        match self {
            AssignmentType::DirectUser => 300,
            AssignmentType::JwtRole => 200,
            AssignmentType::EmailDomain => 150,
            AssignmentType::DefaultTier => 100,
        }
    }
}

/// Whom an assignment applies to. The type and its matching value travel
/// together, so a role assignment without a role cannot exist.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    DirectUser(UserId),
    JwtRole(JwtRole),
    EmailDomain(DomainPattern),
    DefaultTier,
}

impl Target {
    pub fn kind(&self) -> AssignmentType {
        match self {
            Target::DirectUser(_) => AssignmentType::DirectUser,
            Target::JwtRole(_) => AssignmentType::JwtRole,
            Target::EmailDomain(_) => AssignmentType::EmailDomain,
            Target::DefaultTier => AssignmentType::DefaultTier,
        }
    }

    /// The matching value as text ("" for the default).
    pub fn value(&self) -> &str {
        match self {
            Target::DirectUser(u) => u.as_str(),
            Target::JwtRole(r) => r.as_str(),
            Target::EmailDomain(d) => d.as_str(),
            Target::DefaultTier => "",
        }
    }

    /// Builds a target from the flat JSON fields, reporting what is missing or
    /// does not belong to the type.
    pub fn from_parts(
        kind: AssignmentType,
        user_id: Option<UserId>,
        jwt_role: Option<JwtRole>,
        email_domain: Option<DomainPattern>,
    ) -> Result<Target, Error> {
        let mut errors = FieldErrors::default();
        let given =
            [("userId", user_id.is_some()), ("jwtRole", jwt_role.is_some()), ("emailDomain", email_domain.is_some())];
        let needed = match kind {
            AssignmentType::DirectUser => Some("userId"),
            AssignmentType::JwtRole => Some("jwtRole"),
            AssignmentType::EmailDomain => Some("emailDomain"),
            AssignmentType::DefaultTier => None,
        };
        for (field, present) in given {
            if Some(field) == needed && !present {
                errors.push(field, format!("is required for assignmentType {}", kind.as_str()));
            }
            if Some(field) != needed && present {
                errors.push(field, format!("does not apply to assignmentType {}", kind.as_str()));
            }
        }
        errors.into_result()?;
        Ok(match kind {
            AssignmentType::DirectUser => Target::DirectUser(user_id.expect("checked above")),
            AssignmentType::JwtRole => Target::JwtRole(jwt_role.expect("checked above")),
            AssignmentType::EmailDomain => Target::EmailDomain(email_domain.expect("checked above")),
            AssignmentType::DefaultTier => Target::DefaultTier,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub assignment_id: AssignmentId,
    pub tier_id: TierId,
    pub target: Target,
    pub priority: u32,
    pub enabled: bool,
    /// `shadow`: ignored by the active resolution, resolved beside it.
    pub mode: PolicyMode,
    pub audit: Audit,
}

/// The flat camelCase JSON shape of an assignment.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct AssignmentJson<'a> {
    assignment_id: &'a AssignmentId,
    tier_id: &'a TierId,
    assignment_type: AssignmentType,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwt_role: Option<&'a JwtRole>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_domain: Option<&'a DomainPattern>,
    priority: u32,
    enabled: bool,
    mode: PolicyMode,
    #[serde(flatten)]
    audit: &'a Audit,
}

impl utoipa::PartialSchema for Assignment {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <AssignmentJson<'static> as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for Assignment {}

impl Serialize for Assignment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AssignmentJson {
            assignment_id: &self.assignment_id,
            tier_id: &self.tier_id,
            assignment_type: self.target.kind(),
            user_id: match &self.target {
                Target::DirectUser(u) => Some(u),
                _ => None,
            },
            jwt_role: match &self.target {
                Target::JwtRole(r) => Some(r),
                _ => None,
            },
            email_domain: match &self.target {
                Target::EmailDomain(d) => Some(d),
                _ => None,
            },
            priority: self.priority,
            enabled: self.enabled,
            mode: self.mode,
            audit: &self.audit,
        }
        .serialize(s)
    }
}

/// The body of a create request; the id is generated by the server.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAssignment {
    pub tier_id: TierId,
    pub assignment_type: AssignmentType,
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub jwt_role: Option<JwtRole>,
    #[serde(default)]
    pub email_domain: Option<DomainPattern>,
    #[serde(default)]
    pub priority: Option<u32>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub mode: Option<PolicyMode>,
}

/// The body of a PATCH. The type cannot change (delete and create instead);
/// the matching value may, for the type the assignment has.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignmentPatch {
    #[serde(default)]
    pub tier_id: Option<TierId>,
    #[serde(default)]
    pub assignment_type: Option<AssignmentType>,
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub jwt_role: Option<JwtRole>,
    #[serde(default)]
    pub email_domain: Option<DomainPattern>,
    #[serde(default)]
    pub priority: Option<u32>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `enforce` promotes a shadow assignment (an audited change); `shadow` demotes.
    #[serde(default)]
    pub mode: Option<PolicyMode>,
}

/// A direct assignment has one place per user (its copy with the user), so
/// it cannot wait in shadow beside the one that decides: a shadow override
/// previews one user's change.
fn refuse_direct_shadow(target: &Target, mode: PolicyMode) -> Result<(), Error> {
    if mode == PolicyMode::Shadow && target.kind() == AssignmentType::DirectUser {
        return Err(Error::field(
            "mode",
            "a direct_user assignment cannot be in shadow; preview one user's change with a shadow override",
        ));
    }
    Ok(())
}

impl Assignment {
    /// The next version with `patch` applied and validated.
    pub fn patched(&self, patch: AssignmentPatch, actor: &str, now: DateTime<Utc>) -> Result<Assignment, Error> {
        let kind = self.target.kind();
        let mut errors = FieldErrors::default();
        if patch.assignment_type.is_some_and(|t| t != kind) {
            errors.push("assignmentType", "cannot change; delete this assignment and create another");
        }
        let value_given = patch.user_id.is_some() || patch.jwt_role.is_some() || patch.email_domain.is_some();
        let nothing = patch.tier_id.is_none()
            && patch.priority.is_none()
            && patch.enabled.is_none()
            && patch.assignment_type.is_none()
            && patch.mode.is_none()
            && !value_given;
        if nothing {
            errors.push("body", "names no field to change");
        }
        errors.into_result()?;
        let mut next = self.clone();
        if value_given {
            next.target = Target::from_parts(kind, patch.user_id, patch.jwt_role, patch.email_domain)?;
        }
        if let Some(t) = patch.tier_id {
            next.tier_id = t;
        }
        if let Some(p) = patch.priority {
            validate_priority(p)?;
            next.priority = p;
        }
        if let Some(e) = patch.enabled {
            next.enabled = e;
        }
        next.mode = patch.mode.unwrap_or(next.mode);
        refuse_direct_shadow(&next.target, next.mode)?;
        next.audit = self.audit.touched(actor, now);
        Ok(next)
    }
}

pub fn validate_priority(priority: u32) -> Result<(), Error> {
    if priority > MAX_PRIORITY {
        return Err(Error::field("priority", format!("must be between 0 and {MAX_PRIORITY}")));
    }
    Ok(())
}

/// One shape per type: the type's own value field is required and the
/// others may only be absent or null (`Target::from_parts` holds the same).
impl utoipa::PartialSchema for NewAssignment {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::ToSchema;
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        let reference = |name: std::borrow::Cow<'static, str>| utoipa::openapi::Ref::from_schema_name(name);
        let null = || ObjectBuilder::new().schema_type(Type::Null);
        let values = [
            ("userId", reference(UserId::name())),
            ("jwtRole", reference(JwtRole::name())),
            ("emailDomain", reference(DomainPattern::name())),
        ];
        let mut one_of =
            OneOfBuilder::new().description(Some("An assignment to create; its type decides which value it names."));
        for (kind, field) in [
            (AssignmentType::DirectUser, Some("userId")),
            (AssignmentType::JwtRole, Some("jwtRole")),
            (AssignmentType::EmailDomain, Some("emailDomain")),
            (AssignmentType::DefaultTier, None),
        ] {
            let mut shape = ObjectBuilder::new()
                .property("tierId", reference(TierId::name()))
                .required("tierId")
                .property(
                    "assignmentType",
                    ObjectBuilder::new().schema_type(Type::String).enum_values(Some([kind.as_str()])),
                )
                .required("assignmentType")
                .property(
                    "priority",
                    ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::Integer, Type::Null]))
                        .minimum(Some(0))
                        .maximum(Some(MAX_PRIORITY)),
                )
                .property(
                    "enabled",
                    ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::Boolean, Type::Null])),
                )
                .property(
                    "mode",
                    ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]))
                        // A direct assignment cannot wait in shadow (see `refuse_direct_shadow`).
                        .enum_values(Some(if kind == AssignmentType::DirectUser {
                            vec!["enforce"]
                        } else {
                            vec!["enforce", "shadow"]
                        })),
                )
                .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)));
            for (name, schema) in &values {
                shape = if Some(*name) == field {
                    shape.property(*name, schema.clone()).required(*name)
                } else {
                    shape.property(*name, null())
                };
            }
            one_of = one_of.item(shape);
        }
        one_of.into()
    }
}

impl utoipa::ToSchema for NewAssignment {}

impl NewAssignment {
    pub fn into_assignment(self, actor: &str, now: DateTime<Utc>) -> Result<Assignment, Error> {
        let target = Target::from_parts(self.assignment_type, self.user_id, self.jwt_role, self.email_domain)?;
        let priority = self.priority.unwrap_or_else(|| self.assignment_type.default_priority());
        validate_priority(priority)?;
        let mode = self.mode.unwrap_or_default();
        refuse_direct_shadow(&target, mode)?;
        Ok(Assignment {
            assignment_id: AssignmentId::generate(),
            tier_id: self.tier_id,
            target,
            priority,
            enabled: self.enabled.unwrap_or(true),
            mode,
            audit: Audit::new(actor, now),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tier::tests::now;

    fn create(json: serde_json::Value) -> Result<Assignment, Error> {
        serde_json::from_value::<NewAssignment>(json)
            .map_err(|e| Error::field("body", e.to_string()))?
            .into_assignment("admin", now())
    }

    #[test]
    fn type_specific_fields_are_required_and_exclusive() {
        let a =
            create(serde_json::json!({"tierId": "basic", "assignmentType": "direct_user", "userId": "u1"})).unwrap();
        assert_eq!(a.target, Target::DirectUser(UserId::parse("u1").unwrap()));
        assert_eq!(a.priority, 300);
        assert!(create(serde_json::json!({"tierId": "basic", "assignmentType": "direct_user"})).is_err());
        assert!(create(serde_json::json!({"tierId": "basic", "assignmentType": "jwt_role", "userId": "u1"})).is_err());
        let d = create(serde_json::json!({"tierId": "basic", "assignmentType": "default_tier"})).unwrap();
        assert_eq!(d.priority, 100);
        assert!(
            create(serde_json::json!({"tierId": "basic", "assignmentType": "default_tier", "jwtRole": "x"})).is_err()
        );
        let e = create(serde_json::json!({"tierId": "b", "assignmentType": "email_domain", "emailDomain": "Uni.edu", "priority": 7})).unwrap();
        assert_eq!(e.target.value(), "uni.edu");
        assert_eq!(e.priority, 7);
    }

    #[test]
    fn bad_priority_and_type_are_rejected() {
        assert!(
            create(serde_json::json!({"tierId": "b", "assignmentType": "jwt_role", "jwtRole": "r", "priority": -1}))
                .is_err()
        );
        assert!(
            create(
                serde_json::json!({"tierId": "b", "assignmentType": "jwt_role", "jwtRole": "r", "priority": 1_000_001})
            )
            .is_err()
        );
        assert!(create(serde_json::json!({"tierId": "b", "assignmentType": "group"})).is_err());
    }

    #[test]
    fn patches_keep_the_type_and_check_the_value() {
        let a =
            create(serde_json::json!({"tierId": "basic", "assignmentType": "jwt_role", "jwtRole": "Staff"})).unwrap();
        let p = |v: serde_json::Value| serde_json::from_value::<AssignmentPatch>(v).unwrap();
        let next = a.patched(p(serde_json::json!({"jwtRole": "Faculty", "priority": 250})), "b", now()).unwrap();
        assert_eq!((next.target.value(), next.priority, next.audit.version), ("Faculty", 250, 2));
        assert!(a.patched(p(serde_json::json!({"userId": "u1"})), "b", now()).is_err(), "userId is not a role");
        assert!(a.patched(p(serde_json::json!({"assignmentType": "direct_user"})), "b", now()).is_err());
        assert!(a.patched(p(serde_json::json!({})), "b", now()).is_err());
        assert!(a.patched(p(serde_json::json!({"priority": 2_000_000})), "b", now()).is_err());
    }

    #[test]
    fn serialises_flat_camel_case() {
        let a =
            create(serde_json::json!({"tierId": "basic", "assignmentType": "jwt_role", "jwtRole": "Faculty"})).unwrap();
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["assignmentType"], "jwt_role");
        assert_eq!(json["jwtRole"], "Faculty");
        assert_eq!(json["priority"], 200);
        assert!(json.get("userId").is_none());
        assert_eq!(json["assignmentId"], a.assignment_id.as_str());
    }
}
