//! Okta's management API, `/api/v1` (users, groups and OIDC apps so far). Handlers are thin: they parse
//! the request, call `gatehouse_core::services`, and render Okta's JSON. Every error takes
//! Okta's shape (`error.rs`), and every response carries `X-Okta-Request-Id` and the
//! `X-Rate-Limit-*` headers.

mod app_grants;
mod apps;
pub(crate) mod audit;
mod auth;
mod authorization_servers;
mod error;
mod groups;
mod logs;
mod openapi;
mod policies;
mod policies_json;
mod policies_openapi;
mod sessions;
mod trusted_origins;
mod user_grants;
mod users;

use axum::Router;
use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, OriginalUri, Path, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post, put};
use gatehouse_core::crypto::random_token;
use gatehouse_core::domain::{Timestamp, text};
use gatehouse_core::services::rate_limit::{self, RatePolicy};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::AppState;
use crate::client_ip;
use crate::origin::Origin;
use crate::routes::authorization_header;
pub(crate) use auth::Caller;
pub use error::ApiError;

pub fn router(state: &AppState) -> Router<AppState> {
    let api = Router::new()
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::get)
                .post(users::update_partial)
                .put(users::update_full)
                .delete(users::delete),
        )
        .route("/users/{id}/groups", get(users::groups))
        .route("/users/{id}/lifecycle/{op}", post(users::lifecycle))
        .route("/users/{id}/appLinks", get(apps::app_links))
        .route(
            "/users/{id}/grants",
            get(user_grants::list).delete(user_grants::delete_all),
        )
        .route(
            "/users/{id}/grants/{grant_id}",
            get(user_grants::get).delete(user_grants::delete),
        )
        .route("/users/{id}/clients", get(user_grants::clients))
        .route(
            "/users/{id}/clients/{client_id}/grants",
            get(user_grants::client_grants).delete(user_grants::delete_client_grants),
        )
        .route("/groups", get(groups::list).post(groups::create))
        .route(
            "/groups/{id}",
            get(groups::get).put(groups::update).delete(groups::delete),
        )
        .route("/groups/{id}/users", get(groups::members))
        .route(
            "/groups/{gid}/users/{uid}",
            put(groups::add_member).delete(groups::remove_member),
        )
        .route(
            "/apps/{id}/grants",
            get(app_grants::list).post(app_grants::create),
        )
        .route(
            "/apps/{id}/grants/{grant_id}",
            get(app_grants::get).delete(app_grants::delete),
        )
        .route(
            "/sessions/me",
            get(sessions::get_me).delete(sessions::delete_me),
        )
        .route("/openapi.json", get(openapi::document))
        .route("/logs", get(logs::list))
        .route("/apps", get(apps::list).post(apps::create))
        .route(
            "/apps/{id}",
            get(apps::get).put(apps::replace).delete(apps::delete),
        )
        .route("/apps/{id}/lifecycle/{op}", post(apps::lifecycle))
        .route("/apps/{id}/groups", get(apps::list_groups))
        .route(
            "/apps/{id}/groups/{gid}",
            get(apps::get_group)
                .put(apps::assign_group)
                .delete(apps::unassign_group),
        )
        .route(
            "/apps/{id}/users",
            get(apps::list_users).post(apps::assign_user),
        )
        .route(
            "/apps/{id}/users/{uid}",
            get(apps::get_user).delete(apps::unassign_user),
        )
        .route(
            "/apps/{id}/credentials/secrets",
            get(apps::list_secrets).post(apps::new_secret),
        )
        .route(
            "/apps/{id}/credentials/secrets/{sid}",
            get(apps::get_secret).delete(apps::delete_secret),
        )
        .route(
            "/apps/{id}/credentials/secrets/{sid}/lifecycle/{op}",
            post(apps::secret_lifecycle),
        )
        .route(
            "/trustedOrigins",
            get(trusted_origins::list).post(trusted_origins::create),
        )
        .route(
            "/trustedOrigins/{id}",
            get(trusted_origins::get)
                .put(trusted_origins::replace)
                .delete(trusted_origins::delete),
        )
        .route(
            "/trustedOrigins/{id}/lifecycle/{op}",
            post(trusted_origins::lifecycle),
        )
        .merge(authorization_servers_routes())
        .merge(policies::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found);
    Router::new()
        .nest("/api/v1", api)
        .layer(middleware::from_fn_with_state(state.clone(), okta_headers))
}

