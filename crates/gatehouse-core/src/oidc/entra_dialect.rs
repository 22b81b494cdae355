//! Microsoft Entra ID's dialect as data: its issuers, endpoint paths, ID-token claims and
//! discovery document (which tenant a request names is resolved in [`super::entra`]).

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::domain::{SigningAlg, User};

/// Entra's v1 endpoints (`/{tenant}/oauth2/token`, issuer `https://sts.windows.net/{tid}/`) or
/// its v2.0 ones (`/{tenant}/oauth2/v2.0/token`, issuer `https://login…/{tid}/v2.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntraVersion {
    V1,
    V2,
}

impl EntraVersion {
    /// The `ver` claim.
    pub fn claim(self) -> &'static str {
        match self {
            Self::V1 => "1.0",
            Self::V2 => "2.0",
        }
    }
}

/// The tenants a path may name besides the tenant id and the host (Entra's multi-tenant aliases).
pub const TENANT_ALIASES: [&str; 2] = ["common", "organizations"];

/// How an Entra-style request addresses the org server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entra {
    pub version: EntraVersion,
    /// The org's tenant id (a UUID): the `tid` claim.
    pub tenant_id: String,
    /// The tenant as the request's path named it (the id, `common` or `organizations`).
    pub path_tenant: String,
    /// Where the paths and issuers live: the org server's issuer (`https://host`).
    pub base: String,
    /// A v1 token request's `resource`, when it names the client itself: the access token's
    /// audience.
    pub resource: Option<String>,
}

impl Entra {
    /// The issuer of this tenant (`None`: the `{tenantid}` template Entra's multi-tenant
    /// discovery documents publish).
    pub fn issuer_for(&self, tenant: Option<&str>) -> String {
        let tid = tenant.unwrap_or("{tenantid}");
        match self.version {
            EntraVersion::V1 => format!("{}/{tid}/", self.base),
            EntraVersion::V2 => format!("{}/{tid}/v2.0", self.base),
        }
    }

    /// The tokens' `iss`: always the concrete tenant.
    pub fn issuer(&self) -> String {
        self.issuer_for(Some(&self.tenant_id))
    }

    /// An endpoint under the path's tenant: `oauth2/token`, `discovery/keys`… (`v2.0` inserted
    /// where Entra puts it).
    pub fn endpoint(&self, name: &str) -> String {
        let t = &self.path_tenant;
        match (self.version, name) {
            (EntraVersion::V1, _) => format!("{}/{t}/{name}", self.base),
            (EntraVersion::V2, "discovery/keys") => {
                format!("{}/{t}/discovery/v2.0/keys", self.base)
            }
            (EntraVersion::V2, _) => {
                let rest = name.strip_prefix("oauth2/").unwrap_or(name);
                format!("{}/{t}/oauth2/v2.0/{rest}", self.base)
            }
        }
    }
}

/// `common` or `organizations`: a path that names no one tenant.
pub fn is_alias(path_tenant: &str) -> bool {
    TENANT_ALIASES
        .iter()
        .any(|a| a.eq_ignore_ascii_case(path_tenant))
}

