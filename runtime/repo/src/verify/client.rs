//! The verifier over atlex-client: a verified event stream, resync and
//! backfill by `com.atproto.sync.getRepo`.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

use atlex_client::{Client, CursorStore, EventStream};
use atlex_core::subscription::SubscriptionError;
use atlex_core::types::Did;
use atlex_core::xrpc::{Subscription, UndeclaredError};
use bytes::Bytes;
use futures_core::Stream;

use super::{BoxError, FirehoseVerifier, KeySource, Rejected, Resync, Verified};
use crate::events::RepoMessage;

/// `com.atproto.sync.getRepo`, with the one parameter the verifier sends,
/// declared with the derives generated code uses. The runtime cannot use
/// the generated bindings (they depend on it); a test checks this against
/// them.
mod get_repo {
    use atlex_core::types::Did;

    #[derive(Clone, Copy, Debug, atlex_core::rt::Endpoint)]
    #[lex(
        crate = "::atlex_core",
        query = "com.atproto.sync.getRepo",
        params,
        output = "application/vnd.ipld.car"
    )]
    pub(crate) struct GetRepo;

    pub(crate) type Output = atlex_core::xrpc::Binary;

    pub(crate) type Error = atlex_core::xrpc::UndeclaredError;

    /// The parameters of [`GetRepo`].
    #[derive(Clone, Debug, atlex_core::rt::Params)]
    #[lex(crate = "::atlex_core")]
    pub(crate) struct Params {
        pub(crate) did: Did,
    }
}

use get_repo::{GetRepo, Params as GetRepoParams};

/// Fetches `did`'s whole repository as a CAR (`com.atproto.sync.getRepo`)
/// from the client's host: its PDS, or a relay that serves repositories.
/// Verify it with [`verify_repo`](super::verify_repo) and walk its records
/// through [`RepoCar::repo`](crate::repo_car::RepoCar::repo).
pub async fn fetch_repo(
    client: &Client,
    did: &Did,
) -> Result<Bytes, atlex_client::Error<UndeclaredError>> {
    let params = GetRepoParams { did: did.clone() };
    let car = client.query(GetRepo, &params).await?;
    Ok(Bytes::from(car.data))
}

/// A [`Resync`] hook that fetches the repository with [`fetch_repo`]:
/// from one host, or from each account's PDS (with feature `resolve`).
#[derive(Clone, Debug)]
pub struct GetRepoResync {
    from: Source,
}

#[derive(Clone, Debug)]
enum Source {
    Host(Client),
    #[cfg(feature = "resolve")]
    Pds(atlex_identity::identity::Resolver),
}

impl GetRepoResync {
    /// Fetches repositories from `client`'s host (a PDS, or a relay that
    /// serves them).
    pub fn new(client: Client) -> Self {
        Self {
            from: Source::Host(client),
        }
    }

    /// Fetches each repository from its account's PDS, as its DID document
    /// names it (`#atproto_pds`), resolved with `resolver` (feature
    /// `resolve`).
    #[cfg(feature = "resolve")]
    pub fn from_pds(resolver: atlex_identity::identity::Resolver) -> Self {
        Self {
            from: Source::Pds(resolver),
        }
    }
}

impl Resync for GetRepoResync {
    async fn fetch_repo(&self, did: &Did) -> Result<Option<Bytes>, BoxError> {
        let car = match &self.from {
            Source::Host(client) => fetch_repo(client, did).await?,
            #[cfg(feature = "resolve")]
            Source::Pds(resolver) => {
                let document = resolver.resolve_did(did).await?;
                let pds = document
                    .pds()
                    .ok_or_else(|| format!("the DID document of {did} names no PDS"))?;
                fetch_repo(&Client::new(pds)?, did).await?
            }
        };
        Ok(Some(car))
    }
}

/// A message that verified, and what it was.
#[derive(Clone, Debug)]
pub struct VerifiedMessage<M> {
    /// The message (read a commit's records with `decode_ops`).
    pub message: M,
    /// What the verifier made of it.
    pub verified: Verified,
}

/// What a [`VerifiedStream`] yields besides verified messages.
#[derive(Debug)]
pub enum StreamError<M, E> {
    /// The event stream's own error (a frame that does not decode, a lost
    /// connection): see [`EventStream`].
    Subscription(SubscriptionError<E>),
    /// A message that did not verify, with the resync it caused.
    Rejected {
        /// The message.
        message: Box<M>,
        /// Why, and the resync.
        rejected: Box<Rejected>,
    },
}

