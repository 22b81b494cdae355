//! The console's sign-on policy pages: list, add a policy and a rule requiring MFA (which the
//! evaluation then sees), field errors, a refused CSRF token, the confirmation page before a
//! delete, and the default policy's rule left alone.

use anyhow::{Context as _, Result, ensure};
use gatehouse_core::domain::{DEFAULT_SIGN_ON_POLICY_ID, PolicyType};
use gatehouse_core::services::sign_on_policy::evaluate;
use gatehouse_store::test_support::Backend;
use reqwest::StatusCode;

use crate::console::{admin_browser, assert_console_headers, page_with_csrf};
use crate::helpers::spawn_app;

backend_tests!(console_manages_sign_on_policies);

async fn console_manages_sign_on_policies(backend: Backend) -> Result<()> {
    let app = spawn_app(backend).await?;
    let admins = app.create_group_with("Admins", &[&app.alice]).await?;
    let admin = admin_browser(&app).await?;
    let (list, csrf) = page_with_csrf(&app, &admin, "/admin/policies").await?;
    assert_console_headers(&list.headers)?;
    ensure!(
        list.body.contains("Default Policy") && list.body.contains("password only"),
        "{list:?}"
    );

    // A forged form changes nothing.
    let url = format!("{}/admin/policies", app.base);
    let forged = admin
        .post_form(
            &url,
            &[("csrf", "x"), ("type", "OKTA_SIGN_ON"), ("name", "Forged")],
        )
        .await?;
    ensure!(forged.status == StatusCode::FORBIDDEN, "{forged:?}");
    // A missing name is shown next to its field.
    let empty = admin
        .post_form(
            &url,
            &[("csrf", &csrf), ("type", "OKTA_SIGN_ON"), ("name", "")],
        )
        .await?;
    ensure!(
        empty.status == StatusCode::UNPROCESSABLE_ENTITY
            && empty.body.contains("id=\"name-error\""),
        "{empty:?}"
    );
    let created = admin
        .post_form(
            &url,
            &[
                ("csrf", &csrf),
                ("type", "OKTA_SIGN_ON"),
                ("name", "Admins MFA"),
                ("include", &admins.id),
            ],
        )
        .await?;
    ensure!(created.status == StatusCode::SEE_OTHER, "{created:?}");
    let location = created
        .header("location")
        .context("no location")?
        .to_owned();
    let policy_path = location.split('?').next().unwrap_or_default().to_owned();
    let policy_id = policy_path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    ensure!(policy_id.starts_with("00p"), "{location}");

    // A rule: DEVICE without a lifetime is refused next to the field, then added.
    let (_, csrf) = page_with_csrf(&app, &admin, &policy_path).await?;
    let rules_url = format!("{}{policy_path}/rules", app.base);
    let bad = admin
        .post_form(
            &rules_url,
            &[
                ("csrf", &csrf),
                ("name", "MFA"),
                ("require_factor", "1"),
                ("prompt", "DEVICE"),
            ],
        )
        .await?;
    ensure!(
        bad.status == StatusCode::UNPROCESSABLE_ENTITY
            && bad.body.contains("id=\"factor_lifetime-error\""),
        "{bad:?}"
    );
    let added = admin
        .post_form(
            &rules_url,
            &[
                ("csrf", &csrf),
                ("name", "MFA"),
                ("access", "ALLOW"),
                ("require_factor", "1"),
                ("prompt", "DEVICE"),
                ("factor_lifetime", "60"),
                ("session_lifetime", "0"),
            ],
        )
        .await?;
    ensure!(added.status == StatusCode::SEE_OTHER, "{added:?}");
    let shown = admin.get(&format!("{}{policy_path}", app.base)).await?;
    ensure!(
        shown.body.contains("MFA, device remembered 60 min"),
        "{shown:?}"
    );
    let groups: Vec<String> = app
        .provider
        .store
        .list_user_groups(&app.alice.id)
        .await?
        .into_iter()
        .map(|g| g.id)
        .collect();
    let needs = evaluate(app.provider.store.as_ref(), &app.alice, &groups, None).await?;
    ensure!(
        needs.require_mfa && needs.remember_device_for == Some(3_600),
        "{needs:?}"
    );

    // The default policy's default rule has no edit form.
    let default_rules = app
        .provider
        .store
        .list_policy_rules(DEFAULT_SIGN_ON_POLICY_ID)
        .await?;
    let default_rule = format!(
        "{}/admin/policy/{DEFAULT_SIGN_ON_POLICY_ID}/rule/{}",
        app.base, default_rules[0].id
    );
    let page = admin.get(&default_rule).await?;
    ensure!(
        page.status == StatusCode::OK && !page.body.contains("id=\"save-rule\""),
        "{page:?}"
    );

    // Deleting asks first; the confirmation's form deletes.
    let delete_url = format!("{}{policy_path}/delete", app.base);
    let ask = admin.post_form(&delete_url, &[("csrf", &csrf)]).await?;
    ensure!(
        ask.status == StatusCode::OK && ask.body.contains("id=\"confirm-delete\""),
        "{ask:?}"
    );
    ensure!(
        app.provider.store.find_policy(&policy_id).await?.is_some(),
        "asking deletes nothing"
    );
    let done = admin
        .post_form(&delete_url, &[("csrf", &csrf), ("confirm", "yes")])
        .await?;
    ensure!(done.status == StatusCode::SEE_OTHER, "{done:?}");
    ensure!(app.provider.store.find_policy(&policy_id).await?.is_none());
    let left = app
        .provider
        .store
        .list_policies(Some(PolicyType::OktaSignOn))
        .await?;
    ensure!(left.len() == 1, "{left:?}");
    Ok(())
}
