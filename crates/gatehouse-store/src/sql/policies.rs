//! Storage of sign-on policies, their rules and the apps' access policies
//! ([`SignOnPolicyStore`]), one macro for both backends. Group conditions and rule actions are
//! JSON text.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;
use serde::de::DeserializeOwned;

use super::{SqlStore, require_row};
use crate::error::{corrupt, db_err};
use crate::rows::to_json;

const POLICY_COLS: &str = "p.id, p.policy_type, p.name, p.description, p.priority, p.status, \
                           p.system, p.groups_include, p.created, p.last_updated";
const RULE_COLS: &str = "r.id, r.policy_id, r.name, r.priority, r.status, r.system, \
                         r.groups_include, r.groups_exclude, r.actions, r.created, r.last_updated";
/// Evaluation order of policies and rules: by priority, the system one last, ties by id.
const POLICY_ORDER: &str = " ORDER BY p.system, p.priority, p.id";
const RULE_ORDER: &str = " ORDER BY r.system, r.priority, r.id";
/// The policies a sign-in reads: every ACTIVE `OKTA_SIGN_ON` policy and the ACTIVE access
/// policy of the app whose `client_id` is `$1` (NULL: none).
const EVALUATED: &str = " p.status = 'ACTIVE' AND (p.policy_type = 'OKTA_SIGN_ON' OR p.id IN \
                         (SELECT ap.policy_id FROM app_access_policies ap JOIN apps a \
                         ON a.id = ap.app_id WHERE a.client_id = $1))";

#[derive(sqlx::FromRow)]
struct PolicyRow {
    id: String,
    policy_type: String,
    name: String,
    description: String,
    priority: i64,
    status: String,
    system: i64,
    groups_include: String,
    created: i64,
    last_updated: i64,
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: String,
    policy_id: String,
    name: String,
    priority: i64,
    status: String,
    system: i64,
    groups_include: String,
    groups_exclude: String,
    actions: String,
    created: i64,
    last_updated: i64,
}

fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

fn parse<T>(what: &str, text: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(text).ok_or_else(|| corrupt(what, format_args!("{text:?}")))
}

impl TryFrom<PolicyRow> for SignOnPolicy {
    type Error = StoreError;
    fn try_from(r: PolicyRow) -> StoreResult<Self> {
        Ok(Self {
            policy_type: parse("policy type", &r.policy_type, PolicyType::parse)?,
            status: parse("policy status", &r.status, AppStatus::parse)?,
            groups: GroupCondition {
                include: from_json("policy groups", &r.groups_include)?,
                exclude: Vec::new(),
            },
            id: r.id,
            name: r.name,
            description: r.description,
            priority: r.priority,
            system: r.system != 0,
            created: r.created,
            last_updated: r.last_updated,
        })
    }
}

impl TryFrom<RuleRow> for SignOnRule {
    type Error = StoreError;
    fn try_from(r: RuleRow) -> StoreResult<Self> {
        Ok(Self {
            status: parse("policy rule status", &r.status, AppStatus::parse)?,
            groups: GroupCondition {
                include: from_json("policy rule groups", &r.groups_include)?,
                exclude: from_json("policy rule groups", &r.groups_exclude)?,
            },
            actions: from_json("policy rule actions", &r.actions)?,
            id: r.id,
            policy_id: r.policy_id,
            name: r.name,
            priority: r.priority,
            system: r.system != 0,
            created: r.created,
            last_updated: r.last_updated,
        })
    }
}

fn convert<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> StoreResult<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}

/// Puts each rule under its policy, keeping both orders.
fn group_rules(policies: Vec<SignOnPolicy>, rules: Vec<SignOnRule>) -> Vec<PolicyWithRules> {
    let mut out: Vec<PolicyWithRules> = policies
        .into_iter()
        .map(|policy| PolicyWithRules {
            policy,
            rules: Vec::new(),
        })
        .collect();
    for rule in rules {
        if let Some(p) = out.iter_mut().find(|p| p.policy.id == rule.policy_id) {
            p.rules.push(rule);
        }
    }
    out
}

