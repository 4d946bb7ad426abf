//! Jetstream v2: `network.bsky.jetstream.subscribeEvents` over `xrpc.v1.json`.
//!
//! The bindings of Jetstream's lexicons are generated from
//! `jetstream/lexicons/` (copied from Jetstream's repository) into
//! [`network::bsky::jetstream`]: the subscription
//! `SubscribeEvents`,
//! its parameters and its message union (`#commit`, `#identity`,
//! `#account`, `#sync`, `#info`), whose lexicon declares `xrpc.v1.json` as
//! its subprotocol; the archive's queries (`listSegments`, `getSegment`,
//! `getBlock`, `planSnapshot`, `getZstdDictionary`, …); and, with feature
//! `server`, their `Service` trait, to serve the stream with atlex's server.
//!
//! Each frame is one JSON object in a text message, or, with the
//! `zstdDictionary` parameter, the same object compressed as one zstd frame
//! in a binary message. atlex's client reads the stream, the subprotocol
//! taken from the lexicon, and [`decompressor`] is its hook for the
//! compressed frames:
//!
//! ```no_run
//! use atlex::client::Client;
//! use atlex_jetstream::{Dictionary, v2};
//! use atlex_jetstream::v2::network::bsky::jetstream::subscribe_events::{self, Message, SubscribeEvents};
//! use futures_util::StreamExt as _;
//!
//! # async fn run(dictionary: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! // The dictionary `network.bsky.jetstream.getZstdDictionary` serves.
//! let dictionary = Dictionary::new(&dictionary)?;
//! let params = subscribe_events::Params::new()
//!     .with_collections(vec!["app.bsky.feed.post".to_owned()])
//!     .with_zstd_dictionary(i64::from(dictionary.id()));
//! let client = Client::new("https://jetstream.example.com")?;
//! let mut stream = client
//!     .subscribe(SubscribeEvents, &params)
//!     .decompress_with(v2::decompressor(dictionary)?)
//!     .reconnect(Default::default());
//! while let Some(message) = stream.next().await {
//!     if let Message::Commit(commit) = message? {
//!         println!("{} {} {}", commit.seq, commit.operation, commit.collection);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`FrameDecoder`] reads one frame, text or compressed, into the
//! generated message union, for frames that come another way (a recording,
//! a socket of your own).
//!
//! ```
//! use atlex_jetstream::v2::FrameDecoder;
//! use atlex_jetstream::v2::network::bsky::jetstream::subscribe_events::Message;
//!
//! let frame = r#"{"$type":"message","payload":{"$type":"network.bsky.jetstream.subscribeEvents#commit",
//!   "seq":12345,"did":"did:plc:eygmaihciaxprqvxpfvl6flk","time":"2024-09-09T19:46:02.329308Z",
//!   "rev":"3l3qo2vutsw2b","operation":"delete","collection":"app.bsky.feed.like","rkey":"3l3qo2vuowo2b"}}"#;
//! let mut decoder = FrameDecoder::new();
//! let Message::Commit(commit) = decoder.decode_text(frame)? else { unreachable!() };
//! assert_eq!((commit.seq, commit.collection.as_str()), (12345, "app.bsky.feed.like"));
//! # Ok::<(), atlex_jetstream::v2::FrameError>(())
//! ```

use atlex::subscription::{SubscriptionError, decode_frame};
use atlex::xrpc::Subprotocol;

use crate::compression::{Decompressor, Inflate};
pub use crate::compression::{Dictionary, DictionaryError};

#[allow(missing_docs, unreachable_pub, clippy::all)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/atlex.rs"));
}

pub use generated::*;

use network::bsky::jetstream::subscribe_events::{Error as StreamError, Message, SubscribeEvents};

/// The largest frame a new decoder accepts, after decompression: 4 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 4 << 20;

