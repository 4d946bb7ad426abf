//! [`Client::subscribe`]: an event stream over a WebSocket (ws or wss,
//! rustls), as a [`Stream`] of typed messages.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_util::{SinkExt as _, StreamExt as _};
use http::HeaderValue;
use http::header::AUTHORIZATION;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::{AuthAnswer, AuthRequest, AuthVerdict, Client, MAX_AUTH_RETRIES, bearer_value};
use atlex_core::subscription::{FrameError, FrameView, SubscriptionError, decode_frame};
use atlex_core::subscription::{cut, from_error_frame};
use atlex_core::xrpc::{Params, QueryWriter, Subprotocol, Subscription};

/// The largest frame a new stream accepts: 8 MiB (a firehose `#commit`
/// carries at most a few MiB of blocks).
pub const DEFAULT_MAX_FRAME_SIZE: usize = 8 << 20;
/// How long a new stream waits for a frame (or a ping) before it counts the
/// connection as lost: 60 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;
type Item<S> = Result<<S as Subscription>::Message, SubscriptionError<<S as Subscription>::Error>>;
type Pending<S> = Pin<Box<dyn Future<Output = (Connection<S>, Option<Received<S>>)> + Send>>;
/// What [`EventStream::decompress_with`] is given.
type Decompress = Arc<dyn Fn(&[u8], usize) -> Result<Vec<u8>, String> + Send + Sync>;

/// An item read from the connection, with the `seq` of its message.
struct Received<S: Subscription> {
    item: Item<S>,
    seq: Option<i64>,
}

/// How a stream opened again after a failure waits: exponential backoff
/// from [`initial`](Self::initial) to [`max`](Self::max), and gives up after
/// [`max_attempts`](Self::max_attempts) failures in a row (a message
/// received resets the count).
///
/// With [`jitter`](Self::jitter) (the default), each wait is drawn at random
/// between half the backoff and the whole of it, so that the many consumers
/// of a relay that restarts do not all reconnect at the same instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reconnect {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
    /// How many failures in a row before the stream ends; `None` never
    /// gives up.
    pub max_attempts: Option<u32>,
    /// Whether each wait is drawn from `[backoff / 2, backoff]` rather than
    /// being the backoff itself.
    pub jitter: bool,
}

impl Default for Reconnect {
    /// From 1 s up to 60 s, forever, with jitter.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            max_attempts: None,
            jitter: true,
        }
    }
}

impl Reconnect {
    /// The wait before attempt `failures + 1` (`failures` in a row so far):
    /// the backoff, and with [`jitter`](Self::jitter) a random point between
    /// its half and itself. For streams of other protocols that reconnect
    /// by the same policy.
    pub fn wait(&self, failures: u32) -> Duration {
        self.delay(failures, jitter_bits())
    }

    /// The wait before attempt `failures + 1`: the backoff, and with jitter
    /// a point between its half and itself chosen by `random` (`None`: no
    /// random bits to be had, so the backoff itself).
    fn delay(&self, failures: u32, random: Option<u64>) -> Duration {
        let factor = 1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX);
        let backoff = self.initial.saturating_mul(factor).min(self.max);
        let Some(random) = random.filter(|_| self.jitter) else {
            return backoff;
        };
        let half = backoff / 2;
        let span = u64::try_from((backoff - half).as_nanos()).unwrap_or(u64::MAX);
        // `random % (span + 1)` is in `0..=span`. The span is at most `max`
        // in nanoseconds, far below 2^64, so the modulo's bias is negligible.
        let offset = random.checked_rem(span.saturating_add(1)).unwrap_or(0);
        half + Duration::from_nanos(offset)
    }
}

/// What a reconnecting stream does when the server answers `FutureCursor`:
/// the cursor is ahead of the server's newest event, as when a relay lost
/// its sequence (restarted with new numbers, or restored from an older
/// copy). Set with [`EventStream::on_future_cursor`]. In every case the
/// `FutureCursor` error is still handed out, so that the consumer knows the
/// events between its cursor and the server's new numbering may be lost to
/// it (a repository's consumer resynchronizes the repositories it follows).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FutureCursor {
    /// The stream ends (the default): the consumer decides.
    #[default]
    End,
    /// The stream opens again without a cursor: new events only.
    Live,
    /// The stream opens again from cursor 0: every event the server keeps,
    /// then new ones.
    FromOldest,
}

