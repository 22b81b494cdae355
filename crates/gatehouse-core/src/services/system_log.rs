//! Okta's System Log: events with Okta's event types and `LogEvent` shape, recorded by the
//! flows (sign-in, SSO, tokens, lifecycle, admin changes) and read at `GET /api/v1/logs` and by
//! `gatehouse logs`.
//!
//! Recording never fails the request that caused it: a failed write is a warning. Events hold
//! ids, names and outcomes, never a password, code, token or secret.

use serde_json::Value;

use crate::crypto::random_token;
use crate::domain::{
    FilterOp, LogEventRecord, LogField, LogFilter, LogQuery, StoredLogEvent, User,
};
use crate::provider::Provider;
use crate::services::filter::{FilterError, Token, tokenize};
use crate::store::StoreError;

/// Okta's event types recorded by Gatehouse.
pub mod event_type {
    pub const SESSION_START: &str = "user.session.start";
    pub const SESSION_END: &str = "user.session.end";
    pub const ACCOUNT_LOCK: &str = "user.account.lock";
    pub const ACCOUNT_UNLOCK: &str = "user.account.unlock";
    pub const ACCOUNT_UNLOCK_BY_ADMIN: &str = "user.account.unlock_by_admin";
    pub const AUTHENTICATION_SSO: &str = "user.authentication.sso";
    pub const USER_CREATE: &str = "user.lifecycle.create";
    pub const USER_ACTIVATE: &str = "user.lifecycle.activate";
    pub const USER_DEACTIVATE: &str = "user.lifecycle.deactivate";
    pub const USER_SUSPEND: &str = "user.lifecycle.suspend";
    pub const USER_UNSUSPEND: &str = "user.lifecycle.unsuspend";
    pub const USER_DELETE: &str = "user.lifecycle.delete.completed";
    pub const USER_PROFILE_UPDATE: &str = "user.account.update_profile";
    pub const USER_PASSWORD_UPDATE: &str = "user.account.update_password";
    pub const APP_CREATE: &str = "application.lifecycle.create";
    pub const APP_UPDATE: &str = "application.lifecycle.update";
    pub const APP_ACTIVATE: &str = "application.lifecycle.activate";
    pub const APP_DEACTIVATE: &str = "application.lifecycle.deactivate";
    pub const APP_DELETE: &str = "application.lifecycle.delete";
    pub const APP_USER_MEMBERSHIP_ADD: &str = "application.user_membership.add";
    pub const APP_USER_MEMBERSHIP_REMOVE: &str = "application.user_membership.remove";
    pub const GROUP_APP_ASSIGNMENT_ADD: &str = "group.application_assignment.add";
    pub const GROUP_APP_ASSIGNMENT_REMOVE: &str = "group.application_assignment.remove";
    pub const API_TOKEN_CREATE: &str = "system.api_token.create";
    pub const API_TOKEN_REVOKE: &str = "system.api_token.revoke";
    pub const GROUP_CREATE: &str = "group.lifecycle.create";
    pub const GROUP_UPDATE: &str = "group.profile.update";
    pub const GROUP_DELETE: &str = "group.lifecycle.delete";
    pub const GROUP_MEMBERSHIP_ADD: &str = "group.user_membership.add";
    pub const GROUP_MEMBERSHIP_REMOVE: &str = "group.user_membership.remove";
}

/// The OAuth 2.0 event types: the org server's `app.oauth2.*`, a custom server's
/// `app.oauth2.as.*` (as Okta names them).
pub fn oauth2_event_type(custom_server: bool, suffix: &str) -> String {
    if custom_server {
        format!("app.oauth2.as.{suffix}")
    } else {
        format!("app.oauth2.{suffix}")
    }
}

