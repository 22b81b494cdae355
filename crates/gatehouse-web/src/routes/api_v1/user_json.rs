//! Okta's `User` object, serialised straight from [`User`]: a page of 1000 users is one
//! `Vec<u8>` with no `serde_json::Value` tree, no sorted maps and no per-field `String`s (the
//! DOM cost ~15 µs a user, more than the SQL behind the page).

use std::fmt::{self, Display};

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::domain::{Timestamp, User};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::{ApiError, okta_date};

/// The id of the default user type (every user has it).
pub(crate) const DEFAULT_USER_TYPE_ID: &str = "otydefault0000000000";

/// Roughly one serialised user, so a page's buffer seldom grows.
const BYTES_PER_USER: usize = 720;

/// One user as `/api/v1/users` answers it, keys in Okta's order.
pub(crate) struct UserJson<'a> {
    origin: &'a str,
    user: &'a User,
}

impl<'a> UserJson<'a> {
    pub(crate) fn new(origin: &'a str, user: &'a User) -> Self {
        Self { origin, user }
    }
}

impl Serialize for UserJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let u = self.user;
        let mut m = s.serialize_struct("User", 12)?;
        m.serialize_field("id", &u.id)?;
        m.serialize_field("status", u.status.as_str())?;
        m.serialize_field("created", &OktaDate(u.created))?;
        m.serialize_field("activated", &u.activated.map(OktaDate))?;
        m.serialize_field("statusChanged", &u.status_changed.map(OktaDate))?;
        m.serialize_field("lastLogin", &u.last_login.map(OktaDate))?;
        m.serialize_field("lastUpdated", &OktaDate(u.last_updated))?;
        m.serialize_field("passwordChanged", &u.password_changed.map(OktaDate))?;
        m.serialize_field(
            "type",
            &TypeRef {
                id: DEFAULT_USER_TYPE_ID,
            },
        )?;
        m.serialize_field(
            "profile",
            &Profile {
                first_name: &u.first_name,
                last_name: &u.last_name,
                login: &u.login,
                email: &u.email,
                display_name: u.display_name.as_deref(),
            },
        )?;
        m.serialize_field(
            "credentials",
            &Credentials {
                password: u.password_hash.as_ref().map(|_| Empty {}),
                provider: Provider {
                    kind: "OKTA",
                    name: "OKTA",
                },
            },
        )?;
        m.serialize_field(
            "_links",
            &Links {
                self_: Href {
                    href: UserHref {
                        origin: self.origin,
                        id: &u.id,
                    },
                },
            },
        )?;
        m.end()
    }
}

/// A JSON array of users as the response body (`application/json`), written in one buffer.
pub(crate) fn users_page(origin: &str, users: &[User]) -> Result<Response, ApiError> {
    let mut body = Vec::with_capacity(2 + users.len() * BYTES_PER_USER);
    let mut ser = serde_json::Serializer::new(&mut body);
    ser.collect_seq(users.iter().map(|u| UserJson::new(origin, u)))
        .map_err(|e| ApiError::Internal(format!("user page: {e}")))?;
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Okta's date format, `YYYY-MM-DDTHH:mm:ss.000Z`, written without an intermediate `String`.
struct OktaDate(Timestamp);

impl Display for OktaDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match time::OffsetDateTime::from_unix_timestamp(self.0) {
            Ok(t) if (0..=9999).contains(&t.year()) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            // Years beyond four digits (never seen in practice) keep `okta_date`'s rendering.
            _ => f.write_str(&okta_date(self.0)),
        }
    }
}

impl OktaDate {
    /// The date's 24 ASCII bytes, written digit by digit (five dates a user, a thousand a page:
    /// `collect_str` through `fmt` cost more than the rest of the user). `None` out of range.
    fn ascii(&self) -> Option<[u8; 24]> {
        let t = time::OffsetDateTime::from_unix_timestamp(self.0).ok()?;
        let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
        let mut b = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut n: u32| {
            for digit in b[at..at + width].iter_mut().rev() {
                *digit = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, u32::from(u8::from(t.month())));
        put(8, 2, u32::from(t.day()));
        put(11, 2, u32::from(t.hour()));
        put(14, 2, u32::from(t.minute()));
        put(17, 2, u32::from(t.second()));
        Some(b)
    }
}

impl Serialize for OktaDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.ascii() {
            Some(b) => match std::str::from_utf8(&b) {
                Ok(date) => s.serialize_str(date),
                Err(_) => s.collect_str(self),
            },
            None => s.collect_str(self),
        }
    }
}

/// `{origin}/api/v1/users/{id}`.
struct UserHref<'a> {
    origin: &'a str,
    id: &'a str,
}

impl Serialize for UserHref<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Display for UserHref<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.origin)?;
        f.write_str("/api/v1/users/")?;
        f.write_str(self.id)
    }
}

#[derive(Serialize)]
struct TypeRef {
    id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Profile<'a> {
    first_name: &'a str,
    last_name: &'a str,
    login: &'a str,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
}

#[derive(Serialize)]
struct Credentials {
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<Empty>,
    provider: Provider,
}

/// `{}`.
#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct Provider {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct Links<'a> {
    #[serde(rename = "self")]
    self_: Href<'a>,
}

#[derive(Serialize)]
struct Href<'a> {
    href: UserHref<'a>,
}

#[cfg(test)]
#[path = "user_json_tests.rs"]
mod tests;