/// Where a consumer keeps the cursor of a stream between runs: the `seq` of
/// the last message it has handled. [`EventStream::resume_with`] starts a
/// stream from it and [`EventStream::save_cursor`] moves it on.
///
/// `atlex-eventlog` has a file and a SQLite one. Calls block (a save is
/// usually an fsync), so save after a batch of messages rather than after
/// each.
pub trait CursorStore: Send + Sync {
    /// The cursor saved, if any.
    fn load(&self) -> std::io::Result<Option<i64>>;
    /// Replaces the cursor with `seq`.
    fn save(&self, seq: i64) -> std::io::Result<()>;
}

/// Random bits for the reconnect jitter from the operating system's
/// generator. Its failing (it does not on supported platforms) only takes
/// the jitter away: the wait is then the backoff itself.
fn jitter_bits() -> Option<u64> {
    getrandom::u64().ok()
}

impl Client {
    /// Opens the event stream of subscription `S` with `params`:
    /// `wss://<host>/xrpc/<NSID>?<params>` for an `https` base URL, `ws://`
    /// for `http`, with the client's headers and access token.
    ///
    /// The connection is made when the stream is first polled. Each item is
    /// a message of the generated union (a type this code does not know
    /// arrives as its `Unknown` case), or an error: a frame that does not
    /// decode ([`SubscriptionError::Frame`]; the stream goes on), or what
    /// ended the connection (an error frame such as `FutureCursor` or
    /// `ConsumerTooSlow`, a close, a lost connection; the stream then ends,
    /// unless [`reconnect`](EventStream::reconnect) is set). A server that
    /// closes normally ends the stream. Frames are read in the subprotocol
    /// the handshake settles on: the subscription's default unless
    /// [`subprotocol`](EventStream::subprotocol) asks for another.
    ///
    /// ```no_run
    /// use atlex::client::Client;
    /// use atlex_lexicons::com::atproto::sync::subscribe_repos::{self, Message, SubscribeRepos};
    /// use futures_util::StreamExt as _;
    ///
    /// # async fn follow(saved: i64) -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::new("https://bsky.network")?;
    /// let params = subscribe_repos::Params::new().with_cursor(saved);
    /// let mut stream = client
    ///     .subscribe(SubscribeRepos, &params)
    ///     .reconnect(Default::default());
    /// while let Some(item) = stream.next().await {
    ///     match item {
    ///         Ok(Message::Commit(commit)) => println!("{} at {}", commit.repo, commit.seq),
    ///         Ok(_) => {}
    ///         Err(error) => eprintln!("{error}"),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn subscribe<S: Subscription>(
        &self,
        _subscription: S,
        params: &S::Params,
    ) -> EventStream<S> {
        let mut query = QueryWriter::new();
        params.write_query(&mut query);
        let mut cursor = None;
        let mut pairs = Vec::new();
        for (name, value) in query.pairs() {
            if *name == "cursor" {
                cursor = Some(value.clone());
            } else {
                pairs.push((*name, value.clone()));
            }
        }
        let connection = Connection {
            client: self.clone(),
            pairs,
            cursor,
            options: Options {
                max_frame_size: DEFAULT_MAX_FRAME_SIZE,
                idle_timeout: DEFAULT_IDLE_TIMEOUT,
                reconnect: None,
                future_cursor: FutureCursor::End,
                lenient: true,
                subprotocol: None,
                decompress: None,
            },
            subprotocol: S::SUBPROTOCOL,
            socket: None,
            wait: None,
            failures: 0,
            done: false,
            queued: VecDeque::new(),
        };
        EventStream {
            connection: Some(connection),
            pending: None,
            last_seq: None,
            cursor_store: None,
        }
    }
}

/// The event stream of subscription `S`, made by [`Client::subscribe`]: a
/// [`Stream`] of messages and errors. The options are set before the
/// stream is first polled.
#[must_use = "a stream does nothing until polled"]
pub struct EventStream<S: Subscription> {
    /// The connection's state, while no item is being awaited.
    connection: Option<Connection<S>>,
    /// The item being awaited (it holds the state meanwhile). It stays here
    /// when a `next()` that polled it is dropped, so the next one takes up
    /// the same read.
    pending: Option<Pending<S>>,
    /// The `seq` of the last message handed out. Kept here rather than in
    /// the connection's state, which the pending item holds.
    last_seq: Option<i64>,
    /// Where the cursor is saved, and the cursor it holds.
    cursor_store: Option<(Box<dyn CursorStore>, Option<i64>)>,
}

struct Options {
    max_frame_size: usize,
    idle_timeout: Duration,
    reconnect: Option<Reconnect>,
    future_cursor: FutureCursor,
    lenient: bool,
    /// The subprotocol asked for, if any.
    subprotocol: Option<Subprotocol>,
    decompress: Option<Decompress>,
}

