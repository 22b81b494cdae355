//! The mails Gatehouse sends (activation, password reset, the test mail), rendered from
//! templates with the org's branding, and handed to [`gatehouse_core::services::mail`] to be
//! sent off the request path.

use askama::Template;
use gatehouse_core::audit::Entity;
use gatehouse_core::domain::User;
use gatehouse_core::services::mail::OutgoingMail;
use gatehouse_core::services::mail_delivery;
use gatehouse_core::services::user_links::IssuedLink;
use gatehouse_core::store::LinkPurpose;

use crate::{AppState, Branding};

#[derive(Template)]
#[template(path = "email/link.txt")]
struct LinkText<'a> {
    first_name: &'a str,
    intro: &'a str,
    url: &'a str,
    valid_for: &'a str,
    outro: &'a str,
    org_name: &'a str,
}

#[derive(Template)]
#[template(path = "email/link.html")]
struct LinkHtml<'a> {
    subject: &'a str,
    first_name: &'a str,
    intro: &'a str,
    button: &'a str,
    url: &'a str,
    valid_for: &'a str,
    outro: &'a str,
    org_name: &'a str,
    logo_url: Option<&'a str>,
    primary_color: &'a str,
}

/// "7 days", "1 hour", "30 minutes".
fn duration_words(secs: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs >= 86_400 && secs % 86_400 == 0 {
        plural(secs / 86_400, "day")
    } else if secs >= 3_600 && secs % 3_600 == 0 {
        plural(secs / 3_600, "hour")
    } else {
        plural((secs / 60).max(1), "minute")
    }
}

struct Wording<'a> {
    subject: String,
    intro: String,
    button: &'a str,
    outro: &'a str,
}

fn render(
    branding: &Branding,
    to: &str,
    first_name: &str,
    url: &str,
    valid_for: &str,
    w: &Wording<'_>,
) -> Result<OutgoingMail, askama::Error> {
    let text = LinkText {
        first_name,
        intro: &w.intro,
        url,
        valid_for,
        outro: w.outro,
        org_name: &branding.org_name,
    }
    .render()?;
    let html = LinkHtml {
        subject: &w.subject,
        first_name,
        intro: &w.intro,
        button: w.button,
        url,
        valid_for,
        outro: w.outro,
        org_name: &branding.org_name,
        logo_url: branding.logo_url.as_deref(),
        primary_color: &branding.primary_color,
    }
    .render()?;
    Ok(OutgoingMail {
        to: to.to_owned(),
        subject: w.subject.clone(),
        text,
        html,
    })
}

/// The mail carrying `link` to `user`, under `origin`.
pub fn link_mail(
    branding: &Branding,
    user: &User,
    link: &IssuedLink,
    origin: &str,
    now: i64,
) -> Result<OutgoingMail, askama::Error> {
    let org = &branding.org_name;
    let w = match link.purpose {
        LinkPurpose::Activation => Wording {
            subject: format!("Welcome to {org}: activate your account"),
            intro: format!(
                "An account has been created for you at {org} (username {}). Choose a password to activate it:",
                user.login
            ),
            button: "Activate account",
            outro: "If you were not expecting this, ignore this mail.",
        },
        LinkPurpose::PasswordReset => Wording {
            subject: format!("{org}: reset your password"),
            intro: format!(
                "A password reset was requested for your {org} account (username {}). Choose a new password:",
                user.login
            ),
            button: "Reset password",
            outro: "If you did not ask for this, ignore this mail: your password stays as it is.",
        },
    };
    let valid_for = duration_words(link.expires_at - now);
    render(
        branding,
        &user.email,
        &user.first_name,
        &link.url(origin),
        &valid_for,
        &w,
    )
}

/// `gatehouse email test`'s mail.
pub fn test_mail(
    branding: &Branding,
    to: &str,
    origin: &str,
) -> Result<OutgoingMail, askama::Error> {
    let org = &branding.org_name;
    let w = Wording {
        subject: format!("{org}: test mail"),
        intro: format!(
            "This is a test mail from {org}'s Gatehouse. Mail delivery works; the sign-in page is here:"
        ),
        button: "Open the sign-in page",
        outro: "Nothing else needs doing.",
    };
    let url = format!("{}/login/login.htm", origin.trim_end_matches('/'));
    render(
        branding,
        to,
        "there",
        &url,
        "no time at all (it is a test)",
        &w,
    )
}

/// Mails `link` to `user` in the background when mail is configured and `send` is asked for
/// (`true`); otherwise hands the link back, for the API to return (Okta's `sendEmail=false`).
pub(crate) fn deliver(
    state: &AppState,
    user: &User,
    link: IssuedLink,
    origin: &str,
    send: bool,
) -> Option<IssuedLink> {
    if !send || !state.provider.mail.is_configured() {
        return Some(link);
    }
    match link_mail(
        &state.config.branding,
        user,
        &link,
        origin,
        state.provider.now(),
    ) {
        Ok(m) => {
            let what = match link.purpose {
                LinkPurpose::Activation => "activation",
                LinkPurpose::PasswordReset => "password_reset",
            };
            mail_delivery::send_in_background(state.provider.clone(), m, Entity::user(user), what);
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "mail template rendering failed");
            Some(link)
        }
    }
}
