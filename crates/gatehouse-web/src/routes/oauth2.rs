//! `/oauth2/v1/*` (org server) and `/oauth2/{authServerId}/v1/*` (custom servers), Okta's paths.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_core::ServerContext;
use gatehouse_core::oauth2::authorize::{
    self, AuthorizeOutcome, AuthorizeParams, TransactionBudget,
};
use gatehouse_core::oauth2::client_assertion;
use gatehouse_core::oauth2::client_auth::ClientCredentials;
use gatehouse_core::oauth2::client_throttle::ClientAuthGuard;
use gatehouse_core::oauth2::grants::{self, TokenParams};
use gatehouse_core::oauth2::introspect::TokenActionParams;
use gatehouse_core::oauth2::introspect_guarded::introspect_guarded;
use gatehouse_core::oauth2::{OAuthError, revoke};
use gatehouse_core::oidc::logout::{self, LogoutOutcome, LogoutParams};
use gatehouse_core::oidc::userinfo;
use serde::de::DeserializeOwned;

use super::{authorization_header, respond_to_client};
use crate::AppState;
use crate::client_ip::{Client, ClientIp};
use crate::cookies;
use crate::error::WebError;
use crate::origin::Origin;
use crate::views::{MessagePage, render_page};
use askama::Template as _;
use gatehouse_core::services::{remembered_device, system_log};

/// The org server's base path and a custom server's: every endpoint below is one handler,
/// registered on both, that reads the server id as an optional path parameter.
const BASES: [&str; 2] = ["/oauth2/v1", "/oauth2/{as}/v1"];

pub fn router() -> Router<AppState> {
    BASES.iter().fold(Router::new(), |router, base| {
        router
            .route(&format!("{base}/authorize"), get(authorize).post(authorize))
            .route(&format!("{base}/token"), post(token))
            .route(&format!("{base}/userinfo"), get(userinfo).post(userinfo))
            .route(&format!("{base}/keys"), get(keys))
            .route(&format!("{base}/introspect"), post(introspect))
            .route(&format!("{base}/revoke"), post(revoke))
            .route(&format!("{base}/logout"), get(logout).post(logout))
    })
}

/// The authorization server a request addresses: `None` for the org server's paths.
pub(crate) fn server_id(path: Option<Path<String>>) -> Option<String> {
    path.map(|Path(id)| id)
}

/// The parameters of an endpoint that takes GET and POST: a GET's (or HEAD's) query string,
/// any other request's form body.
pub(crate) struct FormOrQuery(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for FormOrQuery {
    type Rejection = BytesRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if req.method() == Method::GET || req.method() == Method::HEAD {
            let query = req.uri().query().unwrap_or_default().to_owned();
            return Ok(Self(Bytes::from(query)));
        }
        Bytes::from_request(req, state).await.map(Self)
    }
}

/// Parses form-urlencoded input (`+` is a space); a duplicated or malformed parameter is an
/// `invalid_request`, never a panic.
pub fn parse_form<T: DeserializeOwned + Default>(raw: &[u8]) -> Result<T, OAuthError> {
    if raw.is_empty() {
        return Ok(T::default());
    }
    // No parameter of ours may hold a NUL, and PostgreSQL text cannot: refuse it here rather
    // than fail a lookup with a database error. A decoded name or value holds one exactly when
    // the raw form has a NUL byte or `%00` (`+` decodes to a space, a bad UTF-8 sequence to
    // U+FFFD): found on the bytes, without decoding the form twice.
    if raw.contains(&0) || raw.windows(3).any(|w| w == b"%00") {
        return Err(OAuthError::InvalidRequest(
            "The request parameters must not contain NUL characters.".into(),
        ));
    }
    serde_urlencoded::from_bytes(raw).map_err(|e| {
        OAuthError::InvalidRequest(format!("The request parameters are malformed: {e}."))
    })
}

async fn server(
    state: &AppState,
    origin: &str,
    id: Option<&str>,
) -> Result<ServerContext, OAuthError> {
    state.provider.server_context(origin, id).await
}

// ---- authorize ----

async fn authorize(
    State(state): State<AppState>,
    Origin(origin): Origin,
    path: Option<Path<String>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FormOrQuery(raw): FormOrQuery,
) -> Result<Response, WebError> {
    let ctx = server(&state, &origin, server_id(path).as_deref())
        .await
        .map_err(WebError::Page)?;
    let params: AuthorizeParams = parse_form(&raw).map_err(WebError::Page)?;
    authorize_with(&state, &origin, &ctx, ip, &headers, params).await
}