struct Connection<S: Subscription> {
    client: Client,
    /// The query's pairs, without the cursor.
    pairs: Vec<(&'static str, String)>,
    /// The cursor to connect with: the one given, then the `seq` of the last
    /// message handed out.
    cursor: Option<String>,
    options: Options,
    /// The subprotocol of the connection: the one the server echoed, or the
    /// subscription's default.
    subprotocol: Subprotocol,
    socket: Option<Socket>,
    /// How long to wait before connecting again.
    wait: Option<Duration>,
    /// Failures since the last message.
    failures: u32,
    done: bool,
    /// Items to hand out before reading on.
    queued: VecDeque<Item<S>>,
}

impl<S: Subscription> EventStream<S> {
    fn options(&mut self) -> Option<&mut Options> {
        self.connection
            .as_mut()
            .map(|connection| &mut connection.options)
    }

    /// Opens the stream again when it fails in a way that may pass
    /// ([`SubscriptionError::is_retryable`]: a lost connection, a close, an
    /// HTTP 5xx, `ConsumerTooSlow`, …), after a backoff, with
    /// [`last_seq`](Self::last_seq) as the cursor (the one given, before the
    /// first message). Each failure is still yielded as an error item. Off by
    /// default.
    pub fn reconnect(mut self, policy: Reconnect) -> Self {
        if let Some(options) = self.options() {
            options.reconnect = Some(policy);
        }
        self
    }

    /// What to do when the server answers `FutureCursor` ([`FutureCursor`];
    /// by default the stream ends). Opening the stream again takes a
    /// [`reconnect`](Self::reconnect) policy, whose backoff it waits.
    pub fn on_future_cursor(mut self, recovery: FutureCursor) -> Self {
        if let Some(options) = self.options() {
            options.future_cursor = recovery;
        }
        self
    }

    /// The largest frame accepted ([`DEFAULT_MAX_FRAME_SIZE`]): a larger one
    /// ends the connection with [`SubscriptionError::TooLarge`].
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        if let Some(options) = self.options() {
            options.max_frame_size = bytes;
        }
        self
    }

    /// How long to wait for a frame or a ping before counting the
    /// connection as lost ([`DEFAULT_IDLE_TIMEOUT`]).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        if let Some(options) = self.options() {
            options.idle_timeout = timeout;
        }
        self
    }

    /// Asks the server for `subprotocol` in the handshake
    /// (`Sec-WebSocket-Protocol`). Frames are read in the one the server
    /// echoes; a server that echoes none (it knows none of what was
    /// offered) is asked again without the header, and its frames are read
    /// in the subscription's default, `S::SUBPROTOCOL`, as the event-stream
    /// proposal says.
    ///
    /// Without it the stream offers the subscription's default, and sends
    /// no header at all when that is `xrpc.v0.cbor`, as servers that know no
    /// other expect.
    pub fn subprotocol(mut self, subprotocol: Subprotocol) -> Self {
        if let Some(options) = self.options() {
            options.subprotocol = Some(subprotocol);
        }
        self
    }

    /// Turns each binary message into the bytes of its frame before it is
    /// decoded: for a server that compresses frames (Jetstream sends each
    /// `xrpc.v1.json` frame as one zstd frame when asked to). `decompress`
    /// gets the message and the largest frame accepted
    /// ([`max_frame_size`](Self::max_frame_size)), which it should not
    /// exceed: it is what bounds the memory one message can make it take. A
    /// larger result ends the connection with
    /// [`SubscriptionError::TooLarge`]. An error it returns is yielded as
    /// [`FrameError::Transform`], and the stream goes on. Text messages are
    /// not given to it.
    pub fn decompress_with(
        mut self,
        decompress: impl Fn(&[u8], usize) -> Result<Vec<u8>, String> + Send + Sync + 'static,
    ) -> Self {
        if let Some(options) = self.options() {
            options.decompress = Some(Arc::new(decompress));
        }
        self
    }

    /// Decodes message bodies strictly: canonical DAG-CBOR only (by default
    /// they are read leniently, as [`atlex_core::cbor::from_slice_lenient`]
    /// does).
    pub fn strict(mut self) -> Self {
        if let Some(options) = self.options() {
            options.lenient = false;
        }
        self
    }

    /// The `seq` of the last message this stream handed out that has one
    /// (`None` before the first): the cursor to resume from, here on a
    /// reconnect, or in a later stream.
    ///
    /// It changes only when an item is handed out, so it is right at any
    /// moment: while a read is under way, after a `next()` that was dropped
    /// before it finished (a timeout, the losing branch of a `select!`), and
    /// across reconnects. A dropped `next()` loses nothing: the read it
    /// started stays with the stream, and a message it had already taken off
    /// the connection is handed out by the next `next()`.
    ///
    /// Resuming from it gives at-least-once delivery. The server sends every
    /// message after the cursor (as far back as it keeps them), so none is
    /// missed, and a message read but not yet handed out when the stream is
    /// dropped comes again to a stream resumed from it. But a message can
    /// come twice: an application that stores the cursor after acting on a
    /// message, and stops in between, gets that message again when it
    /// resumes. Handle messages so that a second delivery does no harm, or
    /// store the cursor together with their effects.
    pub fn last_seq(&self) -> Option<i64> {
        self.last_seq
    }

    /// Resumes from the cursor saved in `store`, when it has one (it then
    /// takes the place of the parameters' cursor), and keeps `store` for
    /// [`save_cursor`](Self::save_cursor). Set it before the stream is
    /// first polled.
    ///
    /// Delivery is at least once, as with [`last_seq`](Self::last_seq):
    /// call `save_cursor` once the messages handed out so far are handled,
    /// and a consumer that stops, at any point, gets again at most the
    /// messages handed out since its last save.
    pub fn resume_with(mut self, store: impl CursorStore + 'static) -> std::io::Result<Self> {
        let saved = store.load()?;
        if let (Some(seq), Some(connection)) = (saved, self.connection.as_mut()) {
            connection.cursor = Some(seq.to_string());
        }
        self.cursor_store = Some((Box::new(store), saved));
        Ok(self)
    }

    /// Saves [`last_seq`](Self::last_seq) to the store given to
    /// [`resume_with`](Self::resume_with), when it moved on since the last
    /// save: call it once the messages handed out so far are handled. An
    /// error when the stream has no store.
    pub fn save_cursor(&mut self) -> std::io::Result<()> {
        let Some((store, saved)) = self.cursor_store.as_mut() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "the stream has no cursor store: give it one with `resume_with`",
            ));
        };
        if let Some(seq) = self.last_seq.filter(|seq| *saved != Some(*seq)) {
            store.save(seq)?;
            *saved = Some(seq);
        }
        Ok(())
    }
}

