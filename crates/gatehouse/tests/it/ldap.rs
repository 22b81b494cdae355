//! LDAP delegation in the engine, with a scripted directory in place of the `ldap3` client:
//! JIT provisioning and group sync, lockout counting (an outage is not counted), local users
//! and local names never taken over, the import's deactivations and its one-node lease.
//! (`tests/clients/run_ldap.sh` proves the same against a real slapd.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result, ensure};
use async_trait::async_trait;
use gatehouse_core::audit::{Actor, ClientInfo};
use gatehouse_core::domain::UserStatus;
use gatehouse_core::oauth2::OAuthError;
use gatehouse_core::services::directory_rules::DirectoryError;
use gatehouse_core::services::ldap::incremental::incremental_sync;
use gatehouse_core::services::ldap::schedule::{Schedule, scheduled_round};
use gatehouse_core::services::ldap::sync::{SyncError, SyncMode, full_sync};
use gatehouse_core::services::ldap::{
    AttributeMapping, Directory, DirectoryEntry, DirectoryUnavailable,
};
use gatehouse_core::services::lockout::verify_sign_in;
use gatehouse_core::services::{groups, users};
use gatehouse_store::test_support::Backend;

use crate::helpers::{PASSWORD, TestApp, spawn_app};

backend_tests!(
    ldap_first_sign_in_provisions_and_syncs_groups,
    ldap_lockout_counts_failures_but_not_outages,
    ldap_local_users_and_names_are_left_alone,
    ldap_import_deactivates_and_runs_on_one_node,
    ldap_incremental_import_reads_only_changes,
);

#[derive(Default)]
struct State {
    /// login → (entry, password)
    users: HashMap<String, (DirectoryEntry, String)>,
    /// group name → member DNs
    groups: HashMap<String, Vec<String>>,
    down: bool,
    binds: usize,
    /// The directory's change counter (like AD's uSNChanged): each change takes the next.
    usn: u64,
    /// group name → the counter at its last change
    group_usn: HashMap<String, u64>,
}

#[derive(Default, Clone)]
struct FakeDirectory(Arc<Mutex<State>>);

fn entry(dn: &str, attrs: &[(&str, &str)]) -> DirectoryEntry {
    DirectoryEntry {
        dn: dn.into(),
        attrs: attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
            .collect(),
    }
}

fn group_entry(name: &str, members: &[String], usn: u64) -> DirectoryEntry {
    DirectoryEntry {
        dn: format!("cn={name},ou=groups,dc=example"),
        attrs: HashMap::from([
            ("cn".to_owned(), vec![name.to_owned()]),
            ("member".to_owned(), members.to_vec()),
            ("modifyTimestamp".to_owned(), vec![usn.to_string()]),
        ]),
    }
}

impl FakeDirectory {
    fn add_user(&self, login: &str, password: &str, sn: &str) {
        let dn = format!("uid={login},ou=people,dc=example");
        let mut state = self.lock();
        state.usn += 1;
        let e = entry(
            &dn,
            &[
                ("uid", login),
                ("mail", &format!("{login}@example.org")),
                ("givenName", "Given"),
                ("sn", sn),
                ("modifyTimestamp", &state.usn.to_string()),
            ],
        );
        state
            .users
            .insert(login.to_owned(), (e, password.to_owned()));
    }
    fn remove_user(&self, login: &str) {
        self.lock().users.remove(login);
    }
    fn set_groups(&self, name: &str, logins: &[&str]) {
        let dns = logins
            .iter()
            .map(|l| format!("uid={l},ou=people,dc=example"))
            .collect();
        let mut state = self.lock();
        state.usn += 1;
        let usn = state.usn;
        state.group_usn.insert(name.to_owned(), usn);
        state.groups.insert(name.to_owned(), dns);
    }
    fn set_down(&self, down: bool) {
        self.lock().down = down;
    }
    fn binds(&self) -> usize {
        self.lock().binds
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn up(&self) -> Result<std::sync::MutexGuard<'_, State>, DirectoryUnavailable> {
        let state = self.lock();
        if state.down {
            return Err(DirectoryUnavailable("connect: connection refused".into()));
        }
        Ok(state)
    }
}