macro_rules! impl_sign_on_policy_store {
    ($db:ty) => {
        #[async_trait]
        impl SignOnPolicyStore for SqlStore<$db> {
            async fn create_policy(&self, p: &SignOnPolicy) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sign_on_policies (id, policy_type, name, description, priority, \
                     status, system, groups_include, created, last_updated) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&p.id)
                .bind(p.policy_type.as_str())
                .bind(&p.name)
                .bind(&p.description)
                .bind(p.priority)
                .bind(p.status.as_str())
                .bind(i64::from(p.system))
                .bind(to_json(&p.groups.include)?)
                .bind(p.created)
                .bind(p.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_policy(&self, id: &str) -> StoreResult<Option<SignOnPolicy>> {
                let sql = format!("SELECT {POLICY_COLS} FROM sign_on_policies p WHERE p.id = $1");
                let row: Option<PolicyRow> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.map(SignOnPolicy::try_from).transpose()
            }

            async fn list_policies(
                &self,
                policy_type: Option<PolicyType>,
            ) -> StoreResult<Vec<SignOnPolicy>> {
                let sql = format!(
                    "SELECT {POLICY_COLS} FROM sign_on_policies p \
                     WHERE ($1 IS NULL OR p.policy_type = $1){POLICY_ORDER}"
                );
                let rows: Vec<PolicyRow> = sqlx::query_as(&sql)
                    .bind(policy_type.map(PolicyType::as_str))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                convert(rows)
            }

            async fn update_policy(&self, p: &SignOnPolicy) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE sign_on_policies SET name = $2, description = $3, priority = $4, \
                     status = $5, groups_include = $6, last_updated = $7 WHERE id = $1",
                )
                .bind(&p.id)
                .bind(&p.name)
                .bind(&p.description)
                .bind(p.priority)
                .bind(p.status.as_str())
                .bind(to_json(&p.groups.include)?)
                .bind(p.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn delete_policy(&self, id: &str) -> StoreResult<()> {
                let done = sqlx::query("DELETE FROM sign_on_policies WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn create_policy_rule(&self, r: &SignOnRule) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sign_on_policy_rules (id, policy_id, name, priority, status, \
                     system, groups_include, groups_exclude, actions, created, last_updated) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(&r.id)
                .bind(&r.policy_id)
                .bind(&r.name)
                .bind(r.priority)
                .bind(r.status.as_str())
                .bind(i64::from(r.system))
                .bind(to_json(&r.groups.include)?)
                .bind(to_json(&r.groups.exclude)?)
                .bind(to_json(&r.actions)?)
                .bind(r.created)
                .bind(r.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_policy_rule(
                &self,
                policy_id: &str,
                rule_id: &str,
            ) -> StoreResult<Option<SignOnRule>> {
                let sql = format!(
                    "SELECT {RULE_COLS} FROM sign_on_policy_rules r \
                     WHERE r.policy_id = $1 AND r.id = $2"
                );
                let row: Option<RuleRow> = sqlx::query_as(&sql)
                    .bind(policy_id)
                    .bind(rule_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.map(SignOnRule::try_from).transpose()
            }

            async fn list_policy_rules(&self, policy_id: &str) -> StoreResult<Vec<SignOnRule>> {
                let sql = format!(
                    "SELECT {RULE_COLS} FROM sign_on_policy_rules r \
                     WHERE r.policy_id = $1{RULE_ORDER}"
                );
                let rows: Vec<RuleRow> = sqlx::query_as(&sql)
                    .bind(policy_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                convert(rows)
            }

            async fn update_policy_rule(&self, r: &SignOnRule) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE sign_on_policy_rules SET name = $3, priority = $4, status = $5, \
                     groups_include = $6, groups_exclude = $7, actions = $8, last_updated = $9 \
                     WHERE policy_id = $1 AND id = $2",
                )
                .bind(&r.policy_id)
                .bind(&r.id)
                .bind(&r.name)
                .bind(r.priority)
                .bind(r.status.as_str())
                .bind(to_json(&r.groups.include)?)
                .bind(to_json(&r.groups.exclude)?)
                .bind(to_json(&r.actions)?)
                .bind(r.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn delete_policy_rule(&self, policy_id: &str, rule_id: &str) -> StoreResult<()> {
                let done =
                    sqlx::query("DELETE FROM sign_on_policy_rules WHERE policy_id = $1 AND id = $2")
                        .bind(policy_id)
                        .bind(rule_id)
                        .execute(&self.pool)
                        .await
                        .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn assign_app_access_policy(
                &self,
                app_id: &str,
                policy_id: &str,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO app_access_policies (app_id, policy_id) VALUES ($1, $2) \
                     ON CONFLICT (app_id) DO UPDATE SET policy_id = excluded.policy_id",
                )
                .bind(app_id)
                .bind(policy_id)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_app_access_policy(&self, app_id: &str) -> StoreResult<Option<String>> {
                sqlx::query_scalar("SELECT policy_id FROM app_access_policies WHERE app_id = $1")
                    .bind(app_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)
            }

            async fn list_access_policy_apps(&self, policy_id: &str) -> StoreResult<Vec<String>> {
                sqlx::query_scalar(
                    "SELECT app_id FROM app_access_policies WHERE policy_id = $1 ORDER BY app_id",
                )
                .bind(policy_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)
            }

            async fn sign_on_policies_for(
                &self,
                client_id: Option<&str>,
            ) -> StoreResult<Vec<PolicyWithRules>> {
                let sql = format!(
                    "SELECT {POLICY_COLS} FROM sign_on_policies p WHERE{EVALUATED}{POLICY_ORDER}"
                );
                let policies: Vec<PolicyRow> = sqlx::query_as(&sql)
                    .bind(client_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                let sql = format!(
                    "SELECT {RULE_COLS} FROM sign_on_policy_rules r \
                     JOIN sign_on_policies p ON p.id = r.policy_id \
                     WHERE r.status = 'ACTIVE' AND{EVALUATED}{RULE_ORDER}"
                );
                let rules: Vec<RuleRow> = sqlx::query_as(&sql)
                    .bind(client_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(group_rules(convert(policies)?, convert(rules)?))
            }
        }
    };
}

impl_sign_on_policy_store!(sqlx::Sqlite);
impl_sign_on_policy_store!(sqlx::Postgres);
