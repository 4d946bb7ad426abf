//! Identity resolution (feature `identity`): handle → DID, DID → document,
//! and what atproto reads from the document, checked both ways.
//!
//! - Handles resolve by the DNS TXT record `_atproto.<handle>` and by
//!   `https://<handle>/.well-known/atproto-did`, both at once; a DNS answer
//!   wins, as the [handle specification](https://atproto.com/specs/handle)
//!   prefers it.
//! - `did:plc` documents come from a PLC directory
//!   (`https://plc.directory/<did>` unless configured), `did:web` ones from
//!   `https://<host>/.well-known/did.json` (`http` for `localhost`, as the
//!   reference implementation does); `did:web` with a path is refused.
//! - A [`DidDocument`] gives the atproto signing key (`#atproto`), the
//!   claimed handle (`alsoKnownAs`) and the PDS (`#atproto_pds`).
//! - A handle is valid for a DID only when each resolves to the other:
//!   [`Resolver::resolve`] checks both ways and says which way failed.
//!
//! Every answer is untrusted: each exchange has a timeout, answers larger
//! than a limit are refused without being read whole, DID documents are not
//! followed through redirects, and malformed documents are errors naming
//! what is wrong. Documents and handles are cached for a time (one hour by
//! default), up to a number of entries.
//!
//! ```no_run
//! # async fn run() -> Result<(), atlex_identity::identity::IdentityError> {
//! use atlex_identity::identity::Resolver;
//! use atlex_core::types::AtIdentifier;
//!
//! let resolver = Resolver::new()?;
//! let identifier = AtIdentifier::new("alice.example.com").expect("a handle");
//! let identity = resolver.resolve(&identifier).await?;
//! println!("{} is {}", identity.did, identity.handle.as_ref().map_or("unverified", |h| h.as_str()));
//! println!("signing key {}", identity.document.signing_key()?);
//! println!("PDS {}", identity.document.pds().unwrap_or("none"));
//! # Ok(())
//! # }
//! ```

mod document;
mod error;
mod fetch;
mod handle;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use document::{
    ATPROTO_KEY, ATPROTO_PDS, DidDocument, FEED_GENERATOR_SERVICE, LABELER_SERVICE,
    PDS_SERVICE_TYPE, Service, VerificationMethod,
};
pub use error::IdentityError;
pub use fetch::read_bounded;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;

use crate::crypto::PublicKey;
use atlex_core::types::{AtIdentifier, Did, Handle, Nsid};
use fetch::Answer;

/// The PLC directory of a new [`Resolver`].
pub const DEFAULT_PLC_DIRECTORY: &str = "https://plc.directory";
/// How long one exchange (a DNS lookup, an HTTP request with its body) may
/// take, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest DID document read, by default.
pub const DEFAULT_MAX_DOCUMENT_SIZE: usize = 64 * 1024;
/// How long resolved documents and handles are kept, by default.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60 * 60);
/// How many documents (and, separately, handles) are kept, by default.
pub const DEFAULT_CACHE_CAPACITY: u64 = 10_000;

/// What `Accept` DID document requests send.
const DID_JSON: &str = "application/did+ld+json, application/json";

/// Resolves handles and DIDs, with a cache. Cheap to clone: clones share the
/// connection pool and the cache.
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

/// What clones of a [`Resolver`] share.
struct Inner {
    http: reqwest::Client,
    /// The system's or the configured DNS resolver, or why there is none.
    dns: Result<TokioResolver, String>,
    /// The directory's URL without a trailing `/`.
    plc_directory: String,
    timeout: Duration,
    max_document_size: usize,
    plain_http: bool,
    /// The most bytes of a `did:plc` audit log read, when documents are
    /// made from verified logs ([`ResolverBuilder::verify_plc_log`]).
    plc_log_limit: Option<usize>,
    documents: moka::sync::Cache<Did, Arc<DidDocument>>,
    handles: moka::sync::Cache<String, Did>,
}

