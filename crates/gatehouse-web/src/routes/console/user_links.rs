//! The person page's "Send activation email" and "Reset password" buttons: the same one-time
//! links as Okta's `lifecycle/activate` and `lifecycle/reset_password`, mailed when SMTP is
//! configured, otherwise shown on the page with a copy button for the administrator to pass on
//! (as `sendEmail=false` returns them). Both are console forms with the CSRF token; a reset asks
//! first (see `super::confirm`), since the person's password stops working at once.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use gatehouse_core::domain::UserStatus;
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::user_links::{self, IssuedLink};
use gatehouse_core::services::users::Lifecycle;

use super::directory::{ShownLink, find, person_page_with_link, person_path};
use super::{Admin, ConsoleError, FieldErrors, see_other};
use crate::AppState;
use crate::mail::deliver;
use crate::origin::Origin;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/user/{id}/links/activation", post(send_activation))
        .route(
            "/admin/user/{id}/links/reset_password",
            post(reset_password),
        )
}

/// Shown above a link that was not mailed.
const NOT_MAILED: &str = "Email is not configured: copy this one-time link and pass it on.";

async fn send_activation(
    State(state): State<AppState>,
    Origin(origin): Origin,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let user = find(&state, &id).await?;
    let p = &state.provider;
    let issued = match user.status {
        // STAGED: activating without a password leaves them PROVISIONED, with a link.
        UserStatus::Staged => {
            user_links::activate(p, &admin.0.actor(), user.clone(), Lifecycle::Activate).await
        }
        // PROVISIONED: a new link (replacing any earlier one).
        UserStatus::Provisioned => user_links::activation_link(p, &user)
            .await
            .map(|l| (user.clone(), l)),
        _ => Err(DirectoryError::Invalid {
            field: "status",
            message: "Only a person who is STAGED or waiting for a password (PROVISIONED) gets an activation email.".into(),
        }),
    };
    let (user, link) = match issued {
        Ok((u, Some(l))) => (u, l),
        Ok((u, None)) => {
            let e = DirectoryError::Invalid {
                field: "status",
                message: "This person already has a password: there is nothing to activate.".into(),
            };
            return refused(&state, &admin, u, e).await;
        }
        Err(e) => return refused(&state, &admin, user, e).await,
    };
    answer(
        &state,
        &admin,
        &origin,
        user,
        link,
        "Activation link",
        "activation_sent",
    )
    .await
}

async fn reset_password(
    State(state): State<AppState>,
    Origin(origin): Origin,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    admin.0.form(&body)?;
    let user = find(&state, &id).await?;
    if user.id == admin.0.user_id() {
        // RECOVERY would end this very session; the dashboard's "Change password" is theirs.
        let e = DirectoryError::Invalid {
            field: "status",
            message:
                "You cannot reset your own password here: use Change password on your dashboard."
                    .into(),
        };
        return refused(&state, &admin, user, e).await;
    }
    match user_links::reset_password(&state.provider, &admin.0.actor(), user.clone()).await {
        Ok((user, link)) => {
            answer(
                &state,
                &admin,
                &origin,
                user,
                link,
                "Password reset link",
                "reset_sent",
            )
            .await
        }
        Err(e) => refused(&state, &admin, user, e).await,
    }
}

/// Mailed: back to the person page with a notice. Not mailed: the page with the link.
async fn answer(
    state: &AppState,
    admin: &Admin,
    origin: &str,
    user: gatehouse_core::domain::User,
    link: IssuedLink,
    label: &'static str,
    notice: &str,
) -> Result<Response, ConsoleError> {
    match deliver(state, &user, link, origin, true) {
        None => Ok(see_other(&format!(
            "{}?notice={notice}",
            person_path(&user.id)
        ))),
        Some(link) => {
            let shown = ShownLink {
                label,
                url: link.url(origin),
            };
            person_page_with_link(
                state,
                admin,
                user,
                Some(NOT_MAILED),
                FieldErrors::default(),
                StatusCode::OK,
                Some(shown),
            )
            .await
        }
    }
}

async fn refused(
    state: &AppState,
    admin: &Admin,
    user: gatehouse_core::domain::User,
    e: DirectoryError,
) -> Result<Response, ConsoleError> {
    let errors = FieldErrors::from_service(e, &[("status", "links")], "links")?;
    person_page_with_link(
        state,
        admin,
        user,
        None,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
    )
    .await
}
