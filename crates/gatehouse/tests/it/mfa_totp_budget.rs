//! The hosted factor step's lockout bookkeeping once a right code passes in one store
//! transaction (`FactorStore::pass_totp_sign_in`): the pass clears the account's failures, and
//! a right code is still refused once the failures reach the lockout's budget.

use anyhow::{Result, ensure};
use gatehouse_core::domain::UserStatus;
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::helpers::{Browser, spawn_app_with};
use crate::lockout::status_of;
use crate::mfa_totp::{code_now, enroll_alice, password_then_factor_page, submit_code};

backend_tests!(
    a_right_code_clears_the_failures,
    a_right_code_over_the_budget_is_refused,
);

/// Two wrong codes, then the right one: signed in, and the account's failure count is back to
/// zero (the next failure is the first).
async fn a_right_code_clears_the_failures(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.security.lockout_max_attempts = 3).await?;
    let token = app.api_token().await?;
    let (_, secret) = enroll_alice(&app, &token).await?;
    let browser = Browser::new()?;
    let mut page = password_then_factor_page(&app, &browser).await?;
    let right = code_now(&app, &secret, 0);
    let wrong = format!("{:06}", (right.parse::<u32>()? + 7) % 1_000_000);
    for _ in 0..2 {
        page = submit_code(&app, &browser, &page, &wrong).await?;
        ensure!(page.status == StatusCode::UNAUTHORIZED, "{page:?}");
    }
    let done = submit_code(&app, &browser, &page, &right).await?;
    ensure!(done.status == StatusCode::FOUND, "{done:?}");
    ensure!(done.set_cookie("gh_sid").is_some(), "{done:?}");
    let now = app.provider.now();
    let next = app
        .provider
        .store
        .record_signin_failure(&app.alice.id, now)
        .await?;
    ensure!(next == 1, "failures not cleared by the factor: {next}");
    Ok(())
}

/// Failures at the budget while the account is still ACTIVE (attempts in flight elsewhere):
/// the right code does not sign in.
async fn a_right_code_over_the_budget_is_refused(backend: Backend) -> Result<()> {
    let app = spawn_app_with(backend, |s| s.security.lockout_max_attempts = 3).await?;
    let token = app.api_token().await?;
    let (_, secret) = enroll_alice(&app, &token).await?;
    let browser = Browser::new()?;
    let page = password_then_factor_page(&app, &browser).await?;
    let now = app.provider.now();
    for _ in 0..3 {
        app.provider
            .store
            .record_signin_failure(&app.alice.id, now)
            .await?;
    }
    ensure!(status_of(&app, &app.alice.id).await? == UserStatus::Active);
    let r = submit_code(&app, &browser, &page, &code_now(&app, &secret, 0)).await?;
    ensure!(r.status == StatusCode::UNAUTHORIZED, "{r:?}");
    ensure!(r.set_cookie("gh_sid").is_none(), "{r:?}");
    Ok(())
}
