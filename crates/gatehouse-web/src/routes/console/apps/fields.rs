//! The General settings form (new app and edit): what it shows, what it reads, and how it
//! becomes the spec `services::apps` stores.

use gatehouse_core::domain::*;
use gatehouse_core::oauth2::grants::{DEVICE_CODE, GrantType};
use gatehouse_core::services::apps::OidcAppSpec;

use crate::routes::console::{FieldErrors, Form};

/// The General settings as the form shows them.
pub(crate) struct AppFields {
    pub label: String,
    pub kind: ApplicationType,
    pub logo_uri: String,
    pub grant_code: bool,
    pub grant_refresh: bool,
    pub grant_implicit: bool,
    /// RFC 8628; offered on native and web apps only.
    pub grant_device: bool,
    pub implicit_id_token: bool,
    pub implicit_access_token: bool,
    pub rotation: String,
    pub leeway: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub backchannel_logout_uri: String,
    pub backchannel_logout_session_required: bool,
    pub initiate_login_uri: String,
    pub login_mode: String,
    /// User consent: "Require consent" (Okta's `consent_method: REQUIRED`), and the links the
    /// consent page shows.
    pub consent_required: bool,
    pub tos_uri: String,
    pub policy_uri: String,
    /// Controlled access (new apps only): `everyone`, `groups` or `skip`.
    pub access: String,
    pub access_groups: Vec<String>,
}

impl AppFields {
    pub fn has_group(&self, id: &str) -> bool {
        self.access_groups.iter().any(|g| g == id)
    }

    /// Okta's new-app defaults for the type.
    pub(super) fn defaults(kind: ApplicationType) -> Self {
        let policy = RefreshTokenPolicy::default_for(kind);
        let (redirect, logout) = match kind {
            ApplicationType::Browser => (
                "http://localhost:8080/login/callback",
                "http://localhost:8080",
            ),
            ApplicationType::Service => ("", ""),
            _ => (
                "http://localhost:8080/authorization-code/callback",
                "http://localhost:8080",
            ),
        };
        Self {
            label: String::new(),
            kind,
            logo_uri: String::new(),
            grant_code: kind != ApplicationType::Service,
            grant_refresh: false,
            grant_implicit: false,
            grant_device: false,
            implicit_id_token: false,
            implicit_access_token: false,
            rotation: policy.rotation_type.to_string(),
            leeway: policy.leeway.to_string(),
            redirect_uris: redirect.into(),
            post_logout_redirect_uris: logout.into(),
            backchannel_logout_uri: String::new(),
            backchannel_logout_session_required: false,
            initiate_login_uri: String::new(),
            login_mode: "DISABLED".into(),
            consent_required: false,
            tos_uri: String::new(),
            policy_uri: String::new(),
            access: "everyone".into(),
            access_groups: vec![],
        }
    }

