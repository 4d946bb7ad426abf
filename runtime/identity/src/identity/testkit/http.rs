//! The network's HTTP server: the PLC directory at `/<did>`, and, by the
//! `Host` of the request, `did:web` documents at `/.well-known/did.json` and
//! handles' `/.well-known/atproto-did`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Shared;
use atlex_core::types::Did;

/// The routes of the server.
pub(super) fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(answer).with_state(shared)
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    if request.method() != Method::GET {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(|host| host.split(':').next().unwrap_or(host).to_ascii_lowercase())
        .unwrap_or_default();
    match request.uri().path() {
        "/.well-known/atproto-did" => {
            let did = shared.state().web_handles.get(&host).cloned();
            match did {
                Some(did) => (
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    did.to_string(),
                )
                    .into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
        "/.well-known/did.json" => match Did::new(format!("did:web:{host}")) {
            Ok(did) => document(&shared, &did),
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        },
        path => {
            let text = percent_encoding::percent_decode_str(path.trim_start_matches('/'))
                .decode_utf8_lossy()
                .into_owned();
            match Did::new(text) {
                Ok(did) if did.method() == "plc" => document(&shared, &did),
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }
    }
}

/// The current document of `did`, the status it fails with, or 404; the
/// request is counted.
fn document(shared: &Shared, did: &Did) -> Response {
    let mut state = shared.state();
    *state.requests.entry(did.clone()).or_default() += 1;
    if let Some(status) = state.failures.get(did) {
        return status.into_response();
    }
    let Some(document) = state.documents.get(did) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match serde_json::to_value(document) {
        Ok(mut json) => {
            // What the PLC directory and did:web hosts serve; the resolver
            // does not need it, other implementations may.
            if let Some(object) = json.as_object_mut() {
                object.insert(
                    "@context".to_owned(),
                    serde_json::json!([
                        "https://www.w3.org/ns/did/v1",
                        "https://w3id.org/security/multikey/v1"
                    ]),
                );
            }
            (
                [(header::CONTENT_TYPE, "application/did+ld+json")],
                json.to_string(),
            )
                .into_response()
        }
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
    }
}