/// Why a sign-in failed, as Okta's `outcome.reason` says it.
pub mod reason {
    pub const INVALID_CREDENTIALS: &str = "INVALID_CREDENTIALS";
    pub const LOCKED_OUT: &str = "LOCKED_OUT";
    pub const VERIFICATION_ERROR: &str = "VERIFICATION_ERROR";
    pub const USER_NOT_ACTIVE: &str = "USER_NOT_ACTIVE";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Debug,
    Info,
    Warn,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "DEBUG",
            Self::Info => "INFO",
            Self::Warn => "WARN",
            Self::Error => "ERROR",
        }
    }
}

/// Who or what an event is about: Okta's `LogActor` / `LogTarget`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub id: String,
    /// `User`, `AppInstance`, `PublicClientApp`, `UserGroup`, `Token`, `SystemPrincipal`…
    pub kind: String,
    pub alternate_id: Option<String>,
    pub display_name: Option<String>,
}

impl Entity {
    pub fn new(id: impl Into<String>, kind: &str) -> Self {
        Self {
            id: id.into(),
            kind: kind.to_owned(),
            alternate_id: None,
            display_name: None,
        }
    }

    pub fn named(mut self, alternate_id: Option<String>, display_name: Option<String>) -> Self {
        self.alternate_id = alternate_id;
        self.display_name = display_name;
        self
    }

    pub fn user(user: &User) -> Self {
        Self::new(&user.id, "User").named(Some(user.login.clone()), Some(user.full_name()))
    }

    /// A sign-in attempt for a login that names no account: Okta's `unknown` actor. The typed
    /// login is kept as the alternate id, which is what an administrator looks for.
    pub fn unknown_user(login: &str) -> Self {
        Self::new("unknown", "User").named(Some(login.to_owned()), Some("unknown".into()))
    }

    pub fn app(app: &crate::domain::App) -> Self {
        Self::new(&app.id, "AppInstance")
            .named(Some(app.client_id.clone()), Some(app.label.clone()))
    }

    pub fn group(group: &crate::domain::Group) -> Self {
        Self::new(&group.id, "UserGroup").named(None, Some(group.name.clone()))
    }

    pub fn system() -> Self {
        Self::new("gatehouse", "SystemPrincipal").named(None, Some("Gatehouse".into()))
    }

    fn body(&self) -> body::Entity<'_> {
        body::Entity {
            id: &self.id,
            kind: &self.kind,
            alternate_id: self.alternate_id.as_deref(),
            display_name: self.display_name.as_deref(),
            detail_entry: (),
        }
    }
}

/// Where a request came from (Okta's `client`): the client address as resolved behind trusted
/// proxies, and the `User-Agent`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Who makes a change and from where: the actor and client of the events a service records.
/// The console and `/api/v1` pass the signed-in administrator or the API caller; the CLI acts
/// as the system, or as the administrator it was told to act for.
#[derive(Debug, Clone)]
pub struct Actor {
    pub entity: Entity,
    pub client: ClientInfo,
}

impl Actor {
    pub fn new(entity: Entity, client: &ClientInfo) -> Self {
        Self {
            entity,
            client: client.clone(),
        }
    }

    pub fn user(user: &User, client: &ClientInfo) -> Self {
        Self::new(Entity::user(user), client)
    }

    pub fn system() -> Self {
        Self::new(Entity::system(), &ClientInfo::default())
    }

    /// The id of the user acting, when a user acts.
    pub fn user_id(&self) -> Option<&str> {
        (self.entity.kind == "User").then_some(self.entity.id.as_str())
    }

    /// Records `event_type` done by this actor to `targets`.
    pub async fn record(
        &self,
        provider: &Provider,
        event_type: &str,
        message: &str,
        targets: Vec<Entity>,
    ) {
        let mut event = Event::new(event_type, message, self.entity.clone()).client(&self.client);
        event.targets = targets;
        record(provider, event).await;
    }
}

