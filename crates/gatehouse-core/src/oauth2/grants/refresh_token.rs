use super::{GrantHandler, GrantParams, GrantRequest, GrantType};
use crate::audit::TokenRequestLog;
use crate::authz::policy;
use crate::crypto::sha256_b64url;
use crate::domain::{self, App, RotationType, UserStatus};
use crate::oauth2::OAuthError;
use crate::oauth2::types::ScopeSet;
use crate::oidc::tokens::{self, Issue, RefreshPlan, TokenResponse};
use crate::provider::{Provider, ServerContext};
use crate::store::{Claim, GrantLookup, RefreshFamily};

fn invalid_refresh() -> OAuthError {
    OAuthError::InvalidGrant("The refresh token is invalid or expired.".into())
}

pub(super) struct RefreshToken;

#[async_trait::async_trait]
impl GrantHandler for RefreshToken {
    fn grant_type(&self) -> GrantType {
        GrantType::RefreshToken
    }
    fn parameters(&self) -> &'static [&'static str] {
        &["refresh_token", "scope"]
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
    let presented = params.require("refresh_token")?;
    let now = provider.now();
    let token_hash = sha256_b64url(presented);
    // The token, its grant, the grant's user and its device flag, in one read: the throttle
    // check's, when it read this token's, else here.
    let found = match prefetched {
        Some(GrantLookup::Refresh {
            token_hash: read,
            found,
        }) if read == token_hash => found,
        _ => provider.store.find_refresh_family(&token_hash).await?,
    };
    let RefreshFamily {
        token,
        grant,
        user,
        device_grant,
    } = found.ok_or_else(invalid_refresh)?;
    if token.client_id != app.client_id || token.revoked_at.is_some() || token.expires_at <= now {
        return Err(invalid_refresh());
    }
    let mut grant = grant.ok_or_else(invalid_refresh)?;
    if grant.revoked_at.is_some() || grant.auth_server_id != server.server.id {
        return Err(invalid_refresh());
    }
    // A narrower scope may be asked for; never a wider one. A malformed scope cannot have
    // been granted, and is answered so.
    let not_granted = |extra: &str| {
        OAuthError::InvalidScope(format!(
            "The scope '{extra}' was not granted to the refresh token."
        ))
    };
    let requested = params
        .raw("scope")
        .map(ScopeSet::parse)
        .transpose()
        .map_err(|e| not_granted(e.token()))?
        .filter(|s| !s.is_empty());
    if let Some(requested) = requested {
        if let Some(extra) = requested
            .iter()
            .find(|s| !token.scopes.iter().any(|t| t == s))
        {
            return Err(not_granted(extra));
        }
        grant.scopes = requested.into_vec();
    } else {
        grant.scopes = token.scopes.clone();
    }
    let user = match &grant.user_id {
        Some(uid) => Some(
            user.filter(|u| u.id == *uid && u.status == UserStatus::Active)
                .ok_or_else(invalid_refresh)?,
        ),
        None => None,
    };
    // Custom servers: the access policy decides again, as the grant that started the family.
    let decision = match server.is_org() {
        true => None,
        false => {
            let grant_type = match user {
                Some(_) if device_grant => GrantType::DeviceCode.as_str(),
                Some(_) => GrantType::AuthorizationCode.as_str(),
                None => GrantType::ClientCredentials.as_str(),
            };
            Some(
                policy::decide(
                    provider,
                    &server.server.id,
                    &app.client_id,
                    grant_type,
                    &grant.scopes,
                    user.as_ref(),
                )
                .await?,
            )
        }
    };
    // The rule's idle window restarts with this use, within its absolute lifetime; the org
    // server's tokens keep their original expiry.
    let expires_at = decision
        .as_ref()
        .map_or(token.expires_at, |d| d.refresh_expiry(grant.created, now));
    let policy = app.settings.refresh_policy();
    let rotating = policy.rotation_type == RotationType::Rotate;
    let (refresh, claim) = if rotating {
        // An unrotated token is marked rotated in the same transaction that records its
        // successor; one already rotated falls under the grace rule.
        let claim = match token.rotated_at {
            None => Some(Claim::Rotation {
                token_hash: &token.token_hash,
                now,
            }),
            Some(at) => {
                within_grace(provider, &token, at, policy.leeway, now).await?;
                None
            }
        };
        (RefreshPlan::Issue { expires_at }, claim)
    } else {
        // STATIC (Okta's default outside SPAs): the same token again. Its new expiry is
        // stored with the new access token, in one transaction.
        let extend =
            (expires_at != token.expires_at).then(|| (token.token_hash.clone(), expires_at));
        (
            RefreshPlan::Reuse {
                token: presented.to_owned(),
                extend,
            },
            None,
        )
    };
    let issue = |refresh, claim| Issue {
        server,
        app,
        user: user.as_ref(),
        grant: &grant,
        nonce: None,
        refresh,
        store_grant: false,
        decision: decision.as_ref(),
        log,
        claim,
        sid: None,
    };
    // A won claim that the store makes final needs no check after it (see below).
    let mut claimed = claim.is_some() && provider.store.rotation_claim_is_final();
    let mut response = tokens::issue_claiming(provider, issue(refresh, claim)).await?;
    if response.is_none() {
        // The claim was lost: a concurrent request rotated the token first (the grace rule
        // decides, and within it this request gets a fresh pair of its own, in the same grant),
        // or the token or its grant was revoked meanwhile.
        let rotated_at = provider
            .store
            .find_refresh_token(&token.token_hash)
            .await?
            .filter(|t| t.revoked_at.is_none())
            .and_then(|t| t.rotated_at)
            .ok_or_else(invalid_refresh)?;
        within_grace(provider, &token, rotated_at, policy.leeway, now).await?;
        response =
            Some(tokens::issue(provider, issue(RefreshPlan::Issue { expires_at }, None)).await?);
        claimed = false;
    }
    let response = response.ok_or_else(invalid_refresh)?;
    if rotating && !claimed {
        // A won claim saw the grant standing when its statement ran, but on PostgreSQL a
        // revocation committing between that statement and the claim's commit misses the new
        // tokens (and within the grace period there is no claim at all): they were recorded
        // under the grant, so revoking it again catches them, and the caller gets none. Where
        // the store serialises the claim with every revocation (SQLite's one writer,
        // `TokenStore::rotation_claim_is_final`), a won claim is that check already.
        let revoked = provider
            .store
            .find_grant(&grant.id)
            .await?
            .is_none_or(|g| g.revoked_at.is_some());
        if revoked {
            provider
                .store
                .revoke_grant(&grant.id, provider.now())
                .await?;
            return Err(invalid_refresh());
        }
    }
    Ok(response)
}

/// Rotation (Okta's `rotation_type: ROTATE`): the presented token is marked rotated when its
/// successor is recorded. A token already rotated still works for `leeway` seconds after its
/// first use (Okta's grace period, for a client that lost the response or a second tab racing
/// the first): it then gets a fresh pair of its own, in the same grant. Presented after that,
/// it is taken as stolen: the whole grant (every refresh and access token descended from the
/// sign-in) is revoked and the answer is `invalid_grant`, as Okta's reuse detection does.
///
/// Two concurrent uses of one token: the store lets exactly one mark it; the other sees the
/// mark and falls under the grace rule (or, with `leeway: 0`, revokes the family). Either way
/// there is one grant, never two live families.
async fn within_grace(
    provider: &Provider,
    token: &domain::RefreshToken,
    rotated_at: i64,
    leeway: i64,
    now: i64,
) -> Result<(), OAuthError> {
    if now < rotated_at.saturating_add(leeway) {
        return Ok(());
    }
    tracing::warn!(
        grant = %token.grant_id,
        client_id = %token.client_id,
        "a rotated refresh token was reused after its grace period: revoking the grant"
    );
    provider.store.revoke_grant(&token.grant_id, now).await?;
    Err(invalid_refresh())
}
