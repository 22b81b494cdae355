//! The storage contract: every test runs once per backend (`sqlite::…` and `postgres::…`), each
//! on a fresh, migrated database.

use std::sync::Arc;

use anyhow::{Result, bail, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{Claim, IssuedTokens, Page, Store, StoreError, is_lost_claim};
use tokio::sync::Barrier;

mod common;

use common::{Ctx, access_token as access, run};

macro_rules! contract_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    super::run(gatehouse_store::test_support::Backend::Sqlite, super::$name).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    super::run(gatehouse_store::test_support::Backend::Postgres, super::$name).await
                }
            )+
        }
    };
}

contract_tests!(
    users_round_trip_and_find_by_login_ignores_case,
    user_login_conflicts_are_case_insensitive,
    update_user_changes_every_field,
    record_login_touches_only_active_users_last_login,
    update_missing_records_is_not_found,
    list_users_paginates_by_id,
    delete_user_removes_memberships_assignments_and_sessions,
    groups_round_trip_and_name_conflicts,
    list_groups_paginates_and_delete_group_cleans_up,
    group_membership_is_idempotent_and_paginated,
    membership_of_missing_user_or_group_is_not_found,
    list_user_groups_includes_built_in_groups_once,
    apps_round_trip_with_settings_and_client_id_conflicts,
    client_secrets_keep_their_rules,
    list_and_delete_apps,
    app_group_assignments_order_by_priority,
    app_group_assignments_carry_priorities,
    search_apps_by_prefix_id_name_and_status,
    app_user_assignments,
    is_user_assigned_directly_via_groups_and_via_everyone,
    auth_servers_round_trip,
    auth_server_signing_alg_round_trips_and_defaults_to_rs256,
    signing_keys_newest_first_and_status_updates,
    sessions_expire_and_are_deleted,
    login_transactions_expire_and_are_deleted,
    redeem_code_once_then_replayed,
    expired_codes_are_not_found_unless_already_used,
    concurrent_redeem_has_exactly_one_winner,
    grants_round_trip_and_revoke_cascades,
    revoking_an_unknown_grant_blocks_its_creation,
    refresh_tokens_rotate_once_and_revoke,
    concurrent_rotation_has_exactly_one_winner,
    access_tokens_record_find_revoke,
    access_token_and_user_in_one_read,
    code_and_user_in_one_read,
    grant_with_access_token_is_one_transaction,
    issued_tokens_are_recorded_together_or_not_at_all,
    concurrent_token_writes_all_commit_and_a_conflict_fails_alone,
    log_events_are_appended_in_order,
    token_key_conflicts,
    purge_expired_deletes_only_expired_rows,
    meta_get_and_set,
    concurrent_user_creation_with_same_login_has_one_winner,
    corrupt_stored_values_are_backend_errors,
    search_users_compares_and_combines,
    search_users_paginates_and_escapes_like_patterns,
    search_groups_by_name_prefix,
    rate_limit_hits_count_exactly_per_window,
    purge_removes_grants_left_without_codes_or_tokens,
    api_tokens_round_trip_revoke_and_touch,
    client_assertion_jtis_are_single_use_per_client,
    concurrent_jti_consumption_has_exactly_one_winner,
    expired_client_assertion_jtis_are_purged,
    app_grants_round_trip_conflict_and_delete,
    consent_grants_upsert_list_and_revoke,
    consent_grants_need_a_user_and_client_and_go_with_them,
    app_grants_need_an_app_and_go_with_it,
    trusted_origins_round_trip_with_origin_conflicts,
    trusted_origins_list_update_and_delete,
);

// ---------------------------------------------------------------------------------------------
// Fixtures

fn user(id: &str, login: &str) -> User {
    User {
        login: login.into(),
        email: login.into(),
        ..common::user(id)
    }
}

fn group(id: &str, name: &str, group_type: GroupType) -> Group {
    Group {
        id: id.into(),
        name: name.into(),
        description: format!("{name} group"),
        group_type,
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
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
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

fn auth_server(id: &str) -> AuthServer {
    AuthServer {
        id: id.into(),
        kind: AuthServerKind::Custom,
        name: format!("server {id}"),
        description: "desc".into(),
        audiences: vec!["api://default".into()],
        issuer_mode: IssuerMode::OrgUrl,
        status: AppStatus::Active,
        signing_alg: SigningAlg::Rs256,
        authorization_response_iss: false,
        created: 1_000,
        last_updated: 1_000,
    }
}

fn signing_key(kid: &str, server: &str, created: Timestamp) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        auth_server_id: server.into(),
        alg: "RS256".into(),
        status: KeyStatus::Next,
        private_key_sealed: format!("sealed-{kid}"),
        public_jwk: format!("{{\"kid\":\"{kid}\"}}"),
        created,
    }
}

fn session(id_hash: &str, user_id: &str, expires_at: Timestamp) -> Session {
    Session {
        id_hash: id_hash.into(),
        user_id: user_id.into(),
        auth_time: 1_000,
        amr: vec!["pwd".into()],
        created: 1_000,
        expires_at,
    }
}

fn login_tx(id: &str, expires_at: Timestamp) -> LoginTransaction {
    LoginTransaction {
        id: id.into(),
        csrf_hash: format!("csrf-{id}"),
        request_json: "{\"client_id\":\"c\"}".into(),
        created: 1_000,
        expires_at,
    }
}

fn code(hash: &str, grant_id: &str, expires_at: Timestamp) -> AuthCode {
    AuthCode {
        code_hash: hash.into(),
        grant_id: grant_id.into(),
        client_id: "client".into(),
        user_id: "u1".into(),
        auth_server_id: "default".into(),
        redirect_uri: "https://app.example/cb".into(),
        scopes: vec!["openid".into(), "profile".into()],
        nonce: Some("n-0S6".into()),
        code_challenge: Some("challenge".into()),
        auth_time: 1_000,
        amr: vec!["pwd".into()],
        acr: Some("urn:okta:loa:1fa:pwd".into()),
        session_id_hash: Some("sess".into()),
        created: 1_000,
        expires_at,
        used_at: None,
    }
}

fn grant(id: &str) -> Grant {
    Grant {
        id: id.into(),
        client_id: "client".into(),
        user_id: Some("u1".into()),
        auth_server_id: "default".into(),
        scopes: vec!["openid".into(), "offline_access".into()],
        auth_time: Some(1_000),
        amr: vec!["pwd".into(), "mfa".into()],
        acr: Some("urn:okta:loa:2fa:any".into()),
        created: 1_000,
        revoked_at: None,
    }
}

fn refresh(hash: &str, grant_id: &str, expires_at: Timestamp) -> RefreshToken {
    RefreshToken {
        token_hash: hash.into(),
        grant_id: grant_id.into(),
        client_id: "client".into(),
        scopes: vec!["openid".into(), "offline_access".into()],
        created: 1_000,
        expires_at,
        rotated_at: None,
        revoked_at: None,
    }
}

fn page(after: Option<&str>, limit: u32) -> Page<'_> {
    Page { after, limit }
}

const ALL: Page<'static> = Page {
    after: None,
    limit: 1_000,
};

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| id(i).to_owned()).collect()
}

fn user_ids(users: &[User]) -> Vec<String> {
    ids(users, |u| &u.id)
}

fn group_ids(groups: &[Group]) -> Vec<String> {
    ids(groups, |g| &g.id)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, field: &str) -> bool {
    matches!(result, Err(StoreError::Conflict { constraint }) if constraint == field)
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound))
}

// ---------------------------------------------------------------------------------------------
// Users

async fn users_round_trip_and_find_by_login_ignores_case(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let mut alice = user("u1", "Alice@Example.com");
    alice.display_name = Some("Alice A.".into());
    alice.password_hash = Some("$argon2id$v=19$...".into());
    alice.activated = Some(1_001);
    alice.status_changed = Some(1_002);
    alice.last_login = Some(1_003);
    alice.password_changed = Some(1_004);
    s.create_user(&alice).await?;
    s.create_user(&user("u2", "bob@example.com")).await?;

    assert_eq!(s.find_user("u1").await?, Some(alice.clone()));
    assert_eq!(s.find_user("nobody").await?, None);
    for login in [
        "Alice@Example.com",
        "alice@example.com",
        "ALICE@EXAMPLE.COM",
    ] {
        assert_eq!(
            s.find_user_by_login(login).await?,
            Some(alice.clone()),
            "{login}"
        );
    }
    assert_eq!(
        s.find_user_by_login("BOB@example.com").await?.map(|u| u.id),
        Some("u2".to_owned())
    );
    assert_eq!(s.find_user_by_login("carol@example.com").await?, None);
    // The login keeps its original spelling.
    assert_eq!(
        s.find_user("u1").await?.map(|u| u.login).as_deref(),
        Some("Alice@Example.com")
    );
    Ok(())
}

async fn user_login_conflicts_are_case_insensitive(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_user(&user("u1", "alice@example.com")).await?;
    ensure!(is_conflict(
        s.create_user(&user("u2", "ALICE@example.COM")).await,
        "login"
    ));
    ensure!(is_conflict(
        s.create_user(&user("u1", "other@example.com")).await,
        "id"
    ));
    assert_eq!(s.find_user("u2").await?, None);

    // Renaming onto a taken login conflicts too; renaming one's own case does not.
    s.create_user(&user("u3", "carol@example.com")).await?;
    let mut carol = user("u3", "Alice@Example.com");
    ensure!(is_conflict(s.update_user(&carol).await, "login"));
    carol.login = "CAROL@example.com".into();
    s.update_user(&carol).await?;
    assert_eq!(
        s.find_user_by_login("carol@EXAMPLE.com")
            .await?
            .map(|u| u.login)
            .as_deref(),
        Some("CAROL@example.com")
    );
    Ok(())
}

async fn update_user_changes_every_field(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_user(&user("u1", "alice@example.com")).await?;
    let updated = User {
        id: "u1".into(),
        status: UserStatus::Suspended,
        login: "alice2@example.com".into(),
        email: "a2@example.com".into(),
        first_name: "Alicia".into(),
        last_name: "Smith".into(),
        display_name: Some("Ali".into()),
        password_hash: Some("hash".into()),
        created: 1_000,
        last_updated: 2_000,
        activated: Some(1_500),
        status_changed: Some(2_000),
        last_login: Some(1_900),
        password_changed: Some(1_800),
    };
    s.update_user(&updated).await?;
    assert_eq!(s.find_user("u1").await?, Some(updated.clone()));
    assert_eq!(s.find_user_by_login("alice@example.com").await?, None);
    assert_eq!(
        s.find_user_by_login("ALICE2@example.com").await?,
        Some(updated.clone())
    );

    // And back to None for the optional fields.
    let cleared = User {
        display_name: None,
        password_hash: None,
        activated: None,
        last_login: None,
        ..updated
    };
    s.update_user(&cleared).await?;
    assert_eq!(s.find_user("u1").await?, Some(cleared));
    Ok(())
}

async fn record_login_touches_only_active_users_last_login(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_user(&user("u1", "alice@example.com")).await?;
    // The attempt counted before the password was checked is cleared with the sign-in.
    ensure!(s.record_signin_failure("u1", 4_900).await? == 1);
    let signed_in = s.record_login("u1", 5_000).await?;
    ensure!(s.record_signin_failure("u1", 5_100).await? == 1);
    assert_eq!(
        signed_in,
        Some(User {
            last_login: Some(5_000),
            ..user("u1", "alice@example.com")
        })
    );
    // Deactivated (or locked) while a sign-in was verifying the password: nothing is written,
    // and the status stays what the other writer set.
    let deactivated = User {
        status: UserStatus::Deprovisioned,
        status_changed: Some(5_500),
        ..signed_in.unwrap_or_else(|| user("u1", "alice@example.com"))
    };
    s.update_user(&deactivated).await?;
    assert_eq!(s.record_login("u1", 6_000).await?, None);
    assert_eq!(s.find_user("u1").await?, Some(deactivated));
    // Nothing recorded, nothing forgiven.
    ensure!(s.record_signin_failure("u1", 6_100).await? == 2);
    assert_eq!(s.record_login("nobody", 6_000).await?, None);
    Ok(())
}

