//! Groups: the group in the shared configuration (so the check's cache holds
//! its rules and limits), its named members one item each (listed by a
//! Query of the group's partition), and each member's copy of their named
//! groups on the user's partition (what a check will read with the user).
//! Every write moves the configuration version when the group changes, and
//! stores its admin change in the same transaction.

use super::dynamo::{DynamoStore, store_error};
use super::events_write::audit_put;
use super::item::{
    self, MEMBER_COUNT, USER_GROUP_COUNT, group_from_item, group_mutable_attributes, group_to_item, key,
    member_from_item, member_item, n, s,
};
use super::schema::{PK, SK};
use super::{cursor, keys};
use crate::error::{Entity, Error};
use crate::model::group::{Group, MAX_GROUPS_PER_USER};
use crate::model::shadow::PolicyMode;
use crate::model::{AdminChange, GroupId, UserId};
use crate::page::{Page, PageRequest};
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub use super::item::Member;

fn not_found(id: &GroupId) -> Error {
    Error::NotFound { entity: Entity::Group, id: id.to_string() }
}

impl DynamoStore {
    /// Stores a new group; 409 if the id is taken.
    pub async fn create_group(&self, group: &Group, audit: &AdminChange) -> Result<(), Error> {
        self.create_config_item(group_to_item(group), Entity::Group, group.group_id.as_str(), audit).await
    }

    /// The group and how many named members it has.
    pub async fn get_group(&self, id: &GroupId) -> Result<Option<(Group, u64)>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(self.quota())
            .set_key(Some(key(keys::CONFIG_PK, keys::group_sk(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        out.item().map(|it| Ok((group_from_item(it)?, item::opt_n(it, MEMBER_COUNT)?.unwrap_or(0)))).transpose()
    }

    /// Groups in id order.
    pub async fn list_groups(&self, page: &PageRequest, mode: Option<PolicyMode>) -> Result<Page<Group>, Error> {
        let start = cursor::decode_within(
            page.next_token.as_deref(),
            &[PK, SK],
            (PK, keys::CONFIG_PK),
            Some((SK, keys::GROUP_PREFIX)),
        )?;
        let mut q = self
            .client
            .query()
            .table_name(self.quota())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::CONFIG_PK))
            .expression_attribute_values(":prefix", s(keys::GROUP_PREFIX))
            .consistent_read(true);
        if let Some(mode) = mode {
            q = q
                .filter_expression(item::mode_condition(mode))
                .expression_attribute_names("#mode", item::MODE)
                .expression_attribute_values(":mode", s(mode.as_str()));
        }
        let (groups, start) = self.query_filling(q, Some(page.limit as usize), start, group_from_item).await?;
        Ok(Page { items: groups, next_token: cursor::encode(start.as_ref()) })
    }

    /// Writes `group` over the stored version `expected_version` (412 if it moved).
    pub async fn update_group(&self, group: &Group, expected_version: u64, audit: &AdminChange) -> Result<(), Error> {
        let id = (Entity::Group, group.group_id.as_str());
        let attrs = group_mutable_attributes(group);
        self.update_config_item(keys::group_sk(&group.group_id), attrs, expected_version, id, audit).await
    }

    /// Deletes a group: with named members only when `force` (their items
    /// stay and no longer count: a membership names its group's creation
    /// instant, so a new group of the same id starts without them). Its
    /// usage stays for analytics.
    pub async fn delete_group(
        &self,
        id: &GroupId,
        expected_version: Option<u64>,
        force: bool,
        audit: &AdminChange,
    ) -> Result<(), Error> {
        let counter = (MEMBER_COUNT, "has {n} named member(s): remove them, or delete with ?force=true");
        let who = (Entity::Group, id.as_str());
        self.delete_config_item(keys::group_sk(id), expected_version, (!force).then_some(counter), who, audit).await
    }

    /// Names `user` a member of `group`: the member item, the user's copy
    /// (at most `MAX_GROUPS_PER_USER` named groups) and the group's count, in
    /// one transaction with the admin change. 409 when already a member or
    /// when the user has the most named groups there may be.
    pub async fn add_member(
        &self,
        group: &Group,
        user: &UserId,
        actor: &str,
        at: DateTime<Utc>,
        audit: &AdminChange,
    ) -> Result<(), Error> {
        let created = item::time(group.audit.created_at);
        let member = Put::builder()
            .table_name(self.quota())
            .set_item(Some(member_item(group, user, actor, at)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("required fields set");
        let copy = Update::builder()
            .table_name(self.quota())
            .set_key(Some(key(keys::user_pk(user), keys::USER_GROUPS_SK)))
            .update_expression("SET #g = :created ADD #count :one")
            .condition_expression("attribute_not_exists(#g) AND (attribute_not_exists(#count) OR #count < :most)")
            .expression_attribute_names("#g", item::user_group_attr(&group.group_id))
            .expression_attribute_names("#count", USER_GROUP_COUNT)
            .expression_attribute_values(":created", created.clone())
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":most", n(MAX_GROUPS_PER_USER))
            .build()
            .expect("required fields set");
        let count = Update::builder()
            .table_name(self.quota())
            .set_key(Some(key(keys::CONFIG_PK, keys::group_sk(&group.group_id))))
            .update_expression("ADD #members :one")
            .condition_expression("attribute_exists(pk) AND createdAt = :created")
            .expression_attribute_names("#members", MEMBER_COUNT)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":created", created)
            .build()
            .expect("required fields set");
        let items = vec![
            TransactWriteItem::builder().put(member).build(),
            TransactWriteItem::builder().update(copy).build(),
            TransactWriteItem::builder().update(count).build(),
            audit_put(self.events(), audit),
        ];
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
            Err(c) if c.condition_failed(0).is_some() => {
                Err(Error::Conflict(format!("{user} is a member of group {} already", group.group_id)))
            }
            Err(c) if c.condition_failed(1).is_some() => Err(Error::Conflict(format!(
                "{user} is a named member of {MAX_GROUPS_PER_USER} groups, the most there may be; remove one first"
            ))),
            Err(c) if c.condition_failed(2).is_some() => Err(not_found(&group.group_id)),
            Err(c) => Err(Error::Store(format!("add member cancelled: {:?}", c.codes()))),
        }
    }

