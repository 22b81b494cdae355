//! Security › Sign-on policies: the `OKTA_SIGN_ON` and `ACCESS_POLICY` policies, their rules
//! (add, edit, delete after a confirmation page), activation, and the apps an access policy
//! applies to. Every change goes through `services::sign_on_policy::manage`, as
//! `/api/v1/policies` and `gatehouse policy` do; every form carries the CSRF token.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use gatehouse_core::domain::*;
use gatehouse_core::services::directory::DirectoryError;
use gatehouse_core::services::groups;
use gatehouse_core::services::sign_on_policy::manage::{self, PolicySpec};

use super::policy_rule_form::{RuleForm, summary};
use super::{Admin, Chrome, ConsoleError, FieldErrors, Form, ListQuery, render, see_other};
use crate::AppState;
use askama::Template;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/policies", get(list).post(create))
        .route("/admin/policy/{id}", get(show).post(update))
        .route("/admin/policy/{id}/status", post(set_status))
        .route("/admin/policy/{id}/delete", post(delete))
        .route("/admin/policy/{id}/rules", post(add_rule))
        .route("/admin/policy/{id}/apps", post(assign_app))
        .route(
            "/admin/policy/{id}/rule/{rid}",
            get(rule_page).post(update_rule),
        )
        .route("/admin/policy/{id}/rule/{rid}/delete", post(delete_rule))
}

/// A group to choose in a select, and whether it is chosen.
struct GroupChoice {
    id: String,
    name: String,
    selected: bool,
}

async fn group_choices(
    state: &AppState,
    chosen: &[String],
) -> Result<Vec<GroupChoice>, ConsoleError> {
    let (all, _) = groups::list_groups(&state.provider, None, None, 1000).await?;
    Ok(all
        .into_iter()
        .map(|g| GroupChoice {
            selected: chosen.contains(&g.id),
            id: g.id,
            name: g.name,
        })
        .collect())
}

/// A service refusal shown next to the rule or policy form.
fn form_errors(e: DirectoryError) -> Result<FieldErrors, ConsoleError> {
    let fields = [
        ("name", "name"),
        ("priority", "priority"),
        ("conditions.people.groups.include", "include"),
        ("conditions.people.groups.exclude", "exclude"),
    ];
    FieldErrors::from_service(e, &fields, "form")
}

