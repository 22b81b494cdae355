//! Two nodes on one database (issue 17): starting together on an empty database, and what one
//! node sees of the other's changes.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::{
    AppStatus, ApplicationType, AuthServer, AuthServerKind, DEFAULT_AUTH_SERVER_ID, IssuerMode,
    KeyStatus, ORG_AUTH_SERVER_ID, SigningAlg, TokenEndpointAuthMethod,
};
use gatehouse_core::oidc::tokens::org_id;
use gatehouse_core::services::apps::{NewOidcApp, create_oidc_app, set_status};
use gatehouse_core::services::bootstrap::{bootstrap, create_bootstrap_admin};
use gatehouse_core::services::changes::follow_changes;
use gatehouse_core::services::system_log::Actor;
use gatehouse_store::test_support::Backend;

use crate::helpers::http_client;
use crate::nodes::{Cluster, serve};

backend_tests!(
    two_nodes_started_together_bootstrap_once,
    a_node_never_keeps_a_server_without_a_key,
    changes_reach_the_other_node_at_once,
    a_new_key_is_published_before_it_signs,
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
        authorization_response_iss: false,
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

/// Polls `check` until it holds, for at most `within`.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F) -> Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let started = Instant::now();
    while started.elapsed() < within {
        if check().await? {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("{what}: not seen within {within:?}")
}

/// Aborts the task when dropped.
struct Abort(tokio::task::JoinHandle<()>);

impl Drop for Abort {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What one node changes, the other sees within a second (PostgreSQL notifies every node as
/// the change commits): a rotated key in its JWKS and as its signer, a server's settings, a
/// deactivated client. (The caches' TTLs were 30 s, 10 s and 5 s.) SQLite serves one node and
/// has no feed.
async fn changes_reach_the_other_node_at_once(backend: Backend) -> Result<()> {
    let cluster = Cluster::new(backend).await?;
    let (a, b) = (cluster.node().await?, cluster.node().await?);
    bootstrap(&a).await?;
    if backend == Backend::Sqlite {
        ensure!(b.store.change_feed().await?.is_none());
        return Ok(());
    }
    let _follow = Abort(tokio::spawn(follow_changes(b.clone())));
    // The follower forgets everything once it listens: prime b's caches after that.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let served = serve(b.clone(), &cluster.db.url).await?;
    let created = create_oidc_app(
        &a,
        &Actor::system(),
        NewOidcApp {
            label: "Feed".into(),
            application_type: ApplicationType::Web,
            redirect_uris: vec!["https://app.example.com/cb".into()],
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into()],
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretBasic),
            initiate_login_uri: None,
            login_mode: None,
        },
    )
    .await?;
    let secret = created.client_secret.clone().context("no secret")?;
    let client = http_client()?;
    let introspect = || {
        client
            .post(format!("{}/oauth2/default/v1/introspect", served.base))
            .basic_auth(&created.app.client_id, Some(&secret))
            .form(&[("token", "x")])
            .send()
    };
    ensure!(introspect().await?.status() == 200, "client not accepted");
    let old_kid = b
        .keys
        .active_key(DEFAULT_AUTH_SERVER_ID)
        .await?
        .kid()
        .to_owned();
    ensure!(b.find_auth_server(DEFAULT_AUTH_SERVER_ID).await?.is_some());

    let within = Duration::from_secs(2);
    let new = a.keys.rotate(DEFAULT_AUTH_SERVER_ID, a.now()).await?;
    ensure!(new.kid != old_kid);
    eventually(
        within,
        "the new key in b's JWKS and as b's signer",
        || async {
            let jwks = b.keys.jwks(DEFAULT_AUTH_SERVER_ID).await?;
            let published = jwks["keys"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k["kid"] == new.kid.as_str()));
            let signer = b.keys.active_key(DEFAULT_AUTH_SERVER_ID).await?.kid() == new.kid;
            Ok(published && signer)
        },
    )
    .await?;

    let mut server = a
        .store
        .find_auth_server(DEFAULT_AUTH_SERVER_ID)
        .await?
        .context("default")?;
    server.description = "changed on node a".into();
    a.store.update_auth_server(&server).await?;
    eventually(within, "the server's new settings on b", || async {
        Ok(b.find_auth_server(DEFAULT_AUTH_SERVER_ID)
            .await?
            .is_some_and(|s| s.description == "changed on node a"))
    })
    .await?;

    set_status(
        &a,
        &Actor::system(),
        created.app.clone(),
        AppStatus::Inactive,
    )
    .await?;
    eventually(within, "the client's deactivation on b", || async {
        Ok(introspect().await?.status() == 401)
    })
    .await?;

    // b's listening connection dies (only these tests listen on this channel): b listens
    // again and hears of changes made after that.
    cluster
        .raw(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE query LIKE 'LISTEN%gatehouse_changes%' AND pid <> pg_backend_pid()",
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    ensure!(b.find_auth_server(DEFAULT_AUTH_SERVER_ID).await?.is_some());
    server.description = "changed again".into();
    a.store.update_auth_server(&server).await?;
    eventually(within, "a change after b's feed reconnected", || async {
        Ok(b.find_auth_server(DEFAULT_AUTH_SERVER_ID)
            .await?
            .is_some_and(|s| s.description == "changed again"))
    })
    .await?;
    Ok(())
}

/// With a publication delay (as on PostgreSQL), a rotated key is in the other node's JWKS
/// (this node's on SQLite, which serves one node) before the rotating node signs with it.
async fn a_new_key_is_published_before_it_signs(backend: Backend) -> Result<()> {
    let cluster = Cluster::new(backend).await?;
    let (a, b) = (cluster.node().await?, cluster.node().await?);
    bootstrap(&a).await?;
    let observer = match backend {
        Backend::Postgres => b.clone(),
        Backend::Sqlite => a.clone(),
    };
    let _follow = Abort(tokio::spawn(follow_changes(b.clone())));
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.keys.set_publication_delay(Duration::from_millis(700));
    let old = a
        .keys
        .active_key(DEFAULT_AUTH_SERVER_ID)
        .await?
        .kid()
        .to_owned();
    let known: Vec<String> = observer.keys.jwks(DEFAULT_AUTH_SERVER_ID).await?["keys"]
        .as_array()
        .context("keys")?
        .iter()
        .filter_map(|k| k["kid"].as_str().map(str::to_owned))
        .collect();
    let rotation = {
        let a = a.clone();
        tokio::spawn(async move { a.keys.rotate(DEFAULT_AUTH_SERVER_ID, a.now()).await })
    };
    let started = Instant::now();
    let (mut published, mut signing) = (None, None);
    while (published.is_none() || signing.is_none()) && started.elapsed() < Duration::from_secs(5) {
        let jwks = observer.keys.jwks(DEFAULT_AUTH_SERVER_ID).await?;
        let new_kid = jwks["keys"].as_array().is_some_and(|keys| {
            keys.iter()
                .filter_map(|k| k["kid"].as_str())
                .any(|kid| !known.iter().any(|k| k == kid))
        });
        if new_kid && published.is_none() {
            published = Some(started.elapsed());
        }
        if a.keys.active_key(DEFAULT_AUTH_SERVER_ID).await?.kid() != old && signing.is_none() {
            signing = Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let new = rotation.await??;
    let (published, signing) = (
        published.context("never published")?,
        signing.context("never signed")?,
    );
    ensure!(
        published + Duration::from_millis(300) < signing,
        "published at {published:?}, signing from {signing:?}"
    );
    ensure!(a.keys.active_key(DEFAULT_AUTH_SERVER_ID).await?.kid() == new.kid);
    let active = a
        .store
        .list_signing_keys(DEFAULT_AUTH_SERVER_ID)
        .await?
        .into_iter()
        .filter(|k| k.status == KeyStatus::Active)
        .count();
    ensure!(active == 1);
    Ok(())
}
