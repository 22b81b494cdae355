//! The sign-on policy store on both backends (migration 0017): the default policy after
//! migration, policies and rules round trip in evaluation order, name conflicts, app
//! assignment, what a sign-in reads (`sign_on_policies_for`), and deletions cascading.

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{Store, StoreError};
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};

fn group(id: &str) -> Group {
    Group {
        id: id.into(),
        name: format!("group {id}"),
        description: String::new(),
        group_type: GroupType::OktaGroup,
        created: 1_000,
        last_updated: 1_000,
    }
}

fn app(id: &str, client_id: &str) -> App {
    App {
        id: id.into(),
        name: "oidc_client".into(),
        label: format!("App {id}"),
        status: AppStatus::Active,
        client_id: client_id.into(),
        settings: OAuthClientSettings {
            application_type: ApplicationType::Web,
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            redirect_uris: vec!["https://app.example/cb".into()],
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into()],
            response_types: vec!["code".into()],
            initiate_login_uri: None,
            metadata: ClientMetadata::default(),
            login_mode: "DISABLED".into(),
            pkce_required: false,
            issuer_mode: IssuerMode::Dynamic,
            jwks: None,
            jwks_uri: None,
            refresh_token: None,
            groups_claim: None,
            consent_method: Default::default(),
            request_uris: vec![],
            request_object_signing_alg: None,
            sector_identifier_uri: None,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
        },
        created: 1_000,
        last_updated: 1_000,
    }
}

fn policy(id: &str, kind: PolicyType, priority: i64, include: &[&str]) -> SignOnPolicy {
    SignOnPolicy {
        id: id.into(),
        policy_type: kind,
        name: format!("policy {id}"),
        description: "d".into(),
        priority,
        status: AppStatus::Active,
        system: false,
        groups: GroupCondition {
            include: include.iter().map(|s| (*s).to_owned()).collect(),
            exclude: vec![],
        },
        created: 1_000,
        last_updated: 1_000,
    }
}

fn rule(id: &str, policy_id: &str, priority: i64, actions: RuleActions) -> SignOnRule {
    SignOnRule {
        id: id.into(),
        policy_id: policy_id.into(),
        name: format!("rule {id}"),
        priority,
        status: AppStatus::Active,
        system: false,
        groups: GroupCondition {
            include: vec!["g1".into()],
            exclude: vec!["g2".into()],
        },
        actions,
        created: 1_000,
        last_updated: 1_000,
    }
}

fn mfa(prompt: FactorPrompt) -> RuleActions {
    RuleActions::SignOn(SignOnActions {
        factor: Some(prompt),
        remember_device_by_default: true,
        max_session_lifetime_minutes: 480,
        ..SignOnActions::default()
    })
}

fn two_factor(reauth: &str) -> RuleActions {
    RuleActions::AppSignOn(AppSignOnActions {
        access: RuleAccess::Allow,
        factor_mode: FactorMode::TwoFactor,
        reauthenticate_in: IsoDuration::parse(reauth),
    })
}

async fn default_policy_exists(store: &dyn Store) -> Result<()> {
    let all = store.list_policies(None).await?;
    ensure!(all.len() == 1, "{all:?}");
    let p = &all[0];
    ensure!(
        p.id == DEFAULT_SIGN_ON_POLICY_ID
            && p.system
            && p.policy_type == PolicyType::OktaSignOn
            && p.status == AppStatus::Active
            && p.groups.include.is_empty()
            && p.created > 1_600_000_000,
        "{p:?}"
    );
    let rules = store.list_policy_rules(DEFAULT_SIGN_ON_POLICY_ID).await?;
    ensure!(rules.len() == 1, "{rules:?}");
    ensure!(
        rules[0].id == DEFAULT_SIGN_ON_RULE_ID
            && rules[0].system
            && rules[0].actions == RuleActions::SignOn(SignOnActions::default()),
        "the default rule is the password alone: {:?}",
        rules[0]
    );
    Ok(())
}

