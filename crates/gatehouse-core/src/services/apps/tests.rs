//! The app rules' unit tests: settings defaults and refusals, secrets, filters.

use super::secrets::choose_secret;
use super::*;
use crate::domain::*;
use crate::services::directory_rules::DirectoryError;

fn spec(kind: ApplicationType) -> OidcAppSpec {
    let mut s = OidcAppSpec::new("App", kind);
    if kind != ApplicationType::Service {
        s.redirect_uris = vec!["https://app.example/cb".into()];
    }
    s
}

fn field(r: Result<OAuthClientSettings, DirectoryError>) -> String {
    match r {
        Err(DirectoryError::Invalid { field, .. }) => field.to_owned(),
        other => format!("{other:?}"),
    }
}

#[test]
fn defaults_per_application_type() -> Result<(), DirectoryError> {
    let web = build_settings(&spec(ApplicationType::Web))?;
    assert_eq!(
        web.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretBasic
    );
    assert_eq!(web.grant_types, ["authorization_code"]);
    assert_eq!(web.response_types, ["code"]);
    assert!(!web.pkce_required);
    assert_eq!(web.login_mode, "DISABLED");

    let spa = build_settings(&spec(ApplicationType::Browser))?;
    assert_eq!(
        spa.token_endpoint_auth_method,
        TokenEndpointAuthMethod::None
    );
    assert!(spa.pkce_required);

    assert_eq!(
        web.refresh_token.map(|r| r.rotation_type),
        Some(RotationType::Static)
    );
    assert_eq!(
        spa.refresh_token,
        Some(RefreshTokenPolicy {
            rotation_type: RotationType::Rotate,
            leeway: 30
        })
    );
    let mut s = spec(ApplicationType::Browser);
    s.refresh_leeway = Some(61);
    assert_eq!(field(build_settings(&s)), "leeway");

    let svc = build_settings(&spec(ApplicationType::Service))?;
    assert_eq!(svc.grant_types, ["client_credentials"]);
    assert!(svc.response_types.is_empty());
    assert!(svc.redirect_uris.is_empty());
    Ok(())
}

#[test]
fn okta_rules_name_the_field() {
    use ApplicationType as T;
    let mut s = spec(T::Browser);
    s.token_endpoint_auth_method = Some(TokenEndpointAuthMethod::ClientSecretBasic);
    assert_eq!(field(build_settings(&s)), "token_endpoint_auth_method");

    let mut s = spec(T::Browser);
    s.pkce_required = Some(false);
    assert_eq!(field(build_settings(&s)), "pkce_required");

    let mut s = spec(T::Service);
    s.redirect_uris = vec!["https://svc.example/cb".into()];
    assert_eq!(field(build_settings(&s)), "redirect_uris");

    let mut s = spec(T::Service);
    s.grant_types = vec!["client_credentials".into(), "authorization_code".into()];
    assert_eq!(field(build_settings(&s)), "grant_types");

    let mut s = spec(T::Service);
    s.token_endpoint_auth_method = Some(TokenEndpointAuthMethod::None);
    assert_eq!(field(build_settings(&s)), "token_endpoint_auth_method");

    let mut s = spec(T::Browser);
    s.grant_types = vec!["authorization_code".into(), "client_credentials".into()];
    assert_eq!(field(build_settings(&s)), "grant_types");

    let mut s = spec(T::Web);
    s.grant_types = vec!["refresh_token".into()];
    assert_eq!(field(build_settings(&s)), "grant_types");

    let mut s = spec(T::Web);
    s.grant_types = vec!["authorization_code".into(), "password".into()];
    assert_eq!(field(build_settings(&s)), "grant_types");

    let mut s = spec(T::Web);
    s.response_types = vec!["token".into()];
    assert_eq!(field(build_settings(&s)), "response_types");

    let mut s = spec(T::Web);
    s.grant_types = vec!["authorization_code".into(), "implicit".into()];
    s.response_types = vec!["code".into()];
    assert_eq!(field(build_settings(&s)), "response_types");

    let mut s = spec(T::Web);
    s.redirect_uris = vec![];
    assert_eq!(field(build_settings(&s)), "redirect_uris");

    for bad in [
        "javascript:alert(1)",
        "data:text/html,x",
        "https://a.example/cb#frag",
        "/relative",
    ] {
        let mut s = spec(T::Web);
        s.redirect_uris = vec![bad.into()];
        assert_eq!(field(build_settings(&s)), "redirect_uris", "{bad}");
    }

    let mut s = spec(T::Web);
    s.login_mode = Some("SPEC".into());
    assert_eq!(field(build_settings(&s)), "initiate_login_uri");

    let mut s = spec(T::Web);
    s.consent_method = Some("ALWAYS".into());
    assert_eq!(field(build_settings(&s)), "consent_method");
    s.consent_method = Some("REQUIRED".into());
    assert!(build_settings(&s).is_ok_and(|set| set.consent_method == ConsentMethod::Required));
    s.consent_method = None;
    assert!(build_settings(&s).is_ok_and(|set| set.consent_method == ConsentMethod::Trusted));

    let mut s = spec(T::Web);
    s.metadata.logo_uri = Some("javascript:x".into());
    assert_eq!(field(build_settings(&s)), "logo_uri");
}

