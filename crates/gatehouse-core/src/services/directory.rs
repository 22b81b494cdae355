//! Users, groups and app integrations.

use crate::audit::{Actor, Entity, event_type as ev};
use crate::crypto::{hash_password, okta_id};
use crate::domain::text::{self, limits};
use crate::domain::*;
use crate::provider::Provider;
use crate::services::apps::OidcAppSpec;
pub use crate::services::directory_rules::{CreatedApp, DirectoryError, validate_redirect_uri};
// Re-exported: the API and CLI crates and other services name them through `directory`.
pub(crate) use crate::services::directory_rules::{invalid, validate_group_profile};

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: Option<String>,
    pub password: Option<String>,
    /// Activate now (Okta's `activate=true`); without a password the user stays PROVISIONED.
    pub activate: bool,
}

/// Okta's minimal password policy: at least 8 characters.
pub const MIN_PASSWORD_LENGTH: usize = 8;

/// Okta's base-profile rules (the Python SDK enforces the same lengths on responses).
pub(crate) fn validate_profile(
    login: &str,
    email: &str,
    first_name: &str,
    last_name: &str,
) -> Result<(), DirectoryError> {
    // Lengths count characters, as Okta's (and JSON Schema's) limits do, not UTF-8 bytes.
    let chars = |s: &str| s.chars().count();
    if chars(login.trim()) < 5 || chars(login.trim()) > 100 {
        return Err(invalid("login", "must be 5 to 100 characters"));
    }
    let email = email.trim();
    if !email.contains('@') || chars(email) < 5 || chars(email) > 100 {
        return Err(invalid("email", "must be a valid email address"));
    }
    let person = limits::PERSON_NAME;
    for (field, value) in [("firstName", first_name), ("lastName", last_name)] {
        if value.trim().is_empty() || chars(value) > person {
            return Err(invalid(field, format!("must be 1 to {person} characters")));
        }
        if text::has_forbidden_char(value) {
            return Err(invalid(field, text::FORBIDDEN_CHAR_MESSAGE));
        }
    }
    Ok(())
}

/// A user's `displayName` (free text, optional): at most [`limits::PROFILE_TEXT`] characters
/// and no control characters, the rule every entry point (API, console, CLI) goes through.
pub fn validate_display_name(display_name: Option<&str>) -> Result<(), DirectoryError> {
    let Some(name) = display_name else {
        return Ok(());
    };
    text::check_max_chars(name, limits::PROFILE_TEXT).map_err(|m| invalid("displayName", m))?;
    if text::has_forbidden_char(name) {
        return Err(invalid("displayName", text::FORBIDDEN_CHAR_MESSAGE));
    }
    Ok(())
}

/// Checks the password policy and hashes the password (off the async runtime).
pub(crate) async fn new_password_hash(password: String) -> Result<String, DirectoryError> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_LENGTH} characters"),
        ));
    }
    Ok(hash_password(password).await?)
}

/// Creates a user; `user.lifecycle.create` (and `.activate` when active) by `actor`.
pub async fn create_user(
    provider: &Provider,
    actor: &Actor,
    new: NewUser,
) -> Result<User, DirectoryError> {
    validate_profile(&new.login, &new.email, &new.first_name, &new.last_name)?;
    validate_display_name(new.display_name.as_deref())?;
    let login = new.login.trim().to_owned();
    let email = new.email.trim().to_owned();
    let password_hash = match new.password {
        Some(p) => Some(new_password_hash(p).await?),
        None => None,
    };
    let now = provider.now();
    let status = match (new.activate, password_hash.is_some()) {
        (true, true) => UserStatus::Active,
        (true, false) => UserStatus::Provisioned,
        (false, _) => UserStatus::Staged,
    };
    let user = User {
        id: okta_id("00u"),
        status,
        login,
        email,
        first_name: new.first_name.trim().to_owned(),
        last_name: new.last_name.trim().to_owned(),
        display_name: new.display_name,
        password_changed: password_hash.as_ref().map(|_| now),
        password_hash,
        created: now,
        last_updated: now,
        activated: (status == UserStatus::Active).then_some(now),
        status_changed: Some(now),
        last_login: None,
    };
    provider.store.create_user(&user).await?;
    let target = vec![Entity::user(&user)];
    actor
        .record(
            provider,
            ev::USER_CREATE,
            "Create Okta user",
            target.clone(),
        )
        .await;
    if user.activated.is_some() {
        actor
            .record(provider, ev::USER_ACTIVATE, "Activate Okta user", target)
            .await;
    }
    Ok(user)
}

