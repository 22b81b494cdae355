//! Settings › Import from Okta in the console: a second Gatehouse plays the source org; a
//! super administrator gives its URL and API token, reads the dry-run plan, confirms, watches
//! the progress and reads the report. Only super administrators reach the page, its forms
//! need the session's CSRF token, and the token never comes back in a page.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::console::{admin_browser, console_sign_in, page_with_csrf};
use crate::helpers::{Browser, Reply, TestApp, spawn_app};

backend_tests!(console_imports_an_org_after_its_plan);

const PAGE: &str = "/admin/settings/import/okta";

/// The page, reloaded (as its refresh does) until it shows `marker`.
async fn wait_for(app: &TestApp, browser: &Browser, marker: &str) -> Result<Reply> {
    let started = Instant::now();
    loop {
        let page = browser.get(&format!("{}{PAGE}", app.base)).await?;
        ensure!(page.status == StatusCode::OK, "{page:?}");
        if page.body.contains(marker) {
            return Ok(page);
        }
        if page.body.contains("id=\"import-failed\"") {
            bail!("the import stopped: {}", page.body);
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("no {marker} after 60 s: {}", page.body);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The `<td>` cells of the summary row for `kind`.
fn row(html: &str, kind: &str) -> Option<Vec<String>> {
    let at = html.find(&format!("<tr><td>{kind}</td>"))?;
    let end = at + html[at..].find("</tr>")?;
    Some(
        html[at..end]
            .split("<td>")
            .skip(2)
            .map(|c| c.trim_end_matches("</td>").to_owned())
            .collect(),
    )
}

async fn console_imports_an_org_after_its_plan(backend: Backend) -> Result<()> {
    let source = spawn_app(backend).await?;
    let bob = source.create_user("bob@example.com").await?;
    source.create_group_with("Engineering", &[&bob]).await?;
    let token = source.api_token().await?;
    let target = spawn_app(backend).await?;

    // Only super administrators: alice (an end user) gets the 403 page.
    let alice = Browser::new()?;
    console_sign_in(&target, &alice, &target.alice.login, "/app/UserHome").await?;
    let r = alice.get(&format!("{}{PAGE}", target.base)).await?;
    ensure!(r.status == StatusCode::FORBIDDEN, "{r:?}");

    let admin = admin_browser(&target).await?;
    let (page, csrf) = page_with_csrf(&target, &admin, PAGE).await?;
    ensure!(page.body.contains("Import from Okta"), "{page:?}");
    let url = format!("{}{PAGE}", target.base);
    let fields = [
        ("orgUrl", source.base.as_str()),
        ("apiToken", token.as_str()),
        ("deleted", "report"),
    ];
    // Without the session's CSRF token nothing starts.
    let forged = admin.post_form(&url, &fields).await?;
    ensure!(forged.status == StatusCode::FORBIDDEN, "{forged:?}");
    // A field error for a URL that is none, and the token is not put back into the page.
    let bad = admin
        .post_form(
            &url,
            &[("csrf", &csrf), ("orgUrl", "acme"), ("apiToken", &token)],
        )
        .await?;
    ensure!(bad.status == StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    ensure!(bad.body.contains("id=\"orgUrl-error\""), "{bad:?}");
    ensure!(
        !bad.body.contains(&token),
        "the token came back in the page"
    );

    // The plan first: nothing is written.
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(fields);
    let started = admin.post_form(&url, &form).await?;
    ensure!(started.status == StatusCode::SEE_OTHER, "{started:?}");
    let plan = wait_for(&target, &admin, "id=\"import-plan\"").await?;
    ensure!(
        !plan.body.contains(&token),
        "the token came back in the plan"
    );
    let users = row(&plan.body, "users").context("no users row in the plan")?;
    ensure!(users[0] != "0", "the plan creates no user: {users:?}");
    ensure!(
        target.provider.store.find_user(&bob.id).await?.is_none(),
        "the dry run wrote bob"
    );
    let confirm = plan
        .body
        .split("action=\"")
        .filter_map(|s| s.split('"').next())
        .find(|a| a.ends_with("/confirm"))
        .context("no confirm form")?
        .to_owned();
    // The import needs its confirmation box.
    let unchecked = admin
        .post_form(&format!("{}{confirm}", target.base), &[("csrf", &csrf)])
        .await?;
    ensure!(
        unchecked.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{unchecked:?}"
    );
    let go = admin
        .post_form(
            &format!("{}{confirm}", target.base),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    ensure!(go.status == StatusCode::SEE_OTHER, "{go:?}");
    let report = wait_for(&target, &admin, "id=\"import-report\"").await?;
    ensure!(
        !report.body.contains(&token),
        "the token came back in the report"
    );
    let users = row(&report.body, "users").context("no users row in the report")?;
    ensure!(users[0] != "0", "no user created: {users:?}");
    let groups = row(&report.body, "groups").context("no groups row")?;
    ensure!(groups[0] == "1", "Engineering not created: {groups:?}");
    // What could not be carried, and why: the source's alice has the login of ours.
    ensure!(
        report.body.contains("Not carried (") && report.body.contains("alice@example.com"),
        "{}",
        report.body
    );
    let carried = target
        .provider
        .store
        .find_user(&bob.id)
        .await?
        .context("bob was not imported with his id")?;
    ensure!(carried.login == bob.login);
    // bob signs in here with the password he has at the source (checked there once).
    let bobs = Browser::new()?;
    let r = console_sign_in(&target, &bobs, &bob.login, "/app/UserHome").await?;
    ensure!(r.header("location") == Some("/app/UserHome"), "{r:?}");

    // A second run from the page: its plan changes nothing that is already here.
    let (_, csrf) = page_with_csrf(&target, &admin, PAGE).await?;
    let mut again = vec![("csrf", csrf.as_str())];
    again.extend(fields);
    admin.post_form(&url, &again).await?;
    let plan = wait_for(&target, &admin, "id=\"import-plan\"").await?;
    let groups = row(&plan.body, "groups").context("no groups row")?;
    ensure!(groups[0] == "0" && groups[1] == "0", "{groups:?}");
    // Cancelling drops the plan (and its token).
    let current = plan
        .body
        .split("action=\"")
        .filter_map(|s| s.split('"').next())
        .find(|a| a.ends_with("/cancel"))
        .context("no cancel form")?
        .to_owned();
    let r = admin
        .post_form(&format!("{}{current}", target.base), &[("csrf", &csrf)])
        .await?;
    ensure!(r.status == StatusCode::SEE_OTHER, "{r:?}");
    let stale = admin
        .post_form(
            &format!("{}{}", target.base, current.replace("/cancel", "/confirm")),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await?;
    ensure!(stale.status == StatusCode::BAD_REQUEST, "{stale:?}");
    Ok(())
}