/// An event about to be recorded.
#[derive(Debug, Clone)]
pub struct Event {
    pub event_type: String,
    pub display_message: String,
    pub severity: Severity,
    /// `SUCCESS`, `FAILURE`, `SKIPPED`, `ALLOW`, `DENY`, `CHALLENGE` or `UNKNOWN`.
    pub result: &'static str,
    pub reason: Option<String>,
    pub actor: Entity,
    pub targets: Vec<Entity>,
    pub client: ClientInfo,
    /// Extra facts for `debugContext.debugData` (never secrets).
    pub debug: serde_json::Map<String, Value>,
    /// `authenticationContext.externalSessionId`, `credentialType`…
    pub external_session_id: Option<String>,
    pub credential_type: Option<&'static str>,
}

impl Event {
    pub fn new(event_type: impl Into<String>, display_message: &str, actor: Entity) -> Self {
        Self {
            event_type: event_type.into(),
            display_message: display_message.to_owned(),
            severity: Severity::Info,
            result: "SUCCESS",
            reason: None,
            actor,
            targets: Vec::new(),
            client: ClientInfo::default(),
            debug: serde_json::Map::new(),
            external_session_id: None,
            credential_type: None,
        }
    }

    pub fn target(mut self, target: Entity) -> Self {
        self.targets.push(target);
        self
    }

    pub fn client(mut self, client: &ClientInfo) -> Self {
        self.client = client.clone();
        self
    }

    /// A failed outcome with Okta's reason; failures are `WARN`.
    pub fn failure(mut self, reason: &str) -> Self {
        self.result = "FAILURE";
        self.reason = Some(reason.to_owned());
        self.severity = Severity::Warn;
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn debug(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.debug.insert(key.to_owned(), value.into());
        self
    }

    fn legacy_event_type(&self) -> Option<&'static str> {
        let legacy = match (self.event_type.as_str(), self.result) {
            (event_type::SESSION_START, "SUCCESS") => "core.user_auth.login_success",
            (event_type::SESSION_START, _) => "core.user_auth.login_failed",
            (event_type::SESSION_END, _) => "core.user_auth.logout_success",
            (event_type::ACCOUNT_LOCK, _) => "core.user_auth.account_locked",
            (event_type::AUTHENTICATION_SSO, _) => "app.auth.sso",
            _ => return None,
        };
        Some(legacy)
    }

    /// Okta's `LogEvent` JSON and the columns it is queried by.
    fn into_record(self, published_ms: i64) -> LogEventRecord {
        let uuid = new_uuid(published_ms);
        let transaction_id = random_token(15);
        // Serialized from borrowed, typed parts: no intermediate `Value` tree (dozens of
        // allocations per event, on every token response).
        let body = body::LogEvent {
            uuid: &uuid,
            published: okta_date_ms(published_ms),
            event_type: &self.event_type,
            version: "0",
            severity: self.severity.as_str(),
            legacy_event_type: self.legacy_event_type(),
            display_message: &self.display_message,
            actor: self.actor.body(),
            client: body::Client {
                user_agent: self.client.user_agent.as_deref().map(|ua| body::UserAgent {
                    raw_user_agent: ua,
                    os: (),
                    browser: (),
                }),
                zone: "null",
                device: (),
                id: (),
                ip_address: self.client.ip.as_deref(),
                geographical_context: (),
            },
            device: (),
            authentication_context: body::AuthenticationContext {
                authentication_provider: (),
                credential_provider: (),
                credential_type: self.credential_type,
                issuer: (),
                interface: (),
                authentication_step: 0,
                external_session_id: self.external_session_id.as_deref(),
            },
            display_message_auth: (),
            outcome: body::Outcome {
                result: self.result,
                reason: self.reason.as_deref(),
            },
            security_context: body::SecurityContext::default(),
            debug_context: body::DebugContext {
                debug_data: &self.debug,
            },
            transaction: body::Transaction {
                kind: "WEB",
                id: &transaction_id,
                detail: body::Empty {},
            },
            request: body::Request {
                ip_chain: self
                    .client
                    .ip
                    .iter()
                    .map(|ip| body::Ip {
                        ip,
                        geographical_context: (),
                        version: if ip.contains(':') { "V6" } else { "V4" },
                        source: (),
                    })
                    .collect(),
            },
            target: self.targets.iter().map(Entity::body).collect(),
        };
        let body = serde_json::to_string(&body).unwrap_or_else(|_| String::from("{}"));
        let mut words = vec![
            self.event_type.clone(),
            self.display_message.clone(),
            self.result.to_owned(),
            self.actor.id.clone(),
        ];
        words.extend(self.reason.clone());
        words.extend(self.actor.alternate_id.clone());
        words.extend(self.actor.display_name.clone());
        words.extend(self.client.ip.clone());
        for t in &self.targets {
            words.push(t.id.clone());
            words.extend(t.alternate_id.clone());
            words.extend(t.display_name.clone());
        }
        LogEventRecord {
            uuid,
            published_ms,
            event_type: self.event_type,
            severity: self.severity.as_str().to_owned(),
            outcome_result: self.result.to_owned(),
            actor_id: Some(self.actor.id),
            actor_alternate_id: self.actor.alternate_id,
            target_ids: self.targets.into_iter().map(|t| t.id).collect(),
            search_text: words.join(" ").to_lowercase(),
            body,
        }
    }
}

