//! The admin console (`/admin/...`) and the end-user pages (`/app/UserHome`, `/enduser/...`):
//! server-rendered pages over the same services as `/api/v1`. One file per area; this one has
//! what they share: who is signed in, the CSRF check, form parsing, page rendering and errors.

mod apps;
mod assets;
mod auth_servers;
mod confirm;
mod directory;
mod enduser;
mod enduser_password;
mod factors;
mod groups;
mod idps;
mod org_import;
mod password_policies;
mod policies;
mod policy_rule_form;
mod reports;
mod security_api;
mod signin;
pub(crate) use signin::LOGIN_CSRF;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use gatehouse_core::crypto::{constant_time_eq, sha256_b64url};
use gatehouse_core::services::admin_roles;
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::sessions::{self, CurrentSession};

use crate::AppState;
use crate::client_ip::Client;
use crate::cookies;
use askama::Template;
use gatehouse_core::services::system_log::{Actor, ClientInfo};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(assets::router())
        .merge(signin::router())
        .merge(apps::router())
        .merge(directory::router())
        .merge(groups::router())
        .merge(policies::router())
        .merge(password_policies::router())
        .merge(security_api::router())
        .merge(idps::router())
        .merge(reports::router())
        .merge(auth_servers::router())
        .merge(enduser::router())
        .merge(enduser_password::router())
        .merge(factors::router())
        .merge(org_import::router())
}

/// [`router`] with destructive actions asking first ([`confirm::ask_first`]).
pub fn router_with_confirmations(state: AppState) -> Router<AppState> {
    router().layer(axum::middleware::from_fn_with_state(
        state,
        confirm::ask_first,
    ))
}

/// The console's CSP: scripts and styles only from this server's static files, forms only to
/// this server, no framing.
const CONSOLE_CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Renders a console page with the console's security headers.
pub(crate) fn render(status: StatusCode, html: Result<String, askama::Error>) -> Response {
    match html {
        Ok(body) => {
            let mut res = (status, Html(body)).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONSOLE_CSP),
            );
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "console template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A redirect after a successful form (303, so the browser follows with GET).
/// A location that is no valid header value (it came from the request) goes to the dashboard.
pub(crate) fn see_other(location: &str) -> Response {
    let value = HeaderValue::from_str(location)
        .unwrap_or_else(|_| HeaderValue::from_static("/app/UserHome"));
    let mut res = StatusCode::SEE_OTHER.into_response();
    res.headers_mut().insert(header::LOCATION, value);
    res
}

/// The signed-in person: their session, and the CSRF token of the console's forms.
pub(crate) struct Viewer {
    pub current: CurrentSession,
    /// Bound to the session: `sha256("console-csrf:" + session cookie)`. Only the holder of the
    /// HttpOnly cookie's page can know it, and it changes with every sign-in.
    pub csrf: String,
    /// Where the request came from, for the System Log.
    pub client: ClientInfo,
}

impl Viewer {
    pub fn user_id(&self) -> &str {
        &self.current.user.id
    }

    /// The signed-in person as the actor of the changes they make.
    pub fn actor(&self) -> Actor {
        Actor::user(&self.current.user, &self.client)
    }

    /// Parses a submitted form and checks its CSRF token.
    pub fn form(&self, body: &[u8]) -> Result<Form, ConsoleError> {
        let form = Form::parse(body);
        if constant_time_eq(form.get("csrf").as_bytes(), self.csrf.as_bytes()) {
            Ok(form)
        } else {
            Err(ConsoleError::BadCsrf)
        }
    }
}

/// The "Okta domain" as Okta's console shows it: the org URL without its scheme, so that the
/// guides' `https://{yourOktaDomain}` templates come out right when it is pasted in.
pub(crate) fn okta_domain(org_url: &str) -> String {
    org_url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

fn csrf_for(cookie: &str) -> String {
    sha256_b64url(&format!("console-csrf:{cookie}"))
}

async fn viewer(parts: &mut Parts, state: &AppState) -> Result<Viewer, ConsoleError> {
    let here = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let cookie = cookies::session(&parts.headers).unwrap_or_default();
    let current = sessions::current(&state.provider, Some(cookie))
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?
        .ok_or(ConsoleError::SignIn(here))?;
    let csrf = csrf_for(cookie);
    let Ok(Client(client)) = Client::from_request_parts(parts, state).await;
    Ok(Viewer {
        current,
        csrf,
        client,
    })
}

/// A signed-in super administrator; others get the 403 page, anonymous callers the sign-in.
pub(crate) struct Admin(pub Viewer);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let v = viewer(parts, state).await?;
        if admin_roles::is_super_admin(&state.provider, &v.current.user).await? {
            Ok(Admin(v))
        } else {
            Err(ConsoleError::Forbidden)
        }
    }
}

