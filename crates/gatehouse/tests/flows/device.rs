//! The device authorization grant (RFC 8628) through the registry and the device endpoints'
//! core functions, beside the HTTP tests in `tests/it/device_grant.rs`.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::Session;
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::oauth2::device::{self, DeviceAuthorizationResponse};
use gatehouse_core::oauth2::grants::{self, DEVICE_CODE, GrantType};
use gatehouse_core::services::device_activation;
use gatehouse_store::test_support::Backend;

use crate::support::{Flow, setup, token_params};

impl Flow {
    async fn start(&self, scope: &str) -> Result<DeviceAuthorizationResponse> {
        let p = token_params(&self.tv.app.client_id, None, &[("scope", scope)]);
        Ok(device::device_authorize(&self.provider, &self.server, &p, None).await?)
    }

    async fn poll(
        &self,
        device_code: &str,
    ) -> Result<gatehouse_core::oidc::tokens::TokenResponse, OAuthError> {
        let p = token_params(
            &self.tv.app.client_id,
            None,
            &[("grant_type", DEVICE_CODE), ("device_code", device_code)],
        );
        grants::token(&self.provider, &self.server, p, None, None).await
    }

    fn session(&self) -> Session {
        let now = self.provider.now();
        Session {
            id_hash: "flow".into(),
            user_id: self.user.id.clone(),
            auth_time: now,
            amr: vec!["pwd".into()],
            created: now,
            expires_at: now + 3600,
        }
    }
}

async fn device_grant_through_the_registry(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let handler = grants::handler(GrantType::DeviceCode).context("registered")?;
    ensure!(handler.parameters() == ["device_code"]);
    ensure!(grants::handler(GrantType::Implicit).is_none());

    let started = f.start("openid offline_access").await?;
    match f.poll(&started.device_code).await {
        Err(OAuthError::AuthorizationPending(_)) => {}
        other => anyhow::bail!("expected authorization_pending: {other:?}"),
    }
    device_activation::decide(
        &f.provider,
        "203.0.113.9",
        &started.user_code,
        &f.user,
        &f.session(),
        true,
    )
    .await?;
    f.advance(5);
    let tokens = f.poll(&started.device_code).await?;
    ensure!(tokens.id_token.is_some() && tokens.refresh_token.is_some());
    f.advance(5);
    match f.poll(&started.device_code).await {
        Err(OAuthError::InvalidGrant(_)) => {}
        other => anyhow::bail!("a second redemption: {other:?}"),
    }
    Ok(())
}

/// The store's redemption is the one gate: of ten concurrent attempts on an approved code,
/// one wins.
async fn device_code_redeems_once_in_the_store(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let started = f.start("openid").await?;
    device_activation::decide(
        &f.provider,
        "203.0.113.9",
        &started.user_code,
        &f.user,
        &f.session(),
        true,
    )
    .await?;
    let hash = gatehouse_core::crypto::sha256_b64url(&started.device_code);
    let now = f.provider.now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (provider, hash) = (f.provider.clone(), hash.clone());
        tasks.spawn(async move {
            provider
                .store
                .redeem_device_authorization(&hash, now, "oagflow")
                .await
        });
    }
    let mut won = 0;
    while let Some(r) = tasks.join_next().await {
        won += usize::from(r??);
    }
    ensure!(won == 1, "{won} redemptions");
    Ok(())
}

/// Expired authorizations do not pile up: a new one clears those expired for an hour.
async fn expired_device_codes_are_purged(backend: Backend) -> Result<()> {
    let f = setup(backend).await?;
    let old = f.start("openid").await?;
    let hash = |code: &str| -> Result<String> {
        let n = device::normalize_user_code(code).context("our own code")?;
        Ok(device::user_code_hash(&n))
    };
    let find = |h: String| {
        let provider = f.provider.clone();
        async move { provider.store.find_device_by_user_code(&h).await }
    };
    f.advance(device::EXPIRES_IN + 1800);
    f.start("openid").await?;
    ensure!(
        find(hash(&old.user_code)?).await?.is_some(),
        "purged too soon"
    );
    f.advance(1801);
    let new = f.start("openid").await?;
    ensure!(find(hash(&old.user_code)?).await?.is_none(), "not purged");
    ensure!(find(hash(&new.user_code)?).await?.is_some());
    Ok(())
}

both_backends!(
    device_grant_through_the_registry,
    device_code_redeems_once_in_the_store,
    expired_device_codes_are_purged,
);