/// Okta's `LogEvent` JSON, field by field (`()` is JSON `null`: what Gatehouse does not know).
mod body {
    use serde::Serialize;
    use serde_json::{Map, Value};

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct LogEvent<'a> {
        pub uuid: &'a str,
        pub published: String,
        pub event_type: &'a str,
        pub version: &'static str,
        pub severity: &'static str,
        pub legacy_event_type: Option<&'static str>,
        pub display_message: &'a str,
        pub actor: Entity<'a>,
        pub client: Client<'a>,
        pub device: (),
        pub authentication_context: AuthenticationContext<'a>,
        pub display_message_auth: (),
        pub outcome: Outcome<'a>,
        pub security_context: SecurityContext,
        pub debug_context: DebugContext<'a>,
        pub transaction: Transaction<'a>,
        pub request: Request<'a>,
        pub target: Vec<Entity<'a>>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Entity<'a> {
        pub id: &'a str,
        #[serde(rename = "type")]
        pub kind: &'a str,
        pub alternate_id: Option<&'a str>,
        pub display_name: Option<&'a str>,
        pub detail_entry: (),
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Client<'a> {
        pub user_agent: Option<UserAgent<'a>>,
        pub zone: &'static str,
        pub device: (),
        pub id: (),
        pub ip_address: Option<&'a str>,
        pub geographical_context: (),
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct UserAgent<'a> {
        pub raw_user_agent: &'a str,
        pub os: (),
        pub browser: (),
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct AuthenticationContext<'a> {
        pub authentication_provider: (),
        pub credential_provider: (),
        pub credential_type: Option<&'static str>,
        pub issuer: (),
        pub interface: (),
        pub authentication_step: u32,
        pub external_session_id: Option<&'a str>,
    }

    #[derive(Serialize)]
    pub(super) struct Outcome<'a> {
        pub result: &'static str,
        pub reason: Option<&'a str>,
    }

    #[derive(Serialize, Default)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct SecurityContext {
        pub as_number: (),
        pub as_org: (),
        pub isp: (),
        pub domain: (),
        pub is_proxy: (),
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct DebugContext<'a> {
        pub debug_data: &'a Map<String, Value>,
    }

    #[derive(Serialize)]
    pub(super) struct Transaction<'a> {
        #[serde(rename = "type")]
        pub kind: &'static str,
        pub id: &'a str,
        pub detail: Empty,
    }

    /// `{}`.
    #[derive(Serialize)]
    pub(super) struct Empty {}

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Request<'a> {
        pub ip_chain: Vec<Ip<'a>>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Ip<'a> {
        pub ip: &'a str,
        pub geographical_context: (),
        pub version: &'static str,
        pub source: (),
    }
}

