//! An upstream person into a Gatehouse user: the user already linked to this IdP's `sub`, or
//! an existing user linked by the account-link policy, or a new user (JIT provisioning); the
//! profile updated from the claims on every sign-in, and the groups from the groups claim.
//!
//! Linking an existing user needs `accountLink.action` AUTO and either the upstream's
//! *verified* email (`email_verified: true`) equal to the user's email, or the user in one of
//! the policy's `filter` groups (the administrator's explicit rule). An unverified email never
//! links. A user from another source (LDAP, another IdP) is never taken over.

use std::collections::HashSet;

use crate::audit::{Actor, Entity, event_type as ev};
use crate::crypto::okta_id;
use crate::domain::{
    AccountLinkAction, FilterOp, GroupsAction, Idp, MatchType, ProvisioningAction, User, UserField,
    UserFilter, UserStatus, source_of,
};
use crate::provider::Provider;
use crate::services::directory_rules::DirectoryError;
use crate::services::groups;
use crate::store::Page;

use super::mapping::FederatedProfile;

/// Why a person was not let in (System Log reason; the person sees a generic message).
pub type Refusal = String;

/// The user for `profile`, or why there is none.
pub async fn user_for(
    provider: &Provider,
    idp: &Idp,
    profile: &FederatedProfile,
) -> Result<Result<User, Refusal>, DirectoryError> {
    let source = idp.source();
    if let Some(id) = provider
        .store
        .find_user_id_by_source(&source, &profile.sub)
        .await?
        && let Some(user) = provider.store.find_user(&id).await?
    {
        return Ok(Ok(update_profile(provider, user, profile).await?));
    }
    if let Some(existing) = matching_user(provider, idp, profile).await? {
        return link(provider, idp, existing, profile).await;
    }
    if idp.settings.provisioning == ProvisioningAction::Disabled {
        return Ok(Err("no linked user, and provisioning is DISABLED".into()));
    }
    create(provider, idp, profile).await
}

async fn matching_user(
    provider: &Provider,
    idp: &Idp,
    profile: &FederatedProfile,
) -> Result<Option<User>, DirectoryError> {
    let by_login = || provider.store.find_user_by_login(&profile.login);
    let by_email = || async {
        if profile.email.is_empty() {
            return Ok(None);
        }
        let filter = UserFilter::Compare {
            field: UserField::Email,
            op: FilterOp::Eq,
            value: profile.email.clone(),
        };
        let page = Page {
            after: None,
            limit: 2,
        };
        let found = provider.store.search_users(Some(&filter), page).await?;
        // Two users sharing the email: no way to tell which one is meant, so none is.
        Ok::<_, DirectoryError>(if found.len() == 1 {
            found.into_iter().next()
        } else {
            None
        })
    };
    Ok(match idp.settings.match_type {
        MatchType::Username => by_login().await?,
        MatchType::Email => by_email().await?,
        MatchType::UsernameOrEmail => match by_login().await? {
            Some(u) => Some(u),
            None => by_email().await?,
        },
    })
}

async fn link(
    provider: &Provider,
    idp: &Idp,
    user: User,
    profile: &FederatedProfile,
) -> Result<Result<User, Refusal>, DirectoryError> {
    if idp.settings.account_link == AccountLinkAction::Disabled {
        return Ok(Err(format!(
            "user {} exists and account linking is DISABLED",
            user.id
        )));
    }
    if provider.store.user_source(&user.id).await?.is_some() {
        return Ok(Err(format!(
            "user {} comes from another source and is not linked",
            user.id
        )));
    }
    let verified_email = profile.email_verified
        && !user.email.is_empty()
        && profile.email.eq_ignore_ascii_case(&user.email);
    let in_rule_group = if idp.settings.account_link_groups.is_empty() {
        false
    } else {
        let mine = provider.store.list_user_groups(&user.id).await?;
        mine.iter()
            .any(|g| idp.settings.account_link_groups.contains(&g.id))
    };
    if !verified_email && !in_rule_group {
        return Ok(Err(format!(
            "user {} was not linked: the upstream's email is not verified or does not match",
            user.id
        )));
    }
    provider
        .store
        .set_user_source(&user.id, &idp.source(), &profile.sub, provider.now())
        .await?;
    Ok(Ok(update_profile(provider, user, profile).await?))
}