struct PolicyRow {
    href: String,
    name: String,
    kind: &'static str,
    priority: i64,
    active: bool,
    system: bool,
    rules: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/policies_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<PolicyRow>,
    groups: Vec<GroupChoice>,
    name: String,
    description: String,
    access_policy: bool,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

async fn list_page(
    state: &AppState,
    admin: &Admin,
    form: Option<(&Form, FieldErrors)>,
    notice: Option<&'static str>,
) -> Result<Response, ConsoleError> {
    let p = &state.provider;
    let mut rows = Vec::new();
    for policy in manage::list_policies(p, None).await? {
        let rules = manage::list_rules(p, &policy).await?;
        rows.push(PolicyRow {
            href: format!("/admin/policy/{}", policy.id),
            kind: policy.policy_type.as_str(),
            priority: policy.priority,
            active: policy.status == AppStatus::Active,
            system: policy.system,
            rules: rules.iter().map(summary).collect(),
            name: policy.name,
        });
    }
    let (status, name, description, access_policy, chosen, errors) = match form {
        Some((f, errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            f.get("name").to_owned(),
            f.get("description").to_owned(),
            f.get("type") == "ACCESS_POLICY",
            f.all("include"),
            errors,
        ),
        None => (
            StatusCode::OK,
            String::new(),
            String::new(),
            false,
            vec![],
            FieldErrors::default(),
        ),
    };
    let page = ListPage {
        chrome: Chrome::admin(state, admin, "policies"),
        rows,
        groups: group_choices(state, &chosen).await?,
        name,
        description,
        access_policy,
        errors,
        notice,
    };
    Ok(render(status, page.render()))
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let notice = (q.notice == "deleted").then_some("The policy was deleted.");
    list_page(&state, &admin, None, notice).await
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let spec = PolicySpec {
        policy_type: PolicyType::parse(form.get("type")).unwrap_or(PolicyType::OktaSignOn),
        name: form.get("name").to_owned(),
        description: form.get("description").to_owned(),
        priority: None,
        status: None,
        groups_include: form.all("include"),
    };
    match manage::create_policy(&state.provider, spec).await {
        Ok(p) => Ok(see_other(&format!("/admin/policy/{}?notice=created", p.id))),
        Err(e) => list_page(&state, &admin, Some((&form, form_errors(e)?)), None).await,
    }
}

struct RuleRow {
    href: String,
    id: String,
    summary: String,
    system: bool,
    priority: i64,
}

struct AppChoice {
    id: String,
    label: String,
    assigned: bool,
}

#[derive(Template)]
#[template(path = "console/policy_show.html")]
struct PolicyPage {
    chrome: Chrome,
    policy: SignOnPolicy,
    sign_on: bool,
    active: bool,
    rules: Vec<RuleRow>,
    groups: Vec<GroupChoice>,
    rule_groups_in: Vec<GroupChoice>,
    rule_groups_out: Vec<GroupChoice>,
    apps: Vec<AppChoice>,
    f: RuleForm,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

async fn policy_page(
    state: &AppState,
    admin: &Admin,
    policy: SignOnPolicy,
    f: RuleForm,
    errors: FieldErrors,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let p = &state.provider;
    let rules = manage::list_rules(p, &policy)
        .await?
        .iter()
        .map(|r| RuleRow {
            href: format!("/admin/policy/{}/rule/{}", policy.id, r.id),
            id: r.id.clone(),
            summary: summary(r),
            system: r.system,
            priority: r.priority,
        })
        .collect();
    let apps = match policy.policy_type {
        PolicyType::AccessPolicy => {
            let using = manage::policy_apps(p, &policy).await?;
            let page = gatehouse_core::store::Page {
                after: None,
                limit: 1000,
            };
            p.store
                .list_apps(page)
                .await
                .map_err(DirectoryError::from)?
                .into_iter()
                .map(|a| AppChoice {
                    assigned: using.contains(&a.id),
                    id: a.id,
                    label: a.label,
                })
                .collect()
        }
        PolicyType::OktaSignOn => vec![],
    };
    let page = PolicyPage {
        chrome: Chrome::admin(state, admin, "policies"),
        sign_on: policy.policy_type == PolicyType::OktaSignOn,
        active: policy.status == AppStatus::Active,
        rules,
        groups: group_choices(state, &policy.groups.include).await?,
        rule_groups_in: group_choices(state, &f.include).await?,
        rule_groups_out: group_choices(state, &f.exclude).await?,
        apps,
        policy,
        f,
        errors,
        notice,
    };
    Ok(render(status, page.render()))
}

async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let policy = manage::find_policy(&state.provider, &id).await?;
    let notice = match q.notice.as_str() {
        "created" => Some("The policy was added."),
        "saved" => Some("The policy was saved."),
        "rule" => Some("The rule was saved."),
        "rule-deleted" => Some("The rule was deleted."),
        "apps" => Some("The app now uses this policy."),
        _ => None,
    };
    policy_page(
        &state,
        &admin,
        policy,
        RuleForm::empty(),
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let policy = manage::find_policy(&state.provider, &id).await?;
    let priority = form.get("priority").parse::<i64>().ok();
    let spec = PolicySpec {
        policy_type: policy.policy_type,
        name: form.get("policy_name").to_owned(),
        description: form.get("description").to_owned(),
        priority,
        status: None,
        groups_include: form.all("policy_include"),
    };
    match manage::replace_policy(&state.provider, policy.clone(), spec).await {
        Ok(_) => Ok(see_other(&format!("/admin/policy/{id}?notice=saved"))),
        Err(e) => {
            let errors = FieldErrors::from_service(
                e,
                &[("name", "policy_name"), ("priority", "priority")],
                "policy_form",
            )?;
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            policy_page(
                &state,
                &admin,
                policy,
                RuleForm::empty(),
                errors,
                None,
                status,
            )
            .await
        }
    }
}

async fn set_status(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let policy = manage::find_policy(&state.provider, &id).await?;
    let status = if form.get("status") == "INACTIVE" {
        AppStatus::Inactive
    } else {
        AppStatus::Active
    };
    manage::set_policy_status(&state.provider, policy, status).await?;
    Ok(see_other(&format!("/admin/policy/{id}?notice=saved")))
}

#[derive(Template)]
#[template(path = "console/policy_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    what: String,
    action: String,
    back: String,
}

/// The first POST shows a confirmation page; its form posts again with `confirm=yes`.
fn confirm(
    admin: &Admin,
    state: &AppState,
    what: String,
    action: String,
    back: String,
) -> Response {
    let page = ConfirmPage {
        chrome: Chrome::admin(state, admin, "policies"),
        what,
        action,
        back,
    };
    render(StatusCode::OK, page.render())
}

async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let policy = manage::find_policy(&state.provider, &id).await?;
    if form.get("confirm") != "yes" {
        return Ok(confirm(
            &admin,
            &state,
            format!("the policy “{}” and its rules", policy.name),
            format!("/admin/policy/{id}/delete"),
            format!("/admin/policy/{id}"),
        ));
    }
    manage::delete_policy(&state.provider, &policy).await?;
    Ok(see_other("/admin/policies?notice=deleted"))
}

async fn add_rule(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let policy = manage::find_policy(&state.provider, &id).await?;
    let f = RuleForm::read(&form);
    let outcome = match f.spec(policy.policy_type) {
        Ok(spec) => match manage::create_rule(&state.provider, &policy, spec).await {
            Ok(_) => return Ok(see_other(&format!("/admin/policy/{id}?notice=rule"))),
            Err(e) => form_errors(e)?,
        },
        Err(errors) => errors,
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    policy_page(&state, &admin, policy, f, outcome, None, status).await
}

async fn assign_app(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let policy = manage::find_policy(&state.provider, &id).await?;
    manage::assign_app(&state.provider, form.get("app_id"), &policy).await?;
    Ok(see_other(&format!("/admin/policy/{id}?notice=apps")))
}

#[derive(Template)]
#[template(path = "console/policy_rule.html")]
struct RulePage {
    chrome: Chrome,
    policy: SignOnPolicy,
    rule: SignOnRule,
    sign_on: bool,
    rule_groups_in: Vec<GroupChoice>,
    rule_groups_out: Vec<GroupChoice>,
    f: RuleForm,
    errors: FieldErrors,
}

async fn rule_view(
    state: &AppState,
    admin: &Admin,
    policy: SignOnPolicy,
    rule: SignOnRule,
    f: RuleForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let page = RulePage {
        chrome: Chrome::admin(state, admin, "policies"),
        sign_on: policy.policy_type == PolicyType::OktaSignOn,
        rule_groups_in: group_choices(state, &f.include).await?,
        rule_groups_out: group_choices(state, &f.exclude).await?,
        policy,
        rule,
        f,
        errors,
    };
    Ok(render(status, page.render()))
}

async fn rule_page(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, rid)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let policy = manage::find_policy(&state.provider, &id).await?;
    let rule = manage::find_rule(&state.provider, &policy, &rid).await?;
    let f = RuleForm::of(&rule);
    rule_view(
        &state,
        &admin,
        policy,
        rule,
        f,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn update_rule(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, rid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let policy = manage::find_policy(&state.provider, &id).await?;
    let rule = manage::find_rule(&state.provider, &policy, &rid).await?;
    let f = RuleForm::read(&form);
    let errors = match f.spec(policy.policy_type) {
        Ok(mut spec) => {
            spec.status = AppStatus::parse(form.get("status"));
            match manage::replace_rule(&state.provider, &policy, rule.clone(), spec).await {
                Ok(_) => return Ok(see_other(&format!("/admin/policy/{id}?notice=rule"))),
                Err(e) => form_errors(e)?,
            }
        }
        Err(errors) => errors,
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    rule_view(&state, &admin, policy, rule, f, errors, status).await
}

async fn delete_rule(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, rid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let policy = manage::find_policy(&state.provider, &id).await?;
    let rule = manage::find_rule(&state.provider, &policy, &rid).await?;
    if form.get("confirm") != "yes" {
        return Ok(confirm(
            &admin,
            &state,
            format!("the rule “{}” of “{}”", rule.name, policy.name),
            format!("/admin/policy/{id}/rule/{rid}/delete"),
            format!("/admin/policy/{id}"),
        ));
    }
    manage::delete_rule(&state.provider, &rule).await?;
    Ok(see_other(&format!(
        "/admin/policy/{id}?notice=rule-deleted"
    )))
}
