//! "Create App Integration": the new app form and its submission.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::domain::*;
use gatehouse_core::services::apps::{self, OidcAppSpec};
use serde::Deserialize;

use super::fields::{AppFields, GENERAL_FIELDS};
use super::{Choice, all_groups, app_path, parse_type, type_label};
use crate::AppState;
use crate::routes::console::{Admin, Chrome, ConsoleError, FieldErrors, render, see_other};
use askama::Template;

#[derive(Template)]
#[template(path = "console/app_new.html")]
struct NewAppPage {
    chrome: Chrome,
    f: AppFields,
    type_value: &'static str,
    type_label: &'static str,
    groups: Vec<Choice>,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WizardQuery {
    #[serde(rename = "applicationType", default)]
    application_type: String,
}

fn group_choices(groups: &[Group]) -> Vec<Choice> {
    groups
        .iter()
        .map(|g| Choice {
            id: g.id.clone(),
            name: g.name.clone(),
        })
        .collect()
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<WizardQuery>,
) -> Result<Response, ConsoleError> {
    let kind = parse_type(&query.application_type).ok_or(ConsoleError::Problem(
        "Choose an application type: Web Application, Single-Page Application or API Services."
            .into(),
    ))?;
    let page = NewAppPage {
        chrome: Chrome::admin(&state, &admin, "apps"),
        f: AppFields::defaults(kind),
        type_value: wire_type(kind),
        type_label: type_label(kind),
        groups: group_choices(&all_groups(&state).await?),
        errors: FieldErrors::default(),
    };
    Ok(render(StatusCode::OK, page.render()))
}

fn wire_type(kind: ApplicationType) -> &'static str {
    kind.as_str()
}

pub(super) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let form = admin.0.form(&body)?;
    let kind = parse_type(form.get("applicationType"))
        .ok_or(ConsoleError::Problem("Choose an application type.".into()))?;
    let fields = AppFields::of_form(&form, kind);
    let mut spec = OidcAppSpec::new(fields.label.clone(), kind);
    let groups = all_groups(&state).await?;
    let again = |f: AppFields, errors: FieldErrors| {
        let page = NewAppPage {
            chrome: Chrome::admin(&state, &admin, "apps"),
            type_value: wire_type(kind),
            type_label: type_label(kind),
            f,
            groups: group_choices(&groups),
            errors,
        };
        render(StatusCode::UNPROCESSABLE_ENTITY, page.render())
    };
    if let Err(errors) = fields.apply(&mut spec) {
        return Ok(again(fields, errors));
    }
    let chosen: Vec<&Group> = match fields.access.as_str() {
        "everyone" => groups
            .iter()
            .filter(|g| g.group_type == GroupType::BuiltIn)
            .collect(),
        "groups" => {
            let picked: Vec<&Group> = groups
                .iter()
                .filter(|g| fields.access_groups.contains(&g.id))
                .collect();
            if picked.is_empty() {
                let mut errors = FieldErrors::default();
                errors.add("access", "Select the groups that may use this app.");
                return Ok(again(fields, errors));
            }
            picked
        }
        _ => vec![],
    };
    let created = match apps::create(&state.provider, &admin.0.actor(), spec).await {
        Ok(c) => c,
        Err(e) => {
            let errors = FieldErrors::from_service(e, GENERAL_FIELDS, "label")?;
            return Ok(again(fields, errors));
        }
    };
    for g in chosen {
        apps::assign_group(&state.provider, &admin.0.actor(), &created.app, g, None).await?;
    }
    Ok(see_other(&format!(
        "{}?notice=created",
        app_path(&created.app)
    )))
}