/// A time-ordered (version 7, RFC 9562) UUID in its usual text form: the event's time in
/// milliseconds, then 74 random bits. Okta's own event uuids are time-based too (version 1);
/// version 7 also sorts by time, so each new event lands at the end of the `uuid` index instead
/// of on a random page of it: a token response dirties a page or two there, not one each.
fn new_uuid(published_ms: i64) -> String {
    let mut b = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut b[6..]);
    let ms = u64::try_from(published_ms)
        .unwrap_or_default()
        .to_be_bytes();
    b[..6].copy_from_slice(&ms[2..]);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(x >> 4)]));
        out.push(char::from(HEX[usize::from(x & 0x0f)]));
    }
    out
}

/// `YYYY-MM-DDTHH:mm:ss.SSSZ`.
pub fn okta_date_ms(ms: i64) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

/// Parses an ISO 8601 / RFC 3339 instant (`2024-05-01T10:00:00Z`, `…00.123Z`, `…+02:00`) into
/// Unix milliseconds.
pub fn parse_instant_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// "Now" in milliseconds: the provider's clock (which tests move) for the seconds, the system
/// clock for the milliseconds within them, so events of one second still sort by time.
fn now_ms(provider: &Provider) -> i64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::from(d.subsec_millis()));
    provider.now() * 1000 + millis
}

/// Records `event`. A failure to write is logged and otherwise ignored: the System Log must
/// never turn a sign-in or an API call into an error.
pub async fn record(provider: &Provider, event: Event) {
    let event_type = event.event_type.clone();
    let record = event.into_record(now_ms(provider));
    if let Err(e) = provider.store.append_log_event(&record).await {
        tracing::warn!(error = %e, event_type, "could not record a System Log event");
    }
}

/// Records several events of one request together (one write instead of one each), as
/// [`record`] does.
pub async fn record_all(provider: &Provider, events: Vec<Event>) {
    let published_ms = now_ms(provider);
    let records: Vec<LogEventRecord> = events
        .into_iter()
        .map(|e| e.into_record(published_ms))
        .collect();
    if let Err(e) = provider.store.append_log_events(&records).await {
        tracing::warn!(error = %e, events = records.len(), "could not record System Log events");
    }
}

/// `user.authentication.sso` and `app.oauth2[.as].authorize.code`: a user was sent back to a
/// client with an authorization code (never the code itself).
pub async fn record_code_issued(
    provider: &Provider,
    auth_server_id: Option<&str>,
    client_id: &str,
    user: &User,
    scopes: &[String],
) {
    let client_app = Entity::new(client_id, "AppInstance").named(Some(client_id.to_owned()), None);
    let sso = Event::new(
        event_type::AUTHENTICATION_SSO,
        "User single sign on to app",
        Entity::user(user),
    )
    .target(client_app.clone());
    let code = Event::new(
        oauth2_event_type(auth_server_id.is_some(), "authorize.code"),
        "OAuth2 authorization code request",
        Entity::user(user),
    )
    .target(client_app)
    .debug("grantedScopes", scopes.join(" "))
    .debug("authorizationServer", auth_server_id.unwrap_or("org"));
    record_all(provider, vec![sso, code]).await;
}

/// Who asked the token endpoint for tokens: what its `app.oauth2[.as].token.grant.*` events
/// say. The events of a token response are stored with its token records, in the same
/// transaction ([`token_grant_records`]); a refusal is recorded by [`record_token_refusal`].
#[derive(Debug, Clone, Copy)]
pub struct TokenRequestLog<'a> {
    pub client: &'a ClientInfo,
    /// A custom authorization server (`app.oauth2.as.*`) rather than the org server.
    pub custom_server: bool,
    /// The client id the request named (authenticated or not), if any.
    pub client_id: Option<&'a str>,
    pub grant_type: &'a str,
}