/// Why a frame of `subscribeEvents` was not a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A binary frame that does not decompress with the dictionary, kept as
    /// received.
    #[error("a frame that does not decompress: {reason}")]
    Decompress {
        /// zstd's reason.
        reason: String,
        /// The frame.
        frame: Vec<u8>,
    },
    /// A binary frame, and the decoder has no dictionary.
    #[error("a binary frame of {0} bytes, and no zstd dictionary to read it with")]
    Binary(usize),
    /// The frame: an error frame (`ConsumerTooSlow`, …), a frame over the
    /// limit, or one that does not decode.
    #[error(transparent)]
    Stream(#[from] SubscriptionError<StreamError>),
}

/// Reads the frames of one `subscribeEvents` connection: text frames, and
/// with a [`Dictionary`], zstd-compressed binary ones, each bounded to
/// [`max_frame_size`](Self::max_frame_size) bytes.
pub struct FrameDecoder {
    decompressor: Option<Decompressor>,
    limit: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameDecoder {
    /// A decoder of text frames.
    pub fn new() -> Self {
        Self {
            decompressor: None,
            limit: DEFAULT_MAX_FRAME_SIZE,
        }
    }

    /// A decoder of compressed frames too, with the dictionary whose ID the
    /// stream was asked for with `zstdDictionary` (the one
    /// `network.bsky.jetstream.getZstdDictionary` serves).
    pub fn with_dictionary(dictionary: Dictionary) -> Result<Self, FrameError> {
        let decompressor =
            Decompressor::new(dictionary).map_err(|reason| FrameError::Decompress {
                reason,
                frame: Vec::new(),
            })?;
        Ok(Self {
            decompressor: Some(decompressor),
            limit: DEFAULT_MAX_FRAME_SIZE,
        })
    }

    /// The largest frame accepted, after decompression
    /// ([`DEFAULT_MAX_FRAME_SIZE`]).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// Decodes a text frame.
    pub fn decode_text(&mut self, frame: &str) -> Result<Message, FrameError> {
        Ok(decode_frame::<SubscribeEvents>(
            Subprotocol::V1Json,
            frame.as_bytes(),
            self.limit,
            false,
        )?)
    }

    /// Decompresses and decodes a binary frame.
    pub fn decode_binary(&mut self, frame: &[u8]) -> Result<Message, FrameError> {
        let Some(decompressor) = self.decompressor.as_mut() else {
            return Err(FrameError::Binary(frame.len()));
        };
        match decompressor.decompress(frame, self.limit) {
            Ok(text) => self.decode_text(&text),
            Err(Inflate::TooLarge) => Err(SubscriptionError::TooLarge { limit: self.limit }.into()),
            Err(Inflate::Failed(reason)) => Err(FrameError::Decompress {
                reason,
                frame: frame.to_vec(),
            }),
        }
    }
}

/// A decompressor of binary frames, as [`decompressor`] makes it: the
/// message and the largest frame accepted in, the frame out.
pub type Decompress = Box<dyn Fn(&[u8], usize) -> Result<Vec<u8>, String> + Send + Sync>;

/// The decompressor of a stream's binary frames, for the client's
/// [`EventStream::decompress_with`](atlex::client::EventStream::decompress_with):
/// each frame one zstd frame compressed with `dictionary`, decompressed into
/// at most the stream's largest frame. A frame that would be larger, or
/// that does not decompress, is an error item and the stream goes on.
pub fn decompressor(dictionary: Dictionary) -> Result<Decompress, DictionaryError> {
    let decompressor = Decompressor::new(dictionary).map_err(|_| DictionaryError)?;
    // One connection reads its frames one at a time: the lock is never
    // waited for.
    let decompressor = std::sync::Mutex::new(decompressor);
    Ok(Box::new(move |frame: &[u8], limit: usize| {
        let mut decompressor = decompressor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match decompressor.decompress_bytes(frame, limit) {
            Ok(bytes) => Ok(bytes.to_vec()),
            Err(Inflate::TooLarge) => Err(format!("a frame larger than {limit} bytes")),
            Err(Inflate::Failed(reason)) => Err(reason),
        }
    }))
}

impl std::fmt::Debug for FrameDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameDecoder")
            .field("compressed", &self.decompressor.is_some())
            .field("max_frame_size", &self.limit)
            .finish()
    }
}
