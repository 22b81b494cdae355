//! Security › API: the Tokens and Trusted Origins tabs (Authorization Servers are in
//! `auth_servers.rs`, Reports › System Log in `reports.rs`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::domain::{TrustedOrigin, TrustedOriginScope};
use gatehouse_core::services::api_tokens::{self, ApiTokenError};
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::trusted_origins::{self, TrustedOriginSpec};

use super::{Admin, Chrome, ConsoleError, FieldErrors, ListQuery, date, render, see_other};
use crate::AppState;
use askama::Template;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/access/api",
            get(|| async { see_other("/admin/oauth2/as") }),
        )
        .route("/admin/access/api/tokens", get(tokens).post(create_token))
        .route("/admin/access/api/tokens/{id}/revoke", post(revoke_token))
        .route(
            "/admin/access/api/trusted_origins",
            get(origins).post(create_origin),
        )
        .route(
            "/admin/access/api/trusted_origins/{id}",
            get(edit_origin).post(save_origin),
        )
        .route(
            "/admin/access/api/trusted_origins/{id}/delete",
            post(delete_origin),
        )
}

// ---------------------------------------------------------------------------------------------
// Tokens

struct TokenRow {
    id: String,
    name: String,
    owner: String,
    created: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "console/api_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tab: &'static str,
    rows: Vec<TokenRow>,
    name: String,
    errors: FieldErrors,
    /// The value of a token just created: shown this once.
    created_value: Option<String>,
    notice: Option<&'static str>,
}

fn token_error(e: ApiTokenError) -> ConsoleError {
    match e {
        ApiTokenError::NotFound(_) => ConsoleError::NotFound,
        other => ConsoleError::Internal(other.to_string()),
    }
}

async fn tokens_page(
    state: &AppState,
    admin: &Admin,
    name: String,
    errors: FieldErrors,
    created_value: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let mut rows = Vec::new();
    for t in api_tokens::list_api_tokens(&state.provider)
        .await
        .map_err(token_error)?
    {
        let owner = state
            .provider
            .store
            .find_user(&t.user_id)
            .await
            .map_err(|e| ConsoleError::Internal(e.to_string()))?
            .map_or_else(|| t.user_id.clone(), |u| u.login);
        rows.push(TokenRow {
            id: t.id,
            name: t.name,
            owner,
            created: date(t.created),
            last_used: t.last_used.map(date).unwrap_or_else(|| "Never".into()),
            revoked: t.revoked_at.is_some(),
        });
    }
    let page = TokensPage {
        chrome: Chrome::admin(state, admin, "api"),
        tab: "tokens",
        rows,
        name,
        errors,
        created_value,
        notice,
    };
    Ok(render(status, page.render()))
}

async fn tokens(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let notice = (q.notice == "revoked").then_some("The token was revoked.");
    tokens_page(
        &state,
        &admin,
        String::new(),
        FieldErrors::default(),
        None,
        notice,
        StatusCode::OK,
    )
    .await
}

