//! Groups in the store (issue 24, before their routes and enforcement):
//! created and updated with their admin change, named members kept one item
//! each with the user's copy bounded, deletion refused while members remain
//! unless forced, and a deleted group's memberships never reviving.

use quota_shared::error::Error;
use quota_shared::model::group::{Group, MAX_GROUPS_PER_USER, NewGroup};
use quota_shared::model::{AdminChange, GroupId, UserId};
use quota_shared::page::PageRequest;
use quota_shared::store::DynamoStore;
use testkit::{at, fresh_store};

const NOW: &str = "2026-12-07T10:00:00Z";

fn group(id: &str, now: &str) -> Group {
    let body: NewGroup = serde_json::from_value(serde_json::json!({
        "groupId": id, "groupName": id.to_uppercase(), "monthlyCostLimit": "500", "jwtRoles": ["chem-students"]
    }))
    .unwrap();
    body.into_group("admin@uni.edu", at(now)).unwrap()
}

fn change(g: &Group, action: &str) -> AdminChange {
    AdminChange::new("admin@uni.edu", action, g.change_target(), None, Some(g), at(NOW))
}

async fn add(store: &DynamoStore, g: &Group, user: &str) -> Result<(), Error> {
    let user = UserId::parse(user).unwrap();
    let audit = AdminChange::new(
        "admin@uni.edu",
        "add_member",
        Group::member_target(&g.group_id, &user),
        None,
        Some(g),
        at(NOW),
    );
    store.add_member(g, &user, "admin@uni.edu", at(NOW), &audit).await
}

#[tokio::test]
async fn a_group_keeps_its_members_apart_and_bounds_a_users_groups() {
    let store = fresh_store().await;
    let chem = group("chem", NOW);
    store.create_group(&chem, &change(&chem, "create")).await.unwrap();
    assert!(matches!(store.create_group(&chem, &change(&chem, "create")).await, Err(Error::Conflict(_))));
    let (stored, members) = store.get_group(&chem.group_id).await.unwrap().unwrap();
    assert_eq!((stored, members), (chem.clone(), 0));
    let config = store.load_shared_config().await.unwrap();
    assert_eq!(config.groups.len(), 1);
    assert_eq!(config.groups[0], chem, "the configuration every check caches carries it");

    // Updated over the version read; a stale version is 412.
    let patch = serde_json::from_value(serde_json::json!({"dailyCostLimit": "25"})).unwrap();
    let next = chem.patched(patch, "admin@uni.edu", at(NOW)).unwrap();
    store.update_group(&next, 1, &change(&next, "update")).await.unwrap();
    assert!(matches!(
        store.update_group(&next, 1, &change(&next, "update")).await,
        Err(Error::PreconditionFailed { .. })
    ));

    for user in ["ann", "bob", "cy"] {
        add(&store, &next, user).await.unwrap();
    }
    assert!(matches!(add(&store, &next, "ann").await, Err(Error::Conflict(m)) if m.contains("already")));
    assert_eq!(store.get_group(&chem.group_id).await.unwrap().unwrap().1, 3, "counted on the group");
    let first = store.list_members(&chem.group_id, &PageRequest { limit: 2, next_token: None }).await.unwrap();
    assert_eq!(first.items.iter().map(|m| m.user_id.as_str()).collect::<Vec<_>>(), ["ann", "bob"]);
    let rest = PageRequest { limit: 2, next_token: first.next_token };
    assert_eq!(store.list_members(&chem.group_id, &rest).await.unwrap().items.len(), 1);

    // A user is a named member of at most MAX_GROUPS_PER_USER groups.
    for i in 1..MAX_GROUPS_PER_USER {
        let g = group(&format!("g{i:02}"), NOW);
        store.create_group(&g, &change(&g, "create")).await.unwrap();
        add(&store, &g, "ann").await.unwrap();
    }
    let one_more = group("g99", NOW);
    store.create_group(&one_more, &change(&one_more, "create")).await.unwrap();
    assert!(matches!(add(&store, &one_more, "ann").await, Err(Error::Conflict(m)) if m.contains("the most")));
    assert_eq!(store.user_groups(&UserId::parse("ann").unwrap()).await.unwrap().len(), MAX_GROUPS_PER_USER);

    // Removing a member frees the place; a second removal is 404.
    let bob = UserId::parse("bob").unwrap();
    let audit = AdminChange::new(
        "admin@uni.edu",
        "remove_member",
        Group::member_target(&chem.group_id, &bob),
        Some(&next),
        None,
        at(NOW),
    );
    store.remove_member(&chem.group_id, Some(&next), &bob, &audit).await.unwrap();
    assert!(matches!(
        store.remove_member(&chem.group_id, Some(&next), &bob, &audit).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(store.get_group(&chem.group_id).await.unwrap().unwrap().1, 2);
}

#[tokio::test]
async fn a_group_with_members_is_deleted_only_when_forced_and_its_memberships_do_not_revive() {
    let store = fresh_store().await;
    let chem = group("chem", NOW);
    store.create_group(&chem, &change(&chem, "create")).await.unwrap();
    add(&store, &chem, "dana").await.unwrap();
    let delete = AdminChange::new("admin@uni.edu", "delete", chem.change_target(), Some(&chem), None, at(NOW));
    let refused = store.delete_group(&chem.group_id, None, false, &delete).await;
    assert!(matches!(refused, Err(Error::Conflict(m)) if m.contains("force=true")));
    assert!(matches!(
        store.delete_group(&chem.group_id, Some(7), true, &delete).await,
        Err(Error::PreconditionFailed { .. })
    ));
    store.delete_group(&chem.group_id, Some(1), true, &delete).await.unwrap();
    assert!(store.get_group(&chem.group_id).await.unwrap().is_none());
    assert!(store.load_shared_config().await.unwrap().groups.is_empty());

    // A new group of the same id: dana's old membership names the old group.
    let again = group("chem", "2026-12-08T10:00:00Z");
    store.create_group(&again, &change(&again, "create")).await.unwrap();
    let dana = UserId::parse("dana").unwrap();
    let named = store.user_groups(&dana).await.unwrap();
    let created = &named[&GroupId::parse("chem").unwrap()];
    assert_ne!(*created, at("2026-12-08T10:00:00Z"), "the membership is of the deleted group");
    // Adding her again is refused (her old item is there) until she is removed.
    assert!(matches!(add(&store, &again, "dana").await, Err(Error::Conflict(_))));
    let audit = AdminChange::new(
        "admin@uni.edu",
        "remove_member",
        Group::member_target(&again.group_id, &dana),
        None::<&Group>,
        None,
        at(NOW),
    );
    store.remove_member(&again.group_id, None, &dana, &audit).await.unwrap();
    add(&store, &again, "dana").await.unwrap();
    assert_eq!(store.user_groups(&dana).await.unwrap()[&again.group_id], at("2026-12-08T10:00:00Z"));
}
