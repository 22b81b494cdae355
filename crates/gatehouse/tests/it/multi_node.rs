//! Two nodes on one database (issue 17): starting together on an empty database, and what one
//! node sees of the other's changes.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::{
    AppStatus, AuthServer, AuthServerKind, DEFAULT_AUTH_SERVER_ID, IssuerMode, KeyStatus,
    ORG_AUTH_SERVER_ID, SigningAlg,
};
use gatehouse_core::oidc::tokens::org_id;
use gatehouse_core::services::bootstrap::{bootstrap, create_bootstrap_admin};
use gatehouse_store::test_support::Backend;

use crate::nodes::Cluster;

backend_tests!(
    two_nodes_started_together_bootstrap_once,
    a_node_never_keeps_a_server_without_a_key,
);

/// Two nodes start at once on an empty database: both start, there is one administrator, one
/// active key per server, one org id.
async fn two_nodes_started_together_bootstrap_once(backend: Backend) -> Result<()> {
    for _ in 0..3 {
        let cluster = Cluster::new(backend).await?;
        let (a, b) = (cluster.node().await?, cluster.node().await?);
        let start = |p: std::sync::Arc<gatehouse_core::Provider>| async move {
            bootstrap(&p).await?;
            anyhow::Ok(create_bootstrap_admin(&p, None).await?)
        };
        let (ra, rb) = tokio::join!(start(a.clone()), start(b.clone()));
        let (ra, rb) = (ra.context("node a")?, rb.context("node b")?);
        ensure!(
            ra.is_some() != rb.is_some(),
            "administrators created: {}",
            usize::from(ra.is_some()) + usize::from(rb.is_some())
        );
        let users = a
            .store
            .list_users(gatehouse_core::store::Page {
                after: None,
                limit: 10,
            })
            .await?;
        ensure!(users.len() == 1, "{} users", users.len());
        for server in [ORG_AUTH_SERVER_ID, DEFAULT_AUTH_SERVER_ID] {
            let active = a
                .store
                .list_signing_keys(server)
                .await?
                .into_iter()
                .filter(|k| k.status == KeyStatus::Active)
                .count();
            ensure!(active == 1, "{server}: {active} active keys");
        }
        ensure!(org_id(&a).await? == org_id(&b).await?, "two org ids");
    }
    Ok(())
}

/// A node that looked at a server before it had a key does not remember "no key": once another
/// node gives it one, this node signs with it at once.
async fn a_node_never_keeps_a_server_without_a_key(backend: Backend) -> Result<()> {
    let cluster = Cluster::new(backend).await?;
    let (a, b) = (cluster.node().await?, cluster.node().await?);
    bootstrap(&a).await?;
    let server = AuthServer {
        id: "aus_keyless".into(),
        kind: AuthServerKind::Custom,
        name: "keyless".into(),
        description: String::new(),
        audiences: vec!["api://keyless".into()],
        issuer_mode: IssuerMode::Dynamic,
        status: AppStatus::Active,
        signing_alg: SigningAlg::default(),
        created: 0,
        last_updated: 0,
    };
    a.store.create_auth_server(&server).await?;
    ensure!(a.keys.active_key(&server.id).await.is_err());
    b.keys.ensure_active_key(&server.id, b.now()).await?;
    let kid = a.keys.active_key(&server.id).await?.kid().to_owned();
    ensure!(!kid.is_empty());
    Ok(())
}