pub async fn find_user_by_id_or_login(
    provider: &Provider,
    key: &str,
) -> Result<User, DirectoryError> {
    if let Some(u) = provider.store.find_user(key).await? {
        return Ok(u);
    }
    provider
        .store
        .find_user_by_login(key)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: "User",
            key: key.to_owned(),
        })
}

pub async fn create_group(
    provider: &Provider,
    actor: &Actor,
    name: &str,
    description: &str,
) -> Result<Group, DirectoryError> {
    let name = validate_group_profile(name, description)?;
    let now = provider.now();
    let group = Group {
        id: okta_id("00g"),
        name: name.to_owned(),
        description: description.to_owned(),
        group_type: GroupType::OktaGroup,
        created: now,
        last_updated: now,
    };
    provider.store.create_group(&group).await?;
    let target = vec![Entity::group(&group)];
    actor
        .record(provider, ev::GROUP_CREATE, "Create Okta group", target)
        .await;
    Ok(group)
}

pub async fn find_group_by_id_or_name(
    provider: &Provider,
    key: &str,
) -> Result<Group, DirectoryError> {
    if let Some(g) = provider.store.find_group(key).await? {
        return Ok(g);
    }
    provider
        .store
        .find_group_by_name(key)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: "Group",
            key: key.to_owned(),
        })
}

pub async fn add_group_member(
    provider: &Provider,
    actor: &Actor,
    group: &Group,
    user: &User,
) -> Result<(), DirectoryError> {
    if group.group_type == GroupType::BuiltIn {
        return Err(invalid(
            "groupId",
            "membership of a built-in group cannot be changed",
        ));
    }
    provider.store.add_group_member(&group.id, &user.id).await?;
    let targets = vec![Entity::user(user), Entity::group(group)];
    let message = "Add user to group membership";
    actor
        .record(provider, ev::GROUP_MEMBERSHIP_ADD, message, targets)
        .await;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct NewOidcApp {
    pub label: String,
    pub application_type: ApplicationType,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Empty means the defaults for the application type.
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    pub initiate_login_uri: Option<String>,
    pub login_mode: Option<String>,
}

/// Creates an OIDC app with the CLI's options; the rules and defaults are
/// [`super::apps::build_settings`], shared with `/api/v1/apps`.
pub async fn create_oidc_app(
    provider: &Provider,
    actor: &Actor,
    new: NewOidcApp,
) -> Result<CreatedApp, DirectoryError> {
    let mut spec = OidcAppSpec::new(new.label, new.application_type);
    spec.redirect_uris = new.redirect_uris;
    spec.post_logout_redirect_uris = new.post_logout_redirect_uris;
    spec.grant_types = new.grant_types;
    spec.token_endpoint_auth_method = new.token_endpoint_auth_method;
    spec.initiate_login_uri = new.initiate_login_uri;
    spec.login_mode = new.login_mode;
    super::apps::create(provider, actor, spec).await
}

pub async fn find_app_by_id_or_client_id(
    provider: &Provider,
    key: &str,
) -> Result<App, DirectoryError> {
    if let Some(a) = provider.store.find_app(key).await? {
        return Ok(a);
    }
    provider
        .store
        .find_app_by_client_id(key)
        .await?
        .ok_or_else(|| DirectoryError::Missing {
            kind: "App",
            key: key.to_owned(),
        })
}

pub async fn assign_group_to_app(
    provider: &Provider,
    app: &App,
    group: &Group,
) -> Result<(), DirectoryError> {
    provider
        .store
        .assign_app_group(&app.id, &group.id, 0)
        .await?;
    Ok(())
}

pub async fn assign_user_to_app(
    provider: &Provider,
    app: &App,
    user: &User,
) -> Result<(), DirectoryError> {
    provider.store.assign_app_user(&app.id, &user.id).await?;
    Ok(())
}
