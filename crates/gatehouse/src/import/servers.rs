//! Custom authorization servers with the same ids (so issuers stay `/oauth2/<id>`), their
//! scopes, claims, access policies and rules (matched by name), and trusted origins (matched
//! by origin). System scopes and claims are the target's own and are left alone.

use gatehouse_core::domain::{
    AccessPolicy, AppStatus, ClaimType, ClaimValueType, EVERYONE_GROUP, GroupFilterType,
    IssuerMode, MetadataPublish, OAuthClaim, OAuthScope, PolicyRule, ScopeConsent,
    TrustedOriginScope,
};
use gatehouse_core::services::auth_server_config::{
    self as config, ClaimSpec, PolicySpec, RuleSpec, ScopeSpec,
};
use gatehouse_core::services::auth_servers::{self, AuthServerSpec};
use gatehouse_core::services::import_users::valid_id;
use gatehouse_core::services::trusted_origins::{self, TrustedOriginSpec};

use super::directory::map_group;
use super::report::Change;
use super::{Import, model, need};

const SERVERS: &str = "authorization servers";
const SCOPES: &str = "scopes";
const CLAIMS: &str = "claims";
const POLICIES: &str = "policies";
const RULES: &str = "policy rules";
const ORIGINS: &str = "trusted origins";

fn status(raw: &str) -> AppStatus {
    if raw == "INACTIVE" {
        AppStatus::Inactive
    } else {
        AppStatus::Active
    }
}

fn wire<T>(
    field: &str,
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
    default: T,
) -> anyhow::Result<T> {
    match raw {
        None => Ok(default),
        Some(r) => parse(r).ok_or_else(|| anyhow::anyhow!("{field} {r} is not supported here")),
    }
}

pub(super) async fn authorization_servers(run: &mut Import<'_>) -> anyhow::Result<()> {
    let all = need(
        "authorization servers",
        run.source.list("/api/v1/authorizationServers").await,
    )?;
    run.read("authorization servers", all.len());
    for raw in all {
        run.seen.read(SERVERS, &raw);
        let s: model::AuthServer = match model::parse("authorization server", raw) {
            Ok(s) => s,
            Err(e) => {
                run.report.not_carried(SERVERS, "?", e);
                continue;
            }
        };
        if !valid_id(&s.id) {
            run.report
                .not_carried(SERVERS, &s.name, "its id is not an Okta id");
            continue;
        }
        match server(run, &s).await {
            Ok(true) => {
                run.seen.carried(SERVERS, &s.id, &s.id);
                items(run, &s.id).await?
            }
            Ok(false) => {}
            Err(e) => run.report.not_carried(SERVERS, &s.name, format!("{e:#}")),
        }
    }
    Ok(())
}

/// Creates or updates the server; false when it does not exist here (a dry run).
async fn server(run: &mut Import<'_>, s: &model::AuthServer) -> anyhow::Result<bool> {
    let spec = AuthServerSpec {
        name: s.name.clone(),
        description: s.description.clone().unwrap_or_default(),
        audiences: s.audiences.clone(),
        issuer_mode: wire(
            "issuerMode",
            s.issuer_mode.as_deref(),
            IssuerMode::parse,
            IssuerMode::Dynamic,
        )?,
        authorization_response_iss: None,
    };
    let existing = run.provider.store.find_auth_server(&s.id).await?;
    let wanted = status(&s.status);
    let Some(found) = existing else {
        run.report.count(SERVERS, Change::Created);
        if run.dry_run {
            return Ok(false);
        }
        auth_servers::create_with_id(run.provider, s.id.clone(), spec).await?;
        if wanted == AppStatus::Inactive {
            auth_servers::set_status(run.provider, &s.id, wanted).await?;
        }
        return Ok(true);
    };
    let same = found.name == spec.name
        && found.description == spec.description
        && found.audiences == spec.audiences
        && found.issuer_mode == spec.issuer_mode
        && found.status == wanted;
    run.report.count(
        SERVERS,
        if same {
            Change::Unchanged
        } else {
            Change::Updated
        },
    );
    if !same && !run.dry_run {
        auth_servers::replace(run.provider, &s.id, spec).await?;
        auth_servers::set_status(run.provider, &s.id, wanted).await?;
    }
    Ok(true)
}