/// Anyone signed in (the end-user dashboard and profile).
pub(crate) struct EndUser(pub Viewer);

impl FromRequestParts<AppState> for EndUser {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        viewer(parts, state).await.map(EndUser)
    }
}

/// What every console page shows around its content.
pub(crate) struct Chrome {
    pub org_name: String,
    pub user_name: String,
    pub csrf: String,
    /// The navigation entry to mark current: `dashboard`, `apps`, `people`, `groups`, `api`,
    /// `syslog`, `import`.
    pub section: &'static str,
    pub is_admin: bool,
}

impl Chrome {
    pub fn new(state: &AppState, viewer: &Viewer, section: &'static str, is_admin: bool) -> Self {
        let u = &viewer.current.user;
        Self {
            org_name: state.config.branding.org_name.clone(),
            user_name: format!("{} {}", u.first_name, u.last_name),
            csrf: viewer.csrf.clone(),
            section,
            is_admin,
        }
    }

    pub fn admin(state: &AppState, admin: &Admin, section: &'static str) -> Self {
        Self::new(state, &admin.0, section, true)
    }
}

/// `?q=…&notice=…` of the list pages (People, Applications), and `?notice=…` of the others.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub notice: String,
}

/// The person or group a form's select names: `None` when the choice names nobody (the page
/// then says to choose), an error only when the lookup itself fails.
pub(crate) async fn chosen<T>(
    lookup: impl std::future::Future<Output = Result<T, DirectoryError>>,
) -> Result<Option<T>, ConsoleError> {
    match lookup.await {
        Ok(found) => Ok(Some(found)),
        Err(DirectoryError::Missing { .. } | DirectoryError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// An `application/x-www-form-urlencoded` body, keeping repeated keys (checkboxes, selects).
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// Every field as submitted, in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.0
    }

    /// The first value, trimmed; empty when absent.
    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.trim())
    }

    /// The first value as typed (passwords and usernames: spaces may be part of them); empty
    /// when absent.
    pub fn raw(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every non-blank value of a repeated key.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    pub fn checked(&self, key: &str) -> bool {
        !self.get(key).is_empty()
    }

    /// One entry per line of a textarea (and of repeated fields), blank lines dropped.
    pub fn lines(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| {
                v.lines()
                    .map(str::trim)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|l| !l.is_empty())
            .collect()
    }
}

/// Validation errors to show next to their fields (by the form field's name).
#[derive(Debug, Default, Clone)]
pub(crate) struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), message.into()));
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A service's refusal as a field error: `fields` maps the service's field names to the
    /// form's; an unmapped field's message goes to `fallback`. Anything that is not a
    /// validation problem is returned as the page error it is.
    pub fn from_service(
        e: DirectoryError,
        fields: &[(&str, &str)],
        fallback: &str,
    ) -> Result<Self, ConsoleError> {
        let mut errors = Self::default();
        match e {
            DirectoryError::Invalid { field, message } => {
                let target = fields
                    .iter()
                    .find(|(service, _)| *service == field)
                    .map_or(fallback, |(_, form)| form);
                errors.add(target, sentence(&message));
            }
            DirectoryError::Conflict { field } => {
                let target = fields
                    .iter()
                    .find(|(service, _)| *service == field)
                    .map_or(fallback, |(_, form)| form);
                errors.add(target, "This value is already in use.");
            }
            DirectoryError::Forbidden(message) => errors.add(fallback, message),
            DirectoryError::StillActive(_) => {
                errors.add(fallback, "Deactivate the app before deleting it.")
            }
            other => return Err(other.into()),
        }
        Ok(errors)
    }
}

