//! WebAuthn (passkeys, security keys) over HTTP: the dashboard's enrollment page and its two
//! JSON calls, the factor challenge's two JSON calls, and the script that runs the browser's
//! side (`navigator.credentials.create` / `get`). The ceremonies themselves are
//! `gatehouse_core::services::mfa::webauthn`.
//!
//! Every call changes state, so every call carries a CSRF token in `X-Csrf-Token` (the
//! console's session-bound token on the dashboard, the sign-in form's token on the challenge)
//! and must be `application/json`, which a cross-site form cannot send.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_core::crypto::constant_time_eq;
use gatehouse_core::services::admin_roles;
use gatehouse_core::services::lockout;
use gatehouse_core::services::mfa::webauthn::{self, WebauthnFailure};
use gatehouse_core::services::mfa::webauthn_challenge::{self, StepError, StepRef};
use serde::Deserialize;
use serde_json::{Value, json};

use super::console::{Chrome, ConsoleError, EndUser, Viewer, render};
use crate::AppState;
use crate::client_ip::Client;
use crate::cookies;
use crate::origin::Origin;
use askama::Template;

const JS: &str = include_str!("../../assets/webauthn.js");

/// The header the script sends the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/assets/webauthn.js", get(script))
        .route("/enduser/settings/passkeys", get(enroll_page))
        .route("/enduser/webauthn/register/begin", post(register_begin))
        .route("/enduser/webauthn/register/finish", post(register_finish))
        .route(SIGN_IN_BEGIN, post(sign_in_begin))
        .route(SIGN_IN_FINISH, post(sign_in_finish))
}

/// The factor challenge's calls.
pub const SIGN_IN_BEGIN: &str = "/login/mfa/webauthn/begin";
pub const SIGN_IN_FINISH: &str = "/login/mfa/webauthn/finish";

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        JS,
    )
        .into_response()
}

/// A refused call, answered as JSON `{"errorCode": …, "errorSummary": …}` (Okta's error
/// fields) with `Cache-Control: no-store`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refusal {
    status: StatusCode,
    code: &'static str,
    summary: &'static str,
}

const fn refusal(status: StatusCode, code: &'static str, summary: &'static str) -> Refusal {
    Refusal {
        status,
        code,
        summary,
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            axum::Json(json!({"errorCode": self.code, "errorSummary": self.summary})),
        )
            .into_response();
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        res
    }
}

const BAD_CSRF: Refusal = refusal(
    StatusCode::FORBIDDEN,
    "E0000006",
    "The request's security token is missing or wrong. Reload the page and try again.",
);
const INTERNAL: Refusal = refusal(
    StatusCode::INTERNAL_SERVER_ERROR,
    "E0000009",
    "The server could not complete this request.",
);

fn ok_json(body: Value) -> Response {
    let mut res = (StatusCode::OK, axum::Json(body)).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

impl From<WebauthnFailure> for Refusal {
    fn from(e: WebauthnFailure) -> Self {
        match e {
            WebauthnFailure::Origin(_) => refusal(
                StatusCode::BAD_REQUEST,
                "E0000001",
                "Passkeys need this server to be reached by a host name (not an IP address).",
            ),
            WebauthnFailure::NoCeremony => refusal(
                StatusCode::BAD_REQUEST,
                "E0000011",
                "This passkey request has expired or was already used. Start again.",
            ),
            WebauthnFailure::Rejected => refusal(
                StatusCode::FORBIDDEN,
                "E0000068",
                "The passkey was not accepted.",
            ),
            WebauthnFailure::NoCredentials => refusal(
                StatusCode::BAD_REQUEST,
                "E0000001",
                "No passkey is enrolled for this account.",
            ),
            WebauthnFailure::AlreadyEnrolled => refusal(
                StatusCode::CONFLICT,
                "E0000001",
                "This passkey is already enrolled.",
            ),
            WebauthnFailure::Store(_) | WebauthnFailure::State(_) => {
                tracing::error!(error = %e, "WebAuthn request failed");
                INTERNAL
            }
        }
    }
}

/// Refuses a body that is not `application/json` (which a cross-site form cannot send).
fn require_json(headers: &HeaderMap) -> Result<(), Refusal> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if json {
        Ok(())
    } else {
        Err(refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "E0000001",
            "Send JSON (application/json).",
        ))
    }
}