// No field is pinned: the future awaited is boxed.
impl<S: Subscription> Unpin for EventStream<S> {}

impl<S: Subscription> Stream for EventStream<S> {
    type Item = Item<S>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item<S>>> {
        let this = &mut *self;
        if this.pending.is_none() {
            let Some(mut connection) = this.connection.take() else {
                return Poll::Ready(None);
            };
            this.pending = Some(Box::pin(async move {
                let item = connection.next().await;
                (connection, item)
            }));
        }
        let Some(pending) = this.pending.as_mut() else {
            return Poll::Ready(None);
        };
        match pending.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready((mut connection, received)) => {
                this.pending = None;
                let item = received.map(|Received { item, seq }| {
                    // Handed out now: from here on, the cursor to resume from.
                    if let Some(seq) = seq {
                        this.last_seq = Some(seq);
                        connection.cursor = Some(seq.to_string());
                    }
                    item
                });
                this.connection = Some(connection);
                Poll::Ready(item)
            }
        }
    }
}

impl<S: Subscription> std::fmt::Debug for EventStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("subscription", &S::NSID)
            .field("last_seq", &self.last_seq())
            .finish_non_exhaustive()
    }
}

/// What one read from the socket gave.
enum Read {
    Frame(bytes::Bytes),
    Skip,
    /// The connection ended normally.
    End,
}

impl<S: Subscription> Connection<S> {
    async fn next(&mut self) -> Option<Received<S>> {
        loop {
            if let Some(item) = self.queued.pop_front() {
                return Some(Received { item, seq: None });
            }
            if self.done {
                return None;
            }
            if self.socket.is_none() {
                if let Some(wait) = self.wait.take() {
                    tokio::time::sleep(wait).await;
                }
                match self.connect().await {
                    Ok((socket, subprotocol)) => {
                        self.socket = Some(socket);
                        self.subprotocol = subprotocol;
                    }
                    Err(error) => return Some(self.failure(error)),
                }
            }
            match self.read().await {
                Ok(Read::Skip) => continue,
                Ok(Read::End) => {
                    self.socket = None;
                    if self.options.reconnect.is_none() {
                        self.done = true;
                        return None;
                    }
                    // A server that ends the stream normally is asked again
                    // (it may be restarting); not counted as a failure.
                    continue;
                }
                Ok(Read::Frame(bytes)) => return Some(self.decode(&bytes)),
                Err(error) => return Some(self.failure(error)),
            }
        }
    }

