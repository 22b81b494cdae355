//! The engine's entry point: what every protocol operation needs (storage, keys, secrets, clock,
//! lifetimes) and the authorization-server context of a request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::crypto::SecretBox;
use crate::domain::{AuthServer, AuthServerKind, IssuerMode, ORG_AUTH_SERVER_ID, Timestamp};
use crate::keys::KeyRing;
use crate::oauth2::OAuthError;
use crate::store::Store;

/// Token and session lifetimes, in seconds. Defaults follow Okta's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifetimes {
    pub authorization_code: i64,
    pub access_token: i64,
    pub id_token: i64,
    pub refresh_token: i64,
    pub session: i64,
    pub login_transaction: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            authorization_code: 300,
            access_token: 3600,
            id_token: 3600,
            refresh_token: 90 * 24 * 3600,
            session: 2 * 3600,
            login_transaction: 30 * 60,
        }
    }
}

/// Where "now" comes from, so tests can move time (expired codes, `max_age`).
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
}

/// Okta's default lifetime of an activation link.
pub const DEFAULT_ACTIVATION_SECS: i64 = 7 * 86_400;
/// Okta's default lifetime of a reset-password link (the password policy's recovery token).
pub const DEFAULT_RESET_SECS: i64 = 3_600;

/// How long links stay usable (`activation_link_hours`, `reset_link_minutes` in the config; see
/// [`crate::services::user_links`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkLifetimes {
    pub activation: i64,
    pub reset: i64,
}

impl Default for LinkLifetimes {
    fn default() -> Self {
        Self {
            activation: DEFAULT_ACTIVATION_SECS,
            reset: DEFAULT_RESET_SECS,
        }
    }
}

pub struct Provider {
    pub store: Arc<dyn Store>,
    pub keys: Arc<KeyRing>,
    pub secrets: Arc<SecretBox>,
    pub lifetimes: Lifetimes,
    pub clock: Arc<dyn Clock>,
    /// Okta's password-policy lockout (consecutive failed sign-ins).
    pub lockout: crate::services::lockout_policy::LockoutPolicy,
    /// The org's id, read once from the database (it never changes).
    pub(crate) org_id: tokio::sync::OnceCell<String>,
    /// Authorization servers read recently, so that a request does not read its server again.
    servers: RwLock<HashMap<String, (Instant, AuthServer)>>,
    /// Serialized discovery documents by (document, server, origin).
    pub(crate) discovery_cache: crate::cache::DocumentCache,
    /// Custom servers' scopes, claims and policies read recently.
    pub(crate) authz_configs: crate::cache::ConfigCache,
    /// Client key sets fetched from `jwks_uri` (the fetcher is installed by the binary).
    pub remote_jwks: crate::oauth2::remote_jwks::RemoteJwks,
    /// The LDAP directory sign-ins are delegated to (installed by the binary when configured).
    pub ldap: crate::services::ldap::directory::DirectorySlot,
    /// Calls to upstream identity providers' token and userinfo endpoints (installed by the binary).
    pub upstream: crate::services::idps::upstream::UpstreamSlot,
    /// Asks a source org about imported users' passwords (installed by the binary).
    pub password_source: crate::services::password_source::PasswordSource,
    /// The console's org import: the importer (installed by the binary) and this node's job.
    pub org_imports: crate::services::org_import::OrgImports,
    /// Outgoing mail (installed by the binary when SMTP is configured).
    pub mail: crate::services::mail::MailSlot,
    /// How long activation and reset-password links stay usable.
    pub link_lifetimes: LinkLifetimes,
    /// The origins CORS allows (trusted origins and browser apps' redirect URIs).
    pub(crate) cors_origins: crate::cache::CorsOriginCache,
    /// The org URL and custom domains the issuers are built from.
    pub domains: Domains,
    /// Clients read recently by client authentication.
    pub(crate) clients: crate::oauth2::client_cache::ClientCache,
    /// The tenant id of the Entra-compatible paths (`entra_tenant_id`); `None`: derived from
    /// the org id (see [`crate::oidc::entra`]).
    pub entra_tenant_id: Option<String>,
    /// Wakes this node's back-channel logout worker when a session ends here (other nodes'
    /// workers find the queued logouts on their next poll).
    pub logout_wake: tokio::sync::Notify,
    /// The last System Log `published` this node stamped ([`crate::audit::now_ms`]).
    pub(crate) last_published_ms: std::sync::atomic::AtomicI64,
}

