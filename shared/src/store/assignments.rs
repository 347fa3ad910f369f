//! Assignments: a canonical item per assignment (listed through the indexes)
//! and, written in the same transaction, a copy where the hot path reads it:
//! with the user for direct assignments, in the shared configuration for the
//! rest. The tier's `assignmentCount` moves in the same transaction, which is
//! what lets a tier delete refuse while the tier is in use, without a race.

use super::config_changes::config_item;
use super::dynamo::{ALL_OLD, DynamoStore, store_error};
use super::events_write::audit_put;
use super::item::{
    self, Item, assignment_copy, assignment_copy_key, assignment_from_item, assignment_to_item, key, n, s,
};
use super::schema::{ASSIGNMENTS_BY_TARGET, ASSIGNMENTS_BY_TIER, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, PK, SK};
use super::{cursor, keys};
use crate::error::{Entity, Error};
use crate::model::shadow::PolicyMode;
use crate::model::{AdminChange, Assignment, AssignmentId, AssignmentType, Target, TierId};
use crate::page::{Page, PageRequest};
use crate::rules::config_update::ConfigItem;
use crate::rules::resolve::SharedConfig;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};

/// Which assignments to list. `value` is the userId, jwtRole or emailDomain
/// to match and needs `kind`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignmentFilter {
    pub kind: Option<AssignmentType>,
    pub value: Option<String>,
    pub tier_id: Option<TierId>,
    pub mode: Option<PolicyMode>,
}

fn put(table: &str, item: Item, condition: Option<&str>) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_string))
        .return_values_on_condition_check_failure(ALL_OLD)
        .build()
        .expect("required fields set");
    TransactWriteItem::builder().put(put).build()
}

fn count_change(table: &str, tier: &TierId, by: i64) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key(keys::CONFIG_PK, keys::tier_sk(tier))))
        .update_expression("ADD assignmentCount :by")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":by", n(by))
        .build()
        .expect("required fields set");
    TransactWriteItem::builder().update(update).build()
}

fn delete(table: &str, key: Item, condition: Option<(&str, u64)>) -> TransactWriteItem {
    let mut d =
        Delete::builder().table_name(table).set_key(Some(key)).return_values_on_condition_check_failure(ALL_OLD);
    if let Some((expr, version)) = condition {
        d = d.condition_expression(expr).expression_attribute_values(":expected", n(version));
    }
    TransactWriteItem::builder().delete(d.build().expect("required fields set")).build()
}

/// Only one direct assignment per user: its copy's key is the user's.
const COPY_CONDITION: &str = "attribute_not_exists(pk)";

fn copy_condition(a: &Assignment) -> Option<&'static str> {
    matches!(a.target, Target::DirectUser(_)).then_some(COPY_CONDITION)
}

fn direct_taken(a: &Assignment, existing: Option<&Item>) -> Error {
    let other = existing.and_then(|i| item::opt_s(i, "assignmentId")).unwrap_or("another assignment");
    Error::Conflict(format!("user {} already has a direct assignment ({other})", a.target.value()))
}

fn unknown_tier(tier: &TierId) -> Error {
    Error::field("tierId", format!("tier {tier} does not exist"))
}

fn not_found(id: &AssignmentId) -> Error {
    Error::NotFound { entity: Entity::Assignment, id: id.to_string() }
}

