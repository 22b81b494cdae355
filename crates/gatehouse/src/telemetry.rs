use tracing_subscriber::EnvFilter;

/// Logs to stderr; `RUST_LOG` or `--log` picks the level (default `info`). Secrets and tokens
/// are never logged by the application.
pub fn init(level: Option<&str>) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(level.unwrap_or("info,tower_http=warn,sqlx=warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