/// The public URLs this org answers on, from the configuration: what Okta calls the org URL
/// (`public_url`) and its custom URL domains (`custom_domains`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Domains {
    /// `public_url` without a trailing slash; `None` (development): the request's origin.
    pub org_url: Option<String>,
    /// Custom domains as origins (`https://id.example.com`); the first is the CUSTOM_URL issuer.
    pub custom: Vec<String>,
}

impl Domains {
    /// The custom domain CUSTOM_URL servers issue from, if one is configured.
    pub fn custom_url(&self) -> Option<&str> {
        self.custom.first().map(String::as_str)
    }

    /// The configured custom domain whose host is `host` (a request's `Host`, ASCII case
    /// ignored). Only these, and the org URL, are ever used in place of the org URL: an
    /// arbitrary `Host` header must not choose an issuer.
    pub fn custom_domain_for_host(&self, host: &str) -> Option<&str> {
        self.custom
            .iter()
            .find(|d| {
                d.split_once("://")
                    .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
            })
            .map(String::as_str)
    }

    /// Where a server's issuer lives (Okta's `issuerMode`), for a request that came in on
    /// `request_origin` (already one of the org's own origins, see `gatehouse-web`'s `Origin`):
    /// ORG_URL the org URL, CUSTOM_URL the custom domain, DYNAMIC the request's own origin.
    /// Without a configured org URL (development) the request's origin stands in for it, and a
    /// CUSTOM_URL server whose custom domain was removed from the configuration falls back to it.
    pub fn issuer_origin<'a>(&'a self, mode: IssuerMode, request_origin: &'a str) -> &'a str {
        let org_url = self.org_url.as_deref().unwrap_or(request_origin);
        match mode {
            IssuerMode::Dynamic => request_origin,
            IssuerMode::OrgUrl => org_url,
            IssuerMode::CustomUrl => self.custom_url().unwrap_or(org_url),
        }
    }

    /// The issuer of `server` for a request that came in on `request_origin`: `https://host`
    /// for the org server, `https://host/oauth2/{id}` for a custom one.
    pub fn issuer(&self, server: &AuthServer, request_origin: &str) -> String {
        let base = self
            .issuer_origin(server.issuer_mode, request_origin.trim_end_matches('/'))
            .trim_end_matches('/');
        match server.kind {
            AuthServerKind::Org => base.to_owned(),
            AuthServerKind::Custom => format!("{base}/oauth2/{}", server.id),
        }
    }
}

pub use crate::cache::SERVER_CACHE_TTL;

