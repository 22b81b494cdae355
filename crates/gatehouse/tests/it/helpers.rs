//! The spawned application, a browser-like client, and token helpers shared by every test.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use gatehouse::config::Settings;
use gatehouse::startup::Application;
use gatehouse_core::Provider;
use gatehouse_core::crypto::SecretBox;
use gatehouse_core::domain::{ApplicationType, Group, KeyStatus, TokenEndpointAuthMethod, User};
use gatehouse_core::provider::Clock;
use gatehouse_core::services::api_tokens::create_api_token;
use gatehouse_core::services::apps::{
    CreatedApp, NewOidcApp, assign_group_to_app, create_oidc_app,
};
use gatehouse_core::services::bootstrap::bootstrap;
use gatehouse_core::services::directory::find_group_by_id_or_name;
use gatehouse_core::services::groups::{add_group_member, create_group};
use gatehouse_core::services::system_log::Actor;
use gatehouse_core::services::users::{NewUser, create_user};
use gatehouse_store::test_support::{Backend, TestDatabase};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

pub const HTTP_TIMEOUT: Duration = Duration::from_secs(20);
pub const REDIRECT_URI: &str = "https://app.example.com/cb";
pub const LOGOUT_URI: &str = "https://app.example.com/signed-out";
pub const PASSWORD: &str = "correct horse battery staple";
pub const STATE: &str = "st-3f1c";
pub const NONCE: &str = "n-9a7e";
/// A valid RFC 7636 verifier (43+ unreserved characters).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-test";
pub const GENERIC_LOGIN_FAILURE: &str = "Unable to sign in";

// ---------------------------------------------------------------------------------------------
// Clock

/// A frozen clock starting at the real "now"; only [`TestClock::advance`] moves it.
pub struct TestClock {
    start: i64,
    offset: AtomicI64,
}

impl TestClock {
    fn new() -> Self {
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Self {
            start,
            offset: AtomicI64::new(0),
        }
    }

    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.start + self.offset.load(Ordering::SeqCst)
    }
}

// ---------------------------------------------------------------------------------------------
// Authorization servers

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Org,
    Default,
}

impl Server {
    pub const ALL: [Server; 2] = [Server::Org, Server::Default];

    pub fn issuer(self, base: &str) -> String {
        match self {
            Server::Org => base.to_owned(),
            Server::Default => format!("{base}/oauth2/default"),
        }
    }

