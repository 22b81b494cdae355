//! Security › Identity Providers › one IdP: its settings changed in place (name, client id and
//! secret, token endpoint authentication, scopes, groups claim, routed domains, whether a
//! Gatehouse password is allowed), and with `private_key_jwt` the public key to register
//! upstream. Saving goes through `admin::replace_idp`, as `/api/v1/idps`'s PUT; delete is the
//! list's (behind the console's confirmation page).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use gatehouse_core::domain::{GroupsAction, Idp, UpstreamAuthMethod};
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::idps::admin::{self, IdpSpec};
use gatehouse_core::services::idps::client_key;

use super::{Admin, Chrome, ConsoleError, FieldErrors, render, see_other};
use crate::AppState;
use askama::Template;

const PATH: &str = "/admin/access/identity-providers";

pub fn router() -> Router<AppState> {
    Router::new().route(&format!("{PATH}/{{id}}"), get(show).post(save))
}

/// The form's values.
struct EditFields {
    name: String,
    client_id: String,
    method: String,
    scopes: String,
    groups_claim: String,
    domains: String,
    allow_password: bool,
}

impl EditFields {
    fn of(idp: &Idp) -> Self {
        let s = &idp.settings;
        Self {
            name: idp.name.clone(),
            client_id: s.client_id.clone(),
            method: s.token_auth_method.as_str().into(),
            scopes: s.scopes.join(" "),
            groups_claim: s.groups_claim.clone().unwrap_or_default(),
            domains: s.routing_domains.join(", "),
            allow_password: s.allow_password,
        }
    }
}

#[derive(Template)]
#[template(path = "console/idp_edit.html")]
struct EditPage {
    chrome: Chrome,
    id: String,
    issuer: String,
    f: EditFields,
    errors: FieldErrors,
    /// The `private_key_jwt` public JWK and its JWKS URI, when the IdP has a key.
    jwk: Option<(String, String)>,
}

async fn page(
    state: &AppState,
    admin: &Admin,
    idp: &Idp,
    f: EditFields,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let origin = state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| "<public_url>".into());
    let jwk = idp.settings.client_key.as_ref().map(|k| {
        let uri = format!(
            "{}{}",
            origin.trim_end_matches('/'),
            client_key::jwks_path(&idp.id)
        );
        (k.public_jwk.clone(), uri)
    });
    let page = EditPage {
        chrome: Chrome::admin(state, admin, "idps"),
        id: idp.id.clone(),
        issuer: idp.settings.issuer.clone(),
        f,
        errors,
        jwk,
    };
    Ok(render(status, page.render()))
}

async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let idp = admin::find_idp(&state.provider, &id).await?;
    let f = EditFields::of(&idp);
    page(
        &state,
        &admin,
        &idp,
        f,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn save(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let idp = admin::find_idp(&state.provider, &id).await?;
    let f = EditFields {
        name: form.get("name").to_owned(),
        client_id: form.get("client_id").to_owned(),
        method: form.get("method").to_owned(),
        scopes: form.get("scopes").to_owned(),
        groups_claim: form.get("groups_claim").trim().to_owned(),
        domains: form.get("domains").to_owned(),
        allow_password: form.get("allow_password") == "yes",
    };
    let mut errors = FieldErrors::default();
    let Some(method) = UpstreamAuthMethod::parse(&f.method) else {
        errors.add(
            "method",
            "Choose how Gatehouse authenticates to the provider.",
        );
        return page(
            &state,
            &admin,
            &idp,
            f,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let mut settings = idp.settings.clone();
    settings.client_id = f.client_id.clone();
    settings.token_auth_method = method;
    settings.scopes = f.scopes.split_whitespace().map(str::to_owned).collect();
    settings.groups_claim = Some(f.groups_claim.clone()).filter(|g| !g.is_empty());
    settings.groups_action = match (&settings.groups_claim, settings.groups_action) {
        (None, _) => GroupsAction::None,
        (Some(_), GroupsAction::None) => GroupsAction::Sync,
        (Some(_), kept) => kept,
    };
    settings.routing_domains = f
        .domains
        .split([',', ' '])
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect();
    settings.allow_password = f.allow_password;
    let spec = IdpSpec {
        name: f.name.clone(),
        kind: idp.kind,
        status: idp.status,
        settings,
        // Empty keeps the stored secret (the field is never filled in).
        client_secret: Some(form.get("client_secret").to_owned()).filter(|s| !s.is_empty()),
    };
    match admin::replace_idp(&state.provider, &admin.0.actor(), &id, spec).await {
        Ok(_) => Ok(see_other(&format!("{PATH}?notice=changed"))),
        Err(DirectoryError::Invalid { field, message }) => {
            let at = match field {
                "name" => "name",
                "protocol.credentials.client.client_id" => "client_id",
                "protocol.scopes" => "scopes",
                "gatehouse.routing.domains" => "domains",
                _ => "name",
            };
            errors.add(at, super::sentence(&message));
            page(
                &state,
                &admin,
                &idp,
                f,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(DirectoryError::Conflict { .. }) => {
            errors.add("name", "An identity provider with this name exists.");
            page(
                &state,
                &admin,
                &idp,
                f,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
