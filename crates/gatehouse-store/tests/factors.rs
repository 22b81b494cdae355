//! The factor store on both backends (migration 0016): factors round trip, a TOTP time step
//! is accepted once even when requests race, recovery codes are single use, pending second
//! steps are taken once, a sign-in's TOTP pass is all or nothing, and everything goes with its
//! user.

use std::sync::Arc;

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{Store, StoreError, TotpPass, TotpPassOutcome};
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};
use tokio::sync::Barrier;

mod common;
use common::user;

fn totp(id: &str, user_id: &str, created: Timestamp) -> Factor {
    Factor {
        id: id.into(),
        user_id: user_id.into(),
        factor_type: FACTOR_TYPE_TOTP.into(),
        provider: "GOOGLE".into(),
        status: FactorStatus::PendingActivation,
        name: "Phone".into(),
        secret_sealed: Some("v1.sealed".into()),
        credential_json: None,
        last_used_step: None,
        created,
        last_updated: created,
    }
}

fn pending(id_hash: &str, user_id: &str, expires_at: Timestamp) -> PendingSignIn {
    PendingSignIn {
        id_hash: id_hash.into(),
        user_id: user_id.into(),
        csrf_hash: "csrf".into(),
        transaction_id: Some("tx1".into()),
        session_hash: None,
        return_to: None,
        enroll: true,
        verified_amr: None,
        attempts: 0,
        created: 1_000,
        expires_at,
    }
}

async fn store(backend: Backend) -> Result<(TestDatabase, Arc<dyn Store>)> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    store.create_user(&user("u1")).await?;
    store.create_user(&user("u2")).await?;
    Ok((db, store))
}

