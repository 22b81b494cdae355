//! The dashboard's "Change password" page (`/enduser/settings/password`): the current
//! password again, the new one twice, CSRF; the policy decides
//! (`services::passwords::change`). The change ends every session of the user, then this
//! browser gets a new one, so only the other sessions are signed out.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::passwords::{self, SetBy, change::ChangeError, rules};
use gatehouse_core::services::{admin_roles, sign_in};

use super::{Chrome, ConsoleError, EndUser, Viewer, render, see_other};
use crate::AppState;
use crate::cookies;
use crate::origin::Origin;
use askama::Template;

pub fn router() -> Router<AppState> {
    Router::new().route("/enduser/settings/password", get(show).post(change))
}

#[derive(Template)]
#[template(path = "console/user_password.html")]
struct PasswordPage {
    chrome: Chrome,
    requirements: String,
    error: Option<String>,
    done: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ShowQuery {
    #[serde(default)]
    notice: String,
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    error: Option<String>,
    done: bool,
) -> Result<Response, ConsoleError> {
    let user = &viewer.current.user;
    let is_admin = admin_roles::is_super_admin(&state.provider, user).await?;
    let policy = passwords::policy_for(&state.provider, Some(&user.id))
        .await
        .map_err(DirectoryError::from)?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = PasswordPage {
        chrome: Chrome::new(state, viewer, "settings", is_admin),
        requirements: rules::requirements(&policy.settings.complexity),
        error,
        done,
    };
    Ok(render(status, page.render()))
}

async fn show(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
    axum::extract::Query(q): axum::extract::Query<ShowQuery>,
) -> Result<Response, ConsoleError> {
    page(&state, &viewer, None, q.notice == "changed").await
}

async fn change(
    State(state): State<AppState>,
    EndUser(viewer): EndUser,
    Origin(origin): Origin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = viewer.form(&body)?;
    let new = form.raw("newPassword").to_owned();
    if new != form.raw("confirmPassword") {
        let e = "The two new passwords do not match.".to_owned();
        return page(&state, &viewer, Some(e), false).await;
    }
    let user = viewer.current.user.clone();
    let outcome = passwords::change::change_password(
        &state.provider,
        &viewer.actor(),
        user,
        form.raw("oldPassword"),
        new,
        SetBy::User,
    )
    .await;
    let user = match outcome {
        Ok(u) => u,
        Err(ChangeError::WrongOldPassword) => {
            let e = "Your current password is not correct.".to_owned();
            return page(&state, &viewer, Some(e), false).await;
        }
        Err(ChangeError::Directory(DirectoryError::Invalid { message, .. })) => {
            return page(&state, &viewer, Some(message), false).await;
        }
        Err(ChangeError::NotAllowed(_)) => return Err(ConsoleError::Forbidden),
        Err(ChangeError::Directory(e)) => return Err(e.into()),
    };
    // Every session ended with the change; this browser continues in a new one.
    let amr = viewer.current.session.amr.clone();
    let signed_in = sign_in::open_signed_in(&state.provider, user, amr)
        .await
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let mut res = see_other("/enduser/settings/password?notice=changed");
    for cookie in cookies::set_session(&signed_in.session_cookie, signed_in.session_ttl, &origin) {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}