fn sent_csrf(headers: &HeaderMap) -> &str {
    headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Refuses a call that is not JSON or whose CSRF token is not `expected`.
fn check_call(headers: &HeaderMap, expected: &str) -> Result<(), Refusal> {
    require_json(headers)?;
    let sent = sent_csrf(headers);
    if expected.is_empty() || !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return Err(BAD_CSRF);
    }
    Ok(())
}

/// Parses a JSON body into `T`, or answers 400.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|_| {
        refusal(
            StatusCode::BAD_REQUEST,
            "E0000003",
            "The request body is not valid JSON of the expected shape.",
        )
    })
}

fn relying_party(state: &AppState, origin: &str) -> Result<webauthn::Webauthn, Refusal> {
    Ok(webauthn::relying_party(
        origin,
        &state.config.branding.org_name,
    )?)
}

#[derive(Template)]
#[template(path = "console/passkeys.html")]
struct EnrollPage {
    chrome: Chrome,
    passkeys: Vec<(String, String)>,
}

/// The dashboard page that enrolls a passkey (the script does the work) and lists those
/// enrolled.
async fn enroll_page(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
) -> Result<Response, ConsoleError> {
    let user = &viewer.current.user;
    let is_admin = admin_roles::is_super_admin(&state.provider, user).await?;
    let passkeys = state
        .provider
        .store
        .list_factors(&user.id)
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?
        .into_iter()
        .filter(|f| f.factor_type == gatehouse_core::domain::FACTOR_TYPE_WEBAUTHN)
        .map(|f| (f.name.clone(), super::console::date(f.created)))
        .collect();
    let page = EnrollPage {
        chrome: Chrome::new(&state, &viewer, "settings", is_admin),
        passkeys,
    };
    let mut res = render(StatusCode::OK, page.render());
    // The console's policy, plus the script's calls to this server.
    if res.status() == StatusCode::OK {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(ENROLL_CSP),
        );
    }
    Ok(res)
}

/// The console's CSP with `connect-src 'self'` for the script's JSON calls.
const ENROLL_CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     connect-src 'self'; img-src 'self' https: data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The passkey choice on the factor page: where its script calls, and the nonce that lets the
/// script run under the hosted pages' CSP.
#[derive(Debug, Clone)]
pub(crate) struct PasskeyOffer {
    pub nonce: String,
    pub begin: &'static str,
    pub finish: &'static str,
}

impl PasskeyOffer {
    /// Offered when one of the user's active factors is a WebAuthn credential.
    pub fn for_factors(factors: &[gatehouse_core::domain::Factor]) -> Option<Self> {
        factors
            .iter()
            .any(|f| f.is_active() && f.factor_type == gatehouse_core::domain::FACTOR_TYPE_WEBAUTHN)
            .then(|| Self {
                nonce: gatehouse_core::crypto::random_token(16),
                begin: SIGN_IN_BEGIN,
                finish: SIGN_IN_FINISH,
            })
    }

    /// The hosted pages' CSP, with this page's one script (by nonce) and its JSON calls to
    /// this server.
    pub fn allow_calls(&self, res: &mut Response) {
        let csp = format!(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; \
             script-src 'nonce-{}'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
            self.nonce
        );
        if let Ok(v) = header::HeaderValue::from_str(&csp) {
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
}

#[derive(Deserialize)]
struct RegisterBegin {
    #[serde(default)]
    password: String,
}

/// Checks the password again before an enrollment; a wrong one counts toward the lockout
/// like any sign-in failure.
async fn reauthenticate(state: &AppState, viewer: &Viewer, password: &str) -> Result<(), Refusal> {
    let user = &viewer.current.user;
    let checked = lockout::verify_sign_in(&state.provider, &viewer.client, &user.login, password)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password check failed");
            INTERNAL
        })?;
    match checked {
        Some(u) if u.id == user.id => Ok(()),
        _ => Err(refusal(
            StatusCode::UNAUTHORIZED,
            "E0000004",
            "The password is not correct.",
        )),
    }
}

