//! LDAP / Active Directory for the binary: `[ldap]` settings ([`config`]) and the `ldap3`
//! client ([`client`]) installed in the engine, whose rules live in
//! `gatehouse_core::services::ldap`.

pub mod client;
pub mod config;