    /// Removes `user` from `group` (the group may have been deleted with
    /// `force` meanwhile: then only the member's items go). 404 when not a member.
    pub async fn remove_member(
        &self,
        group: &GroupId,
        existing: Option<&Group>,
        user: &UserId,
        audit: &AdminChange,
    ) -> Result<(), Error> {
        let member = Delete::builder()
            .table_name(self.quota())
            .set_key(Some(key(keys::group_pk(group), keys::member_sk(user))))
            .condition_expression("attribute_exists(pk)")
            .build()
            .expect("required fields set");
        let copy = Update::builder()
            .table_name(self.quota())
            .set_key(Some(key(keys::user_pk(user), keys::USER_GROUPS_SK)))
            .update_expression("REMOVE #g ADD #count :minus")
            .condition_expression("attribute_exists(#g)")
            .expression_attribute_names("#g", item::user_group_attr(group))
            .expression_attribute_names("#count", USER_GROUP_COUNT)
            .expression_attribute_values(":minus", n(-1))
            .build()
            .expect("required fields set");
        let mut items = vec![
            TransactWriteItem::builder().delete(member).build(),
            TransactWriteItem::builder().update(copy).build(),
        ];
        if let Some(g) = existing {
            let count = Update::builder()
                .table_name(self.quota())
                .set_key(Some(key(keys::CONFIG_PK, keys::group_sk(group))))
                .update_expression("ADD #members :minus")
                .condition_expression("attribute_exists(pk) AND createdAt = :created")
                .expression_attribute_names("#members", MEMBER_COUNT)
                .expression_attribute_values(":minus", n(-1))
                .expression_attribute_values(":created", item::time(g.audit.created_at))
                .build()
                .expect("required fields set");
            items.push(TransactWriteItem::builder().update(count).build());
        }
        items.push(audit_put(self.events(), audit));
        match self.transact_retrying(items).await? {
            Ok(()) => Ok(()),
            Err(c) if c.condition_failed(0).is_some() || c.condition_failed(1).is_some() => {
                Err(Error::NotFound { entity: Entity::Member, id: format!("{user} in group {group}") })
            }
            Err(c) if c.condition_failed(2).is_some() => {
                Err(Error::Conflict(format!("group {group} changed meanwhile; try again")))
            }
            Err(c) => Err(Error::Store(format!("remove member cancelled: {:?}", c.codes()))),
        }
    }

    /// The user's named groups: group id -> the group's creation instant.
    pub async fn user_groups(&self, user: &UserId) -> Result<BTreeMap<GroupId, DateTime<Utc>>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(self.quota())
            .set_key(Some(key(keys::user_pk(user), keys::USER_GROUPS_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        item::user_groups_from_item(out.item())
    }

    /// A group's named members, in user id order.
    pub async fn list_members(&self, group: &GroupId, page: &PageRequest) -> Result<Page<Member>, Error> {
        let pk = keys::group_pk(group);
        let start =
            cursor::decode_within(page.next_token.as_deref(), &[PK, SK], (PK, &pk), Some((SK, keys::MEMBER_PREFIX)))?;
        let q = self
            .client
            .query()
            .table_name(self.quota())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(keys::MEMBER_PREFIX))
            .consistent_read(true);
        let (members, start) = self.query_filling(q, Some(page.limit as usize), start, member_from_item).await?;
        Ok(Page { items: members, next_token: cursor::encode(start.as_ref()) })
    }
}
