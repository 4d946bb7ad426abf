//! Why resolution failed.

use std::time::Duration;

/// Why a handle or DID did not resolve, or its document is not usable.
///
/// Every answer from the network is untrusted: each way it can be wrong has
/// its own case, naming the DID, handle or URL involved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// A `did:plc`'s operation log, read to make its document
    /// (`ResolverBuilder::verify_plc_log`), does not verify: the directory
    /// served operations their rules forbid, or no log at all.
    #[error("{did}: the PLC operation log does not verify: {reason}")]
    InvalidPlcLog {
        /// The DID.
        did: String,
        /// Why.
        reason: String,
    },
    /// A DID method other than `plc` and `web`.
    #[error("{did}: unsupported DID method (atproto uses did:plc and did:web)")]
    UnsupportedDidMethod {
        /// The DID.
        did: String,
    },
    /// A DID that its method does not allow (a `did:plc` whose identifier is
    /// not 24 base32 characters, a `did:web` whose host does not decode).
    #[error("{did}: not a valid DID of its method: {reason}")]
    InvalidDid {
        /// The DID.
        did: String,
        /// Why.
        reason: String,
    },
    /// A `did:web` with a path, which atproto does not support.
    #[error("{did}: did:web with a path is not supported in atproto")]
    DidWebPath {
        /// The DID.
        did: String,
    },
    /// The directory or web server says the DID does not exist (404, or a
    /// `did:web` server answering an error status).
    #[error("{did}: not found ({url} answered HTTP {status})")]
    DidNotFound {
        /// The DID.
        did: String,
        /// The URL asked.
        url: String,
        /// The status answered.
        status: u16,
    },
    /// Neither DNS nor HTTPS gave a DID for the handle.
    #[error("{handle}: the handle does not resolve (DNS: {dns}; HTTPS: {https})")]
    HandleNotFound {
        /// The handle.
        handle: String,
        /// What the DNS TXT lookup of `_atproto.<handle>` gave.
        dns: String,
        /// What `https://<handle>/.well-known/atproto-did` gave.
        https: String,
    },
    /// More than one `did=` TXT record, with different DIDs.
    #[error("{handle}: DNS has several different DIDs for the handle: {}", dids.join(", "))]
    AmbiguousHandle {
        /// The handle.
        handle: String,
        /// The DIDs found.
        dids: Vec<String>,
    },
    /// The handle resolves to a DID whose document does not claim it, or the
    /// document's handle does not resolve back to the DID.
    #[error(
        "{handle} and {did} do not check out both ways: {}",
        match (claimed, resolves_to) {
            (_, Some(other)) if other != did => format!("the handle resolves to {other}"),
            (Some(claimed), _) => format!("the document claims {claimed}"),
            (None, _) => "the document claims no handle".to_owned(),
        }
    )]
    HandleMismatch {
        /// The handle.
        handle: String,
        /// The DID.
        did: String,
        /// The handle the DID's document claims, if any.
        claimed: Option<String>,
        /// The DID the handle resolves to, when it was resolved.
        resolves_to: Option<String>,
    },
    /// The DID document claims no handle (no valid `at://` entry in
    /// `alsoKnownAs`).
    #[error("{did}: the DID document claims no handle")]
    NoHandle {
        /// The DID.
        did: String,
    },
    /// An HTTP answer with an unexpected status.
    #[error("{url} answered HTTP {status}")]
    Http {
        /// The URL asked.
        url: String,
        /// The status answered.
        status: u16,
    },
    /// No answer: the connection failed, the server hung up, or TLS failed.
    #[error("{url}: {reason}")]
    Transport {
        /// The URL asked.
        url: String,
        /// What failed.
        reason: String,
    },
    /// No complete answer within the resolver's timeout.
    #[error("{what}: no answer within {after:?}")]
    Timeout {
        /// What was asked (a URL, or `DNS TXT <name>`).
        what: String,
        /// The timeout.
        after: Duration,
    },
    /// An answer larger than the resolver accepts; it was not read whole.
    #[error("{url}: the answer is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// No DID publishes the schemas of an NSID's authority: the
    /// `_lexicon` TXT record is missing, names several DIDs, or one that is
    /// not a DID.
    #[error("{nsid}: no lexicon authority at DNS TXT {name}: {reason}")]
    LexiconAuthority {
        /// The NSID.
        nsid: String,
        /// The name looked up (`_lexicon.<authority>`).
        name: String,
        /// What was found instead.
        reason: String,
    },
    /// A DNS lookup that failed other than by finding nothing.
    #[error("DNS TXT {name}: {reason}")]
    Dns {
        /// The name looked up.
        name: String,
        /// What failed.
        reason: String,
    },
    /// The document is not a DID document: not JSON, or a field missing or of
    /// the wrong type (the reason names it).
    #[error("{did}: malformed DID document: {reason}")]
    MalformedDocument {
        /// The DID.
        did: String,
        /// What is wrong, and where.
        reason: String,
    },
    /// The document's `id` is another DID.
    #[error("{did}: the document is that of {found:?}")]
    WrongDocument {
        /// The DID resolved.
        did: String,
        /// The `id` the document has.
        found: String,
    },
    /// The document has no verification method `#<fragment>`.
    #[error("{did}: the DID document has no #{fragment} key")]
    NoKey {
        /// The DID.
        did: String,
        /// The key's fragment (`atproto` for the signing key).
        fragment: String,
    },
    /// The document's `#<fragment>` verification method is not a usable key.
    #[error("{did}: the #{fragment} key of the DID document is not usable: {reason}")]
    BadKey {
        /// The DID.
        did: String,
        /// The key's fragment.
        fragment: String,
        /// Why.
        reason: String,
    },
    /// The document has no `#atproto_pds` service with an HTTP(S) endpoint.
    #[error("{did}: the DID document names no PDS (#atproto_pds)")]
    NoPds {
        /// The DID.
        did: String,
    },
    /// The resolver could not be set up (the HTTP client or the system's DNS
    /// configuration).
    #[error("cannot set up the resolver: {0}")]
    Setup(String),
}

impl IdentityError {
    /// Whether the failure may pass by itself (a timeout, a connection or
    /// DNS failure, a server error), as opposed to an answer that says the
    /// identity is missing or broken.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Transport { .. } | Self::Dns { .. } => true,
            Self::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}