/// A tenant id derived from the org's id: a UUID (version 8, RFC 9562) of its SHA-256, so it
/// stays the same for the life of the database.
pub fn derived_tenant_id(org_id: &str) -> String {
    let digest = Sha256::digest(format!("gatehouse-entra-tenant:{org_id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The scopes the org server is asked for: Entra's resource scopes (`user_impersonation`,
/// `User.Read`, `https://graph…/.default`, `api://…`) name APIs Gatehouse does not host and are
/// left out; the OpenID Connect ones stay, and `openid` is always asked for (the backends
/// Entra serves read the ID token).
pub fn org_scopes(requested: Option<&str>) -> String {
    const KEPT: [&str; 6] = [
        "openid",
        "profile",
        "email",
        "offline_access",
        "groups",
        "address",
    ];
    let mut kept: Vec<&str> = requested
        .unwrap_or_default()
        .split(' ')
        .filter(|s| KEPT.contains(s))
        .collect();
    if !kept.contains(&"openid") {
        kept.insert(0, "openid");
    }
    kept.join(" ")
}

/// The claims Entra's ID tokens carry that Okta's do not, for `user` (after Okta's set, which
/// they partly replace: `ver` is Entra's string).
pub fn add_id_token_claims(entra: &Entra, user: &User, id: &mut Map<String, Value>) {
    id.insert("ver".into(), json!(entra.version.claim()));
    id.insert("tid".into(), json!(entra.tenant_id));
    id.insert("oid".into(), json!(user.id));
    id.insert("name".into(), json!(user.full_name()));
    id.insert("given_name".into(), json!(user.first_name));
    id.insert("family_name".into(), json!(user.last_name));
    id.insert("email".into(), json!(user.email));
    id.insert("upn".into(), json!(user.login));
    match entra.version {
        EntraVersion::V1 => {
            id.insert("unique_name".into(), json!(user.login));
        }
        EntraVersion::V2 => {
            id.insert("preferred_username".into(), json!(user.login));
        }
    }
}

/// `/{tenant}/.well-known/openid-configuration` (v1) and
/// `/{tenant}/v2.0/.well-known/openid-configuration` (v2), in Entra's shape.
pub fn openid_configuration(entra: &Entra, id_token_algs: &[SigningAlg]) -> Value {
    let algs: Vec<&str> = id_token_algs.iter().map(|a| a.as_str()).collect();
    // Entra's multi-tenant documents publish a template the client fills in from `tid`.
    let issuer = match is_alias(&entra.path_tenant) {
        true => entra.issuer_for(None),
        false => entra.issuer(),
    };
    let scopes: &[&str] = match entra.version {
        EntraVersion::V1 => &["openid"],
        EntraVersion::V2 => &["openid", "profile", "email", "offline_access"],
    };
    json!({
        "issuer": issuer,
        "authorization_endpoint": entra.endpoint("oauth2/authorize"),
        "token_endpoint": entra.endpoint("oauth2/token"),
        "end_session_endpoint": entra.endpoint("oauth2/logout"),
        "jwks_uri": entra.endpoint("discovery/keys"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "response_types_supported": ["code", "id_token", "code id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "scopes_supported": scopes,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "ver", "tid", "oid", "upn",
            "unique_name", "name", "given_name", "family_name", "email", "preferred_username",
            "amr", "at_hash"
        ],
        "code_challenge_methods_supported": ["S256"],
        "tenant_region_scope": null,
        "cloud_instance_name": entra.base.split_once("://").map_or("", |(_, h)| h),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entra(version: EntraVersion, path_tenant: &str) -> Entra {
        Entra {
            version,
            tenant_id: "7f0c4a2e-1111-8222-9333-444455556666".into(),
            path_tenant: path_tenant.into(),
            base: "https://id.example.com".into(),
            resource: None,
        }
    }

    #[test]
    fn derived_tenant_ids_are_stable_uuids() {
        let a = derived_tenant_id("00o1");
        assert_eq!(a, derived_tenant_id("00o1"));
        assert_ne!(a, derived_tenant_id("00o2"));
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('8'));
    }

    #[test]
    fn issuers_and_endpoints_follow_entra() {
        let v1 = entra(EntraVersion::V1, "common");
        assert_eq!(
            v1.issuer(),
            "https://id.example.com/7f0c4a2e-1111-8222-9333-444455556666/"
        );
        assert_eq!(v1.issuer_for(None), "https://id.example.com/{tenantid}/");
        assert_eq!(
            v1.endpoint("oauth2/token"),
            "https://id.example.com/common/oauth2/token"
        );
        assert_eq!(
            v1.endpoint("discovery/keys"),
            "https://id.example.com/common/discovery/keys"
        );
        let v2 = entra(EntraVersion::V2, "organizations");
        assert_eq!(
            v2.issuer(),
            "https://id.example.com/7f0c4a2e-1111-8222-9333-444455556666/v2.0"
        );
        assert_eq!(
            v2.endpoint("oauth2/authorize"),
            "https://id.example.com/organizations/oauth2/v2.0/authorize"
        );
        assert_eq!(
            v2.endpoint("discovery/keys"),
            "https://id.example.com/organizations/discovery/v2.0/keys"
        );
    }

    #[test]
    fn resource_scopes_are_left_out() {
        assert_eq!(
            org_scopes(Some("openid profile user_impersonation email")),
            "openid profile email"
        );
        assert_eq!(
            org_scopes(Some("User.Read profile openid email")),
            "profile openid email"
        );
        assert_eq!(org_scopes(Some("profile")), "openid profile");
        assert_eq!(
            org_scopes(Some("https://graph.microsoft.com/.default")),
            "openid"
        );
        assert_eq!(org_scopes(None), "openid");
    }
}
