//! How a directory entry becomes a Gatehouse profile: which attribute holds the login, the
//! email, the names and a group's name (configurable; defaults for OpenLDAP's inetOrgPerson).

use serde::Deserialize;

use super::directory::DirectoryEntry;

/// Attribute names, case-insensitive as in LDAP.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributeMapping {
    /// The Gatehouse login (`uid`; `sAMAccountName` or `userPrincipalName` on AD).
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// A group's name in Gatehouse (`cn`).
    pub group_name: String,
    /// The group attribute that lists its members, by DN (`member`, `uniqueMember`) or by
    /// login (`memberUid`); read by the full import.
    pub group_member: String,
    /// The attribute whose greatest value is the incremental import's mark
    /// (`modifyTimestamp`; on Active Directory `uSNChanged` or `whenChanged`).
    pub changed: String,
}

impl Default for AttributeMapping {
    fn default() -> Self {
        Self {
            login: "uid".into(),
            email: "mail".into(),
            first_name: "givenName".into(),
            last_name: "sn".into(),
            group_name: "cn".into(),
            group_member: "member".into(),
            changed: "modifyTimestamp".into(),
        }
    }
}

/// A user's profile as the directory has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryProfile {
    pub dn: String,
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// Why an entry cannot be a Gatehouse user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("the entry {dn} has no '{attribute}' (the login attribute)")]
    NoLogin { dn: String, attribute: String },
    #[error("the entry {dn} has no usable '{attribute}' (an email address is required)")]
    NoEmail { dn: String, attribute: String },
    #[error("the entry {dn} has a value that is too long or holds control characters")]
    BadValue { dn: String },
}

/// Longest login and email Gatehouse keeps (Okta's base profile).
const MAX_LEN: usize = 100;

impl AttributeMapping {
    /// The attributes to ask for when searching users.
    pub fn user_attributes(&self) -> Vec<String> {
        vec![
            self.login.clone(),
            self.email.clone(),
            self.first_name.clone(),
            self.last_name.clone(),
            self.changed.clone(),
        ]
    }

    /// The attributes to ask for when searching groups.
    pub fn group_attributes(&self) -> Vec<String> {
        vec![
            self.group_name.clone(),
            self.group_member.clone(),
            self.changed.clone(),
        ]
    }

    /// The profile of a user entry. A missing first or last name falls back to the login, as
    /// Gatehouse requires both; a missing login or email refuses the entry.
    pub fn user_profile(&self, entry: &DirectoryEntry) -> Result<DirectoryProfile, MappingError> {
        let dn = entry.dn.clone();
        let login = entry
            .first(&self.login)
            .ok_or_else(|| MappingError::NoLogin {
                dn: dn.clone(),
                attribute: self.login.clone(),
            })?
            .to_owned();
        let email = entry
            .first(&self.email)
            .filter(|e| e.contains('@'))
            .ok_or_else(|| MappingError::NoEmail {
                dn: dn.clone(),
                attribute: self.email.clone(),
            })?
            .to_owned();
        let first_name = entry.first(&self.first_name).unwrap_or(&login).to_owned();
        let last_name = entry.first(&self.last_name).unwrap_or(&login).to_owned();
        let fits = |v: &str| v.chars().count() <= MAX_LEN && !v.chars().any(char::is_control);
        if ![&login, &email, &first_name, &last_name]
            .iter()
            .all(|v| fits(v))
        {
            return Err(MappingError::BadValue { dn });
        }
        Ok(DirectoryProfile {
            dn,
            login,
            email,
            first_name,
            last_name,
        })
    }

