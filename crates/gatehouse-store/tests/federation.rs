//! The federation store on both backends (migration 0020): users' and groups' sources, going
//! with their records; taking back one counted sign-in failure; leases one holder at a time;
//! the import's high-water mark (migration 0031), saved only over the version it was read at.

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{RecordSource, SyncMark};
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};

mod common;
use common::user;

fn group(id: &str) -> Group {
    Group {
        id: id.into(),
        name: format!("{id} group"),
        description: String::new(),
        group_type: GroupType::OktaGroup,
        created: 1_000,
        last_updated: 1_000,
    }
}

async fn sources_round_trip(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    for id in ["u1", "u2", "u3"] {
        store.create_user(&user(id)).await?;
    }
    store.create_group(&group("g1")).await?;
    store.create_group(&group("g2")).await?;
    ensure!(store.user_source("u1").await?.is_none(), "local by default");
    store.set_user_source("u1", "ldap", "uid=u1", 10).await?;
    store.set_user_source("u2", "ldap", "uid=u2", 10).await?;
    // Setting it again updates it.
    store
        .set_user_source("u1", "ldap", "uid=u1,ou=moved", 20)
        .await?;
    ensure!(
        store.user_source("u1").await?
            == Some(RecordSource {
                source: "ldap".into(),
                external_id: "uid=u1,ou=moved".into(),
                synced_at: 20,
            })
    );
    ensure!(store.list_source_users("ldap").await? == ["u1", "u2"]);
    ensure!(store.list_source_users("other").await?.is_empty());
    store.set_group_source("g2", "ldap", "cn=g2", 10).await?;
    ensure!(store.list_source_groups("ldap").await? == ["g2"]);
    // Sources go with their records.
    store.delete_user("u2").await?;
    store.delete_group("g2").await?;
    ensure!(store.list_source_users("ldap").await? == ["u1"]);
    ensure!(store.list_source_groups("ldap").await?.is_empty());
    // A record that does not exist cannot have a source.
    ensure!(
        store
            .set_user_source("nobody", "ldap", "x", 1)
            .await
            .is_err()
    );
    Ok(())
}

async fn forgiving_a_failure_never_goes_below_zero(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    store.create_user(&user("u1")).await?;
    store.forgive_signin_failure("u1").await?; // nothing counted: nothing happens
    ensure!(store.record_signin_failure("u1", 10).await? == 1);
    ensure!(store.record_signin_failure("u1", 11).await? == 2);
    store.forgive_signin_failure("u1").await?;
    ensure!(store.record_signin_failure("u1", 12).await? == 2);
    for _ in 0..3 {
        store.forgive_signin_failure("u1").await?;
    }
    ensure!(store.record_signin_failure("u1", 13).await? == 1);
    Ok(())
}

async fn a_lease_has_one_holder_until_it_expires(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    ensure!(store.acquire_lease("job", "a", 100, 60).await?);
    ensure!(
        !store.acquire_lease("job", "b", 120, 60).await?,
        "held by a"
    );
    ensure!(store.acquire_lease("job", "a", 130, 60).await?, "a renews");
    ensure!(
        !store.acquire_lease("job", "b", 189, 60).await?,
        "renewed until 190"
    );
    ensure!(
        store.acquire_lease("job", "b", 190, 60).await?,
        "expired: b takes it"
    );
    ensure!(
        store.acquire_lease("other", "a", 190, 60).await?,
        "leases are by name"
    );
    store.release_lease("job", "a").await?; // not a's any more: nothing happens
    ensure!(!store.acquire_lease("job", "a", 200, 60).await?);
    store.release_lease("job", "b").await?;
    ensure!(store.acquire_lease("job", "a", 200, 60).await?);
    Ok(())
}

async fn a_sync_mark_is_saved_over_the_version_read(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    ensure!(store.sync_mark("ldap").await?.is_none());
    let first = SyncMark {
        source: "ldap".into(),
        scope: "ldap://dir\nou=people".into(),
        mark: Some("20261206204500Z".into()),
        mark_entries: vec!["uid=a,ou=people".into(), "uid=\"b\",ou=people".into()],
        full_sync_at: Some(100),
        version: 0,
    };
    ensure!(store.save_sync_mark(&first, 100).await?, "first save");
    let read = store.sync_mark("ldap").await?;
    ensure!(
        read == Some(SyncMark {
            version: 1,
            ..first.clone()
        }),
        "{read:?}"
    );
    // Two imports read version 1; the first to save wins, the other writes nothing.
    let a = SyncMark {
        mark: Some("20261206204600Z".into()),
        mark_entries: vec![],
        version: 1,
        ..first.clone()
    };
    let b = SyncMark {
        mark: Some("20261206204700Z".into()),
        full_sync_at: None,
        version: 1,
        ..first.clone()
    };
    ensure!(store.save_sync_mark(&a, 110).await?);
    ensure!(!store.save_sync_mark(&b, 111).await?, "stale version");
    ensure!(
        !store.save_sync_mark(&first, 112).await?,
        "version 0 when one exists"
    );
    let read = store.sync_mark("ldap").await?;
    ensure!(
        read == Some(SyncMark {
            version: 2,
            ..a.clone()
        }),
        "{read:?}"
    );
    ensure!(
        store.sync_mark("other").await?.is_none(),
        "marks are by source"
    );
    Ok(())
}

async fn a_source_user_is_found_by_external_id_ignoring_case(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    store.create_user(&user("u1")).await?;
    store.create_user(&user("u2")).await?;
    store
        .set_user_source("u1", "ldap", "uid=Alice,ou=People,dc=example", 10)
        .await?;
    store.set_user_source("u2", "other", "uid=bob", 10).await?;
    ensure!(
        store
            .find_source_user("ldap", "UID=alice,OU=people,DC=EXAMPLE")
            .await?
            .as_deref()
            == Some("u1")
    );
    ensure!(store.find_source_user("ldap", "uid=bob").await?.is_none());
    ensure!(store.find_source_user("other", "uid=bob").await?.as_deref() == Some("u2"));
    Ok(())
}

macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use gatehouse_store::test_support::Backend;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() -> anyhow::Result<()> {
                    super::$name(Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() -> anyhow::Result<()> {
                    super::$name(Backend::Postgres).await
                }
            }
        )+
    };
}

both_backends!(
    sources_round_trip,
    forgiving_a_failure_never_goes_below_zero,
    a_lease_has_one_holder_until_it_expires,
    a_sync_mark_is_saved_over_the_version_read,
    a_source_user_is_found_by_external_id_ignoring_case,
);
