//! Factors in the console (issue 19). End users (`/enduser/settings/factors`): list their
//! factors, set up an authenticator app (QR code, key, first code), remove a factor and
//! regenerate recovery codes; every change asks for the password again first. Administrators:
//! "Reset all factors" on a person's page (with a confirmation box).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::domain::FACTOR_TYPE_TOTP;
use gatehouse_core::services::mfa::{self, MfaError, TotpActivation, recovery_codes};
use gatehouse_core::services::{admin_roles, directory};

use super::{Admin, Chrome, ConsoleError, EndUser, Form, date, render, see_other};
use crate::AppState;
use askama::Template;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/enduser/settings/factors", get(list))
        .route("/enduser/settings/factors/totp", post(totp_start))
        .route(
            "/enduser/settings/factors/totp/activate",
            post(totp_activate),
        )
        .route("/enduser/settings/factors/{id}/delete", post(remove))
        .route("/enduser/settings/factors/recovery", post(regenerate))
        .route("/admin/user/{id}/factors/reset", post(admin_reset))
}

fn internal(e: impl std::fmt::Display) -> ConsoleError {
    ConsoleError::Internal(e.to_string())
}

struct Row {
    id: String,
    kind: &'static str,
    name: String,
    status: &'static str,
    created: String,
}

#[derive(Template)]
#[template(path = "console/user_factors.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    has_totp: bool,
    recovery_left: u64,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "console/user_factor_totp.html")]
struct TotpPage {
    chrome: Chrome,
    activation: TotpActivation,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "console/user_recovery_codes.html")]
struct CodesPage {
    chrome: Chrome,
    codes: Vec<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "removed" => "The factor was removed.",
        "added" => "Your authenticator app is set up.",
        _ => return None,
    })
}

const WRONG_PASSWORD: &str = "That password is not right. Enter your current password.";

async fn list_page(
    state: &AppState,
    viewer: &super::Viewer,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let user = &viewer.current.user;
    let is_admin = admin_roles::is_super_admin(&state.provider, user).await?;
    let factors = state
        .provider
        .store
        .list_factors(&user.id)
        .await
        .map_err(internal)?;
    let rows = factors
        .iter()
        .map(|f| Row {
            id: f.id.clone(),
            kind: if f.factor_type == FACTOR_TYPE_TOTP {
                "Authenticator app (TOTP)"
            } else {
                "Security key or passkey"
            },
            name: f.name.clone(),
            status: if f.is_active() {
                "Active"
            } else {
                "Not finished"
            },
            created: date(f.created),
        })
        .collect();
    let page = ListPage {
        chrome: Chrome::new(state, viewer, "settings", is_admin),
        has_totp: factors
            .iter()
            .any(|f| f.factor_type == FACTOR_TYPE_TOTP && f.is_active()),
        recovery_left: recovery_codes::remaining(&state.provider, &user.id)
            .await
            .map_err(internal)?,
        rows,
        notice,
        error,
    };
    Ok(render(status, page.render()))
}

async fn list(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
    axum::extract::Query(q): axum::extract::Query<NoticeQuery>,
) -> Result<Response, ConsoleError> {
    list_page(
        &state,
        &viewer,
        notice_text(&q.notice),
        None,
        StatusCode::OK,
    )
    .await
}

/// The form's CSRF token and the password entered again; `None` (and the page with an error)
/// for a wrong password.
async fn reauthenticated(
    state: &AppState,
    viewer: &super::Viewer,
    body: &[u8],
) -> Result<Option<Form>, ConsoleError> {
    let form = viewer.form(body)?;
    let ok = mfa::reauthenticate(
        &state.provider,
        &viewer.client,
        &viewer.current.user,
        form.raw("password"),
    )
    .await
    .map_err(internal)?;
    Ok(ok.then_some(form))
}

