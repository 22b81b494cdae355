//! The hosted second sign-in step (issue 19): after the password, the factor page (a TOTP
//! code from one of the user's factors, or a recovery code), or, when MFA is required and the
//! user has no factor, the TOTP enrollment page (QR code, key, first code) followed by the
//! recovery codes, shown once. The rules live in `gatehouse_core::services::mfa::challenge`;
//! this file parses the form, picks the page and sets the cookies.
//!
//! Every form carries the pending step's value and the sign-in form's CSRF token, which must
//! also be in a cookie (the authorize flow's, or the console sign-in's): the step is bound
//! to both. A wrong code gets one message whatever the reason (wrong, replayed, locked).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use gatehouse_core::audit::ClientInfo;
use gatehouse_core::crypto::constant_time_eq;
use gatehouse_core::domain::{FACTOR_TYPE_TOTP, PendingSignIn, User};
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::oauth2::authorize::{
    AfterSignIn, CompletedLogin, FactorPrompt, LoginFailure, complete_second_factor,
};
use gatehouse_core::services::admin_roles;
use gatehouse_core::services::mfa::challenge::{self, Answer, ChallengeError, Passed};
use gatehouse_core::services::{remembered_device, sign_in};

use super::respond_to_client;
use crate::AppState;
use crate::client_ip::Client;
use crate::cookies;
use crate::error::WebError;
use crate::origin::Origin;
use crate::views::render_page;
use askama::Template;

/// Where the factor forms post.
pub const PATH: &str = "/login/factor";

const WRONG_CODE: &str = "That code did not work. Check your app and try again.";
const EXPIRED: &str =
    "This sign-in has expired or is not valid. Return to the application and sign in again.";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, post(factor_post))
}

#[derive(Template)]
#[template(path = "mfa_challenge.html")]
struct ChallengePage<'a> {
    action: &'a str,
    pending: &'a str,
    csrf_token: &'a str,
    app_label: &'a str,
    login: &'a str,
    error: Option<&'a str>,
    branding: &'a crate::Branding,
    /// (id, name) of the user's active TOTP factors.
    totp_factors: Vec<(String, String)>,
    /// The passkey choice, when the user has an active WebAuthn factor.
    passkey: Option<super::mfa_webauthn::PasskeyOffer>,
    enroll: Option<gatehouse_core::services::mfa::TotpActivation>,
    /// The sign-on policy offers "remember this device": whether the box starts checked.
    remember_device: Option<bool>,
}

#[derive(Template)]
#[template(path = "mfa_recovery_codes.html")]
pub(crate) struct RecoveryCodesPage<'a> {
    pub action: Option<&'a str>,
    pub pending: &'a str,
    pub csrf_token: &'a str,
    pub codes: &'a [String],
    pub branding: &'a crate::Branding,
}

/// The factor (or enrollment) page of a pending step. `csrf` is the token the step was
/// opened with (this server just produced it, so it stands for the cookie too).
pub(crate) async fn factor_page(
    state: &AppState,
    origin: &str,
    client: &ClientInfo,
    prompt: &FactorPrompt,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let loaded = challenge::load(
        &state.provider,
        client,
        &prompt.pending,
        &prompt.csrf_token,
        Some(&prompt.csrf_token),
    )
    .await;
    let c = match loaded {
        Ok(c) => c,
        Err(e) => return Err(challenge_error(e)),
    };
    let totp: Vec<_> = c
        .factors
        .iter()
        .filter(|f| f.factor_type == FACTOR_TYPE_TOTP)
        .collect();
    let passkey = super::mfa_webauthn::PasskeyOffer::for_factors(&c.factors);
    let remember_device = match c.enrollment {
        Some(_) => None,
        None => remembered_device::offered_for(&state.provider, &c.user)
            .await
            .map_err(|e| WebError::Page(OAuthError::internal(e)))?
            .map(|offer| offer.checked),
    };
    let action = format!("{origin}{PATH}");
    let page = ChallengePage {
        action: &action,
        pending: &prompt.pending,
        csrf_token: &prompt.csrf_token,
        app_label: &prompt.app_label,
        login: &c.user.login,
        error,
        branding: &state.config.branding,
        totp_factors: totp
            .iter()
            .map(|f| (f.id.clone(), f.name.clone()))
            .collect(),
        enroll: c.enrollment,
        passkey,
        remember_device,
    };
    let nonce = page.passkey.as_ref().map(|p| p.nonce.as_str());
    let mut res = render_page(status, page.render(), nonce);
    if let Some(p) = &page.passkey {
        p.allow_calls(&mut res);
    }
    Ok(res)
}

fn challenge_error(e: ChallengeError) -> WebError {
    match e {
        ChallengeError::Invalid | ChallengeError::Wrong => {
            WebError::Page(OAuthError::InvalidRequest(EXPIRED.into()))
        }
        ChallengeError::Internal(e) => WebError::Page(OAuthError::internal(e)),
    }
}

