//! The events themselves: Okta's event types, who and what an event names, and the
//! `LogEvent` JSON with the columns it is queried by.

use serde_json::Value;

use super::body;
use super::record::{AuditSink, record};
use crate::crypto::random_token;
use crate::domain::{LogEventRecord, User};

/// Okta's event types recorded by Gatehouse.
pub mod event_type {
    pub const SESSION_START: &str = "user.session.start";
    pub const SESSION_END: &str = "user.session.end";
    pub const SESSION_CLEAR: &str = "user.session.clear";
    /// A logout token delivered to (or refused by) an app's `backchannel_logout_uri`.
    pub const BACKCHANNEL_LOGOUT: &str = "app.oauth2.backchannel_logout";
    pub const ACCOUNT_LOCK: &str = "user.account.lock";
    pub const ACCOUNT_UNLOCK: &str = "user.account.unlock";
    pub const ACCOUNT_UNLOCK_BY_ADMIN: &str = "user.account.unlock_by_admin";
    pub const AUTHENTICATION_SSO: &str = "user.authentication.sso";
    /// A signed-in user who is not assigned to the app tried to use it.
    pub const APP_UNAUTH_ACCESS_ATTEMPT: &str = "app.generic.unauth_app_access_attempt";
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
        sink: &(impl AuditSink + ?Sized),
        event_type: &str,
        message: &str,
        targets: Vec<Entity>,
    ) {
        let mut event = Event::new(event_type, message, self.entity.clone()).client(&self.client);
        event.targets = targets;
        record(sink, event).await;
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
    /// `authenticationContext.issuer` (id, type) of a sign-in through an identity provider;
    /// `authenticationProvider` is then `FEDERATION`.
    pub idp: Option<(String, String)>,
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
            idp: None,
        }
    }

    /// A sign-in through the identity provider `id` of Okta type `kind` (`OIDC`, `GOOGLE`…).
    pub fn via_idp(mut self, id: &str, kind: &str) -> Self {
        self.idp = Some((id.to_owned(), kind.to_owned()));
        self
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
    pub(super) fn into_record(self, published_ms: i64) -> LogEventRecord {
        self.into_record_at(published_ms, okta_date_ms(published_ms))
    }

    /// [`Self::into_record`] with `published` already formatted (`okta_date_ms` of
    /// `published_ms`): the events of one request share it, formatted once.
    pub(super) fn into_record_at(self, published_ms: i64, published: String) -> LogEventRecord {
        let uuid = new_uuid(published_ms);
        let transaction_id = random_token(15);
        // Serialized from borrowed, typed parts: no intermediate `Value` tree (dozens of
        // allocations per event, on every token response).
        let body = body::LogEvent {
            uuid: &uuid,
            published,
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
                authentication_provider: self.idp.as_ref().map(|_| "FEDERATION"),
                credential_provider: (),
                credential_type: self.credential_type,
                issuer: self
                    .idp
                    .as_ref()
                    .map(|(id, kind)| body::Issuer { id, kind }),
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
        // An event's body is about 1.3 KB: written into one buffer of about that size rather
        // than grown from serde_json's 128 bytes (four reallocations and copies).
        let mut json = Vec::with_capacity(1536);
        let body = match serde_json::to_writer(&mut json, &body) {
            Ok(()) => String::from_utf8(json).unwrap_or_else(|_| String::from("{}")),
            Err(_) => String::from("{}"),
        };
        let mut words: Vec<&str> = vec![
            &self.event_type,
            &self.display_message,
            self.result,
            &self.actor.id,
        ];
        words.extend(self.reason.as_deref());
        words.extend(self.actor.alternate_id.as_deref());
        words.extend(self.actor.display_name.as_deref());
        words.extend(self.client.ip.as_deref());
        for t in &self.targets {
            words.push(&t.id);
            words.extend(t.alternate_id.as_deref());
            words.extend(t.display_name.as_deref());
        }
        let search_text = search_text(&words);
        LogEventRecord {
            uuid,
            published_ms,
            event_type: self.event_type,
            severity: self.severity.as_str().to_owned(),
            outcome_result: self.result.to_owned(),
            actor_id: Some(self.actor.id),
            actor_alternate_id: self.actor.alternate_id,
            target_ids: self.targets.into_iter().map(|t| t.id).collect(),
            search_text,
            body,
        }
    }
}

/// The words, lower-cased and separated by spaces, in one string (the `q=` column).
fn search_text(words: &[&str]) -> String {
    let mut out = String::with_capacity(words.iter().map(|w| w.len() + 1).sum());
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.is_ascii() {
            out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            out.push_str(&word.to_lowercase());
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_dates() {
        assert_eq!(parse_instant_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_instant_ms("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_instant_ms("yesterday"), None);
        assert_eq!(okta_date_ms(1500), "1970-01-01T00:00:01.500Z");
    }

    #[test]
    fn search_text_is_the_words_lower_cased() {
        let words = [
            "App.OAuth2.As",
            "Grant",
            "ÉLODIE Ünal",
            "ΟΔΟΣ",
            "ΣΑ Σ",
            "10.0.0.1",
        ];
        assert_eq!(
            search_text(&words),
            words.join(" ").to_lowercase(),
            "as `join` then `to_lowercase`, which the column was made with"
        );
        assert_eq!(search_text(&[]), "");
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