#[async_trait]
impl Directory for FakeDirectory {
    async fn find_user(&self, login: &str) -> Result<Option<DirectoryEntry>, DirectoryUnavailable> {
        Ok(self.up()?.users.get(login).map(|(e, _)| e.clone()))
    }
    async fn check_password(&self, dn: &str, password: &str) -> Result<bool, DirectoryUnavailable> {
        let mut state = self.up()?;
        state.binds += 1;
        Ok(state
            .users
            .values()
            .any(|(e, p)| e.dn == dn && p == password && !password.is_empty()))
    }
    async fn groups_of(
        &self,
        user: &DirectoryEntry,
        _login: &str,
    ) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable> {
        let state = self.up()?;
        Ok(state
            .groups
            .iter()
            .filter(|(_, members)| members.contains(&user.dn))
            .map(|(name, members)| group_entry(name, members, state.group_usn[name]))
            .collect())
    }
    async fn list_users(&self) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable> {
        Ok(self.up()?.users.values().map(|(e, _)| e.clone()).collect())
    }
    async fn list_groups(&self) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable> {
        let state = self.up()?;
        Ok(state
            .groups
            .iter()
            .map(|(name, members)| group_entry(name, members, state.group_usn[name]))
            .collect())
    }
    async fn list_users_changed(
        &self,
        since: &str,
    ) -> Result<Vec<DirectoryEntry>, DirectoryUnavailable> {
        let since: u64 = since.parse().unwrap_or(0);
        Ok(self
            .up()?
            .users
            .values()
            .filter(|(e, _)| {
                e.first("modifyTimestamp")
                    .and_then(|v| v.parse::<u64>().ok())
                    .is_some_and(|v| v >= since)
            })
            .map(|(e, _)| e.clone())
            .collect())
    }
}

async fn with_directory(backend: Backend) -> Result<(TestApp, FakeDirectory)> {
    let app = spawn_app(backend).await?;
    let directory = FakeDirectory::default();
    app.provider
        .ldap
        .install(Arc::new(directory.clone()), AttributeMapping::default());
    Ok((app, directory))
}

async fn sign_in(app: &TestApp, login: &str, password: &str) -> Result<Option<String>, OAuthError> {
    let client = ClientInfo::default();
    Ok(verify_sign_in(&app.provider, &client, login, password)
        .await?
        .map(|u| u.id))
}

async fn group_names(app: &TestApp, user_id: &str) -> Result<Vec<String>> {
    let mut names: Vec<String> = app
        .provider
        .store
        .list_user_groups(user_id)
        .await?
        .into_iter()
        .map(|g| g.name)
        .filter(|n| n != "Everyone")
        .collect();
    names.sort();
    Ok(names)
}

async fn ldap_first_sign_in_provisions_and_syncs_groups(backend: Backend) -> Result<()> {
    let (app, dir) = with_directory(backend).await?;
    dir.add_user("carol", "carol-pw", "Carter");
    dir.set_groups("eng", &["carol"]);
    dir.set_groups("ops", &["carol"]);
    let id = sign_in(&app, "carol", "carol-pw")
        .await?
        .ok_or_else(|| anyhow::anyhow!("carol was not signed in"))?;
    let user = app
        .provider
        .store
        .find_user(&id)
        .await?
        .context("created")?;
    ensure!(user.status == UserStatus::Active && user.password_hash.is_none());
    ensure!(user.email == "carol@example.org" && user.last_name == "Carter");
    ensure!(group_names(&app, &id).await? == ["eng", "ops"]);
    let source = app
        .provider
        .store
        .user_source(&id)
        .await?
        .context("source")?;
    ensure!(source.source == "ldap" && source.external_id == "uid=carol,ou=people,dc=example");
    ensure!(app.provider.store.list_source_groups("ldap").await?.len() == 2);

    // The next sign-in brings the directory's changes.
    dir.add_user("carol", "carol-pw", "Cooper");
    dir.set_groups("eng", &[]);
    ensure!(sign_in(&app, "carol", "carol-pw").await?.as_deref() == Some(id.as_str()));
    let user = app.provider.store.find_user(&id).await?.context("kept")?;
    ensure!(
        user.last_name == "Cooper",
        "profile not updated: {}",
        user.last_name
    );
    ensure!(group_names(&app, &id).await? == ["ops"]);

    // The directory holds the password: none can be set in Gatehouse.
    let refused = users::update_user(
        &app.provider,
        &Actor::system(),
        user,
        users::ProfileUpdate {
            password: Some("a-local-password-1".into()),
            ..Default::default()
        },
        false,
    )
    .await;
    ensure!(
        matches!(refused, Err(DirectoryError::Forbidden(_))),
        "{refused:?}"
    );
    // Wrong, empty and unknown: refused; the empty one never reaches a bind.
    ensure!(sign_in(&app, "carol", "nope").await?.is_none());
    let binds = dir.binds();
    ensure!(sign_in(&app, "carol", "").await?.is_none());
    ensure!(
        dir.binds() == binds,
        "an empty password was sent to the directory"
    );
    ensure!(sign_in(&app, "nobody", "carol-pw").await?.is_none());
    Ok(())
}