    pub fn endpoint(self, base: &str, name: &str) -> String {
        match self {
            Server::Org => format!("{base}/oauth2/v1/{name}"),
            Server::Default => format!("{base}/oauth2/default/v1/{name}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The application under test

/// A running Gatehouse on `127.0.0.1:<random port>` with a fresh database, seeded with one
/// active user (`alice`) and one confidential web app assigned to `Everyone`.
pub struct TestApp {
    pub base: String,
    pub provider: Arc<Provider>,
    pub clock: Arc<TestClock>,
    pub alice: User,
    pub web: CreatedApp,
    /// The database and instance key, for a second process (the CLI) on the same data.
    pub database_url: String,
    pub encryption_key: String,
    /// `http://<metrics listener>` when the settings turned metrics on.
    pub metrics_base: Option<String>,
    server: tokio::task::JoinHandle<Result<()>>,
    _db: TestDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Settings of a test server on `database_url` with its data in `data_dir`: a free loopback
/// port, no TLS, no metrics, defaults elsewhere.
pub fn test_settings(database_url: &str, data_dir: std::path::PathBuf) -> Settings {
    Settings {
        data_dir,
        database_url: database_url.to_owned(),
        database_pool: Default::default(),
        bind: "127.0.0.1:0".into(),
        public_url: None,
        custom_domains: vec![],
        trusted_proxies: vec![],
        encryption_key: None,
        api_requests_per_minute: gatehouse_web::DEFAULT_API_REQUESTS_PER_MINUTE,
        security: Default::default(),
        tls: None,
        dev_jwks_uri_allow_loopback: false,
        branding: gatehouse_web::Branding::default(),
        metrics_bind: None,
        smtp: None,
        link_lifetimes: Default::default(),
        entra_tenant_id: None,
    }
}

pub async fn spawn_app(backend: Backend) -> Result<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with settings changed by `configure` first.
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Result<TestApp> {
    let db = TestDatabase::new(backend)
        .await
        .with_context(|| format!("test database on {}", backend.name()))?;
    let store = gatehouse_store::connect(&db.url).await?;
    let encryption_key = SecretBox::generate_key();
    let secrets = Arc::new(SecretBox::from_base64(&encryption_key)?);
    let clock = Arc::new(TestClock::new());
    let mut settings = test_settings(&db.url, std::env::temp_dir());
    configure(&mut settings);
    let mut provider = Provider::new(store, secrets);
    provider.clock = clock.clone();
    gatehouse::startup::apply_security_settings(&mut provider, &settings);
    bootstrap(&provider).await?;
    let provider = Arc::new(provider);
    let application = Application::with_provider(&settings, provider.clone()).await?;
    let addr: SocketAddr = application.local_addr()?;
    let scheme = application.scheme();
    let metrics_base = application.metrics_addr().map(|a| format!("http://{a}"));
    let server = tokio::spawn(application.run_until_stopped());

    let alice = create_user(
        &provider,
        &Actor::system(),
        NewUser {
            login: "alice@example.com".into(),
            email: "alice.liddell@example.com".into(),
            first_name: "Alice".into(),
            last_name: "Liddell".into(),
            display_name: None,
            password: Some(PASSWORD.into()),
            password_hash: None,
            activate: true,
        },
    )
    .await?;
    let everyone = find_group_by_id_or_name(&provider, "Everyone").await?;
    let web = new_web_app(&provider, "Web App").await?;
    assign_group_to_app(&provider, &web.app, &everyone).await?;
    let app = TestApp {
        base: format!("{scheme}://{addr}"),
        provider,
        clock,
        alice,
        web,
        database_url: db.url.clone(),
        encryption_key,
        metrics_base,
        server,
        _db: db,
    };
    app.wait_until_ready().await?;
    Ok(app)
}

/// A confidential web app (client_secret_basic) with the refresh grant, not yet assigned.
async fn new_web_app(provider: &Provider, label: &str) -> Result<CreatedApp> {
    Ok(create_oidc_app(
        provider,
        &Actor::system(),
        NewOidcApp {
            label: label.into(),
            application_type: ApplicationType::Web,
            redirect_uris: vec![REDIRECT_URI.into()],
            post_logout_redirect_uris: vec![LOGOUT_URI.into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            token_endpoint_auth_method: Some(TokenEndpointAuthMethod::ClientSecretBasic),
            initiate_login_uri: None,
            login_mode: None,
        },
    )
    .await?)
}

impl TestApp {
    pub fn issuer(&self, server: Server) -> String {
        server.issuer(&self.base)
    }

    pub fn endpoint(&self, server: Server, name: &str) -> String {
        server.endpoint(&self.base, name)
    }

    pub fn client_secret(&self) -> &str {
        self.web.client_secret.as_deref().unwrap_or_default()
    }

    pub fn client_id(&self) -> &str {
        &self.web.app.client_id
    }

    async fn wait_until_ready(&self) -> Result<()> {
        if self.base.starts_with("https://") {
            // The listener is bound before the server task starts, so connections queue until
            // it accepts; the TLS tests bring their own client that trusts the dev CA.
            return Ok(());
        }
        let client = http_client()?;
        for _ in 0..100 {
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the server at {} never became ready", self.base)
    }

    /// A confidential web app (client_secret_basic) with the refresh grant, not yet assigned.
    pub async fn create_web_app(&self, label: &str) -> Result<CreatedApp> {
        new_web_app(&self.provider, label).await
    }

    /// A single-page app (public client, PKCE required) assigned to `Everyone`.
    pub async fn create_spa(&self, label: &str) -> Result<CreatedApp> {
        let spa = create_oidc_app(
            &self.provider,
            &Actor::system(),
            NewOidcApp {
                label: label.into(),
                application_type: ApplicationType::Browser,
                redirect_uris: vec![REDIRECT_URI.into()],
                post_logout_redirect_uris: vec![LOGOUT_URI.into()],
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
                token_endpoint_auth_method: Some(TokenEndpointAuthMethod::None),
                initiate_login_uri: None,
                login_mode: None,
            },
        )
        .await?;
        let everyone = find_group_by_id_or_name(&self.provider, "Everyone").await?;
        assign_group_to_app(&self.provider, &spa.app, &everyone).await?;
        Ok(spa)
    }

    pub async fn create_group_with(&self, name: &str, members: &[&User]) -> Result<Group> {
        let group = create_group(&self.provider, &Actor::system(), name, "").await?;
        for user in members {
            add_group_member(&self.provider, &Actor::system(), &group, user).await?;
        }
        Ok(group)
    }

    pub async fn create_user(&self, login: &str) -> Result<User> {
        Ok(create_user(
            &self.provider,
            &Actor::system(),
            NewUser {
                login: login.into(),
                email: login.into(),
                first_name: "Bob".into(),
                last_name: "Builder".into(),
                display_name: None,
                password: Some(PASSWORD.into()),
                password_hash: None,
                activate: true,
            },
        )
        .await?)
    }

    /// Gives the `default` server a default scope, so `client_credentials` requests that name
    /// none get it (custom servers grant only scopes they have).
    pub async fn add_default_scope(&self, name: &str) -> Result<()> {
        use gatehouse_core::authz::model::{MetadataPublish, ScopeConsent};
        use gatehouse_core::services::auth_server_config::{ScopeSpec, create_scope};
        let spec = ScopeSpec {
            name: name.to_owned(),
            display_name: None,
            description: None,
            consent: ScopeConsent::Implicit,
            default: true,
            metadata_publish: MetadataPublish::NoClients,
            optional: false,
        };
        create_scope(&self.provider, "default", spec).await?;
        Ok(())
    }

    /// A management API token (`SSWS`), as `gatehouse token create` makes them, acting as an
    /// administrator (`it-admin@example.com`, made on first use; alice stays an end user).
    pub async fn api_token(&self) -> Result<String> {
        let admin = self.api_admin().await?;
        Ok(
            create_api_token(&self.provider, &Actor::system(), "it", &admin)
                .await?
                .value,
        )
    }

    /// The administrator [`Self::api_token`]'s tokens act as.
    pub async fn api_admin(&self) -> Result<User> {
        let login = "it-admin@example.com";
        let admin = match self.provider.store.find_user_by_login(login).await? {
            Some(admin) => admin,
            // A concurrent call (tests share an app across tasks) may make it first.
            None => match self.create_user(login).await {
                Ok(admin) => admin,
                Err(_) => (self.provider.store.find_user_by_login(login).await?)
                    .context("no API administrator")?,
            },
        };
        // Idempotent, so a caller that found the user before its role was given still gets it.
        gatehouse_core::services::admin_roles::grant_super_admin(&self.provider, &admin).await?;
        Ok(admin)
    }

    /// An active user with the `SUPER_ADMIN` role.
    pub async fn create_admin(&self, login: &str) -> Result<User> {
        let admin = self.create_user(login).await?;
        gatehouse_core::services::admin_roles::grant_super_admin(&self.provider, &admin).await?;
        Ok(admin)
    }

    /// A JSON request with an `Authorization` header (`None` sends none).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply> {
        let mut req = http_client()?
            .request(method, format!("{}{path}", self.base))
            .header("accept", "application/json");
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        Reply::read(req.send().await?).await
    }

    /// A `/api/v1` request with `Authorization: SSWS <token>` and an optional JSON body.
    pub async fn api_ssws(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Result<Reply> {
        self.api(method, path, Some(&format!("SSWS {token}")), body)
            .await
    }

    /// An authorize request for the seeded web app with the usual parameters.
    pub fn authz(&self, server: Server) -> Authz {
        Authz::new(&self.base, server, self.client_id())
    }

    /// Signs alice in through the hosted form and exchanges the code at the token endpoint.
    pub async fn sign_in_and_exchange(&self, server: Server, scope: &str) -> Result<Tokens> {
        let browser = Browser::new()?;
        let callback = browser
            .sign_in(
                &self.authz(server).scope(scope).url(),
                &self.alice.login,
                PASSWORD,
            )
            .await?;
        let reply = self
            .token(
                server,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &callback.code()?),
                    ("redirect_uri", REDIRECT_URI),
                ],
                Auth::Basic(self.client_id(), self.client_secret()),
            )
            .await?;
        Tokens::from_reply(reply)
    }

    /// The seeded web app's `client_secret_basic` credentials.
    pub fn basic(&self) -> Auth<'_> {
        Auth::Basic(self.client_id(), self.client_secret())
    }

    /// Assigns an app to the built-in `Everyone` group.
    pub async fn assign_everyone(&self, app: &CreatedApp) -> Result<()> {
        let everyone = find_group_by_id_or_name(&self.provider, "Everyone").await?;
        assign_group_to_app(&self.provider, &app.app, &everyone).await?;
        Ok(())
    }

    /// Signs alice in through the hosted form with this authorize request; returns the browser
    /// (holding the session cookie) and the callback.
    pub async fn sign_in_with(&self, authz: &Authz) -> Result<(Browser, Callback)> {
        let browser = Browser::new()?;
        let callback = browser
            .sign_in(&authz.url(), &self.alice.login, PASSWORD)
            .await?;
        Ok((browser, callback))
    }

    /// The authorization-code grant with [`REDIRECT_URI`] and any extra parameters.
    pub async fn exchange(
        &self,
        server: Server,
        code: &str,
        extra: &[(&str, &str)],
        auth: Auth<'_>,
    ) -> Result<Reply> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
        ];
        form.extend_from_slice(extra);
        self.token(server, &form, auth).await
    }

    /// The refresh-token grant, optionally asking for `scope`.
    pub async fn refresh(
        &self,
        server: Server,
        refresh_token: &str,
        scope: Option<&str>,
        auth: Auth<'_>,
    ) -> Result<Reply> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token(server, &form, auth).await
    }

    pub async fn revoke(&self, server: Server, token: &str, auth: Auth<'_>) -> Result<Reply> {
        self.post_form(server, "revoke", &[("token", token)], auth)
            .await
    }

    /// `active` of an introspection with the seeded web app's credentials.
    pub async fn is_active(&self, server: Server, token: &str) -> Result<bool> {
        let body = self.introspect(server, token).await?;
        body["active"]
            .as_bool()
            .with_context(|| format!("no `active` in {body}"))
    }

    /// `POST` a form to `/v1/{name}` of the server with the given client authentication.
    pub async fn post_form(
        &self,
        server: Server,
        name: &str,
        form: &[(&str, &str)],
        auth: Auth<'_>,
    ) -> Result<Reply> {
        let mut form: Vec<(&str, &str)> = form.to_vec();
        let mut req = http_client()?.post(self.endpoint(server, name));
        match auth {
            Auth::None => {}
            Auth::Basic(id, secret) => {
                let creds = format!("{}:{}", form_encode(id), form_encode(secret));
                req = req.header("authorization", format!("Basic {}", STANDARD.encode(creds)));
            }
            Auth::BasicIdOnly(id) => {
                req = req.header("authorization", format!("Basic {}", STANDARD.encode(id)));
            }
            Auth::Post(id, secret) => {
                form.push(("client_id", id));
                form.push(("client_secret", secret));
            }
            Auth::Public(id) => form.push(("client_id", id)),
        }
        let body = serde_urlencoded::to_string(&form)?;
        Reply::read(
            req.header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await?,
        )
        .await
    }

    pub async fn token(
        &self,
        server: Server,
        form: &[(&str, &str)],
        auth: Auth<'_>,
    ) -> Result<Reply> {
        self.post_form(server, "token", form, auth).await
    }

    /// Introspects with the seeded web app's credentials.
    pub async fn introspect(&self, server: Server, token: &str) -> Result<Value> {
        let reply = self
            .post_form(
                server,
                "introspect",
                &[("token", token)],
                Auth::Basic(self.client_id(), self.client_secret()),
            )
            .await?;
        ensure!(reply.status == StatusCode::OK, "introspect: {reply:?}");
        reply.json()
    }

    pub async fn userinfo(&self, server: Server, access_token: &str) -> Result<Reply> {
        let res = http_client()?
            .get(self.endpoint(server, "userinfo"))
            .bearer_auth(access_token)
            .send()
            .await?;
        Reply::read(res).await
    }

    pub async fn get(&self, url: &str) -> Result<Reply> {
        Reply::read(http_client()?.get(url).send().await?).await
    }

    pub async fn jwks(&self, server: Server) -> Result<Value> {
        let reply = self.get(&self.endpoint(server, "keys")).await?;
        ensure!(reply.status == StatusCode::OK, "keys: {reply:?}");
        reply.json()
    }

    /// Verifies an RS256 JWT against the server's published keys, its issuer and audience.
    pub async fn verify_jwt(&self, server: Server, token: &str, audience: &str) -> Result<Value> {
        let header = jsonwebtoken::decode_header(token)?;
        let kid = header.kid.context("the token has no kid")?;
        let jwks = self.jwks(server).await?;
        let jwk = jwks["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
            .with_context(|| format!("kid {kid} is not in the JWKS"))?;
        let key = jsonwebtoken::DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap_or_default(),
            jwk["e"].as_str().unwrap_or_default(),
        )?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[self.issuer(server)]);
        Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)?.claims)
    }
}

