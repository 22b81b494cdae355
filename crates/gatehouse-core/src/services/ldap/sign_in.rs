//! Password sign-in delegated to the LDAP directory, called from
//! [`lockout::verify_sign_in`](crate::services::lockout::verify_sign_in) where the password is
//! judged, so lockout counting, the one answer for every refusal and the System Log stay as
//! they are for local users.
//!
//! Delegated: a user from LDAP, or a login Gatehouse does not know (when LDAP is configured).
//! The directory is searched for the login with the service account, the user's DN is bound
//! with their password on a connection of its own, and on success the user is created (first
//! sign-in) or updated, and their LDAP groups synced. When the directory cannot be asked the
//! sign-in fails with its own error (not "wrong password"), and the attempt is not counted
//! towards a lockout. Local users never wait on the directory.

use std::collections::BTreeMap;

use crate::audit::{self, ClientInfo, Entity, Event, event_type};
use crate::crypto::verify_password;
use crate::domain::{User, UserStatus};
use crate::oauth2::OAuthError;
use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;

use super::directory::{DirectoryUnavailable, InstalledDirectory};
use super::provision::{Provisioned, sync_memberships, upsert_user};
use super::source::is_ldap_user;

/// What the person signing in is told when the directory is down.
pub const UNAVAILABLE_MESSAGE: &str = "The directory service (LDAP) is unavailable, so you cannot sign in right now. Try again later.";
/// The System Log's `reason` for a sign-in the directory could not judge.
pub const REASON_DIRECTORY_UNAVAILABLE: &str = "DIRECTORY_UNAVAILABLE";
/// `debugContext.debugData.signInSource` of a delegated sign-in.
pub const SIGN_IN_SOURCE: &str = "LDAP";

enum Failure {
    Unavailable(DirectoryUnavailable),
    Directory(DirectoryError),
}

impl From<DirectoryUnavailable> for Failure {
    fn from(e: DirectoryUnavailable) -> Self {
        Self::Unavailable(e)
    }
}

impl From<DirectoryError> for Failure {
    fn from(e: DirectoryError) -> Self {
        Self::Directory(e)
    }
}

/// Judges the password through LDAP when the sign-in is delegated: `Ok(None)` when it is not
/// (no directory configured, or a local user: the caller verifies the hash), `Ok(Some(ok))`
/// when the directory decided. On success `user` is the (possibly just created) Gatehouse
/// user. `counted`: the caller counted this attempt against `user`'s lockout budget.
pub async fn check_password(
    provider: &Provider,
    client: &ClientInfo,
    login: &str,
    password: &str,
    user: &mut Option<User>,
    counted: bool,
) -> Result<Option<bool>, OAuthError> {
    let Some(ldap) = provider.ldap.get() else {
        return Ok(None);
    };
    if let Some(u) = user.as_ref() {
        if !is_ldap_user(provider, &u.id)
            .await
            .map_err(OAuthError::internal)?
        {
            return Ok(None);
        }
        if u.status != UserStatus::Active {
            // Refused by status below; the directory is not asked.
            return Ok(Some(false));
        }
    }
    if password.is_empty() {
        // An empty password would be an unauthenticated bind, which servers accept.
        return Ok(Some(false));
    }
    match delegated(provider, &ldap, login, password, user).await {
        Ok(ok) => Ok(Some(ok)),
        Err(Failure::Directory(e)) => Err(OAuthError::internal(e)),
        Err(Failure::Unavailable(e)) => {
            tracing::warn!(error = %e, "an LDAP sign-in could not be judged");
            if counted && let Some(u) = user.as_ref() {
                provider.store.forgive_signin_failure(&u.id).await?;
            }
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "directory_unavailable")
                .increment(1);
            let actor = match user.as_ref() {
                Some(u) => Entity::user(u),
                None => Entity::unknown_user(login),
            };
            let event = Event::new(event_type::SESSION_START, "User login to Okta", actor)
                .client(client)
                .debug("requestUri", "/login")
                .debug("signInSource", SIGN_IN_SOURCE)
                .failure(REASON_DIRECTORY_UNAVAILABLE);
            audit::record(provider, event).await;
            Err(OAuthError::TemporarilyUnavailable(
                UNAVAILABLE_MESSAGE.into(),
            ))
        }
    }
}

async fn delegated(
    provider: &Provider,
    ldap: &InstalledDirectory,
    login: &str,
    password: &str,
    user: &mut Option<User>,
) -> Result<bool, Failure> {
    let Some(entry) = ldap.directory.find_user(login).await? else {
        // Costs what a local refusal costs, so the answer's timing tells little.
        let _ = verify_password(password.to_owned(), None).await;
        return Ok(false);
    };
    if !ldap.directory.check_password(&entry.dn, password).await? {
        return Ok(false);
    }
    let profile = match ldap.mapping.user_profile(&entry) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "an LDAP user who signed in cannot be mapped");
            return Ok(false);
        }
    };
    let signed_in = match upsert_user(provider, &profile, false).await? {
        Provisioned::LocalConflict(local) => {
            tracing::warn!(
                login = %local.login,
                "an LDAP entry has the login of a Gatehouse user that is not from LDAP; refused"
            );
            return Ok(false);
        }
        p @ (Provisioned::Created(_) | Provisioned::Updated(_) | Provisioned::Unchanged(_)) => {
            p.user().clone()
        }
    };
    let active = signed_in.status == UserStatus::Active;
    if active {
        let mut wanted = BTreeMap::new();
        for group in ldap.directory.groups_of(&entry, &profile.login).await? {
            if let Some(name) = ldap.mapping.group_name(&group) {
                wanted.insert(name.to_owned(), group.dn.clone());
            }
        }
        sync_memberships(provider, &signed_in, &wanted).await?;
    }
    *user = Some(signed_in);
    Ok(active)
}
