//! The end-user pages: the dashboard (`/app/UserHome`) with a tile per assigned app that
//! launches its initiate-login URI (IdP-initiated login), and the profile
//! (`/enduser/settings`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::domain::App;
use gatehouse_core::services::{admin_roles, apps, groups, user_grants};

use super::{Chrome, ConsoleError, EndUser, date, render, see_other};
use crate::AppState;
use crate::origin::Origin;
use askama::Template;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/UserHome", get(home))
        .route(
            "/app/UserHome/consents/{client_id}/revoke",
            post(revoke_consent),
        )
        .route("/enduser/settings", get(settings))
        .route("/home/oidc_client/{id}", get(launch))
}

struct Tile {
    label: String,
    initial: String,
    logo: Option<String>,
    href: String,
}

/// An app the user consented to, with what they allowed.
struct Consented {
    label: String,
    client_id: String,
    scopes: String,
}

#[derive(Template)]
#[template(path = "console/user_home.html")]
struct HomePage {
    chrome: Chrome,
    first_name: String,
    tiles: Vec<Tile>,
    consented: Vec<Consented>,
    notice: Option<&'static str>,
}

/// The apps with a dashboard tile: ACTIVE, assigned, and launchable from Gatehouse (a login
/// mode other than "App Only" and an initiate-login URI), as `/api/v1/users/me/appLinks` lists
/// them without `hidden`.
async fn launchable(
    state: &AppState,
    user: &gatehouse_core::domain::User,
) -> Result<Vec<App>, ConsoleError> {
    Ok(apps::user_apps(&state.provider, user)
        .await?
        .into_iter()
        .filter(|a| a.settings.login_mode != "DISABLED" && a.settings.initiate_login_uri.is_some())
        .collect())
}

#[derive(Debug, Default, serde::Deserialize)]
struct HomeQuery {
    #[serde(default)]
    notice: String,
}

async fn home(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
    axum::extract::Query(query): axum::extract::Query<HomeQuery>,
) -> Result<Response, ConsoleError> {
    let user = &viewer.current.user;
    let is_admin = admin_roles::is_super_admin(&state.provider, user).await?;
    let tiles = launchable(&state, user)
        .await?
        .into_iter()
        .map(|a| Tile {
            initial: a
                .label
                .chars()
                .next()
                .map(|c| c.to_uppercase().collect())
                .unwrap_or_default(),
            logo: a.settings.metadata.logo_uri.clone(),
            href: format!("/home/oidc_client/{}", a.id),
            label: a.label,
        })
        .collect();
    let consented = user_grants::clients(&state.provider, user)
        .await?
        .into_iter()
        .map(|(app, grants)| Consented {
            label: app.label,
            client_id: app.client_id,
            scopes: grants
                .iter()
                .map(|g| g.scope_name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let page = HomePage {
        first_name: user.first_name.clone(),
        chrome: Chrome::new(&state, &viewer, "home", is_admin),
        tiles,
        consented,
        notice: (query.notice == "revoked")
            .then_some("Access was revoked. The app will ask for your consent again."),
    };
    Ok(render(StatusCode::OK, page.render()))
}

/// Revokes the user's consent to one app: it asks again next time.
async fn revoke_consent(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    viewer.form(&body)?;
    let user = &viewer.current.user;
    user_grants::revoke_all(&state.provider, &viewer.actor(), user, Some(&client_id)).await?;
    Ok(see_other("/app/UserHome?notice=revoked"))
}

/// Sends the browser to the app's initiate-login URI with `iss` (OpenID Connect Core §4), for
/// the app to start a normal sign-in with this issuer.
async fn launch(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
    Origin(origin): Origin,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let app = launchable(&state, &viewer.current.user)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(ConsoleError::NotFound)?;
    let Some(uri) = app.settings.initiate_login_uri.as_deref() else {
        return Err(ConsoleError::NotFound);
    };
    let issuer = state
        .provider
        .server_context(&origin, None)
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?
        .issuer;
    let mut target = url::Url::parse(uri).map_err(|_| ConsoleError::NotFound)?;
    target.query_pairs_mut().append_pair("iss", &issuer);
    Ok(see_other(target.as_str()))
}

#[derive(Template)]
#[template(path = "console/user_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    user: gatehouse_core::domain::User,
    groups: Vec<String>,
    last_login: String,
}

async fn settings(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
) -> Result<Response, ConsoleError> {
    let user = viewer.current.user.clone();
    let is_admin = admin_roles::is_super_admin(&state.provider, &user).await?;
    let groups = groups::user_groups(&state.provider, &user)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    let page = SettingsPage {
        chrome: Chrome::new(&state, &viewer, "settings", is_admin),
        last_login: user.last_login.map(date).unwrap_or_else(|| "Never".into()),
        groups,
        user,
    };
    Ok(render(StatusCode::OK, page.render()))
}