impl Provider {
    pub fn new(store: Arc<dyn Store>, secrets: Arc<SecretBox>) -> Self {
        let keys = Arc::new(KeyRing::new(store.clone(), secrets.clone()));
        Self {
            store,
            keys,
            secrets,
            lifetimes: Lifetimes::default(),
            clock: Arc::new(SystemClock),
            lockout: Default::default(),
            org_id: tokio::sync::OnceCell::new(),
            servers: RwLock::new(HashMap::new()),
            discovery_cache: Default::default(),
            authz_configs: Default::default(),
            remote_jwks: Default::default(),
            ldap: Default::default(),
            upstream: Default::default(),
            password_source: Default::default(),
            org_imports: Default::default(),
            mail: Default::default(),
            link_lifetimes: Default::default(),
            cors_origins: Default::default(),
            domains: Domains::default(),
            clients: Default::default(),
            entra_tenant_id: None,
            logout_wake: tokio::sync::Notify::new(),
            last_published_ms: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// The authorization server `id`, from this node's short-lived cache or the database.
    /// Only servers that exist are cached, so the cache is as small as the server list.
    pub async fn find_auth_server(&self, id: &str) -> Result<Option<AuthServer>, OAuthError> {
        let cached = self.servers.read().ok().and_then(|m| {
            m.get(id)
                .filter(|(at, _)| at.elapsed() < SERVER_CACHE_TTL)
                .map(|(_, s)| s.clone())
        });
        if cached.is_some() {
            return Ok(cached);
        }
        let found = self.store.find_auth_server(id).await?;
        if let (Some(server), Ok(mut m)) = (&found, self.servers.write()) {
            m.insert(id.to_owned(), (Instant::now(), server.clone()));
        }
        Ok(found)
    }

    /// Forgets this node's cached copy of a server (after changing it).
    pub fn invalidate_auth_server(&self, id: &str) {
        if let Ok(mut m) = self.servers.write() {
            m.remove(id);
        }
        self.discovery_cache.clear();
        self.authz_configs.invalidate(id);
        self.keys.invalidate(id);
    }

    /// Forgets what this node keeps about an app (its client, the SPA origins for CORS) after
    /// it was created, changed or deleted.
    pub fn app_changed(&self, client_id: &str) {
        self.clients.invalidate(client_id);
        self.cors_origins.invalidate();
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Forgets what this node keeps about something another node (or this one) changed: see
    /// [`crate::services::changes`].
    pub fn apply_change(&self, change: &crate::store::Change) {
        use crate::store::Change;
        match change {
            Change::Client(client_id) => self.app_changed(client_id),
            Change::AuthServer(id) => self.invalidate_auth_server(id),
            Change::Origins => self.cors_origins.invalidate(),
            Change::All => {
                if let Ok(mut m) = self.servers.write() {
                    m.clear();
                }
                self.discovery_cache.clear();
                self.authz_configs.clear();
                self.keys.invalidate_all();
                self.clients.invalidate_all();
                self.cors_origins.invalidate();
            }
        }
    }

    /// Resolves the authorization server a request addresses (`None` = the org server) and
    /// derives its issuer from the request's public origin and the server's issuer mode.
    pub async fn server_context(
        &self,
        origin: &str,
        auth_server_id: Option<&str>,
    ) -> Result<ServerContext, OAuthError> {
        let id = auth_server_id.unwrap_or(ORG_AUTH_SERVER_ID);
        match self.find_servable(id, auth_server_id).await? {
            Some(server) => Ok(ServerContext::new(&self.domains, origin, server)),
            None => Err(no_such_server(id)),
        }
    }

    /// The id of the server a request addresses, checked as [`Self::server_context`] checks it,
    /// for answers that depend on the server alone (its key set): a cached server is checked in
    /// place, without copying it or deriving its issuer.
    pub async fn server_id<'a>(
        &self,
        auth_server_id: Option<&'a str>,
    ) -> Result<&'a str, OAuthError> {
        let id = auth_server_id.unwrap_or(ORG_AUTH_SERVER_ID);
        let cached = self.servers.read().ok().is_some_and(|m| {
            m.get(id).is_some_and(|(at, s)| {
                at.elapsed() < SERVER_CACHE_TTL && answers_as(s, auth_server_id)
            })
        });
        if cached || self.find_servable(id, auth_server_id).await?.is_some() {
            Ok(id)
        } else {
            Err(no_such_server(id))
        }
    }

    /// The server `id`, if it answers on the paths of `auth_server_id`.
    async fn find_servable(
        &self,
        id: &str,
        auth_server_id: Option<&str>,
    ) -> Result<Option<AuthServer>, OAuthError> {
        // A NUL (from `%00` in the path) names no server, and PostgreSQL text cannot hold one.
        if id.contains('\0') {
            return Ok(None);
        }
        let found = self.find_auth_server(id).await?;
        Ok(found.filter(|s| answers_as(s, auth_server_id)))
    }
}

fn no_such_server(id: &str) -> OAuthError {
    OAuthError::InvalidRequest(format!("Authorization server {id} does not exist."))
}

/// Whether `server` answers on the paths of `auth_server_id` (`None`: the org server's paths):
/// a custom server's paths serve active custom servers only.
fn answers_as(server: &AuthServer, auth_server_id: Option<&str>) -> bool {
    auth_server_id.is_none()
        || (server.kind == AuthServerKind::Custom
            && server.status == crate::domain::AppStatus::Active)
}

/// One authorization server as seen from one public origin. Its issuer is computed here only:
/// the tokens' `iss`, discovery, and every check of a presented token or client assertion read
/// `issuer` and `endpoint` from this.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerContext {
    pub server: AuthServer,
    /// `https://host` for the org server, `https://host/oauth2/{id}` for a custom one, where
    /// `host` is chosen by the server's issuer mode ([`Domains::issuer`]).
    pub issuer: String,
    /// The prefix of the server's `/v1/*` endpoints (on the issuer's host): `https://host/oauth2`
    /// or the custom issuer.
    pub endpoint_base: String,
    /// The origin the request came in on.
    pub origin: String,
    /// Set when the request came in on the Entra-compatible paths: the issuer is Entra's and
    /// ID tokens carry Entra's claims.
    pub entra: Option<crate::oidc::entra_dialect::Entra>,
}

impl ServerContext {
    pub fn new(domains: &Domains, origin: &str, server: AuthServer) -> Self {
        let origin = origin.trim_end_matches('/').to_owned();
        let issuer = domains.issuer(&server, &origin);
        let endpoint_base = match server.kind {
            AuthServerKind::Org => format!("{issuer}/oauth2"),
            AuthServerKind::Custom => issuer.clone(),
        };
        Self {
            server,
            issuer,
            endpoint_base,
            origin,
            entra: None,
        }
    }

