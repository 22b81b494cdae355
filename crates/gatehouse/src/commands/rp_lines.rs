//! What a relying party is configured with: the issuers, their discovery documents, and the
//! config lines of NetBox (python-social-auth's Okta and generic OIDC backends), OpenMetadata,
//! Apache mod_auth_openidc and oauth2-proxy. Shared by `app create-oidc` and `doctor`.

/// One app on one server, as its relying party sees it.
pub struct RpConfig<'a> {
    pub client_id: &'a str,
    /// The secret if it is shown now (just created); otherwise a placeholder is printed.
    pub client_secret: Option<&'a str>,
    /// The issuer the lines use: `https://id.example.com` (org) or `…/oauth2/default`.
    pub issuer: &'a str,
    /// The relying party's own base URL (its redirect URIs are under it).
    pub rp_url: &'a str,
    pub scopes: &'a str,
}

/// The Okta-style API URL python-social-auth's Okta backend wants (it appends `v1/authorize`).
fn okta_api_url(issuer: &str) -> String {
    if issuer.contains("/oauth2/") {
        format!("{issuer}/")
    } else {
        format!("{issuer}/oauth2/")
    }
}

fn keys_url(issuer: &str) -> String {
    if issuer.contains("/oauth2/") {
        format!("{issuer}/v1/keys")
    } else {
        format!("{issuer}/oauth2/v1/keys")
    }
}

/// The "Issuer" block: the org issuer and the default server's, each with discovery.
pub fn issuers(base: &str) -> String {
    let base = base.trim_end_matches('/');
    format!(
        "Okta domain:  {domain}
Org issuer:   {base}
  discovery:  {base}/.well-known/openid-configuration
Default authorization server issuer: {base}/oauth2/default
  discovery:  {base}/oauth2/default/.well-known/openid-configuration",
        domain = base
            .trim_start_matches("https://")
            .trim_start_matches("http://"),
    )
}

/// The config lines, in sections.
pub fn lines(c: &RpConfig<'_>) -> String {
    let RpConfig {
        client_id: id,
        issuer,
        scopes,
        ..
    } = *c;
    let rp = c.rp_url.trim_end_matches('/');
    let secret = c.client_secret.unwrap_or("<the app's client secret>");
    let api_url = okta_api_url(issuer);
    let keys = keys_url(issuer);
    format!(
        "# NetBox (python-social-auth's Okta OpenID Connect backend), configuration.py
REMOTE_AUTH_ENABLED = True
REMOTE_AUTH_BACKEND = 'social_core.backends.okta_openidconnect.OktaOpenIdConnect'
SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY = '{id}'
SOCIAL_AUTH_OKTA_OPENIDCONNECT_SECRET = '{secret}'
SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL = '{api_url}'
# NetBox's redirect URI to register: {rp}/oauth/complete/okta-openidconnect/

# NetBox with generic OIDC (social_core.backends.open_id_connect.OpenIdConnectAuth)
REMOTE_AUTH_BACKEND = 'social_core.backends.open_id_connect.OpenIdConnectAuth'
SOCIAL_AUTH_OIDC_OIDC_ENDPOINT = '{issuer}'
SOCIAL_AUTH_OIDC_KEY = '{id}'
SOCIAL_AUTH_OIDC_SECRET = '{secret}'
# NetBox's redirect URI to register: {rp}/oauth/complete/oidc/

# OpenMetadata (openmetadata.yaml, or the matching environment variables)
authenticationConfiguration:
  provider: okta
  clientType: public
  clientId: {id}
  authority: {issuer}
  callbackUrl: {rp}/callback
  publicKeyUrls: [\"{rp}/api/v1/system/config/jwks\", \"{keys}\"]

# Any OpenID Connect client: issuer {issuer}
#   discovery {issuer}/.well-known/openid-configuration

# Apache mod_auth_openidc
OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCClientID {id}
OIDCClientSecret {secret}
OIDCRedirectURI {rp}/redirect_uri
OIDCCryptoPassphrase <a long random string>
OIDCScope \"{scopes}\"

# oauth2-proxy
--provider=oidc
--oidc-issuer-url={issuer}
--client-id={id}
--client-secret={secret}
--redirect-url={rp}/oauth2/callback
--scope=\"{scopes}\"
--email-domain=*
--cookie-secret=<32 random bytes, base64>"
    )
}

/// The relying party's base URL from a redirect URI (its origin), for the lines above.
pub fn rp_url_of(redirect_uri: Option<&String>) -> String {
    redirect_uri
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .unwrap_or_else(|| "https://rp.example.com".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_the_issuer_and_the_secret() {
        let text = lines(&RpConfig {
            client_id: "0oa1",
            client_secret: Some("s3cr3t"),
            issuer: "https://id.example.com",
            rp_url: "https://netbox.example.com/",
            scopes: "openid profile email",
        });
        assert!(
            text.contains(
                "SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL = 'https://id.example.com/oauth2/'"
            )
        );
        assert!(text.contains("SOCIAL_AUTH_OIDC_SECRET = 's3cr3t'"));
        assert!(text.contains(
            "OIDCProviderMetadataURL https://id.example.com/.well-known/openid-configuration"
        ));
        assert!(text.contains("https://id.example.com/oauth2/v1/keys"));
        assert!(issuers("https://id.example.com").contains("Okta domain:  id.example.com\n"));
        assert_eq!(
            rp_url_of(Some(
                &"https://nb.example.com:8443/oauth/complete/oidc/".to_owned()
            )),
            "https://nb.example.com:8443"
        );
    }
}
