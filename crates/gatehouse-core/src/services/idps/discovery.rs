//! An IdP's settings from the upstream's discovery document
//! (`<issuer>/.well-known/openid-configuration`, fetched with the installed `jwks_uri` fetcher:
//! the same SSRF rules, timeouts and size cap), for the console's form and `gatehouse idp
//! add-oidc`.

use serde_json::Value;

use crate::domain::{
    AccountLinkAction, ClaimMapping, GroupsAction, IdpSettings, IssuerMode, MatchType,
    ProvisioningAction, UpstreamAuthMethod,
};
use crate::provider::Provider;
use crate::services::directory_rules::{DirectoryError, invalid};

/// Settings with Okta's defaults (provisioning and linking AUTO, `idpuser.email`, USERNAME,
/// groups from `groups_claim` synced when given) and no endpoints yet.
pub fn default_settings(
    issuer: &str,
    client_id: &str,
    groups_claim: Option<String>,
) -> IdpSettings {
    IdpSettings {
        issuer: issuer.trim().to_owned(),
        authorization_url: String::new(),
        token_url: String::new(),
        userinfo_url: None,
        jwks_url: String::new(),
        scopes: Vec::new(),
        client_id: client_id.trim().to_owned(),
        token_auth_method: UpstreamAuthMethod::ClientSecretPost,
        client_key: None,
        issuer_mode: IssuerMode::OrgUrl,
        provisioning: ProvisioningAction::Auto,
        groups_action: if groups_claim.is_some() {
            GroupsAction::Sync
        } else {
            GroupsAction::None
        },
        groups_claim,
        groups_filter: Vec::new(),
        account_link: AccountLinkAction::Auto,
        account_link_groups: Vec::new(),
        user_name_template: "idpuser.email".into(),
        match_type: MatchType::Username,
        mapping: ClaimMapping::default(),
        routing_domains: Vec::new(),
        allow_password: false,
        max_clock_skew: 120,
    }
}

/// Fills the endpoints of `settings` from the discovery document of `settings.issuer`, whose
/// `issuer` must be exactly that.
pub async fn discover(
    provider: &Provider,
    settings: &mut IdpSettings,
) -> Result<(), DirectoryError> {
    let issuer = settings.issuer.trim_end_matches('/');
    let url = format!("{issuer}/.well-known/openid-configuration");
    let body = provider
        .remote_jwks
        .fetch_document(&url)
        .await
        .map_err(|e| {
            invalid(
                "protocol.issuer.url",
                format!(
                    "{url}: {}",
                    e.to_string().replace("the jwks_uri", "the document")
                ),
            )
        })?;
    let doc: Value = serde_json::from_slice(&body)
        .map_err(|_| invalid("protocol.issuer.url", format!("{url} is not JSON")))?;
    let field = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
    let found = field("issuer").unwrap_or_default();
    if found != settings.issuer {
        return Err(invalid(
            "protocol.issuer.url",
            format!(
                "the discovery document's issuer is {found:?}, not {:?}",
                settings.issuer
            ),
        ));
    }
    settings.authorization_url = field("authorization_endpoint").unwrap_or_default();
    settings.token_url = field("token_endpoint").unwrap_or_default();
    settings.userinfo_url = field("userinfo_endpoint");
    settings.jwks_url = field("jwks_uri").unwrap_or_default();
    Ok(())
}