fn authorization_servers_routes() -> Router<AppState> {
    use authorization_servers as a;
    Router::new()
        .route("/authorizationServers", get(a::list).post(a::create))
        .route(
            "/authorizationServers/{id}",
            get(a::get).put(a::replace).delete(a::delete),
        )
        .route(
            "/authorizationServers/{id}/lifecycle/{op}",
            post(a::lifecycle),
        )
        .route(
            "/authorizationServers/{id}/credentials/keys",
            get(a::list_keys),
        )
        .route(
            "/authorizationServers/{id}/credentials/lifecycle/keyRotate",
            post(a::rotate_key),
        )
        .route(
            "/authorizationServers/{id}/scopes",
            get(a::list_scopes).post(a::create_scope),
        )
        .route(
            "/authorizationServers/{id}/scopes/{item}",
            get(a::get_scope)
                .put(a::replace_scope)
                .delete(a::delete_scope),
        )
        .route(
            "/authorizationServers/{id}/claims",
            get(a::list_claims).post(a::create_claim),
        )
        .route(
            "/authorizationServers/{id}/claims/{item}",
            get(a::get_claim)
                .put(a::replace_claim)
                .delete(a::delete_claim),
        )
        .route(
            "/authorizationServers/{id}/policies",
            get(a::list_policies).post(a::create_policy),
        )
        .route(
            "/authorizationServers/{id}/policies/{item}",
            get(a::get_policy)
                .put(a::replace_policy)
                .delete(a::delete_policy),
        )
        .route(
            "/authorizationServers/{id}/policies/{item}/lifecycle/{op}",
            post(a::policy_lifecycle),
        )
        .route(
            "/authorizationServers/{id}/policies/{policy}/rules",
            get(a::list_rules).post(a::create_rule),
        )
        .route(
            "/authorizationServers/{id}/policies/{policy}/rules/{item}",
            get(a::get_rule).put(a::replace_rule).delete(a::delete_rule),
        )
        .route(
            "/authorizationServers/{id}/policies/{policy}/rules/{item}/lifecycle/{op}",
            post(a::rule_lifecycle),
        )
        .route(
            "/authorizationServers/{id}/tokenPreview",
            post(a::token_preview),
        )
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

async fn not_found(OriginalUri(uri): OriginalUri, req: Request) -> ApiError {
    ApiError::NotFound(format!("{} ({})", uri.path(), req.method()))
}

/// `X-Okta-Request-Id` and the rate-limit headers on every response, errors included; a caller
/// over its per-minute budget gets `429 E0000047` (with `Date`, which hyper adds, and
/// `X-Rate-Limit-Reset`: both SDKs need them to back off). Also wraps `/oauth2/v1/clients`.
pub(crate) async fn okta_headers(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let request_id = req
        .extensions()
        .get::<crate::metrics::RequestId>()
        .map_or_else(|| random_token(15), |id| id.0.clone());
    let policy = RatePolicy::per_minute(state.config.api_requests_per_minute);
    let (window, mut res) = match rate_limit_bucket(&state, req).await {
        Err(e) => (None, ApiError::from(e).into_response()),
        Ok((req, bucket)) => {
            let hit = rate_limit::hit(&state.provider, &bucket, policy).await;
            match rate_limit::fail_open(hit, "rate limit not counted") {
                Ok(Some(w)) if w.exceeded => (Some(w), ApiError::RateLimited.into_response()),
                Ok(window) => (window, next.run(req).await),
                Err(e) => (None, ApiError::from(e).into_response()),
            }
        }
    };
    let h = res.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-okta-request-id", request_id);
    if let Some(w) = window {
        set("x-rate-limit-limit", w.limit.to_string());
        set("x-rate-limit-remaining", w.remaining.to_string());
        set("x-rate-limit-reset", w.reset.to_string());
    }
    res
}

/// Whom a request counts against: a valid credential's own bucket, else the client address's
/// (resolved as everywhere else, see `client_ip`), so made-up tokens share one budget.
async fn rate_limit_bucket(
    state: &AppState,
    req: Request,
) -> Result<(Request, String), gatehouse_core::store::StoreError> {
    let (mut parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client_ip::resolve(peer, &parts.headers, &state.config.trusted_proxies);
    let origin = Origin::from_request_parts(&mut parts, state)
        .await
        .map(|o| o.0)
        .unwrap_or_default();
    let bucket = rate_limit::api_bucket(
        &state.provider,
        authorization_header(&parts.headers),
        &origin,
        &ip.to_string(),
    )
    .await?;
    Ok((Request::from_parts(parts, body), bucket))
}

/// Okta's date format, `YYYY-MM-DDTHH:mm:ss.SSSZ`.
pub(crate) fn okta_date(ts: Timestamp) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z");
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

pub(crate) fn okta_date_opt(ts: Option<Timestamp>) -> Value {
    ts.map_or(Value::Null, |t| Value::String(okta_date(t)))
}

/// The request's public origin, with Okta's error shape.
pub(crate) struct ApiOrigin(pub String);

impl FromRequestParts<AppState> for ApiOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Origin::from_request_parts(parts, state)
            .await
            .map(|o| ApiOrigin(o.0))
            .map_err(|e| ApiError::validation("Host", e.to_string()))
    }
}

