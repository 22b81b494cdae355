//! The engine's entry point: what every protocol operation needs (storage, keys, secrets, clock,
//! lifetimes) and the authorization-server context of a request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::crypto::SecretBox;
use crate::domain::{AuthServer, AuthServerKind, ORG_AUTH_SERVER_ID, Timestamp};
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

pub struct Provider {
    pub store: Arc<dyn Store>,
    pub keys: Arc<KeyRing>,
    pub secrets: Arc<SecretBox>,
    pub lifetimes: Lifetimes,
    pub clock: Arc<dyn Clock>,
    /// Okta's password-policy lockout (consecutive failed sign-ins).
    pub lockout: crate::services::lockout::LockoutPolicy,
    /// The org's id, read once from the database (it never changes).
    pub(crate) org_id: tokio::sync::OnceCell<String>,
    /// Authorization servers read recently, so that a request does not read its server again.
    servers: RwLock<HashMap<String, (Instant, AuthServer)>>,
    /// Serialized discovery documents by (document, server, origin).
    pub(crate) discovery_cache: crate::oidc::discovery::DocumentCache,
    /// Custom servers' scopes, claims and policies read recently.
    pub(crate) authz_configs: crate::authz::ConfigCache,
    /// Client key sets fetched from `jwks_uri` (the fetcher is installed by the binary).
    pub remote_jwks: crate::oauth2::remote_jwks::RemoteJwks,
    /// Clients read recently by client authentication.
    pub(crate) clients: crate::oauth2::client_cache::ClientCache,
}

/// How long a node trusts its copy of an authorization server (and of the discovery documents
/// built from it) before reading the database again. A change made on another node is seen
/// within this time; the key cache's TTL is longer.
pub const SERVER_CACHE_TTL: Duration = Duration::from_secs(10);

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
            clients: Default::default(),
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

    /// Forgets this node's cached copy of a client (after changing or deleting its app).
    pub fn invalidate_client(&self, client_id: &str) {
        self.clients.invalidate(client_id);
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Resolves the authorization server a request addresses (`None` = the org server) and
    /// derives its issuer from the request's public origin (Okta's DYNAMIC issuer mode).
    pub async fn server_context(
        &self,
        origin: &str,
        auth_server_id: Option<&str>,
    ) -> Result<ServerContext, OAuthError> {
        let id = auth_server_id.unwrap_or(ORG_AUTH_SERVER_ID);
        // A NUL (from `%00` in the path) names no server, and PostgreSQL text cannot hold one.
        let found = if id.contains('\0') {
            None
        } else {
            self.find_auth_server(id).await?
        };
        let server = match found {
            Some(s)
                if auth_server_id.is_none()
                    || (s.kind == AuthServerKind::Custom
                        && s.status == crate::domain::AppStatus::Active) =>
            {
                s
            }
            _ => {
                return Err(OAuthError::InvalidRequest(format!(
                    "Authorization server {id} does not exist."
                )));
            }
        };
        Ok(ServerContext::new(origin, server))
    }
}

/// One authorization server as seen from one public origin.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerContext {
    pub server: AuthServer,
    /// `https://host` for the org server, `https://host/oauth2/{id}` for a custom one.
    pub issuer: String,
    /// The prefix of the server's `/v1/*` endpoints: `https://host/oauth2` or the custom issuer.
    pub endpoint_base: String,
    pub origin: String,
}

impl ServerContext {
    pub fn new(origin: &str, server: AuthServer) -> Self {
        let origin = origin.trim_end_matches('/').to_owned();
        let (issuer, endpoint_base) = match server.kind {
            AuthServerKind::Org => (origin.clone(), format!("{origin}/oauth2")),
            AuthServerKind::Custom => {
                let iss = format!("{origin}/oauth2/{}", server.id);
                (iss.clone(), iss)
            }
        };
        Self {
            server,
            issuer,
            endpoint_base,
            origin,
        }
    }

    pub fn is_org(&self) -> bool {
        self.server.kind == AuthServerKind::Org
    }

    pub fn endpoint(&self, name: &str) -> String {
        format!("{}/v1/{name}", self.endpoint_base)
    }

    /// Access-token audience: the org server's tokens are for the org itself.
    pub fn audience(&self) -> serde_json::Value {
        match (self.is_org(), self.server.audiences.as_slice()) {
            (true, _) | (false, []) => serde_json::Value::String(self.issuer.clone()),
            (false, [one]) => serde_json::Value::String(one.clone()),
            (false, many) => serde_json::json!(many),
        }
    }
}
