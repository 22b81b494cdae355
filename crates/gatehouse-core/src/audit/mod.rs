//! The System Log's write side: event types, the events and their Okta `LogEvent` JSON, and
//! recording. It sits low in the crate (it needs only `domain`, `crypto` and `store`), so
//! protocol code and services alike may record events without depending on each other.
//!
//! Recording never fails the request that caused it: a failed write is a warning. Events hold
//! ids, names and outcomes, never a password, code, token or secret.

mod body;
mod event;
mod record;

pub use event::{
    Actor, ClientInfo, Entity, Event, Severity, event_type, oauth2_event_type, okta_date_ms,
    parse_instant_ms, reason,
};
pub use record::{
    AuditSink, TokenRequestLog, now_ms, record, record_all, record_code_issued,
    record_token_refusal, record_unassigned_access, token_grant_records,
};
