//! Storage of groups and their members ([`GroupStore`]), one macro for both backends.

use async_trait::async_trait;
use gatehouse_core::domain::*;
use gatehouse_core::store::*;

use super::{SqlStore, like_literal, limit, require_row};
use crate::error::db_err;
use crate::rows::*;

/// A page of a group's members, driven by the membership key `(group_id, user_id)`, already in
/// `id` order: a page of a 300k-member group reads a page of it (a keyset on `user_id`). Two
/// statements, because `($2 IS NULL OR user_id > $2)` is no range to either planner.
///
/// SQLite reads the membership range and looks each user up by primary key. PostgreSQL must be
/// told to: given a join, it merge-joins the group's range with `users_pkey` read from its first
/// entry (it does not carry `m.user_id > $2` over to `u.id`, and its merge-join estimate ignores
/// the part skipped), so a middle page of the 300k-member group at 1M users read 500k index
/// entries (~2 s) for 1000 rows; and a join after the limited ids gets a Memoize per row (+40%
/// on a page). There the page's ids are collected first (`ARRAY(…)`, run once) and the users
/// read in one `users_pkey` scan of `id = ANY(…)`, which returns them in `id` order: the work is
/// the page, at any size and cursor. `[SQLite, PostgreSQL]`.
pub(crate) const MEMBERS_AFTER: [&str; 2] = [
    concat!(
        "SELECT ",
        user_cols!(),
        " FROM group_members m JOIN users u ON u.id = m.user_id \
         WHERE m.group_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3"
    ),
    concat!(
        "SELECT ",
        user_cols!(),
        " FROM users WHERE id = ANY(ARRAY(SELECT user_id FROM group_members \
         WHERE group_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3)) ORDER BY id"
    ),
];
pub(crate) const MEMBERS_FIRST: [&str; 2] = [
    concat!(
        "SELECT ",
        user_cols!(),
        " FROM group_members m JOIN users u ON u.id = m.user_id \
         WHERE m.group_id = $1 ORDER BY m.user_id LIMIT $2"
    ),
    concat!(
        "SELECT ",
        user_cols!(),
        " FROM users WHERE id = ANY(ARRAY(SELECT user_id FROM group_members \
         WHERE group_id = $1 ORDER BY user_id LIMIT $2)) ORDER BY id"
    ),
];

macro_rules! impl_group_store {
    ($db:ty, $backend:expr) => {
        #[async_trait]
        impl GroupStore for SqlStore<$db> {
            async fn create_group(&self, group: &Group) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO groups (id, name, description, group_type, created, last_updated) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&group.id)
                .bind(&group.name)
                .bind(&group.description)
                .bind(group.group_type.as_str())
                .bind(group.created)
                .bind(group.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn find_group(&self, id: &str) -> StoreResult<Option<Group>> {
                let row: Option<GroupRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    group_cols!(),
                    " FROM groups WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(Group::try_from).transpose()
            }

            async fn find_group_by_name(&self, name: &str) -> StoreResult<Option<Group>> {
                let row: Option<GroupRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    group_cols!(),
                    " FROM groups WHERE name = $1"
                ))
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(Group::try_from).transpose()
            }

            async fn list_groups(&self, page: Page<'_>) -> StoreResult<Vec<Group>> {
                let rows: Vec<GroupRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    group_cols!(),
                    " FROM groups WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
                ))
                .bind(page.after)
                .bind(limit(page))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn search_groups_by_name(
                &self,
                prefix: &str,
                page: Page<'_>,
            ) -> StoreResult<Vec<Group>> {
                let rows: Vec<GroupRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    group_cols!(),
                    " FROM groups WHERE lower(name) LIKE $1 ESCAPE '\\' \
                     AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
                ))
                .bind(format!("{}%", like_literal(&prefix.to_lowercase())))
                .bind(page.after)
                .bind(limit(page))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn update_group(&self, group: &Group) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE groups SET name = $2, description = $3, group_type = $4, \
                     created = $5, last_updated = $6 WHERE id = $1",
                )
                .bind(&group.id)
                .bind(&group.name)
                .bind(&group.description)
                .bind(group.group_type.as_str())
                .bind(group.created)
                .bind(group.last_updated)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                require_row(done.rows_affected())
            }

            async fn delete_group(&self, id: &str) -> StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                for sql in [
                    "DELETE FROM group_members WHERE group_id = $1",
                    "DELETE FROM app_groups WHERE group_id = $1",
                    "DELETE FROM groups WHERE id = $1",
                ] {
                    sqlx::query(sql)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn add_group_member(&self, group_id: &str, user_id: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(group_id)
                .bind(user_id)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn remove_group_member(&self, group_id: &str, user_id: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
                    .bind(group_id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn list_group_members(
                &self,
                group_id: &str,
                page: Page<'_>,
            ) -> StoreResult<Vec<User>> {
                // Not prepared for reuse: PostgreSQL's generic plan for a reused statement
                // guesses a third of the group lies after any cursor, and for a 300k-member group
                // picks a parallel Gather Merge (~75 ms a page at 1M users) over the keyset
                // read that the cursor's actual value gets (~1000 index entries).
                let rows: Vec<UserRow> = match page.after {
                    Some(after) => sqlx::query_as(MEMBERS_AFTER[$backend])
                        .bind(group_id)
                        .bind(after)
                        .bind(limit(page)),
                    None => sqlx::query_as(MEMBERS_FIRST[$backend])
                        .bind(group_id)
                        .bind(limit(page)),
                }
                .persistent(false)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }

            async fn list_user_groups(&self, user_id: &str) -> StoreResult<Vec<Group>> {
                let rows: Vec<GroupRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    group_cols!(),
                    " FROM groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = $1) \
                     OR (group_type = $2 AND EXISTS (SELECT 1 FROM users WHERE id = $1)) \
                     ORDER BY id"
                ))
                .bind(user_id)
                .bind(GroupType::BuiltIn.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                convert_all(rows)
            }
        }
    };
}

impl_group_store!(sqlx::Sqlite, 0);
impl_group_store!(sqlx::Postgres, 1);