/// Path parameters, with Okta's error shape.
pub(crate) struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::validation("path", e.body_text()))
    }
}

/// A JSON object body. Whatever the `Content-Type`, a body that is not a JSON object is
/// `E0000003`; field types are checked by the accessors below (`E0000001` naming the field).
pub(crate) struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::MalformedBody(e.body_text()))?;
        JsonBody::from_bytes(&bytes)
    }
}

impl JsonBody {
    /// Parses a JSON object body. Strings must pass the shared input rule
    /// ([`text::forbidden_json_path`]: no control characters but tab and line breaks).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::MalformedBody(format!("The body is not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(ApiError::MalformedBody(
                "The body must be a JSON object.".into(),
            ));
        }
        if let Some(path) = text::forbidden_json_path(&value) {
            return Err(ApiError::validation(path, text::FORBIDDEN_CHAR_MESSAGE));
        }
        Ok(JsonBody(value))
    }

    /// The value at a dotted path: `None` when it, or an object on the way, is absent or null.
    fn at(&self, path: &str) -> Result<Option<&Value>, ApiError> {
        let mut cur = &self.0;
        let mut walked = String::new();
        for key in path.split('.') {
            match cur {
                Value::Null => return Ok(None),
                Value::Object(map) => match map.get(key) {
                    Some(v) => cur = v,
                    None => return Ok(None),
                },
                _ => return Err(ApiError::validation(walked, "must be an object")),
            }
            if !walked.is_empty() {
                walked.push('.');
            }
            walked.push_str(key);
        }
        Ok((!cur.is_null()).then_some(cur))
    }

    /// Absent → `None`, null → `Some(None)`, a string → `Some(Some(..))`; anything else is a
    /// validation error naming the field (its last path segment, as Okta does).
    pub(crate) fn string(&self, path: &str) -> Result<Option<Option<String>>, ApiError> {
        let field = path.rsplit('.').next().unwrap_or(path);
        let present = self.present(path)?;
        match self.at(path)? {
            None if present => Ok(Some(None)),
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(_) => Err(ApiError::validation(field, "must be a string")),
        }
    }

    /// A string field where null means absent.
    pub(crate) fn str_opt(&self, path: &str) -> Result<Option<String>, ApiError> {
        Ok(self.string(path)?.flatten())
    }

    /// Whether the key exists (even as null).
    fn present(&self, path: &str) -> Result<bool, ApiError> {
        let (parent, key) = match path.rsplit_once('.') {
            Some((p, k)) => (self.at(p)?, k),
            None => (Some(&self.0), path),
        };
        Ok(matches!(parent, Some(Value::Object(m)) if m.contains_key(key)))
    }

    pub(crate) fn object(&self, path: &str) -> Result<Option<&Value>, ApiError> {
        match self.at(path)? {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v)),
            Some(_) => Err(ApiError::validation(path, "must be an object")),
        }
    }

    /// A boolean field; absent or null is `None`.
    pub(crate) fn bool_opt(&self, path: &str) -> Result<Option<bool>, ApiError> {
        let field = path.rsplit('.').next().unwrap_or(path);
        match self.at(path)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::validation(field, "must be true or false")),
        }
    }

    /// An integer field; absent or null is `None`.
    pub(crate) fn i64_opt(&self, path: &str) -> Result<Option<i64>, ApiError> {
        let field = path.rsplit('.').next().unwrap_or(path);
        match self.at(path)? {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| ApiError::validation(field, "must be an integer")),
        }
    }

    pub(crate) fn string_list(&self, path: &str) -> Result<Vec<String>, ApiError> {
        match self.at(path)? {
            None => Ok(vec![]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::validation(path, "must be a list of strings"))
                })
                .collect(),
            Some(_) => Err(ApiError::validation(path, "must be a list of strings")),
        }
    }
}