async fn create(
    provider: &Provider,
    idp: &Idp,
    profile: &FederatedProfile,
) -> Result<Result<User, Refusal>, DirectoryError> {
    let now = provider.now();
    let email = if profile.email.is_empty() && profile.login.contains('@') {
        profile.login.clone()
    } else {
        profile.email.clone()
    };
    if let Err(e) = crate::services::users::validate_profile(
        &profile.login,
        &email,
        &profile.first_name,
        &profile.last_name,
    ) {
        return Ok(Err(format!("the upstream's profile is not valid: {e}")));
    }
    let user = User {
        id: okta_id("00u"),
        status: UserStatus::Active,
        login: profile.login.clone(),
        email,
        first_name: profile.first_name.clone(),
        last_name: profile.last_name.clone(),
        display_name: None,
        password_hash: None,
        created: now,
        last_updated: now,
        activated: Some(now),
        status_changed: Some(now),
        last_login: None,
        password_changed: None,
    };
    match provider.store.create_user(&user).await {
        Ok(()) => {}
        // The login is taken (by a user the match did not link, or by a concurrent first
        // sign-in of the same person): refused; a second attempt finds the linked user.
        Err(crate::store::StoreError::Conflict { .. }) => {
            return Ok(Err("the login was taken meanwhile; sign in again".into()));
        }
        Err(e) => return Err(e.into()),
    }
    provider
        .store
        .set_user_source(&user.id, &idp.source(), &profile.sub, now)
        .await?;
    let actor = Actor::system();
    let target = vec![Entity::user(&user)];
    actor
        .record(
            provider,
            ev::USER_CREATE,
            "Create Okta user",
            target.clone(),
        )
        .await;
    actor
        .record(provider, ev::USER_ACTIVATE, "Activate Okta user", target)
        .await;
    Ok(Ok(user))
}

/// Email and names from the upstream, written when they changed (the login stays).
async fn update_profile(
    provider: &Provider,
    mut user: User,
    profile: &FederatedProfile,
) -> Result<User, DirectoryError> {
    let mut changed = false;
    for (field, value) in [
        (&mut user.email, &profile.email),
        (&mut user.first_name, &profile.first_name),
        (&mut user.last_name, &profile.last_name),
    ] {
        if !value.is_empty() && field != value {
            field.clone_from(value);
            changed = true;
        }
    }
    if changed {
        user.last_updated = provider.now();
        provider.store.update_user(&user).await?;
        Actor::system()
            .record(
                provider,
                ev::USER_PROFILE_UPDATE,
                "Update user profile for Okta",
                vec![Entity::user(&user)],
            )
            .await;
    }
    Ok(user)
}

/// Makes the user's memberships of this IdP's groups follow the groups claim: groups are
/// created (sourced from the IdP) as needed; SYNC also removes the user from the IdP's groups
/// the claim no longer names. A Gatehouse group of the same name that did not come from this
/// IdP is never joined (an upstream must not grant local groups such as administrators').
pub async fn sync_groups(
    provider: &Provider,
    idp: &Idp,
    user: &User,
    names: &[String],
) -> Result<(), DirectoryError> {
    if idp.settings.groups_action == GroupsAction::None {
        return Ok(());
    }
    let actor = Actor::system();
    let source = source_of(&idp.id);
    let mine: HashSet<String> = provider
        .store
        .list_source_groups(&source)
        .await?
        .into_iter()
        .collect();
    let mut keep = HashSet::new();
    for name in names {
        let group = match provider.store.find_group_by_name(name).await? {
            Some(g) if mine.contains(&g.id) => g,
            Some(_) => {
                tracing::warn!(group = %name, idp = %idp.id, "a Gatehouse group of this name is not from this IdP; not joined");
                continue;
            }
            None => {
                match groups::create_group(provider, &actor, name, &format!("From {}", idp.name))
                    .await
                {
                    Ok(g) => {
                        provider
                            .store
                            .set_group_source(&g.id, &source, name, provider.now())
                            .await?;
                        g
                    }
                    Err(DirectoryError::Invalid { message, .. }) => {
                        tracing::warn!(group = %name, %message, "IdP group skipped");
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        keep.insert(group.id.clone());
    }
    let current = provider.store.list_user_groups(&user.id).await?;
    let have: HashSet<&str> = current.iter().map(|g| g.id.as_str()).collect();
    for id in &keep {
        if !have.contains(id.as_str())
            && let Some(group) = provider.store.find_group(id).await?
        {
            groups::add_group_member(provider, &actor, &group, user).await?;
        }
    }
    if idp.settings.groups_action == GroupsAction::Sync {
        for group in &current {
            if mine.contains(&group.id) && !keep.contains(&group.id) {
                groups::remove_group_member(provider, &actor, group, user).await?;
            }
        }
    }
    Ok(())
}
