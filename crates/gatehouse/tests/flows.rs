//! Grant flows without HTTP (issue 18 item 4): a Provider on a test database (both backends),
//! the grants called through the registry (`oauth2::grants`) and the device endpoints' core
//! functions directly, beside the HTTP tests in `tests/it/device_grant.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::Provider;
use gatehouse_core::crypto::SecretBox;
use gatehouse_core::domain::{ApplicationType, Session, TokenEndpointAuthMethod, User};
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::oauth2::device::{self, DeviceAuthorizationResponse};
use gatehouse_core::oauth2::grants::{self, DEVICE_CODE, GrantParams, GrantType, TokenParams};
use gatehouse_core::provider::{Clock, ServerContext};
use gatehouse_core::services::apps::{
    CreatedApp, NewOidcApp, assign_group_to_app, create_oidc_app,
};
use gatehouse_core::services::bootstrap::bootstrap;
use gatehouse_core::services::device_activation;
use gatehouse_core::services::directory::find_group_by_id_or_name;
use gatehouse_core::services::system_log::Actor;
use gatehouse_core::services::users::{NewUser, create_user};
use gatehouse_store::test_support::{Backend, TestDatabase};

const ORIGIN: &str = "https://id.example.com";

struct FixedClock(AtomicI64);

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

struct Flow {
    provider: Arc<Provider>,
    clock: Arc<FixedClock>,
    server: ServerContext,
    user: User,
    tv: CreatedApp,
    _db: TestDatabase,
}

async fn setup(backend: Backend) -> Result<Flow> {
    let db = TestDatabase::new(backend).await?;
    let store = gatehouse_store::connect(&db.url).await?;
    let secrets = Arc::new(SecretBox::from_base64(&SecretBox::generate_key())?);
    let clock = Arc::new(FixedClock(AtomicI64::new(1_800_000_000)));
    let mut provider = Provider::new(store, secrets);
    provider.clock = clock.clone();
    bootstrap(&provider).await?;
    let user = create_user(
        &provider,
        &Actor::system(),
        NewUser {
            login: "dana@example.com".into(),
            email: "dana@example.com".into(),
            first_name: "Dana".into(),
            last_name: "Scully".into(),
            display_name: None,
            password: Some("correct horse battery staple".into()),
            activate: true,
        },
    )
    .await?;
    let tv = create_oidc_app(
        &provider,
        &Actor::system(),
        NewOidcApp {
            label: "Kiosk".into(),
            application_type: ApplicationType::Native,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![DEVICE_CODE.into(), "refresh_token".into()],
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::None),
            initiate_login_uri: None,
            login_mode: None,
        },
    )
    .await?;
    let everyone = find_group_by_id_or_name(&provider, "Everyone").await?;
    assign_group_to_app(&provider, &tv.app, &everyone).await?;
    let server = provider.server_context(ORIGIN, None).await?;
    Ok(Flow {
        provider: Arc::new(provider),
        clock,
        server,
        user,
        tv,
        _db: db,
    })
}

fn params(client_id: &str, pairs: &[(&str, &str)]) -> TokenParams {
    let grant_type = pairs
        .iter()
        .find(|(k, _)| *k == "grant_type")
        .map(|(_, v)| (*v).to_owned());
    TokenParams {
        grant_type,
        client_id: Some(client_id.to_owned()),
        grant: GrantParams::from_pairs(pairs.iter().copied().filter(|(k, _)| *k != "grant_type")),
        ..TokenParams::default()
    }
}

impl Flow {
    async fn start(&self, scope: &str) -> Result<DeviceAuthorizationResponse> {
        let p = params(&self.tv.app.client_id, &[("scope", scope)]);
        Ok(device::device_authorize(&self.provider, &self.server, &p, None).await?)
    }

    async fn poll(
        &self,
        device_code: &str,
    ) -> Result<gatehouse_core::oidc::tokens::TokenResponse, OAuthError> {
        let p = params(
            &self.tv.app.client_id,
            &[("grant_type", DEVICE_CODE), ("device_code", device_code)],
        );
        grants::token(&self.provider, &self.server, p, None, None).await
    }

    fn session(&self) -> Session {
        let now = self.provider.now();
        Session {
            id_hash: "flow".into(),
            user_id: self.user.id.clone(),
            auth_time: now,
            amr: vec!["pwd".into()],
            created: now,
            expires_at: now + 3600,
        }
    }

    fn advance(&self, secs: i64) {
        self.clock.0.fetch_add(secs, Ordering::SeqCst);
    }
}

async fn device_grant_through_the_registry(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let handler = grants::handler(GrantType::DeviceCode).context("registered")?;
    ensure!(handler.parameters() == ["device_code"]);
    ensure!(grants::handler(GrantType::Implicit).is_none());

    let started = f.start("openid offline_access").await?;
    match f.poll(&started.device_code).await {
        Err(OAuthError::AuthorizationPending(_)) => {}
        other => anyhow::bail!("expected authorization_pending: {other:?}"),
    }
    device_activation::decide(
        &f.provider,
        "203.0.113.9",
        &started.user_code,
        &f.user,
        &f.session(),
        true,
    )
    .await?;
    f.advance(5);
    let tokens = f.poll(&started.device_code).await?;
    ensure!(tokens.id_token.is_some() && tokens.refresh_token.is_some());
    f.advance(5);
    match f.poll(&started.device_code).await {
        Err(OAuthError::InvalidGrant(_)) => {}
        other => anyhow::bail!("a second redemption: {other:?}"),
    }
    Ok(())
}

/// The store's redemption is the one gate: of ten concurrent attempts on an approved code,
/// one wins.
async fn device_code_redeems_once_in_the_store(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let started = f.start("openid").await?;
    device_activation::decide(
        &f.provider,
        "203.0.113.9",
        &started.user_code,
        &f.user,
        &f.session(),
        true,
    )
    .await?;
    let hash = gatehouse_core::crypto::sha256_b64url(&started.device_code);
    let now = f.provider.now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (provider, hash) = (f.provider.clone(), hash.clone());
        tasks.spawn(async move {
            provider
                .store
                .redeem_device_authorization(&hash, now, "oagflow")
                .await
        });
    }
    let mut won = 0;
    while let Some(r) = tasks.join_next().await {
        won += usize::from(r??);
    }
    ensure!(won == 1, "{won} redemptions");
    Ok(())
}

/// Expired authorizations do not pile up: a new one clears those expired for an hour.
async fn expired_device_codes_are_purged(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let old = f.start("openid").await?;
    let hash = |code: &str| -> Result<String> {
        let n = device::normalize_user_code(code).context("our own code")?;
        Ok(device::user_code_hash(&n))
    };
    let find = |h: String| {
        let provider = f.provider.clone();
        async move { provider.store.find_device_by_user_code(&h).await }
    };
    f.advance(device::EXPIRES_IN + 1800);
    f.start("openid").await?;
    ensure!(
        find(hash(&old.user_code)?).await?.is_some(),
        "purged too soon"
    );
    f.advance(1801);
    let new = f.start("openid").await?;
    ensure!(find(hash(&old.user_code)?).await?.is_none(), "not purged");
    ensure!(find(hash(&new.user_code)?).await?.is_some());
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
    device_grant_through_the_registry,
    device_code_redeems_once_in_the_store,
    expired_device_codes_are_purged,
);
