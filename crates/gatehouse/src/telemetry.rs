//! Logs (text or JSON lines on stderr) and the metrics listener.

use std::io::IsTerminal as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use gatehouse_web::AppState;
use gatehouse_web::metrics::{install_recorder, metrics_router};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Logs to stderr; `RUST_LOG` or `--log` picks the level (default `info`), `--log-format` the
/// shape: `json` writes one object a line with the event's fields at the top level and the
/// request id of the request being served (`span.request_id`). Secrets and tokens are never
/// logged by the application; the access log (target `access`) holds the method, route
/// template, status, latency and request id of each request, never its path values, query
/// string or headers.
pub fn init(level: Option<&str>, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(level.unwrap_or("info,tower_http=warn,sqlx=warn")));
    crate::log_writer::start_flushing();
    // Colours only for a person at a terminal: in a file or a log collector they are noise, and
    // writing them was a good part of each access-log line's cost (issue 21).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(crate::log_writer::BufferedStderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// `/metrics` (and the probes) on an address of their own, never the public listener: bind it
/// to loopback or an internal interface, where only the Prometheus server reaches it.
pub struct MetricsServer {
    listener: TcpListener,
    handle: PrometheusHandle,
}

impl MetricsServer {
    /// Binds `addr` and installs the process's metrics recorder (from then on, requests,
    /// sign-ins and tokens are counted).
    pub async fn bind(addr: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (metrics_bind)"))?;
        let handle = install_recorder().context("cannot install the metrics recorder")?;
        Ok(Self { listener, handle })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until the task is dropped or aborted.
    pub async fn serve(self, state: AppState) {
        if let Ok(addr) = self.listener.local_addr() {
            tracing::info!("metrics listening on http://{addr}/metrics");
        }
        let app = metrics_router(state, self.handle);
        if let Err(e) = axum::serve(self.listener, app).await {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    }
}
