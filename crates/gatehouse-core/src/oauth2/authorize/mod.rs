//! The authorize endpoint as a pipeline of small named checks over one request context
//! (after node-oidc-provider). Checks before the redirect URI is trusted end on an error page;
//! later ones redirect the error to the client.

pub mod acr;
mod check_assignment;
mod check_client;
mod check_consent;
mod check_id_token;
mod check_id_token_hint;
pub mod check_lengths;
mod check_pkce;
pub(crate) mod check_policy;
mod check_prompt;
mod check_redirect_uri;
mod check_request_object;
mod check_response_type;
mod check_scope;
mod consent;
pub mod expired;
mod respond;
pub(crate) mod session;
mod session_token;

use serde::{Deserialize, Serialize};

pub use check_response_type::ResponseType;
pub use consent::{ConsentAnswer, ConsentFailure, ConsentPrompt, ConsentScope, complete_consent};
pub use expired::{ExpiredPrompt, complete_expired_password};
pub use respond::{AuthorizationResponse, ResponseMode};
pub use session::{
    AfterSignIn, CompletedLogin, GENERIC_LOGIN_FAILURE, LoginCookies, LoginFailure, complete_login,
    complete_second_factor,
};

use crate::domain::App;
use crate::oauth2::OAuthError;
use crate::oauth2::types::{ClientId, RedirectUri, ScopeSet};
use crate::provider::{Provider, ServerContext};

/// The authorize request as it arrives (query string or form body). Unknown parameters are
/// ignored, as clients send extras (`resource`, `display`…).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub id_token_hint: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// Okta's `sessionToken` (from `POST /api/v1/authn`): signs the user in without the form.
    #[serde(rename = "sessionToken")]
    pub session_token: Option<String>,
    /// Space-separated ACR values (Okta's `urn:okta:loa:1fa:any`, `urn:okta:loa:2fa:any`…);
    /// one naming a second factor makes the sign-in ask for one ([`acr`]).
    pub acr_values: Option<String>,
    /// The browser's "remember this device" cookie: set by the HTTP layer, never read from
    /// the request's parameters.
    #[serde(skip)]
    pub device_cookie: Option<String>,
    /// Okta's `idp`: sign in through this upstream identity provider (no sign-in page).
    pub idp: Option<String>,
}

/// A request that passed every check, kept in the login transaction while the user signs in.
/// Its client id, redirect URI and scopes are stored as the strings they were and parsed
/// again when the transaction is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub origin: String,
    pub auth_server_id: Option<String>,
    pub client_id: ClientId,
    pub redirect_uri: RedirectUri,
    /// Absent in transactions stored before implicit and hybrid existed: the code flow.
    #[serde(default)]
    pub response_type: ResponseType,
    pub response_mode: ResponseMode,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt_login: bool,
    pub prompt_none: bool,
    /// `prompt=consent`: ask for consent even to scopes granted before.
    #[serde(default)]
    pub prompt_consent: bool,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// The `sub` of a valid `id_token_hint`: a session of anyone else is not reused.
    #[serde(default)]
    pub id_token_hint_sub: Option<String>,
    /// `acr_values` asked for a second factor.
    #[serde(default)]
    pub mfa_requested: bool,
    /// `acr_values` named one of Okta's values: the ID token then carries `acr`.
    #[serde(default)]
    pub acr_requested: bool,
    /// The browser's "remember this device" cookie; not kept in the login transaction.
    #[serde(skip)]
    pub device_cookie: Option<String>,
    /// `idp`: the upstream identity provider to sign in with, if the client named one.
    #[serde(default)]
    pub idp: Option<String>,
}

/// What the HTTP layer must do next.
#[derive(Debug)]
pub enum AuthorizeOutcome {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect.
    ErrorPage(OAuthError),
    /// Send the browser back to the client (a code, or an error).
    Respond(AuthorizationResponse),
    /// Show the hosted sign-in page for this transaction.
    Login(LoginPrompt),
    /// Show the consent page for this transaction.
    Consent(ConsentPrompt),
    /// Step-up: a live password-only session must give a second factor first.
    SecondFactor(FactorPrompt),
    /// Send the browser to an upstream identity provider (`idp=`); set the CSRF cookie to
    /// `csrf_token` first: the callback checks it.
    Upstream { url: String, csrf_token: String },
    /// A `sessionToken` opened a session: set its cookie (`cookie`, for `max_age` seconds) on
    /// the response to `then`, so the next authorize finds the session (single sign-on).
    SessionOpened {
        cookie: String,
        max_age: i64,
        then: Box<AuthorizeOutcome>,
    },
}

/// The second sign-in step's page (see [`crate::services::mfa::challenge`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FactorPrompt {
    /// The factor form's `pending` value.
    pub pending: String,
    /// The form's CSRF token (also the `CSRF` cookie's value).
    pub csrf_token: String,
    pub app_label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoginPrompt {
    pub transaction_id: String,
    /// To be set as a cookie and echoed in the form (double-submit CSRF protection).
    pub csrf_token: String,
    pub login_hint: Option<String>,
    pub app_label: String,
}

/// The state the checks share.
struct Ctx<'a> {
    provider: &'a Provider,
    server: &'a ServerContext,
    params: AuthorizeParams,
    app: Option<App>,
    /// Set by `check_redirect_uri`: one of the app's registered URIs.
    redirect_uri: Option<RedirectUri>,
    /// Set by `check_response_type`; the code flow until then.
    response_type: ResponseType,
}

