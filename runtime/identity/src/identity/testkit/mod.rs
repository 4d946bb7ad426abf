//! An identity network for tests (feature `testkit`): a PLC directory, a
//! DNS server (handles' and other TXT records), `did:web` hosts and handles' well-known files, all on
//! 127.0.0.1 inside the test's process, and accounts with their keys.
//!
//! A service that takes identities from the network (a feed generator
//! checking service-auth tokens, a labeler's consumers checking label
//! signatures, anything reading a PDS from a DID document) is tested against
//! a [`TestNetwork`]: [`TestNetwork::account`] makes an account (a `did:plc`,
//! its handle resolving by DNS TXT and by HTTPS well-known file, a K-256
//! signing key), [`TestNetwork::service`] a `did:web` service, and
//! [`TestNetwork::resolver`] a [`Resolver`] that asks this network instead of
//! the real one. Accounts change their documents while the test runs (a new
//! signing key, another PDS, a labeler's key and endpoint); a resolver sees
//! the change once its cache no longer holds the old document.
//!
//! ```
//! use atlex_core::types::AtIdentifier;
//! use atlex_identity::crypto::Curve;
//! use atlex_identity::identity::testkit::TestNetwork;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let network = TestNetwork::start().await?;
//! let mut alice = network.account("alice.test")?;
//! alice.set_pds("https://pds.example.com");
//!
//! let resolver = network.resolver();
//! let identity = resolver.resolve(&AtIdentifier::new("alice.test")?).await?;
//! assert_eq!(&identity.did, alice.did());
//! assert_eq!(identity.handle.as_ref(), alice.handle());
//! assert_eq!(identity.signing_key()?, alice.signing_key().public_key());
//! assert_eq!(identity.pds()?, "https://pds.example.com");
//!
//! // A new key, seen once the cached document is gone.
//! let new_key = alice.rotate_signing_key(Curve::P256)?.public_key();
//! assert_ne!(resolver.signing_key(alice.did(), false).await?, new_key);
//! resolver.clear_cache();
//! assert_eq!(resolver.signing_key(alice.did(), false).await?, new_key);
//! # Ok(())
//! # }
//! ```
//!
//! Nothing reaches the real network: the resolver's HTTP client sends every
//! host to the network's server (an explicit port in a URL is kept, so a
//! `did:web:localhost%3A<port>` document served by the test itself is still
//! fetched from it), and its DNS queries go to the network's DNS server.
//! The accounts made here have random `did:plc` identifiers (24 base32
//! characters, as the method requires) and change through the methods here.
//! The PLC directory also takes signed operations, as the real one does
//! (`POST /<did>`, checked by [`crate::plc::accept`], with the log at
//! `/<did>/log/audit`): a service that creates and updates identities (a
//! PDS) is tested against it with [`crate::plc::PlcDirectory`] at
//! [`TestNetwork::plc_directory`].

mod dns;
mod http;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::StatusCode;
use tokio::task::JoinHandle;

use super::document::names_fragment;
use super::{ATPROTO_PDS, DidDocument, IdentityError, PDS_SERVICE_TYPE, Resolver, ResolverBuilder};
use super::{FEED_GENERATOR_SERVICE, LABELER_SERVICE};
use crate::crypto::{Curve, PublicKey, RandomError, SigningKey};
use atlex_core::types::{Did, Handle};

/// The fragment of a labeler's label key.
const LABEL_KEY: &str = "atproto_label";