/// Client authentication at the token, introspection and revocation endpoints.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
    /// `Authorization: Basic b64(client_id)`, no colon (okta-auth-js for public clients).
    BasicIdOnly(&'a str),
    Post(&'a str, &'a str),
    /// `client_id` in the body only.
    Public(&'a str),
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A plain HTTP client: no redirects, no cookies, bounded time.
pub fn http_client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .build()?)
}

// ---------------------------------------------------------------------------------------------
// Authorize requests

#[derive(Clone, Debug)]
pub struct Authz {
    base: String,
    server: Server,
    params: Vec<(String, String)>,
}

impl Authz {
    pub fn new(base: &str, server: Server, client_id: &str) -> Self {
        let params = [
            ("client_id", client_id),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid profile email"),
            ("state", STATE),
            ("nonce", NONCE),
        ];
        Self {
            base: base.to_owned(),
            server,
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// Sets (replacing) a parameter.
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.params.retain(|(k, _)| k != key);
        self.params.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn remove(mut self, key: &str) -> Self {
        self.params.retain(|(k, _)| k != key);
        self
    }

    pub fn scope(self, scope: &str) -> Self {
        self.set("scope", scope)
    }

    /// Adds an S256 challenge for [`VERIFIER`].
    pub fn pkce(self) -> Self {
        self.set("code_challenge", &s256(VERIFIER))
            .set("code_challenge_method", "S256")
    }

    pub fn url(&self) -> String {
        let query = serde_urlencoded::to_string(&self.params).unwrap_or_default();
        format!("{}?{query}", self.server.endpoint(&self.base, "authorize"))
    }
}

pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Responses

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body: String = self.body.chars().take(2000).collect();
        write!(f, "{} {:?} {body}", self.status, self.headers)
    }
}

