//! Okta's `sessionToken` at `/authorize`: a token from `POST /api/v1/authn` stands in for the
//! sign-in form. It is spent (once) here and a session opened for its user; an unknown,
//! expired or spent token is ignored and the request goes on as without it (a live session
//! or the sign-in page; `login_required` with `prompt=none`).

use super::session::{Reuse, resume_or_prompt, step_up_or_finish};
use super::{AuthorizeOutcome, AuthorizeRequest, TransactionBudget};
use crate::domain::App;
use crate::oauth2::OAuthError;
use crate::provider::{Provider, ServerContext};
use crate::services::authn;

pub(super) async fn run(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    request: AuthorizeRequest,
    token: &str,
    session_cookie: Option<&str>,
    budget: Option<&TransactionBudget>,
) -> Result<AuthorizeOutcome, OAuthError> {
    match authn::open_session(provider, token).await? {
        // A password alone gave the token: a user with a factor (or a policy requiring MFA)
        // still gets the factor page before any code or token is issued.
        // The browser keeps the session whatever comes next (a code, the factor step, the
        // consent page): without its cookie the next authorize would prompt again.
        Some(opened) => {
            let then = step_up_or_finish(
                provider,
                server,
                app,
                &opened.user,
                Reuse {
                    session: &opened.session,
                    reused: false,
                },
                request,
                budget,
            )
            .await?;
            Ok(match then {
                AuthorizeOutcome::ErrorPage(_) => then,
                then => AuthorizeOutcome::SessionOpened {
                    max_age: (opened.session.expires_at - provider.now()).max(0),
                    cookie: opened.cookie,
                    then: Box::new(then),
                },
            })
        }
        None => {
            tracing::info!(client_id = %app.client_id, "sessionToken at authorize: unknown, expired or spent");
            resume_or_prompt(provider, server, app, request, session_cookie, budget).await
        }
    }
}