impl TokenRequestLog<'_> {
    fn actor(&self) -> Entity {
        match self.client_id {
            Some(id) => Entity::new(id, "PublicClientApp").named(Some(id.to_owned()), None),
            None => Entity::new("unknown", "PublicClientApp"),
        }
    }

    fn event(&self, token: &str) -> Event {
        let message = match token {
            "id_token" => "OAuth2 id token is granted",
            "refresh_token" => "OAuth2 refresh token is granted",
            _ => "OAuth2 access token is granted",
        };
        Event::new(
            oauth2_event_type(self.custom_server, &format!("token.grant.{token}")),
            message,
            self.actor(),
        )
        .client(self.client)
        .debug("grantType", self.grant_type)
    }
}

/// `app.oauth2[.as].token.grant.<token>`, one event for each token a response issues
/// (`access_token`, `id_token`, `refresh_token`): the records the token endpoint stores with
/// the tokens themselves, so a response goes out once both are committed, in one write.
pub fn token_grant_records(
    provider: &Provider,
    log: &TokenRequestLog<'_>,
    tokens: &[&str],
) -> Vec<LogEventRecord> {
    let published_ms = now_ms(provider);
    tokens
        .iter()
        .map(|token| log.event(token).into_record(published_ms))
        .collect()
}

/// The failure event of a refused token request (`error` is the OAuth error code).
pub async fn record_token_refusal(provider: &Provider, log: &TokenRequestLog<'_>, error: &str) {
    let event = log.event("access_token").failure(error);
    record(provider, event).await;
}

/// The user behind a live session cookie, if any (to name them in `user.session.end`).
pub async fn session_user(provider: &Provider, cookie: Option<&str>) -> Option<String> {
    let cookie = cookie.filter(|c| !c.is_empty())?;
    let hash = crate::crypto::sha256_b64url(cookie);
    match provider.store.find_session(&hash, provider.now()).await {
        Ok(session) => session.map(|s| s.user_id),
        Err(_) => None,
    }
}

