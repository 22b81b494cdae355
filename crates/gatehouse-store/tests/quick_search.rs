//! `q=` (`quick_search_users`) on both backends: a case-insensitive prefix on first name, last
//! name, email or login; at most `limit` users, ordered by the smallest matching value, then id;
//! combined with a filter; no paging.

use anyhow::{Result, ensure};
use gatehouse_core::domain::*;

#[macro_use]
mod common;

use common::{Ctx, run};

both_backends!(
    quick_search_matches_prefixes_in_four_fields,
    quick_search_orders_by_the_matching_value_and_stops_at_the_limit,
    quick_search_combines_with_a_filter,
);

fn user(id: &str, first: &str, last: &str, email: &str, login: &str) -> User {
    User {
        login: login.into(),
        email: email.into(),
        first_name: first.into(),
        last_name: last.into(),
        ..common::user(id)
    }
}

/// u1 Alice Smith, u2 Bob Smithers (STAGED; email at work), u3 Carol Jones, u4 Smithy Jones
/// (login `a_b…`), u5 Ann Jones (email `ann.smith…`), u6 Zoe Quinn (login `smith.z…`).
async fn seed(ctx: &Ctx) -> Result<()> {
    let mut bob = user(
        "u2",
        "Bob",
        "Smithers",
        "Bob@Work.example",
        "bob@example.com",
    );
    bob.status = UserStatus::Staged;
    for u in [
        user(
            "u1",
            "Alice",
            "Smith",
            "Alice@Example.com",
            "Alice@Example.com",
        ),
        bob,
        user(
            "u3",
            "Carol",
            "Jones",
            "carol@example.org",
            "carol@example.org",
        ),
        user(
            "u4",
            "Smithy",
            "Jones",
            "smithy@example.org",
            "a_b@example.org",
        ),
        user(
            "u5",
            "Ann",
            "Jones",
            "ann.smith@example.org",
            "ann@example.org",
        ),
        user(
            "u6",
            "Zoe",
            "Quinn",
            "zoe@example.org",
            "smith.z@example.org",
        ),
    ] {
        ctx.store.create_user(&u).await?;
    }
    Ok(())
}

async fn ids(ctx: &Ctx, q: &str, filter: Option<&UserFilter>, limit: u32) -> Result<Vec<String>> {
    let users = ctx.store.quick_search_users(q, filter, limit).await?;
    Ok(users.into_iter().map(|u| u.id).collect())
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

async fn quick_search_matches_prefixes_in_four_fields(ctx: &Ctx) -> Result<()> {
    seed(ctx).await?;
    // Last name (u1 "smith", u2 "smithers"), first name and email (u4 "smithy"), login (u6 "smith.z…");
    // not u5, whose email has "smith" inside only.
    let want = strings(&["u1", "u6", "u2", "u4"]);
    let got = ids(ctx, "smith", None, 200).await?;
    ensure!(got == want, "{got:?}");
    ensure!(ids(ctx, "SMITH", None, 200).await? == want, "case ignored");
    // Email only (u2's login is bob@example.com, its email Bob@Work.example).
    ensure!(ids(ctx, "bob@w", None, 200).await? == strings(&["u2"]));
    // A user matching several fields comes once.
    ensure!(ids(ctx, "bob", None, 200).await? == strings(&["u2"]));
    // `_` and `%` are literal characters, not patterns.
    ensure!(ids(ctx, "a_", None, 200).await? == strings(&["u4"]));
    ensure!(ids(ctx, "a%", None, 200).await?.is_empty());
    ensure!(ids(ctx, "nobody", None, 200).await?.is_empty());
    Ok(())
}

async fn quick_search_orders_by_the_matching_value_and_stops_at_the_limit(ctx: &Ctx) -> Result<()> {
    seed(ctx).await?;
    // Keys: u1 "alice", u5 "ann", u4 "a_b@example.org" ('_' sorts before 'l' and 'n').
    ensure!(ids(ctx, "a", None, 200).await? == strings(&["u4", "u1", "u5"]));
    ensure!(ids(ctx, "a", None, 2).await? == strings(&["u4", "u1"]));
    ensure!(ids(ctx, "smith", None, 2).await? == strings(&["u1", "u6"]));
    // The empty prefix matches everyone: the first by their smallest value
    // (u4 "a_b…", u1 "alice…", u5 "ann…", u2 "bob…", u3 "carol…", u6 "quinn").
    ensure!(ids(ctx, "", None, 4).await? == strings(&["u4", "u1", "u5", "u2"]));
    // Ties on the value: by id.
    for (i, id) in ["u8", "u7"].iter().enumerate() {
        let u = user(id, "Tie", "Tie", &format!("t{i}@x"), &format!("t{i}@x"));
        ctx.store.create_user(&u).await?;
    }
    ensure!(ids(ctx, "tie", None, 200).await? == strings(&["u7", "u8"]));
    Ok(())
}

async fn quick_search_combines_with_a_filter(ctx: &Ctx) -> Result<()> {
    seed(ctx).await?;
    let active = UserFilter::Compare {
        field: UserField::Status,
        op: FilterOp::Eq,
        value: "ACTIVE".into(),
    };
    ensure!(ids(ctx, "smith", Some(&active), 200).await? == strings(&["u1", "u6", "u4"]));
    // The filter applies before the limit: u2 (STAGED) takes no place.
    ensure!(ids(ctx, "smith", Some(&active), 2).await? == strings(&["u1", "u6"]));
    let jones = UserFilter::Compare {
        field: UserField::LastName,
        op: FilterOp::Eq,
        value: "jones".into(),
    };
    ensure!(ids(ctx, "s", Some(&jones), 200).await? == strings(&["u4"]));
    Ok(())
}
