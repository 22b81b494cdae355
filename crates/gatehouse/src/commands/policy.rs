//! `gatehouse policy`: sign-on policies (Okta's `OKTA_SIGN_ON` and `ACCESS_POLICY`) from the
//! command line, through the same core functions as `/api/v1/policies` and the console.

use anyhow::{Context as _, anyhow};
use clap::{Subcommand, ValueEnum};
use gatehouse_core::Provider;
use gatehouse_core::domain::{
    AppStatus, FactorPrompt, PolicyType, RuleActions, SignOnPolicy, SignOnRule,
};
use gatehouse_core::services::sign_on_policy::manage::{self, MfaScope, PolicySpec};
use serde_json::{Value, json};

use crate::cli::Output;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PolicyKind {
    OktaSignOn,
    AccessPolicy,
}

impl From<PolicyKind> for PolicyType {
    fn from(k: PolicyKind) -> Self {
        match k {
            PolicyKind::OktaSignOn => PolicyType::OktaSignOn,
            PolicyKind::AccessPolicy => PolicyType::AccessPolicy,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// List policies with their rules, in evaluation order.
    List {
        /// Only this type [default: both].
        #[arg(long = "type", value_enum)]
        kind: Option<PolicyKind>,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Create a policy (ACTIVE, without rules but an access policy's catch-all rule).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "type", value_enum, default_value = "OKTA_SIGN_ON")]
        kind: PolicyKind,
        #[arg(long, default_value = "")]
        description: String,
        /// Group name or id the policy applies to (repeatable) [default: everyone].
        #[arg(long = "group")]
        groups: Vec<String>,
        /// 1 is evaluated first [default: after the others].
        #[arg(long)]
        priority: Option<i64>,
    },
    /// Require a second factor: for everyone (a rule first in the default policy), for a
    /// group's members (a sign-on policy for the group), or for an app (an access policy with
    /// a 2FA rule, assigned to it).
    RequireMfa {
        /// Group name or id.
        #[arg(long, conflicts_with = "app")]
        group: Option<String>,
        /// App id or client id.
        #[arg(long)]
        app: Option<String>,
        /// Offer "remember this device" for this many minutes (factorPromptMode DEVICE)
        /// [default: ask at every sign-in].
        #[arg(long)]
        remember_device_minutes: Option<u32>,
    },
    /// Delete a policy (not the default one) with its rules.
    Delete { id: String },
    /// Password policies (Okta's `PASSWORD` type): complexity, age, history, lockout.
    Password {
        #[command(subcommand)]
        cmd: super::password_policy::PasswordCommand,
    },
}

pub async fn run(provider: &Provider, cmd: &PolicyCommand) -> anyhow::Result<()> {
    match cmd {
        PolicyCommand::List { kind, output } => list(provider, kind.map(Into::into), *output).await,
        PolicyCommand::Create {
            name,
            kind,
            description,
            groups,
            priority,
        } => {
            let mut group_ids = Vec::new();
            for g in groups {
                group_ids.push(group_id(provider, g).await?);
            }
            let policy = manage::create_policy(
                provider,
                PolicySpec {
                    policy_type: (*kind).into(),
                    name: name.clone(),
                    description: description.clone(),
                    priority: *priority,
                    status: None,
                    groups_include: group_ids,
                },
            )
            .await?;
            println!("{}", policy.id);
            Ok(())
        }
        PolicyCommand::RequireMfa {
            group,
            app,
            remember_device_minutes,
        } => {
            let scope = match (group, app) {
                (Some(g), _) => MfaScope::Group {
                    group_id: group_id(provider, g).await?,
                },
                (None, Some(a)) => MfaScope::App {
                    app_id: app_id(provider, a).await?,
                },
                (None, None) => MfaScope::Everyone,
            };
            let policy = manage::require_mfa(provider, scope, *remember_device_minutes).await?;
            println!("{}\t{}", policy.id, policy.name);
            Ok(())
        }
        PolicyCommand::Password { cmd } => super::password_policy::run(provider, cmd).await,
        PolicyCommand::Delete { id } => {
            let policy = manage::find_policy(provider, id).await?;
            manage::delete_policy(provider, &policy).await?;
            eprintln!("Deleted policy {id}.");
            Ok(())
        }
    }
}

pub(crate) async fn group_id(provider: &Provider, name_or_id: &str) -> anyhow::Result<String> {
    if let Some(g) = provider.store.find_group(name_or_id).await? {
        return Ok(g.id);
    }
    provider
        .store
        .find_group_by_name(name_or_id)
        .await?
        .map(|g| g.id)
        .ok_or_else(|| anyhow!("no group with the id or name {name_or_id:?}"))
}

async fn app_id(provider: &Provider, id_or_client_id: &str) -> anyhow::Result<String> {
    if let Some(a) = provider.store.find_app(id_or_client_id).await? {
        return Ok(a.id);
    }
    provider
        .store
        .find_app_by_client_id(id_or_client_id)
        .await?
        .map(|a| a.id)
        .ok_or_else(|| anyhow!("no app with the id or client id {id_or_client_id:?}"))
}

/// `ALLOW, MFA ALWAYS, session 0 min` and the like.
fn rule_summary(r: &SignOnRule) -> String {
    match &r.actions {
        RuleActions::SignOn(a) => {
            let factor = match a.factor {
                None => "password only".to_owned(),
                Some(FactorPrompt::Device { lifetime_minutes }) => {
                    format!("MFA, device remembered {lifetime_minutes} min")
                }
                Some(p) => format!("MFA {}", p.mode()),
            };
            let lifetime = match a.max_session_lifetime_minutes {
                0 => String::new(),
                m => format!(", session at most {m} min"),
            };
            format!("{} {factor}{lifetime}", a.access)
        }
        RuleActions::AppSignOn(a) => {
            let reauth = a
                .reauthenticate_in
                .map(|d| format!(", re-authenticate after {d}"))
                .unwrap_or_default();
            format!("{} {}{reauth}", a.access, a.factor_mode)
        }
    }
}

fn rule_row(r: &SignOnRule) -> Value {
    json!({
        "id": r.id, "name": r.name, "priority": r.priority, "status": r.status.as_str(),
        "system": r.system, "groupsInclude": r.groups.include, "groupsExclude": r.groups.exclude,
        "summary": rule_summary(r),
    })
}

async fn list(provider: &Provider, kind: Option<PolicyType>, output: Output) -> anyhow::Result<()> {
    let policies: Vec<SignOnPolicy> = manage::list_policies(provider, kind).await?;
    let mut rows = Vec::new();
    for p in &policies {
        let rules = manage::list_rules(provider, p)
            .await
            .with_context(|| format!("rules of {}", p.id))?;
        let apps = match p.policy_type {
            PolicyType::AccessPolicy => manage::policy_apps(provider, p).await?,
            PolicyType::OktaSignOn => Vec::new(),
        };
        rows.push((p, rules, apps));
    }
    match output {
        Output::Json => {
            let body: Vec<Value> = rows
                .iter()
                .map(|(p, rules, apps)| {
                    json!({
                        "id": p.id, "type": p.policy_type.as_str(), "name": p.name,
                        "priority": p.priority, "status": p.status.as_str(), "system": p.system,
                        "groupsInclude": p.groups.include, "apps": apps,
                        "rules": rules.iter().map(rule_row).collect::<Vec<_>>(),
                    })
                })
                .collect();
            println!("{}", Value::Array(body));
        }
        Output::Text => {
            for (p, rules, apps) in &rows {
                let inactive = if p.status == AppStatus::Inactive {
                    " (INACTIVE)"
                } else {
                    ""
                };
                let groups = if p.groups.include.is_empty() {
                    "everyone".to_owned()
                } else {
                    p.groups.include.join(",")
                };
                println!(
                    "{}\t{}\t{}\tpriority {}\t{groups}{inactive}",
                    p.id, p.policy_type, p.name, p.priority
                );
                if !apps.is_empty() {
                    println!("  apps: {}", apps.join(", "));
                }
                for r in rules {
                    println!("  {}\t{}\t{}", r.id, r.name, rule_summary(r));
                }
            }
            if rows.is_empty() {
                eprintln!("No policies.");
            }
        }
    }
    Ok(())
}