impl Reply {
    pub async fn read(res: reqwest::Response) -> Result<Self> {
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await?;
        Ok(Self {
            status,
            headers,
            body,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<Url> {
        self.header("location").and_then(|l| Url::parse(l).ok())
    }

    pub fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.body).with_context(|| format!("not JSON: {self:?}"))
    }

    /// The OAuth `error` code of a JSON error body.
    pub fn oauth_error(&self) -> Option<String> {
        self.json().ok()?["error"].as_str().map(str::to_owned)
    }

    /// A JSON OAuth error with this status and `error` code, never cacheable.
    pub fn expect_oauth_error(&self, status: u16, code: &str) -> Result<()> {
        ensure!(
            self.status.as_u16() == status,
            "expected {status} {code}: {self:?}"
        );
        ensure!(
            self.oauth_error().as_deref() == Some(code),
            "expected {code}: {self:?}"
        );
        let body = self.json()?;
        ensure!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "Okta's clients need error_description: {self:?}"
        );
        ensure!(self.header("cache-control") == Some("no-store"), "{self:?}");
        Ok(())
    }

    /// The hosted sign-in form, if this page is one.
    pub fn login_form(&self) -> Option<LoginForm> {
        if !self.body.contains("<form method=\"post\"") {
            return None;
        }
        Some(LoginForm {
            action: html_unescape(&attribute_after(
                &self.body,
                "<form method=\"post\"",
                "action",
            )?),
            tx: hidden_input(&self.body, "tx")?,
            csrf: hidden_input(&self.body, "csrf")?,
        })
    }