impl<M, E: std::fmt::Display> std::fmt::Display for StreamError<M, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Subscription(error) => error.fmt(f),
            Self::Rejected { rejected, .. } => write!(f, "rejected: {rejected}"),
        }
    }
}

impl<M: std::fmt::Debug, E: std::error::Error + 'static> std::error::Error for StreamError<M, E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Subscription(error) => Some(error),
            Self::Rejected { rejected, .. } => Some(&**rejected),
        }
    }
}

type Item<S> = Result<
    VerifiedMessage<<S as Subscription>::Message>,
    StreamError<<S as Subscription>::Message, <S as Subscription>::Error>,
>;
type Pending<S, K, H> = Pin<Box<dyn Future<Output = (Parts<S, K, H>, Option<Handled<S>>)> + Send>>;

/// An item, and the `seq` of its message.
struct Handled<S: Subscription> {
    item: Item<S>,
    seq: Option<i64>,
}

/// The stream, the verifier and the hook, held by the item being awaited
/// while there is one.
struct Parts<S: Subscription, K, H> {
    events: EventStream<S>,
    verifier: FirehoseVerifier<K>,
    hook: H,
}

/// A repository event stream whose messages are verified before they are
/// handed out: made by [`VerifiedStream::new`] from a stream of
/// `Client::subscribe`, a [`FirehoseVerifier`] and a [`Resync`] hook.
///
/// Each message is verified ([`FirehoseVerifier::verify_or_resync`]) and
/// then handed out: a [`VerifiedMessage`], or a
/// [`StreamError::Rejected`] with the reason and the resync it caused.
/// Errors of the event stream itself pass through as
/// [`StreamError::Subscription`], and it reconnects as it was told to.
///
/// A message counts as handled only once its outcome is handed out:
/// [`last_seq`](Self::last_seq) and [`save_cursor`](Self::save_cursor)
/// move then, never while the message is being verified (a key fetched, a
/// repository fetched again). A stream resumed from them gets again every
/// message whose outcome was not handed out.
#[must_use = "a stream does nothing until polled"]
pub struct VerifiedStream<S: Subscription, K, H> {
    parts: Option<Parts<S, K, H>>,
    pending: Option<Pending<S, K, H>>,
    last_seq: Option<i64>,
    cursor_store: Option<(Box<dyn CursorStore>, Option<i64>)>,
}

/// The cursor a [`VerifiedStream`] loaded, given to the event stream it
/// wraps: only read once, when the stream is made.
struct Loaded(Option<i64>);

impl CursorStore for Loaded {
    fn load(&self) -> std::io::Result<Option<i64>> {
        Ok(self.0)
    }

    fn save(&self, _seq: i64) -> std::io::Result<()> {
        Ok(())
    }
}

impl<S: Subscription, K, H> VerifiedStream<S, K, H> {
    /// Verifies the messages of `events` with `verifier`, calling `hook`
    /// when a repository's chain breaks. Set the event stream's options
    /// (reconnect, frame size) before; do not give it a cursor store, give
    /// it to [`resume_with`](Self::resume_with).
    pub fn new(events: EventStream<S>, verifier: FirehoseVerifier<K>, hook: H) -> Self {
        Self {
            parts: Some(Parts {
                events,
                verifier,
                hook,
            }),
            pending: None,
            last_seq: None,
            cursor_store: None,
        }
    }

    /// Resumes from the cursor saved in `store`, when it has one, and keeps
    /// `store` for [`save_cursor`](Self::save_cursor). Call it before the
    /// stream is first polled.
    pub fn resume_with(mut self, store: impl CursorStore + 'static) -> std::io::Result<Self> {
        let saved = store.load()?;
        if let Some(parts) = self.parts.take() {
            self.parts = Some(Parts {
                events: parts.events.resume_with(Loaded(saved))?,
                ..parts
            });
        }
        self.cursor_store = Some((Box::new(store), saved));
        Ok(self)
    }

    /// The `seq` of the last message whose outcome was handed out: the
    /// cursor to resume from.
    pub fn last_seq(&self) -> Option<i64> {
        self.last_seq
    }