/// Why the test network could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestkitError {
    /// A socket on 127.0.0.1 could not be opened.
    #[error("the test network could not open a socket on 127.0.0.1: {0}")]
    Io(#[from] std::io::Error),
    /// The operating system's random source failed (new keys and DIDs).
    #[error(transparent)]
    Random(#[from] RandomError),
    /// Not a valid handle.
    #[error("{text:?} is not a handle: {reason}")]
    Handle {
        /// The text given.
        text: String,
        /// Why.
        reason: String,
    },
    /// Not a host name a `did:web` can have (no port, no path).
    #[error("{text:?} is not a host for a did:web: {reason}")]
    Host {
        /// The text given.
        text: String,
        /// Why.
        reason: String,
    },
    /// A document whose `id` is not a DID.
    #[error("the document's id {id:?} is not a DID: {reason}")]
    Document {
        /// The `id`.
        id: String,
        /// Why.
        reason: String,
    },
    /// Not an HTTP error status (400 to 599).
    #[error("{0} is not an HTTP error status (400 to 599)")]
    Status(u16),
    /// The resolver could not be set up.
    #[error(transparent)]
    Resolver(#[from] IdentityError),
}

/// How a handle points at its DID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandleMethod {
    /// The TXT record `_atproto.<handle>` (`did=<did>`).
    Dns,
    /// `https://<handle>/.well-known/atproto-did`.
    WellKnown,
}

/// What the servers answer from, shared with them.
struct Shared {
    state: Mutex<State>,
}

impl Shared {
    /// The state, also after a test thread panicked while holding it (the
    /// maps stay consistent: each change is one insertion or removal).
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Default)]
struct State {
    /// Current documents, `did:plc` and `did:web`.
    documents: HashMap<Did, DidDocument>,
    /// The status a DID's document requests fail with, until it is published
    /// again.
    failures: HashMap<Did, StatusCode>,
    /// Document requests served, by DID.
    requests: HashMap<Did, usize>,
    /// Handles (normalized) in DNS.
    dns_handles: HashMap<String, Did>,
    /// Handles (normalized) with a well-known file.
    web_handles: HashMap<String, Did>,
    /// Other TXT records, by lowercase name without the final dot.
    txt: HashMap<String, Vec<String>>,
    /// The operation logs of `did:plc`s made by signed operations.
    plc_logs: HashMap<Did, Vec<crate::plc::LogEntry>>,
}

/// An identity network on 127.0.0.1: a PLC directory, `did:web` hosts and
/// handles' well-known files (one HTTP server), and a DNS server for
/// handles' TXT records. The servers run on the Tokio runtime of
/// [`start`](Self::start), as long as the network is kept: dropping it
/// stops them taking new connections and queries, so a test keeps it for as
/// long as it resolves.
pub struct TestNetwork {
    shared: Arc<Shared>,
    http_address: SocketAddr,
    dns_address: SocketAddr,
    http_client: reqwest::Client,
    servers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for TestNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestNetwork")
            .field("http_address", &self.http_address)
            .field("dns_address", &self.dns_address)
            .finish_non_exhaustive()
    }
}