async fn update_missing_records_is_not_found(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    ensure!(is_not_found(
        s.update_user(&user("ghost", "g@example.com")).await
    ));
    ensure!(is_not_found(
        s.update_group(&group("ghost", "Ghosts", GroupType::OktaGroup))
            .await
    ));
    ensure!(is_not_found(
        s.update_app(&app("ghost", "ghost-client")).await
    ));
    ensure!(is_not_found(
        s.update_auth_server(&auth_server("ghost")).await
    ));
    ensure!(is_not_found(
        s.set_signing_key_status("ghost", KeyStatus::Active).await
    ));
    // Nothing was created by the failed updates.
    assert_eq!(s.find_user("ghost").await?, None);
    assert_eq!(s.find_group("ghost").await?, None);
    assert_eq!(s.find_app("ghost").await?, None);
    assert_eq!(s.find_auth_server("ghost").await?, None);
    Ok(())
}

async fn list_users_paginates_by_id(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    // Inserted out of order; mixed case checks bytewise ordering on both backends.
    for id in ["u05", "u01", "U09", "u03", "u02", "u04"] {
        s.create_user(&user(id, &format!("{id}@example.com")))
            .await?;
    }
    let all = s.list_users(ALL).await?;
    assert_eq!(
        user_ids(&all),
        strings(&["U09", "u01", "u02", "u03", "u04", "u05"])
    );

    let first = s.list_users(page(None, 4)).await?;
    assert_eq!(user_ids(&first), strings(&["U09", "u01", "u02", "u03"]));
    let second = s.list_users(page(Some("u03"), 4)).await?;
    assert_eq!(user_ids(&second), strings(&["u04", "u05"]));
    assert!(s.list_users(page(Some("u05"), 4)).await?.is_empty());
    // The cursor need not be an existing id.
    assert_eq!(
        user_ids(&s.list_users(page(Some("u025"), 2)).await?),
        strings(&["u03", "u04"])
    );
    assert!(s.list_users(page(None, 0)).await?.is_empty());
    Ok(())
}