impl Ctx<'_> {
    /// Builds the error response once the redirect URI is trusted.
    fn redirect_error(&self, mode: ResponseMode, err: OAuthError) -> AuthorizeOutcome {
        match &self.redirect_uri {
            Some(uri) => AuthorizeOutcome::Respond(AuthorizationResponse::error(
                uri.as_str(),
                mode,
                &err,
                self.params.state.as_deref(),
                self.server,
            )),
            None => AuthorizeOutcome::ErrorPage(err),
        }
    }
}

/// How many anonymous login transactions (sign-in prompts) one client address may open: each
/// is stored for the transaction's lifetime, so an unauthenticated flood must not grow the
/// table without bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionBudget {
    /// The resolved client address.
    pub address: String,
    /// Transactions per minute; 0 turns the limit off.
    pub per_minute: u32,
}

/// Runs the authorize pipeline. `session_cookie` is the raw sign-in cookie, if any.
pub async fn authorize(
    provider: &Provider,
    server: &ServerContext,
    params: AuthorizeParams,
    session_cookie: Option<&str>,
    budget: Option<&TransactionBudget>,
) -> AuthorizeOutcome {
    let mut ctx = Ctx {
        provider,
        server,
        params,
        app: None,
        redirect_uri: None,
        response_type: ResponseType::default(),
    };

    if let Err(e) = check_client::run(&mut ctx).await {
        return AuthorizeOutcome::ErrorPage(e);
    }
    // The object's parameters (its redirect_uri too) replace the query's before anything is
    // checked; if it is refused, the error waits until the redirect URI can be trusted.
    let request_object = check_request_object::resolve(&mut ctx).await.err();
    if let Err(e) = check_redirect_uri::run(&mut ctx) {
        return AuthorizeOutcome::ErrorPage(e);
    }
    // An over-long value is cleared at once (so nothing echoes it) and answered first, to the
    // redirect URI in the response mode asked for.
    let too_long = check_lengths::run(&mut ctx).err();
    let mode = match check_response_type::run(&ctx) {
        Ok((response_type, mode)) => {
            ctx.response_type = response_type;
            mode
        }
        Err(refused) => {
            let error = too_long.unwrap_or(refused.error);
            return ctx.redirect_error(refused.mode, error);
        }
    };
    if let Some(e) = too_long {
        return ctx.redirect_error(mode, e);
    }
    if let Some(e) = request_object {
        return ctx.redirect_error(mode, e);
    }
    let checks = (|| {
        let scopes = check_scope::run(&ctx)?;
        check_id_token::run(&ctx, &scopes)?;
        let code_challenge = check_pkce::run(&ctx)?;
        let prompt = check_prompt::run(&ctx)?;
        Ok::<_, OAuthError>((scopes, code_challenge, prompt))
    })();
    let (scopes, code_challenge, prompt) = match checks {
        Ok(v) => v,
        Err(e) => return ctx.redirect_error(mode, e),
    };
    if let Err(e) = check_policy::known_scopes(provider, server, &scopes).await {
        return ctx.redirect_error(mode, e);
    }
    let id_token_hint_sub = match check_id_token_hint::run(&ctx).await {
        Ok(sub) => sub,
        Err(e) => return ctx.redirect_error(mode, e),
    };
    // The app's own id (as stored, what its codes and grants are recorded under).
    let client_id = ctx
        .app
        .as_ref()
        .and_then(|app| ClientId::parse(&app.client_id).ok());
    let (Some(app), Some(client_id), Some(redirect_uri)) =
        (ctx.app.clone(), client_id, ctx.redirect_uri.clone())
    else {
        return AuthorizeOutcome::ErrorPage(OAuthError::InvalidRequest(
            "The request is incomplete.".into(),
        ));
    };
    let request = AuthorizeRequest {
        origin: server.origin.clone(),
        auth_server_id: (!server.is_org()).then(|| server.server.id.clone()),
        client_id,
        redirect_uri,
        response_type: ctx.response_type,
        response_mode: mode,
        scopes,
        state: ctx.params.state.clone(),
        nonce: ctx.params.nonce.clone(),
        code_challenge,
        prompt_login: prompt.login,
        prompt_none: prompt.none,
        prompt_consent: prompt.consent,
        max_age: prompt.max_age,
        login_hint: ctx.params.login_hint.clone(),
        id_token_hint_sub,
        mfa_requested: acr::requests_mfa(ctx.params.acr_values.as_deref()),
        acr_requested: acr::requests_acr(ctx.params.acr_values.as_deref()),
        device_cookie: ctx.params.device_cookie.clone(),
        idp: ctx.params.idp.clone().filter(|i| !i.is_empty()),
    };
    let next = match ctx
        .params
        .session_token
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        Some(token) => {
            session_token::run(
                provider,
                server,
                &app,
                request,
                token,
                session_cookie,
                budget,
            )
            .await
        }
        None => {
            session::resume_or_prompt(provider, server, &app, request, session_cookie, budget).await
        }
    };
    match next {
        Ok(outcome) => outcome,
        Err(e) => ctx.redirect_error(mode, e),
    }
}
