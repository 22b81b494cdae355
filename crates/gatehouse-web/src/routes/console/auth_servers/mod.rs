//! Security › API › Authorization Servers: the custom servers with their Settings (signing
//! keys included), Scopes, Claims, Access Policies and rules, and Token Preview. Handlers parse
//! the forms into the specs of `gatehouse_core::services::{auth_servers, auth_server_config,
//! token_preview}`, the services `/api/v1/authorizationServers` uses, and render the results.

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::domain::IssuerMode;
use gatehouse_core::services::auth_servers::AuthServerError;
use serde::Deserialize;

use super::{ConsoleError, FieldErrors, see_other, sentence};

mod claims;
mod page;
mod policies;
mod preview;
mod rules;
mod scopes;
mod servers;

use crate::AppState;
use claims::*;
use page::*;
use policies::*;
use preview::*;
use rules::*;
use scopes::*;
use servers::*;

const BASE: &str = "/admin/oauth2/as";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list).post(create))
        .route("/admin/oauth2/as/new", get(new_server))
        .route(
            "/admin/oauth2/as/{id}",
            get(settings_tab).post(save_settings),
        )
        .route("/admin/oauth2/as/{id}/lifecycle/{op}", post(lifecycle))
        .route("/admin/oauth2/as/{id}/rotate", post(rotate_keys))
        .route("/admin/oauth2/as/{id}/delete", post(delete_server))
        .route(
            "/admin/oauth2/as/{id}/scopes",
            get(scopes_tab).post(save_scope),
        )
        .route(
            "/admin/oauth2/as/{id}/scopes/{item}/delete",
            post(delete_scope),
        )
        .route(
            "/admin/oauth2/as/{id}/claims",
            get(claims_tab).post(save_claim),
        )
        .route(
            "/admin/oauth2/as/{id}/claims/{item}/delete",
            post(delete_claim),
        )
        .route(
            "/admin/oauth2/as/{id}/policies",
            get(policies_tab).post(save_policy),
        )
        .route(
            "/admin/oauth2/as/{id}/policies/{item}/delete",
            post(delete_policy),
        )
        .route(
            "/admin/oauth2/as/{id}/policies/{item}/rules",
            post(save_rule),
        )
        .route(
            "/admin/oauth2/as/{id}/policies/{item}/rules/{rule}/delete",
            post(delete_rule),
        )
        .route(
            "/admin/oauth2/as/{id}/preview",
            get(preview_tab).post(run_preview),
        )
}

/// A service refusal shown next to its field (`fields` maps the service's field names to the
/// form's); anything else is the page error it is.
fn field_errors(
    e: AuthServerError,
    fields: &[(&str, &str)],
    fallback: &str,
) -> Result<FieldErrors, ConsoleError> {
    let mut errors = FieldErrors::default();
    match e {
        AuthServerError::Invalid { field, message } => {
            let target = fields
                .iter()
                .find(|(service, _)| *service == field)
                .map_or(fallback, |(_, form)| form);
            errors.add(target, sentence(&message));
        }
        AuthServerError::Forbidden(message) => errors.add(fallback, message),
        other => return Err(page_error(other)),
    }
    Ok(errors)
}

fn page_error(e: AuthServerError) -> ConsoleError {
    match e {
        AuthServerError::NotFound(_) | AuthServerError::Missing { .. } => ConsoleError::NotFound,
        AuthServerError::Forbidden(m) => ConsoleError::Problem(m),
        AuthServerError::Invalid { message, .. } => ConsoleError::Problem(sentence(&message)),
        other => ConsoleError::Internal(other.to_string()),
    }
}

fn issuer(origin: &str, id: &str) -> String {
    format!("{origin}/oauth2/{id}")
}

fn issuer_mode_label(mode: IssuerMode) -> &'static str {
    match mode {
        IssuerMode::OrgUrl => "Okta URL",
        IssuerMode::CustomUrl => "Custom URL",
        IssuerMode::Dynamic => "Dynamic (based on request domain)",
    }
}

/// Okta's console words for the grant types a rule can allow: the registry's for the ones
/// Gatehouse implements.
fn grant_label(grant: &str) -> &str {
    if let Ok(g) = gatehouse_core::oauth2::grants::GrantType::parse(grant) {
        return g.label();
    }
    match grant {
        "password" => "Resource Owner Password",
        "urn:ietf:params:oauth:grant-type:token-exchange" => "Token Exchange",
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => "JWT Bearer",
        "urn:ietf:params:oauth:grant-type:saml2-bearer" => "SAML 2.0 Assertion",
        "interaction_code" => "Interaction Code",
        other => other,
    }
}

/// An option of a select or a checkbox list.
struct Choice {
    value: String,
    label: String,
}

#[derive(Debug, Default, Deserialize)]
struct TabQuery {
    #[serde(default)]
    notice: String,
    /// The scope, claim or policy to edit (`new` for the add form).
    #[serde(default)]
    edit: String,
    /// The policy of the rule form, and the rule to edit (`new` to add one).
    #[serde(default)]
    policy: String,
    #[serde(default)]
    rule: String,
}

fn notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "The authorization server was created.",
        "saved" => "The changes were saved.",
        "deleted" => "It was deleted.",
        "rotated" => "The signing keys were rotated: a new key signs from now on.",
        "activated" => "The authorization server is active.",
        "deactivated" => "The authorization server is inactive: it answers no requests.",
        "server-deleted" => "The authorization server was deleted.",
        _ => return None,
    })
}

/// A blank field is `None`; anything but a whole number is a field error.
fn optional_number(raw: &str, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(field, "Enter a whole number.");
            None
        }
    }
}

fn number(raw: &str, field: &str, errors: &mut FieldErrors) -> i64 {
    match raw.parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            errors.add(field, "Enter a whole number of minutes.");
            0
        }
    }
}

fn back_to(id: &str, section: &str, notice: &str) -> Response {
    let path = if section == "settings" {
        format!("{BASE}/{id}")
    } else {
        format!("{BASE}/{id}/{section}")
    };
    see_other(&format!("{path}?notice={notice}"))
}