impl Drop for TestNetwork {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

impl TestNetwork {
    /// Starts the servers on ports of 127.0.0.1 chosen by the system. Must
    /// be called within a Tokio runtime.
    pub async fn start() -> Result<Self, TestkitError> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
        });
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let http_address = listener.local_addr()?;
        let socket = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let dns_address = socket.local_addr()?;
        let router = http::router(Arc::clone(&shared));
        let http_server = tokio::spawn(async move {
            // Serving ends with an error only when accepting fails for good;
            // requests then fail, which the test sees.
            let _ = axum::serve(listener, router).await;
        });
        let dns_server = tokio::spawn(dns::serve(socket, Arc::clone(&shared)));
        let servers = vec![http_server, dns_server];
        let http_client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(ToNetwork(http_address)))
            .build()
            .map_err(|err| IdentityError::Setup(err.to_string()))?;
        let network = Self {
            shared,
            http_address,
            dns_address,
            http_client,
            servers,
        };
        // Fails here, if at all, so that `resolver` does not.
        network.resolver_builder().build()?;
        Ok(network)
    }

    /// The address of the HTTP server (PLC directory, `did:web` hosts,
    /// well-known files).
    pub fn http_address(&self) -> SocketAddr {
        self.http_address
    }

    /// The address of the DNS server (UDP).
    pub fn dns_address(&self) -> SocketAddr {
        self.dns_address
    }

    /// The URL of the PLC directory, for
    /// [`ResolverBuilder::plc_directory`].
    pub fn plc_directory(&self) -> String {
        format!("http://{}", self.http_address)
    }

    /// An HTTP client that sends every host to this network (and keeps an
    /// explicit port of a URL): for code of the test's own that fetches
    /// well-known files or documents itself. It follows no redirects.
    pub fn http_client(&self) -> reqwest::Client {
        self.http_client.clone()
    }

    /// A resolver builder set up for this network: its PLC directory, its
    /// DNS server, its HTTP client and plain HTTP; the rest (timeout, cache)
    /// is the default, to change before [`build`](ResolverBuilder::build).
    pub fn resolver_builder(&self) -> ResolverBuilder {
        Resolver::builder()
            .plc_directory(self.plc_directory())
            .dns_server(self.dns_address)
            .plain_http(true)
            .http_client(self.http_client.clone())
    }

    /// A new resolver for this network, with its own cache.
    pub fn resolver(&self) -> Resolver {
        self.resolver_builder()
            .build()
            // `start` built one from the same settings, and nothing else can
            // fail in `build`.
            .expect("the test network's resolver was built once in `start`")
    }

    /// A new account: a random `did:plc`, whose document claims `handle`
    /// and has a new K-256 `#atproto` key; `handle` points at the DID both
    /// by DNS and by its well-known file. No PDS until
    /// [`Account::set_pds`]. A handle given again points at the newer
    /// account; the older one's document still claims it, which then does
    /// not check out.
    pub fn account(&self, handle: &str) -> Result<Account, TestkitError> {
        self.account_with(
            handle,
            Curve::K256,
            &[HandleMethod::Dns, HandleMethod::WellKnown],
        )
    }

    /// [`account`](Self::account) with a signing key on `curve`, and the
    /// handle pointing at the DID by `methods` only (none: a handle the
    /// document claims that does not resolve).
    pub fn account_with(
        &self,
        handle: &str,
        curve: Curve,
        methods: &[HandleMethod],
    ) -> Result<Account, TestkitError> {
        let handle = parse_handle(handle)?;
        let did = random_plc()?;
        let key = SigningKey::generate(curve)?;
        let document = DidDocument::new(&did)
            .with_handle(&handle)
            .with_key(super::ATPROTO_KEY, &key.public_key());
        for method in methods {
            self.point(&handle, &did, *method);
        }
        self.publish(document)?;
        Ok(Account {
            shared: Arc::clone(&self.shared),
            did,
            handle: Some(handle),
            signing_key: key,
            label_key: None,
        })
    }

    /// A new service known by `did:web:<host>` (a feed generator, a
    /// labeler), whose document this network serves at
    /// `http://<host>/.well-known/did.json`, with a new K-256 `#atproto` key
    /// and no handle. `host` is a host name without a port.
    pub fn service(&self, host: &str) -> Result<Account, TestkitError> {
        let invalid = |reason: &str| TestkitError::Host {
            text: host.to_owned(),
            reason: reason.to_owned(),
        };
        // A host name has the syntax of a handle (labels of letters, digits
        // and hyphens, a top-level domain that does not start with a digit).
        let name = parse_handle(host).map_err(|_| invalid("not a domain name"))?;
        let did = Did::new(format!("did:web:{}", name.normalized()))
            .map_err(|err| invalid(&err.to_string()))?;
        let key = SigningKey::generate(Curve::K256)?;
        self.publish(DidDocument::new(&did).with_key(super::ATPROTO_KEY, &key.public_key()))?;
        Ok(Account {
            shared: Arc::clone(&self.shared),
            did,
            handle: None,
            signing_key: key,
            label_key: None,
        })
    }

    /// Publishes `document` for the DID in its `id` (`did:plc` in the
    /// directory, `did:web` at its host), replacing any earlier one and
    /// ending a [`fail_did`](Self::fail_did).
    pub fn publish(&self, document: DidDocument) -> Result<(), TestkitError> {
        let did = Did::new(document.id.as_str()).map_err(|err| TestkitError::Document {
            id: document.id.clone(),
            reason: err.to_string(),
        })?;
        let mut state = self.shared.state();
        state.failures.remove(&did);
        state.documents.insert(did, document);
        Ok(())
    }

    /// The document published for `did`, if any.
    pub fn document(&self, did: &Did) -> Option<DidDocument> {
        self.shared.state().documents.get(did).cloned()
    }

    /// Makes `handle` point at `did` by `method`, whatever it pointed at
    /// before (the handle of another account, to test a handle that the
    /// DID's document does not claim).
    pub fn point_handle(
        &self,
        handle: &str,
        did: &Did,
        method: HandleMethod,
    ) -> Result<(), TestkitError> {
        self.point(&parse_handle(handle)?, did, method);
        Ok(())
    }

    /// Removes what `handle` points at, by both methods: it no longer
    /// resolves.
    pub fn remove_handle(&self, handle: &str) -> Result<(), TestkitError> {
        let name = parse_handle(handle)?.normalized();
        let mut state = self.shared.state();
        state.dns_handles.remove(&name);
        state.web_handles.remove(&name);
        Ok(())
    }

    /// Sets the TXT records at `name` (`_lexicon.example.com`, say, whose
    /// `did=<did>` record names the repository publishing the schemas of
    /// `com.example.*`), replacing those it had; no values removes them.
    /// Names of handles' records (`_atproto.<handle>`) answer from the
    /// handles set here instead. A resolver that asked the name before may
    /// answer from its DNS cache for a minute; a new one asks again.
    pub fn set_txt(&self, name: &str, values: &[&str]) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let mut state = self.shared.state();
        if values.is_empty() {
            state.txt.remove(&name);
        } else {
            let values = values.iter().map(|value| (*value).to_owned()).collect();
            state.txt.insert(name, values);
        }
    }

    /// Makes requests for `did`'s document fail with `status` (a directory
    /// that is down answers 503, a tombstoned `did:plc` 410) until a
    /// document is published for it again.
    pub fn fail_did(&self, did: &Did, status: u16) -> Result<(), TestkitError> {
        let status = StatusCode::from_u16(status)
            .ok()
            .filter(|status| status.is_client_error() || status.is_server_error())
            .ok_or(TestkitError::Status(status))?;
        self.shared.state().failures.insert(did.clone(), status);
        Ok(())
    }

    /// How many times `did`'s document was asked for: to check what a
    /// cache saves.
    pub fn requests(&self, did: &Did) -> usize {
        self.shared.state().requests.get(did).copied().unwrap_or(0)
    }

    fn point(&self, handle: &Handle, did: &Did, method: HandleMethod) {
        let mut state = self.shared.state();
        let records = match method {
            HandleMethod::Dns => &mut state.dns_handles,
            HandleMethod::WellKnown => &mut state.web_handles,
        };
        records.insert(handle.normalized(), did.clone());
    }
}

