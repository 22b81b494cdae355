//! Sending mail off the request path: a mail that cannot be sent never fails the request that
//! caused it; every attempt is a System Log event (`system.email.delivery`, no link or
//! credential in it).

use std::sync::Arc;

use crate::Provider;
use crate::audit::{self, Entity, Event};
use crate::services::mail::OutgoingMail;

/// Okta's event for a mail delivery attempt.
pub const EMAIL_DELIVERY: &str = "system.email.delivery";

/// Sends `mail` on a task of its own; the outcome is recorded as `system.email.delivery` on
/// `target` (the user the mail is about). `what` names the mail (e.g. `activation`).
pub fn send_in_background(provider: Arc<Provider>, mail: OutgoingMail, target: Entity, what: &str) {
    let what = what.to_owned();
    tokio::spawn(async move {
        let outcome = provider.mail.send_now(&mail).await;
        let mut event = Event::new(EMAIL_DELIVERY, "Send email", Entity::system())
            .target(target)
            .debug("emailType", what.clone());
        match outcome {
            Ok(()) => {
                metrics::counter!("gatehouse_mail_total", "outcome" => "sent").increment(1);
            }
            Err(e) => {
                metrics::counter!("gatehouse_mail_total", "outcome" => "failed").increment(1);
                tracing::warn!(error = %e, email_type = %what, "a mail could not be sent");
                event = event.failure("DELIVERY_FAILED").debug("error", e.0);
            }
        }
        audit::record(&*provider, event).await;
    });
}
