//! Destructive console actions ask first: deleting, deactivating or suspending (a person, an
//! app, a group, a trusted origin, an authorization server or its parts, a client secret),
//! revoking (API tokens, scope grants, consents, the Super Administrator role), removing
//! (assignments, members, factors) and resetting a password. A POST to one of them without
//! `confirm=yes` changes nothing and answers with a page that says what would happen; its form
//! posts the same fields again with `confirm=yes`. No script is needed. The CSRF token travels in the fields and the
//! action's handler checks it as before; the page itself is shown only to the signed-in person
//! whose token it is (anyone else gets the handler's usual answer). Sign-on policies keep their
//! own confirmation page, and resetting factors its "Yes, reset" box (both send `confirm=yes`).

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_core::crypto::constant_time_eq;
use gatehouse_core::services::admin_roles;

use super::{Chrome, EndUser, Form, render};
use crate::AppState;

#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    title: String,
    consequence: &'static str,
    button: &'static str,
    action: String,
    fields: Vec<(String, String)>,
    back: String,
}

/// What a destructive console POST does, in words: its button, the page's title and what follows.
#[derive(Debug, PartialEq, Eq)]
struct Action {
    button: &'static str,
    title: String,
    consequence: &'static str,
}

/// Whether a POST to `path` may need asking first (before its body is read).
fn may_ask(path: &str) -> bool {
    ["/admin/", "/app/UserHome/", "/enduser/"]
        .iter()
        .any(|p| path.starts_with(p))
        && !path.starts_with("/admin/policy/")
        && path.rsplit('/').next().is_some_and(|last| {
            [
                "delete",
                "deactivate",
                "suspend",
                "revoke",
                "remove",
                "roles",
                "reset_password",
            ]
            .contains(&last)
        })
}

/// `Some` for the paths that ask first.
fn describe(path: &str, form: &Form) -> Option<Action> {
    if !may_ask(path) {
        return None;
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    let (button, consequence) = match last {
        "delete" => ("Delete", "This cannot be undone."),
        "deactivate" => (
            "Deactivate",
            "Sign-ins that depend on it stop until it is activated again.",
        ),
        "suspend" => ("Suspend", "The person cannot sign in until unsuspended."),
        "revoke" => (
            "Revoke",
            "What was granted stops working at once; it can be granted again.",
        ),
        "remove" => ("Remove", "Access that came from it ends at once."),
        "reset_password" => (
            "Reset password",
            "Their current password stops working at once; they set a new one from a one-time link.",
        ),
        "roles" if form.get("super_admin") == "revoke" => (
            "Remove Super Administrator",
            "The person can no longer use the admin console.",
        ),
        _ => return None,
    };
    let title = if last == "roles" {
        "Remove the Super Administrator role?".to_owned()
    } else if last == "reset_password" {
        "Reset this person's password?".to_owned()
    } else {
        format!("{button} {}?", thing(path))
    };
    Some(Action {
        button,
        title,
        consequence,
    })
}

/// What the path acts on, most specific first.
fn thing(path: &str) -> &'static str {
    const KINDS: &[(&str, &str)] = &[
        ("/secrets/", "this client secret"),
        ("/grants/", "this API scope grant"),
        ("/members/", "this person from the group"),
        ("/claims/", "this claim"),
        ("/scopes/", "this scope"),
        ("/rules/", "this rule"),
        ("/policies/", "this access policy"),
        ("/oauth2/as/", "this authorization server"),
        ("/trusted_origins/", "this trusted origin"),
        ("/api/tokens/", "this API token"),
        ("/consents/", "this app's access to your account"),
        ("/factors/", "this factor"),
        ("/identity-providers/", "this identity provider"),
        ("/admin/group/", "this group"),
        ("/admin/user/", "this person"),
    ];
    if let Some((_, what)) = KINDS.iter().find(|(k, _)| path.contains(k)) {
        return what;
    }
    if path.contains("/groups/") {
        "this group's assignment"
    } else if path.contains("/users/") {
        "this person's assignment"
    } else {
        "this app"
    }
}

/// Middleware: the confirmation page for a destructive POST that lacks `confirm=yes`.
pub(crate) async fn ask_first(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !may_ask(req.uri().path()) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::hygiene::MAX_FORM_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let form = Form::parse(&bytes);
    let action = describe(&path, &form).filter(|_| form.get("confirm") != "yes");
    let viewer = match action {
        Some(_) => EndUser::from_request_parts(&mut parts, &state)
            .await
            .ok()
            .map(|EndUser(v)| v)
            .filter(|v| constant_time_eq(form.get("csrf").as_bytes(), v.csrf.as_bytes())),
        None => None,
    };
    let is_admin = path.starts_with("/admin/");
    // The admin console's pages only for its administrators.
    let viewer = match viewer {
        Some(v) if is_admin => admin_roles::is_super_admin(&state.provider, &v.current.user)
            .await
            .unwrap_or(false)
            .then_some(v),
        other => other,
    };
    let (Some(action), Some(viewer)) = (action, viewer) else {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    let back = parts
        .headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| u.path().to_owned())
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| if is_admin { "/admin" } else { "/app/UserHome" }.into());
    let mut fields: Vec<(String, String)> = form
        .fields()
        .iter()
        .filter(|(k, _)| k != "confirm")
        .cloned()
        .collect();
    fields.push(("confirm".into(), "yes".into()));
    let page = ConfirmPage {
        chrome: Chrome::new(&state, &viewer, "", is_admin),
        title: action.title,
        consequence: action.consequence,
        button: action.button,
        action: path,
        fields,
        back,
    };
    render(StatusCode::OK, page.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn title(path: &str, body: &str) -> Option<String> {
        describe(path, &Form::parse(body.as_bytes())).map(|a| a.title)
    }

    #[test]
    fn destructive_paths_ask_first() {
        let t = |p: &str| title(p, "");
        assert_eq!(
            t("/admin/user/00u1/delete").as_deref(),
            Some("Delete this person?")
        );
        assert_eq!(
            t("/admin/user/00u1/lifecycle/deactivate").as_deref(),
            Some("Deactivate this person?")
        );
        assert_eq!(
            t("/admin/app/oidc_client/0oa1/delete").as_deref(),
            Some("Delete this app?")
        );
        assert_eq!(
            t("/admin/access/api/trusted_origins/tos1/delete").as_deref(),
            Some("Delete this trusted origin?")
        );
        assert_eq!(
            t("/admin/group/00g1/delete").as_deref(),
            Some("Delete this group?")
        );
        assert_eq!(
            t("/admin/access/api/tokens/t1/revoke").as_deref(),
            Some("Revoke this API token?")
        );
        assert_eq!(
            t("/admin/app/oidc_client/0oa1/groups/00g1/remove").as_deref(),
            Some("Remove this group's assignment?")
        );
        assert_eq!(
            t("/enduser/settings/factors/f1/delete").as_deref(),
            Some("Delete this factor?")
        );
        assert_eq!(
            title("/admin/user/00u1/roles", "super_admin=revoke").as_deref(),
            Some("Remove the Super Administrator role?")
        );
        // Not destructive, or with a confirmation of their own.
        assert_eq!(t("/admin/user/00u1/lifecycle/activate"), None);
        assert_eq!(title("/admin/user/00u1/roles", "super_admin=grant"), None);
        assert_eq!(t("/admin/policy/p1/delete"), None);
        assert_eq!(t("/login/delete"), None);
    }
}