/// An account or service of a [`TestNetwork`]: its DID, handle and keys.
/// Its methods change the document the network publishes.
///
/// A clone keeps the keys it had when cloned: to sign with an old key after
/// a rotation, as a test of a stale or forged signature does.
#[derive(Clone)]
pub struct Account {
    shared: Arc<Shared>,
    did: Did,
    handle: Option<Handle>,
    signing_key: SigningKey,
    label_key: Option<SigningKey>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("signing_key", &self.signing_key)
            .field("label_key", &self.label_key)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// The DID.
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// The handle the document claims (none for a [`TestNetwork::service`]
    /// until [`set_handle`](Self::set_handle)).
    pub fn handle(&self) -> Option<&Handle> {
        self.handle.as_ref()
    }

    /// The private key of the document's `#atproto` key: it signs
    /// service-auth tokens and repository commits.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// The private key of the document's `#atproto_label` key, once
    /// [`set_labeler`](Self::set_labeler) made one.
    pub fn label_key(&self) -> Option<&SigningKey> {
        self.label_key.as_ref()
    }

    /// The document the network publishes for the account now.
    pub fn document(&self) -> DidDocument {
        self.shared
            .state()
            .documents
            .get(&self.did)
            .cloned()
            .unwrap_or_else(|| DidDocument::new(&self.did))
    }

    /// Changes the published document with `change` (which keeps the
    /// document's `id`), and ends a [`TestNetwork::fail_did`] of the
    /// account.
    pub fn update_document(&self, change: impl FnOnce(&mut DidDocument)) {
        let mut state = self.shared.state();
        let document = state
            .documents
            .entry(self.did.clone())
            .or_insert_with(|| DidDocument::new(&self.did));
        change(document);
        document.id = self.did.to_string();
        state.failures.remove(&self.did);
    }

    /// A new `#atproto` key on `curve` replaces the old one in the document
    /// (a key rotation); the old key no longer verifies.
    pub fn rotate_signing_key(&mut self, curve: Curve) -> Result<&SigningKey, TestkitError> {
        let key = SigningKey::generate(curve)?;
        self.set_key(super::ATPROTO_KEY, &key.public_key());
        self.signing_key = key;
        Ok(&self.signing_key)
    }