async fn items(run: &mut Import<'_>, id: &str) -> anyhow::Result<()> {
    let base = format!("/api/v1/authorizationServers/{id}");
    let scopes = need("scopes", run.source.list(&format!("{base}/scopes")).await)?;
    let current: Vec<OAuthScope> = config::list(run.provider, id).await?;
    for raw in scopes {
        let s: model::Scope = match model::parse("scope", raw) {
            Ok(s) => s,
            Err(e) => {
                run.report.not_carried(SCOPES, id, e);
                continue;
            }
        };
        if s.system {
            continue;
        }
        let label = format!("{id}/{}", s.name);
        let result = async {
            let spec = ScopeSpec {
                name: s.name.clone(),
                display_name: s.display_name.clone(),
                description: s.description.clone(),
                consent: wire(
                    "consent",
                    s.consent.as_deref(),
                    ScopeConsent::parse,
                    ScopeConsent::Implicit,
                )?,
                default: s.default,
                metadata_publish: wire(
                    "metadataPublish",
                    s.metadata_publish.as_deref(),
                    MetadataPublish::parse,
                    MetadataPublish::NoClients,
                )?,
                optional: s.optional,
            };
            let change = match current.iter().find(|c| c.name == s.name) {
                Some(c)
                    if c.display_name == spec.display_name
                        && c.description == spec.description
                        && c.consent == spec.consent
                        && c.default == spec.default
                        && c.metadata_publish == spec.metadata_publish
                        && c.optional == spec.optional =>
                {
                    Change::Unchanged
                }
                Some(c) => {
                    if !run.dry_run {
                        config::replace_scope(run.provider, id, &c.id, spec).await?;
                    }
                    Change::Updated
                }
                None => {
                    if !run.dry_run {
                        config::create_scope(run.provider, id, spec).await?;
                    }
                    Change::Created
                }
            };
            anyhow::Ok(change)
        }
        .await;
        match result {
            Ok(change) => run.report.count(SCOPES, change),
            Err(e) => run.report.not_carried(SCOPES, &label, format!("{e:#}")),
        }
    }
    claims(run, id, &base).await?;
    policies(run, id, &base).await
}

async fn claims(run: &mut Import<'_>, id: &str, base: &str) -> anyhow::Result<()> {
    let claims = need("claims", run.source.list(&format!("{base}/claims")).await)?;
    let current: Vec<OAuthClaim> = config::list(run.provider, id).await?;
    for raw in claims {
        let c: model::Claim = match model::parse("claim", raw) {
            Ok(c) => c,
            Err(e) => {
                run.report.not_carried(CLAIMS, id, e);
                continue;
            }
        };
        if c.system {
            continue;
        }
        let label = format!("{id}/{}", c.name);
        let result = async {
            let claim_type = wire(
                "claimType",
                Some(&c.claim_type),
                ClaimType::parse,
                ClaimType::Identity,
            )?;
            let group_filter_type = match c.group_filter_type.as_deref() {
                None => None,
                Some(raw) => Some(wire(
                    "group_filter_type",
                    Some(raw),
                    GroupFilterType::parse,
                    GroupFilterType::Regex,
                )?),
            };
            let spec = ClaimSpec {
                name: c.name.clone(),
                status: status(&c.status),
                claim_type,
                value_type: wire(
                    "valueType",
                    Some(&c.value_type),
                    ClaimValueType::parse,
                    ClaimValueType::Expression,
                )?,
                value: c.value.clone(),
                group_filter_type,
                always_include_in_token: c.always_include_in_token,
                scopes: c.conditions.scopes.clone(),
            };
            let change = match current
                .iter()
                .find(|x| x.name == c.name && x.claim_type == claim_type)
            {
                Some(x)
                    if x.status == spec.status
                        && x.value_type == spec.value_type
                        && x.value == spec.value
                        && x.group_filter_type == spec.group_filter_type
                        && x.always_include_in_token == spec.always_include_in_token
                        && x.scopes == spec.scopes =>
                {
                    Change::Unchanged
                }
                Some(x) => {
                    if !run.dry_run {
                        config::replace_claim(run.provider, id, &x.id, spec).await?;
                    }
                    Change::Updated
                }
                None => {
                    if !run.dry_run {
                        config::create_claim(run.provider, id, spec).await?;
                    }
                    Change::Created
                }
            };
            anyhow::Ok(change)
        }
        .await;
        match result {
            Ok(change) => run.report.count(CLAIMS, change),
            Err(e) => run.report.not_carried(CLAIMS, &label, format!("{e:#}")),
        }
    }
    Ok(())
}

