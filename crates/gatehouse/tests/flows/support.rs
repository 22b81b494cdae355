//! The fixture every flow starts from: a bootstrapped org on a fresh database with a fixed
//! clock, one user, and one app of each kind; and the calls a flow makes.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::{Context as _, Result, bail};
use gatehouse_core::Provider;
use gatehouse_core::audit::ClientInfo;
use gatehouse_core::crypto::SecretBox;
use gatehouse_core::domain::{
    ApplicationType, ConfigItem as _, MetadataPublish, OAuthScope, ScopeConsent,
    TokenEndpointAuthMethod, User,
};
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::oauth2::authorize::{
    AfterSignIn, AuthorizationResponse, AuthorizeOutcome, AuthorizeParams, LoginCookies, authorize,
    complete_login,
};
use gatehouse_core::oauth2::grants::{self, DEVICE_CODE, GrantParams, TokenParams};
use gatehouse_core::oauth2::pkce;
use gatehouse_core::oidc::tokens::TokenResponse;
use gatehouse_core::provider::{Clock, ServerContext};
use gatehouse_core::services::apps::{
    CreatedApp, NewOidcApp, assign_group_to_app, create_oidc_app,
};
use gatehouse_core::services::bootstrap::bootstrap;
use gatehouse_core::services::directory::find_group_by_id_or_name;
use gatehouse_core::services::system_log::Actor;
use gatehouse_core::services::users::{NewUser, create_user};
use gatehouse_store::test_support::{Backend, TestDatabase};

pub const ORIGIN: &str = "https://id.example.com";
pub const REDIRECT_URI: &str = "https://app.example/cb";
pub const LOGIN: &str = "dana@example.com";
const PASSWORD: &str = "correct horse battery staple";
/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub struct FixedClock(AtomicI64);

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct Flow {
    pub provider: Arc<Provider>,
    clock: Arc<FixedClock>,
    /// The org authorization server.
    pub server: ServerContext,
    /// The `default` custom server, as bootstrap seeds it (a policy allowing every client).
    pub default: ServerContext,
    pub user: User,
    /// A native app for the device grant (public).
    pub tv: CreatedApp,
    /// A confidential web app: authorization_code and refresh_token, static refresh tokens.
    pub web: CreatedApp,
    /// A single-page app: public, PKCE required, rotating refresh tokens.
    pub spa: CreatedApp,
    /// A service app with a client secret: client_credentials.
    pub svc: CreatedApp,
    _db: TestDatabase,
}

pub async fn setup(backend: Backend) -> Result<Flow> {
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
            login: LOGIN.into(),
            email: LOGIN.into(),
            first_name: "Dana".into(),
            last_name: "Scully".into(),
            display_name: None,
            password: Some(PASSWORD.into()),
            password_hash: None,
            activate: true,
        },
    )
    .await?;
    let tv = app(
        &provider,
        "Kiosk",
        ApplicationType::Native,
        &[],
        &[DEVICE_CODE, "refresh_token"],
        TokenEndpointAuthMethod::None,
    )
    .await?;
    let web = web_app(&provider, "Portal").await?;
    let spa = app(
        &provider,
        "Dashboard",
        ApplicationType::Browser,
        &[REDIRECT_URI],
        &["authorization_code", "refresh_token"],
        TokenEndpointAuthMethod::None,
    )
    .await?;
    let svc = app(
        &provider,
        "Inventory sync",
        ApplicationType::Service,
        &[],
        &["client_credentials"],
        TokenEndpointAuthMethod::ClientSecretBasic,
    )
    .await?;
    let server = provider.server_context(ORIGIN, None).await?;
    let default = provider.server_context(ORIGIN, Some("default")).await?;
    Ok(Flow {
        provider: Arc::new(provider),
        clock,
        server,
        default,
        user,
        tv,
        web,
        spa,
        svc,
        _db: db,
    })
}

/// A confidential web app for the code flow, assigned to everyone.
pub async fn web_app(provider: &Provider, label: &str) -> Result<CreatedApp> {
    app(
        provider,
        label,
        ApplicationType::Web,
        &[REDIRECT_URI],
        &["authorization_code", "refresh_token"],
        TokenEndpointAuthMethod::ClientSecretBasic,
    )
    .await
}

async fn app(
    provider: &Provider,
    label: &str,
    application_type: ApplicationType,
    redirect_uris: &[&str],
    grant_types: &[&str],
    auth: TokenEndpointAuthMethod,
) -> Result<CreatedApp> {
    let created = create_oidc_app(
        provider,
        &Actor::system(),
        NewOidcApp {
            label: label.into(),
            application_type,
            redirect_uris: redirect_uris.iter().map(|u| (*u).to_owned()).collect(),
            post_logout_redirect_uris: vec![],
            grant_types: grant_types.iter().map(|g| (*g).to_owned()).collect(),
            token_endpoint_auth_method: Some(auth),
            initiate_login_uri: None,
            login_mode: None,
        },
    )
    .await?;
    let everyone = find_group_by_id_or_name(provider, "Everyone").await?;
    assign_group_to_app(provider, &created.app, &everyone).await?;
    Ok(created)
}

