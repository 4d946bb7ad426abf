//! Jetstream's compression: each message one zstd frame, compressed with a
//! dictionary trained on the stream, decompressed here within a bound.

use std::fmt;
use std::sync::Arc;

use zstd::zstd_safe::{DCtx, DDict, DParameter, get_error_name};

/// A zstd dictionary to decompress Jetstream's messages with: a trained
/// dictionary (as Jetstream's), or raw content. Cheap to clone.
///
/// ```
/// use atlex_jetstream::Dictionary;
///
/// // Bytes without the magic number of a trained dictionary are raw content.
/// let dictionary = Dictionary::new(br#"{"did":"did:plc:","time_us":"#)?;
/// assert_eq!(dictionary.id(), 0);
/// # Ok::<(), atlex_jetstream::DictionaryError>(())
/// ```
#[derive(Clone)]
pub struct Dictionary {
    ddict: Arc<DDict<'static>>,
    id: u32,
    len: usize,
}

impl Dictionary {
    /// Digests `bytes`. A trained dictionary that zstd cannot read is an
    /// error; bytes without the dictionary magic number are raw content.
    pub fn new(bytes: &[u8]) -> Result<Self, DictionaryError> {
        let ddict = DDict::try_create(bytes).ok_or(DictionaryError)?;
        Ok(Self {
            id: ddict.get_dict_id().map_or(0, u32::from),
            ddict: Arc::new(ddict),
            len: bytes.len(),
        })
    }

    /// The dictionary's ID (0 for raw content): the one Jetstream v2's
    /// `zstdDictionary` parameter names.
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dictionary")
            .field("id", &self.id)
            .field("len", &self.len)
            .finish()
    }
}

/// Bytes that zstd does not take as a dictionary.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("zstd cannot read the dictionary")]
pub struct DictionaryError;

/// Why a frame did not decompress.
#[derive(Debug)]
pub(crate) enum Inflate {
    /// It would be larger than the limit.
    TooLarge,
    /// zstd's reason, or the text is not UTF-8.
    Failed(String),
}

/// One connection's decompressor: its context and the buffer of the
/// largest message accepted, both reused for every message.
pub(crate) struct Decompressor {
    dictionary: Dictionary,
    context: DCtx<'static>,
    buffer: Vec<u8>,
    /// The limit the context's largest window was set for.
    window_for: usize,
}

impl Decompressor {
    pub(crate) fn new(dictionary: Dictionary) -> Result<Self, String> {
        let context = DCtx::try_create().ok_or("zstd cannot make a decompression context")?;
        Ok(Self {
            dictionary,
            context,
            buffer: Vec::new(),
            window_for: 0,
        })
    }

    /// One message, at most `limit` bytes.
    pub(crate) fn decompress_bytes(
        &mut self,
        frame: &[u8],
        limit: usize,
    ) -> Result<&[u8], Inflate> {
        if self.window_for != limit {
            // A frame's window is at most the largest message (and 1 KiB):
            // a frame that asks for more memory is refused before any is
            // taken.
            let window_log = usize::BITS - limit.max(1024).next_power_of_two().leading_zeros() - 1;
            self.context
                .set_parameter(DParameter::WindowLogMax(window_log))
                .map_err(|code| Inflate::Failed(get_error_name(code).to_owned()))?;
            self.window_for = limit;
        }
        if self.buffer.capacity() < limit {
            self.buffer = Vec::with_capacity(limit);
        }
        self.buffer.clear();
        // zstd writes within the buffer's capacity, never past it: a frame
        // that would decompress to more is refused.
        let written =
            self.context
                .decompress_using_ddict(&mut self.buffer, frame, &self.dictionary.ddict);
        match written {
            Ok(_) if self.buffer.len() > limit => Err(Inflate::TooLarge),
            Ok(_) => Ok(&self.buffer),
            Err(code) => {
                let name = get_error_name(code);
                if name.contains("too small") {
                    Err(Inflate::TooLarge)
                } else {
                    Err(Inflate::Failed(name.to_owned()))
                }
            }
        }
    }

    /// One message's text, at most `limit` bytes.
    pub(crate) fn decompress(&mut self, frame: &[u8], limit: usize) -> Result<String, Inflate> {
        let bytes = self.decompress_bytes(frame, limit)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|error| Inflate::Failed(format!("the message is not UTF-8: {error}")))
    }
}