/// The authorize endpoint for a resolved server (the Okta paths' and the Entra-compatible ones').
pub(crate) async fn authorize_with(
    state: &AppState,
    origin: &str,
    ctx: &ServerContext,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    mut params: AuthorizeParams,
) -> Result<Response, WebError> {
    params.device_cookie = cookies::get(headers, remembered_device::COOKIE).map(str::to_owned);
    let budget = TransactionBudget {
        address: ip.to_string(),
        per_minute: state.config.login_transactions_per_minute_per_ip,
    };
    let outcome = authorize::authorize(
        &state.provider,
        ctx,
        params,
        cookies::session(headers),
        Some(&budget),
    )
    .await;
    // A session a `sessionToken` opened: its cookie goes on whatever response follows.
    let mut outcome = outcome;
    let mut opened = None;
    while let AuthorizeOutcome::SessionOpened {
        cookie,
        max_age,
        then,
    } = outcome
    {
        opened = Some((cookie, max_age));
        outcome = *then;
    }
    let mut res = match outcome {
        // Unwrapped just above.
        AuthorizeOutcome::SessionOpened { .. } => {
            return Err(WebError::Page(OAuthError::TemporarilyUnavailable(
                "The sign-in could not continue.".into(),
            )));
        }
        AuthorizeOutcome::ErrorPage(e) => return Err(WebError::Page(e)),
        AuthorizeOutcome::Respond(resp) => respond_to_client(&resp, vec![]),
        AuthorizeOutcome::Consent(prompt) => {
            super::consent::consent_page(state, origin, &prompt, vec![])
        }
        AuthorizeOutcome::SecondFactor(prompt) => {
            let client = gatehouse_core::audit::ClientInfo {
                ip: Some(ip.to_string()),
                user_agent: crate::client_ip::user_agent(headers),
            };
            let mut res =
                super::mfa::factor_page(state, origin, &client, &prompt, None, StatusCode::OK)
                    .await?;
            let cookie = cookies::set(
                cookies::CSRF,
                &prompt.csrf_token,
                state.provider.lifetimes.login_transaction,
                origin,
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        AuthorizeOutcome::Login(prompt) => {
            super::login::login_page(state, origin, &prompt, None, StatusCode::OK).await
        }
        AuthorizeOutcome::Upstream { url, csrf_token } => {
            let mut res = super::console::see_other(&url);
            let cookie = cookies::set(
                cookies::CSRF,
                &csrf_token,
                state.provider.lifetimes.login_transaction,
                origin,
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
    };
    if let Some((cookie, max_age)) = opened {
        for line in cookies::set_session(&cookie, max_age, origin) {
            if let Ok(v) = HeaderValue::from_str(&line) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
        }
    }
    Ok(res)
}

// ---- token ----

pub(crate) fn no_store_json(value: impl serde::Serialize) -> Response {
    // Written into a buffer sized for a token response (axum's `Json` starts at 128 bytes and
    // grows, copying, to the ~700 of a token response); a failure answers as `Json` does.
    let mut body = Vec::with_capacity(1024);
    let mut res = match serde_json::to_writer(&mut body, &value) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(_) => Json(value).into_response(),
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// Maps an error of a client-authenticated endpoint: a client that tried `Authorization: Basic`
/// and failed gets the Basic challenge RFC 6749 §5.2 requires, everything else plain JSON.
pub(crate) fn client_error(headers: &HeaderMap) -> impl Fn(OAuthError) -> WebError + '_ {
    move |e| {
        let tried_basic = authorization_header(headers).is_some_and(|v| {
            v.trim_start()
                .get(..5)
                .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
        });
        if tried_basic && matches!(e, OAuthError::InvalidClient(_)) {
            WebError::BasicChallenge(e)
        } else {
            WebError::OAuthJson(e)
        }
    }
}

/// Runs a client-authenticated request under the failure throttle: refused at once while the
/// client or address has too many recent `invalid_client`s, and a new one counted.
pub(crate) async fn throttled<T>(
    state: &AppState,
    guard: &ClientAuthGuard,
    run: impl std::future::Future<Output = Result<T, OAuthError>>,
) -> Result<T, OAuthError> {
    guard.check(&state.provider).await?;
    observed(state, guard, run).await
}

/// [`throttled`] for a request that checks the throttle itself (introspection, which reads the
/// counters with its token's record, and the code exchange and refresh, with their code or
/// refresh token): a new `invalid_client` counted.
pub(crate) async fn observed<T>(
    state: &AppState,
    guard: &ClientAuthGuard,
    run: impl std::future::Future<Output = Result<T, OAuthError>>,
) -> Result<T, OAuthError> {
    let result = run.await;
    // With the database unreachable the count could not be written either: trying would only
    // hold the client for another pool timeout before its 503.
    if !matches!(&result, Err(e) if e.is_unavailable()) {
        guard.observe(&state.provider, &result).await;
    }
    result
}

/// The client id a token request claims (Basic, form or assertion `iss`), for the System Log
/// only: it is logged as claimed, whether or not authentication succeeds.
fn claimed_client_id(credentials: &ClientCredentials) -> Option<String> {
    const MAX_CHARS: usize = 128;
    let named = credentials
        .basic
        .as_ref()
        .map(|(id, _)| id)
        .or(credentials.form_client_id.as_ref());
    match named {
        Some(id) => Some(truncate_chars(id, MAX_CHARS)),
        None => credentials
            .client_assertion
            .as_deref()
            .and_then(|a| client_assertion::unverified_client_id(a).ok())
            .map(|id| truncate_chars(&id, MAX_CHARS)),
    }
}

/// `s`, cut after `max` characters (copied in one piece when it is shorter, as ids are).
fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => s[..end].to_owned(),
        None => s.to_owned(),
    }
}

async fn token(
    State(state): State<AppState>,
    Origin(origin): Origin,
    path: Option<Path<String>>,
    Client(client): Client,
    RawQuery(query): RawQuery,
    mut req: Request,
) -> Result<Response, WebError> {
    // The headers are taken from the request, not copied (what the `HeaderMap` extractor
    // does): the body is all that is read from it after.
    let headers = std::mem::take(req.headers_mut());
    // A body that cannot be read is answered as the `Bytes` extractor's rejection, as before.
    let body = match Bytes::from_request(req, &state).await {
        Ok(body) => body,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let id = server_id(path);
    let ctx = server(&state, &origin, id.as_deref())
        .await
        .map_err(WebError::OAuthJson)?;
    let response = token_with(&state, &ctx, &client, &headers, query.as_deref(), &body).await?;
    Ok(no_store_json(response))
}

/// The token endpoint for a resolved server (the Okta paths' and the Entra-compatible ones').
pub(crate) async fn token_with(
    state: &AppState,
    ctx: &ServerContext,
    client: &gatehouse_core::audit::ClientInfo,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<gatehouse_core::oidc::tokens::TokenResponse, WebError> {
    // The okta SDK's client-credentials flow (openmetadata-ingestion ≤ 1.2) sends every
    // parameter in the query string of a POST with an empty body, which Okta accepts. The
    // query is read only when the body is empty; the two are never merged.
    let source: &[u8] = if body.is_empty() {
        query.unwrap_or_default().as_bytes()
    } else {
        body
    };
    let params: TokenParams = parse_form(source).map_err(WebError::OAuthJson)?;
    let grant_type = params.grant_type.clone().unwrap_or_default();
    let authorization = authorization_header(headers);
    // The credentials are read from the request once: for the log, the throttle and the
    // authentication itself.
    let credentials = params.credentials(authorization);
    let client_id = claimed_client_id(&credentials);
    let log = system_log::TokenRequestLog {
        client,
        custom_server: !ctx.is_org(),
        client_id: client_id.as_deref(),
        grant_type: &grant_type,
    };
    let guard = ClientAuthGuard::new(&credentials, client.ip.as_deref());
    // A code exchange or refresh reads its code or token with the throttle's counters (one
    // read); the throttle still decides first, on the counters alone.
    let presented = grants::presented_grant(&params);
    // A response's success events are written with its tokens (one commit); a refusal's here.
    let result = async {
        let prefetched = match &presented {
            Some(grant) => guard.check_with_grant(&state.provider, grant.key()).await?,
            None => {
                guard.check(&state.provider).await?;
                None
            }
        };
        let run = grants::token_with_credentials(
            &state.provider,
            ctx,
            params,
            &credentials,
            Some(&log),
            prefetched,
        );
        observed(state, &guard, run).await
    }
    .await;
    // A device polling while its user decides is not a refusal worth a System Log event.
    // Nor is an unreachable database: the event could not be written, and trying would hold
    // the client for another pool timeout.
    if let Err(e) = &result
        && !e.is_unavailable()
        && !matches!(
            e,
            OAuthError::AuthorizationPending(_) | OAuthError::SlowDown(_)
        )
    {
        system_log::record_token_refusal(&state.provider, &log, e.code()).await;
    }
    result.map_err(client_error(headers))
}

// ---- userinfo ----

/// `Authorization: Bearer <token>` (scheme case-insensitive), or `access_token` in a form body.
fn bearer_token(headers: &HeaderMap, body: &[u8]) -> Result<String, OAuthError> {
    if let Some(value) = authorization_header(headers) {
        let value = value.trim();
        if value.len() > 6 && value[..6].eq_ignore_ascii_case("bearer") {
            let token = value[6..].trim();
            if !token.is_empty() {
                return Ok(token.to_owned());
            }
        }
        return Err(OAuthError::InvalidToken(
            "The access token is invalid.".into(),
        ));
    }
    #[derive(serde::Deserialize, Default)]
    struct Body {
        access_token: Option<String>,
    }
    let form: Body = parse_form(body)?;
    form.access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::InvalidToken("The access token is missing.".into()))
}

async fn userinfo(
    State(state): State<AppState>,
    Origin(origin): Origin,
    path: Option<Path<String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let ctx = server(&state, &origin, server_id(path).as_deref())
        .await
        .map_err(WebError::Bearer)?;
    let token = bearer_token(&headers, &body).map_err(WebError::Bearer)?;
    let claims = userinfo::userinfo(&state.provider, &ctx, &token)
        .await
        .map_err(WebError::Bearer)?;
    Ok(no_store_json(claims))
}

// ---- keys ----

/// The key set depends on the server alone, not on the origin (which is still checked, as
/// everywhere: an invalid `Host` is refused).
async fn keys(
    State(state): State<AppState>,
    Origin(_): Origin,
    path: Option<Path<String>>,
) -> Result<Response, WebError> {
    let path = server_id(path);
    let id = state
        .provider
        .server_id(path.as_deref())
        .await
        .map_err(WebError::OAuthJson)?;
    jwks_response(&state, id).await
}

/// A server's key set (`/v1/keys`, Entra's `/discovery/keys`).
pub(crate) async fn jwks_response(
    state: &AppState,
    auth_server_id: &str,
) -> Result<Response, WebError> {
    let jwks = state
        .provider
        .keys
        .jwks_bytes(auth_server_id)
        .await
        .map_err(|e| WebError::OAuthJson(e.into()))?;
    let mut res = ([(header::CONTENT_TYPE, "application/json")], jwks).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=3600, must-revalidate"),
    );
    Ok(res)
}

// ---- introspect / revoke ----

async fn introspect(
    State(state): State<AppState>,
    Origin(origin): Origin,
    path: Option<Path<String>>,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let ctx = server(&state, &origin, server_id(path).as_deref())
        .await
        .map_err(WebError::OAuthJson)?;
    let params: TokenActionParams = parse_form(&body).map_err(WebError::OAuthJson)?;
    let authorization = authorization_header(&headers);
    let guard = ClientAuthGuard::new(&params.credentials(authorization), client.ip.as_deref());
    let run = introspect_guarded(&state.provider, &ctx, params, authorization, &guard);
    let result = observed(&state, &guard, run)
        .await
        .map_err(client_error(&headers))?;
    Ok(no_store_json(result))
}

async fn revoke(
    State(state): State<AppState>,
    Origin(origin): Origin,
    path: Option<Path<String>>,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let ctx = server(&state, &origin, server_id(path).as_deref())
        .await
        .map_err(WebError::OAuthJson)?;
    let params: TokenActionParams = parse_form(&body).map_err(WebError::OAuthJson)?;
    let authorization = authorization_header(&headers);
    let guard = ClientAuthGuard::new(&params.credentials(authorization), client.ip.as_deref());
    throttled(
        &state,
        &guard,
        revoke::revoke(&state.provider, &ctx, params, authorization, &client),
    )
    .await
    .map_err(client_error(&headers))?;
    Ok((StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response())
}

// ---- logout ----

async fn logout(
    State(state): State<AppState>,
    Origin(origin): Origin,
    path: Option<Path<String>>,
    headers: HeaderMap,
    FormOrQuery(raw): FormOrQuery,
) -> Result<Response, WebError> {
    let ctx = server(&state, &origin, server_id(path).as_deref())
        .await
        .map_err(WebError::Page)?;
    let params: LogoutParams = parse_form(&raw).map_err(WebError::Page)?;
    logout_with(&state, &origin, &ctx, &headers, params).await
}

/// RP-initiated logout for a resolved server (the Okta paths' and the Entra-compatible ones').
pub(crate) async fn logout_with(
    state: &AppState,
    origin: &str,
    ctx: &ServerContext,
    headers: &HeaderMap,
    params: LogoutParams,
) -> Result<Response, WebError> {
    let client = crate::client_ip::client_info(state, headers);
    let signed_in = system_log::session_user(&state.provider, cookies::session(headers)).await;
    let outcome = logout::logout(&state.provider, ctx, params, cookies::session(headers))
        .await
        .map_err(WebError::Page)?;
    if let Some(user_id) = signed_in
        && system_log::session_user(&state.provider, cookies::session(headers))
            .await
            .is_none()
    {
        system_log::record_session_end(&state.provider, &client, &user_id).await;
    }
    let mut res = match outcome {
        LogoutOutcome::Redirect(location) => {
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        LogoutOutcome::SignedOut => {
            let page = MessagePage {
                title: "Signed out",
                message: "You have been signed out of Gatehouse.",
            };
            render_page(StatusCode::OK, page.render(), None)
        }
    };
    for cookie in cookies::clear_session(origin) {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests;
