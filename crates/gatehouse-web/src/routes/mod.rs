pub mod api_v1;
pub mod authn;
pub mod authn_expired;
pub mod authn_factors;
mod authn_webauthn;
pub mod clients;
pub mod consent;
pub mod console;
pub mod device;
pub mod entra;
pub mod forward_auth;
pub mod health;
pub mod home;
pub mod idp_signin;
pub mod login;
pub mod mfa;
pub mod mfa_webauthn;
pub mod oauth2;
pub mod recovery;
pub mod well_known;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::oauth2::authorize::{AuthorizationResponse, ResponseMode};

use crate::views::{
    FormPostPage, OktaPostMessagePage, render_page, render_post_message_page, script_json,
};
use askama::Template as _;

pub(crate) fn authorization_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// Sends the browser back to the client in the requested response mode.
pub(crate) fn respond_to_client(
    resp: &AuthorizationResponse,
    extra_headers: Vec<(header::HeaderName, String)>,
) -> Response {
    let mut res = match resp.mode {
        ResponseMode::FormPost => {
            let nonce = gatehouse_core::crypto::random_token(16);
            let page = FormPostPage {
                action: &resp.redirect_uri,
                params: &resp.params,
                nonce: &nonce,
            };
            render_page(StatusCode::OK, page.render(), Some(&nonce))
        }
        ResponseMode::OktaPostMessage => {
            let nonce = gatehouse_core::crypto::random_token(16);
            let origin = resp.post_message_origin();
            let data = script_json(&resp.post_message_data());
            // Without an origin to post to, nothing is posted (never to `*`).
            let target = origin
                .as_ref()
                .map_or_else(|| "null".to_owned(), |o| script_json(&serde_json::json!(o)));
            let page = OktaPostMessagePage {
                data: &data,
                target_origin: &target,
                nonce: &nonce,
            };
            render_post_message_page(&page, origin.as_deref())
        }
        ResponseMode::Query | ResponseMode::Fragment => (
            StatusCode::FOUND,
            [
                (header::LOCATION, resp.location()),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
        )
            .into_response(),
    };
    for (name, value) in extra_headers {
        if let Ok(v) = value.parse() {
            res.headers_mut().append(name, v);
        }
    }
    res
}