async fn totp_start(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    if reauthenticated(&state, &viewer, &body).await?.is_none() {
        return list_page(
            &state,
            &viewer,
            None,
            Some(WRONG_PASSWORD),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let user = &viewer.current.user;
    let activation = match mfa::enroll_totp(&state.provider, &viewer.actor(), user, "GOOGLE").await
    {
        Ok(a) => a,
        Err(MfaError::AlreadyEnrolled) => {
            return Err(ConsoleError::Problem(
                "You already have an authenticator app. Remove it first to set up another.".into(),
            ));
        }
        Err(e) => return Err(internal(e)),
    };
    totp_page(&state, &viewer, activation, None, StatusCode::OK).await
}

async fn totp_page(
    state: &AppState,
    viewer: &super::Viewer,
    activation: TotpActivation,
    error: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let is_admin = admin_roles::is_super_admin(&state.provider, &viewer.current.user).await?;
    let page = TotpPage {
        chrome: Chrome::new(state, viewer, "settings", is_admin),
        activation,
        error,
    };
    Ok(render(status, page.render()))
}

async fn totp_activate(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = viewer.form(&body)?;
    let user = &viewer.current.user;
    let factor_id = form.get("factor_id");
    match mfa::activate_totp(
        &state.provider,
        &viewer.actor(),
        user,
        factor_id,
        form.get("code"),
    )
    .await
    {
        Ok(_) => {}
        Err(MfaError::InvalidPasscode | MfaError::Replayed) => {
            let factor = mfa::find(&state.provider, user, factor_id)
                .await
                .map_err(|_| ConsoleError::NotFound)?;
            let activation = mfa::activation(&state.provider, user, factor).map_err(internal)?;
            return totp_page(
                &state,
                &viewer,
                activation,
                Some("That code did not work. Enter the code your app shows now."),
                StatusCode::UNAUTHORIZED,
            )
            .await;
        }
        Err(MfaError::NotFound | MfaError::WrongState) => return Err(ConsoleError::NotFound),
        Err(e) => return Err(internal(e)),
    }
    // A first factor comes with recovery codes, shown once.
    if recovery_codes::remaining(&state.provider, &user.id)
        .await
        .map_err(internal)?
        == 0
    {
        let codes = recovery_codes::regenerate(&state.provider, &viewer.actor(), user)
            .await
            .map_err(internal)?;
        return codes_page(&state, &viewer, codes).await;
    }
    Ok(see_other("/enduser/settings/factors?notice=added"))
}

async fn codes_page(
    state: &AppState,
    viewer: &super::Viewer,
    codes: Vec<String>,
) -> Result<Response, ConsoleError> {
    let is_admin = admin_roles::is_super_admin(&state.provider, &viewer.current.user).await?;
    let page = CodesPage {
        chrome: Chrome::new(state, viewer, "settings", is_admin),
        codes,
    };
    Ok(render(StatusCode::OK, page.render()))
}

async fn remove(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    if reauthenticated(&state, &viewer, &body).await?.is_none() {
        return list_page(
            &state,
            &viewer,
            None,
            Some(WRONG_PASSWORD),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    match mfa::delete_factor(&state.provider, &viewer.actor(), &viewer.current.user, &id).await {
        Ok(()) => Ok(see_other("/enduser/settings/factors?notice=removed")),
        Err(MfaError::NotFound) => Err(ConsoleError::NotFound),
        Err(e) => Err(internal(e)),
    }
}

async fn regenerate(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    if reauthenticated(&state, &viewer, &body).await?.is_none() {
        return list_page(
            &state,
            &viewer,
            None,
            Some(WRONG_PASSWORD),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let user = &viewer.current.user;
    if mfa::active_factors(&state.provider, &user.id)
        .await
        .map_err(internal)?
        .is_empty()
    {
        return Err(ConsoleError::Problem(
            "Recovery codes stand in for a factor: set up an authenticator app first.".into(),
        ));
    }
    let codes = recovery_codes::regenerate(&state.provider, &viewer.actor(), user)
        .await
        .map_err(internal)?;
    codes_page(&state, &viewer, codes).await
}

/// The administrator's "Reset all factors" (Okta's "Reset Multifactor"): every factor and
/// recovery code of the person goes; they enroll again at their next sign-in if required.
async fn admin_reset(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let user = directory::find_user_by_id_or_login(&state.provider, &id).await?;
    if !form.checked("confirm") {
        return Err(ConsoleError::Problem(
            "Tick the confirmation box to reset every factor of this person.".into(),
        ));
    }
    mfa::reset_factors(&state.provider, &admin.0.actor(), &user)
        .await
        .map_err(internal)?;
    Ok(see_other(&format!(
        "/admin/user/profile/view/{}?notice=factors",
        user.id
    )))
}
