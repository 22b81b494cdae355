use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::views::{MessagePage, render_page};
use askama::Template as _;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home_get))
}

async fn home_get() -> Response {
    let page = MessagePage {
        title: "Gatehouse",
        message: "This is a Gatehouse identity provider. Applications sign you in here; there is nothing to do on this page.",
    };
    render_page(StatusCode::OK, page.render(), None)
}

pub async fn not_found() -> Response {
    let page = MessagePage {
        title: "Not found",
        message: "There is no page at this address.",
    };
    let mut res = render_page(StatusCode::NOT_FOUND, page.render(), None);
    *res.status_mut() = StatusCode::NOT_FOUND;
    res.into_response()
}
