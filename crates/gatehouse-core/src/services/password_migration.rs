//! Just-in-time password migration for users imported from an Okta org (`gatehouse import
//! okta`). Okta exports no password hashes, so an imported user carries a mark naming the
//! source org; at their first sign-in the password they typed is checked against the source's
//! `POST /api/v1/authn`, and on success stored here as argon2id and the mark cleared (one
//! transaction), so the source is never asked again. The HTTP call itself is a
//! [`SourceAuthenticator`] the binary installs, as this crate does no HTTP.

pub use crate::services::password_source::{
    PasswordSource, SourceAuthenticator, SourceUnavailable,
};

use crate::crypto::hash_password;
use crate::domain::{User, UserStatus};
use crate::oauth2::OAuthError;
use crate::provider::Provider;

/// Marks an imported user for migration from `source_url` (an org URL).
pub async fn mark(provider: &Provider, user_id: &str, source_url: &str) -> Result<(), OAuthError> {
    let source = source_url.trim_end_matches('/');
    provider
        .store
        .mark_password_migration(user_id, source, provider.now())
        .await?;
    Ok(())
}

/// Checks `password` against the source org of a user still marked for migration.
///
/// `Ok(None)`: the user is not migrating (check the local hash as usual). `Ok(Some(ok))`:
/// the source's verdict; on `true` the hash is stored and the mark cleared. A source that
/// cannot answer is `TemporarilyUnavailable`. The password is never logged.
pub(crate) async fn check(
    provider: &Provider,
    user: &User,
    password: &str,
) -> Result<Option<bool>, OAuthError> {
    if user.status != UserStatus::Active || user.password_hash.is_some() {
        return Ok(None);
    }
    let Some(source) = provider.store.password_migration_source(&user.id).await? else {
        return Ok(None);
    };
    let verdict = provider
        .password_source
        .get()
        .verify(&source, &user.login, password)
        .await;
    let accepted = match verdict {
        Ok(accepted) => accepted,
        Err(e) => {
            tracing::warn!(user = %user.id, %source, error = %e, "password migration: source org unavailable");
            metrics::counter!("gatehouse_password_migrations_total", "outcome" => "unavailable")
                .increment(1);
            return Err(OAuthError::TemporarilyUnavailable(
                "Your password could not be checked right now. Try again in a few minutes.".into(),
            ));
        }
    };
    if !accepted {
        metrics::counter!("gatehouse_password_migrations_total", "outcome" => "refused")
            .increment(1);
        return Ok(Some(false));
    }
    let hash = hash_password(password.to_owned())
        .await
        .map_err(OAuthError::internal)?;
    let stored = provider
        .store
        .complete_password_migration(&user.id, &hash, provider.now())
        .await?;
    tracing::info!(user = %user.id, stored, "password migration: password taken over from the source org");
    metrics::counter!("gatehouse_password_migrations_total", "outcome" => "migrated").increment(1);
    Ok(Some(true))
}