impl Inner {
    /// `https`, or `http` when plain HTTP was asked for.
    fn scheme(&self) -> &'static str {
        if self.plain_http { "http" } else { "https" }
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("plc_directory", &self.inner.plc_directory)
            .field("timeout", &self.inner.timeout)
            .field("max_document_size", &self.inner.max_document_size)
            .field("plain_http", &self.inner.plain_http)
            .finish_non_exhaustive()
    }
}

/// An account as resolved: its DID, its document, and its handle if it
/// checks out both ways.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The DID.
    pub did: Did,
    /// The current DID document.
    pub document: Arc<DidDocument>,
    /// The handle, when the document claims it and it resolves back to the
    /// DID.
    pub handle: Option<Handle>,
    /// Why there is no verified handle, when there is none: the document
    /// claims none ([`IdentityError::NoHandle`]), or the handle and the DID do not point at each other
    /// ([`IdentityError::HandleMismatch`]), or the handle could not be
    /// resolved.
    pub handle_problem: Option<IdentityError>,
}

impl Identity {
    /// The atproto signing key of the document.
    pub fn signing_key(&self) -> Result<PublicKey, IdentityError> {
        self.document.signing_key()
    }

    /// The PDS of the document.
    pub fn pds(&self) -> Result<&str, IdentityError> {
        self.document.pds().ok_or_else(|| IdentityError::NoPds {
            did: self.did.to_string(),
        })
    }
}

impl Resolver {
    /// A resolver with the default settings: the system's DNS configuration,
    /// `https://plc.directory`, a 3-second timeout, a 64 KiB document limit
    /// and a one-hour cache of 10,000 entries.
    pub fn new() -> Result<Self, IdentityError> {
        Self::builder().build()
    }

    /// A builder to configure a resolver.
    pub fn builder() -> ResolverBuilder {
        ResolverBuilder::default()
    }

    /// The DID a handle points at, by DNS or HTTPS (cached). This alone does
    /// not make the handle valid: see [`resolve`](Self::resolve).
    pub async fn resolve_handle(&self, handle: &Handle) -> Result<Did, IdentityError> {
        let key = handle.normalized();
        if let Some(did) = self.inner.handles.get(&key) {
            return Ok(did);
        }
        let did = handle::resolve(&self.inner, handle).await?;
        self.inner.handles.insert(key, did.clone());
        Ok(did)
    }

    /// The DID document of `did` (cached).
    pub async fn resolve_did(&self, did: &Did) -> Result<Arc<DidDocument>, IdentityError> {
        if let Some(document) = self.inner.documents.get(did) {
            return Ok(document);
        }
        self.refresh_did(did).await
    }

    /// The DID document of `did` if the cache holds it, without resolving.
    pub fn cached_did(&self, did: &Did) -> Option<Arc<DidDocument>> {
        self.inner.documents.get(did)
    }

    /// The DID document of `did`, fetched again whatever the cache holds
    /// (after a signature failed with the cached key, say); the cache keeps
    /// the new one.
    pub async fn refresh_did(&self, did: &Did) -> Result<Arc<DidDocument>, IdentityError> {
        let document = Arc::new(self.fetch_document(did).await?);
        self.inner
            .documents
            .insert(did.clone(), Arc::clone(&document));
        Ok(document)
    }

    /// The atproto signing key of `did`; `fresh` skips the cache.
    pub async fn signing_key(&self, did: &Did, fresh: bool) -> Result<PublicKey, IdentityError> {
        self.verification_key(did, document::ATPROTO_KEY, fresh)
            .await
    }

    /// The key of verification method `#<fragment>` of `did`'s document
    /// (`atproto_label` for a labeler's); `fresh` skips the cache.
    pub async fn verification_key(
        &self,
        did: &Did,
        fragment: &str,
        fresh: bool,
    ) -> Result<PublicKey, IdentityError> {
        let document = if fresh {
            self.refresh_did(did).await?
        } else {
            self.resolve_did(did).await?
        };
        document.verification_key(fragment)
    }