    fn decode(&mut self, bytes: &[u8]) -> Received<S> {
        let (subprotocol, limit) = (self.subprotocol, self.options.max_frame_size);
        match decode_frame::<S>(subprotocol, bytes, limit, self.options.lenient) {
            Ok(message) => {
                self.failures = 0;
                Received {
                    item: Ok(message),
                    seq: seq_in(subprotocol, bytes),
                }
            }
            Err(SubscriptionError::Frame(error)) => Received {
                item: Err(SubscriptionError::Frame(error)),
                seq: None,
            },
            // An error frame: the server closes after it.
            Err(error) => self.failure(error),
        }
    }

    /// The item of `error`, which ended the connection.
    fn failure(&mut self, error: SubscriptionError<S::Error>) -> Received<S> {
        Received {
            item: Err(self.failed(error)),
            seq: None,
        }
    }

    /// Ends the connection after `error`, and decides whether to open it
    /// again.
    fn failed(&mut self, error: SubscriptionError<S::Error>) -> SubscriptionError<S::Error> {
        self.socket = None;
        // A cursor ahead of the server: start again as asked, without it.
        let future_cursor = matches!(error, SubscriptionError::Endpoint(_))
            && error.error_name() == Some("FutureCursor");
        let restart = match self.options.future_cursor {
            _ if !future_cursor => false,
            FutureCursor::End => false,
            FutureCursor::Live => {
                self.cursor = None;
                true
            }
            FutureCursor::FromOldest => {
                self.cursor = Some("0".to_owned());
                true
            }
        };
        match &self.options.reconnect {
            Some(policy)
                if (error.is_retryable() || restart)
                    && policy.max_attempts.is_none_or(|max| self.failures < max) =>
            {
                self.wait = Some(policy.wait(self.failures));
                self.failures += 1;
            }
            _ => self.done = true,
        }
        error
    }

    fn url(&self) -> Result<String, SubscriptionError<S::Error>> {
        let base = &self.client.inner.base_url;
        let ws = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else if base.starts_with("wss://") || base.starts_with("ws://") {
            base.clone()
        } else {
            return Err(SubscriptionError::Connect {
                url: base.clone(),
                reason: "the base URL is neither http(s) nor ws(s)".to_owned(),
            });
        };
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.pairs {
            query.append_pair(name, value);
        }
        if let Some(cursor) = &self.cursor {
            query.append_pair("cursor", cursor);
        }
        let query = query.finish();
        let mut url = format!("{ws}/xrpc/{}", S::NSID);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        Ok(url)
    }

    /// The subprotocol to offer: the one asked for, else the subscription's
    /// default; none when both are `xrpc.v0.cbor`, which every server
    /// speaks without being asked.
    fn offer(&self) -> Option<Subprotocol> {
        let wanted = self.options.subprotocol.unwrap_or(S::SUBPROTOCOL);
        (wanted != Subprotocol::V0Cbor || S::SUBPROTOCOL != Subprotocol::V0Cbor).then_some(wanted)
    }

    /// Opens the connection, offering [`offer`](Self::offer); the socket and
    /// the subprotocol its frames are in.
    async fn connect(&self) -> Result<(Socket, Subprotocol), SubscriptionError<S::Error>> {
        let plain = async || match self.handshake(None).await {
            Ok((socket, _)) => Ok((socket, S::SUBPROTOCOL)),
            Err(Handshake::NoSubprotocol(error) | Handshake::Failed(error)) => Err(error),
        };
        let Some(offer) = self.offer() else {
            return plain().await;
        };
        match self.handshake(Some(offer)).await {
            Ok((socket, echoed)) => Ok((socket, echoed.unwrap_or(S::SUBPROTOCOL))),
            // A server that knows none of what was offered answers without
            // the header, which the WebSocket layer refuses; the server then
            // sends the subscription's default, asked for with no header.
            Err(Handshake::NoSubprotocol(_)) => plain().await,
            Err(Handshake::Failed(error)) => Err(error),
        }
    }

