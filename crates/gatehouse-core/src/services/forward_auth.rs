//! Forward authentication for reverse proxies (nginx `auth_request`, Traefik `forwardAuth`,
//! Caddy `forward_auth`): the proxy asks, for each request it protects, who the browser's
//! Gatehouse session belongs to, and passes the answer to the protected app as headers.
//!
//! Everything is read fresh on every call (session, user status, group memberships, the app's
//! assignments), so a deactivation or a group change shows on the next proxied request.

use crate::domain::{AppStatus, TrustedOriginScope, User};
use crate::oauth2::OAuthError;
use crate::provider::Provider;
use crate::services::sessions;
use crate::store::Page;

/// Who is behind a live session, as the proxy passes it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub login: String,
    pub email: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    /// Group names, sorted; the built-in `Everyone` is left out (every user has it).
    pub groups: Vec<String>,
}

/// The answer for one proxied request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A live session of an active user allowed through.
    Allow(Box<Identity>),
    /// No session, an expired one, or an inactive user: the browser must sign in.
    SignIn,
    /// Signed in, but not allowed through; the reason is for the log and the page.
    Deny(String),
}

/// Decides one proxied request from the session `cookie`; with `app` (a client id), the user
/// must also be assigned to that app (directly or through a group) and the app be active.
pub async fn verify(
    provider: &Provider,
    cookie: Option<&str>,
    app: Option<&str>,
) -> Result<Verdict, OAuthError> {
    let Some(current) = sessions::current(provider, cookie).await? else {
        return Ok(Verdict::SignIn);
    };
    let user = current.user;
    if let Some(client_id) = app.filter(|c| !c.is_empty()) {
        let Some(app) = provider.store.find_app_by_client_id(client_id).await? else {
            return Ok(Verdict::Deny(format!(
                "No application has client id {client_id}."
            )));
        };
        if app.status != AppStatus::Active {
            return Ok(Verdict::Deny(format!(
                "The application {} is not active.",
                app.label
            )));
        }
        if !provider.store.is_user_assigned(&app.id, &user.id).await? {
            return Ok(Verdict::Deny(format!(
                "{} is not assigned to the application {}.",
                user.login, app.label
            )));
        }
    }
    let groups = group_names(provider, &user).await?;
    Ok(Verdict::Allow(Box::new(identity(&user, groups))))
}

async fn group_names(provider: &Provider, user: &User) -> Result<Vec<String>, OAuthError> {
    let mut names: Vec<String> = provider
        .store
        .list_user_groups(&user.id)
        .await?
        .into_iter()
        .map(|g| g.name)
        .filter(|n| n != crate::domain::EVERYONE)
        .collect();
    names.sort();
    Ok(names)
}

fn identity(user: &User, groups: Vec<String>) -> Identity {
    Identity {
        login: user.login.clone(),
        email: user.email.clone(),
        name: user.full_name(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        groups,
    }
}

/// Where the sign-in may send the browser back to: `raw` when it is an absolute http(s) URL
/// on Gatehouse's own origin, on an ACTIVE trusted origin with the `REDIRECT` scope, or (with
/// `app`) on the origin of one of that active app's sign-in redirect URIs. Anything else is
/// refused (`None`), so the sign-in entry point is never an open redirect.
pub async fn allowed_return_url(
    provider: &Provider,
    own_origin: &str,
    raw: &str,
    app: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    let Some(origin) = url_origin(raw) else {
        return Ok(None);
    };
    if url_origin(own_origin).as_deref() == Some(origin.as_str()) {
        return Ok(Some(raw.to_owned()));
    }
    if let Some(client_id) = app.filter(|c| !c.is_empty())
        && let Some(app) = provider.store.find_app_by_client_id(client_id).await?
        && app.status == AppStatus::Active
        && app
            .settings
            .redirect_uris
            .iter()
            .any(|u| url_origin(u).as_deref() == Some(origin.as_str()))
    {
        return Ok(Some(raw.to_owned()));
    }
    let mut after: Option<String> = None;
    loop {
        let page = Page {
            after: after.as_deref(),
            limit: 200,
        };
        let batch = provider.store.list_trusted_origins(page).await?;
        if batch
            .iter()
            .any(|t| t.allows(TrustedOriginScope::Redirect) && t.origin == origin)
        {
            return Ok(Some(raw.to_owned()));
        }
        match batch.last() {
            Some(last) if batch.len() == 200 => after = Some(last.id.clone()),
            _ => return Ok(None),
        }
    }
}

/// The canonical origin of an absolute http(s) URL without user info; `None` otherwise.
fn url_origin(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
        || raw.contains('\\')
        || raw.chars().any(char::is_control)
    {
        return None;
    }
    match url.origin() {
        o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// Sets a header value only from text a header can carry: control characters (a newline
/// would split the header) become spaces, as a login or name never needs them.
pub fn header_safe(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls_are_absolute_http_without_credentials() {
        assert_eq!(
            url_origin("https://App.Example:443/x?y=1").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            url_origin("http://127.0.0.1:8081/").as_deref(),
            Some("http://127.0.0.1:8081")
        );
        for bad in [
            "/relative",
            "//evil.example/",
            "javascript:alert(1)",
            "https://user:pw@evil.example/",
            "https://evil.example\\@good.example/",
            "ftp://files.example/",
            "",
        ] {
            assert_eq!(url_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn header_values_lose_control_characters() {
        assert_eq!(header_safe("a\r\nb"), "a  b");
        assert_eq!(header_safe("Zoë"), "Zoë");
    }
}