async fn factors_round_trip(backend: Backend) -> Result<()> {
    let (_db, s) = store(backend).await?;
    s.create_factor(&totp("f2", "u1", 2_000)).await?;
    s.create_factor(&totp("f1", "u1", 1_500)).await?;
    let mut webauthn = totp("f3", "u1", 3_000);
    webauthn.factor_type = FACTOR_TYPE_WEBAUTHN.into();
    webauthn.provider = "FIDO".into();
    webauthn.secret_sealed = None;
    webauthn.credential_json = Some(r#"{"cred":"x"}"#.into());
    s.create_factor(&webauthn).await?;
    // Oldest first; another user's list is empty.
    let listed = s.list_factors("u1").await?;
    let ids: Vec<_> = listed.iter().map(|f| f.id.as_str()).collect();
    ensure!(ids == ["f1", "f2", "f3"], "{ids:?}");
    ensure!(listed[2] == webauthn, "{:?}", listed[2]);
    ensure!(s.list_factors("u2").await?.is_empty());
    ensure!(
        s.find_factor("u2", "f1").await?.is_none(),
        "scoped to its user"
    );
    // An unknown user cannot hold a factor.
    ensure!(matches!(
        s.create_factor(&totp("f9", "nobody", 1)).await,
        Err(StoreError::NotFound)
    ));
    // Update: name and credential.
    webauthn.name = "YubiKey".into();
    webauthn.credential_json = Some(r#"{"cred":"y"}"#.into());
    webauthn.last_updated = 4_000;
    s.update_factor(&webauthn).await?;
    ensure!(s.find_factor("u1", "f3").await? == Some(webauthn.clone()));
    ensure!(matches!(
        s.update_factor(&totp("nope", "u1", 1)).await,
        Err(StoreError::NotFound)
    ));
    // Delete one, then the rest (the reset returns what went).
    s.delete_factor("u1", "f2").await?;
    ensure!(matches!(
        s.delete_factor("u1", "f2").await,
        Err(StoreError::NotFound)
    ));
    let gone = s.delete_user_factors("u1").await?;
    ensure!(gone.len() == 2, "{gone:?}");
    ensure!(s.list_factors("u1").await?.is_empty());
    Ok(())
}

async fn totp_step_is_used_once_and_activates(backend: Backend) -> Result<()> {
    let (_db, s) = store(backend).await?;
    s.create_factor(&totp("f1", "u1", 1_000)).await?;
    // A pending factor is not usable for sign-in, only for activation.
    ensure!(!s.use_totp_step("u1", "f1", 100, false, 2_000).await?);
    ensure!(s.use_totp_step("u1", "f1", 100, true, 2_000).await?);
    let f = s
        .find_factor("u1", "f1")
        .await?
        .ok_or_else(|| anyhow::anyhow!("factor gone"))?;
    ensure!(f.status == FactorStatus::Active && f.last_used_step == Some(100));
    ensure!(f.last_updated == 2_000);
    // Activation happens once.
    ensure!(!s.use_totp_step("u1", "f1", 101, true, 2_001).await?);
    // The same step again, or an older one: refused. A later one: accepted.
    ensure!(!s.use_totp_step("u1", "f1", 100, false, 2_002).await?);
    ensure!(!s.use_totp_step("u1", "f1", 99, false, 2_002).await?);
    ensure!(s.use_totp_step("u1", "f1", 101, false, 2_003).await?);
    // Another user's id does not reach the factor.
    ensure!(!s.use_totp_step("u2", "f1", 200, false, 2_004).await?);
    Ok(())
}

async fn totp_replay_race_has_one_winner(backend: Backend) -> Result<()> {
    let (_db, s) = store(backend).await?;
    s.create_factor(&totp("f1", "u1", 1_000)).await?;
    ensure!(s.use_totp_step("u1", "f1", 10, true, 1_001).await?);
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (s, b) = (s.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            b.wait().await;
            s.use_totp_step("u1", "f1", 11, false, 1_002).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await?? {
            wins += 1;
        }
    }
    ensure!(wins == 1, "one code, {wins} sign-ins");
    Ok(())
}

async fn recovery_codes_are_single_use(backend: Backend) -> Result<()> {
    let (_db, s) = store(backend).await?;
    let codes: Vec<String> = (0..10).map(|i| format!("h{i}")).collect();
    s.replace_recovery_codes("u1", &codes, 1_000).await?;
    ensure!(s.count_recovery_codes("u1").await? == 10);
    ensure!(s.count_recovery_codes("u2").await? == 0);
    ensure!(
        !s.spend_recovery_code("u2", "h1", 1_001).await?,
        "another user's code"
    );
    // Racing spends of one code: one wins.
    let barrier = Arc::new(Barrier::new(6));
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (s, b) = (s.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            b.wait().await;
            s.spend_recovery_code("u1", "h1", 1_002).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await?? {
            wins += 1;
        }
    }
    ensure!(wins == 1, "{wins} spends of one code");
    ensure!(!s.spend_recovery_code("u1", "h1", 1_003).await?);
    ensure!(!s.spend_recovery_code("u1", "unknown", 1_003).await?);
    ensure!(s.count_recovery_codes("u1").await? == 9);
    // Regenerating replaces every code, spent or not.
    s.replace_recovery_codes("u1", &["n1".to_owned()], 2_000)
        .await?;
    ensure!(s.count_recovery_codes("u1").await? == 1);
    ensure!(!s.spend_recovery_code("u1", "h2", 2_001).await?);
    ensure!(s.spend_recovery_code("u1", "n1", 2_001).await?);
    // A reset of all factors removes the codes as well.
    s.replace_recovery_codes("u1", &["n2".to_owned()], 2_002)
        .await?;
    s.delete_user_factors("u1").await?;
    ensure!(s.count_recovery_codes("u1").await? == 0);
    Ok(())
}

async fn pending_sign_in_is_taken_once(backend: Backend) -> Result<()> {
    let (_db, s) = store(backend).await?;
    let p = pending("p1", "u1", 2_000);
    s.create_pending_sign_in(&p).await?;
    ensure!(s.find_pending_sign_in("p1", 1_500).await? == Some(p.clone()));
    ensure!(
        s.find_pending_sign_in("p1", 2_000).await?.is_none(),
        "expired"
    );
    ensure!(s.record_pending_attempt("p1").await? == 1);
    ensure!(s.record_pending_attempt("p1").await? == 2);
    ensure!(
        s.find_pending_sign_in("p1", 1_500)
            .await?
            .map(|p| p.attempts)
            == Some(2)
    );
    let amr: Vec<String> = ["pwd", "otp", "mfa"].map(String::from).to_vec();
    ensure!(s.mark_pending_verified("p1", &amr, 1_500).await?);
    ensure!(
        !s.mark_pending_verified("p1", &amr, 2_000).await?,
        "expired"
    );
    let found = s.find_pending_sign_in("p1", 1_500).await?;
    ensure!(
        found.and_then(|p| p.verified_amr) == Some(amr),
        "verified amr stored"
    );
    ensure!(
        !s.take_pending_sign_in("p1", 2_000).await?,
        "expired is not taken"
    );
    ensure!(s.take_pending_sign_in("p1", 1_500).await?);
    ensure!(!s.take_pending_sign_in("p1", 1_500).await?, "taken once");
    ensure!(s.find_pending_sign_in("p1", 1_500).await?.is_none());
    // Creating one clears the expired ones.
    s.create_pending_sign_in(&pending("p2", "u1", 1_100))
        .await?;
    let mut later = pending("p3", "u1", 9_000);
    later.created = 5_000;
    s.create_pending_sign_in(&later).await?;
    ensure!(!s.take_pending_sign_in("p2", 0).await?, "purged");
    Ok(())
}

fn pass<'a>(pending: &'a str, user_id: &'a str, step: i64, max: Option<u64>) -> TotpPass<'a> {
    TotpPass {
        pending_id_hash: pending,
        max_pending_attempts: 3,
        user_id,
        factor_id: "f1",
        step,
        max_failures: max,
        now: 1_500,
    }
}

/// The sign-in's one-transaction TOTP pass: every refusal writes nothing (the pending step,
/// the factor's last step and the failure count are as before), a pass writes all three.
async fn totp_sign_in_pass_is_all_or_nothing(backend: Backend) -> Result<()> {
    use TotpPassOutcome::{Passed, PendingGone, Refused};
    let (_db, s) = store(backend).await?;
    s.create_factor(&totp("f1", "u1", 1_000)).await?;
    ensure!(s.use_totp_step("u1", "f1", 10, true, 1_001).await?);
    s.create_pending_sign_in(&pending("p1", "u1", 2_000))
        .await?;
    s.record_signin_failure("u1", 1_002).await?;
    s.record_signin_failure("u1", 1_003).await?;
    let last_step = |s: Arc<dyn Store>| async move {
        Ok::<_, anyhow::Error>(
            s.find_factor("u1", "f1")
                .await?
                .and_then(|f| f.last_used_step),
        )
    };
    // A replayed step, or the lockout's budget reached (2 failures of 2): refused, untouched.
    ensure!(s.pass_totp_sign_in(&pass("p1", "u1", 10, Some(5))).await? == Refused);
    ensure!(s.pass_totp_sign_in(&pass("p1", "u1", 11, Some(2))).await? == Refused);
    ensure!(last_step(s.clone()).await? == Some(10));
    ensure!(
        s.find_pending_sign_in("p1", 1_500).await?.is_some(),
        "pending kept"
    );
    // Someone else's, expired, unknown or spent pending step: gone, untouched.
    ensure!(s.pass_totp_sign_in(&pass("p1", "u2", 11, Some(5))).await? == PendingGone);
    ensure!(
        s.pass_totp_sign_in(&pass("nope", "u1", 11, Some(5)))
            .await?
            == PendingGone
    );
    let late = TotpPass {
        now: 2_000,
        ..pass("p1", "u1", 11, Some(5))
    };
    ensure!(s.pass_totp_sign_in(&late).await? == PendingGone);
    s.create_pending_sign_in(&pending("p2", "u1", 2_000))
        .await?;
    for _ in 0..3 {
        s.record_pending_attempt("p2").await?;
    }
    ensure!(s.pass_totp_sign_in(&pass("p2", "u1", 11, Some(5))).await? == PendingGone);
    ensure!(last_step(s.clone()).await? == Some(10));
    // A user no longer ACTIVE: refused.
    ensure!(s.lock_user("u1", 1_004).await?);
    ensure!(s.pass_totp_sign_in(&pass("p1", "u1", 11, Some(5))).await? == Refused);
    ensure!(s.unlock_user_locked_before("u1", 1_005, 1_005).await?);
    // (The unlock cleared the failures: two again, under a budget of three.)
    s.record_signin_failure("u1", 1_005).await?;
    ensure!(s.record_signin_failure("u1", 1_005).await? == 2);
    // Under the budget: passes; the step is taken, the step spent, the failures cleared.
    ensure!(s.pass_totp_sign_in(&pass("p1", "u1", 11, Some(3))).await? == Passed);
    ensure!(last_step(s.clone()).await? == Some(11));
    ensure!(
        s.find_pending_sign_in("p1", 1_500).await?.is_none(),
        "pending taken"
    );
    ensure!(
        s.record_signin_failure("u1", 1_006).await? == 1,
        "failures cleared"
    );
    ensure!(s.pass_totp_sign_in(&pass("p1", "u1", 12, Some(3))).await? == PendingGone);
    // Lockout off: no budget, and the failures are left alone.
    s.create_pending_sign_in(&pending("p3", "u1", 2_000))
        .await?;
    ensure!(s.pass_totp_sign_in(&pass("p3", "u1", 12, None)).await? == Passed);
    ensure!(s.record_signin_failure("u1", 1_007).await? == 2);
    Ok(())
}

/// Concurrent passes of one code (one pending step, or several): exactly one signs in.
async fn totp_sign_in_pass_race_has_one_winner(backend: Backend) -> Result<()> {
    let (_db, s) = store(backend).await?;
    s.create_factor(&totp("f1", "u1", 1_000)).await?;
    ensure!(s.use_totp_step("u1", "f1", 10, true, 1_001).await?);
    let n = 8;
    for i in 0..n / 2 {
        s.create_pending_sign_in(&pending(&format!("p{i}"), "u1", 2_000))
            .await?;
    }
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let (s, b) = (s.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            b.wait().await;
            let id = format!("p{}", i / 2);
            s.pass_totp_sign_in(&pass(&id, "u1", 11, Some(5))).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await?? == TotpPassOutcome::Passed {
            wins += 1;
        }
    }
    ensure!(wins == 1, "one code, {wins} sign-ins");
    Ok(())
}

async fn session_amr_upgrade(backend: Backend) -> Result<()> {
    let (_db, s) = store(backend).await?;
    let session = Session {
        id_hash: "s1".into(),
        user_id: "u1".into(),
        auth_time: 1_000,
        amr: vec!["pwd".into()],
        created: 1_000,
        expires_at: 5_000,
    };
    s.create_session(&session).await?;
    let amr: Vec<String> = ["pwd", "otp", "mfa"].map(String::from).to_vec();
    ensure!(s.upgrade_session_amr("s1", &amr, 2_000).await?);
    let now = s
        .find_session("s1", 2_000)
        .await?
        .ok_or_else(|| anyhow::anyhow!("session gone"))?;
    ensure!(now.amr == amr && now.auth_time == 1_000, "{now:?}");
    ensure!(!s.upgrade_session_amr("s1", &amr, 5_000).await?, "expired");
    ensure!(!s.upgrade_session_amr("nope", &amr, 2_000).await?);
    Ok(())
}

async fn factors_go_with_their_user(backend: Backend) -> Result<()> {
    let (_db, s) = store(backend).await?;
    s.create_factor(&totp("f1", "u1", 1_000)).await?;
    s.create_factor(&totp("f2", "u2", 1_000)).await?;
    s.replace_recovery_codes("u1", &["h1".to_owned()], 1_000)
        .await?;
    s.create_pending_sign_in(&pending("p1", "u1", 9_000))
        .await?;
    s.delete_user("u1").await?;
    ensure!(s.list_factors("u1").await?.is_empty());
    ensure!(s.count_recovery_codes("u1").await? == 0);
    ensure!(s.find_pending_sign_in("p1", 1_000).await?.is_none());
    ensure!(s.list_factors("u2").await?.len() == 1, "others stay");
    // A user of the same id later starts with nothing.
    s.create_user(&user("u1")).await?;
    ensure!(s.list_factors("u1").await?.is_empty());
    Ok(())
}

macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    super::$name(gatehouse_store::test_support::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() -> anyhow::Result<()> {
                    super::$name(gatehouse_store::test_support::Backend::Postgres).await
                }
            )+
        }
    };
}

both_backends!(
    factors_round_trip,
    totp_step_is_used_once_and_activates,
    totp_replay_race_has_one_winner,
    recovery_codes_are_single_use,
    pending_sign_in_is_taken_once,
    totp_sign_in_pass_is_all_or_nothing,
    totp_sign_in_pass_race_has_one_winner,
    session_amr_upgrade,
    factors_go_with_their_user,
);