async fn create_token(
    State(state): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let name = form.get("name").to_owned();
    // The token acts as the administrator who creates it, as in Okta.
    match api_tokens::create_api_token(
        &state.provider,
        &admin.0.actor(),
        &name,
        &admin.0.current.user,
    )
    .await
    {
        Ok(created) => {
            tokens_page(
                &state,
                &admin,
                String::new(),
                FieldErrors::default(),
                Some(created.value),
                Some("Token created successfully."),
                StatusCode::OK,
            )
            .await
        }
        Err(ApiTokenError::Invalid { message, .. }) => {
            let mut errors = FieldErrors::default();
            errors.add("name", super::sentence(&message));
            tokens_page(
                &state,
                &admin,
                name,
                errors,
                None,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(token_error(e)),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    api_tokens::revoke_api_token(&state.provider, &admin.0.actor(), &id)
        .await
        .map_err(token_error)?;
    Ok(see_other("/admin/access/api/tokens?notice=revoked"))
}

// ---------------------------------------------------------------------------------------------
// Trusted Origins

struct OriginRow {
    id: String,
    name: String,
    origin: String,
    scopes: String,
    status: String,
}

pub(crate) struct OriginFields {
    id: String,
    name: String,
    origin: String,
    cors: bool,
    redirect: bool,
}

impl OriginFields {
    fn empty() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            origin: String::new(),
            cors: true,
            redirect: false,
        }
    }

    fn of(o: &TrustedOrigin) -> Self {
        Self {
            id: o.id.clone(),
            name: o.name.clone(),
            origin: o.origin.clone(),
            cors: o.scopes.contains(&TrustedOriginScope::Cors),
            redirect: o.scopes.contains(&TrustedOriginScope::Redirect),
        }
    }

    fn spec(&self, keep: &[TrustedOriginScope]) -> TrustedOriginSpec {
        let mut scopes = Vec::new();
        if self.cors {
            scopes.push(TrustedOriginScope::Cors);
        }
        if self.redirect {
            scopes.push(TrustedOriginScope::Redirect);
        }
        // IFRAME_EMBED is set only through the API; editing here keeps it.
        scopes.extend(
            keep.iter()
                .filter(|s| **s == TrustedOriginScope::IframeEmbed),
        );
        TrustedOriginSpec {
            name: self.name.clone(),
            origin: self.origin.clone(),
            scopes,
        }
    }
}

const ORIGIN_FIELDS: &[(&str, &str)] =
    &[("name", "name"), ("origin", "origin"), ("scopes", "scopes")];

#[derive(Template)]
#[template(path = "console/api_origins.html")]
struct OriginsPage {
    chrome: Chrome,
    tab: &'static str,
    rows: Vec<OriginRow>,
    f: OriginFields,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

async fn origins_page(
    state: &AppState,
    admin: &Admin,
    f: OriginFields,
    errors: FieldErrors,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let (found, _) = trusted_origins::list(&state.provider, None, 500).await?;
    let rows = found
        .into_iter()
        .map(|o| OriginRow {
            scopes: o
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            status: o.status.to_string(),
            id: o.id,
            name: o.name,
            origin: o.origin,
        })
        .collect();
    let page = OriginsPage {
        chrome: Chrome::admin(state, admin, "api"),
        tab: "origins",
        rows,
        f,
        errors,
        notice,
    };
    Ok(render(status, page.render()))
}

async fn origins(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let notice = match q.notice.as_str() {
        "created" => Some("The trusted origin was added."),
        "saved" => Some("The trusted origin was saved."),
        "deleted" => Some("The trusted origin was deleted."),
        _ => None,
    };
    origins_page(
        &state,
        &admin,
        OriginFields::empty(),
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

fn origin_fields(form: &super::Form, id: &str) -> OriginFields {
    OriginFields {
        id: id.to_owned(),
        name: form.get("name").to_owned(),
        origin: form.get("origin").to_owned(),
        cors: form.checked("cors"),
        redirect: form.checked("redirect"),
    }
}

async fn create_origin(
    State(state): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let f = origin_fields(&form, "");
    match trusted_origins::create(&state.provider, f.spec(&[]), Some(admin.0.user_id())).await {
        Ok(_) => Ok(see_other(
            "/admin/access/api/trusted_origins?notice=created",
        )),
        Err(e) => {
            let errors = FieldErrors::from_service(e, ORIGIN_FIELDS, "origin")?;
            origins_page(
                &state,
                &admin,
                f,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "console/api_origin_edit.html")]
struct OriginEditPage {
    chrome: Chrome,
    tab: &'static str,
    f: OriginFields,
    errors: FieldErrors,
}

fn edit_page(
    state: &AppState,
    admin: &Admin,
    f: OriginFields,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let page = OriginEditPage {
        chrome: Chrome::admin(state, admin, "api"),
        tab: "origins",
        f,
        errors,
    };
    render(status, page.render())
}

async fn edit_origin(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let record = trusted_origins::find(&state.provider, &id).await?;
    Ok(edit_page(
        &state,
        &admin,
        OriginFields::of(&record),
        FieldErrors::default(),
        StatusCode::OK,
    ))
}

async fn save_origin(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let record = trusted_origins::find(&state.provider, &id).await?;
    let f = origin_fields(&form, &id);
    let keep = record.scopes.clone();
    match trusted_origins::replace(
        &state.provider,
        record,
        f.spec(&keep),
        Some(admin.0.user_id()),
    )
    .await
    {
        Ok(_) => Ok(see_other("/admin/access/api/trusted_origins?notice=saved")),
        Err(e) => {
            let errors = FieldErrors::from_service(e, ORIGIN_FIELDS, "origin")?;
            Ok(edit_page(
                &state,
                &admin,
                f,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

async fn delete_origin(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let record = trusted_origins::find(&state.provider, &id).await?;
    trusted_origins::delete(&state.provider, &record)
        .await
        .map_err(|e: DirectoryError| ConsoleError::from(e))?;
    Ok(see_other(
        "/admin/access/api/trusted_origins?notice=deleted",
    ))
}