    /// Resolves a handle or a DID to the account's DID and document, and
    /// checks the handle both ways: a handle given must be the one the
    /// document claims, and the claimed handle must resolve to the DID.
    ///
    /// Fails when the handle does not resolve or the DID's document cannot
    /// be had; a handle that does not check out is reported in
    /// [`Identity::handle_problem`], not as a failure, since the DID and its
    /// document are still right.
    pub async fn resolve(&self, identifier: &AtIdentifier) -> Result<Identity, IdentityError> {
        let (did, given) = match identifier {
            AtIdentifier::Did(did) => (did.clone(), None),
            AtIdentifier::Handle(handle) => (self.resolve_handle(handle).await?, Some(handle)),
        };
        let document = self.resolve_did(&did).await?;
        let claimed = document.handle();
        let mismatch = |resolves_to: Option<&Did>, handle: &Handle| IdentityError::HandleMismatch {
            handle: handle.normalized(),
            did: did.to_string(),
            claimed: claimed.as_ref().map(Handle::normalized),
            resolves_to: resolves_to.map(Did::to_string),
        };
        let checked = match (given, &claimed) {
            // The handle given points at the DID; the document must claim it.
            (Some(given), Some(claimed)) if given.eq_normalized(claimed) => Ok(claimed.clone()),
            (Some(given), _) => Err(mismatch(Some(&did), given)),
            (None, None) => Err(IdentityError::NoHandle {
                did: did.to_string(),
            }),
            // The handle claimed must point back at the DID.
            (None, Some(claimed)) => match self.resolve_handle(claimed).await {
                Ok(back) if back == did => Ok(claimed.clone()),
                Ok(back) => Err(mismatch(Some(&back), claimed)),
                Err(err) => Err(err),
            },
        };
        let (handle, handle_problem) = match checked {
            Ok(handle) => (Some(handle), None),
            Err(problem) => (None, Some(problem)),
        };
        Ok(Identity {
            did,
            document,
            handle,
            handle_problem,
        })
    }

    /// The DID whose repository publishes the schemas of `nsid`'s
    /// authority: the `did=` TXT record at `_lexicon.<authority>`, the
    /// authority's labels in DNS order (`_lexicon.feed.bsky.app` for
    /// `app.bsky.feed.post`), as the [lexicon
    /// specification](https://atproto.com/specs/lexicon) describes it.
    ///
    /// Only that exact name is asked (not its parent domains), and it is not
    /// cached: it changes rarely, and a tool asks it once per authority.
    /// Fails with [`IdentityError::LexiconAuthority`] when the name has no
    /// `did=` record, has several different ones, or one that is not a DID.
    pub async fn resolve_lexicon_authority(&self, nsid: &Nsid) -> Result<Did, IdentityError> {
        let name = format!("_lexicon.{}.", nsid.domain_authority());
        let failed = |reason: String| IdentityError::LexiconAuthority {
            nsid: nsid.to_string(),
            name: name.trim_end_matches('.').to_owned(),
            reason,
        };
        let mut dids = handle::txt_dids(&self.inner, &name)
            .await
            .map_err(&failed)?;
        match dids.len() {
            0 => Err(failed("no did= TXT record".to_owned())),
            1 => {
                let text = dids.remove(0);
                Did::new(text.as_str())
                    .map_err(|err| failed(format!("the did= record {text:?} is not a DID: {err}")))
            }
            _ => Err(failed(format!(
                "several DIDs ({}), so none is trusted",
                dids.join(", ")
            ))),
        }
    }

    /// Forgets every cached document and handle.
    pub fn clear_cache(&self) {
        self.inner.documents.invalidate_all();
        self.inner.handles.invalidate_all();
    }