impl DynamoStore {
    pub async fn create_assignment(&self, a: &Assignment, audit: &AdminChange) -> Result<(), Error> {
        let table = self.quota();
        let mut items = vec![
            put(table, assignment_to_item(a), Some("attribute_not_exists(pk)")),
            put(table, assignment_copy(a), copy_condition(a)),
            count_change(table, &a.tier_id, 1),
        ];
        let bumps = self.version_bumps(&items).await?;
        items.extend(bumps);
        items.push(audit_put(self.events(), audit));
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
            Err(c) => Err(if let Some(r) = c.condition_failed(1) {
                direct_taken(a, r.item.as_ref())
            } else if c.condition_failed(2).is_some() {
                unknown_tier(&a.tier_id)
            } else if c.condition_failed(0).is_some() {
                Error::Conflict(format!("assignment {} already exists", a.assignment_id))
            } else {
                Error::Store("create assignment cancelled".into())
            }),
        }
    }

    pub async fn get_assignment(&self, id: &AssignmentId) -> Result<Option<Assignment>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(self.quota())
            .set_key(Some(key(keys::assignment_pk(id), keys::ASSIGNMENT_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        out.item().map(assignment_from_item).transpose()
    }

    /// Replaces `old` by `new` (same id) if `old` is still the stored version.
    pub async fn update_assignment(
        &self,
        old: &Assignment,
        new: &Assignment,
        audit: &AdminChange,
    ) -> Result<(), Error> {
        let table = self.quota();
        let canonical = Put::builder()
            .table_name(table)
            .set_item(Some(assignment_to_item(new)))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(old.audit.version))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .expect("required fields set");
        let mut items = vec![TransactWriteItem::builder().put(canonical).build()];
        let moved = assignment_copy_key(old) != assignment_copy_key(new);
        if moved {
            items.push(delete(table, assignment_copy_key(old), None));
        }
        let copy_index = items.len();
        items.push(put(table, assignment_copy(new), if moved { copy_condition(new) } else { None }));
        let new_tier_index = items.len() + 1;
        if old.tier_id != new.tier_id {
            items.push(count_change(table, &old.tier_id, -1));
            items.push(count_change(table, &new.tier_id, 1));
        }
        let bumps = self.version_bumps(&items).await?;
        items.extend(bumps);
        items.push(audit_put(self.events(), audit));
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
            Err(c) => Err(match c.condition_failed(0) {
                Some(r) if r.item.is_some() => Error::PreconditionFailed {
                    entity: Entity::Assignment,
                    id: old.assignment_id.to_string(),
                    expected: old.audit.version,
                },
                Some(_) => not_found(&old.assignment_id),
                None if c.condition_failed(copy_index).is_some() => {
                    direct_taken(new, c.condition_failed(copy_index).and_then(|r| r.item.as_ref()))
                }
                None if old.tier_id != new.tier_id && c.condition_failed(new_tier_index).is_some() => {
                    unknown_tier(&new.tier_id)
                }
                None => Error::Store("update assignment cancelled".into()),
            }),
        }
    }

    /// Deletes an assignment (at `expected_version`, when given) and returns
    /// it; `audit` makes the admin change from the assignment read.
    pub async fn delete_assignment(
        &self,
        id: &AssignmentId,
        expected_version: Option<u64>,
        audit: impl FnOnce(&Assignment) -> AdminChange,
    ) -> Result<Assignment, Error> {
        let a = self.get_assignment(id).await?.ok_or_else(|| not_found(id))?;
        if expected_version.is_some_and(|v| v != a.audit.version) {
            return Err(Error::PreconditionFailed {
                entity: Entity::Assignment,
                id: id.to_string(),
                expected: expected_version.unwrap_or_default(),
            });
        }
        let table = self.quota();
        // Conditioned on the version just read, so a concurrent update (which
        // may have moved the copy or the tier) makes this fail, not half-apply.
        let mut items = vec![
            delete(
                table,
                key(keys::assignment_pk(id), keys::ASSIGNMENT_SK),
                Some(("version = :expected", a.audit.version)),
            ),
            delete(table, assignment_copy_key(&a), None),
            count_change(table, &a.tier_id, -1),
        ];
        let bumps = self.version_bumps(&items).await?;
        items.extend(bumps);
        items.push(audit_put(self.events(), &audit(&a)));
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(a),
            Err(c) => Err(match c.condition_failed(0) {
                Some(r) if r.item.is_some() => Error::PreconditionFailed {
                    entity: Entity::Assignment,
                    id: id.to_string(),
                    expected: a.audit.version,
                },
                Some(_) => not_found(id),
                None => Error::Store("delete assignment cancelled".into()),
            }),
        }
    }

    /// Lists assignments from the indexes (eventually consistent, as index
    /// reads are): by tier through byTier, otherwise through byTarget. A
    /// filter applies after `Limit`, so short reads are topped up (`Limit` =
    /// what is missing) until the page is full or the list ends.
    pub async fn list_assignments(
        &self,
        filter: &AssignmentFilter,
        page: &PageRequest,
    ) -> Result<Page<Assignment>, Error> {
        let token = page.next_token.as_deref();
        let prefix = filter.kind.map(|k| keys::target_prefix(k, filter.value.as_deref()));
        let start = match &filter.tier_id {
            Some(tier) => cursor::decode(token, &[PK, SK, GSI2_PK, GSI2_SK], (GSI2_PK, &keys::tier_gsi_pk(tier)))?,
            None => cursor::decode_within(
                token,
                &[PK, SK, GSI1_PK, GSI1_SK],
                (GSI1_PK, keys::ASSIGNMENTS_GSI_PK),
                prefix.as_deref().map(|p| (GSI1_SK, p)),
            )?,
        };
        let mut q = self.client.query().table_name(self.quota());
        if let Some(tier) = &filter.tier_id {
            q = q
                .index_name(ASSIGNMENTS_BY_TIER)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", GSI2_PK)
                .expression_attribute_values(":pk", s(keys::tier_gsi_pk(tier)));
            let mut conditions = Vec::new();
            if let Some(kind) = filter.kind {
                conditions.push("assignmentType = :kind");
                q = q.expression_attribute_values(":kind", s(kind.as_str()));
            }
            if let (Some(kind), Some(value)) = (filter.kind, &filter.value) {
                conditions.push("#value = :value");
                let attr = match kind {
                    AssignmentType::DirectUser => "userId",
                    AssignmentType::JwtRole => "jwtRole",
                    AssignmentType::EmailDomain => "emailDomain",
                    AssignmentType::DefaultTier => "assignmentType",
                };
                q = q.expression_attribute_names("#value", attr).expression_attribute_values(":value", s(value));
            }
            if let Some(mode) = filter.mode {
                conditions.push(item::mode_condition(mode));
            }
            if !conditions.is_empty() {
                q = q.filter_expression(conditions.join(" AND "));
            }
        } else {
            q = q
                .index_name(ASSIGNMENTS_BY_TARGET)
                .expression_attribute_names("#pk", GSI1_PK)
                .expression_attribute_values(":pk", s(keys::ASSIGNMENTS_GSI_PK));
            q = match &prefix {
                Some(p) => q
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", GSI1_SK)
                    .expression_attribute_values(":prefix", s(p)),
                None => q.key_condition_expression("#pk = :pk"),
            };
            if let Some(mode) = filter.mode {
                q = q.filter_expression(item::mode_condition(mode));
            }
        }
        if let Some(mode) = filter.mode {
            q = q
                .expression_attribute_names("#mode", item::MODE)
                .expression_attribute_values(":mode", s(mode.as_str()));
        }
        let (items, start) = self.query_filling(q, Some(page.limit as usize), start, assignment_from_item).await?;
        Ok(Page { items, next_token: cursor::encode(start.as_ref()) })
    }

    /// Reads all tiers, shared assignments, prices and groups with one consistent Query (more
    /// only past 1 MB of configuration), for the per-container cache.
    pub async fn load_shared_config(&self) -> Result<SharedConfig, Error> {
        let mut config = SharedConfig::default();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(self.quota())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(keys::CONFIG_PK))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| store_error("Query", e))?;
            for it in out.items() {
                let sk = item::get_s(it, SK)?;
                // One malformed item must not switch quotas off for everyone:
                // it is skipped, logged and counted; the rest decides.
                let read = config_item(sk, it).map(|read| match read {
                    Some(ConfigItem::Tier(tier)) => {
                        config.tiers.insert(tier.tier_id.clone(), tier);
                    }
                    Some(ConfigItem::Assignment(a)) => config.assignments.push(a),
                    Some(ConfigItem::Price(p)) => config.prices.push(p),
                    Some(ConfigItem::Group(g)) => config.groups.push(g),
                    None => {}
                });
                if let Err(e) = read {
                    tracing::error!(sk, error = %e, "skipping a malformed configuration item");
                    crate::emf::count(crate::emf::Counter::ConfigItemsSkipped, &[]);
                }
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(config);
            }
        }
    }
}
