//! Gatehouse's HTTP layer. Handlers are thin: they parse the request, call the engine in
//! `gatehouse-core`, and map the outcome (all error mapping lives in `error.rs`).
#![forbid(unsafe_code)]

mod client_ip;
mod cookies;
mod cors;
mod error;
mod hygiene;
pub mod mail;
pub mod metrics;
mod origin;
mod routes;
mod throttle;
mod views;

/// The parser of every OAuth form and query (public for the fuzz targets in `fuzz/`).
pub use routes::oauth2::parse_form;

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::http::{HeaderName, HeaderValue};
use gatehouse_core::Provider;
use tower_http::set_header::SetResponseHeaderLayer;

/// How the server sees the outside world.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The public base URL (e.g. `https://id.example.com`); when unset it is derived per request.
    pub public_url: Option<String>,
    /// Peers (addresses or CIDRs) whose `X-Forwarded-For`/`-Proto`/`-Host` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `/api/v1` (and `/oauth2/v1/clients`) requests allowed per minute for one valid credential;
    /// requests without one, or with an invalid one, share their client address's budget.
    pub api_requests_per_minute: u32,
    /// Sign-in form submissions per minute from one client address; 0 turns the limit off.
    pub signin_requests_per_minute_per_ip: u32,
    /// Token requests per minute from one client address; 0 (the default) turns it off.
    pub token_requests_per_minute_per_ip: u32,
    /// Anonymous login transactions (`/authorize` sign-in prompts) per minute from one client
    /// address; 0 turns the limit off.
    pub login_transactions_per_minute_per_ip: u32,
    /// The server terminates TLS itself: origins derived from requests are `https`.
    pub https: bool,
    /// How the hosted pages look (org name, logo, colour).
    pub branding: Branding,
}

/// The hosted pages' branding (`[branding]` in the config file, `GATEHOUSE_BRANDING_*`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    /// Shown above the sign-in form and in the console's header.
    #[serde(default = "default_org_name")]
    pub org_name: String,
    /// An absolute http(s) URL of the logo shown on the sign-in page.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// The primary colour, `#rgb` or `#rrggbb`.
    #[serde(default = "default_primary_color")]
    pub primary_color: String,
}

fn default_org_name() -> String {
    "Gatehouse".into()
}

fn default_primary_color() -> String {
    "#1a5cff".into()
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            org_name: default_org_name(),
            logo_url: None,
            primary_color: default_primary_color(),
        }
    }
}

impl Branding {
    /// Checks what CSS and `<img src>` will receive: a hex colour and an http(s) URL.
    pub fn validate(&self) -> Result<(), String> {
        let hex = self.primary_color.strip_prefix('#').unwrap_or_default();
        if !(matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(format!(
                "branding.primary_color '{}' is not a #rgb or #rrggbb colour",
                self.primary_color
            ));
        }
        if let Some(logo) = &self.logo_url {
            let ok = url::Url::parse(logo)
                .ok()
                .is_some_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err(format!("branding.logo_url '{logo}' is not an http(s) URL"));
            }
        }
        if self.org_name.trim().is_empty() || self.org_name.chars().count() > 100 {
            return Err("branding.org_name must be 1 to 100 characters".into());
        }
        Ok(())
    }
}

/// The default sign-in budget per client address and minute.
pub const DEFAULT_SIGNIN_REQUESTS_PER_MINUTE_PER_IP: u32 = 100;
/// Off by default: token clients are mostly servers, many users behind one address (and the
/// bench drives thousands a second from one).
pub const DEFAULT_TOKEN_REQUESTS_PER_MINUTE_PER_IP: u32 = 0;
pub use client_ip::parse_proxy;
/// The default budget of anonymous login transactions per client address and minute.
pub const DEFAULT_LOGIN_TRANSACTIONS_PER_MINUTE_PER_IP: u32 = 100;

/// The default `/api/v1` budget per credential and minute (Okta's busiest buckets allow 600
/// to 1,200 a minute for a default org).
pub const DEFAULT_API_REQUESTS_PER_MINUTE: u32 = 1200;

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            trusted_proxies: Vec::new(),
            api_requests_per_minute: DEFAULT_API_REQUESTS_PER_MINUTE,
            signin_requests_per_minute_per_ip: DEFAULT_SIGNIN_REQUESTS_PER_MINUTE_PER_IP,
            token_requests_per_minute_per_ip: DEFAULT_TOKEN_REQUESTS_PER_MINUTE_PER_IP,
            login_transactions_per_minute_per_ip: DEFAULT_LOGIN_TRANSACTIONS_PER_MINUTE_PER_IP,
            https: false,
            branding: Branding::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub provider: Arc<Provider>,
    pub config: Arc<WebConfig>,
}