    /// A group entry's Gatehouse name, if it has one.
    pub fn group_name<'a>(&self, entry: &'a DirectoryEntry) -> Option<&'a str> {
        entry.first(&self.group_name)
    }

    /// Whether the group entry lists the user (by DN, case-insensitive, or by login).
    pub fn group_lists(&self, group: &DirectoryEntry, user: &DirectoryProfile) -> bool {
        group.values(&self.group_member).iter().any(|m| {
            let m = m.trim();
            m.eq_ignore_ascii_case(&user.dn) || m == user.login
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dn: &str, attrs: &[(&str, &[&str])]) -> DirectoryEntry {
        DirectoryEntry {
            dn: dn.into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
                .collect(),
        }
    }

    #[test]
    fn maps_inet_org_person() -> Result<(), MappingError> {
        let e = entry(
            "uid=alice,ou=people,dc=example,dc=org",
            &[
                ("uid", &["alice"]),
                ("mail", &["alice@example.org"]),
                ("givenname", &["Alice"]),
                ("SN", &["Liddell"]),
            ],
        );
        let p = AttributeMapping::default().user_profile(&e)?;
        assert_eq!(p.login, "alice");
        assert_eq!(p.email, "alice@example.org");
        assert_eq!(p.first_name, "Alice");
        assert_eq!(p.last_name, "Liddell");
        assert_eq!(p.dn, "uid=alice,ou=people,dc=example,dc=org");
        Ok(())
    }

    #[test]
    fn maps_active_directory_names() -> Result<(), MappingError> {
        let mapping = AttributeMapping {
            login: "sAMAccountName".into(),
            email: "userPrincipalName".into(),
            ..AttributeMapping::default()
        };
        let e = entry(
            "CN=Bob Builder,OU=Staff,DC=corp,DC=example",
            &[
                ("sAMAccountName", &["bob"]),
                ("userPrincipalName", &["bob@corp.example"]),
                ("sn", &["Builder"]),
            ],
        );
        let p = mapping.user_profile(&e)?;
        assert_eq!(
            (p.login.as_str(), p.email.as_str()),
            ("bob", "bob@corp.example")
        );
        // No givenName: the login stands in.
        assert_eq!(p.first_name, "bob");
        assert_eq!(p.last_name, "Builder");
        Ok(())
    }

    #[test]
    fn refuses_entries_without_login_or_email() {
        let m = AttributeMapping::default();
        let no_login = entry("cn=x", &[("mail", &["x@example.org"])]);
        assert!(matches!(
            m.user_profile(&no_login),
            Err(MappingError::NoLogin { .. })
        ));
        let no_email = entry("cn=x", &[("uid", &["x"]), ("mail", &["not-an-address"])]);
        assert!(matches!(
            m.user_profile(&no_email),
            Err(MappingError::NoEmail { .. })
        ));
        let control = entry("cn=x", &[("uid", &["x\ny"]), ("mail", &["x@example.org"])]);
        assert!(matches!(
            m.user_profile(&control),
            Err(MappingError::BadValue { .. })
        ));
    }

    #[test]
    fn group_membership_by_dn_or_login() -> Result<(), MappingError> {
        let m = AttributeMapping::default();
        let user = m.user_profile(&entry(
            "uid=alice,ou=people,dc=example,dc=org",
            &[("uid", &["alice"]), ("mail", &["alice@example.org"])],
        ))?;
        let by_dn = entry(
            "cn=eng,ou=groups,dc=example,dc=org",
            &[
                ("cn", &["eng"]),
                ("member", &["UID=Alice,ou=people,dc=example,dc=org"]),
            ],
        );
        assert!(m.group_lists(&by_dn, &user));
        assert_eq!(m.group_name(&by_dn), Some("eng"));
        let posix = AttributeMapping {
            group_member: "memberUid".into(),
            ..AttributeMapping::default()
        };
        let by_uid = entry("cn=ops", &[("cn", &["ops"]), ("memberUid", &["alice"])]);
        assert!(posix.group_lists(&by_uid, &user));
        let other = entry("cn=ops", &[("cn", &["ops"]), ("memberUid", &["bob"])]);
        assert!(!posix.group_lists(&other, &user));
        Ok(())
    }
}
