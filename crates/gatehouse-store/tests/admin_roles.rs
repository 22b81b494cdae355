//! The administrator-role store on both backends (migration 0010): idempotent assignment,
//! listing, counting, removal, and roles going with their user.

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};

mod common;
use common::user;

fn role(id: &str, user_id: &str, role_type: &str) -> AdminRole {
    AdminRole {
        id: id.into(),
        user_id: user_id.into(),
        role_type: role_type.into(),
        created: 2_000,
    }
}

async fn roles_round_trip(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    store.create_user(&user("u1")).await?;
    store.create_user(&user("u2")).await?;
    store
        .assign_admin_role(&role("ra1", "u1", "SUPER_ADMIN"))
        .await?;
    // A second assignment of the same role changes nothing.
    store
        .assign_admin_role(&role("ra2", "u1", "SUPER_ADMIN"))
        .await?;
    store
        .assign_admin_role(&role("ra3", "u1", "APP_ADMIN"))
        .await?;
    store
        .assign_admin_role(&role("ra4", "u2", "SUPER_ADMIN"))
        .await?;
    let roles = store.list_admin_roles("u1").await?;
    ensure!(roles.len() == 2, "{roles:?}");
    ensure!(
        roles[0].role_type == "APP_ADMIN" && roles[1] == role("ra1", "u1", "SUPER_ADMIN"),
        "{roles:?}"
    );
    ensure!(store.count_admin_role("SUPER_ADMIN").await? == 2);
    // A user that does not exist cannot hold a role.
    ensure!(
        store
            .assign_admin_role(&role("ra5", "nobody", "SUPER_ADMIN"))
            .await
            .is_err()
    );
    store.unassign_admin_role("u1", "SUPER_ADMIN").await?;
    ensure!(store.count_admin_role("SUPER_ADMIN").await? == 1);
    store.delete_user("u2").await?;
    ensure!(
        store.count_admin_role("SUPER_ADMIN").await? == 0,
        "roles go with their user"
    );
    ensure!(store.list_admin_roles("u2").await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_round_trip_sqlite() -> Result<()> {
    roles_round_trip(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_round_trip_postgres() -> Result<()> {
    roles_round_trip(Backend::Postgres).await
}
