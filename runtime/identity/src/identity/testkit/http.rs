//! The network's HTTP server: the PLC directory at `/<did>` (documents;
//! signed operations posted there, their log at `/<did>/log/audit` and
//! `/<did>/log/last`), and, by the `Host` of the request, `did:web`
//! documents at `/.well-known/did.json` and handles'
//! `/.well-known/atproto-did`.

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

/// The most bytes of a posted operation read (a valid one is far smaller).
const MAX_OPERATION_BODY: usize = 64 * 1024;

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    if request.method() == Method::POST {
        return post_operation(&shared, request).await;
    }
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
            let (did, rest) = plc_path(path);
            match (did, rest) {
                (Some(did), "") => document(&shared, &did),
                (Some(did), "/log/audit") => match shared.state().plc_logs.get(&did) {
                    Some(log) => json_answer(StatusCode::OK, log),
                    None => StatusCode::NOT_FOUND.into_response(),
                },
                (Some(did), "/log/last") => {
                    let state = shared.state();
                    let last = state
                        .plc_logs
                        .get(&did)
                        .and_then(|log| log.iter().rev().find(|entry| !entry.nullified));
                    match last {
                        Some(entry) => json_answer(StatusCode::OK, &entry.operation),
                        None => StatusCode::NOT_FOUND.into_response(),
                    }
                }
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }
    }
}

/// The `did:plc` a directory path starts with, and the rest of the path.
fn plc_path(path: &str) -> (Option<Did>, &str) {
    let path = path.trim_start_matches('/');
    let (first, rest) = path.find('/').map_or((path, ""), |at| path.split_at(at));
    let text = percent_encoding::percent_decode_str(first).decode_utf8_lossy();
    match Did::new(text.into_owned()) {
        Ok(did) if did.method() == "plc" => (Some(did), rest),
        _ => (None, rest),
    }
}

/// `value` as a JSON answer.
fn json_answer<T: serde::Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_string(value) {
        Ok(text) => (status, [(header::CONTENT_TYPE, "application/json")], text).into_response(),
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
    }
}

/// A refusal as the PLC directory words one: 400 and a `message`.
fn refuse(message: impl std::fmt::Display) -> Response {
    json_answer(
        StatusCode::BAD_REQUEST,
        &serde_json::json!({ "message": message.to_string() }),
    )
}

/// `POST /<did>`: a signed operation, taken as a PLC directory takes one
/// ([`crate::plc::accept`]): a genesis creates the DID, an update follows the
/// last operation or recovers from an earlier one. The DID's document is
/// then the one the operation's state gives (none after a tombstone).
async fn post_operation(shared: &Shared, request: Request) -> Response {
    let (did, rest) = plc_path(request.uri().path());
    let (Some(did), "") = (did, rest) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let body = match axum::body::to_bytes(request.into_body(), MAX_OPERATION_BODY).await {
        Ok(body) => body,
        Err(err) => return refuse(format!("the operation cannot be read: {err}")),
    };
    let operation: crate::plc::SignedOperation = match serde_json::from_slice(&body) {
        Ok(operation) => operation,
        Err(err) => return refuse(err),
    };
    let mut state = shared.state();
    let state = &mut *state;
    if state.documents.contains_key(&did) && !state.plc_logs.contains_key(&did) {
        return refuse(format!(
            "{did} was made by the test network's methods, not by operations"
        ));
    }
    let log = state.plc_logs.entry(did.clone()).or_default();
    let now = atlex_core::types::Datetime::now();
    let nullified = match crate::plc::accept(&did, log, &operation, &now) {
        Ok(nullified) => nullified,
        Err(err) => {
            if log.is_empty() {
                state.plc_logs.remove(&did);
            }
            return refuse(err);
        }
    };
    for index in nullified {
        log[index].nullified = true;
    }
    log.push(crate::plc::LogEntry {
        did: did.to_string(),
        cid: operation.cid().to_string(),
        operation: operation.clone(),
        nullified: false,
        created_at: now,
    });
    match operation.state() {
        Some(current) => {
            state
                .documents
                .insert(did.clone(), current.to_document(&did));
        }
        None => {
            state.documents.remove(&did);
        }
    }
    state.failures.remove(&did);
    StatusCode::OK.into_response()
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