/// `user.session.end`: a user signed out.
pub async fn record_session_end(provider: &Provider, client: &ClientInfo, user_id: &str) {
    let actor = match provider.store.find_user(user_id).await {
        Ok(Some(user)) => Entity::user(&user),
        _ => Entity::new(user_id, "User"),
    };
    let event = Event::new(event_type::SESSION_END, "User logout from Okta", actor).client(client);
    record(provider, event).await;
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Okta's page size limits for `/api/v1/logs`.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;
/// Without `since`, Okta returns the last seven days before `until` (or now).
pub const DEFAULT_LOOKBACK_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum LogQueryError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a caller asked for (the raw query parameters).
#[derive(Debug, Clone, Default)]
pub struct LogRequest {
    pub since: Option<String>,
    pub until: Option<String>,
    pub filter: Option<String>,
    pub q: Option<String>,
    pub sort_order: Option<String>,
    pub limit: Option<String>,
    pub after: Option<String>,
}

/// One page of events and the cursor of the next one.
#[derive(Debug, Clone)]
pub struct LogPage {
    pub events: Vec<StoredLogEvent>,
    /// The `after` of the next page. A bounded query (with `until`) has none at its end; a
    /// polling query (no `until`) always has one, Okta's way of saying "ask again later".
    pub next_after: Option<String>,
    /// The query as resolved (`since` defaulted), for building the `next` link.
    pub since_ms: i64,
    /// No `until`: Okta's polling query, whose `next` link is always there.
    pub polling: bool,
}

/// Lists events as `GET /api/v1/logs` does.
pub async fn list(provider: &Provider, request: &LogRequest) -> Result<LogPage, LogQueryError> {
    let invalid = |m: String| LogQueryError::Invalid(m);
    let until_ms = match request.until.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            parse_instant_ms(s)
                .ok_or_else(|| invalid(format!("until: '{s}' is not an ISO 8601 date and time")))?,
        ),
        None => None,
    };
    let since_ms = match request.since.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_instant_ms(s)
            .ok_or_else(|| invalid(format!("since: '{s}' is not an ISO 8601 date and time")))?,
        None => until_ms.unwrap_or_else(|| now_ms(provider)) - DEFAULT_LOOKBACK_MS,
    };
    if until_ms.is_some_and(|u| u < since_ms) {
        return Err(invalid("until must not be earlier than since".into()));
    }
    let descending = match request.sort_order.as_deref().filter(|s| !s.is_empty()) {
        None => false,
        Some(s) if s.eq_ignore_ascii_case("ASCENDING") => false,
        Some(s) if s.eq_ignore_ascii_case("DESCENDING") => true,
        Some(s) => {
            return Err(invalid(format!(
                "sortOrder: '{s}' must be ASCENDING or DESCENDING"
            )));
        }
    };
    let limit = match request.limit.as_deref().filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if n >= 1 => n.min(MAX_LIMIT),
            _ => return Err(invalid(format!("limit: '{s}' must be a positive number"))),
        },
    };
    let after_seq = match request.after.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            s.parse::<i64>()
                .map_err(|_| invalid(format!("after: '{s}' is not a cursor from a next link")))?,
        ),
    };
    let filter = match request.filter.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(f) => Some(parse_log_filter(f).map_err(|e| invalid(format!("filter: {e}")))?),
    };
    let keywords: Vec<String> = request
        .q
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .take(10)
        .map(str::to_lowercase)
        .collect();
    let query = LogQuery {
        since_ms: Some(since_ms),
        until_ms,
        filter,
        keywords,
        descending,
        after_seq,
        limit: limit.saturating_add(1),
    };
    let mut events = provider.store.list_log_events(&query).await?;
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    let next_after = match (more, until_ms, events.last()) {
        (_, _, Some(last)) if more || until_ms.is_none() => Some(last.seq.to_string()),
        // A polling query with nothing new keeps its place.
        (_, None, None) => request.after.clone().filter(|s| !s.is_empty()),
        _ => None,
    };
    Ok(LogPage {
        events,
        next_after,
        since_ms,
        polling: until_ms.is_none(),
    })
}

// ---------------------------------------------------------------------------------------------
// `filter=`

fn field_of(attr: &str) -> Option<LogField> {
    Some(match attr {
        "eventType" => LogField::EventType,
        "severity" => LogField::Severity,
        "outcome.result" => LogField::OutcomeResult,
        "actor.id" => LogField::ActorId,
        "actor.alternateId" => LogField::ActorAlternateId,
        "target.id" => LogField::TargetId,
        _ => return None,
    })
}

struct LogFilterParser {
    tokens: Vec<Token>,
    pos: usize,
}