/// A token request from `client_id` (with `secret` in the form, if any); `grant_type` is taken
/// from `pairs`.
pub fn token_params(client_id: &str, secret: Option<&str>, pairs: &[(&str, &str)]) -> TokenParams {
    let grant_type = pairs
        .iter()
        .find(|(k, _)| *k == "grant_type")
        .map(|(_, v)| (*v).to_owned());
    TokenParams {
        grant_type,
        client_id: Some(client_id.to_owned()),
        client_secret: secret.map(str::to_owned),
        grant: GrantParams::from_pairs(pairs.iter().copied().filter(|(k, _)| *k != "grant_type")),
        ..TokenParams::default()
    }
}

/// An authorize request for the code flow, with an S256 challenge of [`VERIFIER`].
pub fn code_request(client: &CreatedApp, scope: &str) -> AuthorizeParams {
    AuthorizeParams {
        client_id: Some(client.app.client_id.clone()),
        redirect_uri: Some(REDIRECT_URI.into()),
        response_type: Some("code".into()),
        scope: Some(scope.into()),
        state: Some("st4te".into()),
        code_challenge: Some(pkce::s256_challenge(VERIFIER)),
        code_challenge_method: Some("S256".into()),
        ..AuthorizeParams::default()
    }
}

/// The value of a response parameter.
pub fn param<'a>(response: &'a AuthorizationResponse, name: &str) -> Option<&'a str> {
    response
        .params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl Flow {
    /// Runs the authorize request, signs the user in on the sign-in page it leads to, and
    /// returns where the browser is sent.
    pub async fn sign_in(
        &self,
        server: &ServerContext,
        request: AuthorizeParams,
    ) -> Result<AuthorizationResponse> {
        let prompt = match authorize(&self.provider, server, request, None, None).await {
            AuthorizeOutcome::Login(prompt) => prompt,
            other => bail!("expected the sign-in page: {other:?}"),
        };
        let done = complete_login(
            &self.provider,
            &ClientInfo::default(),
            &prompt.transaction_id,
            &prompt.csrf_token,
            LoginCookies {
                csrf: Some(&prompt.csrf_token),
                device: None,
            },
            LOGIN,
            PASSWORD,
        )
        .await
        .map_err(|e| anyhow::anyhow!("sign-in: {e:?}"))?;
        match done.next {
            AfterSignIn::Respond(response) => Ok(response),
            AfterSignIn::Consent(_) => bail!("unexpected consent page"),
            AfterSignIn::SecondFactor(_) => bail!("unexpected second-factor step"),
        }
    }

    /// A code for `client` on `server` (PKCE with [`VERIFIER`]).
    pub async fn code(
        &self,
        server: &ServerContext,
        client: &CreatedApp,
        scope: &str,
    ) -> Result<String> {
        let response = self.sign_in(server, code_request(client, scope)).await?;
        param(&response, "code")
            .map(str::to_owned)
            .with_context(|| format!("no code: {response:?}"))
    }

    /// A token request through the registry, as `client` (its secret, if any, in the form).
    pub async fn token(
        &self,
        server: &ServerContext,
        client: &CreatedApp,
        pairs: &[(&str, &str)],
    ) -> Result<TokenResponse, OAuthError> {
        let p = token_params(
            &client.app.client_id,
            client.client_secret.as_deref(),
            pairs,
        );
        grants::token(&self.provider, server, p, None, None).await
    }

    /// Redeems `code` as `client` with the registered redirect URI and [`VERIFIER`].
    pub async fn redeem(
        &self,
        server: &ServerContext,
        client: &CreatedApp,
        code: &str,
    ) -> Result<TokenResponse, OAuthError> {
        self.token(
            server,
            client,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
    }

    pub async fn refresh(
        &self,
        server: &ServerContext,
        client: &CreatedApp,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let mut pairs = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        pairs.extend(scope.map(|s| ("scope", s)));
        self.token(server, client, &pairs).await
    }

    /// Whether the access token is live on `server` (signature, expiry, its record).
    pub async fn access_token_live(&self, server: &ServerContext, token: &str) -> bool {
        gatehouse_core::oauth2::introspect::validate_access_token(&self.provider, server, token)
            .await
            .is_ok()
    }

    /// Adds a scope to the `default` server (`default`: granted to client_credentials requests
    /// that name none).
    pub async fn add_default_server_scope(&self, name: &str, default: bool) -> Result<()> {
        let now = self.provider.now();
        let scope = OAuthScope {
            id: gatehouse_core::crypto::okta_id("scp"),
            name: name.into(),
            display_name: None,
            description: None,
            consent: ScopeConsent::Implicit,
            default,
            metadata_publish: MetadataPublish::AllClients,
            system: false,
            optional: false,
            created: now,
            last_updated: now,
        };
        self.provider
            .store
            .create_auth_server_object(&scope.to_object(&self.default.server.id))
            .await?;
        self.provider
            .invalidate_auth_server(&self.default.server.id);
        Ok(())
    }

    pub fn advance(&self, secs: i64) {
        self.clock.0.fetch_add(secs, Ordering::SeqCst);
    }
}

/// The error of a refused request, or a description of what came instead.
pub fn refused<T: std::fmt::Debug>(result: Result<T, OAuthError>) -> Result<OAuthError> {
    match result {
        Err(e) => Ok(e),
        Ok(v) => bail!("expected a refusal, got {v:?}"),
    }
}
