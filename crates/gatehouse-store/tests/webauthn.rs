//! The WebAuthn store on both backends (migration 0019): ceremonies replaced by a new begin,
//! taken once (also when many take at once), expired ones useless, bound to what they were
//! begun for; the credential's counter only moving forward, in one statement.

use std::sync::Arc;

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;
use gatehouse_core::store::{CeremonyPurpose, Store, WebauthnCeremony};
use gatehouse_store::connect;
use gatehouse_store::test_support::{Backend, TestDatabase};

mod common;
use common::user;

fn ceremony(binding: &str, purpose: CeremonyPurpose, state: &str, at: i64) -> WebauthnCeremony {
    WebauthnCeremony {
        binding_hash: binding.into(),
        purpose,
        user_id: "u1".into(),
        state_json: state.into(),
        created: at,
        expires_at: at + 300,
    }
}

fn factor(id: &str, factor_type: &str) -> Factor {
    Factor {
        id: id.into(),
        user_id: "u1".into(),
        factor_type: factor_type.into(),
        provider: "FIDO".into(),
        status: FactorStatus::Active,
        name: "Key".into(),
        secret_sealed: None,
        credential_json: Some("{}".into()),
        last_used_step: None,
        created: 1_000,
        last_updated: 1_000,
    }
}

async fn ceremonies_are_taken_once(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    store.create_user(&user("u1")).await?;
    let reg = CeremonyPurpose::Register;
    let auth = CeremonyPurpose::Authenticate;

    store
        .put_webauthn_ceremony(&ceremony("b1", reg, "first", 2_000))
        .await?;
    // A second begin replaces the first.
    store
        .put_webauthn_ceremony(&ceremony("b1", reg, "second", 2_010))
        .await?;
    // The same binding for another purpose is another ceremony.
    store
        .put_webauthn_ceremony(&ceremony("b1", auth, "auth", 2_010))
        .await?;
    ensure!(
        store
            .take_webauthn_ceremony("b2", reg, 2_020)
            .await?
            .is_none(),
        "another binding"
    );
    let taken = store.take_webauthn_ceremony("b1", reg, 2_020).await?;
    ensure!(
        taken.as_ref().map(|c| c.state_json.as_str()) == Some("second"),
        "{taken:?}"
    );
    ensure!(
        taken == Some(ceremony("b1", reg, "second", 2_010)),
        "{taken:?}"
    );
    ensure!(
        store
            .take_webauthn_ceremony("b1", reg, 2_020)
            .await?
            .is_none(),
        "taken twice"
    );
    // Expired: gone, and not handed out.
    ensure!(
        store
            .take_webauthn_ceremony("b1", auth, 2_310)
            .await?
            .is_none(),
        "expired one taken"
    );
    ensure!(
        store
            .take_webauthn_ceremony("b1", auth, 2_020)
            .await?
            .is_none(),
        "an expired one is deleted when asked for"
    );

    // Many takers at once: exactly one gets it.
    store
        .put_webauthn_ceremony(&ceremony("race", auth, "s", 3_000))
        .await?;
    let store: Arc<dyn Store> = store;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.take_webauthn_ceremony("race", CeremonyPurpose::Authenticate, 3_001)
                .await
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await??.is_some() {
            winners += 1;
        }
    }
    ensure!(winners == 1, "{winners} takers won");

    // Ceremonies go with their user.
    store
        .put_webauthn_ceremony(&ceremony("b3", reg, "s", 4_000))
        .await?;
    store.delete_user("u1").await?;
    ensure!(
        store
            .take_webauthn_ceremony("b3", reg, 4_001)
            .await?
            .is_none()
    );
    Ok(())
}

async fn counters_only_move_forward(backend: Backend) -> Result<()> {
    let db = TestDatabase::new(backend).await?;
    let store = connect(&db.url).await?;
    store.create_user(&user("u1")).await?;
    store
        .create_factor(&factor("fwf1", FACTOR_TYPE_WEBAUTHN))
        .await?;
    store
        .create_factor(&factor("uft1", FACTOR_TYPE_TOTP))
        .await?;

    ensure!(
        store
            .record_webauthn_use("u1", "fwf1", 5, "{\"c\":5}", 2_000)
            .await?
    );
    ensure!(
        !store
            .record_webauthn_use("u1", "fwf1", 5, "{\"c\":5}", 2_001)
            .await?,
        "same counter"
    );
    ensure!(
        !store
            .record_webauthn_use("u1", "fwf1", 4, "{\"c\":4}", 2_002)
            .await?,
        "lower counter"
    );
    ensure!(
        store
            .record_webauthn_use("u1", "fwf1", 6, "{\"c\":6}", 2_003)
            .await?
    );
    let f = store.find_factor("u1", "fwf1").await?;
    ensure!(
        f.as_ref()
            .is_some_and(|f| f.credential_json.as_deref() == Some("{\"c\":6}")
                && f.last_used_step == Some(6)
                && f.last_updated == 2_003),
        "{f:?}"
    );
    // Not a WebAuthn factor, or someone else's: nothing written.
    ensure!(
        !store
            .record_webauthn_use("u1", "uft1", 9, "{}", 2_004)
            .await?
    );
    ensure!(
        !store
            .record_webauthn_use("u2", "fwf1", 9, "{}", 2_004)
            .await?
    );

    // An authenticator that does not count (always 0) is accepted each time.
    store
        .create_factor(&factor("fwf2", FACTOR_TYPE_WEBAUTHN))
        .await?;
    ensure!(
        store
            .record_webauthn_use("u1", "fwf2", 0, "{}", 2_005)
            .await?
    );
    ensure!(
        store
            .record_webauthn_use("u1", "fwf2", 0, "{}", 2_006)
            .await?
    );

    // Two answers racing with the same counter: one applies.
    let store: Arc<dyn Store> = store;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.record_webauthn_use("u1", "fwf1", 7, "{}", 3_000).await
        }));
    }
    let mut applied = 0;
    for t in tasks {
        if t.await?? {
            applied += 1;
        }
    }
    ensure!(applied == 1, "{applied} applied");
    Ok(())
}

macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() -> anyhow::Result<()> {
                    super::$name(gatehouse_store::test_support::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() -> anyhow::Result<()> {
                    super::$name(gatehouse_store::test_support::Backend::Postgres).await
                }
            }
        )+
    };
}

both_backends!(ceremonies_are_taken_once, counters_only_move_forward);
