//! Okta's `LogEvent` JSON, field by field (`()` is JSON `null`: what Gatehouse does not know).

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LogEvent<'a> {
    pub uuid: &'a str,
    pub published: String,
    pub event_type: &'a str,
    pub version: &'static str,
    pub severity: &'static str,
    pub legacy_event_type: Option<&'static str>,
    pub display_message: &'a str,
    pub actor: Entity<'a>,
    pub client: Client<'a>,
    pub device: (),
    pub authentication_context: AuthenticationContext<'a>,
    pub display_message_auth: (),
    pub outcome: Outcome<'a>,
    pub security_context: SecurityContext,
    pub debug_context: DebugContext<'a>,
    pub transaction: Transaction<'a>,
    pub request: Request<'a>,
    pub target: Vec<Entity<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Entity<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub alternate_id: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub detail_entry: (),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Client<'a> {
    pub user_agent: Option<UserAgent<'a>>,
    pub zone: &'static str,
    pub device: (),
    pub id: (),
    pub ip_address: Option<&'a str>,
    pub geographical_context: (),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UserAgent<'a> {
    pub raw_user_agent: &'a str,
    pub os: (),
    pub browser: (),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AuthenticationContext<'a> {
    pub authentication_provider: Option<&'static str>,
    pub credential_provider: (),
    pub credential_type: Option<&'static str>,
    pub issuer: Option<Issuer<'a>>,
    pub interface: (),
    pub authentication_step: u32,
    pub external_session_id: Option<&'a str>,
}

/// `authenticationContext.issuer`: the identity provider a sign-in came through.
#[derive(Serialize)]
pub(super) struct Issuer<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
}

#[derive(Serialize)]
pub(super) struct Outcome<'a> {
    pub result: &'static str,
    pub reason: Option<&'a str>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct SecurityContext {
    pub as_number: (),
    pub as_org: (),
    pub isp: (),
    pub domain: (),
    pub is_proxy: (),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DebugContext<'a> {
    pub debug_data: &'a Map<String, Value>,
}

#[derive(Serialize)]
pub(super) struct Transaction<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: &'a str,
    pub detail: Empty,
}

/// `{}`.
#[derive(Serialize)]
pub(super) struct Empty {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Request<'a> {
    pub ip_chain: Vec<Ip<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Ip<'a> {
    pub ip: &'a str,
    pub geographical_context: (),
    pub version: &'static str,
    pub source: (),
}
