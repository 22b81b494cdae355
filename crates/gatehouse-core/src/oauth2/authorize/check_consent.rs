//! Okta's user consent rule: which of the requested scopes the user must first allow.
//!
//! | `prompt`  | app `consent_method` | scope `consent`     | asked                     |
//! |-----------|----------------------|---------------------|---------------------------|
//! | `consent` | TRUSTED or REQUIRED  | REQUIRED, FLEXIBLE  | yes, even if granted      |
//! | absent    | REQUIRED             | REQUIRED, FLEXIBLE  | unless granted already    |
//! | any       | any                  | IMPLICIT            | never                     |
//! | absent    | TRUSTED              | any                 | never                     |
//!
//! Only custom authorization servers have scopes with a consent setting; the org server's
//! scopes are implicit. FLEXIBLE (Okta's "optional") scopes are asked like REQUIRED ones: the
//! page offers no per-scope choice.

use super::AuthorizeRequest;
use crate::authz::server_config;
use crate::domain::{App, ConsentMethod, OAuthScope, ScopeConsent, User};
use crate::oauth2::OAuthError;
use crate::provider::{Provider, ServerContext};

/// The scopes of `request` the user must consent to now, in the order requested; empty when
/// the response may be issued.
pub(super) async fn run(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    user: &User,
    request: &AuthorizeRequest,
) -> Result<Vec<OAuthScope>, OAuthError> {
    let asks = request.prompt_consent || app.settings.consent_method == ConsentMethod::Required;
    if server.is_org() || !asks {
        return Ok(Vec::new());
    }
    let config = server_config(provider, &server.server.id).await?;
    let mut wanted: Vec<OAuthScope> = Vec::new();
    for name in request.scopes.iter() {
        if let Some(scope) = config.scope(name)
            && matches!(
                scope.consent,
                ScopeConsent::Required | ScopeConsent::Flexible
            )
            && !wanted.iter().any(|w| w.id == scope.id)
        {
            wanted.push(scope.clone());
        }
    }
    if wanted.is_empty() || request.prompt_consent {
        return Ok(wanted);
    }
    let granted = provider
        .store
        .list_consent_grants(&user.id, Some(&app.client_id))
        .await?;
    wanted.retain(|scope| {
        !granted
            .iter()
            .any(|g| g.issuer == server.issuer && g.scope_id == scope.id)
    });
    Ok(wanted)
}
