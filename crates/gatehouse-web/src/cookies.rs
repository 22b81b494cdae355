//! The two cookies: the sign-in session and the sign-in form's CSRF token.

use axum::http::HeaderMap;

pub const SESSION: &str = "gh_sid";
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

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure on https origins.
pub fn set(name: &str, value: &str, max_age: i64, origin: &str) -> String {
    let secure = if origin.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

pub fn clear(name: &str, origin: &str) -> String {
    set(name, "", 0, origin)
}
