//! The storage contract of [`SetupStore`] (changes of several rows made in one transaction,
//! race-free across nodes), on both backends. Racing callers are separate stores (pools) on
//! one database, as separate nodes are.

use std::sync::Arc;

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{BootstrapAdmin, KeyChange, Store, StoreError};
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};

async fn nodes(db: &TestDatabase, n: usize) -> Result<Vec<Arc<dyn Store>>> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(connect(&db.url).await?);
    }
    Ok(out)
}

fn server(id: &str) -> AuthServer {
    AuthServer {
        id: id.into(),
        kind: AuthServerKind::Custom,
        name: format!("server {id}"),
        description: String::new(),
        audiences: vec![],
        issuer_mode: IssuerMode::Dynamic,
        status: AppStatus::Active,
        signing_alg: SigningAlg::Rs256,
        authorization_response_iss: false,
        created: 1,
        last_updated: 1,
    }
}

fn key(kid: &str, server: &str) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        auth_server_id: server.into(),
        alg: "RS256".into(),
        status: KeyStatus::Next,
        private_key_sealed: format!("sealed-{kid}"),
        public_jwk: format!("{{\"kid\":\"{kid}\"}}"),
        created: 1,
    }
}

async fn active(s: &dyn Store, server: &str) -> Result<Vec<String>> {
    Ok(s.list_signing_keys(server)
        .await?
        .into_iter()
        .filter(|k| k.status == KeyStatus::Active)
        .map(|k| k.kid)
        .collect())
}

async fn replace_active_key_is_a_compare_and_swap(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let s = connect(&db.url).await?;
    let change = |expected: Option<&'static str>, new: &'static SigningKey| KeyChange {
        auth_server_id: "aus1",
        expected_active: expected,
        new_active: new,
    };
    static K1: std::sync::LazyLock<SigningKey> = std::sync::LazyLock::new(|| key("k1", "aus1"));
    static K2: std::sync::LazyLock<SigningKey> = std::sync::LazyLock::new(|| key("k2", "aus1"));
    static K3: std::sync::LazyLock<SigningKey> = std::sync::LazyLock::new(|| key("k3", "aus1"));
    ensure!(matches!(
        s.replace_active_signing_key(&change(None, &K1)).await,
        Err(StoreError::NotFound)
    ));
    s.create_auth_server(&server("aus1")).await?;
    ensure!(s.replace_active_signing_key(&change(None, &K1)).await?);
    ensure!(active(s.as_ref(), "aus1").await? == ["k1"]);
    // Stale expectations change nothing.
    ensure!(!s.replace_active_signing_key(&change(None, &K2)).await?);
    ensure!(
        !s.replace_active_signing_key(&change(Some("k9"), &K2))
            .await?
    );
    ensure!(s.list_signing_keys("aus1").await?.len() == 1);
    ensure!(
        s.replace_active_signing_key(&change(Some("k1"), &K2))
            .await?
    );
    ensure!(
        !s.replace_active_signing_key(&change(Some("k1"), &K3))
            .await?
    );
    ensure!(active(s.as_ref(), "aus1").await? == ["k2"]);
    let statuses: Vec<(String, KeyStatus)> = s
        .list_signing_keys("aus1")
        .await?
        .into_iter()
        .map(|k| (k.kid, k.status))
        .collect();
    ensure!(
        statuses.contains(&("k1".into(), KeyStatus::Expired)),
        "{statuses:?}"
    );
    Ok(())
}

async fn racing_nodes_make_one_active_key(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let stores = nodes(&db, 4).await?;
    stores[0].create_auth_server(&server("aus1")).await?;
    let tasks: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let s = s.clone();
            tokio::spawn(async move {
                let k = key(&format!("k{i}"), "aus1");
                s.replace_active_signing_key(&KeyChange {
                    auth_server_id: "aus1",
                    expected_active: None,
                    new_active: &k,
                })
                .await
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await??);
    }
    ensure!(won == 1, "{won} nodes made the first key");
    ensure!(active(stores[1].as_ref(), "aus1").await?.len() == 1);
    Ok(())
}

async fn racing_nodes_make_one_bootstrap_admin(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let stores = nodes(&db, 4).await?;
    let tasks: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let s = s.clone();
            tokio::spawn(async move {
                let user = User {
                    id: format!("00u{i}"),
                    status: UserStatus::Active,
                    login: format!("admin-{i}@gatehouse.local"),
                    email: format!("admin-{i}@gatehouse.local"),
                    first_name: "G".into(),
                    last_name: "A".into(),
                    display_name: None,
                    password_hash: Some("hash".into()),
                    created: 1,
                    last_updated: 1,
                    activated: Some(1),
                    status_changed: Some(1),
                    last_login: None,
                    password_changed: Some(1),
                };
                let group = Group {
                    id: format!("00g{i}"),
                    name: "Gatehouse Administrators".into(),
                    description: String::new(),
                    group_type: GroupType::OktaGroup,
                    created: 1,
                    last_updated: 1,
                };
                let role = AdminRole {
                    id: format!("ra1{i}"),
                    user_id: user.id.clone(),
                    role_type: "SUPER_ADMIN".into(),
                    created: 1,
                };
                let admin = BootstrapAdmin {
                    user: &user,
                    group: &group,
                    role: &role,
                };
                let created = s.create_bootstrap_admin(&admin).await?;
                anyhow::Ok(created.then_some(user.id))
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        winners.extend(t.await??);
    }
    ensure!(winners.len() == 1, "{winners:?}");
    let s = &stores[0];
    ensure!(s.bootstrap_admin_id().await? == Some(winners[0].clone()));
    let roles = s.list_admin_roles(&winners[0]).await?;
    ensure!(roles.len() == 1 && roles[0].role_type == "SUPER_ADMIN");
    let groups = s.list_user_groups(&winners[0]).await?;
    ensure!(groups.iter().any(|g| g.name == "Gatehouse Administrators"));
    Ok(())
}

async fn meta_is_inserted_once(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let stores = nodes(&db, 4).await?;
    let tasks: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let s = s.clone();
            tokio::spawn(async move { s.insert_meta_if_absent("org_id", &format!("o{i}")).await })
        })
        .collect();
    let mut won = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        if t.await?? {
            won.push(format!("o{i}"));
        }
    }
    ensure!(won.len() == 1, "{won:?}");
    for s in &stores {
        ensure!(s.get_meta("org_id").await? == Some(won[0].clone()));
    }
    Ok(())
}

macro_rules! setup_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use gatehouse_store::test_support::Backend;

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() -> anyhow::Result<()> {
                    super::$name(Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() -> anyhow::Result<()> {
                    super::$name(Backend::Postgres).await
                }
            }
        )+
    };
}

setup_tests!(
    replace_active_key_is_a_compare_and_swap,
    racing_nodes_make_one_active_key,
    racing_nodes_make_one_bootstrap_admin,
    meta_is_inserted_once,
);
