//! Okta's dynamic client registration, `/oauth2/v1/clients` (RFC 7591 bodies), authorised by an
//! `SSWS` API token or a service app's Bearer token with `okta.clients.*` scopes. Metadata
//! errors are RFC 7591 JSON (`invalid_client_metadata`, `invalid_redirect_uri`); authentication
//! errors and unknown clients take Okta's `/api/v1` shape.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_core::services::clients::{self, ClientMetadata, RegistrationError};
use serde_json::{Value, json};

use super::api_v1::{ApiError, ApiOrigin, ApiPath, Caller, Query, audit, pagination_links};
use crate::AppState;
use crate::client_ip::Client;

/// Registration shares `/api/v1`'s rate limit and headers: a valid credential spends its own
/// budget, anything else its address's.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/oauth2/v1/clients", get(list).post(register))
        .route(
            "/oauth2/v1/clients/{client_id}",
            get(read).put(update).delete(delete),
        )
        .route(
            "/oauth2/v1/clients/{client_id}/lifecycle/newSecret",
            post(new_secret),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            super::api_v1::okta_headers,
        ))
}

/// The one place registration errors get their HTTP form.
#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    #[error(transparent)]
    Registration(#[from] RegistrationError),
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl IntoResponse for ClientsError {
    fn into_response(self) -> Response {
        match self {
            ClientsError::Api(e) => e.into_response(),
            ClientsError::Registration(RegistrationError::NotFound(id)) => {
                ApiError::NotFound(format!("{id} (Client)")).into_response()
            }
            ClientsError::Registration(RegistrationError::Store(e)) => {
                ApiError::Internal(e.to_string()).into_response()
            }
            ClientsError::Registration(e) => (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": e.code(), "error_description": e.to_string()})),
            )
                .into_response(),
        }
    }
}

fn metadata(body: &Bytes) -> Result<ClientMetadata, ClientsError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        RegistrationError::InvalidClientMetadata(format!("The body is not valid JSON: {e}"))
    })?;
    Ok(ClientMetadata::from_json(value)?)
}

async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    body: Bytes,
) -> Result<Response, ClientsError> {
    let actor = audit::actor(&caller, &client);
    let created = clients::register(&state.provider, &actor, metadata(&body)?).await?;
    let body = clients::client_json(&created.app, created.client_secret.as_deref());
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn read(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(client_id): ApiPath<String>,
) -> Result<Json<Value>, ClientsError> {
    let app = clients::find(&state.provider, &client_id).await?;
    Ok(Json(clients::client_json(&app, None)))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath(client_id): ApiPath<String>,
    body: Bytes,
) -> Result<Json<Value>, ClientsError> {
    let actor = audit::actor(&caller, &client);
    let updated = clients::update(&state.provider, &actor, &client_id, metadata(&body)?).await?;
    Ok(Json(clients::client_json(
        &updated.app,
        updated.client_secret.as_deref(),
    )))
}

async fn new_secret(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath(client_id): ApiPath<String>,
) -> Result<Json<Value>, ClientsError> {
    let actor = audit::actor(&caller, &client);
    let rotated = clients::new_secret(&state.provider, &actor, &client_id).await?;
    Ok(Json(clients::client_json(
        &rotated.app,
        rotated.client_secret.as_deref(),
    )))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiPath(client_id): ApiPath<String>,
) -> Result<StatusCode, ClientsError> {
    let actor = audit::actor(&caller, &client);
    clients::delete(&state.provider, &actor, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiOrigin(origin): ApiOrigin,
    query: Query,
) -> Result<Response, ClientsError> {
    let limit = query.limit(20, 200)?;
    let (apps, next) =
        clients::list(&state.provider, query.get("q"), query.get("after"), limit).await?;
    let body: Vec<Value> = apps.iter().map(|a| clients::client_json(a, None)).collect();
    let links = pagination_links(&origin, "/oauth2/v1/clients", &query, next.as_deref());
    Ok((links, Json(Value::Array(body))).into_response())
}