    /// Saves [`last_seq`](Self::last_seq) to the store given to
    /// [`resume_with`](Self::resume_with), when it moved on: call it once
    /// the messages handed out so far are handled. An error when the stream
    /// has no store.
    pub fn save_cursor(&mut self) -> std::io::Result<()> {
        let Some((store, saved)) = self.cursor_store.as_mut() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "the stream has no cursor store: give it one with `resume_with`",
            ));
        };
        match self.last_seq {
            Some(seq) if *saved != Some(seq) => {
                store.save(seq)?;
                *saved = Some(seq);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The verifier, between messages (`None` while one is being
    /// verified).
    pub fn verifier(&self) -> Option<&FirehoseVerifier<K>> {
        self.parts.as_ref().map(|parts| &parts.verifier)
    }

    /// The verifier, between messages, to set a repository's state.
    pub fn verifier_mut(&mut self) -> Option<&mut FirehoseVerifier<K>> {
        self.parts.as_mut().map(|parts| &mut parts.verifier)
    }
}

impl<S: Subscription, K, H> Parts<S, K, H>
where
    S::Message: RepoMessage + Send + Sync + 'static,
    K: KeySource,
    H: Resync,
{
    /// The next message, verified.
    async fn next(&mut self) -> Option<Handled<S>> {
        let received = poll_fn(|cx| Pin::new(&mut self.events).poll_next(cx)).await?;
        let message = match received {
            Ok(message) => message,
            Err(error) => {
                return Some(Handled {
                    item: Err(StreamError::Subscription(error)),
                    seq: None,
                });
            }
        };
        // The event stream moved its cursor to this message as it handed
        // it over; this stream moves its own once the message is verified.
        let seq = self.events.last_seq();
        let item = match self.verifier.verify_or_resync(&message, &self.hook).await {
            Ok(verified) => Ok(VerifiedMessage { message, verified }),
            Err(rejected) => Err(StreamError::Rejected {
                message: Box::new(message),
                rejected: Box::new(rejected),
            }),
        };
        Some(Handled { item, seq })
    }
}

// No field is pinned: the future awaited is boxed.
impl<S: Subscription, K, H> Unpin for VerifiedStream<S, K, H> {}

impl<S, K, H> Stream for VerifiedStream<S, K, H>
where
    S: Subscription,
    S::Message: RepoMessage + Send + Sync + 'static,
    S::Error: Send + 'static,
    K: KeySource + 'static,
    H: Resync + 'static,
{
    type Item = Item<S>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item<S>>> {
        let this = &mut *self;
        let pending = match &mut this.pending {
            Some(pending) => pending,
            None => match this.parts.take() {
                // The next message is read and verified in a future that
                // holds the parts meanwhile, and gives them back.
                Some(mut parts) => this.pending.insert(Box::pin(async move {
                    let handled = parts.next().await;
                    (parts, handled)
                })),
                None => return Poll::Ready(None),
            },
        };
        let (parts, handled) = std::task::ready!(pending.as_mut().poll(cx));
        this.pending = None;
        this.parts = Some(parts);
        let Some(Handled { item, seq }) = handled else {
            return Poll::Ready(None);
        };
        // Handed out now: the message is handled, its `seq` the cursor.
        this.last_seq = seq.or(this.last_seq);
        Poll::Ready(Some(item))
    }
}

impl<S: Subscription, K, H> std::fmt::Debug for VerifiedStream<S, K, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedStream")
            .field("subscription", &S::NSID)
            .field("last_seq", &self.last_seq)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atlex_core::xrpc::{Endpoint as _, Params as _, QueryWriter};
    use atlex_lexicons::com::atproto::sync::get_repo;

    type Generated = get_repo::GetRepo;

    #[test]
    fn get_repo_agrees_with_the_lexicon() {
        assert_eq!(GetRepo::NSID, Generated::NSID);
        assert_eq!(GetRepo::KIND, Generated::KIND);
        assert_eq!(GetRepo::INPUT_ENCODING, Generated::INPUT_ENCODING);
        assert_eq!(GetRepo::OUTPUT_ENCODING, Generated::OUTPUT_ENCODING);
        let did = Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz").unwrap();
        let query = |params: &dyn Fn(&mut QueryWriter)| {
            let mut query = QueryWriter::new();
            params(&mut query);
            query.pairs().to_vec()
        };
        let ours = query(&|query| GetRepoParams { did: did.clone() }.write_query(query));
        let generated = query(&|query| get_repo::Params::new(did.clone()).write_query(query));
        assert_eq!(ours, generated);
    }
}