    /// The `Set-Cookie` value set for `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                let (pair, _) = c.split_once(';').unwrap_or((c, ""));
                let (k, v) = pair.split_once('=')?;
                (k.trim() == name).then(|| v.trim().to_owned())
            })
    }

    /// An HTML error page (400, no redirect) naming this OAuth error code.
    pub fn assert_error_page(&self, code: &str) {
        assert_eq!(self.status, StatusCode::BAD_REQUEST, "{self:?}");
        assert!(
            self.header("location").is_none(),
            "must not redirect: {self:?}"
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("text/html")),
            "{self:?}"
        );
        assert!(
            self.body.contains(code),
            "page should name {code}: {self:?}"
        );
        assert!(self.login_form().is_none(), "{self:?}");
    }
}

#[derive(Clone, Debug)]
pub struct LoginForm {
    pub action: String,
    pub tx: String,
    pub csrf: String,
}

/// The value of `attr` in the first tag that starts with `tag_start`.
fn attribute_after(html: &str, tag_start: &str, attr: &str) -> Option<String> {
    let start = html.find(tag_start)?;
    let tag_end = start + html[start..].find('>')?;
    let tag = &html[start..tag_end];
    let marker = format!("{attr}=\"");
    let at = tag.find(&marker)? + marker.len();
    let len = tag[at..].find('"')?;
    Some(tag[at..at + len].to_owned())
}