async fn delete_user_removes_memberships_assignments_and_sessions(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_user(&user("u1", "alice@example.com")).await?;
    s.create_user(&user("u2", "bob@example.com")).await?;
    s.create_group(&group("g1", "Staff", GroupType::OktaGroup))
        .await?;
    s.create_app(&app("a1", "client-1")).await?;
    for u in ["u1", "u2"] {
        s.add_group_member("g1", u).await?;
        s.assign_app_user("a1", u).await?;
        s.create_session(&session(&format!("sess-{u}"), u, 10_000))
            .await?;
    }

    s.delete_user("u1").await?;
    assert_eq!(s.find_user("u1").await?, None);
    assert_eq!(s.find_user_by_login("alice@example.com").await?, None);
    assert_eq!(
        user_ids(&s.list_group_members("g1", ALL).await?),
        strings(&["u2"])
    );
    assert_eq!(s.list_app_users("a1").await?, strings(&["u2"]));
    assert_eq!(s.find_session("sess-u1", 5_000).await?, None);
    assert!(s.find_session("sess-u2", 5_000).await?.is_some());
    assert!(!s.is_user_assigned("a1", "u1").await?);

    // The login is free again, and a re-created user inherits nothing.
    s.create_user(&user("u1", "alice@example.com")).await?;
    assert!(s.list_group_members("g1", ALL).await?.len() == 1);
    assert!(!s.is_user_assigned("a1", "u1").await?);

    // Deleting a user that does not exist is a no-op.
    s.delete_user("ghost").await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Groups

async fn groups_round_trip_and_name_conflicts(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let everyone = group("g0", EVERYONE, GroupType::BuiltIn);
    let staff = group("g1", "Staff", GroupType::OktaGroup);
    s.create_group(&everyone).await?;
    s.create_group(&staff).await?;

    assert_eq!(s.find_group("g0").await?, Some(everyone.clone()));
    assert_eq!(s.find_group_by_name("Staff").await?, Some(staff.clone()));
    assert_eq!(s.find_group_by_name("Nobody").await?, None);
    assert_eq!(s.find_group("nope").await?, None);

    ensure!(is_conflict(
        s.create_group(&group("g2", "Staff", GroupType::OktaGroup))
            .await,
        "name"
    ));
    ensure!(is_conflict(
        s.create_group(&group("g1", "Other", GroupType::OktaGroup))
            .await,
        "id"
    ));

    let renamed = Group {
        name: "Employees".into(),
        description: "Everyone on payroll".into(),
        last_updated: 2_000,
        ..staff.clone()
    };
    s.update_group(&renamed).await?;
    assert_eq!(s.find_group("g1").await?, Some(renamed.clone()));
    assert_eq!(s.find_group_by_name("Staff").await?, None);
    ensure!(is_conflict(
        s.update_group(&Group {
            name: EVERYONE.into(),
            ..renamed
        })
        .await,
        "name"
    ));
    Ok(())
}

async fn list_groups_paginates_and_delete_group_cleans_up(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    for id in ["g3", "g1", "g2"] {
        s.create_group(&group(id, &format!("name-{id}"), GroupType::OktaGroup))
            .await?;
    }
    assert_eq!(
        group_ids(&s.list_groups(ALL).await?),
        strings(&["g1", "g2", "g3"])
    );
    assert_eq!(
        group_ids(&s.list_groups(page(None, 2)).await?),
        strings(&["g1", "g2"])
    );
    assert_eq!(
        group_ids(&s.list_groups(page(Some("g2"), 2)).await?),
        strings(&["g3"])
    );

    s.create_user(&user("u1", "alice@example.com")).await?;
    s.create_app(&app("a1", "client-1")).await?;
    s.add_group_member("g2", "u1").await?;
    s.assign_app_group("a1", "g2", 1).await?;
    s.assign_app_group("a1", "g3", 2).await?;
    assert!(s.is_user_assigned("a1", "u1").await?);

    s.delete_group("g2").await?;
    assert_eq!(s.find_group("g2").await?, None);
    assert_eq!(
        group_ids(&s.list_groups(ALL).await?),
        strings(&["g1", "g3"])
    );
    assert_eq!(s.list_app_groups("a1").await?, strings(&["g3"]));
    assert!(s.list_user_groups("u1").await?.is_empty());
    assert!(!s.is_user_assigned("a1", "u1").await?);
    // The name can be reused.
    s.create_group(&group("g9", "name-g2", GroupType::OktaGroup))
        .await?;
    s.delete_group("ghost").await?;
    Ok(())
}

async fn group_membership_is_idempotent_and_paginated(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_group(&group("g1", "Staff", GroupType::OktaGroup))
        .await?;
    s.create_group(&group("g2", "Other", GroupType::OktaGroup))
        .await?;
    for id in ["u3", "u1", "u2", "u4"] {
        s.create_user(&user(id, &format!("{id}@example.com")))
            .await?;
        s.add_group_member("g1", id).await?;
    }
    s.add_group_member("g1", "u1").await?; // idempotent
    s.add_group_member("g2", "u4").await?;

    assert_eq!(
        user_ids(&s.list_group_members("g1", ALL).await?),
        strings(&["u1", "u2", "u3", "u4"])
    );
    assert_eq!(
        user_ids(&s.list_group_members("g1", page(None, 3)).await?),
        strings(&["u1", "u2", "u3"])
    );
    assert_eq!(
        user_ids(&s.list_group_members("g1", page(Some("u3"), 3)).await?),
        strings(&["u4"])
    );
    let members = s.list_group_members("g2", ALL).await?;
    assert_eq!(members.len(), 1);
    assert_eq!(s.find_user("u4").await?.as_ref(), members.first());

    s.remove_group_member("g1", "u2").await?;
    s.remove_group_member("g1", "u2").await?; // removing twice is fine
    s.remove_group_member("g1", "ghost").await?;
    assert_eq!(
        user_ids(&s.list_group_members("g1", ALL).await?),
        strings(&["u1", "u3", "u4"])
    );
    assert!(s.list_group_members("nope", ALL).await?.is_empty());
    Ok(())
}

async fn membership_of_missing_user_or_group_is_not_found(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_group(&group("g1", "Staff", GroupType::OktaGroup))
        .await?;
    s.create_user(&user("u1", "alice@example.com")).await?;
    s.create_app(&app("a1", "client-1")).await?;
    ensure!(is_not_found(s.add_group_member("g1", "ghost").await));
    ensure!(is_not_found(s.add_group_member("ghost", "u1").await));
    ensure!(is_not_found(s.assign_app_user("a1", "ghost").await));
    ensure!(is_not_found(s.assign_app_user("ghost", "u1").await));
    ensure!(is_not_found(s.assign_app_group("a1", "ghost", 0).await));
    ensure!(is_not_found(s.assign_app_group("ghost", "g1", 0).await));
    assert!(s.list_group_members("g1", ALL).await?.is_empty());
    assert!(s.list_app_users("a1").await?.is_empty());
    assert!(s.list_app_groups("a1").await?.is_empty());
    Ok(())
}

async fn list_user_groups_includes_built_in_groups_once(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_group(&group("g0", EVERYONE, GroupType::BuiltIn))
        .await?;
    s.create_group(&group("g1", "Staff", GroupType::OktaGroup))
        .await?;
    s.create_group(&group("g2", "Admins", GroupType::OktaGroup))
        .await?;
    s.create_group(&group("g3", "Unused", GroupType::OktaGroup))
        .await?;
    s.create_user(&user("u1", "alice@example.com")).await?;
    s.create_user(&user("u2", "bob@example.com")).await?;

    // No explicit memberships: just Everyone.
    assert_eq!(
        group_ids(&s.list_user_groups("u1").await?),
        strings(&["g0"])
    );

    s.add_group_member("g2", "u1").await?;
    s.add_group_member("g1", "u1").await?;
    s.add_group_member("g0", "u1").await?; // explicit membership of Everyone: no duplicate
    let groups = s.list_user_groups("u1").await?;
    assert_eq!(group_ids(&groups), strings(&["g0", "g1", "g2"]));
    assert_eq!(
        groups.first().map(|g| g.group_type),
        Some(GroupType::BuiltIn)
    );
    assert_eq!(
        group_ids(&s.list_user_groups("u2").await?),
        strings(&["g0"])
    );
    // Built-in groups hold users, not arbitrary ids.
    assert!(s.list_user_groups("ghost").await?.is_empty());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Apps

fn client_secret(id: &str, app_id: &str, status: AppStatus, created: i64) -> ClientSecret {
    ClientSecret {
        id: id.into(),
        app_id: app_id.into(),
        secret_sealed: format!("sealed-{id}"),
        status,
        created,
        last_updated: created,
    }
}

async fn client_secrets_keep_their_rules(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_app(&app("a1", "client-1")).await?;
    s.create_app(&app("a2", "client-2")).await?;
    let first = client_secret("ocs1", "a1", AppStatus::Active, 1_000);
    let second = client_secret("ocs2", "a1", AppStatus::Active, 2_000);
    s.add_client_secret(&first, MAX_CLIENT_SECRETS).await?;
    s.add_client_secret(&second, MAX_CLIENT_SECRETS).await?;
    s.add_client_secret(&client_secret("ocs9", "a2", AppStatus::Active, 500), 2)
        .await?;
    assert_eq!(
        s.list_client_secrets("a1").await?,
        vec![first.clone(), second.clone()]
    );
    // A third is refused; an unknown app is not found.
    ensure!(is_conflict(
        s.add_client_secret(&client_secret("ocs3", "a1", AppStatus::Active, 3_000), 2)
            .await,
        "client_secrets"
    ));
    ensure!(matches!(
        s.add_client_secret(&client_secret("ocs4", "nope", AppStatus::Active, 1), 2)
            .await,
        Err(StoreError::NotFound)
    ));
    // An active secret cannot be deleted; the last active one cannot be deactivated.
    ensure!(is_conflict(
        s.delete_client_secret("a1", "ocs1").await,
        "active_secret"
    ));
    s.set_client_secret_status("a1", "ocs1", AppStatus::Inactive, 4_000)
        .await?;
    ensure!(is_conflict(
        s.set_client_secret_status("a1", "ocs2", AppStatus::Inactive, 4_000)
            .await,
        "last_active_secret"
    ));
    let listed = s.list_client_secrets("a1").await?;
    assert_eq!(listed[0].status, AppStatus::Inactive);
    assert_eq!(listed[0].last_updated, 4_000);
    assert_eq!(listed[1].status, AppStatus::Active);
    // Another app's secret is not this app's.
    ensure!(matches!(
        s.delete_client_secret("a1", "ocs9").await,
        Err(StoreError::NotFound)
    ));
    ensure!(matches!(
        s.set_client_secret_status("a2", "ocs1", AppStatus::Active, 1)
            .await,
        Err(StoreError::NotFound)
    ));
    s.delete_client_secret("a1", "ocs1").await?;
    assert_eq!(s.list_client_secrets("a1").await?, vec![second]);
    // Replacing puts exactly the given secrets in place.
    let fresh = client_secret("ocs5", "a1", AppStatus::Active, 5_000);
    s.replace_client_secrets("a1", std::slice::from_ref(&fresh))
        .await?;
    assert_eq!(s.list_client_secrets("a1").await?, vec![fresh]);
    s.replace_client_secrets("a1", &[]).await?;
    assert!(s.list_client_secrets("a1").await?.is_empty());
    // Deleting the app takes its secrets along.
    s.update_app(&{
        let mut a = app("a2", "client-2");
        a.status = AppStatus::Inactive;
        a
    })
    .await?;
    s.delete_app("a2").await?;
    assert!(s.list_client_secrets("a2").await?.is_empty());
    Ok(())
}

async fn apps_round_trip_with_settings_and_client_id_conflicts(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let mut spa = app("a1", "client-1");
    spa.settings = OAuthClientSettings {
        application_type: ApplicationType::Browser,
        token_endpoint_auth_method: TokenEndpointAuthMethod::None,
        redirect_uris: vec![
            "https://spa.example/cb".into(),
            "http://localhost:3000/cb".into(),
        ],
        post_logout_redirect_uris: vec!["https://spa.example/".into()],
        grant_types: vec!["authorization_code".into()],
        response_types: vec!["code".into()],
        initiate_login_uri: Some("https://spa.example/login".into()),
        metadata: ClientMetadata {
            client_uri: Some("https://spa.example/".into()),
            logo_uri: Some("https://spa.example/logo.png".into()),
            policy_uri: None,
            tos_uri: Some("https://spa.example/tos".into()),
            default_scope: vec!["openid".into(), "profile".into()],
        },
        login_mode: "SPEC".into(),
        pkce_required: true,
        issuer_mode: IssuerMode::CustomUrl,
        jwks: Some(JwkSet {
            keys: vec![
                serde_json::json!({"kty": "EC", "crv": "P-256", "x": "eA", "y": "eQ", "kid": "k1"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ],
        }),
        jwks_uri: Some("https://spa.example/jwks.json".into()),
        refresh_token: Some(RefreshTokenPolicy {
            rotation_type: RotationType::Rotate,
            leeway: 45,
        }),
        groups_claim: Some(GroupsClaim {
            name: "groups".into(),
            filter_type: gatehouse_core::authz::model::GroupFilterType::StartsWith,
            value: "NetBox".into(),
        }),
        request_uris: vec!["https://spa.example/request.jwt".into()],
        request_object_signing_alg: Some("RS256".into()),
        sector_identifier_uri: Some("https://spa.example/sector.json".into()),
        consent_method: ConsentMethod::Required,
        backchannel_logout_uri: Some("https://spa.example/bcl".into()),
        backchannel_logout_session_required: true,
    };
    s.create_app(&spa).await?;
    s.create_app(&app("a2", "client-2")).await?;

    assert_eq!(s.find_app("a1").await?, Some(spa.clone()));
    assert_eq!(
        s.find_app_by_client_id("client-1").await?,
        Some(spa.clone())
    );
    assert_eq!(s.find_app_by_client_id("CLIENT-1").await?, None);
    assert_eq!(s.find_app("nope").await?, None);

    ensure!(is_conflict(
        s.create_app(&app("a3", "client-1")).await,
        "client_id"
    ));
    ensure!(is_conflict(
        s.create_app(&app("a1", "client-9")).await,
        "id"
    ));

    let mut changed = spa.clone();
    changed.label = "Renamed".into();
    changed.status = AppStatus::Inactive;
    changed
        .settings
        .redirect_uris
        .push("https://spa.example/cb2".into());
    changed.settings.pkce_required = false;
    changed.last_updated = 3_000;
    s.update_app(&changed).await?;
    assert_eq!(s.find_app("a1").await?, Some(changed.clone()));

    changed.client_id = "client-2".into();
    ensure!(is_conflict(s.update_app(&changed).await, "client_id"));
    Ok(())
}

async fn list_and_delete_apps(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    for id in ["a3", "a1", "a2"] {
        s.create_app(&app(id, &format!("client-{id}"))).await?;
    }
    let app_ids = |apps: Vec<App>| apps.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(
        app_ids(s.list_apps(ALL).await?),
        strings(&["a1", "a2", "a3"])
    );
    assert_eq!(app_ids(s.list_apps(page(None, 1)).await?), strings(&["a1"]));
    assert_eq!(
        app_ids(s.list_apps(page(Some("a1"), 5)).await?),
        strings(&["a2", "a3"])
    );

    s.create_user(&user("u1", "alice@example.com")).await?;
    s.create_group(&group("g1", "Staff", GroupType::OktaGroup))
        .await?;
    s.assign_app_user("a2", "u1").await?;
    s.assign_app_group("a2", "g1", 0).await?;
    s.delete_app("a2").await?;
    assert_eq!(s.find_app("a2").await?, None);
    assert_eq!(s.find_app_by_client_id("client-a2").await?, None);
    assert!(s.list_app_users("a2").await?.is_empty());
    assert!(s.list_app_groups("a2").await?.is_empty());
    assert_eq!(app_ids(s.list_apps(ALL).await?), strings(&["a1", "a3"]));
    // Re-creating the app starts from no assignments.
    s.create_app(&app("a2", "client-a2")).await?;
    assert!(!s.is_user_assigned("a2", "u1").await?);
    s.delete_app("ghost").await?;
    Ok(())
}

async fn app_group_assignments_order_by_priority(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_app(&app("a1", "client-1")).await?;
    s.create_app(&app("a2", "client-2")).await?;
    for id in ["ga", "gb", "gc", "gd"] {
        s.create_group(&group(id, id, GroupType::OktaGroup)).await?;
    }
    s.assign_app_group("a1", "gc", 0).await?;
    s.assign_app_group("a1", "ga", 5).await?;
    s.assign_app_group("a1", "gd", 0).await?;
    s.assign_app_group("a1", "gb", -1).await?;
    s.assign_app_group("a2", "ga", 0).await?;
    assert_eq!(
        s.list_app_groups("a1").await?,
        strings(&["gb", "gc", "gd", "ga"])
    );

    // Re-assigning is idempotent and takes the new priority.
    s.assign_app_group("a1", "ga", -5).await?;
    s.assign_app_group("a1", "ga", -5).await?;
    assert_eq!(
        s.list_app_groups("a1").await?,
        strings(&["ga", "gb", "gc", "gd"])
    );

    s.unassign_app_group("a1", "gc").await?;
    s.unassign_app_group("a1", "gc").await?;
    assert_eq!(s.list_app_groups("a1").await?, strings(&["ga", "gb", "gd"]));
    assert_eq!(s.list_app_groups("a2").await?, strings(&["ga"]));
    assert!(s.list_app_groups("nope").await?.is_empty());
    Ok(())
}

async fn app_group_assignments_carry_priorities(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_app(&app("a1", "client-1")).await?;
    s.create_app(&app("a2", "client-2")).await?;
    for id in ["ga", "gb", "gc"] {
        s.create_group(&group(id, id, GroupType::OktaGroup)).await?;
    }
    s.assign_app_group("a1", "gc", 2).await?;
    s.assign_app_group("a1", "ga", 7).await?;
    s.assign_app_group("a1", "gb", 2).await?;
    s.assign_app_group("a2", "ga", 1).await?;
    let got: Vec<(String, String, i64)> = s
        .list_app_group_assignments("a1")
        .await?
        .into_iter()
        .map(|a| (a.app_id, a.group_id, a.priority))
        .collect();
    let want = |g: &str, p: i64| ("a1".to_owned(), g.to_owned(), p);
    assert_eq!(got, vec![want("gb", 2), want("gc", 2), want("ga", 7)]);
    // The ids come in the same order as list_app_groups.
    let ids: Vec<String> = got.into_iter().map(|(_, g, _)| g).collect();
    assert_eq!(ids, s.list_app_groups("a1").await?);
    s.assign_app_group("a1", "ga", 0).await?;
    assert_eq!(
        s.list_app_group_assignments("a1").await?.first(),
        Some(&AppGroupAssignment {
            app_id: "a1".into(),
            group_id: "ga".into(),
            priority: 0
        })
    );
    s.delete_group("gb").await?;
    assert_eq!(s.list_app_group_assignments("a1").await?.len(), 2);
    assert!(s.list_app_group_assignments("nope").await?.is_empty());
    Ok(())
}

async fn search_apps_by_prefix_id_name_and_status(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let mut fixtures = Vec::new();
    for (id, label, status) in [
        ("a4", "NetBox prod", AppStatus::Active),
        ("a1", "netbox staging", AppStatus::Inactive),
        ("a3", "Collate", AppStatus::Active),
        ("a2", "50%_off", AppStatus::Active),
    ] {
        let mut a = app(id, &format!("client-{id}"));
        a.label = label.into();
        a.status = status;
        s.create_app(&a).await?;
        fixtures.push(a);
    }
    let mut other = app("a5", "client-a5");
    other.name = "bookmark".into();
    other.label = "Wiki".into();
    s.create_app(&other).await?;
    let search = async |q: AppQuery, p: Page<'_>| -> Result<Vec<String>> {
        Ok(s.search_apps(&q, p)
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect())
    };
    let prefix = |p: &str| AppQuery {
        prefix: Some(p.into()),
        ..AppQuery::default()
    };
    assert_eq!(
        search(AppQuery::default(), ALL).await?,
        strings(&["a1", "a2", "a3", "a4", "a5"])
    );
    assert_eq!(search(prefix("NETBOX"), ALL).await?, strings(&["a1", "a4"]));
    assert_eq!(search(prefix("netbox p"), ALL).await?, strings(&["a4"]));
    // The name matches too; LIKE wildcards are literal.
    assert_eq!(search(prefix("book"), ALL).await?, strings(&["a5"]));
    assert_eq!(search(prefix("50%_"), ALL).await?, strings(&["a2"]));
    assert!(search(prefix("5_"), ALL).await?.is_empty());
    assert!(search(prefix("%"), ALL).await?.is_empty());
    let active = AppQuery {
        status: Some(AppStatus::Active),
        ..AppQuery::default()
    };
    assert_eq!(
        search(active.clone(), ALL).await?,
        strings(&["a2", "a3", "a4", "a5"])
    );
    assert_eq!(
        search(active.clone(), page(Some("a2"), 2)).await?,
        strings(&["a3", "a4"])
    );
    let active_netbox = AppQuery {
        prefix: Some("net".into()),
        ..active.clone()
    };
    assert_eq!(search(active_netbox, ALL).await?, strings(&["a4"]));
    let inactive = AppQuery {
        status: Some(AppStatus::Inactive),
        ..AppQuery::default()
    };
    assert_eq!(search(inactive, ALL).await?, strings(&["a1"]));
    let by_name = AppQuery {
        name: Some("oidc_client".into()),
        ..AppQuery::default()
    };
    assert_eq!(
        search(by_name, ALL).await?,
        strings(&["a1", "a2", "a3", "a4"])
    );
    let by_id = AppQuery {
        id: Some("a3".into()),
        ..active
    };
    assert_eq!(search(by_id, ALL).await?, strings(&["a3"]));
    assert_eq!(
        s.search_apps(&prefix("coll"), ALL).await?,
        vec![fixtures[2].clone()]
    );
    Ok(())
}

async fn app_user_assignments(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_app(&app("a1", "client-1")).await?;
    s.create_app(&app("a2", "client-2")).await?;
    for id in ["u3", "u1", "u2"] {
        s.create_user(&user(id, &format!("{id}@example.com")))
            .await?;
        s.assign_app_user("a1", id).await?;
    }
    s.assign_app_user("a1", "u1").await?; // idempotent
    s.assign_app_user("a2", "u2").await?;
    assert_eq!(s.list_app_users("a1").await?, strings(&["u1", "u2", "u3"]));
    assert_eq!(s.list_app_users("a2").await?, strings(&["u2"]));
    s.unassign_app_user("a1", "u2").await?;
    s.unassign_app_user("a1", "u2").await?;
    assert_eq!(s.list_app_users("a1").await?, strings(&["u1", "u3"]));
    assert_eq!(s.list_app_users("a2").await?, strings(&["u2"]));
    Ok(())
}

async fn is_user_assigned_directly_via_groups_and_via_everyone(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    for (id, login) in [("u1", "direct"), ("u2", "member"), ("u3", "outsider")] {
        s.create_user(&user(id, login)).await?;
    }
    s.create_group(&group("g0", EVERYONE, GroupType::BuiltIn))
        .await?;
    s.create_group(&group("g1", "Staff", GroupType::OktaGroup))
        .await?;
    s.create_group(&group("g2", "Empty", GroupType::OktaGroup))
        .await?;
    s.add_group_member("g1", "u2").await?;
    for a in ["direct-app", "group-app", "everyone-app", "empty-app"] {
        s.create_app(&app(a, &format!("client-{a}"))).await?;
    }
    s.assign_app_user("direct-app", "u1").await?;
    s.assign_app_group("group-app", "g1", 0).await?;
    s.assign_app_group("everyone-app", "g0", 0).await?;
    s.assign_app_group("empty-app", "g2", 0).await?;

    let expect = [
        ("direct-app", "u1", true),
        ("direct-app", "u2", false),
        ("direct-app", "u3", false),
        ("group-app", "u1", false),
        ("group-app", "u2", true),
        ("group-app", "u3", false),
        ("everyone-app", "u1", true),
        ("everyone-app", "u2", true),
        ("everyone-app", "u3", true),
        ("everyone-app", "ghost", false),
        ("empty-app", "u1", false),
        ("empty-app", "u2", false),
        ("empty-app", "u3", false),
        ("no-such-app", "u1", false),
    ];
    for (a, u, assigned) in expect {
        assert_eq!(s.is_user_assigned(a, u).await?, assigned, "{a} / {u}");
    }

    // Removing the route removes the access.
    s.unassign_app_user("direct-app", "u1").await?;
    s.remove_group_member("g1", "u2").await?;
    s.unassign_app_group("everyone-app", "g0").await?;
    assert!(!s.is_user_assigned("direct-app", "u1").await?);
    assert!(!s.is_user_assigned("group-app", "u2").await?);
    assert!(!s.is_user_assigned("everyone-app", "u3").await?);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Authorization servers and keys

async fn auth_servers_round_trip(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let org = AuthServer {
        kind: AuthServerKind::Org,
        audiences: vec![],
        issuer_mode: IssuerMode::Dynamic,
        ..auth_server(ORG_AUTH_SERVER_ID)
    };
    let default = auth_server(DEFAULT_AUTH_SERVER_ID);
    s.create_auth_server(&org).await?;
    s.create_auth_server(&default).await?;
    s.create_auth_server(&auth_server("aus1")).await?;

    assert_eq!(s.find_auth_server("org").await?, Some(org.clone()));
    assert_eq!(s.find_auth_server("default").await?, Some(default.clone()));
    assert_eq!(s.find_auth_server("nope").await?, None);
    let listed: Vec<String> = s
        .list_auth_servers()
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(listed, strings(&["aus1", "default", "org"]));
    ensure!(is_conflict(
        s.create_auth_server(&auth_server("default")).await,
        "id"
    ));

    let changed = AuthServer {
        name: "Renamed".into(),
        description: "new".into(),
        audiences: vec!["api://a".into(), "api://b".into()],
        issuer_mode: IssuerMode::CustomUrl,
        status: AppStatus::Inactive,
        authorization_response_iss: true,
        last_updated: 5_000,
        ..default
    };
    s.update_auth_server(&changed).await?;
    assert_eq!(s.find_auth_server("default").await?, Some(changed));
    Ok(())
}

async fn auth_server_signing_alg_round_trips_and_defaults_to_rs256(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    for (id, alg) in [
        ("rs", SigningAlg::Rs256),
        ("es", SigningAlg::Es256),
        ("ed", SigningAlg::EdDsa),
    ] {
        let server = AuthServer {
            signing_alg: alg,
            ..auth_server(id)
        };
        s.create_auth_server(&server).await?;
        assert_eq!(s.find_auth_server(id).await?, Some(server));
    }
    // Changing it is an update like any other.
    let mut es = s
        .find_auth_server("es")
        .await?
        .ok_or(StoreError::NotFound)?;
    es.signing_alg = SigningAlg::EdDsa;
    s.update_auth_server(&es).await?;
    assert_eq!(
        s.find_auth_server("es").await?.map(|a| a.signing_alg),
        Some(SigningAlg::EdDsa)
    );
    // A row written without the column (as before migration 0006) reads as RS256.
    ctx.raw(
        "INSERT INTO auth_servers (id, kind, name, description, audiences, issuer_mode, status, \
         created, last_updated) VALUES ('old', 'CUSTOM', 'old', '', '[]', 'ORG_URL', 'ACTIVE', 1, 1)",
    )
    .await?;
    assert_eq!(
        s.find_auth_server("old").await?.map(|a| a.signing_alg),
        Some(SigningAlg::Rs256)
    );
    // An unknown stored algorithm is a backend error, not a silent default.
    ctx.raw("UPDATE auth_servers SET signing_alg = 'HS256' WHERE id = 'old'")
        .await?;
    ensure!(matches!(
        s.find_auth_server("old").await,
        Err(StoreError::Backend(_))
    ));
    // Stored records from before the field existed deserialize as RS256.
    let legacy = serde_json::json!({
        "id": "x", "kind": "CUSTOM", "name": "x", "description": "", "audiences": [],
        "issuer_mode": "ORG_URL", "status": "ACTIVE", "created": 1, "last_updated": 1
    });
    let parsed: AuthServer = serde_json::from_value(legacy)?;
    assert_eq!(parsed.signing_alg, SigningAlg::Rs256);
    Ok(())
}

async fn signing_keys_newest_first_and_status_updates(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.add_signing_key(&signing_key("k-old", "default", 100))
        .await?;
    s.add_signing_key(&signing_key("k-new", "default", 300))
        .await?;
    s.add_signing_key(&signing_key("k-mid", "default", 200))
        .await?;
    // Same second as k-new, added later: newer.
    s.add_signing_key(&signing_key("a-newest", "default", 300))
        .await?;
    s.add_signing_key(&signing_key("k-org", "org", 999)).await?;

    let kids = |keys: Vec<SigningKey>| keys.into_iter().map(|k| k.kid).collect::<Vec<_>>();
    assert_eq!(
        kids(s.list_signing_keys("default").await?),
        strings(&["a-newest", "k-new", "k-mid", "k-old"])
    );
    assert_eq!(
        s.list_signing_keys("org").await?,
        vec![signing_key("k-org", "org", 999)]
    );
    assert!(s.list_signing_keys("nope").await?.is_empty());

    s.set_signing_key_status("k-new", KeyStatus::Expired)
        .await?;
    s.set_signing_key_status("a-newest", KeyStatus::Active)
        .await?;
    let statuses: Vec<(String, KeyStatus)> = s
        .list_signing_keys("default")
        .await?
        .into_iter()
        .map(|k| (k.kid, k.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("a-newest".to_owned(), KeyStatus::Active),
            ("k-new".to_owned(), KeyStatus::Expired),
            ("k-mid".to_owned(), KeyStatus::Next),
            ("k-old".to_owned(), KeyStatus::Next),
        ]
    );
    ensure!(is_conflict(
        s.add_signing_key(&signing_key("k-old", "org", 1)).await,
        "kid"
    ));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sessions and login transactions

async fn sessions_expire_and_are_deleted(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let mut first = session("h1", "u1", 2_000);
    first.amr = vec!["pwd".into(), "otp".into()];
    s.create_session(&first).await?;
    s.create_session(&session("h2", "u1", 2_000)).await?;
    s.create_session(&session("h3", "u2", 2_000)).await?;

    assert_eq!(s.find_session("h1", 1_999).await?, Some(first.clone()));
    assert_eq!(
        s.find_session("h1", 2_000).await?,
        None,
        "expired at expires_at"
    );
    assert_eq!(s.find_session("h1", 9_999).await?, None);
    assert_eq!(s.find_session("nope", 0).await?, None);
    ensure!(is_conflict(s.create_session(&first).await, "id_hash"));

    s.delete_session("h1").await?;
    s.delete_session("h1").await?;
    assert_eq!(s.find_session("h1", 1_000).await?, None);
    assert!(s.find_session("h2", 1_000).await?.is_some());

    s.delete_user_sessions("u1").await?;
    assert_eq!(s.find_session("h2", 1_000).await?, None);
    assert!(s.find_session("h3", 1_000).await?.is_some());
    Ok(())
}

async fn login_transactions_expire_and_are_deleted(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let tx = login_tx("t1", 1_600);
    s.create_login_transaction(&tx).await?;
    s.create_login_transaction(&login_tx("t2", 1_600)).await?;
    assert_eq!(
        s.find_login_transaction("t1", 1_000).await?,
        Some(tx.clone())
    );
    assert_eq!(s.find_login_transaction("t1", 1_600).await?, None);
    assert_eq!(s.find_login_transaction("nope", 1_000).await?, None);
    ensure!(is_conflict(s.create_login_transaction(&tx).await, "id"));

    s.delete_login_transaction("t1").await?;
    s.delete_login_transaction("t1").await?;
    assert_eq!(s.find_login_transaction("t1", 1_000).await?, None);
    assert!(s.find_login_transaction("t2", 1_000).await?.is_some());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Codes, grants and tokens

async fn redeem_code_once_then_replayed(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let original = code("c1", "grant-1", 2_000);
    s.create_code(&original).await?;
    let mut minimal = code("c2", "grant-2", 2_000);
    minimal.nonce = None;
    minimal.code_challenge = None;
    minimal.session_id_hash = None;
    minimal.amr = vec![];
    minimal.acr = None;
    s.create_code(&minimal).await?;

    let used = AuthCode {
        used_at: Some(1_500),
        ..original.clone()
    };
    assert_eq!(
        s.redeem_code("c1", 1_500).await?,
        CodeRedemption::Redeemed(used.clone())
    );
    // Later attempts are replays and report the original use.
    assert_eq!(
        s.redeem_code("c1", 1_501).await?,
        CodeRedemption::Replayed(used.clone())
    );
    assert_eq!(
        s.redeem_code("c1", 1_502).await?,
        CodeRedemption::Replayed(used)
    );
    assert_eq!(
        s.redeem_code("nope", 1_500).await?,
        CodeRedemption::NotFound
    );
    assert_eq!(
        s.redeem_code("c2", 1_999).await?,
        CodeRedemption::Redeemed(AuthCode {
            used_at: Some(1_999),
            ..minimal
        })
    );
    ensure!(is_conflict(s.create_code(&original).await, "code_hash"));
    Ok(())
}

async fn expired_codes_are_not_found_unless_already_used(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_code(&code("c1", "g1", 2_000)).await?;
    assert_eq!(s.redeem_code("c1", 2_000).await?, CodeRedemption::NotFound);
    assert_eq!(s.redeem_code("c1", 2_500).await?, CodeRedemption::NotFound);
    // The failed attempts did not mark it used: still unusable, still not a replay.
    assert_eq!(s.redeem_code("c1", 2_600).await?, CodeRedemption::NotFound);

    // A code used before it expired is a replay even after expiry.
    s.create_code(&code("c2", "g2", 2_000)).await?;
    assert!(matches!(
        s.redeem_code("c2", 1_000).await?,
        CodeRedemption::Redeemed(_)
    ));
    match s.redeem_code("c2", 3_000).await? {
        CodeRedemption::Replayed(c) => {
            assert_eq!(c.used_at, Some(1_000));
            assert_eq!(c.grant_id, "g2");
        }
        other => anyhow::bail!("expected a replay, got {other:?}"),
    }
    Ok(())
}

async fn concurrent_redeem_has_exactly_one_winner(ctx: &Ctx) -> Result<()> {
    const TASKS: usize = 10;
    for round in 0..5 {
        let hash = format!("code-{round}");
        ctx.store.create_code(&code(&hash, "grant", 10_000)).await?;
        let barrier = Arc::new(Barrier::new(TASKS));
        let mut tasks = Vec::new();
        for _ in 0..TASKS {
            let store = ctx.store.clone();
            let barrier = barrier.clone();
            let hash = hash.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                store.redeem_code(&hash, 5_000).await
            }));
        }
        let (mut redeemed, mut replayed) = (0, 0);
        for task in tasks {
            match task.await?? {
                CodeRedemption::Redeemed(c) => {
                    assert_eq!(c.used_at, Some(5_000));
                    redeemed += 1;
                }
                CodeRedemption::Replayed(c) => {
                    assert_eq!(c.used_at, Some(5_000));
                    replayed += 1;
                }
                CodeRedemption::NotFound => anyhow::bail!("the code exists"),
            }
        }
        assert_eq!((redeemed, replayed), (1, TASKS - 1), "round {round}");
    }
    Ok(())
}

async fn grants_round_trip_and_revoke_cascades(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let g1 = grant("g1");
    let service = Grant {
        user_id: None,
        auth_time: None,
        amr: vec![],
        acr: None,
        ..grant("g2")
    };
    s.create_grant(&g1).await?;
    s.create_grant(&service).await?;
    assert_eq!(s.find_grant("g1").await?, Some(g1.clone()));
    assert_eq!(s.find_grant("g2").await?, Some(service.clone()));
    assert_eq!(s.find_grant("nope").await?, None);
    ensure!(is_conflict(s.create_grant(&g1).await, "id"));

    s.create_refresh_token(&refresh("r1", "g1", 9_000)).await?;
    s.create_refresh_token(&refresh("r2", "g1", 9_000)).await?;
    s.create_refresh_token(&refresh("r3", "g2", 9_000)).await?;
    s.record_access_token(&access("j1", "g1", 9_000)).await?;
    s.record_access_token(&access("j2", "g2", 9_000)).await?;
    // A token revoked earlier keeps its own revocation time.
    s.revoke_refresh_token("r2", 1_500).await?;

    s.revoke_grant("g1", 2_000).await?;
    assert_eq!(
        s.find_grant("g1").await?.and_then(|g| g.revoked_at),
        Some(2_000)
    );
    let rt = |h: &'static str| async move {
        anyhow::Ok(s.find_refresh_token(h).await?.and_then(|t| t.revoked_at))
    };
    assert_eq!(rt("r1").await?, Some(2_000));
    assert_eq!(rt("r2").await?, Some(1_500));
    assert_eq!(rt("r3").await?, None);
    assert_eq!(
        s.find_access_token("j1").await?.and_then(|t| t.revoked_at),
        Some(2_000)
    );
    assert_eq!(
        s.find_access_token("j2").await?.and_then(|t| t.revoked_at),
        None
    );
    assert_eq!(s.find_grant("g2").await?.and_then(|g| g.revoked_at), None);

    // Idempotent: a second revocation keeps the first time.
    s.revoke_grant("g1", 3_000).await?;
    assert_eq!(
        s.find_grant("g1").await?.and_then(|g| g.revoked_at),
        Some(2_000)
    );
    assert_eq!(rt("r1").await?, Some(2_000));
    // The rest of the grant is untouched.
    assert_eq!(
        s.find_grant("g1").await?,
        Some(Grant {
            revoked_at: Some(2_000),
            ..g1
        })
    );
    Ok(())
}

async fn revoking_an_unknown_grant_blocks_its_creation(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.revoke_grant("future", 1_000).await?;
    let found = s.find_grant("future").await?;
    assert_eq!(found.as_ref().and_then(|g| g.revoked_at), Some(1_000));
    // The code winner arriving late cannot create a live grant.
    ensure!(is_conflict(s.create_grant(&grant("future")).await, "id"));
    assert_eq!(
        s.find_grant("future").await?.and_then(|g| g.revoked_at),
        Some(1_000)
    );
    s.revoke_grant("future", 2_000).await?;
    assert_eq!(
        s.find_grant("future").await?.and_then(|g| g.revoked_at),
        Some(1_000)
    );
    Ok(())
}

async fn refresh_tokens_rotate_once_and_revoke(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let token = refresh("r1", "g1", 9_000);
    s.create_refresh_token(&token).await?;
    assert_eq!(s.find_refresh_token("r1").await?, Some(token.clone()));
    assert_eq!(s.find_refresh_token("nope").await?, None);
    ensure!(is_conflict(
        s.create_refresh_token(&token).await,
        "token_hash"
    ));

    assert!(claim_rotation(s.as_ref(), "r1", 2_000).await?);
    assert!(!claim_rotation(s.as_ref(), "r1", 2_001).await?);
    assert!(!claim_rotation(s.as_ref(), "nope", 2_001).await?);
    assert_eq!(
        s.find_refresh_token("r1").await?,
        Some(RefreshToken {
            rotated_at: Some(2_000),
            ..token.clone()
        })
    );

    s.revoke_refresh_token("r1", 3_000).await?;
    s.revoke_refresh_token("r1", 4_000).await?;
    s.revoke_refresh_token("nope", 4_000).await?;
    assert_eq!(
        s.find_refresh_token("r1").await?,
        Some(RefreshToken {
            rotated_at: Some(2_000),
            revoked_at: Some(3_000),
            ..token
        })
    );
    Ok(())
}

/// Claims the rotation of the refresh token `hash` as the token endpoint does: the claim of a
/// `record_issued` call (here with nothing else to record). True when this caller won it.
async fn claim_rotation(s: &dyn Store, hash: &str, now: Timestamp) -> Result<bool> {
    let claimed = s
        .record_issued(
            &IssuedTokens {
                grant: None,
                access: None,
                refresh: None,
                refresh_expiry: None,
                claim: Some(Claim::Rotation {
                    token_hash: hash,
                    now,
                }),
            },
            Vec::new(),
        )
        .await;
    match claimed {
        Ok(()) => Ok(true),
        Err(e) if is_lost_claim(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn concurrent_rotation_has_exactly_one_winner(ctx: &Ctx) -> Result<()> {
    const TASKS: usize = 10;
    for round in 0..5 {
        let hash = format!("rt-{round}");
        ctx.store
            .create_refresh_token(&refresh(&hash, "g", 9_000))
            .await?;
        let barrier = Arc::new(Barrier::new(TASKS));
        let mut tasks = Vec::new();
        for i in 0..TASKS {
            let store = ctx.store.clone();
            let barrier = barrier.clone();
            let hash = hash.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                claim_rotation(store.as_ref(), &hash, 1_000 + i as i64).await
            }));
        }
        let mut winners = 0;
        for task in tasks {
            if task.await?? {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "round {round}");
        let rotated = ctx
            .store
            .find_refresh_token(&hash)
            .await?
            .and_then(|t| t.rotated_at);
        assert!(matches!(rotated, Some(t) if (1_000..1_000 + TASKS as i64).contains(&t)));
    }
    Ok(())
}

async fn access_tokens_record_find_revoke(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let token = access("j1", "g1", 9_000);
    s.record_access_token(&token).await?;
    assert_eq!(s.find_access_token("j1").await?, Some(token.clone()));
    assert_eq!(s.find_access_token("nope").await?, None);
    // The caller's copy of the record may lack the grant: the stored one keeps its own.
    let presented = AccessTokenRecord {
        grant_id: String::new(),
        ..token.clone()
    };
    s.revoke_access_token(&presented, 2_000).await?;
    s.revoke_access_token(&presented, 3_000).await?;
    assert_eq!(
        s.find_access_token("j1").await?,
        Some(AccessTokenRecord {
            revoked_at: Some(2_000),
            ..token.clone()
        })
    );
    ensure!(is_conflict(s.record_access_token(&token).await, "jti"));
    // A token never recorded (self-contained) is recorded revoked, then purged when it expires.
    let unrecorded = access("j-cc", "", 9_000);
    s.revoke_access_token(&unrecorded, 3_000).await?;
    s.revoke_access_token(&unrecorded, 4_000).await?;
    assert_eq!(
        s.find_access_token("j-cc").await?,
        Some(AccessTokenRecord {
            revoked_at: Some(3_000),
            ..unrecorded.clone()
        })
    );
    s.purge_expired(9_000).await?;
    assert_eq!(s.find_access_token("j-cc").await?, None);
    Ok(())
}

async fn code_and_user_in_one_read(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let mut alice = user("u1", "alice@example.com");
    // Both tables have a `created`: each must come back as its own.
    alice.created = 777;
    s.create_user(&alice).await?;
    let stored = s.find_user("u1").await?;
    ensure!(stored.as_ref().is_some_and(|u| u.created == 777));
    let original = code("c1", "g1", 2_000);
    s.create_code(&original).await?;
    assert_eq!(
        s.find_code_and_user("c1").await?,
        Some((original.clone(), stored.clone()))
    );
    assert_eq!(s.find_code_and_user("nope").await?, None);
    // A used code is still found (a replay must be recognised), with its use.
    let CodeRedemption::Redeemed(used) = s.redeem_code("c1", 1_500).await? else {
        bail!("the code was not redeemed");
    };
    assert_eq!(s.find_code_and_user("c1").await?, Some((used, stored)));
    // A code whose user is gone is found without one.
    let mut orphan = code("c2", "g2", 2_000);
    orphan.user_id = "nobody".into();
    s.create_code(&orphan).await?;
    assert_eq!(s.find_code_and_user("c2").await?, Some((orphan, None)));
    Ok(())
}

async fn access_token_and_user_in_one_read(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let alice = user("u1", "alice@example.com");
    s.create_user(&alice).await?;
    let token = access("j1", "g1", 9_000);
    s.record_access_token(&token).await?;
    let stored = s.find_user("u1").await?;
    ensure!(stored.is_some());
    assert_eq!(
        s.find_access_token_and_user("j1", "u1").await?,
        (Some(token.clone()), stored.clone())
    );
    // Either may be missing without hiding the other.
    assert_eq!(
        s.find_access_token_and_user("nope", "u1").await?,
        (None, stored.clone())
    );
    assert_eq!(
        s.find_access_token_and_user("j1", "nobody").await?,
        (Some(token.clone()), None)
    );
    assert_eq!(
        s.find_access_token_and_user("nope", "nobody").await?,
        (None, None)
    );
    s.revoke_access_token(&token, 2_000).await?;
    assert_eq!(
        s.find_access_token_and_user("j1", "u1").await?.0,
        Some(AccessTokenRecord {
            revoked_at: Some(2_000),
            ..token
        })
    );
    Ok(())
}

async fn grant_with_access_token_is_one_transaction(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let g = grant("g1");
    let token = access("j1", "g1", 9_000);
    s.create_grant_with_access_token(&g, &token).await?;
    assert_eq!(s.find_grant("g1").await?, Some(g.clone()));
    assert_eq!(s.find_access_token("j1").await?, Some(token.clone()));
    // Revoking the grant revokes the token recorded with it.
    s.revoke_grant("g1", 2_000).await?;
    assert_eq!(
        s.find_access_token("j1").await?.and_then(|t| t.revoked_at),
        Some(2_000)
    );
    // All or nothing: a taken grant id leaves no token behind, a taken jti no grant.
    ensure!(is_conflict(
        s.create_grant_with_access_token(&g, &access("j2", "g1", 9_000))
            .await,
        "id"
    ));
    assert_eq!(s.find_access_token("j2").await?, None);
    ensure!(is_conflict(
        s.create_grant_with_access_token(&grant("g2"), &access("j1", "g2", 9_000))
            .await,
        "jti"
    ));
    assert_eq!(s.find_grant("g2").await?, None);
    Ok(())
}

async fn issued_tokens_are_recorded_together_or_not_at_all(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    // A new grant with both tokens.
    let g = grant("g1");
    let (at, rt) = (access("j1", "g1", 9_000), refresh("r1", "g1", 9_000));
    // The response's System Log events go in the same transaction.
    let events = [log_event("ev1", 1_000), log_event("ev2", 1_000)];
    s.record_issued_tokens(Some(&g), &at, Some(&rt), &events)
        .await?;
    assert_eq!(s.find_grant("g1").await?, Some(g.clone()));
    assert_eq!(s.find_access_token("j1").await?, Some(at));
    assert_eq!(s.find_refresh_token("r1").await?, Some(rt));
    assert_eq!(logged_uuids(s).await?, ["ev1", "ev2"]);
    // An existing grant: its tokens only.
    s.record_issued_tokens(None, &access("j2", "g1", 9_000), None, &[])
        .await?;
    ensure!(s.find_access_token("j2").await?.is_some());
    // A grant revoked before it was created (a replayed code's): conflict, and no token left.
    s.revoke_grant("g-replayed", 2_000).await?;
    ensure!(is_conflict(
        s.record_issued_tokens(
            Some(&grant("g-replayed")),
            &access("j3", "g-replayed", 9_000),
            Some(&refresh("r3", "g-replayed", 9_000)),
            &[log_event("ev3", 2_000)],
        )
        .await,
        "id"
    ));
    assert_eq!(s.find_access_token("j3").await?, None);
    assert_eq!(s.find_refresh_token("r3").await?, None);
    // Nor its log event.
    assert_eq!(logged_uuids(s).await?, ["ev1", "ev2"]);
    // A taken refresh-token hash: nor grant nor access token.
    ensure!(is_conflict(
        s.record_issued_tokens(
            Some(&grant("g4")),
            &access("j4", "g4", 9_000),
            Some(&refresh("r1", "g4", 9_000)),
            &[],
        )
        .await,
        "token_hash"
    ));
    assert_eq!(s.find_grant("g4").await?, None);
    assert_eq!(s.find_access_token("j4").await?, None);
    Ok(())
}

/// Many token responses at once (the backends commit them in batches): every caller's records
/// are there when its call returns, and one caller's conflict fails that caller only.
async fn concurrent_token_writes_all_commit_and_a_conflict_fails_alone(ctx: &Ctx) -> Result<()> {
    const TASKS: usize = 48;
    const BAD: usize = 17;
    ctx.store.revoke_grant("g17", 2_000).await?;
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        let store = ctx.store.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let (g, j, r) = (format!("g{i}"), format!("j{i}"), format!("r{i}"));
            let recorded = store
                .record_issued_tokens(
                    Some(&grant(&g)),
                    &access(&j, &g, 9_000),
                    Some(&refresh(&r, &g, 9_000)),
                    &[log_event(&format!("ev{i}"), 1_000)],
                )
                .await;
            // Visible as soon as the call returns.
            let seen = store.find_access_token(&j).await?.is_some()
                && store.find_refresh_token(&r).await?.is_some();
            Ok::<_, StoreError>((recorded, seen))
        }));
    }
    let mut expected_events = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let (recorded, seen) = task.await??;
        if i != BAD {
            expected_events.push(format!("ev{i}"));
        }
        if i == BAD {
            ensure!(is_conflict(recorded, "id"), "task {i}");
            ensure!(!seen, "task {i}: the revoked grant's tokens were recorded");
        } else {
            ensure!(recorded.is_ok(), "task {i}: {recorded:?}");
            ensure!(seen, "task {i}: its tokens were not visible after the call");
        }
    }
    // Every caller's log event but the failed one's, each once.
    let mut logged = logged_uuids(&ctx.store).await?;
    logged.sort();
    expected_events.sort();
    assert_eq!(logged, expected_events);
    Ok(())
}

