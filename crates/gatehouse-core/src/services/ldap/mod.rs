//! LDAP / Active Directory: delegated password sign-in with just-in-time provisioning, group
//! sync, and the full import that deactivates users gone from the directory.
//!
//! The binary installs a [`directory::Directory`] (the `ldap3` client, with its connection
//! pool and timeouts) in [`Provider::ldap`](crate::Provider) when `[ldap]` is configured;
//! everything else here is the rules:
//! * [`filter`]: filter templates with RFC 4515 escaping;
//! * [`mapping`]: entry attributes to a Gatehouse profile and group names;
//! * [`sign_in`]: the hook in the password check;
//! * [`provision`]: creating and updating users, LDAP-sourced groups and memberships;
//! * [`sync`]: the full import; [`incremental`]: the import of what changed since the
//!   [`mark`]; [`schedule`]: both on a schedule, one node at a time;
//! * [`source`]: which users come from LDAP (they cannot get a Gatehouse password).

pub mod directory;
pub mod filter;
pub mod incremental;
pub mod mapping;
pub mod mark;
pub mod provision;
pub mod schedule;
pub mod sign_in;
pub mod source;
pub mod sync;

pub use directory::{Directory, DirectoryEntry, DirectorySlot, DirectoryUnavailable};
pub use mapping::{AttributeMapping, DirectoryProfile};
pub use source::SOURCE;