async fn factor_post(
    State(state): State<AppState>,
    Origin(origin): Origin,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| WebError::BadRequest("The form is malformed.".into()))?;
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let (pending, csrf, code) = (get("pending"), get("csrf"), get("code"));
    // The authorize flow's CSRF cookie, or the console sign-in's: whichever this form carries.
    let cookie = [cookies::CSRF, super::console::LOGIN_CSRF]
        .into_iter()
        .filter_map(|name| cookies::get(&headers, name))
        .find(|c| !csrf.is_empty() && constant_time_eq(c.as_bytes(), csrf.as_bytes()));
    let answer = match get("action") {
        "totp" => Answer::Totp {
            factor_id: get("factor_id"),
            code,
        },
        "recovery" => Answer::RecoveryCode(code),
        "enroll" => Answer::Enroll { code },
        "continue" => Answer::Continue,
        _ => return Err(WebError::BadRequest("Unknown factor action.".into())),
    };
    let outcome = challenge::answer(&state.provider, &client, pending, csrf, cookie, answer).await;
    let prompt = FactorPrompt {
        pending: pending.to_owned(),
        csrf_token: csrf.to_owned(),
        app_label: String::new(),
    };
    match outcome {
        Ok(Passed::Done {
            pending: step,
            user,
            amr,
        }) => {
            // "Remember this device", if ticked and the policy offers it.
            let device_cookie = match get("remember") {
                "1" => remembered_device::remember(&state.provider, &user)
                    .await
                    .map_err(|e| WebError::Page(OAuthError::internal(e)))?
                    .map(|(value, ttl)| {
                        cookies::set(remembered_device::COOKIE, &value, ttl, &origin)
                    }),
                _ => None,
            };
            let mut res = finish_step(&state, &origin, &client, *step, *user, amr).await?;
            if let Some(c) = device_cookie
                && let Ok(v) = HeaderValue::from_str(&c)
            {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        Ok(Passed::ShowRecoveryCodes { codes }) => {
            let action = format!("{origin}{PATH}");
            let page = RecoveryCodesPage {
                action: Some(&action),
                pending,
                csrf_token: csrf,
                codes: &codes,
                branding: &state.config.branding,
            };
            Ok(render_page(StatusCode::OK, page.render(), None))
        }
        Err(ChallengeError::Wrong) => {
            factor_page(
                &state,
                &origin,
                &client,
                &prompt,
                Some(WRONG_CODE),
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
        Err(e) => Err(challenge_error(e)),
    }
}

/// A passed second step: resumes the authorize request, or opens the console's session.
async fn finish_step(
    state: &AppState,
    origin: &str,
    client: &ClientInfo,
    step: PendingSignIn,
    user: User,
    amr: Vec<String>,
) -> Result<Response, WebError> {
    if let Some(tx) = step.transaction_id.as_deref() {
        let done =
            complete_second_factor(&state.provider, tx, step.session_hash.as_deref(), user, amr)
                .await;
        return match done {
            Ok(done) => Ok(after_sign_in(state, origin, client, done).await?),
            Err(LoginFailure::Internal(e)) => Err(WebError::Page(e)),
            Err(_) => Err(WebError::Page(OAuthError::InvalidRequest(EXPIRED.into()))),
        };
    }
    let signed_in = sign_in::open_signed_in(&state.provider, user, amr)
        .await
        .map_err(WebError::Page)?;
    let from = step.return_to.as_deref().unwrap_or("/app/UserHome");
    let target = if from.starts_with("/admin")
        && !admin_roles::is_super_admin(&state.provider, &signed_in.user)
            .await
            .map_err(|e| WebError::Page(OAuthError::internal(e)))?
    {
        "/app/UserHome"
    } else {
        from
    };
    let mut res = super::console::see_other(target);
    let mut set = cookies::set_session(&signed_in.session_cookie, signed_in.session_ttl, origin);
    set.push(cookies::clear(super::console::LOGIN_CSRF, origin));
    for c in set {
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

/// Answers a finished sign-in (password, or password and factor): the factor page, the
/// consent page, or back to the client, with the session cookie when one was opened.
pub(crate) async fn after_sign_in(
    state: &AppState,
    origin: &str,
    client: &ClientInfo,
    done: CompletedLogin,
) -> Result<Response, WebError> {
    let mut set = Vec::new();
    if !done.session_cookie.is_empty() {
        set.extend(cookies::set_session(
            &done.session_cookie,
            done.session_ttl,
            origin,
        ));
    }
    Ok(match done.next {
        AfterSignIn::SecondFactor(prompt) => {
            factor_page(state, origin, client, &prompt, None, StatusCode::OK).await?
        }
        AfterSignIn::Respond(response) => {
            set.push(cookies::clear(cookies::CSRF, origin));
            respond_to_client(
                &response,
                set.into_iter().map(|c| (header::SET_COOKIE, c)).collect(),
            )
        }
        AfterSignIn::Consent(prompt) => super::consent::consent_page(state, origin, &prompt, set),
    })
}
