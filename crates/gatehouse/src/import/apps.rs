//! OpenID Connect apps with the same client ids (and client secrets where the source's API
//! reveals them, or `--client-secret` gives them), their settings, and their group and user
//! assignments. Other sign-on modes (SAML, bookmarks, …) are reported, not carried.

use gatehouse_core::domain::{
    AppStatus, ApplicationType, ClientMetadata, IssuerMode, RotationType, TokenEndpointAuthMethod,
};
use gatehouse_core::services::app_grants;
use gatehouse_core::services::apps::{self, OidcAppSpec};

use super::directory::map_group;
use super::report::Change;
use super::{Import, model, need};

const APPS: &str = "apps";
const ASSIGNMENTS: &str = "app assignments";
const GRANTS: &str = "app API scope grants";

pub(super) async fn apps(run: &mut Import<'_>) -> anyhow::Result<()> {
    let all = need("apps", run.source.list("/api/v1/apps").await)?;
    let mut progress = run.read(APPS, all.len());
    for raw in all {
        progress.inc();
        run.seen.read(APPS, &raw);
        let a: model::App = match model::parse("app", raw) {
            Ok(a) => a,
            Err(e) => {
                run.report.not_carried(APPS, "?", e);
                continue;
            }
        };
        if a.sign_on_mode != "OPENID_CONNECT" {
            let why = format!(
                "{} apps are not carried (only OPENID_CONNECT)",
                a.sign_on_mode
            );
            run.report.not_carried(APPS, &a.label, why);
            continue;
        }
        if let Err(e) = app(run, &a).await {
            run.report.not_carried(APPS, &a.label, format!("{e:#}"));
        }
    }
    Ok(())
}