/// The uuids of the System Log, in log order.
async fn logged_uuids(s: &Arc<dyn Store>) -> Result<Vec<String>> {
    let listed = s
        .list_log_events(&LogQuery {
            limit: 1000,
            ..Default::default()
        })
        .await?;
    Ok(listed.into_iter().map(|e| e.event.uuid).collect())
}

fn log_event(uuid: &str, published_ms: i64) -> LogEventRecord {
    LogEventRecord {
        uuid: uuid.into(),
        published_ms,
        event_type: "app.oauth2.as.token.grant.access_token".into(),
        severity: "INFO".into(),
        outcome_result: "SUCCESS".into(),
        actor_id: Some("client".into()),
        actor_alternate_id: None,
        target_ids: vec!["t1".into(), "t2".into()],
        search_text: "oauth2 access token".into(),
        body: "{}".into(),
    }
}

async fn log_events_are_appended_in_order(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.append_log_event(&log_event("e1", 1_000)).await?;
    s.append_log_events(&[log_event("e2", 1_000), log_event("e3", 1_000)])
        .await?;
    s.append_log_events(&[]).await?;
    let listed = s
        .list_log_events(&LogQuery {
            limit: 10,
            ..Default::default()
        })
        .await?;
    let uuids: Vec<&str> = listed.iter().map(|e| e.event.uuid.as_str()).collect();
    assert_eq!(uuids, ["e1", "e2", "e3"]);
    assert_eq!(listed[1].event, log_event("e2", 1_000));
    // All or nothing: a taken uuid fails the whole call.
    ensure!(
        s.append_log_events(&[log_event("e4", 2_000), log_event("e1", 2_000)])
            .await
            .is_err()
    );
    let after = s
        .list_log_events(&LogQuery {
            limit: 10,
            ..Default::default()
        })
        .await?;
    assert_eq!(after.len(), 3);
    Ok(())
}

