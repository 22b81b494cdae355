//! The sign-in page's ways upstream: a "Sign in with X" button, or an email domain an IdP
//! routes (both post the page's login transaction and CSRF token).

use crate::oauth2::authorize::LoginFailure;
use crate::oauth2::authorize::session::checked_transaction;
use crate::provider::Provider;

use super::start::begin;

/// The sign-in page's button (or an email domain's routing rule): checks the form's
/// transaction and CSRF token, then [`begin`].
pub async fn begin_from_form(
    provider: &Provider,
    transaction_id: &str,
    form_csrf: &str,
    cookie_csrf: Option<&str>,
    idp_id: &str,
    login_hint: Option<&str>,
) -> Result<String, LoginFailure> {
    let (tx, request, _app) =
        checked_transaction(provider, transaction_id, form_csrf, cookie_csrf).await?;
    Ok(begin(provider, idp_id, &tx, &request.origin, login_hint).await?)
}
