//! `gatehouse policy password …`: Okta's `PASSWORD` policies from the command line, through
//! the same core functions as `/api/v1/policies` and the console.

use clap::Subcommand;
use gatehouse_core::Provider;
use gatehouse_core::domain::{DEFAULT_PASSWORD_POLICY_ID, PasswordPolicy};
use gatehouse_core::services::passwords::{manage, rules};
use serde_json::{Value, json};

use crate::cli::Output;

#[derive(Debug, Subcommand)]
pub enum PasswordCommand {
    /// List password policies in evaluation order, with their settings.
    List {
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Create a password policy for groups (settings as the default's until `set`).
    Create {
        #[arg(long)]
        name: String,
        /// Group name or id (repeatable) [default: everyone].
        #[arg(long = "group")]
        groups: Vec<String>,
        #[arg(long)]
        priority: Option<i64>,
    },
    /// Change a policy's settings (the default policy unless --id); unset options keep theirs.
    Set {
        #[arg(long, default_value = DEFAULT_PASSWORD_POLICY_ID)]
        id: String,
        #[arg(long)]
        min_length: Option<u32>,
        #[arg(long)]
        min_lower_case: Option<u32>,
        #[arg(long)]
        min_upper_case: Option<u32>,
        #[arg(long)]
        min_number: Option<u32>,
        #[arg(long)]
        min_symbol: Option<u32>,
        #[arg(long)]
        exclude_username: Option<bool>,
        /// Refuse the ~10,000 most common passwords.
        #[arg(long)]
        exclude_common: Option<bool>,
        /// Profile attributes the password may not contain: firstName, lastName (repeatable).
        #[arg(long = "exclude-attribute")]
        exclude_attributes: Option<Vec<String>>,
        #[arg(long)]
        max_age_days: Option<u32>,
        #[arg(long)]
        min_age_minutes: Option<u32>,
        #[arg(long)]
        history_count: Option<u32>,
        #[arg(long)]
        max_attempts: Option<u32>,
        #[arg(long)]
        auto_unlock_minutes: Option<u32>,
    },
    /// Delete a password policy (not the default one).
    Delete { id: String },
}

fn row(p: &PasswordPolicy) -> Value {
    let s = &p.settings;
    json!({
        "id": p.id, "name": p.name, "priority": p.priority, "status": p.status.as_str(),
        "system": p.system, "groupsInclude": p.groups.include,
        "complexity": s.complexity, "age": s.age, "lockout": s.lockout,
    })
}

pub async fn run(provider: &Provider, cmd: &PasswordCommand) -> anyhow::Result<()> {
    match cmd {
        PasswordCommand::List { output } => {
            let policies = manage::list(provider).await?;
            match output {
                Output::Json => {
                    println!("{}", Value::Array(policies.iter().map(row).collect()));
                }
                Output::Text => {
                    for p in &policies {
                        let s = &p.settings;
                        let groups = if p.groups.include.is_empty() {
                            "everyone".to_owned()
                        } else {
                            p.groups.include.join(",")
                        };
                        println!(
                            "{}\t{}\tpriority {}\t{groups}\t{}",
                            p.id, p.name, p.priority, p.status
                        );
                        println!("  {}", rules::requirements(&s.complexity));
                        println!(
                            "  history {}, max age {} days, min age {} min, lockout after {} (auto-unlock {} min)",
                            s.age.history_count,
                            s.age.max_age_days,
                            s.age.min_age_minutes,
                            s.lockout.max_attempts,
                            s.lockout.auto_unlock_minutes
                        );
                    }
                }
            }
            Ok(())
        }
        PasswordCommand::Create {
            name,
            groups,
            priority,
        } => {
            let mut ids = Vec::new();
            for g in groups {
                ids.push(super::policy::group_id(provider, g).await?);
            }
            let p = manage::create(
                provider,
                manage::PasswordPolicySpec {
                    name: name.clone(),
                    priority: *priority,
                    groups_include: ids,
                    ..Default::default()
                },
            )
            .await?;
            println!("{}", p.id);
            Ok(())
        }
        PasswordCommand::Set {
            id,
            min_length,
            min_lower_case,
            min_upper_case,
            min_number,
            min_symbol,
            exclude_username,
            exclude_common,
            exclude_attributes,
            max_age_days,
            min_age_minutes,
            history_count,
            max_attempts,
            auto_unlock_minutes,
        } => {
            let p = manage::find(provider, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no password policy {id}"))?;
            let mut s = p.settings.clone();
            let c = &mut s.complexity;
            let set = |slot: &mut u32, v: &Option<u32>| {
                if let Some(v) = v {
                    *slot = *v;
                }
            };
            set(&mut c.min_length, min_length);
            set(&mut c.min_lower_case, min_lower_case);
            set(&mut c.min_upper_case, min_upper_case);
            set(&mut c.min_number, min_number);
            set(&mut c.min_symbol, min_symbol);
            c.exclude_username = exclude_username.unwrap_or(c.exclude_username);
            c.exclude_common = exclude_common.unwrap_or(c.exclude_common);
            if let Some(a) = exclude_attributes {
                c.exclude_attributes = a.clone();
            }
            set(&mut s.age.max_age_days, max_age_days);
            set(&mut s.age.min_age_minutes, min_age_minutes);
            set(&mut s.age.history_count, history_count);
            set(&mut s.lockout.max_attempts, max_attempts);
            set(&mut s.lockout.auto_unlock_minutes, auto_unlock_minutes);
            let spec = manage::PasswordPolicySpec {
                name: p.name.clone(),
                description: p.description.clone(),
                priority: Some(p.priority),
                status: Some(p.status),
                groups_include: p.groups.include.clone(),
                settings: s,
            };
            let p = manage::replace(provider, p, spec).await?;
            println!("{}", row(&p));
            Ok(())
        }
        PasswordCommand::Delete { id } => {
            let p = manage::find(provider, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no password policy {id}"))?;
            manage::delete(provider, &p).await?;
            eprintln!("Deleted password policy {id}.");
            Ok(())
        }
    }
}