async fn token_key_conflicts(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    // Each primary key reports its own field name.
    s.create_user(&user("u1", "a")).await?;
    s.create_group(&group("g1", "G", GroupType::OktaGroup))
        .await?;
    s.create_app(&app("a1", "c1")).await?;
    ensure!(is_conflict(s.create_user(&user("u1", "b")).await, "id"));
    ensure!(is_conflict(s.create_user(&user("u2", "A")).await, "login"));
    ensure!(is_conflict(
        s.create_group(&group("g1", "H", GroupType::OktaGroup))
            .await,
        "id"
    ));
    ensure!(is_conflict(
        s.create_group(&group("g2", "G", GroupType::BuiltIn)).await,
        "name"
    ));
    ensure!(is_conflict(s.create_app(&app("a1", "c2")).await, "id"));
    ensure!(is_conflict(
        s.create_app(&app("a2", "c1")).await,
        "client_id"
    ));
    Ok(())
}

async fn purge_expired_deletes_only_expired_rows(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let now = 5_000;
    // Expired (expires_at <= now): 2 codes, 1 transaction, 2 sessions, 1 refresh, 1 access.
    s.create_code(&code("c-old", "g", 4_000)).await?;
    s.create_code(&code("c-edge", "g", now)).await?;
    s.create_code(&code("c-live", "g", 6_000)).await?;
    s.create_login_transaction(&login_tx("t-old", 100)).await?;
    s.create_login_transaction(&login_tx("t-live", 9_000))
        .await?;
    s.create_session(&session("s-old", "u", 10)).await?;
    s.create_session(&session("s-edge", "u", now)).await?;
    s.create_session(&session("s-live", "u", 5_001)).await?;
    s.create_refresh_token(&refresh("r-old", "g", 4_999))
        .await?;
    s.create_refresh_token(&refresh("r-live", "g", 7_000))
        .await?;
    s.record_access_token(&access("j-old", "g", 1)).await?;
    s.record_access_token(&access("j-live", "g", 8_000)).await?;
    s.create_grant(&grant("g")).await?;

    assert_eq!(s.purge_expired(now).await?, 7);
    assert_eq!(s.purge_expired(now).await?, 0);

    assert_eq!(
        s.redeem_code("c-old", 1_000).await?,
        CodeRedemption::NotFound
    );
    assert_eq!(
        s.redeem_code("c-edge", 1_000).await?,
        CodeRedemption::NotFound
    );
    assert!(matches!(
        s.redeem_code("c-live", 1_000).await?,
        CodeRedemption::Redeemed(_)
    ));
    assert_eq!(s.find_login_transaction("t-old", 0).await?, None);
    assert!(s.find_login_transaction("t-live", 0).await?.is_some());
    assert_eq!(s.find_session("s-old", 0).await?, None);
    assert_eq!(s.find_session("s-edge", 0).await?, None);
    assert!(s.find_session("s-live", 0).await?.is_some());
    assert_eq!(s.find_refresh_token("r-old").await?, None);
    assert!(s.find_refresh_token("r-live").await?.is_some());
    assert_eq!(s.find_access_token("j-old").await?, None);
    assert!(s.find_access_token("j-live").await?.is_some());
    // A grant with live tokens, or younger than a day, is kept.
    assert!(s.find_grant("g").await?.is_some());
    Ok(())
}