async fn ldap_lockout_counts_failures_but_not_outages(backend: Backend) -> Result<()> {
    let (app, dir) = with_directory(backend).await?;
    dir.add_user("carol", "carol-pw", "Carter");
    let id = sign_in(&app, "carol", "carol-pw")
        .await?
        .context("signed in")?;
    let max = app.provider.lockout.max_attempts;
    ensure!(max > 0);
    // More outages than the lockout allows failures: none of them counts.
    dir.set_down(true);
    for _ in 0..=max {
        match sign_in(&app, "carol", "carol-pw").await {
            Err(OAuthError::TemporarilyUnavailable(m)) => ensure!(m.contains("LDAP")),
            other => anyhow::bail!("outage answered {other:?}"),
        }
    }
    // Local users do not depend on the directory.
    ensure!(
        sign_in(&app, "alice@example.com", PASSWORD)
            .await?
            .is_some()
    );
    dir.set_down(false);
    ensure!(sign_in(&app, "carol", "carol-pw").await?.as_deref() == Some(id.as_str()));
    // Wrong passwords do count, as for local users.
    for _ in 0..max {
        ensure!(sign_in(&app, "carol", "wrong").await?.is_none());
    }
    ensure!(sign_in(&app, "carol", "carol-pw").await?.is_none());
    let user = app.provider.store.find_user(&id).await?.context("kept")?;
    ensure!(user.status == UserStatus::LockedOut, "{:?}", user.status);
    Ok(())
}

async fn ldap_local_users_and_names_are_left_alone(backend: Backend) -> Result<()> {
    let (app, dir) = with_directory(backend).await?;
    // An entry with a local user's login: the local password still decides, the directory's
    // does not, and the import refuses the entry.
    dir.add_user("alice@example.com", "directory-pw", "Liddell");
    ensure!(
        sign_in(&app, "alice@example.com", "directory-pw")
            .await?
            .is_none()
    );
    ensure!(
        sign_in(&app, "alice@example.com", PASSWORD)
            .await?
            .is_some()
    );
    ensure!(dir.binds() == 0);
    // A local group of the same name as a directory group is not taken over.
    groups::create_group(&app.provider, &Actor::system(), "admins", "local").await?;
    dir.add_user("carol", "carol-pw", "Carter");
    dir.set_groups("admins", &["carol"]);
    let report = full_sync(&app.provider).await?;
    ensure!(report.refused == 1 && report.created == 1, "{report:?}");
    let carol = app
        .provider
        .store
        .find_user_by_login("carol")
        .await?
        .context("imported")?;
    ensure!(group_names(&app, &carol.id).await?.is_empty());
    ensure!(
        app.provider
            .store
            .user_source(&app.alice.id)
            .await?
            .is_none()
    );
    Ok(())
}