/// Query parameters, decoded leniently (never a rejection; a NUL character never gets this far,
/// see `hygiene.rs`).
pub(crate) struct Query(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or_default();
        Ok(Query(
            url::form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

impl Query {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// `limit`, defaulting to `default` and capped at `max`.
    pub(crate) fn limit(&self, default: u32, max: u32) -> Result<u32, ApiError> {
        match self.get("limit") {
            None => Ok(default),
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if n < 0 => Ok(default),
                Ok(n) => Ok(u32::try_from(n).unwrap_or(max).clamp(1, max)),
                Err(_) => Err(ApiError::validation("limit", "must be an integer")),
            },
        }
    }

    /// A boolean parameter (`true`/`false`, any case).
    pub(crate) fn bool(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(ApiError::validation(name, "must be true or false")),
        }
    }

    /// The same query with `after` replaced.
    fn with_after(&self, after: Option<&str>) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if k != "after" {
                out.append_pair(k, v);
            }
        }
        if let Some(a) = after {
            out.append_pair("after", a);
        }
        out.finish()
    }
}

/// `Link: <…>; rel="self"` and, when there is a next page, `, <…>; rel="next"`: absolute URLs
/// built from the request's origin (Node's SDK follows `next` as is), in one comma-joined
/// header (the Python SDK reads only one `Link` header).
pub(crate) fn pagination_links(
    origin: &str,
    path: &str,
    query: &Query,
    next: Option<&str>,
) -> HeaderMap {
    let url = |q: String| {
        if q.is_empty() {
            format!("{origin}{path}")
        } else {
            format!("{origin}{path}?{q}")
        }
    };
    let mut link = format!(
        "<{}>; rel=\"self\"",
        url(query.with_after(query.get("after")))
    );
    if let Some(next) = next {
        link.push_str(&format!(
            ", <{}>; rel=\"next\"",
            url(query.with_after(Some(next)))
        ));
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&link) {
        headers.insert(header::LINK, v);
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(raw: &str) -> Query {
        Query(
            url::form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    #[test]
    fn dates_have_okta_shape() {
        assert_eq!(okta_date(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(okta_date(1_700_000_000), "2023-11-14T22:13:20.000Z");
        assert_eq!(okta_date_opt(None), Value::Null);
    }

    #[test]
    fn limits_default_cap_and_reject_garbage() {
        assert_eq!(query("").limit(200, 200).ok(), Some(200));
        assert_eq!(query("limit=5").limit(200, 200).ok(), Some(5));
        assert_eq!(query("limit=100000").limit(200, 200).ok(), Some(200));
        assert_eq!(query("limit=0").limit(200, 200).ok(), Some(1));
        assert_eq!(query("limit=-1").limit(200, 200).ok(), Some(200));
        assert!(query("limit=ten").limit(200, 200).is_err());
    }

    #[test]
    fn next_link_is_absolute_and_keeps_the_query() {
        let q = query("search=status+eq+%22ACTIVE%22&limit=2&after=00u1");
        let h = pagination_links("http://h:1", "/api/v1/users", &q, Some("00u9"));
        let link = h
            .get(header::LINK)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(
            link,
            "<http://h:1/api/v1/users?search=status+eq+%22ACTIVE%22&limit=2&after=00u1>; rel=\"self\", \
             <http://h:1/api/v1/users?search=status+eq+%22ACTIVE%22&limit=2&after=00u9>; rel=\"next\""
        );
        let last = pagination_links("http://h:1", "/api/v1/users", &query(""), None);
        assert_eq!(
            last.get(header::LINK).and_then(|v| v.to_str().ok()),
            Some("<http://h:1/api/v1/users>; rel=\"self\"")
        );
    }

    #[test]
    fn body_accessors_name_the_field() {
        let body = JsonBody(serde_json::json!({
            "profile": {"login": "a@b.cd", "firstName": 5, "displayName": null},
            "credentials": "nope",
        }));
        assert_eq!(
            body.str_opt("profile.login").ok().flatten().as_deref(),
            Some("a@b.cd")
        );
        assert!(matches!(body.string("profile.displayName"), Ok(Some(None))));
        assert!(matches!(body.string("profile.email"), Ok(None)));
        assert!(matches!(
            body.string("profile.firstName"),
            Err(ApiError::Validation { field, .. }) if field == "firstName"
        ));
        assert!(matches!(
            body.str_opt("credentials.password.value"),
            Err(ApiError::Validation { field, .. }) if field == "credentials"
        ));
    }

    #[test]
    fn nul_characters_are_refused_naming_the_field() {
        assert!(matches!(
            JsonBody::from_bytes(br#"{"profile":{"names":["a","b\u0000"]}}"#),
            Err(ApiError::Validation { field, .. }) if field == "profile.names"
        ));
        assert!(matches!(
            JsonBody::from_bytes(br#"{"label":"ok","x":{"k\u0000":1}}"#),
            Err(ApiError::Validation { field, .. }) if field == "x.k"
        ));
        assert!(matches!(
            JsonBody::from_bytes(br#"{"label":"a\u0007b"}"#),
            Err(ApiError::Validation { field, .. }) if field == "label"
        ));
        assert!(JsonBody::from_bytes(br#"{"label":"ok","description":"two\nlines"}"#).is_ok());
    }

    #[tokio::test]
    async fn errors_have_okta_shape() -> Result<(), Box<dyn std::error::Error>> {
        let res = ApiError::validation("login", "taken").into_response();
        assert_eq!(res.status(), axum::http::StatusCode::BAD_REQUEST);
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16).await?;
        let v: Value = serde_json::from_slice(&bytes)?;
        assert_eq!(v["errorCode"], "E0000001");
        assert_eq!(v["errorLink"], "E0000001");
        assert_eq!(v["errorSummary"], "Api validation failed: login");
        assert_eq!(v["errorCauses"][0]["errorSummary"], "login: taken");
        assert!(
            v["errorId"]
                .as_str()
                .is_some_and(|id| id.starts_with("oae"))
        );
        for (e, status, code) in [
            (ApiError::InvalidToken, 401, "E0000011"),
            (ApiError::NotFound("x (User)".into()), 404, "E0000007"),
            (ApiError::Forbidden("no".into()), 403, "E0000006"),
            (ApiError::MethodNotAllowed, 405, "E0000022"),
            (ApiError::MalformedBody("bad".into()), 400, "E0000003"),
        ] {
            let res = e.into_response();
            assert_eq!(res.status().as_u16(), status);
            let v: Value =
                serde_json::from_slice(&axum::body::to_bytes(res.into_body(), 1 << 16).await?)?;
            assert_eq!(v["errorCode"], code);
        }
        Ok(())
    }
}