fn parse_opt<T>(
    field: &str,
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> anyhow::Result<Option<T>> {
    match raw {
        None => Ok(None),
        Some(r) => parse(r)
            .map(Some)
            .ok_or_else(|| anyhow::anyhow!("{field} {r} is not supported")),
    }
}

/// The client secret: from the app, from its secrets, or from `--client-secret`.
async fn client_secret(run: &Import<'_>, a: &model::App, client_id: &str) -> Option<String> {
    if let Some(s) = &a.credentials.oauth_client.client_secret {
        return Some(s.clone());
    }
    let path = format!("/api/v1/apps/{}/credentials/secrets", a.id);
    if let Ok(secrets) = run.source.list(&path).await {
        let readable = secrets
            .into_iter()
            .filter_map(|v| model::parse::<model::ClientSecret>("secret", v).ok())
            .find(|s| s.status == "ACTIVE" && s.client_secret.is_some());
        if let Some(s) = readable.and_then(|s| s.client_secret) {
            return Some(s);
        }
    }
    run.client_secrets.get(client_id).cloned()
}

fn spec_of(a: &model::App) -> anyhow::Result<OidcAppSpec> {
    let s = &a.settings.oauth_client;
    let c = &a.credentials.oauth_client;
    let application_type = parse_opt(
        "application_type",
        s.application_type.as_deref(),
        ApplicationType::parse,
    )?
    .unwrap_or(ApplicationType::Web);
    let label = if a.label.is_empty() {
        a.name.clone()
    } else {
        a.label.clone()
    };
    let mut spec = OidcAppSpec::new(label, application_type);
    spec.client_id = Some(c.client_id.clone().unwrap_or_else(|| a.id.clone()));
    spec.token_endpoint_auth_method = parse_opt(
        "token_endpoint_auth_method",
        c.token_endpoint_auth_method.as_deref(),
        TokenEndpointAuthMethod::parse,
    )?;
    spec.pkce_required = c.pkce_required;
    spec.redirect_uris = s.redirect_uris.clone();
    spec.post_logout_redirect_uris = s.post_logout_redirect_uris.clone();
    spec.grant_types = s.grant_types.clone();
    spec.response_types = s.response_types.clone();
    spec.initiate_login_uri = s.initiate_login_uri.clone();
    spec.login_mode = s.idp_initiated_login.as_ref().and_then(|l| l.mode.clone());
    spec.issuer_mode = parse_opt("issuer_mode", s.issuer_mode.as_deref(), IssuerMode::parse)?;
    spec.consent_method = s.consent_method.clone();
    spec.wildcard_redirect = s.wildcard_redirect.clone();
    spec.metadata = ClientMetadata {
        client_uri: s.client_uri.clone(),
        logo_uri: s.logo_uri.clone(),
        policy_uri: s.policy_uri.clone(),
        tos_uri: s.tos_uri.clone(),
        default_scope: s
            .idp_initiated_login
            .as_ref()
            .map(|l| l.default_scope.clone())
            .unwrap_or_default(),
    };
    spec.jwks = s.jwks.clone();
    spec.jwks_uri = s.jwks_uri.clone();
    if let Some(r) = &s.refresh_token {
        spec.refresh_rotation = parse_opt(
            "refresh_token.rotation_type",
            r.rotation_type.as_deref(),
            RotationType::parse,
        )?;
        spec.refresh_leeway = r.leeway;
    }
    spec.active = a.status != "INACTIVE";
    Ok(spec)
}

async fn app(run: &mut Import<'_>, a: &model::App) -> anyhow::Result<()> {
    let mut spec = spec_of(a)?;
    let client_id = spec.client_id.clone().unwrap_or_default();
    let method = spec
        .token_endpoint_auth_method
        .unwrap_or(TokenEndpointAuthMethod::ClientSecretBasic);
    let wants_secret = matches!(
        method,
        TokenEndpointAuthMethod::ClientSecretBasic
            | TokenEndpointAuthMethod::ClientSecretPost
            | TokenEndpointAuthMethod::ClientSecretJwt
    );
    if wants_secret {
        spec.client_secret = client_secret(run, a, &client_id).await;
    }
    let existing = run.provider.store.find_app_by_client_id(&client_id).await?;
    if run.dry_run {
        let change = if existing.is_some() {
            Change::Updated
        } else {
            Change::Created
        };
        run.report.count(APPS, change);
        return Ok(());
    }
    let secret_given = spec.client_secret.is_some();
    let target = match existing {
        Some(found) => {
            apps::keep_registration_only_settings(&mut spec, &found);
            let settings = apps::build_settings(&spec)?;
            let status = if spec.active {
                AppStatus::Active
            } else {
                AppStatus::Inactive
            };
            let same = found.label == spec.label && found.status == status && {
                let mut ours = found.settings.clone();
                ours.groups_claim = settings.groups_claim.clone();
                ours == settings
            };
            let replaced = apps::replace(run.provider, &run.actor, found, spec).await?;
            let change = if same && replaced.client_secret.is_none() {
                Change::Unchanged
            } else {
                Change::Updated
            };
            run.report.count(APPS, change);
            let mut app = replaced.app;
            if app.status != status {
                app = apps::set_status(run.provider, &run.actor, app, status).await?;
            }
            app
        }
        None => {
            let created = apps::create(run.provider, &run.actor, spec).await?;
            run.report.count(APPS, Change::Created);
            if wants_secret && !secret_given {
                run.report.not_carried(
                    APPS,
                    &format!("{} client secret", a.label),
                    format!(
                        "the source does not reveal it: a new secret was generated (rerun with --client-secret {client_id}=<secret> to keep the old one)"
                    ),
                );
            }
            created.app
        }
    };
    run.seen.carried(APPS, &a.id, &target.id);
    assignments(run, a, &target).await?;
    grants(run, a, &target).await
}

/// The app's Okta API scope grants (`okta.users.read`, …), for the org authorization server
/// here: its `public_url` when configured, else the source grant's issuer stands in (the
/// issuer is informational; the token endpoint checks the scope only).
async fn grants(
    run: &mut Import<'_>,
    a: &model::App,
    target: &gatehouse_core::domain::App,
) -> anyhow::Result<()> {
    let path = format!("/api/v1/apps/{}/grants", a.id);
    let all = need("app grants", run.source.list(&path).await)?;
    let current = app_grants::list(run.provider, target).await?;
    for raw in all {
        let g: model::AppGrant = match model::parse("grant", raw) {
            Ok(g) => g,
            Err(e) => {
                run.report.not_carried(GRANTS, &a.label, e);
                continue;
            }
        };
        if !g.status.is_empty() && g.status != "ACTIVE" {
            continue;
        }
        if current.iter().any(|c| c.scope_id == g.scope_id) {
            run.report.count(GRANTS, Change::Unchanged);
            continue;
        }
        if run.dry_run {
            run.report.count(GRANTS, Change::Created);
            continue;
        }
        let issuer = run
            .provider
            .domains
            .org_url
            .clone()
            .unwrap_or_else(|| g.issuer.clone());
        let label = format!("{} {}", a.label, g.scope_id);
        match app_grants::grant(run.provider, target, &g.scope_id, &issuer, &issuer, None).await {
            Ok(_) => run.report.count(GRANTS, Change::Created),
            Err(e) => run.report.not_carried(GRANTS, &label, e),
        }
    }
    Ok(())
}

async fn assignments(
    run: &mut Import<'_>,
    a: &model::App,
    target: &gatehouse_core::domain::App,
) -> anyhow::Result<()> {
    let groups = need(
        "app groups",
        run.source
            .list(&format!("/api/v1/apps/{}/groups", a.id))
            .await,
    )?;
    let current = run
        .provider
        .store
        .list_app_group_assignments(&target.id)
        .await?;
    for raw in groups {
        let g: model::GroupAssignment = match model::parse("group assignment", raw) {
            Ok(g) => g,
            Err(e) => {
                run.report.not_carried(ASSIGNMENTS, &a.label, e);
                continue;
            }
        };
        let Some(group_id) = map_group(run, &g.id) else {
            let why = format!("group {} was not imported", g.id);
            run.report.not_carried(ASSIGNMENTS, &a.label, why);
            continue;
        };
        let same = current
            .iter()
            .any(|c| c.group_id == group_id && g.priority.is_none_or(|p| p == c.priority));
        if same {
            run.report.count(ASSIGNMENTS, Change::Unchanged);
            continue;
        }
        let Some(group) = run.provider.store.find_group(&group_id).await? else {
            continue;
        };
        match apps::assign_group(run.provider, &run.actor, target, &group, g.priority).await {
            Ok(_) => run.report.count(ASSIGNMENTS, Change::Created),
            Err(e) => run.report.not_carried(ASSIGNMENTS, &a.label, e),
        }
    }
    let users = need(
        "app users",
        run.source
            .list(&format!("/api/v1/apps/{}/users", a.id))
            .await,
    )?;
    let direct = run.provider.store.list_app_users(&target.id).await?;
    for raw in users {
        let u: model::AppUser = match model::parse("app user", raw) {
            Ok(u) => u,
            Err(e) => {
                run.report.not_carried(ASSIGNMENTS, &a.label, e);
                continue;
            }
        };
        // Assignments through a group come with the group's.
        if u.scope != "USER" {
            continue;
        }
        if direct.contains(&u.id) {
            run.report.count(ASSIGNMENTS, Change::Unchanged);
            continue;
        }
        let Some(user) = run.provider.store.find_user(&u.id).await? else {
            let why = format!("user {} was not imported", u.id);
            run.report.not_carried(ASSIGNMENTS, &a.label, why);
            continue;
        };
        match apps::assign_user(run.provider, &run.actor, target, &user).await {
            Ok(()) => run.report.count(ASSIGNMENTS, Change::Created),
            Err(e) => run.report.not_carried(ASSIGNMENTS, &a.label, e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Okta's own app shapes (fixtures in the style of Okta's API reference examples) become
    //! specs that Gatehouse's app validation accepts, with what the apps rely on kept.

    use super::*;

    fn app(text: &str) -> Result<model::App, String> {
        let v = serde_json::from_str(text).map_err(|e| e.to_string())?;
        model::parse("app", v)
    }

    #[test]
    fn okta_web_spa_and_service_apps_are_carried() -> Result<(), String> {
        let cases = [
            (
                include_str!("fixtures/app_oidc.json"),
                ApplicationType::Web,
                TokenEndpointAuthMethod::ClientSecretBasic,
            ),
            (
                include_str!("fixtures/app_oidc_spa.json"),
                ApplicationType::Browser,
                TokenEndpointAuthMethod::None,
            ),
            (
                include_str!("fixtures/app_oidc_service.json"),
                ApplicationType::Service,
                TokenEndpointAuthMethod::PrivateKeyJwt,
            ),
        ];
        for (text, kind, method) in cases {
            let a = app(text)?;
            let spec = spec_of(&a).map_err(|e| format!("{}: {e:#}", a.label))?;
            assert_eq!(spec.application_type, kind, "{}", a.label);
            assert_eq!(spec.token_endpoint_auth_method, Some(method), "{}", a.label);
            assert_eq!(spec.client_id.as_deref(), Some(a.id.as_str()));
            let settings = apps::build_settings(&spec).map_err(|e| format!("{}: {e}", a.label))?;
            assert_eq!(settings.application_type, kind);
            assert_eq!(settings.grant_types, a.settings.oauth_client.grant_types);
        }
        let service = app(include_str!("fixtures/app_oidc_service.json"))?;
        let jwks = spec_of(&service).map_err(|e| e.to_string())?.jwks;
        let kid = jwks
            .as_ref()
            .and_then(|j| j["keys"][0]["kid"].as_str())
            .map(str::to_owned);
        assert_eq!(
            kid.as_deref(),
            Some("SIGNING_KEY"),
            "the service app's JWKS is carried"
        );
        let spa = app(include_str!("fixtures/app_oidc_spa.json"))?;
        assert_eq!(spa.credentials.oauth_client.pkce_required, Some(true));
        Ok(())
    }

    #[test]
    fn okta_api_scope_grants() -> Result<(), String> {
        let list: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("fixtures/app_grants.json"))
                .map_err(|e| e.to_string())?;
        let grants = list
            .into_iter()
            .map(|v| model::parse::<model::AppGrant>("grant", v))
            .collect::<Result<Vec<_>, _>>()?;
        let scopes: Vec<_> = grants.iter().map(|g| g.scope_id.as_str()).collect();
        assert_eq!(scopes, ["okta.users.read", "okta.groups.read"]);
        assert!(grants.iter().all(|g| g.status == "ACTIVE"));
        assert_eq!(grants[0].issuer, "https://{yourOktaDomain}");
        Ok(())
    }
}