async fn register_begin(
    State(state): State<AppState>,
    Origin(origin): Origin,
    EndUser(viewer): EndUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    check_call(&headers, &viewer.csrf)?;
    let req: RegisterBegin = parse(&body)?;
    let rp = relying_party(&state, &origin)?;
    reauthenticate(&state, &viewer, &req.password).await?;
    let user = &viewer.current.user;
    let options =
        webauthn::begin_registration(&state.provider, &rp, user, &viewer.current.id).await?;
    Ok(ok_json(options))
}

#[derive(Deserialize)]
struct RegisterFinish {
    #[serde(default)]
    name: String,
    credential: webauthn::RegisterPublicKeyCredential,
}

async fn register_finish(
    State(state): State<AppState>,
    Origin(origin): Origin,
    EndUser(viewer): EndUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    check_call(&headers, &viewer.csrf)?;
    let req: RegisterFinish = parse(&body)?;
    let rp = relying_party(&state, &origin)?;
    let factor = webauthn::finish_registration(
        &state.provider,
        &viewer.actor(),
        &rp,
        &viewer.current.user,
        &viewer.current.id,
        &req.name,
        &req.credential,
    )
    .await?;
    Ok(ok_json(json!({
        "id": factor.id,
        "factorType": factor.factor_type,
        "provider": factor.provider,
        "status": factor.status.as_str(),
        "profile": webauthn::profile(&factor),
    })))
}

/// The factor form's hidden fields, sent along by the script.
#[derive(Deserialize)]
struct StepFields {
    #[serde(default)]
    pending: String,
    #[serde(default)]
    credential: Option<webauthn::PublicKeyCredential>,
}

impl From<StepError> for Refusal {
    fn from(e: StepError) -> Self {
        match e {
            StepError::Invalid => refusal(
                StatusCode::FORBIDDEN,
                "E0000006",
                "This sign-in has expired or its security token is wrong. Sign in again.",
            ),
            StepError::Webauthn(w) => w.into(),
        }
    }
}

/// The step's value and CSRF tokens: the form's token comes in `X-Csrf-Token`, and must equal
/// the cookie of the sign-in it belongs to (the authorize flow's or the console's).
fn step_ref<'a>(headers: &'a HeaderMap, fields: &'a StepFields) -> StepRef<'a> {
    let form_csrf = sent_csrf(headers);
    let cookie_csrf = [cookies::CSRF, super::console::LOGIN_CSRF]
        .into_iter()
        .filter_map(|name| cookies::get(headers, name))
        .find(|c| !form_csrf.is_empty() && constant_time_eq(c.as_bytes(), form_csrf.as_bytes()));
    StepRef {
        token: &fields.pending,
        form_csrf,
        cookie_csrf,
    }
}

/// Refuses a call that is not JSON or carries no CSRF token (the step checks its value).
fn check_step_call(headers: &HeaderMap) -> Result<(), Refusal> {
    require_json(headers)?;
    if sent_csrf(headers).is_empty() {
        return Err(BAD_CSRF);
    }
    Ok(())
}

async fn sign_in_begin(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    check_step_call(&headers)?;
    let fields: StepFields = parse(&body)?;
    let rp = relying_party(&state, &origin)?;
    let step = step_ref(&headers, &fields);
    let options = webauthn_challenge::begin(&state.provider, &client, &rp, step).await?;
    Ok(ok_json(options))
}

async fn sign_in_finish(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    check_step_call(&headers)?;
    let fields: StepFields = parse(&body)?;
    let credential = fields.credential.as_ref().ok_or(refusal(
        StatusCode::BAD_REQUEST,
        "E0000003",
        "The request has no credential.",
    ))?;
    let rp = relying_party(&state, &origin)?;
    let step = step_ref(&headers, &fields);
    let user_verified =
        webauthn_challenge::finish(&state.provider, &client, &rp, step, credential).await?;
    Ok(ok_json(
        json!({"verified": true, "userVerified": user_verified}),
    ))
}