/// The public listener's service: the URL repairs of [`normalize_path`], then the routes.
pub fn router(state: AppState) -> App {
    App(routes(state))
}

/// The routes behind [`normalize_path`]. Rewriting must happen before routing, so it wraps the
/// router as a service; a plain wrapper rather than an outer `Router` whose fallback is the
/// routes, which routed every request twice.
#[derive(Clone)]
pub struct App(Router);

impl App {
    /// What the server runs: one [`App`] per connection, each request told its peer's address.
    pub fn into_make_service_with_connect_info<C>(self) -> IntoMakeServiceWithConnectInfo<Self, C> {
        axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info(self)
    }
}

impl<B> tower::Service<axum::http::Request<B>> for App
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = <Router as tower::Service<axum::http::Request<B>>>::Future;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::http::Request<B>) -> Self::Future {
        self.0.call(normalize_path(req))
    }
}

/// Forgives the two URL typos social-core's generic OIDC backend turns config mistakes into:
/// `…/default//.well-known/…` (a trailing slash in the endpoint setting) and the discovery path
/// pasted twice.
fn normalize_path<B>(mut req: axum::http::Request<B>) -> axum::http::Request<B> {
    const WELL_KNOWN: &str = "/.well-known/openid-configuration";
    const DOUBLED: &str = concat!(
        "/.well-known/openid-configuration",
        "/.well-known/openid-configuration"
    );
    let path = req.uri().path();
    // Nearly every path is fine as it is: that is found without allocating.
    if !path.contains("//") && !path.ends_with(DOUBLED) {
        return req;
    }
    let mut fixed = path.to_owned();
    while fixed.contains("//") {
        fixed = fixed.replace("//", "/");
    }
    if fixed.ends_with(DOUBLED) {
        fixed.truncate(fixed.len() - WELL_KNOWN.len());
    }
    if fixed != path {
        let rebuilt = match req.uri().query() {
            Some(q) => format!("{fixed}?{q}"),
            None => fixed,
        };
        if let Ok(pq) = rebuilt.parse::<axum::http::uri::PathAndQuery>() {
            let mut parts = req.uri().clone().into_parts();
            parts.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

/// CORS (preflights are answered here), then the refusals of paths, queries and form bodies no
/// endpoint can serve, then the per-address limits: one middleware rather than three, because
/// each `from_fn` layer boxes a future and clones the service stack below it on every request.
async fn screen(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let cors = cors::Cors::check(&state, req.method(), req.uri().path(), req.headers()).await;
    let cors = match cors {
        Ok(cors) => cors,
        Err(preflight) => return preflight,
    };
    let req = match hygiene::screen(req).await {
        Ok(req) => req,
        Err(refusal) => return cors.finish(refusal),
    };
    let refusal = match throttle::budget(&state, &req) {
        Some(budget) => throttle::enforce(&state, budget).await,
        None => None,
    };
    let res = match refusal {
        Some(refusal) => refusal,
        None => next.run(req).await,
    };
    cors.finish(res)
}

fn routes(state: AppState) -> Router {
    Router::new()
        .merge(routes::well_known::router())
        .merge(routes::oauth2::router())
        .merge(routes::entra::router())
        .merge(routes::device::router())
        .merge(routes::forward_auth::router())
        .merge(routes::login::router())
        .merge(routes::idp_signin::router())
        .merge(routes::recovery::router())
        .merge(routes::mfa::router())
        .merge(routes::authn::router())
        .merge(routes::consent::router())
        .merge(routes::home::router())
        .merge(routes::health::router())
        .merge(routes::api_v1::router(&state))
        .merge(routes::clients::router(&state))
        .merge(routes::console::router_with_confirmations(state.clone()))
        .merge(routes::mfa_webauthn::router())
        .fallback(routes::home::not_found)
        // One layer of layers: each `Router::layer` boxes every route again, and a request then
        // clones and calls through one box per layer. Outermost first: `metrics::observe`, so
        // refusals by the layers below are counted and logged too.
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::middleware::from_fn(metrics::observe))
                .layer(tower_http::limit::RequestBodyLimitLayer::new(
                    hygiene::MAX_FORM_BODY,
                ))
                .map_request(|req: axum::http::Request<_>| req.map(axum::body::Body::new))
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("referrer-policy"),
                    HeaderValue::from_static("no-referrer"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("x-content-type-options"),
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(axum::middleware::from_fn_with_state(state.clone(), screen)),
        )
        .with_state(state)
}