/// `must be 1 to 100 characters` → `Must be 1 to 100 characters.`
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Why a console request did not produce its page.
#[derive(Debug)]
pub(crate) enum ConsoleError {
    /// Not signed in: go to the sign-in page, then come back here.
    SignIn(String),
    /// Signed in, but not an administrator.
    Forbidden,
    /// The form's CSRF token is missing or wrong.
    BadCsrf,
    NotFound,
    /// A request the service refused that has no field to show it next to.
    Problem(String),
    Internal(String),
}

impl From<DirectoryError> for ConsoleError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NotFound(_) | DirectoryError::Missing { .. } => Self::NotFound,
            DirectoryError::Invalid { message, .. } => Self::Problem(sentence(&message)),
            DirectoryError::Forbidden(m) => Self::Problem(m),
            DirectoryError::Conflict { field } => {
                Self::Problem(format!("{field} is already in use."))
            }
            DirectoryError::StillActive(_) => {
                Self::Problem("Deactivate the app before deleting it.".into())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "console/problem.html")]
struct ProblemPage<'a> {
    title: &'a str,
    message: &'a str,
    org_name: &'a str,
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            Self::SignIn(here) => {
                let target = format!(
                    "/login/login.htm?fromURI={}",
                    url::form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
                );
                return see_other(&target);
            }
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "You do not have permission to access this page",
                "Only administrators may use the admin console. Ask a super administrator for \
                 access, or go to your dashboard.",
            ),
            Self::BadCsrf => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was not sent from this console session (its security token is \
                 missing or wrong). Go back, reload the page and try again.",
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing at this address: it may have been deleted.",
            ),
            Self::Problem(m) => (StatusCode::BAD_REQUEST, "That did not work", m.as_str()),
            Self::Internal(e) => {
                tracing::error!(error = %e, "console request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not complete this request. Try again; if it keeps \
                     happening, look at the server's log.",
                )
            }
        };
        let page = ProblemPage {
            title,
            message,
            org_name: "Gatehouse",
        };
        render(status, page.render())
    }
}

/// Unix seconds as `2026-12-01 11:30 UTC`.
pub(crate) fn date(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// A local path to go back to after signing in: `/…` only, never `//host` or `/\host`.
pub(crate) fn safe_from_uri(raw: &str) -> Option<&str> {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && !raw.contains('\\')
        && raw.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_uri_stays_on_this_server() {
        assert_eq!(
            safe_from_uri("/admin/apps/active"),
            Some("/admin/apps/active")
        );
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "",
            "/a\\b",
            "/caf\u{e9}",
            "/a b",
            "/a\r\nSet-Cookie: x",
        ] {
            assert_eq!(safe_from_uri(bad), None, "{bad}");
        }
    }

    #[test]
    fn form_keeps_repeated_keys_and_lines() {
        let f =
            Form::parse(b"g=a&g=b&uris=https%3A%2F%2Fa%2Fcb%0D%0A%0D%0Ahttps%3A%2F%2Fb%2Fcb&x=+1+");
        assert_eq!(f.all("g"), ["a", "b"]);
        assert_eq!(f.lines("uris"), ["https://a/cb", "https://b/cb"]);
        assert_eq!(f.get("x"), "1");
        assert_eq!(f.get("missing"), "");
    }
}