    /// One WebSocket handshake, offering `offer`; the socket and the
    /// subprotocol the server echoed. With the client's [`Authenticate`]
    /// hook, the handshake carries the headers it gives (an OAuth session's
    /// DPoP-bound token and proof), and is made again when the hook asks
    /// after a refusal (a new nonce, a refreshed token), at most
    /// [`MAX_AUTH_RETRIES`] times.
    async fn handshake(
        &self,
        offer: Option<Subprotocol>,
    ) -> Result<(Socket, Option<Subprotocol>), Handshake<S::Error>> {
        let url = self.url()?;
        let connect_error = |reason: String| SubscriptionError::Connect {
            url: url.clone(),
            reason,
        };
        let hook = self.client.inner.authenticator.as_ref();
        // The hook sees the request as HTTP, which the upgrade is: a DPoP
        // proof's `htu` is the http(s) URL.
        let http_url = match hook {
            Some(_) => Some(
                reqwest::Url::parse(&url.replacen("ws", "http", 1))
                    .map_err(|err| connect_error(err.to_string()))?,
            ),
            None => None,
        };
        let proxy = self.client.inner.proxy();
        let mut retry = 0;
        loop {
            let auth = match (hook, &http_url) {
                (Some(hook), Some(http_url)) => {
                    let request = AuthRequest {
                        nsid: S::NSID,
                        method: &http::Method::GET,
                        url: http_url,
                        proxy,
                        body: None,
                        retry,
                    };
                    let headers = hook
                        .headers(&request)
                        .await
                        .map_err(|err| connect_error(format!("authentication: {err}")))?;
                    Some((hook, request, headers))
                }
                _ => None,
            };
            let attempt = self
                .handshake_once(&url, offer, auth.as_ref().map(|(_, _, h)| h))
                .await;
            let Some((hook, request, sent)) = &auth else {
                return attempt.map(drop_headers).map_err(|(error, _)| error);
            };
            // The hook sees every answer, to keep what the server tells it.
            let (status, headers, error) = match &attempt {
                Ok((_, _, response_headers)) => (
                    http::StatusCode::SWITCHING_PROTOCOLS,
                    response_headers.clone(),
                    None,
                ),
                Err((failure, Some(response))) => (
                    response.status(),
                    response.headers().clone(),
                    failure_name(failure),
                ),
                Err((_, None)) => return attempt.map(drop_headers).map_err(|(error, _)| error),
            };
            let answer = AuthAnswer {
                status,
                headers: &headers,
                sent,
                error: error.as_deref(),
            };
            let verdict = hook
                .answer(request, &answer)
                .await
                .map_err(|err| connect_error(format!("authentication: {err}")))?;
            match attempt {
                Ok(opened) => return Ok(drop_headers(opened)),
                Err(_) if verdict == AuthVerdict::Retry && retry < MAX_AUTH_RETRIES => retry += 1,
                Err((error, _)) => return Err(error),
            }
        }
    }