async fn ldap_import_deactivates_and_runs_on_one_node(backend: Backend) -> Result<()> {
    let (app, dir) = with_directory(backend).await?;
    dir.add_user("carol", "carol-pw", "Carter");
    dir.add_user("dave", "dave-pw", "Davis");
    dir.set_groups("staff", &["carol", "dave"]);
    let report = full_sync(&app.provider).await?;
    ensure!(
        report.created == 2 && report.users_in_directory == 2,
        "{report:?}"
    );
    let dave = app
        .provider
        .store
        .find_user_by_login("dave")
        .await?
        .context("imported")?;
    ensure!(group_names(&app, &dave.id).await? == ["staff"]);
    dir.remove_user("dave");
    let report = full_sync(&app.provider).await?;
    ensure!(report.deactivated == 1, "{report:?}");
    let dave = app
        .provider
        .store
        .find_user(&dave.id)
        .await?
        .context("kept")?;
    ensure!(dave.status == UserStatus::Deprovisioned);
    ensure!(sign_in(&app, "dave", "dave-pw").await?.is_none());
    // Back in the directory: the import reactivates.
    dir.add_user("dave", "dave-pw", "Davis");
    full_sync(&app.provider).await?;
    ensure!(sign_in(&app, "dave", "dave-pw").await?.is_some());
    // An empty listing deactivates nobody.
    dir.remove_user("carol");
    dir.remove_user("dave");
    ensure!(matches!(
        full_sync(&app.provider).await,
        Err(SyncError::EmptyDirectory(2))
    ));
    // Two nodes on one database: one runs the round, the other skips it.
    dir.add_user("carol", "carol-pw", "Carter");
    let hourly = Schedule {
        interval_seconds: 3600,
        full_interval_seconds: 0,
    };
    let first = scheduled_round(&app.provider, "node-a", hourly).await?;
    let second = scheduled_round(&app.provider, "node-b", hourly).await?;
    ensure!(
        first.is_some() && second.is_none(),
        "{first:?} / {second:?}"
    );
    // The outage stops the import before it changes anything.
    dir.set_down(true);
    ensure!(matches!(
        full_sync(&app.provider).await,
        Err(SyncError::Unavailable(_))
    ));
    Ok(())
}

async fn ldap_incremental_import_reads_only_changes(backend: Backend) -> Result<()> {
    let (app, dir) = with_directory(backend).await?;
    dir.add_user("carol", "carol-pw", "Carter");
    dir.add_user("dave", "dave-pw", "Davis");
    dir.set_groups("staff", &["carol", "dave"]);
    // No mark yet: the incremental import runs the full one, which saves the mark.
    let report = incremental_sync(&app.provider).await?;
    ensure!(
        report.mode == SyncMode::Full && report.created == 2 && report.mark.as_deref() == Some("3"),
        "{report:?}"
    );
    let report = incremental_sync(&app.provider).await?;
    ensure!(
        report.mode == SyncMode::Incremental && report.fetched == 0 && report.groups_changed == 0,
        "nothing changed: {report:?}"
    );
    dir.add_user("carol", "carol-pw", "Cartwright");
    let report = incremental_sync(&app.provider).await?;
    ensure!(
        report.fetched == 1 && report.updated == 1 && report.mark.as_deref() == Some("4"),
        "{report:?}"
    );
    let carol = app
        .provider
        .store
        .find_user_by_login("carol")
        .await?
        .context("imported")?;
    ensure!(carol.last_name == "Cartwright");
    ensure!(incremental_sync(&app.provider).await?.fetched == 0);
    // Dave leaves staff: only the group's entry changed, and his membership follows it.
    dir.set_groups("staff", &["carol"]);
    let report = incremental_sync(&app.provider).await?;
    ensure!(
        report.fetched == 0 && report.groups_changed == 1 && report.memberships_synced == 2,
        "{report:?}"
    );
    let dave = app
        .provider
        .store
        .find_user_by_login("dave")
        .await?
        .context("imported")?;
    ensure!(group_names(&app, &dave.id).await?.is_empty());
    ensure!(group_names(&app, &carol.id).await? == ["staff"]);
    // A deleted entry leaves no change: the incremental import deactivates nobody; the
    // scheduled round is incremental until the full interval has passed, then full.
    dir.remove_user("dave");
    let schedule = Schedule {
        interval_seconds: 60,
        full_interval_seconds: 3600,
    };
    let report = scheduled_round(&app.provider, "node-a", schedule)
        .await?
        .context("lease")?;
    ensure!(
        report.mode == SyncMode::Incremental && report.deactivated == 0,
        "{report:?}"
    );
    app.clock.advance(3600);
    let report = scheduled_round(&app.provider, "node-a", schedule)
        .await?
        .context("lease")?;
    ensure!(
        report.mode == SyncMode::Full && report.deactivated == 1,
        "{report:?}"
    );
    Ok(())
}
