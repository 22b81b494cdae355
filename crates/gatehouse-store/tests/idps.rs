//! The identity-provider store on both backends (migration 0025): IdPs round trip with their
//! JSON settings, names are unique, updates and deletes of unknown ids are NotFound; a sign-in
//! state is spent once, not after it expires, and goes with its IdP; users found by source.

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::services::idps::discovery::default_settings;
use gatehouse_core::store::StoreError;
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};

fn idp(id: &str, name: &str) -> Idp {
    let mut settings = default_settings("https://up.example", "client", Some("groups".into()));
    settings.routing_domains = vec!["example.com".into()];
    Idp {
        id: id.into(),
        name: name.into(),
        kind: IdpType::Oidc,
        status: IdpStatus::Active,
        settings,
        client_secret_sealed: Some("sealed".into()),
        created: 10,
        last_updated: 10,
    }
}

fn state(hash: &str, idp_id: &str, expires_at: i64) -> IdpState {
    IdpState {
        state_hash: hash.into(),
        idp_id: idp_id.into(),
        transaction_id: "tx".into(),
        browser_hash: "browser".into(),
        nonce: "nonce".into(),
        code_verifier_sealed: "verifier".into(),
        redirect_uri: "https://gh.example/oauth2/v1/authorize/callback".into(),
        expires_at,
    }
}

async fn idps_round_trip(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    store.create_idp(&idp("0oa2", "Two")).await?;
    store.create_idp(&idp("0oa1", "One")).await?;
    ensure!(store.find_idp("0oa1").await? == Some(idp("0oa1", "One")));
    let ids: Vec<String> = store.list_idps().await?.into_iter().map(|i| i.id).collect();
    ensure!(ids == ["0oa1", "0oa2"], "{ids:?}");
    ensure!(matches!(
        store.create_idp(&idp("0oa3", "One")).await,
        Err(StoreError::Conflict { ref constraint }) if constraint == "name"
    ));
    let mut changed = idp("0oa1", "Uno");
    changed.status = IdpStatus::Inactive;
    changed.settings.allow_password = true;
    changed.last_updated = 20;
    store.update_idp(&changed).await?;
    ensure!(store.find_idp("0oa1").await? == Some(changed));
    ensure!(matches!(
        store.update_idp(&idp("nope", "X")).await,
        Err(StoreError::NotFound)
    ));
    store.delete_idp("0oa2").await?;
    ensure!(store.find_idp("0oa2").await?.is_none());
    ensure!(matches!(
        store.delete_idp("0oa2").await,
        Err(StoreError::NotFound)
    ));
    Ok(())
}

async fn a_state_is_spent_once(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    store.create_idp(&idp("0oa1", "One")).await?;
    store
        .create_idp_state(&state("s1", "0oa1", 100), 10)
        .await?;
    store
        .create_idp_state(&state("s2", "0oa1", 100), 10)
        .await?;
    store
        .create_idp_state(&state("s3", "0oa1", 100), 10)
        .await?;
    ensure!(store.take_idp_state("s1", 50).await? == Some(state("s1", "0oa1", 100)));
    ensure!(
        store.take_idp_state("s1", 50).await?.is_none(),
        "spent twice"
    );
    ensure!(
        store.take_idp_state("s2", 100).await?.is_none(),
        "taken after expiry"
    );
    ensure!(
        store.take_idp_state("s2", 50).await?.is_none(),
        "an expired take spends it"
    );
    // A new state drops expired ones; deleting the IdP drops its states.
    store
        .create_idp_state(&state("s4", "0oa1", 500), 200)
        .await?;
    store.delete_idp("0oa1").await?;
    ensure!(store.take_idp_state("s4", 300).await?.is_none());
    ensure!(store.take_idp_state("s3", 50).await?.is_none());
    Ok(())
}

async fn users_are_found_by_source(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    let user = User {
        id: "00u1".into(),
        status: UserStatus::Active,
        login: "a@example.com".into(),
        email: "a@example.com".into(),
        first_name: "A".into(),
        last_name: "B".into(),
        display_name: None,
        password_hash: None,
        created: 1,
        last_updated: 1,
        activated: None,
        status_changed: None,
        last_login: None,
        password_changed: None,
    };
    store.create_user(&user).await?;
    store
        .set_user_source("00u1", &source_of("0oa1"), "sub-1", 5)
        .await?;
    ensure!(
        store
            .find_user_id_by_source("idp:0oa1", "sub-1")
            .await?
            .as_deref()
            == Some("00u1")
    );
    ensure!(
        store
            .find_user_id_by_source("idp:0oa1", "sub-2")
            .await?
            .is_none()
    );
    ensure!(
        store
            .find_user_id_by_source("idp:0oa2", "sub-1")
            .await?
            .is_none()
    );
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
    idps_round_trip,
    a_state_is_spent_once,
    users_are_found_by_source
);
