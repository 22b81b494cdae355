-- Administrator role assignments (Okta's /api/v1/users/{id}/roles): who may use the admin
-- console and own API tokens. Keep in step with the other backend's 0010_admin_roles.sql.

CREATE TABLE admin_roles (
    id        TEXT NOT NULL PRIMARY KEY,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_type TEXT NOT NULL,
    created   BIGINT NOT NULL
);
CREATE UNIQUE INDEX admin_roles_user_role_key ON admin_roles (user_id, role_type);

-- Installations made before roles existed: the first-start administrator was put in the
-- "Gatehouse Administrators" group; its members become super administrators.
INSERT INTO admin_roles (id, user_id, role_type, created)
SELECT 'ra' || gm.user_id, gm.user_id, 'SUPER_ADMIN', g.created
FROM group_members gm JOIN groups g ON g.id = gm.group_id
WHERE g.name = 'Gatehouse Administrators';