    /// Where `did`'s document is, by its method.
    fn document_url(&self, did: &Did) -> Result<reqwest::Url, IdentityError> {
        let invalid = |reason: String| IdentityError::InvalidDid {
            did: did.to_string(),
            reason,
        };
        let text = match did.method() {
            "plc" => {
                let id = did.identifier();
                let base32 = |c: char| c.is_ascii_lowercase() || ('2'..='7').contains(&c);
                if id.len() != 24 || !id.chars().all(base32) {
                    return Err(invalid(
                        "a did:plc identifier is 24 characters of base32 (a-z, 2-7)".to_owned(),
                    ));
                }
                format!("{}/{did}", self.inner.plc_directory)
            }
            "web" => {
                let id = did.identifier();
                if id.contains(':') {
                    return Err(IdentityError::DidWebPath {
                        did: did.to_string(),
                    });
                }
                let host = percent_encoding::percent_decode_str(id)
                    .decode_utf8()
                    .map_err(|_| invalid("a %-escape does not decode to UTF-8".to_owned()))?;
                let is_local = host == "localhost" || host.starts_with("localhost:");
                let scheme = if is_local {
                    "http"
                } else {
                    self.inner.scheme()
                };
                let url = format!("{scheme}://{host}/.well-known/did.json");
                let parsed = reqwest::Url::parse(&url)
                    .map_err(|err| invalid(format!("{host:?} is not a host: {err}")))?;
                if parsed.host_str().is_none() || parsed.path() != "/.well-known/did.json" {
                    return Err(invalid(format!("{host:?} is not a host")));
                }
                url
            }
            _ => {
                return Err(IdentityError::UnsupportedDidMethod {
                    did: did.to_string(),
                });
            }
        };
        reqwest::Url::parse(&text).map_err(|err| invalid(err.to_string()))
    }

    async fn fetch_document(&self, did: &Did) -> Result<DidDocument, IdentityError> {
        let mut url = self.document_url(did)?;
        let inner = &*self.inner;
        let verified_log = inner.plc_log_limit.filter(|_| did.method() == "plc");
        if verified_log.is_some() {
            url = reqwest::Url::parse(&format!("{url}/log/audit")).map_err(|err| {
                IdentityError::InvalidDid {
                    did: did.to_string(),
                    reason: err.to_string(),
                }
            })?;
        }
        let answer = fetch::get(
            &inner.http,
            &url,
            if verified_log.is_some() {
                "application/json"
            } else {
                DID_JSON
            },
            verified_log.unwrap_or(inner.max_document_size),
            inner.timeout,
        )
        .await?;
        match answer {
            #[cfg(feature = "plc")]
            Answer::Body(body) if verified_log.is_some() => plc_document(did, &url, &body),
            Answer::Body(body) => DidDocument::parse(did, &body),
            // A did:web server that answers an error has no document; a PLC
            // directory says so with 404 (410 for a tombstoned DID).
            Answer::Status(status) if did.method() == "web" || matches!(status, 404 | 410) => {
                Err(IdentityError::DidNotFound {
                    did: did.to_string(),
                    url: url.to_string(),
                    status,
                })
            }
            Answer::Status(status) => Err(IdentityError::Http {
                url: url.to_string(),
                status,
            }),
            // Documents are not followed through redirects.
            Answer::Redirect(_) => Err(IdentityError::Http {
                url: url.to_string(),
                status: 302,
            }),
        }
    }
}

/// The document of `did` from its audit log (`body`, from `url`), verified.
#[cfg(feature = "plc")]
fn plc_document(did: &Did, url: &reqwest::Url, body: &[u8]) -> Result<DidDocument, IdentityError> {
    let invalid = |reason: String| IdentityError::InvalidPlcLog {
        did: did.to_string(),
        reason,
    };
    let log: Vec<crate::plc::LogEntry> =
        serde_json::from_slice(body).map_err(|err| invalid(format!("not an audit log: {err}")))?;
    match crate::plc::verify_log(did, &log).map_err(|err| invalid(err.to_string()))? {
        crate::plc::State::Active(state) => Ok(state.to_document(did)),
        crate::plc::State::Tombstoned => Err(IdentityError::DidNotFound {
            did: did.to_string(),
            url: url.to_string(),
            status: 410,
        }),
    }
}