    /// Makes the account a labeler: a new K-256 `#atproto_label` key
    /// (replacing an earlier one) and the `#atproto_labeler` service at
    /// `endpoint`.
    pub fn set_labeler(&mut self, endpoint: &str) -> Result<&SigningKey, TestkitError> {
        let key = SigningKey::generate(Curve::K256)?;
        self.set_key(LABEL_KEY, &key.public_key());
        self.set_service(LABELER_SERVICE, endpoint);
        Ok(self.label_key.insert(key))
    }

    /// Sets verification method `#<fragment>` to `key`, replacing any entry
    /// with that fragment: for keys whose private half the test keeps
    /// itself.
    pub fn set_key(&self, fragment: &str, key: &PublicKey) {
        let did = self.did.clone();
        self.update_document(|document| {
            document
                .verification_method
                .retain(|method| !names_fragment(did.as_str(), &method.id, fragment));
            let mut replaced = DidDocument::new(&did).with_key(fragment, key);
            document
                .verification_method
                .append(&mut replaced.verification_method);
        });
    }

    /// Sets service `#<fragment>` of type `kind` to `endpoint`, replacing
    /// any entry with that fragment.
    pub fn set_service(&self, service: (&str, &str), endpoint: &str) {
        let did = self.did.clone();
        self.update_document(|document| {
            document
                .service
                .retain(|entry| !names_fragment(did.as_str(), &entry.id, service.0));
            let mut added = DidDocument::new(&did).with_service(service, endpoint);
            document.service.append(&mut added.service);
        });
    }

    /// Removes service `#<fragment>`.
    pub fn remove_service(&self, fragment: &str) {
        let did = self.did.clone();
        self.update_document(|document| {
            document
                .service
                .retain(|entry| !names_fragment(did.as_str(), &entry.id, fragment));
        });
    }

    /// Sets the PDS (`#atproto_pds`): to point the account at a PDS the test
    /// runs, or to move it to another.
    pub fn set_pds(&self, endpoint: &str) {
        self.set_service((ATPROTO_PDS, PDS_SERVICE_TYPE), endpoint);
    }

    /// Sets the feed generator service (`#bsky_fg`).
    pub fn set_feed_generator(&self, endpoint: &str) {
        self.set_service(FEED_GENERATOR_SERVICE, endpoint);
    }

    /// Changes the handle: the document claims `handle` instead, `handle`
    /// points at the DID by DNS and by its well-known file, and the old
    /// handle no longer resolves.
    pub fn set_handle(&mut self, handle: &str) -> Result<(), TestkitError> {
        let handle = parse_handle(handle)?;
        let mut guard = self.shared.state();
        let state = &mut *guard;
        if let Some(old) = &self.handle {
            let old = old.normalized();
            for records in [&mut state.dns_handles, &mut state.web_handles] {
                if records.get(&old) == Some(&self.did) {
                    records.remove(&old);
                }
            }
        }
        for records in [&mut state.dns_handles, &mut state.web_handles] {
            records.insert(handle.normalized(), self.did.clone());
        }
        drop(guard);
        let claimed = format!("at://{handle}");
        self.update_document(|document| {
            document
                .also_known_as
                .retain(|uri| !uri.starts_with("at://"));
            document.also_known_as.insert(0, claimed);
        });
        self.handle = Some(handle);
        Ok(())
    }
}

fn parse_handle(text: &str) -> Result<Handle, TestkitError> {
    Handle::new(text).map_err(|err| TestkitError::Handle {
        text: text.to_owned(),
        reason: err.to_string(),
    })
}

/// A random `did:plc`: 24 characters of base32 (120 random bits).
fn random_plc() -> Result<Did, TestkitError> {
    let mut bytes = [0u8; 15];
    getrandom::fill(&mut bytes).map_err(|err| RandomError::new(err.to_string()))?;
    let id = data_encoding::BASE32_NOPAD
        .encode(&bytes)
        .to_ascii_lowercase();
    // 24 lowercase base32 characters are a did:plc identifier.
    Ok(Did::new(format!("did:plc:{id}")).expect("a did:plc of 24 base32 characters"))
}

/// Resolves every host name to the network's HTTP server (an explicit port
/// in the URL still wins, as for any resolved address).
struct ToNetwork(SocketAddr);

impl reqwest::dns::Resolve for ToNetwork {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let address = self.0;
        Box::pin(async move {
            let addresses: reqwest::dns::Addrs = Box::new(std::iter::once(address));
            Ok(addresses)
        })
    }
}