async fn policies_round_trip(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    let s: &dyn Store = store.as_ref();
    default_policy_exists(s).await?;
    s.create_group(&group("g1")).await?;
    s.create_group(&group("g2")).await?;

    // Evaluation order: priority, then id; the system policy last whatever its priority.
    let b = policy("00pB", PolicyType::OktaSignOn, 2, &["g1"]);
    let a = policy("00pA", PolicyType::OktaSignOn, 2, &[]);
    let c = policy("00pC", PolicyType::OktaSignOn, 1, &[]);
    let access = policy("00pX", PolicyType::AccessPolicy, 1, &[]);
    for p in [&b, &a, &c, &access] {
        s.create_policy(p).await?;
    }
    let ids = |v: Vec<SignOnPolicy>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();
    ensure!(
        ids(s.list_policies(Some(PolicyType::OktaSignOn)).await?)
            == ["00pC", "00pA", "00pB", DEFAULT_SIGN_ON_POLICY_ID],
    );
    ensure!(ids(s.list_policies(Some(PolicyType::AccessPolicy)).await?) == ["00pX"]);
    ensure!(s.find_policy("00pB").await? == Some(b.clone()));
    ensure!(s.find_policy("nope").await?.is_none());

    // Names are unique within a type only.
    let mut dup = policy("00pD", PolicyType::OktaSignOn, 3, &[]);
    dup.name = b.name.clone();
    match s.create_policy(&dup).await {
        Err(StoreError::Conflict { constraint }) => ensure!(constraint == "name", "{constraint}"),
        other => anyhow::bail!("expected a name conflict, got {other:?}"),
    }
    dup.policy_type = PolicyType::AccessPolicy;
    s.create_policy(&dup).await?;

    let mut changed = b.clone();
    changed.name = "renamed".into();
    changed.status = AppStatus::Inactive;
    changed.priority = 7;
    changed.groups.include = vec!["g1".into(), "g2".into()];
    changed.last_updated = 2_000;
    s.update_policy(&changed).await?;
    ensure!(s.find_policy("00pB").await? == Some(changed.clone()));
    ensure!(matches!(
        s.update_policy(&policy("nope", PolicyType::OktaSignOn, 1, &[]))
            .await,
        Err(StoreError::NotFound)
    ));

    // Rules: every action field survives, order by priority then id.
    let r1 = rule(
        "0pr1",
        "00pA",
        2,
        mfa(FactorPrompt::Device {
            lifetime_minutes: 1_440,
        }),
    );
    let r2 = rule(
        "0pr2",
        "00pA",
        1,
        mfa(FactorPrompt::Session {
            lifetime_minutes: Some(15),
        }),
    );
    let r3 = rule("0pr3", "00pX", 1, two_factor("PT2H"));
    for r in [&r1, &r2, &r3] {
        s.create_policy_rule(r).await?;
    }
    let rules = s.list_policy_rules("00pA").await?;
    ensure!(rules == vec![r2.clone(), r1.clone()], "{rules:?}");
    ensure!(s.find_policy_rule("00pX", "0pr3").await? == Some(r3.clone()));
    ensure!(
        s.find_policy_rule("00pA", "0pr3").await?.is_none(),
        "a rule is found under its own policy only"
    );
    ensure!(matches!(
        s.create_policy_rule(&rule("0pr9", "missing", 1, two_factor("PT1H")))
            .await,
        Err(StoreError::NotFound)
    ));
    let mut same_name = rule("0pr4", "00pA", 3, mfa(FactorPrompt::Always));
    same_name.name = r1.name.clone();
    ensure!(matches!(
        s.create_policy_rule(&same_name).await,
        Err(StoreError::Conflict { .. })
    ));
    let mut r1b = r1.clone();
    r1b.actions = RuleActions::SignOn(SignOnActions {
        access: RuleAccess::Deny,
        ..SignOnActions::default()
    });
    r1b.status = AppStatus::Inactive;
    r1b.groups = GroupCondition::default();
    r1b.last_updated = 3_000;
    s.update_policy_rule(&r1b).await?;
    ensure!(s.find_policy_rule("00pA", "0pr1").await? == Some(r1b.clone()));

    // App assignment: one access policy per app, replaced by a second PUT.
    s.create_app(&app("0oa1", "client-1")).await?;
    s.assign_app_access_policy("0oa1", "00pX").await?;
    ensure!(s.find_app_access_policy("0oa1").await?.as_deref() == Some("00pX"));
    s.assign_app_access_policy("0oa1", "00pD").await?;
    ensure!(s.find_app_access_policy("0oa1").await?.as_deref() == Some("00pD"));
    s.assign_app_access_policy("0oa1", "00pX").await?;
    ensure!(s.list_access_policy_apps("00pX").await? == ["0oa1"]);
    ensure!(matches!(
        s.assign_app_access_policy("0oa-missing", "00pX").await,
        Err(StoreError::NotFound)
    ));

    // What a sign-in reads: ACTIVE sign-on policies (B is inactive) with ACTIVE rules (r1b is
    // inactive), plus the app's access policy.
    let read = s.sign_on_policies_for(Some("client-1")).await?;
    let shape: Vec<(String, Vec<String>)> = read
        .iter()
        .map(|p| {
            (
                p.policy.id.clone(),
                p.rules.iter().map(|r| r.id.clone()).collect(),
            )
        })
        .collect();
    let expected: Vec<(String, Vec<String>)> = vec![
        ("00pC".into(), vec![]),
        ("00pX".into(), vec!["0pr3".into()]),
        ("00pA".into(), vec!["0pr2".into()]),
        (
            DEFAULT_SIGN_ON_POLICY_ID.into(),
            vec![DEFAULT_SIGN_ON_RULE_ID.into()],
        ),
    ];
    ensure!(shape == expected, "{shape:?}");
    let without_app = s.sign_on_policies_for(None).await?;
    ensure!(
        without_app
            .iter()
            .all(|p| p.policy.policy_type == PolicyType::OktaSignOn)
    );
    ensure!(without_app.len() == 3);
    let other_app = s.sign_on_policies_for(Some("client-unknown")).await?;
    ensure!(other_app.len() == 3);

    // Deleting: a rule, then a policy with its rules and assignments; an app with its assignment.
    s.delete_policy_rule("00pA", "0pr2").await?;
    ensure!(matches!(
        s.delete_policy_rule("00pA", "0pr2").await,
        Err(StoreError::NotFound)
    ));
    s.delete_policy("00pX").await?;
    ensure!(s.find_policy_rule("00pX", "0pr3").await?.is_none());
    ensure!(s.find_app_access_policy("0oa1").await?.is_none());
    s.assign_app_access_policy("0oa1", "00pD").await?;
    s.delete_app("0oa1").await?;
    ensure!(s.list_access_policy_apps("00pD").await?.is_empty());
    ensure!(matches!(
        s.delete_policy("00pX").await,
        Err(StoreError::NotFound)
    ));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_round_trip_sqlite() -> Result<()> {
    policies_round_trip(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_round_trip_postgres() -> Result<()> {
    policies_round_trip(Backend::Postgres).await
}
