//! The console's static files: one stylesheet, one small script, and the brand colour (from
//! the config, so the CSP needs no inline style).

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

const CSS: &str = include_str!("../../../assets/console.css");
const JS: &str = include_str!("../../../assets/console.js");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/assets/console.css", get(css))
        .route("/console/assets/console.js", get(js))
        .route("/console/assets/brand.css", get(brand))
}

fn asset(content_type: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS.to_owned())
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS.to_owned())
}

/// `primary_color` was checked to be `#rgb`/`#rrggbb` when the config was loaded.
async fn brand(State(state): State<AppState>) -> Response {
    asset(
        "text/css; charset=utf-8",
        format!(
            ":root {{ --accent: {}; }}\n",
            state.config.branding.primary_color
        ),
    )
}
