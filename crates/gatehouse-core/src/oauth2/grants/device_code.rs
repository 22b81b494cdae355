//! `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5): the device
//! polls with its device code until the user answers at `/activate`.
//!
//! Each poll is recorded, and judged against the previous one, in one statement (`slow_down`
//! holds however many polls race); the approved code is spent by one conditional update, so
//! exactly one poll gets tokens. The access policy decides again, as for a code exchange.

use super::{GrantHandler, GrantParams, GrantRequest, GrantType};
use crate::authz::policy;
use crate::crypto::sha256_b64url;
use crate::domain::{App, DeviceStatus, Grant, UserStatus};
use crate::oauth2::{OAuthError, scope};
use crate::oidc::tokens::{self, Issue, RefreshPlan, TokenResponse};
use crate::provider::{Provider, ServerContext};
use crate::services::system_log::TokenRequestLog;

pub struct DeviceCode;

#[async_trait::async_trait]
impl GrantHandler for DeviceCode {
    fn grant_type(&self) -> GrantType {
        GrantType::DeviceCode
    }
    fn parameters(&self) -> &'static [&'static str] {
        &["device_code"]
    }
    async fn exchange(&self, r: GrantRequest<'_>) -> Result<TokenResponse, OAuthError> {
        exchange(r.provider, r.server, r.app, r.params, r.log).await
    }
}

fn invalid_code() -> OAuthError {
    OAuthError::InvalidGrant("The device code is invalid or has already been used.".into())
}

async fn exchange(
    provider: &Provider,
    server: &ServerContext,
    app: &App,
    params: &GrantParams,
    log: Option<&TokenRequestLog<'_>>,
) -> Result<TokenResponse, OAuthError> {
    let device_code = params.require("device_code")?;
    let hash = sha256_b64url(device_code);
    let now = provider.now();
    let (device, too_fast) = provider
        .store
        .poll_device_authorization(&hash, now)
        .await?
        .ok_or_else(invalid_code)?;
    if device.client_id != app.client_id || device.auth_server_id != server.server.id {
        return Err(invalid_code());
    }
    if device.expires_at <= now {
        return Err(OAuthError::ExpiredToken(
            "The device code has expired.".into(),
        ));
    }
    match device.status {
        DeviceStatus::Denied => {
            return Err(OAuthError::DeviceDenied(
                "The user denied the authorization request.".into(),
            ));
        }
        DeviceStatus::Redeemed => return Err(invalid_code()),
        DeviceStatus::Pending | DeviceStatus::Approved if too_fast => {
            return Err(OAuthError::SlowDown(format!(
                "The client is polling too fast; wait {} seconds between requests.",
                device.interval
            )));
        }
        DeviceStatus::Pending => {
            return Err(OAuthError::AuthorizationPending(
                "The user has not yet approved the request.".into(),
            ));
        }
        DeviceStatus::Approved => {}
    }
    let user = match &device.user_id {
        Some(id) => provider.store.find_user(id).await?,
        None => None,
    }
    .filter(|u| u.status == UserStatus::Active)
    .ok_or_else(invalid_code)?;
    let decision = match server.is_org() {
        true => None,
        false => Some(
            policy::decide(
                provider,
                &server.server.id,
                &app.client_id,
                GrantType::DeviceCode.as_str(),
                &device.scopes,
                Some(&user),
            )
            .await?,
        ),
    };
    // The one redemption: a concurrent poll that lost finds the code spent.
    let grant_id = crate::crypto::time_ordered_okta_id("oag");
    if !provider
        .store
        .redeem_device_authorization(&hash, now, &grant_id)
        .await?
    {
        return Err(invalid_code());
    }
    let grant = Grant {
        id: grant_id,
        client_id: app.client_id.clone(),
        user_id: Some(user.id.clone()),
        auth_server_id: server.server.id.clone(),
        scopes: device.scopes.clone(),
        auth_time: device.auth_time,
        amr: device.amr.clone(),
        // No acr_values at the device endpoint: the claim only when a second factor was given.
        acr: crate::oauth2::authorize::acr::for_token(false, &device.amr),
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
    tokens::issue(
        provider,
        Issue {
            server,
            app,
            user: Some(&user),
            grant: &grant,
            nonce: None,
            refresh,
            store_grant: true,
            decision: decision.as_ref(),
            log,
            claim: None,
            sid: None,
        },
    )
    .await
}