    /// The handshake itself, with `auth` headers if any: the socket, the
    /// echoed subprotocol and the response's headers; or why not, with the
    /// HTTP answer when the server refused the upgrade.
    async fn handshake_once(
        &self,
        url: &str,
        offer: Option<Subprotocol>,
        auth: Option<&http::HeaderMap>,
    ) -> Result<
        (Socket, Option<Subprotocol>, http::HeaderMap),
        (Handshake<S::Error>, Option<HttpAnswer>),
    > {
        let connect_error = |reason: String| SubscriptionError::Connect {
            url: url.to_owned(),
            reason,
        };
        let mut request = url
            .into_client_request()
            .map_err(|err| (connect_error(err.to_string()).into(), None))?;
        let headers = request.headers_mut();
        for (name, value) in &self.client.inner.headers {
            headers.insert(name, value.clone());
        }
        match auth {
            Some(auth) => headers.extend(auth.clone()),
            None => {
                if let Some(token) = self.client.inner.token() {
                    let value: HeaderValue = bearer_value(&token).map_err(|reason| {
                        (
                            connect_error(format!("invalid access token: {reason}")).into(),
                            None,
                        )
                    })?;
                    headers.insert(AUTHORIZATION, value);
                }
            }
        }
        if let Some(offer) = offer {
            headers.insert(
                http::header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static(offer.as_str()),
            );
        }
        let config = tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(self.options.max_frame_size))
            .max_frame_size(Some(self.options.max_frame_size));
        let connector = match tls_config() {
            Ok(tls) => Connector::Rustls(tls),
            Err(reason) if url.starts_with("wss://") => {
                return Err((connect_error(reason).into(), None));
            }
            Err(_) => Connector::Plain,
        };
        let timeout = self.client.inner.timeout.unwrap_or(Duration::from_secs(30));
        let handshake = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(config),
            true,
            Some(connector),
        );
        match tokio::time::timeout(timeout, handshake).await {
            Err(_) => Err((
                connect_error(format!("no answer within {timeout:?}")).into(),
                None,
            )),
            Ok(Ok((socket, response))) => {
                // The WebSocket layer has checked that the echo is what was
                // offered.
                let echoed = response
                    .headers()
                    .get(http::header::SEC_WEBSOCKET_PROTOCOL)
                    .and_then(|value| value.to_str().ok())
                    .and_then(Subprotocol::from_token);
                Ok((socket, echoed, response.headers().clone()))
            }
            Ok(Err(tungstenite::Error::Http(response))) => {
                Err((http_error::<S>(&response).into(), Some(response)))
            }
            Ok(Err(
                err @ tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(
                        tungstenite::error::SubProtocolError::NoSubProtocol,
                    ),
                ),
            )) => Err((
                Handshake::NoSubprotocol(connect_error(err.to_string())),
                None,
            )),
            Ok(Err(err)) => Err((connect_error(err.to_string()).into(), None)),
        }
    }

    /// Reads the next message of the socket.
    async fn read(&mut self) -> Result<Read, SubscriptionError<S::Error>> {
        let Some(socket) = self.socket.as_mut() else {
            return Ok(Read::End);
        };
        let idle = self.options.idle_timeout;
        let received = match tokio::time::timeout(idle, socket.next()).await {
            Err(_) => {
                return Err(SubscriptionError::Transport(format!(
                    "nothing received for {idle:?}"
                )));
            }
            Ok(received) => received,
        };
        match received {
            None => Err(SubscriptionError::Transport(
                "the connection ended without a close".to_owned(),
            )),
            Some(Ok(Message::Binary(bytes))) => match &self.options.decompress {
                None => Ok(Read::Frame(bytes)),
                Some(decompress) => match decompress(&bytes, self.options.max_frame_size) {
                    Ok(frame) => Ok(Read::Frame(frame.into())),
                    Err(reason) => {
                        self.queued.push_back(Err(SubscriptionError::Frame(
                            FrameError::Transform(reason),
                        )));
                        Ok(Read::Skip)
                    }
                },
            },
            Some(Ok(Message::Text(text))) if self.subprotocol == Subprotocol::V1Json => {
                Ok(Read::Frame(text.into()))
            }
            Some(Ok(Message::Text(text))) => {
                self.queued
                    .push_back(Err(SubscriptionError::Frame(FrameError::Text(text.len()))));
                Ok(Read::Skip)
            }
            // Pongs to the server's pings are queued by the WebSocket layer
            // and go out with the next read.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
                let _ = socket.flush().await;
                Ok(Read::Skip)
            }
            Some(Ok(Message::Close(frame))) => {
                let _ = socket.close(None).await;
                match frame {
                    None => Ok(Read::End),
                    Some(frame) if u16::from(frame.code) == 1000 => Ok(Read::End),
                    Some(frame) => Err(SubscriptionError::Closed {
                        code: frame.code.into(),
                        reason: frame.reason.to_string(),
                    }),
                }
            }
            Some(Err(tungstenite::Error::Capacity(
                tungstenite::error::CapacityError::MessageTooLong { .. },
            ))) => Err(SubscriptionError::TooLarge {
                limit: self.options.max_frame_size,
            }),
            Some(Err(err)) => Err(SubscriptionError::Transport(err.to_string())),
        }
    }
}

/// The error of an HTTP answer to the handshake: an XRPC error body is
/// sorted like an error frame, anything else kept as status and text.
fn http_error<S: Subscription>(
    response: &http::Response<Option<Vec<u8>>>,
) -> SubscriptionError<S::Error> {
    #[derive(serde::Deserialize)]
    struct XrpcError {
        error: String,
        #[serde(default)]
        message: Option<String>,
    }
    let body = response.body().as_deref().unwrap_or_default();
    if let Ok(error) = serde_json::from_slice::<XrpcError>(body) {
        return from_error_frame(error.error, error.message);
    }
    SubscriptionError::Http {
        status: response.status().as_u16(),
        body: cut(&String::from_utf8_lossy(body), 1024),
    }
}

/// The TLS settings of every event stream: rustls on aws-lc-rs with the
/// platform's certificate verifier, as the HTTP client has them. Made once
/// and shared, for other WebSocket clients that should trust what atlex's
/// do (`tokio_tungstenite::Connector::Rustls`). An error says why the
/// platform's verifier could not be set up.
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            use rustls_platform_verifier::BuilderVerifierExt as _;
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .and_then(|builder| builder.with_platform_verifier())
                .map(|builder| Arc::new(builder.with_no_client_auth()))
                .map_err(|err| format!("cannot set up TLS: {err}"))
        })
        .clone()
}

