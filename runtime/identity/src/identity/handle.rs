//! Handle → DID: the DNS TXT record `_atproto.<handle>` and
//! `https://<handle>/.well-known/atproto-did`, as the [handle
//! specification](https://atproto.com/specs/handle) describes them.

use std::time::Duration;

use futures_util::future::{self, Either};
use hickory_resolver::TokioResolver;

use super::fetch::{self, Answer};
use super::{IdentityError, Inner};
use atlex_core::types::{Did, Handle};

/// The largest `/.well-known/atproto-did` body read: a DID is at most 2048
/// bytes, and a little whitespace is allowed around it.
const WELL_KNOWN_LIMIT: usize = 4096;

/// What one method found.
pub(super) enum Found {
    Did(Did),
    /// Nothing, and why (kept for the error naming both methods).
    Nothing(String),
}

/// Resolves `handle` by both methods at once. DNS decides when it finds a
/// DID (the specification prefers it when the two disagree); otherwise the
/// HTTPS answer does.
pub(super) async fn resolve(inner: &Inner, handle: &Handle) -> Result<Did, IdentityError> {
    let name = handle.normalized();
    let dns = std::pin::pin!(dns(inner, &name));
    let https = std::pin::pin!(https(inner, &name));
    let (dns, https) = match future::select(dns, https).await {
        Either::Left((dns, https)) => match dns? {
            Found::Did(did) => return Ok(did),
            Found::Nothing(reason) => (reason, https.await?),
        },
        Either::Right((https, dns)) => match dns.await? {
            Found::Did(did) => return Ok(did),
            Found::Nothing(reason) => (reason, https?),
        },
    };
    match https {
        Found::Did(did) => Ok(did),
        Found::Nothing(https) => Err(IdentityError::HandleNotFound {
            handle: handle.normalized(),
            dns,
            https,
        }),
    }
}

/// The `did=` TXT record of `_atproto.<handle>`.
///
/// Only an answer that cannot be trusted either way (several different DIDs,
/// a `did=` value that is not a DID) is an error: a failed lookup is
/// `Nothing`, so that HTTPS can still answer.
async fn dns(inner: &Inner, handle: &str) -> Result<Found, IdentityError> {
    let name = format!("_atproto.{handle}.");
    let mut dids = match txt_dids(inner, &name).await {
        Ok(dids) => dids,
        Err(reason) => return Ok(Found::Nothing(reason)),
    };
    match dids.len() {
        0 => Ok(Found::Nothing(format!("no did= TXT record at {name}"))),
        1 => {
            let text = dids.remove(0);
            Did::new(text.as_str())
                .map(Found::Did)
                .map_err(|err| IdentityError::Dns {
                    name,
                    reason: format!("the did= record is not a DID: {err}"),
                })
        }
        _ => Err(IdentityError::AmbiguousHandle {
            handle: handle.to_owned(),
            dids,
        }),
    }
}

/// The distinct values after `did=` of the TXT records at `name` (a fully
/// qualified name, with its final dot), in the order answered; other TXT
/// records are ignored. A lookup that finds nothing or fails is `Err` with
/// the reason.
pub(super) async fn txt_dids(inner: &Inner, name: &str) -> Result<Vec<String>, String> {
    let resolver: &TokioResolver = match &inner.dns {
        Ok(resolver) => resolver,
        Err(reason) => return Err(format!("no DNS resolver: {reason}")),
    };
    let lookup = match tokio::time::timeout(inner.timeout, resolver.txt_lookup(name)).await {
        Err(_) => return Err(timed_out(inner.timeout)),
        Ok(Err(err)) if err.is_no_records_found() => {
            return Err(format!("no TXT record at {name}"));
        }
        Ok(Err(err)) => return Err(format!("lookup of {name} failed: {err}")),
        Ok(Ok(lookup)) => lookup,
    };
    let mut dids: Vec<String> = Vec::new();
    for record in lookup.answers() {
        let hickory_resolver::proto::rr::RData::TXT(txt) = &record.data else {
            continue;
        };
        let value: Vec<u8> = txt
            .txt_data
            .iter()
            .flat_map(|part| part.iter().copied())
            .collect();
        let Some(did) = value.strip_prefix(b"did=") else {
            continue;
        };
        let did = String::from_utf8_lossy(did).into_owned();
        if !dids.contains(&did) {
            dids.push(did);
        }
    }
    Ok(dids)
}

/// The DID served at `https://<handle>/.well-known/atproto-did`, following
/// a few redirects. Answers that are not a DID are `Nothing`; a body over
/// the limit is an error.
async fn https(inner: &Inner, handle: &str) -> Result<Found, IdentityError> {
    let text = format!("{}://{handle}/.well-known/atproto-did", inner.scheme());
    let Ok(mut url) = reqwest::Url::parse(&text) else {
        return Ok(Found::Nothing(format!("{text} is not a URL")));
    };
    for _ in 0..=fetch::MAX_REDIRECTS {
        let answer = match fetch::get(
            &inner.http,
            &url,
            "text/plain",
            WELL_KNOWN_LIMIT,
            inner.timeout,
        )
        .await
        {
            Ok(answer) => answer,
            Err(err @ IdentityError::TooLarge { .. }) => return Err(err),
            Err(err) => return Ok(Found::Nothing(err.to_string())),
        };
        match answer {
            Answer::Redirect(next) => {
                if next.scheme() != url.scheme() && next.scheme() != "https" {
                    return Ok(Found::Nothing(format!(
                        "{url} redirects to {next}, which is not HTTPS"
                    )));
                }
                url = next;
            }
            Answer::Status(status) => {
                return Ok(Found::Nothing(format!("{url} answered HTTP {status}")));
            }
            Answer::Body(body) => {
                let text = String::from_utf8_lossy(&body);
                let text = text.trim();
                return Ok(match Did::new(text) {
                    Ok(did) => Found::Did(did),
                    Err(_) => Found::Nothing(format!(
                        "{url} answered {:?}, which is not a DID",
                        text.chars().take(80).collect::<String>()
                    )),
                });
            }
        }
    }
    Ok(Found::Nothing(format!(
        "more than {} redirects from {text}",
        fetch::MAX_REDIRECTS
    )))
}

fn timed_out(after: Duration) -> String {
    format!("no answer within {after:?}")
}
