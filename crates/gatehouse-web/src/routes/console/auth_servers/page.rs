//! A server's page: what each tab (Settings, Scopes, Claims, Access Policies, Token Preview)
//! shows, loaded once per request, and the tab handlers.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::domain::{
    ALL_CLIENTS, ANY_SCOPE, AccessPolicy, AppStatus, EVERYONE_GROUP, MetadataPublish, OAuthClaim,
    OAuthScope, PolicyRule, ScopeConsent,
};
use gatehouse_core::services::auth_server_config::{self as config, rule_grant_types};
use gatehouse_core::services::auth_servers::{self, AuthServerError};
use gatehouse_core::services::{apps, groups, users};

use super::super::{Admin, Chrome, ConsoleError, FieldErrors, date, render};
use super::*;
use crate::AppState;
use crate::origin::Origin;

pub(super) struct KeyRow {
    pub(super) kid: String,
    pub(super) alg: String,
    pub(super) status: String,
    pub(super) created: String,
}

#[derive(Template)]
#[template(path = "console/api_server.html")]
pub(super) struct ServerPage {
    pub(super) chrome: Chrome,
    /// The Security › API tab (Authorization Servers).
    pub(super) tab: &'static str,
    /// The server's tab: `settings`, `scopes`, `claims`, `policies` or `preview`.
    pub(super) section: &'static str,
    pub(super) s: ServerRow,
    pub(super) metadata_url: String,
    pub(super) notice: Option<&'static str>,
    pub(super) errors: FieldErrors,
    pub(super) keys: Vec<KeyRow>,
    /// The Settings form.
    pub(super) f: ServerFields,
    pub(super) scopes: Vec<ScopeRow>,
    pub(super) scope_form: Option<ScopeFields>,
    pub(super) claims: Vec<ClaimRow>,
    pub(super) claim_form: Option<ClaimFields>,
    pub(super) policies: Vec<PolicyView>,
    pub(super) policy_form: Option<PolicyFields>,
    pub(super) rule_form: Option<RuleFields>,
    /// The name of the rule form's policy.
    pub(super) rule_policy: String,
    pub(super) clients: Vec<Choice>,
    pub(super) people: Vec<Choice>,
    pub(super) groups: Vec<Choice>,
    pub(super) scope_names: Vec<String>,
    pub(super) grant_types: Vec<Choice>,
    pub(super) preview_grant_types: Vec<Choice>,
    pub(super) preview_form: PreviewFields,
    pub(super) preview: Option<PreviewView>,
}