/// The HTTP answer of a server that refused the upgrade.
type HttpAnswer = Box<http::Response<Option<Vec<u8>>>>;

/// An opened handshake without its response headers.
fn drop_headers(
    (socket, echoed, _): (Socket, Option<Subprotocol>, http::HeaderMap),
) -> (Socket, Option<Subprotocol>) {
    (socket, echoed)
}

/// The XRPC error name of a refused handshake, for the [`Authenticate`] hook.
fn failure_name<E: atlex_core::xrpc::EndpointError>(failure: &Handshake<E>) -> Option<String> {
    match failure {
        Handshake::Failed(error) | Handshake::NoSubprotocol(error) => {
            error.error_name().map(str::to_owned)
        }
    }
}

/// Why one handshake did not open a connection.
enum Handshake<E> {
    /// The server echoed no subprotocol where one was offered (the error
    /// says so, for when no second handshake is to be made).
    NoSubprotocol(SubscriptionError<E>),
    /// Anything else.
    Failed(SubscriptionError<E>),
}

impl<E> From<SubscriptionError<E>> for Handshake<E> {
    fn from(error: SubscriptionError<E>) -> Self {
        Self::Failed(error)
    }
}

/// The `seq` of a message frame of `subprotocol`, when its message has an
/// integer one.
fn seq_in(subprotocol: Subprotocol, frame: &[u8]) -> Option<i64> {
    /// The payload of a `v1` frame, every other entry skipped.
    #[derive(serde::Deserialize)]
    struct V1 {
        #[serde(default)]
        payload: Option<Seq>,
    }
    let v1 = match subprotocol {
        Subprotocol::V1Json => serde_json::from_slice::<V1>(frame).ok()?,
        Subprotocol::V1Cbor => atlex_core::cbor::from_slice_lenient::<V1>(frame).ok()?,
        _ => return seq_of(frame),
    };
    v1.payload?.0
}

/// The `seq` of a `v0` message frame's body, when it has an integer one.
fn seq_of(frame: &[u8]) -> Option<i64> {
    let FrameView::Message { body, .. } = FrameView::parse(frame).ok()? else {
        return None;
    };
    atlex_core::cbor::from_slice_lenient::<Seq>(body).ok()?.0
}

/// The `seq` of a map, every other entry skipped.
struct Seq(Option<i64>);

impl<'de> serde::Deserialize<'de> for Seq {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SeqVisitor;
        impl<'de> Visitor<'de> for SeqVisitor {
            type Value = Seq;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seq, A::Error> {
                let mut seq = None;
                while let Some(key) = map.next_key::<atlex_core::data::Key<'de>>()? {
                    if key.as_str() == "seq" {
                        seq = map.next_value::<Option<i64>>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Seq(seq))
            }
        }
        deserializer.deserialize_map(SeqVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(jitter: bool) -> Reconnect {
        Reconnect {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(3),
            max_attempts: None,
            jitter,
        }
    }

    #[test]
    fn without_jitter_the_wait_doubles_up_to_the_maximum() {
        let waits: Vec<u128> = (0..7)
            .map(|n| policy(false).delay(n, Some(12345)).as_millis())
            .collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3000, 3000]);
        assert_eq!(policy(false).delay(u32::MAX, None), Duration::from_secs(3));
    }

    #[test]
    fn with_jitter_each_wait_lies_between_half_the_backoff_and_the_backoff() {
        let policy = policy(true);
        for failures in 0..8 {
            let backoff = policy.delay(failures, None);
            for random in [0, 1, 7, u64::MAX / 3, u64::MAX - 1, u64::MAX] {
                let wait = policy.delay(failures, Some(random));
                assert!(
                    wait >= backoff / 2 && wait <= backoff,
                    "{wait:?} for {backoff:?}"
                );
            }
            assert_eq!(policy.delay(failures, Some(0)), backoff / 2);
        }
    }

    #[test]
    fn consumers_that_fail_together_do_not_wait_alike() {
        let policy = Reconnect::default();
        assert!(policy.jitter);
        let waits: std::collections::BTreeSet<Duration> =
            (0..100).map(|_| policy.delay(3, jitter_bits())).collect();
        // 100 draws over 4 s in nanoseconds: a repeat is all but impossible;
        // without jitter all 100 are the same 8 s.
        assert!(waits.len() > 90, "{} distinct waits", waits.len());
        let (first, last) = (waits.first().unwrap(), waits.last().unwrap());
        assert!(
            *last - *first > Duration::from_secs(1),
            "{first:?}..{last:?}"
        );
    }
}