#[test]
fn private_key_jwt_service_apps_have_no_secret() -> Result<(), DirectoryError> {
    // seeds/004's ingestion client, as `POST /oauth2/v1/clients` will create it.
    let mut s = spec(ApplicationType::Service);
    s.token_endpoint_auth_method = Some(TokenEndpointAuthMethod::PrivateKeyJwt);
    // Without its public keys it cannot authenticate, so it is refused.
    assert!(matches!(
        build_settings(&s),
        Err(DirectoryError::Invalid { field: "jwks", .. })
    ));
    s.jwks = Some(serde_json::json!({"keys": [{
        "kty": "RSA", "kid": "k1", "e": "AQAB",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    }]}));
    let settings = build_settings(&s)?;
    assert_eq!(
        settings.token_endpoint_auth_method,
        TokenEndpointAuthMethod::PrivateKeyJwt
    );
    assert_eq!(
        choose_secret(settings.token_endpoint_auth_method, None)?,
        None
    );
    assert!(
        choose_secret(
            TokenEndpointAuthMethod::PrivateKeyJwt,
            Some("s3cr3t-s3cr3t-s3cr3t")
        )
        .is_err()
    );
    Ok(())
}

#[test]
fn seed_netbox_terraform_app_is_accepted() -> Result<(), DirectoryError> {
    // seeds/001: web, authorization_code + client_credentials + implicit, code token id_token.
    let mut s = spec(ApplicationType::Web);
    s.grant_types = vec![
        "authorization_code".into(),
        "client_credentials".into(),
        "implicit".into(),
    ];
    s.response_types = vec!["code".into(), "token".into(), "id_token".into()];
    s.initiate_login_uri = Some("https://netbox.example.com/oauth/login/".into());
    s.login_mode = Some("SPEC".into());
    let settings = build_settings(&s)?;
    assert_eq!(settings.login_mode, "SPEC");
    Ok(())
}

#[test]
fn app_filters() {
    let q = parse_app_filter(r#"status eq "ACTIVE" and name eq "oidc_client""#).ok();
    assert_eq!(
        q,
        Some(AppQuery {
            status: Some(AppStatus::Active),
            name: Some("oidc_client".into()),
            ..AppQuery::default()
        })
    );
    assert_eq!(
        parse_app_filter(r#"id eq "0oa1""#).ok().and_then(|q| q.id),
        Some("0oa1".into())
    );
    for bad in [
        r#"status eq "GONE""#,
        r#"status sw "A""#,
        r#"label eq "x""#,
        r#"status eq ACTIVE"#,
        r#"status eq "ACTIVE" or id eq "x""#,
        "status",
        "",
    ] {
        assert!(parse_app_filter(bad).is_err(), "{bad}");
    }
}