    /// The registry's label of a grant type the form offers.
    pub fn grant_label(&self, grant: &str) -> &'static str {
        GrantType::parse(grant).map_or("", GrantType::label)
    }

    pub(super) fn of_app(app: &App) -> Self {
        let s = &app.settings;
        let has = |g: &str| s.grant_types.iter().any(|x| x == g);
        let rt = |t: &str| s.response_types.iter().any(|x| x == t);
        let policy = s
            .refresh_token
            .unwrap_or_else(|| RefreshTokenPolicy::default_for(s.application_type));
        Self {
            label: app.label.clone(),
            kind: s.application_type,
            logo_uri: s.metadata.logo_uri.clone().unwrap_or_default(),
            grant_code: has("authorization_code"),
            grant_refresh: has("refresh_token"),
            grant_implicit: has("implicit"),
            grant_device: has(DEVICE_CODE),
            implicit_id_token: rt("id_token"),
            implicit_access_token: rt("token") && has("implicit"),
            rotation: policy.rotation_type.to_string(),
            leeway: policy.leeway.to_string(),
            redirect_uris: s.redirect_uris.join("\n"),
            post_logout_redirect_uris: s.post_logout_redirect_uris.join("\n"),
            backchannel_logout_uri: s.backchannel_logout_uri.clone().unwrap_or_default(),
            backchannel_logout_session_required: s.backchannel_logout_session_required,
            initiate_login_uri: s.initiate_login_uri.clone().unwrap_or_default(),
            login_mode: s.login_mode.clone(),
            consent_required: s.consent_method == ConsentMethod::Required,
            tos_uri: s.metadata.tos_uri.clone().unwrap_or_default(),
            policy_uri: s.metadata.policy_uri.clone().unwrap_or_default(),
            access: String::new(),
            access_groups: vec![],
        }
    }

    pub(super) fn of_form(form: &Form, kind: ApplicationType) -> Self {
        Self {
            label: form.get("label").to_owned(),
            kind,
            logo_uri: form.get("logo_uri").to_owned(),
            grant_code: form.checked("grant_authorization_code"),
            grant_refresh: form.checked("grant_refresh_token"),
            grant_implicit: form.checked("grant_implicit"),
            grant_device: form.checked("grant_device_code"),
            implicit_id_token: form.checked("implicit_id_token"),
            implicit_access_token: form.checked("implicit_access_token"),
            rotation: form.get("rotation").to_owned(),
            leeway: form.get("leeway").to_owned(),
            redirect_uris: form.lines("redirect_uris").join("\n"),
            post_logout_redirect_uris: form.lines("post_logout_redirect_uris").join("\n"),
            backchannel_logout_uri: form.get("backchannel_logout_uri").trim().to_owned(),
            backchannel_logout_session_required: form
                .checked("backchannel_logout_session_required"),
            initiate_login_uri: form.get("initiate_login_uri").to_owned(),
            login_mode: form.get("login_mode").to_owned(),
            consent_required: form.checked("consent_required"),
            tos_uri: form.get("tos_uri").trim().to_owned(),
            policy_uri: form.get("policy_uri").trim().to_owned(),
            access: form.get("access").to_owned(),
            access_groups: form.all("access_group"),
        }
    }

    /// Applies the fields to `spec` as `/api/v1/apps` would store them; problems the form can
    /// see before the service (a leeway that is no number, Implicit with neither box) first.
    pub(super) fn apply(&self, spec: &mut OidcAppSpec) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        spec.label = self.label.clone();
        spec.metadata.logo_uri = Some(self.logo_uri.clone()).filter(|s| !s.is_empty());
        if self.kind == ApplicationType::Service {
            // Nobody signs in to a service app: it is never asked about.
            spec.grant_types = vec!["client_credentials".into()];
            spec.response_types = vec![];
            return Ok(());
        }
        spec.consent_method = Some(
            if self.consent_required {
                ConsentMethod::Required
            } else {
                ConsentMethod::Trusted
            }
            .as_str()
            .to_owned(),
        );
        spec.metadata.tos_uri = Some(self.tos_uri.clone()).filter(|s| !s.is_empty());
        spec.metadata.policy_uri = Some(self.policy_uri.clone()).filter(|s| !s.is_empty());
        let mut grants = Vec::new();
        let mut response_types = Vec::new();
        if self.grant_code {
            grants.push("authorization_code".to_owned());
            response_types.push("code".to_owned());
        }
        if self.grant_refresh {
            grants.push("refresh_token".to_owned());
        }
        if self.grant_implicit {
            grants.push("implicit".to_owned());
            if self.implicit_id_token {
                response_types.push("id_token".to_owned());
            }
            if self.implicit_access_token {
                response_types.push("token".to_owned());
            }
            if !self.implicit_id_token && !self.implicit_access_token {
                errors.add(
                    "implicit",
                    "Allow the ID token, the access token or both with the implicit grant type.",
                );
            }
        }
        if self.grant_device {
            grants.push(DEVICE_CODE.to_owned());
        }
        // Grant types the form does not show (client_credentials given through the API) stay.
        grants.extend(
            spec.grant_types
                .iter()
                .filter(|g| !FORM_GRANTS.contains(&g.as_str()))
                .cloned(),
        );
        if grants.is_empty() {
            errors.add("grants", "Select at least one grant type.");
        }
        spec.grant_types = grants;
        spec.response_types = response_types;
        spec.redirect_uris = self.redirect_uris.lines().map(str::to_owned).collect();
        spec.post_logout_redirect_uris = self
            .post_logout_redirect_uris
            .lines()
            .map(str::to_owned)
            .collect();
        spec.initiate_login_uri = Some(self.initiate_login_uri.clone()).filter(|s| !s.is_empty());
        spec.backchannel_logout_uri =
            Some(self.backchannel_logout_uri.clone()).filter(|s| !s.is_empty());
        spec.backchannel_logout_session_required = self.backchannel_logout_session_required;
        spec.login_mode = Some(self.login_mode.clone()).filter(|s| !s.is_empty());
        if self.grant_refresh {
            spec.refresh_rotation = RotationType::parse(&self.rotation);
            match self.leeway.parse::<i64>() {
                Ok(n) => spec.refresh_leeway = Some(n),
                Err(_) => errors.add("leeway", "Enter a whole number of seconds from 0 to 60."),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Service field names → the form's.
pub(super) const GENERAL_FIELDS: &[(&str, &str)] = &[
    ("label", "label"),
    ("grant_types", "grants"),
    ("response_types", "implicit"),
    ("redirect_uris", "redirect_uris"),
    ("post_logout_redirect_uris", "post_logout_redirect_uris"),
    ("backchannel_logout_uri", "backchannel_logout_uri"),
    ("initiate_login_uri", "initiate_login_uri"),
    ("mode", "login_mode"),
    ("leeway", "leeway"),
    ("logo_uri", "logo_uri"),
    ("consent_method", "consent_required"),
    ("tos_uri", "tos_uri"),
    ("policy_uri", "policy_uri"),
];

/// The grant types the General tab has a box for.
const FORM_GRANTS: [&str; 4] = [
    "authorization_code",
    "refresh_token",
    "implicit",
    DEVICE_CODE,
];

/// An existing app's settings as a spec that `apps::replace` stores unchanged.
pub(super) fn spec_of(app: &App) -> OidcAppSpec {
    let s = &app.settings;
    let mut spec = OidcAppSpec::new(app.label.clone(), s.application_type);
    spec.token_endpoint_auth_method = Some(s.token_endpoint_auth_method);
    spec.pkce_required = Some(s.pkce_required);
    spec.redirect_uris = s.redirect_uris.clone();
    spec.post_logout_redirect_uris = s.post_logout_redirect_uris.clone();
    spec.grant_types = s.grant_types.clone();
    spec.response_types = s.response_types.clone();
    spec.initiate_login_uri = s.initiate_login_uri.clone();
    spec.login_mode = Some(s.login_mode.clone());
    spec.issuer_mode = Some(s.issuer_mode);
    spec.metadata = s.metadata.clone();
    spec.jwks = s.jwks.as_ref().and_then(|k| serde_json::to_value(k).ok());
    spec.jwks_uri = s.jwks_uri.clone();
    spec.request_uris = s.request_uris.clone();
    spec.request_object_signing_alg = s.request_object_signing_alg.clone();
    spec.sector_identifier_uri = s.sector_identifier_uri.clone();
    spec.backchannel_logout_uri = s.backchannel_logout_uri.clone();
    spec.backchannel_logout_session_required = s.backchannel_logout_session_required;
    spec.consent_method = Some(s.consent_method.as_str().to_owned());
    if let Some(p) = &s.refresh_token {
        spec.refresh_rotation = Some(p.rotation_type);
        spec.refresh_leeway = Some(p.leeway);
    }
    spec.active = app.status == AppStatus::Active;
    spec
}