/// Configures a [`Resolver`]; made by [`Resolver::builder`].
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Debug)]
pub struct ResolverBuilder {
    plc_directory: String,
    dns_server: Option<SocketAddr>,
    timeout: Duration,
    max_document_size: usize,
    cache_ttl: Duration,
    cache_capacity: u64,
    plain_http: bool,
    http: Option<reqwest::Client>,
    host_overrides: Vec<(String, SocketAddr)>,
    plc_log_limit: Option<usize>,
}

impl Default for ResolverBuilder {
    fn default() -> Self {
        Self {
            plc_directory: DEFAULT_PLC_DIRECTORY.to_owned(),
            dns_server: None,
            timeout: DEFAULT_TIMEOUT,
            max_document_size: DEFAULT_MAX_DOCUMENT_SIZE,
            cache_ttl: DEFAULT_CACHE_TTL,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            plain_http: false,
            http: None,
            host_overrides: Vec::new(),
            plc_log_limit: None,
        }
    }
}

impl ResolverBuilder {
    /// The PLC directory `did:plc` documents come from
    /// (`https://plc.directory` by default).
    pub fn plc_directory(mut self, url: impl Into<String>) -> Self {
        self.plc_directory = url.into();
        self
    }

    /// Sends DNS queries to this server (UDP, and TCP for long answers)
    /// instead of those of the system's configuration.
    pub fn dns_server(mut self, address: SocketAddr) -> Self {
        self.dns_server = Some(address);
        self
    }

    /// How long one exchange may take: a DNS lookup, or an HTTP request and
    /// its whole body (3 seconds by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest DID document accepted, in bytes (64 KiB by default); a
    /// larger one is refused without being read whole.
    pub fn max_document_size(mut self, bytes: usize) -> Self {
        self.max_document_size = bytes;
        self
    }

    /// How long documents and handles are kept, and how many of each (one
    /// hour, 10,000 by default). A capacity of 0 turns the cache off.
    pub fn cache(mut self, ttl: Duration, capacity: u64) -> Self {
        self.cache_ttl = ttl;
        self.cache_capacity = capacity;
        self
    }

    /// Fetches `did:web` documents and handles' well-known files over plain
    /// HTTP instead of HTTPS. For tests and local development only: the
    /// specification requires HTTPS.
    pub fn plain_http(mut self, enabled: bool) -> Self {
        self.plain_http = enabled;
        self
    }

    /// Uses this HTTP client (for its proxy, TLS or address overrides). It
    /// should not follow redirects itself: the resolver refuses them for DID
    /// documents and follows a few for handles.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Sends HTTP(S) requests for `host` to `address` instead of looking the
    /// host up (as `curl --resolve` does): to test a handle or `did:web`
    /// against a local server. Ignored with [`http_client`](Self::http_client),
    /// whose own settings apply.
    pub fn override_host(mut self, host: impl Into<String>, address: SocketAddr) -> Self {
        self.host_overrides.push((host.into(), address));
        self
    }

    /// Makes each `did:plc` document from the DID's verified operation log
    /// instead of taking the directory's document on trust: the audit log
    /// (`<directory>/<did>/log/audit`, at most `max_log_size` bytes) is
    /// checked with [`crate::plc::verify_log`] (the DID, every signature and
    /// `prev`, the recoveries) and the document rendered from the state it
    /// ends in ([`crate::plc::Operation::to_document`]). A log that does not
    /// verify is [`IdentityError::InvalidPlcLog`]; a tombstoned DID is not
    /// found. Costs one larger request per document fetched. Feature `plc`.
    #[cfg(feature = "plc")]
    pub fn verify_plc_log(mut self, max_log_size: usize) -> Self {
        self.plc_log_limit = Some(max_log_size);
        self
    }

