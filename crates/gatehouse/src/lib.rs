//! The `gatehouse` binary's pieces: configuration, startup, telemetry and the CLI commands.
//! Exposed as a library so integration tests spawn the real application.
#![forbid(unsafe_code)]

pub mod backup;
pub mod cli;
pub mod commands;
pub mod config;
pub mod email;
pub mod import;
pub mod jwks_fetch;
pub mod ldap;
pub mod log_writer;
pub mod logs_cmd;
pub mod password_source;
pub mod startup;
pub mod telemetry;
pub mod tls;
pub mod upstream_http;