impl ServerPage {
    pub(super) async fn load(
        state: &AppState,
        admin: &Admin,
        origin: &str,
        id: &str,
        section: &'static str,
    ) -> Result<Self, ConsoleError> {
        let p = &state.provider;
        let server = auth_servers::find_custom(p, id).await.map_err(page_error)?;
        let keys = auth_servers::keys(p, id)
            .await
            .map_err(page_error)?
            .into_iter()
            .map(|k| KeyRow {
                kid: k.kid,
                alg: k.alg,
                status: k.status.to_string(),
                created: date(k.created),
            })
            .collect();
        let mut scopes: Vec<OAuthScope> = config::list(p, id).await.map_err(page_error)?;
        // Stored order follows random ids within a second: by name reads better, and is stable.
        scopes.sort_by(|a, b| a.name.cmp(&b.name));
        let claims: Vec<OAuthClaim> = config::list(p, id).await.map_err(page_error)?;
        let policies: Vec<AccessPolicy> = config::list(p, id).await.map_err(page_error)?;
        let rules: Vec<PolicyRule> = config::list(p, id).await.map_err(page_error)?;

        let (found_apps, _) = apps::list(p, &Default::default(), None, 200).await?;
        let clients: Vec<Choice> = found_apps
            .iter()
            .filter(|a| !a.client_id.is_empty())
            .map(|a| Choice {
                value: a.client_id.clone(),
                label: format!("{} ({})", a.label, a.client_id),
            })
            .collect();
        let (found_people, _) = users::search_users(p, None, None, 200).await?;
        let people: Vec<Choice> = found_people
            .iter()
            .map(|u| Choice {
                value: u.id.clone(),
                label: format!("{} {} ({})", u.first_name, u.last_name, u.login),
            })
            .collect();
        let (found_groups, _) = groups::list_groups(p, None, None, 200).await?;
        let groups: Vec<Choice> = found_groups
            .iter()
            .map(|g| Choice {
                value: g.id.clone(),
                label: g.name.clone(),
            })
            .collect();
        let label_of = |list: &[Choice], value: &str| {
            list.iter()
                .find(|c| c.value == value)
                .map_or_else(|| value.to_owned(), |c| c.label.clone())
        };

        let policies = policies
            .iter()
            .map(|pol| PolicyView {
                id: pol.id.clone(),
                name: pol.name.clone(),
                description: pol.description.clone(),
                priority: pol.priority,
                active: pol.status == AppStatus::Active,
                assigned: if pol.clients.iter().any(|c| c == ALL_CLIENTS) {
                    "All clients".into()
                } else {
                    pol.clients
                        .iter()
                        .map(|c| label_of(&clients, c))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                rules: rules
                    .iter()
                    .filter(|r| r.policy_id == pol.id)
                    .map(|r| RuleRow {
                        id: r.id.clone(),
                        name: r.name.clone(),
                        priority: r.priority,
                        active: r.status == AppStatus::Active,
                        grants: r
                            .grant_types
                            .iter()
                            .map(|g| grant_label(g))
                            .collect::<Vec<_>>()
                            .join(", "),
                        scopes: if r.scopes.iter().any(|s| s == ANY_SCOPE) {
                            "Any scopes".into()
                        } else {
                            r.scopes.join(", ")
                        },
                        people: if r.groups_include.iter().any(|g| g == EVERYONE_GROUP) {
                            "Any user assigned the app".into()
                        } else {
                            r.users_include
                                .iter()
                                .map(|u| label_of(&people, u))
                                .chain(r.groups_include.iter().map(|g| label_of(&groups, g)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                        access_lifetime: r.access_token_lifetime_minutes,
                        refresh: format!(
                            "{}, expires if not used for {} minutes",
                            if r.refresh_token_lifetime_minutes == 0 {
                                "Unlimited".to_owned()
                            } else {
                                format!("{} minutes", r.refresh_token_lifetime_minutes)
                            },
                            r.refresh_token_window_minutes
                        ),
                    })
                    .collect(),
            })
            .collect();

        Ok(Self {
            chrome: Chrome::admin(state, admin, "api"),
            tab: "servers",
            section,
            metadata_url: format!("{}/.well-known/openid-configuration", issuer(origin, id)),
            s: ServerRow::of(origin, &server),
            notice: None,
            errors: FieldErrors::default(),
            keys,
            f: ServerFields::of(&server),
            scope_names: scopes.iter().map(|s| s.name.clone()).collect(),
            scopes: scopes
                .iter()
                .map(|s| ScopeRow {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    display_name: s.display_name.clone().unwrap_or_default(),
                    description: s.description.clone().unwrap_or_default(),
                    consent: s.consent == ScopeConsent::Required,
                    default: s.default,
                    published: s.metadata_publish == MetadataPublish::AllClients,
                    system: s.system,
                })
                .collect(),
            scope_form: None,
            claims: claims.iter().map(ClaimRow::of).collect(),
            claim_form: None,
            policies,
            policy_form: None,
            rule_form: None,
            rule_policy: String::new(),
            clients,
            people,
            groups,
            grant_types: rule_grant_types()
                .map(|g| Choice {
                    value: g.to_owned(),
                    label: grant_label(g).to_owned(),
                })
                .collect(),
            preview_grant_types: PREVIEW_GRANT_TYPES
                .iter()
                .map(|g| Choice {
                    value: (*g).to_owned(),
                    label: grant_label(g).to_owned(),
                })
                .collect(),
            preview_form: PreviewFields {
                grant: "authorization_code".into(),
                scopes: vec!["openid".into()],
                ..PreviewFields::default()
            },
            preview: None,
        })
    }

    pub(super) fn with_rule_form(mut self, f: RuleFields) -> Self {
        self.rule_policy = self
            .policies
            .iter()
            .find(|p| p.id == f.policy_id)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        self.rule_form = Some(f);
        self
    }

    pub(super) fn respond(&self, status: StatusCode) -> Response {
        render(status, Template::render(self))
    }
}

pub(super) async fn tab(
    state: &AppState,
    admin: &Admin,
    origin: &str,
    id: &str,
    section: &'static str,
    q: TabQuery,
) -> Result<Response, ConsoleError> {
    let p = &state.provider;
    let mut page = ServerPage::load(state, admin, origin, id, section).await?;
    page.notice = notice(&q.notice);
    match section {
        "scopes" if q.edit == "new" => page.scope_form = Some(ScopeFields::new()),
        "scopes" if !q.edit.is_empty() => {
            let s: OAuthScope = config::find(p, id, &q.edit).await.map_err(page_error)?;
            page.scope_form = Some(ScopeFields::of(&s));
        }
        "claims" if q.edit == "new" => page.claim_form = Some(ClaimFields::new()),
        "claims" if !q.edit.is_empty() => {
            let c: OAuthClaim = config::find(p, id, &q.edit).await.map_err(page_error)?;
            page.claim_form = Some(ClaimFields::of(&c));
        }
        "policies" if q.edit == "new" => page.policy_form = Some(PolicyFields::new()),
        "policies" if !q.edit.is_empty() => {
            let pol: AccessPolicy = config::find(p, id, &q.edit).await.map_err(page_error)?;
            page.policy_form = Some(PolicyFields::of(&pol));
        }
        "policies" if !q.policy.is_empty() => {
            let form = if q.rule.is_empty() || q.rule == "new" {
                config::find::<AccessPolicy>(p, id, &q.policy)
                    .await
                    .map_err(page_error)?;
                RuleFields::new(&q.policy)
            } else {
                RuleFields::of(
                    &config::find_rule(p, id, &q.policy, &q.rule)
                        .await
                        .map_err(page_error)?,
                )
            };
            page = page.with_rule_form(form);
        }
        _ => {}
    }
    Ok(page.respond(StatusCode::OK))
}

macro_rules! tab_handler {
    ($name:ident, $section:literal) => {
        pub(super) async fn $name(
            State(state): State<AppState>,
            admin: Admin,
            Origin(origin): Origin,
            Path(id): Path<String>,
            Query(q): Query<TabQuery>,
        ) -> Result<Response, ConsoleError> {
            tab(&state, &admin, &origin, &id, $section, q).await
        }
    };
}

tab_handler!(settings_tab, "settings");
tab_handler!(scopes_tab, "scopes");
tab_handler!(claims_tab, "claims");
tab_handler!(policies_tab, "policies");
tab_handler!(preview_tab, "preview");

/// Deletes a scope, claim or policy; a refusal (a system scope) is shown on its tab.
pub(super) async fn delete_item<T: gatehouse_core::domain::ConfigItem>(
    state: &AppState,
    admin: &Admin,
    origin: &str,
    id: &str,
    item: &str,
    section: &'static str,
    body: &[u8],
) -> Result<Response, ConsoleError> {
    admin.0.form(body)?;
    match config::delete::<T>(&state.provider, id, item).await {
        Ok(()) => Ok(back_to(id, section, "deleted")),
        Err(AuthServerError::Forbidden(message)) => {
            let mut page = ServerPage::load(state, admin, origin, id, section).await?;
            page.errors.add(section, message);
            Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(page_error(e)),
    }
}
