//! Building the authorization response: issuing the code, or carrying an error back.

use serde::{Deserialize, Serialize};

use super::AuthorizeRequest;
use crate::authz::policy::Decision;
use crate::crypto::{random_token, sha256_b64url, time_ordered_okta_id};
use crate::domain::{AuthCode, Grant, Session, User};
use crate::oauth2::OAuthError;
use crate::oidc::tokens::{FrontChannel, issue_front_channel};
use crate::provider::{Provider, ServerContext};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
    /// Okta's `okta_post_message`: a page that hands the response to the window that framed
    /// (or opened) it with `postMessage`, for okta-auth-js's hidden-iframe renewal.
    OktaPostMessage,
}

/// Where to send the browser and with what parameters; the HTTP layer encodes it per mode.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationResponse {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub params: Vec<(String, String)>,
}

impl AuthorizationResponse {
    pub fn error(
        redirect_uri: &str,
        mode: ResponseMode,
        err: &OAuthError,
        state: Option<&str>,
        server: &ServerContext,
    ) -> Self {
        let mut params = vec![
            ("error".to_owned(), err.code().to_owned()),
            ("error_description".to_owned(), err.description()),
        ];
        if let Some(state) = state {
            params.push(("state".into(), state.to_owned()));
        }
        // Okta sends no `iss` on error responses (and mod_auth_openidc 2.4 reads an error
        // response with `iss` as a login initiated by a third party): only servers set to
        // RFC 9207 add it here.
        if server.server.authorization_response_iss {
            params.push(("iss".into(), server.issuer.clone()));
        }
        Self {
            redirect_uri: redirect_uri.to_owned(),
            mode,
            params,
        }
    }

    /// The redirect target for query and fragment modes.
    pub fn location(&self) -> String {
        let encoded = serde_urlencoded::to_string(&self.params).unwrap_or_default();
        match self.mode {
            ResponseMode::Fragment => format!("{}#{encoded}", self.redirect_uri),
            ResponseMode::Query | ResponseMode::FormPost | ResponseMode::OktaPostMessage => {
                let sep = if self.redirect_uri.contains('?') {
                    '&'
                } else {
                    '?'
                };
                format!("{}{sep}{encoded}", self.redirect_uri)
            }
        }
    }
}

impl AuthorizationResponse {
    /// `okta_post_message`: the origin the message is posted to (and the only one that may
    /// frame the page), that of the registered redirect URI. `None` if it has none (`about:`,
    /// custom schemes): nothing is posted then.
    pub fn post_message_origin(&self) -> Option<String> {
        let url = url::Url::parse(&self.redirect_uri).ok()?;
        match url.origin() {
            o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
            url::Origin::Opaque(_) => None,
        }
    }

    /// `okta_post_message`: the message, a plain object of the response parameters
    /// (`{code, state}` or `{error, error_description, state}`), as okta-auth-js expects.
    /// `iss` stays out, as in Okta's message.
    pub fn post_message_data(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .params
            .iter()
            .filter(|(k, _)| k != "iss")
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::Value::Object(map)
    }
}

/// Answers the authorize request of a signed-in, assigned user: a single-use code, tokens
/// (implicit), or both (hybrid).
pub(super) async fn issue_response(
    provider: &Provider,
    server: &ServerContext,
    request: &AuthorizeRequest,
    user: &User,
    session: &Session,
    decision: Option<&Decision>,
) -> Result<AuthorizationResponse, OAuthError> {
    let now = provider.now();
    let rt = request.response_type;
    let mut params = Vec::new();
    let code = if rt.code {
        let code = random_token(32);
        let record = AuthCode {
            code_hash: sha256_b64url(&code),
            grant_id: time_ordered_okta_id("oag"),
            client_id: request.client_id.to_string(),
            user_id: user.id.clone(),
            auth_server_id: server.server.id.clone(),
            redirect_uri: request.redirect_uri.to_string(),
            scopes: request.scopes.as_slice().to_vec(),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            auth_time: session.auth_time,
            amr: session.amr.clone(),
            acr: super::acr::for_token(request.acr_requested, &session.amr),
            session_id_hash: Some(session.id_hash.clone()),
            created: now,
            expires_at: now + provider.lifetimes.authorization_code,
            used_at: None,
        };
        provider.store.create_code(&record).await?;
        crate::audit::record_code_issued(
            provider,
            request.auth_server_id.as_deref(),
            request.client_id.as_str(),
            user,
            request.scopes.as_slice(),
        )
        .await;
        params.push(("code".to_owned(), code.clone()));
        Some(code)
    } else {
        None
    };
    if rt.has_front_channel_tokens() {
        let app = provider
            .store
            .find_app_by_client_id(request.client_id.as_str())
            .await?
            .ok_or_else(|| OAuthError::InvalidClient("The client no longer exists.".into()))?;
        // The tokens handed out here get a grant of their own: the code's grant is created
        // when the code is redeemed, and a code replay revokes that one.
        let grant = Grant {
            id: time_ordered_okta_id("oag"),
            client_id: app.client_id.clone(),
            user_id: Some(user.id.clone()),
            auth_server_id: server.server.id.clone(),
            scopes: request.scopes.as_slice().to_vec(),
            auth_time: Some(session.auth_time),
            amr: session.amr.clone(),
            acr: super::acr::for_token(request.acr_requested, &session.amr),
            created: now,
            revoked_at: None,
        };
        let tokens = issue_front_channel(
            provider,
            FrontChannel {
                server,
                app: &app,
                user,
                grant: &grant,
                nonce: request.nonce.as_deref(),
                access_token: rt.token,
                id_token: rt.id_token,
                code: code.as_deref(),
                decision,
                sid: Some(crate::services::backchannel::sid_for(&session.id_hash)),
            },
        )
        .await?;
        metrics::counter!("gatehouse_tokens_issued_total", "grant" => "implicit", "authorization_server" => server.server.id.clone()).increment(1);
        if let Some(access_token) = tokens.access_token {
            params.push(("access_token".into(), access_token));
            params.push(("token_type".into(), "Bearer".into()));
            params.push(("expires_in".into(), tokens.expires_in.to_string()));
            params.push(("scope".into(), request.scopes.to_string()));
        }
        if let Some(id_token) = tokens.id_token {
            params.push(("id_token".into(), id_token));
        }
    }
    if let Some(state) = &request.state {
        params.push(("state".into(), state.clone()));
    }
    params.push(("iss".into(), server.issuer.clone()));
    Ok(AuthorizationResponse {
        redirect_uri: request.redirect_uri.to_string(),
        mode: request.response_mode,
        params,
    })
}
