//! `gatehouse logs`: the System Log, as `GET /api/v1/logs` lists it, printed readably.

use clap::Args;
use gatehouse_core::Provider;
use gatehouse_core::services::system_log::{self, LogRequest};
use serde_json::Value;

use crate::cli::Output;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Only events published at or after this instant (ISO 8601) [default: 7 days ago].
    #[arg(long)]
    pub since: Option<String>,
    /// Only events published before this instant (ISO 8601).
    #[arg(long)]
    pub until: Option<String>,
    /// Okta filter expression, e.g. 'eventType eq "user.session.start"'.
    #[arg(long)]
    pub filter: Option<String>,
    /// Keywords that must all appear.
    #[arg(long)]
    pub q: Option<String>,
    /// Newest first.
    #[arg(long)]
    pub descending: bool,
    /// At most this many events [default: 100].
    #[arg(long)]
    pub limit: Option<u32>,
    #[arg(long, value_enum, default_value_t)]
    pub output: Output,
}

pub async fn logs(provider: &Provider, args: &LogsArgs) -> anyhow::Result<()> {
    let request = LogRequest {
        since: args.since.clone(),
        until: args.until.clone(),
        filter: args.filter.clone(),
        q: args.q.clone(),
        sort_order: Some(
            if args.descending {
                "DESCENDING"
            } else {
                "ASCENDING"
            }
            .into(),
        ),
        limit: args.limit.map(|l| l.to_string()),
        after: None,
    };
    let page = system_log::list(provider, &request).await?;
    let events: Vec<Value> = page
        .events
        .iter()
        .filter_map(|e| serde_json::from_str(&e.event.body).ok())
        .collect();
    match args.output {
        Output::Json => println!("{}", Value::Array(events)),
        Output::Text => {
            for e in &events {
                println!("{}", one_line(e));
            }
            if events.is_empty() {
                eprintln!("No events.");
            }
        }
    }
    Ok(())
}

/// `published  eventType  RESULT[ (reason)]  actor -> targets  ip  "message"`.
fn one_line(e: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    let name = |v: &Value| {
        v["alternateId"]
            .as_str()
            .or(v["displayName"].as_str())
            .or(v["id"].as_str())
            .unwrap_or("-")
            .to_owned()
    };
    let mut result = s(&e["outcome"]["result"]);
    if let Some(reason) = e["outcome"]["reason"].as_str() {
        result.push_str(&format!(" ({reason})"));
    }
    let targets: Vec<String> = e["target"]
        .as_array()
        .map(|t| t.iter().map(name).collect())
        .unwrap_or_default();
    let targets = if targets.is_empty() {
        String::new()
    } else {
        format!(" -> {}", targets.join(", "))
    };
    format!(
        "{}  {:<40} {:<32} {}{}  {}  \"{}\"",
        s(&e["published"]),
        s(&e["eventType"]),
        result,
        name(&e["actor"]),
        targets,
        s(&e["client"]["ipAddress"]),
        s(&e["displayMessage"]),
    )
}