async fn policies(run: &mut Import<'_>, id: &str, base: &str) -> anyhow::Result<()> {
    let policies = need(
        "policies",
        run.source.list(&format!("{base}/policies")).await,
    )?;
    let current: Vec<AccessPolicy> = config::list(run.provider, id).await?;
    for raw in policies {
        let p: model::Policy = match model::parse("policy", raw) {
            Ok(p) => p,
            Err(e) => {
                run.report.not_carried(POLICIES, id, e);
                continue;
            }
        };
        let label = format!("{id}/{}", p.name);
        let spec = PolicySpec {
            name: p.name.clone(),
            description: p.description.clone().unwrap_or_else(|| p.name.clone()),
            priority: p.priority,
            status: status(&p.status),
            clients: p.conditions.clients.include.clone(),
        };
        let result = match current.iter().find(|x| x.name == p.name) {
            Some(x)
                if x.description == spec.description
                    && spec.priority.is_none_or(|pr| pr == x.priority)
                    && x.status == spec.status
                    && x.clients == spec.clients =>
            {
                Ok((Change::Unchanged, Some(x.id.clone())))
            }
            Some(x) if run.dry_run => Ok((Change::Updated, Some(x.id.clone()))),
            Some(x) => config::replace_policy(run.provider, id, &x.id, spec)
                .await
                .map(|u| (Change::Updated, Some(u.id))),
            None if run.dry_run => Ok((Change::Created, None)),
            None => config::create_policy(run.provider, id, spec)
                .await
                .map(|c| (Change::Created, Some(c.id))),
        };
        match result {
            Ok((change, target)) => {
                run.report.count(POLICIES, change);
                if let Some(target) = target {
                    rules(run, id, base, &p.id, &target).await?;
                }
            }
            Err(e) => run.report.not_carried(POLICIES, &label, e),
        }
    }
    Ok(())
}

fn rule_spec(run: &mut Import<'_>, label: &str, r: &model::Rule) -> Option<RuleSpec> {
    let supported: Vec<&str> = config::rule_grant_types().collect();
    let (grant_types, dropped): (Vec<String>, Vec<String>) = r
        .conditions
        .grant_types
        .include
        .iter()
        .cloned()
        .partition(|g| supported.contains(&g.as_str()));
    if !dropped.is_empty() {
        run.note(format_args!(
            "rule {label}: grant types not carried: {}",
            dropped.join(", ")
        ));
    }
    let (mut groups_include, mut groups_exclude) = (Vec::new(), Vec::new());
    let (users_include, users_exclude) = match &r.conditions.people {
        None => {
            groups_include.push(EVERYONE_GROUP.to_owned());
            (vec![], vec![])
        }
        Some(people) => {
            for (source, into) in [
                (&people.groups.include, &mut groups_include),
                (&people.groups.exclude, &mut groups_exclude),
            ] {
                for g in source {
                    match map_group(run, g) {
                        Some(mapped) => into.push(mapped),
                        None => {
                            let why = format!("it names group {g}, which was not imported");
                            run.report.not_carried(RULES, label, why);
                            return None;
                        }
                    }
                }
            }
            (people.users.include.clone(), people.users.exclude.clone())
        }
    };
    let t = &r.actions.token;
    Some(RuleSpec {
        name: r.name.clone(),
        priority: r.priority,
        status: status(&r.status),
        grant_types,
        scopes: match &r.conditions.scopes {
            None => vec!["*".into()],
            Some(s) => s.include.clone(),
        },
        users_include,
        users_exclude,
        groups_include,
        groups_exclude,
        access_token_lifetime_minutes: t
            .access_token_lifetime_minutes
            .unwrap_or(PolicyRule::DEFAULT_ACCESS_TOKEN_LIFETIME),
        refresh_token_lifetime_minutes: t
            .refresh_token_lifetime_minutes
            .unwrap_or(PolicyRule::DEFAULT_REFRESH_TOKEN_LIFETIME),
        refresh_token_window_minutes: t
            .refresh_token_window_minutes
            .unwrap_or(PolicyRule::DEFAULT_REFRESH_TOKEN_WINDOW),
    })
}