    /// Makes the resolver. Fails only when the HTTP client cannot be set up
    /// or the PLC directory URL is not an HTTP(S) URL; a system without a
    /// usable DNS configuration still resolves handles over HTTPS (and says
    /// why DNS did not answer).
    pub fn build(self) -> Result<Resolver, IdentityError> {
        let directory = reqwest::Url::parse(self.plc_directory.trim()).map_err(|err| {
            IdentityError::Setup(format!(
                "the PLC directory {:?} is not a URL: {err}",
                self.plc_directory
            ))
        })?;
        if !matches!(directory.scheme(), "http" | "https") {
            return Err(IdentityError::Setup(format!(
                "the PLC directory {directory} is not an HTTP(S) URL"
            )));
        }
        let http = match self.http {
            Some(http) => http,
            None => {
                let mut builder = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("atlex/", env!("CARGO_PKG_VERSION")));
                for (host, address) in &self.host_overrides {
                    builder = builder.resolve(host, *address);
                }
                builder
                    .build()
                    .map_err(|err| IdentityError::Setup(err.to_string()))?
            }
        };
        Ok(Resolver {
            inner: Arc::new(Inner {
                http,
                dns: dns_resolver(self.dns_server, self.timeout),
                plc_directory: directory.as_str().trim_end_matches('/').to_owned(),
                timeout: self.timeout,
                max_document_size: self.max_document_size,
                plain_http: self.plain_http,
                plc_log_limit: self.plc_log_limit,
                documents: moka::sync::Cache::builder()
                    .max_capacity(self.cache_capacity)
                    .time_to_live(self.cache_ttl)
                    .build(),
                handles: moka::sync::Cache::builder()
                    .max_capacity(self.cache_capacity)
                    .time_to_live(self.cache_ttl)
                    .build(),
            }),
        })
    }
}

/// A DNS resolver for `server`, or the system's.
fn dns_resolver(server: Option<SocketAddr>, timeout: Duration) -> Result<TokioResolver, String> {
    let mut builder = match server {
        Some(address) => {
            let connection = |mut config: ConnectionConfig| {
                config.port = address.port();
                config
            };
            let name_server = NameServerConfig::new(
                address.ip(),
                true,
                vec![
                    connection(ConnectionConfig::udp()),
                    connection(ConnectionConfig::tcp()),
                ],
            );
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![name_server]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio().map_err(|err| err.to_string())?,
    };
    let options = builder.options_mut();
    options.timeout = timeout;
    options.attempts = 1;
    builder.build().map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_urls() {
        let resolver = Resolver::builder()
            .plc_directory("http://127.0.0.1:9/dir/")
            .build()
            .unwrap();
        let url = |did: &str| resolver.document_url(&Did::new(did).unwrap());
        assert_eq!(
            url("did:plc:ewvi7nxzyoun6zhxrhs64oiz").unwrap().as_str(),
            "http://127.0.0.1:9/dir/did:plc:ewvi7nxzyoun6zhxrhs64oiz"
        );
        assert_eq!(
            url("did:web:example.com").unwrap().as_str(),
            "https://example.com/.well-known/did.json"
        );
        assert_eq!(
            url("did:web:localhost%3A8080").unwrap().as_str(),
            "http://localhost:8080/.well-known/did.json"
        );
        assert!(matches!(
            url("did:web:example.com:users:alice"),
            Err(IdentityError::DidWebPath { .. })
        ));
        for bad in [
            "did:web:exa%2Fmple.com",
            "did:web:%ff",
            "did:plc:short",
            "did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ",
        ] {
            assert!(
                matches!(url(bad), Err(IdentityError::InvalidDid { .. })),
                "{bad}: {:?}",
                url(bad)
            );
        }
        assert!(matches!(
            url("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"),
            Err(IdentityError::UnsupportedDidMethod { .. })
        ));
    }

    #[test]
    fn bad_directory_urls_fail_the_build() {
        for bad in ["", "plc.directory", "ftp://plc.directory"] {
            assert!(matches!(
                Resolver::builder().plc_directory(bad).build(),
                Err(IdentityError::Setup(_))
            ));
        }
    }
}