    /// The same server addressed in Entra's dialect: Entra's issuer for the tokens.
    pub fn with_entra(mut self, entra: crate::oidc::entra_dialect::Entra) -> Self {
        self.issuer = entra.issuer();
        self.entra = Some(entra);
        self
    }

    pub fn is_org(&self) -> bool {
        self.server.kind == AuthServerKind::Org
    }

    pub fn endpoint(&self, name: &str) -> String {
        format!("{}/v1/{name}", self.endpoint_base)
    }

    /// Access-token audience: the org server's tokens are for the org itself.
    pub fn audience(&self) -> Audience<'_> {
        if let Some(resource) = self.entra.as_ref().and_then(|e| e.resource.as_ref()) {
            return Audience::One(resource);
        }
        match (self.is_org(), self.server.audiences.as_slice()) {
            (true, _) | (false, []) => Audience::One(&self.issuer),
            (false, [one]) => Audience::One(one),
            (false, many) => Audience::Many(many),
        }
    }
}

/// An access token's `aud`: one string, or a list (a custom server with several audiences).
/// Borrowed from the server, so minting a token copies none of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Audience<'a> {
    One(&'a str),
    Many(&'a [String]),
}

/// The provider records System Log events with its own clock into its store.
impl crate::audit::AuditSink for Provider {
    fn now(&self) -> Timestamp {
        self.clock.now()
    }
    fn log_store(&self) -> &dyn crate::store::SystemLogStore {
        &*self.store
    }
    fn last_published_ms(&self) -> Option<&std::sync::atomic::AtomicI64> {
        Some(&self.last_published_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AppStatus, SigningAlg};

    fn server(id: &str, kind: AuthServerKind, issuer_mode: IssuerMode) -> AuthServer {
        AuthServer {
            id: id.into(),
            kind,
            name: id.into(),
            description: String::new(),
            audiences: vec!["api://x".into()],
            issuer_mode,
            status: AppStatus::Active,
            signing_alg: SigningAlg::default(),
            authorization_response_iss: false,
            created: 0,
            last_updated: 0,
        }
    }

    fn domains() -> Domains {
        Domains {
            org_url: Some("https://org.example.com".into()),
            custom: vec![
                "https://id.example.com".into(),
                "https://login.example.org".into(),
            ],
        }
    }

    #[test]
    fn issuer_follows_the_mode() {
        let d = domains();
        let s = |mode| server("aus1", AuthServerKind::Custom, mode);
        for origin in ["https://org.example.com", "https://login.example.org"] {
            assert_eq!(
                d.issuer(&s(IssuerMode::OrgUrl), origin),
                "https://org.example.com/oauth2/aus1"
            );
            assert_eq!(
                d.issuer(&s(IssuerMode::CustomUrl), origin),
                "https://id.example.com/oauth2/aus1"
            );
            assert_eq!(
                d.issuer(&s(IssuerMode::Dynamic), origin),
                format!("{origin}/oauth2/aus1")
            );
        }
        let org = server("org", AuthServerKind::Org, IssuerMode::Dynamic);
        let ctx = ServerContext::new(&d, "https://login.example.org/", org);
        assert_eq!(ctx.issuer, "https://login.example.org");
        assert_eq!(
            ctx.endpoint("token"),
            "https://login.example.org/oauth2/v1/token"
        );
    }

    #[test]
    fn without_configured_domains_the_request_origin_stands_in() {
        let d = Domains::default();
        for mode in [
            IssuerMode::OrgUrl,
            IssuerMode::CustomUrl,
            IssuerMode::Dynamic,
        ] {
            let ctx = ServerContext::new(
                &d,
                "http://127.0.0.1:8080",
                server("default", AuthServerKind::Custom, mode),
            );
            assert_eq!(ctx.issuer, "http://127.0.0.1:8080/oauth2/default");
            assert_eq!(
                ctx.endpoint("keys"),
                "http://127.0.0.1:8080/oauth2/default/v1/keys"
            );
        }
    }

    #[test]
    fn only_configured_custom_domains_match_a_host() {
        let d = domains();
        assert_eq!(
            d.custom_domain_for_host("ID.example.com"),
            Some("https://id.example.com")
        );
        assert_eq!(
            d.custom_domain_for_host("login.example.org"),
            Some("https://login.example.org")
        );
        for forged in [
            "evil.example.com",
            "id.example.com.evil",
            "example.com",
            "",
            "org.example.com",
        ] {
            assert_eq!(d.custom_domain_for_host(forged), None, "{forged}");
        }
    }
}