async fn meta_get_and_set(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    assert_eq!(s.get_meta("org_id").await?, None);
    s.set_meta("org_id", "00o1").await?;
    s.set_meta("other", "x").await?;
    assert_eq!(s.get_meta("org_id").await?.as_deref(), Some("00o1"));
    s.set_meta("org_id", "00o2").await?;
    assert_eq!(s.get_meta("org_id").await?.as_deref(), Some("00o2"));
    assert_eq!(s.get_meta("other").await?.as_deref(), Some("x"));
    Ok(())
}

async fn concurrent_user_creation_with_same_login_has_one_winner(ctx: &Ctx) -> Result<()> {
    const TASKS: usize = 8;
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        let store = ctx.store.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let login = if i % 2 == 0 {
                "Race@Example.com"
            } else {
                "race@example.COM"
            };
            store.create_user(&user(&format!("u{i}"), login)).await
        }));
    }
    let (mut ok, mut conflicts) = (0, 0);
    for task in tasks {
        match task.await? {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict { constraint }) if constraint == "login" => conflicts += 1,
            Err(e) => return Err(e.into()),
        }
    }
    assert_eq!((ok, conflicts), (1, TASKS - 1));
    assert_eq!(ctx.store.list_users(ALL).await?.len(), 1);
    Ok(())
}