async fn rules(
    run: &mut Import<'_>,
    id: &str,
    base: &str,
    source_policy: &str,
    target_policy: &str,
) -> anyhow::Result<()> {
    let path = format!("{base}/policies/{source_policy}/rules");
    let rules = need("policy rules", run.source.list(&path).await)?;
    let current = config::list_rules(run.provider, id, target_policy).await?;
    for raw in rules {
        let r: model::Rule = match model::parse("rule", raw) {
            Ok(r) => r,
            Err(e) => {
                run.report.not_carried(RULES, id, e);
                continue;
            }
        };
        let label = format!("{id}/{}", r.name);
        let Some(spec) = rule_spec(run, &label, &r) else {
            continue;
        };
        let result = match current.iter().find(|x| x.name == r.name) {
            Some(x)
                if spec.priority.is_none_or(|p| p == x.priority)
                    && x.status == spec.status
                    && x.grant_types == spec.grant_types
                    && x.scopes == spec.scopes
                    && x.users_include == spec.users_include
                    && x.users_exclude == spec.users_exclude
                    && x.groups_include == spec.groups_include
                    && x.groups_exclude == spec.groups_exclude
                    && x.access_token_lifetime_minutes == spec.access_token_lifetime_minutes
                    && x.refresh_token_lifetime_minutes == spec.refresh_token_lifetime_minutes
                    && x.refresh_token_window_minutes == spec.refresh_token_window_minutes =>
            {
                Ok(Change::Unchanged)
            }
            Some(_) if run.dry_run => Ok(Change::Updated),
            Some(x) => config::replace_rule(run.provider, id, target_policy, &x.id, spec)
                .await
                .map(|_| Change::Updated),
            None if run.dry_run => Ok(Change::Created),
            None => config::create_rule(run.provider, id, target_policy, spec)
                .await
                .map(|_| Change::Created),
        };
        match result {
            Ok(change) => run.report.count(RULES, change),
            Err(e) => run.report.not_carried(RULES, &label, e),
        }
    }
    Ok(())
}

pub(super) async fn trusted_origins(run: &mut Import<'_>) -> anyhow::Result<()> {
    let all = need(
        "trusted origins",
        run.source.list("/api/v1/trustedOrigins").await,
    )?;
    run.read("trusted origins", all.len());
    let (current, _) = trusted_origins::list(run.provider, None, 10_000).await?;
    for raw in all {
        run.seen.read(ORIGINS, &raw);
        let o: model::TrustedOrigin = match model::parse("trusted origin", raw) {
            Ok(o) => o,
            Err(e) => {
                run.report.not_carried(ORIGINS, "?", e);
                continue;
            }
        };
        let mut scopes = Vec::new();
        for s in &o.scopes {
            match TrustedOriginScope::parse(&s.scope_type) {
                Some(scope) => scopes.push(scope),
                None => run.note(format_args!(
                    "trusted origin {}: scope {} not carried",
                    o.origin, s.scope_type
                )),
            }
        }
        let spec = TrustedOriginSpec {
            name: o.name.clone(),
            origin: o.origin.clone(),
            scopes,
        };
        let wanted = status(&o.status);
        let normalized = trusted_origins::normalize_origin(&o.origin);
        let found = current
            .iter()
            .find(|c| {
                normalized.is_some() && trusted_origins::normalize_origin(&c.origin) == normalized
            })
            .cloned();
        let result = match found {
            Some(c) if c.name == spec.name && c.scopes == spec.scopes && c.status == wanted => {
                Ok((Change::Unchanged, Some(c.id)))
            }
            Some(c) if run.dry_run => Ok((Change::Updated, Some(c.id))),
            Some(c) => match trusted_origins::replace(run.provider, c, spec, None).await {
                Ok(r) => trusted_origins::set_status(run.provider, r, wanted, None)
                    .await
                    .map(|r| (Change::Updated, Some(r.id))),
                Err(e) => Err(e),
            },
            None if run.dry_run => Ok((Change::Created, None)),
            None => match trusted_origins::create(run.provider, spec, None).await {
                Ok(r) => trusted_origins::set_status(run.provider, r, wanted, None)
                    .await
                    .map(|r| (Change::Created, Some(r.id))),
                Err(e) => Err(e),
            },
        };
        match result {
            Ok((change, target)) => {
                run.report.count(ORIGINS, change);
                if let Some(target) = target {
                    run.seen.carried(ORIGINS, &o.id, &target);
                }
            }
            Err(e) => run.report.not_carried(ORIGINS, &o.origin, e),
        }
    }
    Ok(())
}