impl LogFilterParser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn expr(&mut self, depth: usize) -> Result<LogFilter, FilterError> {
        if depth > 32 {
            return Err(FilterError("the expression is nested too deeply".into()));
        }
        let mut left = self.term(depth)?;
        while self.peek_keyword("or") {
            self.pos += 1;
            left = LogFilter::Or(Box::new(left), Box::new(self.term(depth)?));
        }
        Ok(left)
    }

    fn term(&mut self, depth: usize) -> Result<LogFilter, FilterError> {
        let mut left = self.factor(depth)?;
        while self.peek_keyword("and") {
            self.pos += 1;
            left = LogFilter::And(Box::new(left), Box::new(self.factor(depth)?));
        }
        Ok(left)
    }

    fn factor(&mut self, depth: usize) -> Result<LogFilter, FilterError> {
        if self.peek_keyword("not") {
            self.pos += 1;
            return Ok(LogFilter::Not(Box::new(self.factor(depth + 1)?)));
        }
        match self.next() {
            Some(Token::Open) => {
                let inner = self.expr(depth + 1)?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(FilterError("missing ')'".into())),
                }
            }
            Some(Token::Word(attr)) => self.comparison(&attr),
            Some(Token::Str(s)) => {
                Err(FilterError(format!("expected an attribute, found \"{s}\"")))
            }
            Some(Token::Close) => Err(FilterError("unexpected ')'".into())),
            None => Err(FilterError("unexpected end of expression".into())),
        }
    }

    fn comparison(&mut self, attr: &str) -> Result<LogFilter, FilterError> {
        let field =
            field_of(attr).ok_or_else(|| FilterError(format!("'{attr}' cannot be filtered on")))?;
        let op = match self.next() {
            Some(Token::Word(op)) => match op.to_ascii_lowercase().as_str() {
                "eq" => FilterOp::Eq,
                "ne" => FilterOp::Ne,
                "sw" => FilterOp::Sw,
                "co" => FilterOp::Co,
                "pr" => FilterOp::Pr,
                other => return Err(FilterError(format!("unsupported operator '{other}'"))),
            },
            _ => return Err(FilterError(format!("expected an operator after '{attr}'"))),
        };
        if op == FilterOp::Pr {
            return Ok(LogFilter::Compare {
                field,
                op,
                value: String::new(),
            });
        }
        match self.next() {
            Some(Token::Str(value)) => Ok(LogFilter::Compare { field, op, value }),
            _ => Err(FilterError(format!(
                "expected a quoted value after '{attr}'"
            ))),
        }
    }
}

/// Parses a System Log `filter=` (Okta's SCIM-like expressions over `eventType`, `severity`,
/// `outcome.result`, `actor.id`, `actor.alternateId` and `target.id`).
pub fn parse_log_filter(input: &str) -> Result<LogFilter, FilterError> {
    if input.len() > 4096 {
        return Err(FilterError("the expression is too long".into()));
    }
    let tokens = tokenize(input)?;
    if tokens.is_empty() {
        return Err(FilterError("the expression is empty".into()));
    }
    let mut parser = LogFilterParser { tokens, pos: 0 };
    let filter = parser.expr(0)?;
    if parser.pos < parser.tokens.len() {
        return Err(FilterError("unexpected text after the expression".into()));
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let f = parse_log_filter(
            r#"eventType eq "user.session.start" and (outcome.result eq "FAILURE" or target.id eq "00u1")"#,
        );
        assert!(matches!(f, Ok(LogFilter::And(_, _))), "{f:?}");
        for bad in [
            "",
            "eventType",
            r#"eventType gt "x""#,
            r#"published eq "x""#,
            r#"eventType eq x"#,
            r#"(eventType eq "x""#,
        ] {
            assert!(parse_log_filter(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn instants_and_dates() {
        assert_eq!(parse_instant_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_instant_ms("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_instant_ms("yesterday"), None);
        assert_eq!(okta_date_ms(1500), "1970-01-01T00:00:01.500Z");
    }

    #[test]
    fn uuids_look_like_uuids() {
        let u = new_uuid(1_700_000_000_123);
        assert_eq!(u.len(), 36);
        // Version 7: the time in milliseconds (0x018bcfe5687b) leads, so uuids sort by time.
        assert_eq!(&u[..13], "018bcfe5-687b");
        assert_eq!(&u[14..15], "7");
        assert!(new_uuid(1_700_000_000_124) > u);
        assert_ne!(new_uuid(1_700_000_000_123), u);
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        for (i, c) in u.chars().enumerate() {
            match i {
                8 | 13 | 18 | 23 => assert_eq!(c, '-', "{u}"),
                _ => assert!(c.is_ascii_hexdigit() && !c.is_ascii_uppercase(), "{u}"),
            }
        }
    }
}
