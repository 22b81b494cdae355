//! The cookies: the sign-in session and the forms' CSRF tokens.
//!
//! The session cookie follows Okta: over https it is `SameSite=None; Secure`, so a single-page
//! app on another site can end it (`DELETE /api/v1/sessions/me` with credentials, from a
//! trusted origin) and renew tokens in a hidden iframe; it is named `__Host-gh_sid` (Secure,
//! `Path=/`, no `Domain`: no other host, not even a subdomain, can set or shadow it). Over plain
//! http, where browsers refuse `SameSite=None` without `Secure`, it stays `gh_sid` with
//! `SameSite=Lax`. A `gh_sid` set before this (https included) is still read, and cleared with
//! the new one. Cross-site requests that change something stay guarded as before: forms by
//! their CSRF tokens (whose cookies stay `Lax`), `DELETE /api/v1/sessions/me` by CORS and the
//! trusted-origin check.

use axum::http::HeaderMap;

/// The session cookie's name over plain http (and before the `__Host-` prefix).
pub const SESSION: &str = "gh_sid";
/// The session cookie's name over https.
pub const SESSION_HOST: &str = "__Host-gh_sid";
pub const CSRF: &str = "gh_csrf";

pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The session cookie's value: the `__Host-` one first, then one set over http or before it.
pub fn session(headers: &HeaderMap) -> Option<&str> {
    get(headers, SESSION_HOST)
        .filter(|v| !v.is_empty())
        .or_else(|| get(headers, SESSION))
}

fn is_https(origin: &str) -> bool {
    origin.starts_with("https://")
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure on https origins.
pub fn set(name: &str, value: &str, max_age: i64, origin: &str) -> String {
    let secure = if is_https(origin) { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

pub fn clear(name: &str, origin: &str) -> String {
    set(name, "", 0, origin)
}

/// The session cookie's `Set-Cookie` values: over https `__Host-gh_sid` with `SameSite=None`
/// (and the old `gh_sid` cleared), over http `gh_sid` with `SameSite=Lax`.
pub fn set_session(value: &str, max_age: i64, origin: &str) -> Vec<String> {
    if is_https(origin) {
        vec![
            format!(
                "{SESSION_HOST}={value}; Path=/; HttpOnly; Secure; SameSite=None; Max-Age={max_age}"
            ),
            clear(SESSION, origin),
        ]
    } else {
        vec![set(SESSION, value, max_age, origin)]
    }
}

/// Ends the session cookie, whatever its name.
pub fn clear_session(origin: &str) -> Vec<String> {
    let mut all = set_session("", 0, origin);
    if !is_https(origin) {
        // A `__Host-` cookie can only be cleared over https; over http there is none to clear.
        all.truncate(1);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_sessions_are_cross_site_host_cookies() {
        let set = set_session("v", 60, "https://id.example.com");
        assert_eq!(
            set[0],
            "__Host-gh_sid=v; Path=/; HttpOnly; Secure; SameSite=None; Max-Age=60"
        );
        assert!(set[1].starts_with("gh_sid=; ") && set[1].contains("Max-Age=0"));
        let set = set_session("v", 60, "http://127.0.0.1:8080");
        assert_eq!(
            set,
            ["gh_sid=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"]
        );
        assert_eq!(clear_session("http://x").len(), 1);
        assert_eq!(clear_session("https://x").len(), 2);
    }

    #[test]
    fn the_host_cookie_wins() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            axum::http::HeaderValue::from_static("gh_sid=old; __Host-gh_sid=new"),
        );
        assert_eq!(session(&h), Some("new"));
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            axum::http::HeaderValue::from_static("gh_sid=old"),
        );
        assert_eq!(session(&h), Some("old"));
    }
}