/// The value of `<input … name="{name}" value="…">`.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = html.find(&marker)?;
    let tag_start = html[..at].rfind('<')?;
    attribute_after(&html[tag_start..], "<input", "value").map(|v| html_unescape(&v))
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&#47;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The redirect back to the client.
#[derive(Clone, Debug)]
pub struct Callback {
    pub url: Url,
}

impl Callback {
    pub fn param(&self, name: &str) -> Option<String> {
        self.url
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn code(&self) -> Result<String> {
        self.param("code")
            .with_context(|| format!("no code in {}", self.url))
    }

    /// An error sent back to [`REDIRECT_URI`] with `state`, no code, and no `iss` (as Okta's
    /// error responses; RFC 9207 is a server setting, see [`Callback::expect_error_with_iss`]).
    pub fn expect_error(&self, code: &str) -> Result<()> {
        self.expect_error_with_iss(code, None)
    }

    /// [`Callback::expect_error`] with `iss` = `issuer` (or, for `None`, none).
    pub fn expect_error_with_iss(&self, code: &str, issuer: Option<&str>) -> Result<()> {
        ensure!(self.target() == REDIRECT_URI, "{}", self.url);
        ensure!(
            self.param("error").as_deref() == Some(code),
            "expected error={code}: {}",
            self.url
        );
        ensure!(
            self.param("error_description")
                .is_some_and(|d| !d.is_empty()),
            "{}",
            self.url
        );
        ensure!(
            self.param("state").as_deref() == Some(STATE),
            "{}",
            self.url
        );
        ensure!(self.param("iss").as_deref() == issuer, "{}", self.url);
        ensure!(self.param("code").is_none(), "{}", self.url);
        Ok(())
    }

    /// The callback without its query, to compare with the registered redirect URI.
    pub fn target(&self) -> String {
        let mut u = self.url.clone();
        u.set_query(None);
        u.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// A browser

/// Cookie store on, redirects off, like a browser whose every hop the test drives.
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
}

impl Browser {
    pub fn new() -> Result<Self> {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .timeout(HTTP_TIMEOUT)
            .build()?;
        Ok(Self { client, jar })
    }

    pub async fn get(&self, url: &str) -> Result<Reply> {
        Reply::read(self.client.get(url).send().await?).await
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<Reply> {
        Reply::read(self.client.post(url).form(form).send().await?).await
    }

    /// Opens the authorize URL and expects the sign-in form.
    pub async fn open_login(&self, authorize_url: &str) -> Result<LoginForm> {
        let page = self.get(authorize_url).await?;
        ensure!(
            page.status == StatusCode::OK,
            "expected the sign-in form: {page:?}"
        );
        ensure!(
            page.set_cookie("gh_csrf").is_some(),
            "the form sets no gh_csrf cookie: {page:?}"
        );
        page.login_form()
            .with_context(|| format!("no sign-in form: {page:?}"))
    }

    pub async fn submit(&self, form: &LoginForm, username: &str, password: &str) -> Result<Reply> {
        self.post_form(
            &form.action,
            &[
                ("tx", &form.tx),
                ("csrf", &form.csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// The whole hosted sign-in: form, credentials, redirect back to the client.
    pub async fn sign_in(
        &self,
        authorize_url: &str,
        username: &str,
        password: &str,
    ) -> Result<Callback> {
        let form = self.open_login(authorize_url).await?;
        let reply = self.submit(&form, username, password).await?;
        ensure!(
            reply.status == StatusCode::FOUND,
            "sign-in did not redirect: {reply:?}"
        );
        ensure!(
            reply.set_cookie("gh_sid").is_some_and(|s| !s.is_empty()),
            "sign-in set no gh_sid session cookie: {reply:?}"
        );
        reply
            .location()
            .map(|url| Callback { url })
            .with_context(|| format!("no Location: {reply:?}"))
    }

    /// An authorize request that must be answered with a redirect (SSO or an error).
    pub async fn authorize_redirect(&self, authorize_url: &str) -> Result<Callback> {
        let reply = self.get(authorize_url).await?;
        ensure!(
            reply.status == StatusCode::FOUND,
            "expected a redirect: {reply:?}"
        );
        reply
            .location()
            .map(|url| Callback { url })
            .with_context(|| format!("no Location: {reply:?}"))
    }

    pub fn cookie(&self, base: &str, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore as _;
        let url = Url::parse(base).ok()?;
        let header = self.jar.cookies(&url)?;
        header.to_str().ok()?.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Clone, Debug)]
pub struct Tokens {
    pub response: Value,
    pub headers: HeaderMap,
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

impl Tokens {
    pub fn from_reply(reply: Reply) -> Result<Self> {
        ensure!(
            reply.status == StatusCode::OK,
            "token request failed: {reply:?}"
        );
        let response = reply.json()?;
        let field = |k: &str| response[k].as_str().map(str::to_owned);
        Ok(Self {
            access_token: field("access_token").context("no access_token")?,
            id_token: field("id_token"),
            refresh_token: field("refresh_token"),
            headers: reply.headers,
            response,
        })
    }

    pub fn id_token(&self) -> Result<&str> {
        self.id_token.as_deref().context("no id_token")
    }
}

/// The decoded header and payload of a compact JWS, unverified.
pub fn jwt_parts(token: &str) -> Result<(Value, Value)> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        bail!("not a compact JWS: {token}");
    };
    let decode =
        |s: &str| -> Result<Value> { Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s)?)?) };
    Ok((decode(h)?, decode(p)?))
}

/// Replaces one character in the middle of the payload segment.
pub fn tamper_payload(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let Some(payload) = parts.get(1) else {
        return token.to_owned();
    };
    let mut chars: Vec<char> = payload.chars().collect();
    let i = chars.len() / 2;
    if let Some(c) = chars.get_mut(i) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    let payload: String = chars.into_iter().collect();
    format!("{}.{payload}.{}", parts[0], parts.get(2).unwrap_or(&""))
}

/// A token with `header` and `claims`, signed with a freshly generated RSA key that the server
/// under test has never seen (made by a throwaway Gatehouse on an in-memory database, once per
/// test process: key generation is the slow part).
pub async fn sign_with_foreign_key(header_kid: &str, claims: &Value) -> Result<String> {
    static FOREIGN_KEY: tokio::sync::OnceCell<jsonwebtoken::EncodingKey> =
        tokio::sync::OnceCell::const_new();
    let encoding = FOREIGN_KEY.get_or_try_init(foreign_key).await?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(header_kid.to_owned());
    Ok(jsonwebtoken::encode(&header, claims, encoding)?)
}

async fn foreign_key() -> Result<jsonwebtoken::EncodingKey> {
    let store = gatehouse_store::connect("sqlite::memory:").await?;
    let encryption_key = SecretBox::generate_key();
    let secrets = Arc::new(SecretBox::from_base64(&encryption_key)?);
    let foreign = Provider::new(store, secrets.clone());
    bootstrap(&foreign).await?;
    let key = foreign
        .store
        .list_signing_keys("default")
        .await?
        .into_iter()
        .find(|k| k.status == KeyStatus::Active)
        .context("the throwaway server has no active key")?;
    // The sealing context is the key ring's (`signing-key:{kid}`).
    let der = secrets.open(&format!("signing-key:{}", key.kid), &key.private_key_sealed)?;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(der)
    );
    Ok(jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())?)
}

/// An unsigned (`alg: none`) token with the given header kid and claims.
pub fn unsigned_token(kid: &str, claims: &Value) -> String {
    let header = serde_json::json!({"alg": "none", "kid": kid});
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

// ---------------------------------------------------------------------------------------------
// Documents a client publishes for the server to fetch

/// What a client publishes for the server to fetch (request objects, the sector document),
/// served over http on 127.0.0.1 (fetched under `dev_jwks_uri_allow_loopback`); counts the
/// requests it gets.
#[derive(Clone)]
pub struct DocumentServer {
    docs: Arc<std::sync::Mutex<std::collections::HashMap<String, (&'static str, String)>>>,
    hits: Arc<std::sync::atomic::AtomicUsize>,
    addr: std::net::SocketAddr,
}

impl DocumentServer {
    pub async fn start() -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let docs = DocumentServer {
            docs: Arc::default(),
            hits: Arc::default(),
            addr: listener.local_addr()?,
        };
        let router = axum::Router::new()
            .fallback(serve_document)
            .with_state(docs.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(docs)
    }

    /// Publishes `body` at `path` and returns its URL.
    pub fn publish(&self, path: &str, content_type: &'static str, body: &str) -> String {
        if let Ok(mut d) = self.docs.lock() {
            d.insert(path.to_owned(), (content_type, body.to_owned()));
        }
        self.url(path)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }

    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn serve_document(
    axum::extract::State(docs): axum::extract::State<DocumentServer>,
    uri: axum::http::Uri,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    docs.hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let found = docs
        .docs
        .lock()
        .ok()
        .and_then(|d| d.get(uri.path()).cloned());
    match found {
        Some((content_type, body)) => {
            ([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response()
        }
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}