async fn corrupt_stored_values_are_backend_errors(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_user(&user("u1", "alice")).await?;
    s.create_app(&app("a1", "client-1")).await?;
    s.create_grant(&grant("g1")).await?;
    ctx.raw("UPDATE users SET status = 'HAPPY' WHERE id = 'u1'")
        .await?;
    ctx.raw("UPDATE apps SET settings = '{not json' WHERE id = 'a1'")
        .await?;
    ctx.raw("UPDATE grants SET scopes = '\"openid\"' WHERE id = 'g1'")
        .await?;
    ensure!(matches!(
        s.find_user("u1").await,
        Err(StoreError::Backend(_))
    ));
    ensure!(matches!(
        s.list_users(ALL).await,
        Err(StoreError::Backend(_))
    ));
    ensure!(matches!(
        s.find_app_by_client_id("client-1").await,
        Err(StoreError::Backend(_))
    ));
    ensure!(matches!(
        s.find_grant("g1").await,
        Err(StoreError::Backend(_))
    ));
    let message = match s.find_user("u1").await {
        Err(e) => e.to_string(),
        Ok(u) => anyhow::bail!("expected an error, got {u:?}"),
    };
    ensure!(message.contains("HAPPY"), "{message}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Management API: user search, group name search, API tokens

fn cmp(field: UserField, op: FilterOp, value: &str) -> UserFilter {
    UserFilter::Compare {
        field,
        op,
        value: value.into(),
    }
}

fn and(a: UserFilter, b: UserFilter) -> UserFilter {
    UserFilter::And(Box::new(a), Box::new(b))
}

fn or(a: UserFilter, b: UserFilter) -> UserFilter {
    UserFilter::Or(Box::new(a), Box::new(b))
}

async fn search(ctx: &Ctx, filter: &UserFilter) -> Result<Vec<String>> {
    Ok(user_ids(&ctx.store.search_users(Some(filter), ALL).await?))
}

async fn search_users_compares_and_combines(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let mut alice = user("u1", "Alice@Example.com");
    alice.first_name = "Alice".into();
    alice.last_name = "Smith".into();
    alice.display_name = Some("Ali".into());
    let mut bob = user("u2", "bob@example.com");
    bob.first_name = "Bob".into();
    bob.last_name = "Smithers".into();
    bob.email = "Bob@Work.example".into();
    bob.status = UserStatus::Staged;
    let mut carol = user("u3", "carol@example.org");
    carol.first_name = "Carol".into();
    carol.last_name = "Jones".into();
    for u in [&alice, &bob, &carol] {
        s.create_user(u).await?;
    }
    use FilterOp::*;
    use UserField::*;
    assert_eq!(s.search_users(None, ALL).await?.len(), 3);
    // Profile strings ignore case; id and status do not.
    assert_eq!(
        search(ctx, &cmp(Login, Eq, "alice@example.COM")).await?,
        strings(&["u1"])
    );
    assert_eq!(
        search(ctx, &cmp(Email, Eq, "bob@work.example")).await?,
        strings(&["u2"])
    );
    assert_eq!(search(ctx, &cmp(Id, Eq, "u3")).await?, strings(&["u3"]));
    assert_eq!(search(ctx, &cmp(Id, Eq, "U3")).await?, strings(&[]));
    assert_eq!(
        search(ctx, &cmp(Status, Eq, "ACTIVE")).await?,
        strings(&["u1", "u3"])
    );
    assert_eq!(
        search(ctx, &cmp(Status, Ne, "ACTIVE")).await?,
        strings(&["u2"])
    );
    assert_eq!(
        search(ctx, &cmp(LastName, Sw, "smith")).await?,
        strings(&["u1", "u2"])
    );
    assert_eq!(
        search(ctx, &cmp(FirstName, Co, "AR")).await?,
        strings(&["u3"])
    );
    assert_eq!(
        search(ctx, &cmp(DisplayName, Pr, "")).await?,
        strings(&["u1"])
    );
    assert_eq!(
        search(ctx, &cmp(DisplayName, Eq, "ali")).await?,
        strings(&["u1"])
    );
    assert_eq!(
        search(
            ctx,
            &and(cmp(Status, Eq, "ACTIVE"), cmp(LastName, Sw, "Smith"))
        )
        .await?,
        strings(&["u1"])
    );
    assert_eq!(
        search(ctx, &or(cmp(Login, Sw, "carol"), cmp(Email, Sw, "bob"))).await?,
        strings(&["u2", "u3"])
    );
    assert_eq!(
        search(
            ctx,
            &and(
                UserFilter::Not(Box::new(cmp(Status, Eq, "STAGED"))),
                or(cmp(FirstName, Eq, "alice"), cmp(FirstName, Eq, "bob"))
            )
        )
        .await?,
        strings(&["u1"])
    );
    Ok(())
}

async fn search_users_paginates_and_escapes_like_patterns(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    for (id, login) in [
        ("u1", "a_b@example.com"),
        ("u2", "axb@example.com"),
        ("u3", "a%c@example.com"),
        ("u4", "abc@example.com"),
        ("u5", "x\\y@example.com"),
    ] {
        s.create_user(&user(id, login)).await?;
    }
    use FilterOp::*;
    use UserField::*;
    // `_`, `%` and `\` are literal, not wildcards.
    assert_eq!(search(ctx, &cmp(Login, Sw, "a_")).await?, strings(&["u1"]));
    assert_eq!(search(ctx, &cmp(Login, Sw, "a%")).await?, strings(&["u3"]));
    assert_eq!(search(ctx, &cmp(Login, Co, "\\")).await?, strings(&["u5"]));
    let f = cmp(Login, Sw, "a");
    let first = s.search_users(Some(&f), page(None, 2)).await?;
    assert_eq!(user_ids(&first), strings(&["u1", "u2"]));
    let second = s.search_users(Some(&f), page(Some("u2"), 2)).await?;
    assert_eq!(user_ids(&second), strings(&["u3", "u4"]));
    let third = s.search_users(Some(&f), page(Some("u4"), 2)).await?;
    assert!(third.is_empty());
    let unfiltered = s.search_users(None, page(Some("u3"), 10)).await?;
    assert_eq!(user_ids(&unfiltered), strings(&["u4", "u5"]));
    Ok(())
}

async fn search_groups_by_name_prefix(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    for (id, name) in [
        ("g1", "Engineering"),
        ("g2", "engine_room"),
        ("g3", "Sales"),
        ("g4", "ENG%"),
    ] {
        s.create_group(&group(id, name, GroupType::OktaGroup))
            .await?;
    }
    let names = |groups: Vec<Group>| group_ids(&groups);
    assert_eq!(
        names(s.search_groups_by_name("eng", ALL).await?),
        strings(&["g1", "g2", "g4"])
    );
    assert_eq!(
        names(s.search_groups_by_name("engine_", ALL).await?),
        strings(&["g2"])
    );
    assert_eq!(
        names(s.search_groups_by_name("eng%", ALL).await?),
        strings(&["g4"])
    );
    assert_eq!(
        names(s.search_groups_by_name("ENG", page(Some("g1"), 1)).await?),
        strings(&["g2"])
    );
    assert_eq!(names(s.search_groups_by_name("", ALL).await?).len(), 4);
    Ok(())
}

fn api_token(id: &str, hash: &str) -> ApiToken {
    ApiToken {
        id: id.into(),
        name: format!("token {id}"),
        token_hash: hash.into(),
        user_id: "u1".into(),
        created: 1_000,
        last_used: None,
        revoked_at: None,
    }
}

async fn api_tokens_round_trip_revoke_and_touch(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let t1 = api_token("t1", "hash-1");
    s.create_api_token(&t1).await?;
    s.create_api_token(&api_token("t2", "hash-2")).await?;
    assert!(is_conflict(
        s.create_api_token(&api_token("t3", "hash-1")).await,
        "token_hash"
    ));
    assert_eq!(s.find_api_token_by_hash("hash-1").await?, Some(t1.clone()));
    assert_eq!(s.find_api_token("t1").await?, Some(t1.clone()));
    assert_eq!(s.find_api_token_by_hash("nope").await?, None);
    let listed: Vec<String> = s
        .list_api_tokens()
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed, strings(&["t1", "t2"]));

    // last_used: written when unset, then only once it is older than `not_after`.
    assert!(s.touch_api_token("t1", 2_000, 1_940).await?);
    assert!(!s.touch_api_token("t1", 2_030, 1_970).await?);
    assert_eq!(
        s.find_api_token("t1").await?.and_then(|t| t.last_used),
        Some(2_000)
    );
    assert!(s.touch_api_token("t1", 2_060, 2_000).await?);
    assert_eq!(
        s.find_api_token("t1").await?.and_then(|t| t.last_used),
        Some(2_060)
    );
    assert!(!s.touch_api_token("missing", 2_060, 2_000).await?);

    // Revocation keeps the first time and is idempotent.
    s.revoke_api_token("t1", 3_000).await?;
    s.revoke_api_token("t1", 4_000).await?;
    assert_eq!(
        s.find_api_token_by_hash("hash-1")
            .await?
            .and_then(|t| t.revoked_at),
        Some(3_000)
    );
    assert_eq!(
        s.find_api_token("t2").await?.and_then(|t| t.revoked_at),
        None
    );
    assert!(is_not_found(s.revoke_api_token("missing", 3_000).await));
    Ok(())
}

async fn rate_limit_hits_count_exactly_per_window(ctx: &Ctx) -> Result<()> {
    const TASKS: u64 = 16;
    let window = 1_700_000_040;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store = ctx.store.clone();
        tasks.push(tokio::spawn(async move {
            store.hit_rate_limit("api:token-a", window).await
        }));
    }
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await??);
    }
    seen.sort_unstable();
    // Every concurrent hit was counted once and saw a distinct count.
    assert_eq!(seen, (1..=TASKS).collect::<Vec<_>>());
    assert_eq!(
        ctx.store.hit_rate_limit("api:token-a", window).await?,
        TASKS + 1
    );
    // Reading a count does not add to it.
    assert_eq!(
        ctx.store.rate_limit_hits("api:token-a", window).await?,
        TASKS + 1
    );
    assert_eq!(ctx.store.rate_limit_hits("api:never", window).await?, 0);
    // Other buckets and the next window start from one.
    assert_eq!(ctx.store.hit_rate_limit("api:token-b", window).await?, 1);
    assert_eq!(
        ctx.store.hit_rate_limit("api:token-a", window + 60).await?,
        1
    );
    // Counters older than an hour are purged; recent ones stay.
    ctx.store.purge_expired(window + 3600).await?;
    assert_eq!(ctx.store.hit_rate_limit("api:token-a", window).await?, 1);
    assert_eq!(
        ctx.store.hit_rate_limit("api:token-a", window + 60).await?,
        2
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Service apps: client-assertion jtis and Okta API scope grants

async fn client_assertion_jtis_are_single_use_per_client(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    ensure!(
        s.consume_client_assertion_jti("c1", "j1", 2_000, 1_000)
            .await?
    );
    // A replay, even with another expiry, is refused while the first record lives.
    ensure!(
        !s.consume_client_assertion_jti("c1", "j1", 2_000, 1_500)
            .await?
    );
    ensure!(
        !s.consume_client_assertion_jti("c1", "j1", 9_000, 1_999)
            .await?
    );
    // Another client may use the same jti value.
    ensure!(
        s.consume_client_assertion_jti("c2", "j1", 2_000, 1_000)
            .await?
    );
    // Once the record has expired the jti may be recorded again (its assertion is dead anyway).
    ensure!(
        s.consume_client_assertion_jti("c1", "j1", 4_000, 2_000)
            .await?
    );
    ensure!(
        !s.consume_client_assertion_jti("c1", "j1", 4_000, 3_000)
            .await?
    );
    Ok(())
}

async fn concurrent_jti_consumption_has_exactly_one_winner(ctx: &Ctx) -> Result<()> {
    const N: usize = 12;
    let barrier = Arc::new(Barrier::new(N));
    let mut tasks = Vec::new();
    for _ in 0..N {
        let store = ctx.store.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store
                .consume_client_assertion_jti("c1", "race", 5_000, 1_000)
                .await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await?? {
            wins += 1;
        }
    }
    ensure!(wins == 1, "{wins} winners");
    Ok(())
}

async fn expired_client_assertion_jtis_are_purged(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    ensure!(
        s.consume_client_assertion_jti("c1", "old", 4_000, 1)
            .await?
    );
    ensure!(
        s.consume_client_assertion_jti("c1", "edge", 5_000, 1)
            .await?
    );
    ensure!(
        s.consume_client_assertion_jti("c1", "live", 6_000, 1)
            .await?
    );
    assert_eq!(s.purge_expired(5_000).await?, 2);
    // The live one is still remembered.
    ensure!(
        !s.consume_client_assertion_jti("c1", "live", 6_000, 5_000)
            .await?
    );
    Ok(())
}

fn app_grant(id: &str, app_id: &str, scope: &str) -> AppGrant {
    AppGrant {
        id: id.into(),
        app_id: app_id.into(),
        scope_id: scope.into(),
        issuer: "https://id.example.com".into(),
        source: "ADMIN".into(),
        created_by: Some("00u1".into()),
        created: 1_000,
        last_updated: 1_000,
    }
}

async fn app_grants_round_trip_conflict_and_delete(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_app(&app("a1", "client-1")).await?;
    s.create_app(&app("a2", "client-2")).await?;
    let g2 = app_grant("oag2", "a1", "okta.users.read");
    let mut g1 = app_grant("oag1", "a1", "okta.users.manage");
    g1.created_by = None;
    s.create_app_grant(&g2).await?;
    s.create_app_grant(&g1).await?;
    s.create_app_grant(&app_grant("oag3", "a2", "okta.users.read"))
        .await?;
    ensure!(is_conflict(
        s.create_app_grant(&app_grant("oag4", "a1", "okta.users.read"))
            .await,
        "scope_id"
    ));
    ensure!(is_conflict(
        s.create_app_grant(&app_grant("oag1", "a2", "okta.groups.read"))
            .await,
        "id"
    ));
    assert_eq!(s.list_app_grants("a1").await?, vec![g1.clone(), g2.clone()]);
    assert_eq!(s.find_app_grant("a1", "oag2").await?, Some(g2.clone()));
    // A grant is found only under its own app.
    assert_eq!(s.find_app_grant("a2", "oag2").await?, None);
    ensure!(is_not_found(s.delete_app_grant("a2", "oag2").await));
    s.delete_app_grant("a1", "oag2").await?;
    ensure!(is_not_found(s.delete_app_grant("a1", "oag2").await));
    assert_eq!(s.list_app_grants("a1").await?, vec![g1]);
    Ok(())
}

async fn app_grants_need_an_app_and_go_with_it(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    ensure!(is_not_found(
        s.create_app_grant(&app_grant("oag1", "missing", "okta.users.read"))
            .await
    ));
    s.create_app(&app("a1", "client-1")).await?;
    s.create_app_grant(&app_grant("oag1", "a1", "okta.users.read"))
        .await?;
    s.delete_app("a1").await?;
    ensure!(s.list_app_grants("a1").await?.is_empty());
    Ok(())
}

fn consent_grant(id: &str, user_id: &str, client_id: &str, scope: &str) -> ConsentGrant {
    ConsentGrant {
        id: id.into(),
        user_id: user_id.into(),
        client_id: client_id.into(),
        issuer: "https://id.example.com/oauth2/default".into(),
        auth_server_id: "default".into(),
        scope_id: format!("scp-{scope}"),
        scope_name: scope.into(),
        created: 1_000,
        last_updated: 1_000,
    }
}

async fn consent_grants_upsert_list_and_revoke(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_user(&user("u1", "ann@example.com")).await?;
    s.create_user(&user("u2", "bob@example.com")).await?;
    s.create_app(&app("a1", "client-1")).await?;
    s.create_app(&app("a2", "client-2")).await?;
    let g1 = consent_grant("oag1", "u1", "client-1", "email");
    let g2 = consent_grant("oag2", "u1", "client-1", "car:drive");
    let g3 = consent_grant("oag3", "u1", "client-2", "email");
    let g4 = consent_grant("oag4", "u2", "client-1", "email");
    s.save_consent_grants(&[g2.clone(), g1.clone()]).await?;
    s.save_consent_grants(&[g3.clone(), g4.clone()]).await?;
    // Granting a scope again keeps the grant's id and creation, and moves last_updated.
    let mut again = consent_grant("oag9", "u1", "client-1", "email");
    again.created = 2_000;
    again.last_updated = 2_000;
    s.save_consent_grants(&[again]).await?;
    let g1_now = ConsentGrant {
        last_updated: 2_000,
        ..g1.clone()
    };
    assert_eq!(
        s.list_consent_grants("u1", None).await?,
        vec![g1_now.clone(), g2.clone(), g3.clone()]
    );
    assert_eq!(
        s.list_consent_grants("u1", Some("client-1")).await?,
        vec![g1_now.clone(), g2.clone()]
    );
    // A different issuer is a different grant.
    let mut other_issuer = consent_grant("oag5", "u1", "client-1", "email");
    other_issuer.issuer = "https://other.example.com/oauth2/default".into();
    s.save_consent_grants(&[other_issuer.clone()]).await?;
    assert_eq!(
        s.list_consent_grants("u1", Some("client-1")).await?.len(),
        3
    );
    assert_eq!(s.find_consent_grant("u1", "oag2").await?, Some(g2.clone()));
    // A grant is found only under its own user.
    assert_eq!(s.find_consent_grant("u2", "oag2").await?, None);
    ensure!(is_not_found(s.delete_consent_grant("u2", "oag2").await));
    s.delete_consent_grant("u1", "oag2").await?;
    ensure!(is_not_found(s.delete_consent_grant("u1", "oag2").await));
    assert_eq!(
        s.delete_consent_grants("u1", Some("client-1")).await?,
        vec![g1_now, other_issuer]
    );
    assert_eq!(s.list_consent_grants("u1", None).await?, vec![g3.clone()]);
    assert_eq!(s.delete_consent_grants("u1", None).await?, vec![g3]);
    assert_eq!(s.list_consent_grants("u2", None).await?, vec![g4]);
    Ok(())
}

async fn consent_grants_need_a_user_and_client_and_go_with_them(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    s.create_user(&user("u1", "ann@example.com")).await?;
    s.create_app(&app("a1", "client-1")).await?;
    ensure!(is_not_found(
        s.save_consent_grants(&[consent_grant("oag1", "u1", "missing", "email")])
            .await
    ));
    ensure!(is_not_found(
        s.save_consent_grants(&[consent_grant("oag1", "missing", "client-1", "email")])
            .await
    ));
    // All or nothing: the valid grant before the bad one is not kept.
    ensure!(is_not_found(
        s.save_consent_grants(&[
            consent_grant("oag1", "u1", "client-1", "email"),
            consent_grant("oag2", "u1", "missing", "email"),
        ])
        .await
    ));
    ensure!(s.list_consent_grants("u1", None).await?.is_empty());
    s.save_consent_grants(&[consent_grant("oag1", "u1", "client-1", "email")])
        .await?;
    s.delete_app("a1").await?;
    ensure!(s.list_consent_grants("u1", None).await?.is_empty());
    s.create_app(&app("a1", "client-1")).await?;
    s.save_consent_grants(&[consent_grant("oag1", "u1", "client-1", "email")])
        .await?;
    s.delete_user("u1").await?;
    s.create_user(&user("u1", "ann@example.com")).await?;
    ensure!(s.list_consent_grants("u1", None).await?.is_empty());
    Ok(())
}

fn trusted_origin(id: &str, origin: &str) -> TrustedOrigin {
    TrustedOrigin {
        id: id.into(),
        name: format!("Origin {id}"),
        origin: origin.into(),
        scopes: vec![TrustedOriginScope::Cors, TrustedOriginScope::Redirect],
        status: AppStatus::Active,
        created: 1_000,
        created_by: Some("00u1".into()),
        last_updated: 1_000,
        last_updated_by: None,
    }
}

async fn trusted_origins_round_trip_with_origin_conflicts(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let a = trusted_origin("tos1", "http://localhost:8585");
    s.create_trusted_origin(&a).await?;
    assert_eq!(s.find_trusted_origin("tos1").await?, Some(a.clone()));
    assert_eq!(
        s.find_trusted_origin_by_origin("http://localhost:8585")
            .await?,
        Some(a.clone())
    );
    assert_eq!(
        s.find_trusted_origin_by_origin("http://localhost:8586")
            .await?,
        None
    );
    assert_eq!(s.find_trusted_origin("tos2").await?, None);
    let dup = s
        .create_trusted_origin(&trusted_origin("tos2", "http://localhost:8585"))
        .await;
    ensure!(
        matches!(&dup, Err(StoreError::Conflict { constraint }) if constraint == "origin"),
        "{dup:?}"
    );
    let same_id = s
        .create_trusted_origin(&trusted_origin("tos1", "https://other.example"))
        .await;
    ensure!(
        matches!(&same_id, Err(StoreError::Conflict { constraint }) if constraint == "id"),
        "{same_id:?}"
    );
    Ok(())
}

async fn trusted_origins_list_update_and_delete(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    for (id, origin) in [
        ("tos3", "https://c.example"),
        ("tos1", "https://a.example"),
        ("tos2", "https://b.example"),
    ] {
        s.create_trusted_origin(&trusted_origin(id, origin)).await?;
    }
    let page = |after| Page { after, limit: 2 };
    let first: Vec<String> = s
        .list_trusted_origins(page(None))
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(first, ["tos1", "tos2"]);
    let rest: Vec<String> = s
        .list_trusted_origins(page(Some("tos2")))
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(rest, ["tos3"]);

    let mut b = trusted_origin("tos2", "https://b2.example");
    b.name = "Renamed".into();
    b.scopes = vec![TrustedOriginScope::IframeEmbed];
    b.status = AppStatus::Inactive;
    b.last_updated = 2_000;
    b.last_updated_by = Some("00u2".into());
    s.update_trusted_origin(&b).await?;
    assert_eq!(s.find_trusted_origin("tos2").await?, Some(b.clone()));
    ensure!(!b.allows(TrustedOriginScope::IframeEmbed), "inactive");
    assert_eq!(
        s.find_trusted_origin_by_origin("https://b.example").await?,
        None
    );
    let clash = s
        .update_trusted_origin(&trusted_origin("tos2", "https://a.example"))
        .await;
    ensure!(
        matches!(&clash, Err(StoreError::Conflict { constraint }) if constraint == "origin"),
        "{clash:?}"
    );
    let missing = s
        .update_trusted_origin(&trusted_origin("tos9", "https://z.example"))
        .await;
    ensure!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    s.delete_trusted_origin("tos2").await?;
    assert_eq!(s.find_trusted_origin("tos2").await?, None);
    let again = s.delete_trusted_origin("tos2").await;
    ensure!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    Ok(())
}

async fn purge_removes_grants_left_without_codes_or_tokens(ctx: &Ctx) -> Result<()> {
    let s = &ctx.store;
    let now = 200_000;
    let young = Grant {
        created: now - 3_600,
        ..grant("g-young")
    };
    s.create_grant(&grant("g-orphan")).await?;
    s.create_grant(&grant("g-token")).await?;
    s.create_grant(&grant("g-refresh")).await?;
    s.create_grant(&grant("g-code")).await?;
    s.create_grant(&young).await?;
    s.record_access_token(&access("j", "g-token", now + 3_600))
        .await?;
    s.create_refresh_token(&refresh("r", "g-refresh", now + 3_600))
        .await?;
    s.create_code(&code("c", "g-code", now + 300)).await?;

    assert_eq!(s.purge_expired(now).await?, 1);
    assert_eq!(s.find_grant("g-orphan").await?, None);
    for kept in ["g-token", "g-refresh", "g-code", "g-young"] {
        ensure!(s.find_grant(kept).await?.is_some(), "{kept} was purged");
    }
    // Once its last token has expired, the grant goes with it.
    // Three expired tokens and code, then their three grants.
    assert_eq!(s.purge_expired(now + 7_200).await?, 6);
    assert_eq!(s.find_grant("g-token").await?, None);
    Ok(())
}
