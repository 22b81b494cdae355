use super::{GrantHandler, GrantParams, GrantRequest, GrantType};
use crate::audit::TokenRequestLog;
use crate::authz::policy;
use crate::crypto::sha256_b64url;
use crate::domain::{App, AuthCode, Grant, UserStatus};
use crate::oauth2::types::RedirectUri;
use crate::oauth2::{OAuthError, pkce, scope};
use crate::oidc::tokens::{self, Issue, RefreshPlan, TokenResponse};
use crate::provider::{Provider, ServerContext};
use crate::store::{Claim, GrantLookup};

fn invalid_code() -> OAuthError {
    OAuthError::InvalidGrant(tokens::GRANT_REVOKED.into())
}

/// The code was issued to this client, by this server, for this redirect URI, with this PKCE
/// challenge.
fn check_code_matches(
    code: &AuthCode,
    app: &App,
    server: &ServerContext,
    params: &GrantParams,
) -> Result<(), OAuthError> {
    if code.client_id != app.client_id {
        return Err(OAuthError::InvalidGrant(
            "The grant was issued to another client.".into(),
        ));
    }
    if code.auth_server_id != server.server.id {
        return Err(invalid_code());
    }
    // Parsed here, in the order of the checks: a missing or malformed `redirect_uri` matches
    // no recorded one.
    let redirect_uri = params.raw("redirect_uri").map(RedirectUri::parse);
    if !matches!(redirect_uri, Some(Ok(uri)) if uri.matches(&code.redirect_uri)) {
        return Err(OAuthError::InvalidGrant(
            "The `redirect_uri` does not match the redirection URI used in the authorization request.".into(),
        ));
    }
    match (&code.code_challenge, params.raw("code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce::verifier_matches(verifier, challenge) => Ok(()),
        (Some(_), _) => Err(OAuthError::InvalidGrant("PKCE verification failed.".into())),
        // A verifier without a challenge is a downgrade attempt; refuse it.
        (None, Some(_)) => Err(OAuthError::InvalidGrant("PKCE verification failed.".into())),
        (None, None) => Ok(()),
    }
}

pub(super) struct AuthorizationCode;

#[async_trait::async_trait]
impl GrantHandler for AuthorizationCode {
    fn grant_type(&self) -> GrantType {
        GrantType::AuthorizationCode
    }
    fn parameters(&self) -> &'static [&'static str] {
        &["code", "redirect_uri", "code_verifier"]
    }
    async fn exchange(&self, r: GrantRequest<'_>) -> Result<TokenResponse, OAuthError> {
        exchange(r.provider, r.server, r.app, r.params, r.log, r.prefetched).await
    }
}

async fn exchange(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    params: &GrantParams,
    log: Option<&TokenRequestLog<'_>>,
    prefetched: Option<GrantLookup>,
) -> Result<TokenResponse, OAuthError> {
    let code = params.require("code")?;
    let now = provider.now();
    let code_hash = sha256_b64url(code);
    // Everything the request must match is checked before the code is consumed, and a
    // mismatch leaves it untouched (invalid_grant either way, as Okta answers). RFC 6749
    // §4.1.3 asks for these checks, and §10.5's "single use, revoke on reuse" is about a code
    // redeemed twice; a request that fails them redeems nothing. Burning the code here would
    // let whoever sees a code (another client, a leaked log or Referer) deny the real client
    // its exchange, and turn that client's own exchange into a "replay" that revokes its
    // grant. node-oidc-provider checks in the same order.
    // The code and its user are read in one query: the throttle check's, when it read this
    // code's, else here.
    let found = match prefetched {
        Some(GrantLookup::Code {
            code_hash: read,
            found,
        }) if read == code_hash => found,
        _ => provider.store.find_code_and_user(&code_hash).await?,
    };
    let (code, user) = found.ok_or_else(invalid_code)?;
    check_code_matches(&code, app, server, params)?;
    if code.used_at.is_some() {
        return Err(replayed(provider, &code, now).await);
    }
    if code.expires_at <= now {
        return Err(invalid_code());
    }
    let user = user
        .filter(|u| u.status == UserStatus::Active)
        .ok_or_else(invalid_code)?;

    // Custom servers: the access policy decides again (it may have changed since authorize).
    let decision = match server.is_org() {
        true => None,
        false => Some(
            policy::decide(
                provider,
                &server.server.id,
                &app.client_id,
                GrantType::AuthorizationCode.as_str(),
                &code.scopes,
                Some(&user),
            )
            .await?,
        ),
    };
    let grant = Grant {
        id: code.grant_id.clone(),
        client_id: app.client_id.clone(),
        user_id: Some(user.id.clone()),
        auth_server_id: server.server.id.clone(),
        scopes: code.scopes.clone(),
        auth_time: Some(code.auth_time),
        amr: code.amr.clone(),
        acr: code.acr.clone(),
        created: now,
        revoked_at: None,
    };
    let refresh = if scope::has(&grant.scopes, scope::OFFLINE_ACCESS)
        && app.allows_grant(GrantType::RefreshToken.as_str())
    {
        RefreshPlan::Issue {
            expires_at: decision
                .as_ref()
                .map_or(now + provider.lifetimes.refresh_token, |d| {
                    d.refresh_expiry(now, now)
                }),
        }
    } else {
        RefreshPlan::None
    };
    // The code is spent in the same transaction that records the grant, the tokens and their
    // log events: exactly one concurrent redemption commits, and a replay that finds the code
    // used finds the grant and its tokens too (and revokes them).
    let issued = tokens::issue_claiming(
        provider,
        Issue {
            server,
            app,
            user: Some(&user),
            grant: &grant,
            nonce: code.nonce.as_deref(),
            refresh,
            store_grant: true,
            decision: decision.as_ref(),
            log,
            claim: Some(Claim::Code {
                code_hash: &code_hash,
                now,
            }),
            sid: code
                .session_id_hash
                .as_deref()
                .map(crate::services::backchannel::sid_for),
        },
    )
    .await?;
    match issued {
        Some(response) => Ok(response),
        // Another redemption won (or the code expired meanwhile): this one hands out nothing.
        None => match provider.store.find_code(&code_hash).await? {
            Some(spent) if spent.used_at.is_some() => Err(replayed(provider, &spent, now).await),
            _ => Err(invalid_code()),
        },
    }
}

/// RFC 6749 §4.1.2: a reused code revokes what was issued from it.
async fn replayed(provider: &Provider, code: &AuthCode, now: i64) -> OAuthError {
    tracing::warn!(client_id = %code.client_id, "authorization code replayed; revoking its grant");
    match provider.store.revoke_grant(&code.grant_id, now).await {
        Ok(()) => invalid_code(),
        Err(e) => e.into(),
    }
}
