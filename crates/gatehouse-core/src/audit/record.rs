//! Recording: events written to the System Log through an [`AuditSink`], which anything that
//! has a clock and a log store can be (the `Provider` is one). A failed write is a warning,
//! never the caller's error.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use super::event::{ClientInfo, Entity, Event, event_type, oauth2_event_type, okta_date_ms};
use crate::domain::{LogEventRecord, Timestamp, User};
use crate::store::SystemLogStore;

/// What recording needs: the clock and where events go. Protocol code takes this instead of
/// the whole `Provider`, so `audit` sits below everything that records.
pub trait AuditSink: Send + Sync {
    fn now(&self) -> Timestamp;
    fn log_store(&self) -> &dyn SystemLogStore;
    /// The last `published` stamped, kept so that a node's events never step back by less
    /// than a second ([`now_ms`]); `None`: no such memory.
    fn last_published_ms(&self) -> Option<&AtomicI64> {
        None
    }
}

impl<T: AuditSink + ?Sized> AuditSink for Arc<T> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
    fn log_store(&self) -> &dyn SystemLogStore {
        (**self).log_store()
    }
    fn last_published_ms(&self) -> Option<&AtomicI64> {
        (**self).last_published_ms()
    }
}

impl<T: AuditSink + ?Sized> AuditSink for &T {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
    fn log_store(&self) -> &dyn SystemLogStore {
        (**self).log_store()
    }
    fn last_published_ms(&self) -> Option<&AtomicI64> {
        (**self).last_published_ms()
    }
}

/// "Now" in milliseconds: the provider's clock (which tests move) for the seconds, the system
/// clock for the milliseconds within them, so events of one second still sort by time.
///
/// The System Log is listed in `published` order, so a node's events should not step back:
/// the two clocks are read apart (a second may turn between them), and a clock that tests
/// hold still sees the milliseconds wrap. A step back of under a second therefore keeps the
/// last value (ties list in the order written); a longer one is a clock really set back
/// (a test moving it, or the system's), and is followed.
pub fn now_ms(sink: &(impl AuditSink + ?Sized)) -> i64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::from(d.subsec_millis()));
    let read = sink.now() * 1000 + millis;
    let Some(last) = sink.last_published_ms() else {
        return read;
    };
    match last.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |prev| {
        Some(no_step_back(read, prev))
    }) {
        Ok(prev) | Err(prev) => no_step_back(read, prev),
    }
}

/// `read`, unless it is less than a second before `prev`.
fn no_step_back(read: i64, prev: i64) -> i64 {
    if read < prev && prev - read < 1000 {
        prev
    } else {
        read
    }
}

/// Records `event`. A failure to write is logged and otherwise ignored: the System Log must
/// never turn a sign-in or an API call into an error.
pub async fn record(sink: &(impl AuditSink + ?Sized), event: Event) {
    let event_type = event.event_type.clone();
    let record = event.into_record(now_ms(sink));
    if let Err(e) = sink.log_store().append_log_event(&record).await {
        tracing::warn!(error = %e, event_type, "could not record a System Log event");
    }
}

/// Records several events of one request together (one write instead of one each), as
/// [`record`] does.
pub async fn record_all(sink: &(impl AuditSink + ?Sized), events: Vec<Event>) {
    let published_ms = now_ms(sink);
    let published = okta_date_ms(published_ms);
    let records: Vec<LogEventRecord> = events
        .into_iter()
        .map(|e| e.into_record_at(published_ms, published.clone()))
        .collect();
    if let Err(e) = sink.log_store().append_log_events(&records).await {
        tracing::warn!(error = %e, events = records.len(), "could not record System Log events");
    }
}

/// `user.authentication.sso` and `app.oauth2[.as].authorize.code`: a user was sent back to a
/// client with an authorization code (never the code itself).
pub async fn record_code_issued(
    sink: &(impl AuditSink + ?Sized),
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
    record_all(sink, vec![sso, code]).await;
}

/// `app.generic.unauth_app_access_attempt` (FAILURE): a signed-in user who is not assigned to
/// the app was refused, as Okta logs it ("User attempted unauthorized access to app").
pub async fn record_unassigned_access(
    sink: &(impl AuditSink + ?Sized),
    app: &crate::domain::App,
    user: &User,
) {
    let event = Event::new(
        event_type::APP_UNAUTH_ACCESS_ATTEMPT,
        "User attempted unauthorized access to app",
        Entity::user(user),
    )
    .target(Entity::app(app))
    .failure("User is not assigned to the client application.");
    record(sink, event).await;
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
        // Every token response logs these: the types are spelled out rather than formatted
        // (what `oauth2_event_type` makes of `token.grant.<token>`).
        let (org, custom, message) = match token {
            "id_token" => (
                "app.oauth2.token.grant.id_token",
                "app.oauth2.as.token.grant.id_token",
                "OAuth2 id token is granted",
            ),
            "refresh_token" => (
                "app.oauth2.token.grant.refresh_token",
                "app.oauth2.as.token.grant.refresh_token",
                "OAuth2 refresh token is granted",
            ),
            "access_token" => (
                "app.oauth2.token.grant.access_token",
                "app.oauth2.as.token.grant.access_token",
                "OAuth2 access token is granted",
            ),
            other => {
                return Event::new(
                    oauth2_event_type(self.custom_server, &format!("token.grant.{other}")),
                    "OAuth2 access token is granted",
                    self.actor(),
                )
                .client(self.client)
                .debug("grantType", self.grant_type);
            }
        };
        Event::new(
            if self.custom_server { custom } else { org },
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
    sink: &(impl AuditSink + ?Sized),
    log: &TokenRequestLog<'_>,
    tokens: &[&str],
) -> Vec<LogEventRecord> {
    let published_ms = now_ms(sink);
    let published = okta_date_ms(published_ms);
    tokens
        .iter()
        .map(|token| {
            log.event(token)
                .into_record_at(published_ms, published.clone())
        })
        .collect()
}

/// The failure event of a refused token request (`error` is the OAuth error code).
pub async fn record_token_refusal(
    sink: &(impl AuditSink + ?Sized),
    log: &TokenRequestLog<'_>,
    error: &str,
) {
    let event = log.event("access_token").failure(error);
    record(sink, event).await;
}

#[cfg(test)]
mod tests {
    use super::{ClientInfo, TokenRequestLog, no_step_back, oauth2_event_type};

    #[test]
    fn token_grant_types_are_oauth2_event_types() {
        let client = ClientInfo::default();
        for custom_server in [false, true] {
            let log = TokenRequestLog {
                client: &client,
                custom_server,
                client_id: Some("0oa1"),
                grant_type: "refresh_token",
            };
            for token in ["access_token", "id_token", "refresh_token", "other"] {
                assert_eq!(
                    log.event(token).event_type,
                    oauth2_event_type(custom_server, &format!("token.grant.{token}"))
                );
            }
        }
    }

    #[test]
    fn published_never_steps_back_by_less_than_a_second() {
        assert_eq!(no_step_back(5_001, 5_999), 5_999);
        assert_eq!(no_step_back(6_000, 5_999), 6_000);
        assert_eq!(no_step_back(5_999, 5_999), 5_999);
        // A clock set back for real (two hours) is followed.
        assert_eq!(no_step_back(5_000, 7_205_000), 5_000);
        assert_eq!(no_step_back(4_999, 5_999), 4_999);
    }
}
