//! CAR v1 files: a header naming root CIDs, then blocks, each with its CID
//! (feature `cbor`).
//!
//! Repository exports (`com.atproto.sync.getRepo`) and the `blocks` of a
//! firehose commit are CAR files. Reading one verifies every block against
//! its CID (sha2-256, atproto's only hash): a block whose bytes do not hash
//! to its CID is an error naming the CID, never a silent pass.
//!
//! - [`Car::from_slice`] reads a whole CAR held in memory into [`Blocks`],
//!   borrowing the bytes, for looking blocks up by CID and decoding them into
//!   generated types.
//! - [`CarReader`] walks the blocks of a CAR in memory, one at a time.
//! - [`CarStream`] reads a CAR from any [`std::io::Read`], a block at a time,
//!   with a bound on the size of a block.
//! - [`CarWriter`] writes one.
//!
//! ```
//! use atlex_repo::car::{Car, CarWriter};
//! use atlex_core::data::Value;
//!
//! let record: Value = serde_json::from_str(r#"{"$type": "com.example.note", "text": "hi"}"#)?;
//! let mut writer = CarWriter::new(Vec::new())?;
//! let cid = writer.write_value(&record)?;
//! let bytes = writer.finish_with_roots(std::slice::from_ref(&cid))?;
//!
//! let car = Car::from_slice(&bytes)?;
//! assert_eq!(car.roots(), std::slice::from_ref(&cid));
//! assert_eq!(car.blocks.decode::<Value>(&cid)?, record);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Lengths in a CAR are never trusted for allocation: a length prefix
//! claiming more than the input holds (or, in a stream, more than the block
//! bound) is an error before anything is reserved.

use std::borrow::Cow;
use std::collections::HashMap;

/// The block index's map, keyed by the `cid` crate's CID: held unboxed, a
/// key costs no allocation of its own.
type BlockMap<'a> = HashMap<RawCid, Cow<'a, [u8]>, foldhash::fast::RandomState>;
use std::io::{self, Read, Write};

use cid::Cid as RawCid;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use atlex_core::cbor::{self, DecodeError, EncodeError, VerifyError};
use atlex_core::data::CidLink;
use atlex_core::types::{Cid, MAX_CID_BYTES, write_binary};

/// The largest block [`CarStream`] reads unless told otherwise: 4 MiB, four
/// times atproto's largest record.
pub const DEFAULT_MAX_BLOCK: usize = 4 << 20;

/// The largest header accepted: 1 MiB (a header holds a few root CIDs).
pub const MAX_HEADER: usize = 1 << 20;

/// The header of a CAR v1 file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The root CIDs (a repository export has one: its commit).
    pub roots: Vec<Cid>,
}

/// The header as encoded: the roots are links.
#[derive(Serialize, Deserialize)]
struct RawHeader {
    roots: Vec<CidLink>,
    version: u64,
}

impl Header {
    fn decode(bytes: &[u8]) -> Result<Header, CarError> {
        let raw: RawHeader = cbor::from_slice_lenient(bytes).map_err(CarError::Header)?;
        if raw.version != 1 {
            return Err(CarError::Version(raw.version));
        }
        Ok(Header {
            roots: raw.roots.into_iter().map(Cid::from).collect(),
        })
    }

    fn encode(roots: &[Cid]) -> Result<Vec<u8>, CarError> {
        cbor::to_vec(&RawHeader {
            roots: roots.iter().cloned().map(CidLink).collect(),
            version: 1,
        })
        .map_err(CarError::Encode)
    }
}

/// A block: a CID and the bytes it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block<'a> {
    /// The block's CID, verified against its bytes.
    pub cid: Cid,
    /// The bytes.
    pub data: Cow<'a, [u8]>,
}

/// Why a CAR could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CarError {
    /// The input ends before what a length prefix announced.
    #[error("truncated CAR: the {what} at byte {offset} claims {claimed} bytes, {left} remain")]
    Truncated {
        /// The header or a block.
        what: &'static str,
        /// Where its length prefix starts.
        offset: u64,
        /// The length it claims.
        claimed: u64,
        /// What the input still holds.
        left: u64,
    },
    /// A length prefix claims more than allowed.
    #[error("the {what} at byte {offset} claims {claimed} bytes, more than the {limit} allowed")]
    TooLarge {
        /// The header or a block.
        what: &'static str,
        /// Where its length prefix starts.
        offset: u64,
        /// The length it claims.
        claimed: u64,
        /// The bound.
        limit: usize,
    },
    /// A length prefix is not a valid varint.
    #[error("invalid length prefix at byte {offset}: {reason}")]
    Length {
        /// Where it starts.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The header is not a DAG-CBOR map of `roots` and `version`.
    #[error("invalid CAR header: {0}")]
    Header(DecodeError),
    /// The header names a version other than 1.
    #[error("unsupported CAR version {0} (only version 1 is read)")]
    Version(u64),
    /// A block's CID does not parse.
    #[error("invalid CID in the block at byte {offset}: {reason}")]
    Cid {
        /// Where the block starts.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A block's bytes are not what its CID names.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// Reading or writing failed.
    #[error("CAR i/o: {0}")]
    Io(#[from] io::Error),
    /// A value could not be encoded.
    #[error(transparent)]
    Encode(EncodeError),
    /// [`CarWriter::finish_with_roots`] was given roots other than those
    /// the header already names.
    #[error("the CAR header was written with other roots")]
    RootsWritten,
}

/// Reads a varint length at the front of `bytes`: `(length, prefix size)`,
/// or `None` at the end of the input.
fn length_prefix(bytes: &[u8], offset: u64) -> Result<Option<(u64, usize)>, CarError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    match unsigned_varint::decode::u64(bytes) {
        Ok((length, rest)) => Ok(Some((length, bytes.len() - rest.len()))),
        Err(err) => Err(CarError::Length {
            offset,
            reason: err.to_string(),
        }),
    }
}

/// Splits a section (after its length prefix) into a verified CID and data.
fn section(bytes: &[u8], offset: u64) -> Result<(RawCid, &[u8]), CarError> {
    let (cid, data) = Cid::read_prefix(bytes).map_err(|reason| CarError::Cid { offset, reason })?;
    cbor::verify_cid(&cid, data)?;
    Ok((cid, data))
}

/// The blocks of a CAR held in memory, one at a time, each verified.
///
/// After an error the iterator ends.
pub struct CarReader<'a> {
    header: Header,
    input: &'a [u8],
    offset: u64,
    failed: bool,
}

impl<'a> CarReader<'a> {
    /// Reads the header; the blocks follow through the iterator.
    pub fn new(bytes: &'a [u8]) -> Result<Self, CarError> {
        let (length, prefix) = length_prefix(bytes, 0)?.ok_or(CarError::Truncated {
            what: "header",
            offset: 0,
            claimed: 1,
            left: 0,
        })?;
        let rest = &bytes[prefix..];
        if length > MAX_HEADER as u64 {
            return Err(CarError::TooLarge {
                what: "header",
                offset: 0,
                claimed: length,
                limit: MAX_HEADER,
            });
        }
        if length > rest.len() as u64 {
            return Err(CarError::Truncated {
                what: "header",
                offset: 0,
                claimed: length,
                left: rest.len() as u64,
            });
        }
        let (header, input) = rest.split_at(length as usize);
        Ok(Self {
            header: Header::decode(header)?,
            input,
            offset: (prefix as u64) + length,
            failed: false,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    fn next_block(&mut self) -> Result<Option<Block<'a>>, CarError> {
        Ok(self.next_section()?.map(|(cid, data)| Block {
            cid: cid.into(),
            data: Cow::Borrowed(data),
        }))
    }

    /// The next block's CID and bytes, verified.
    fn next_section(&mut self) -> Result<Option<(RawCid, &'a [u8])>, CarError> {
        let offset = self.offset;
        let Some((length, prefix)) = length_prefix(self.input, offset)? else {
            return Ok(None);
        };
        let rest = &self.input[prefix..];
        if length > rest.len() as u64 {
            return Err(CarError::Truncated {
                what: "block",
                offset,
                claimed: length,
                left: rest.len() as u64,
            });
        }
        let (body, rest) = rest.split_at(length as usize);
        let (cid, data) = section(body, offset)?;
        self.input = rest;
        self.offset += prefix as u64 + length;
        Ok(Some((cid, data)))
    }
}

impl<'a> Iterator for CarReader<'a> {
    type Item = Result<Block<'a>, CarError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut failed = self.failed;
        let next = fused(&mut failed, || self.next_block());
        self.failed = failed;
        next
    }
}

/// The next item of a block iterator that ends after its first error.
fn fused<T>(
    failed: &mut bool,
    next: impl FnOnce() -> Result<Option<T>, CarError>,
) -> Option<Result<T, CarError>> {
    if *failed {
        return None;
    }
    let next = next().transpose();
    *failed = matches!(next, Some(Err(_)));
    next
}

/// The blocks of a CAR read from a [`Read`]er, one at a time, each verified;
/// a block may be at most [`DEFAULT_MAX_BLOCK`] bytes unless set otherwise.
///
/// Give it a buffered reader. After an error the iterator ends.
pub struct CarStream<R> {
    header: Header,
    reader: R,
    offset: u64,
    max_block: usize,
    failed: bool,
}

impl<R: Read> CarStream<R> {
    /// Reads the header; the blocks follow through the iterator.
    pub fn new(reader: R) -> Result<Self, CarError> {
        Self::with_max_block(reader, DEFAULT_MAX_BLOCK)
    }

    /// As [`CarStream::new`], with blocks of at most `max_block` bytes.
    pub fn with_max_block(mut reader: R, max_block: usize) -> Result<Self, CarError> {
        let (length, prefix) = read_length(&mut reader, 0)?.ok_or(CarError::Truncated {
            what: "header",
            offset: 0,
            claimed: 1,
            left: 0,
        })?;
        let bytes = read_section(&mut reader, "header", 0, length, MAX_HEADER)?;
        Ok(Self {
            header: Header::decode(&bytes)?,
            reader,
            offset: prefix as u64 + length,
            max_block,
            failed: false,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    fn next_block(&mut self) -> Result<Option<Block<'static>>, CarError> {
        Ok(self.next_section()?.map(|(cid, data)| Block {
            cid: cid.into(),
            data: Cow::Owned(data),
        }))
    }

    /// The next block's CID and bytes, verified.
    fn next_section(&mut self) -> Result<Option<(RawCid, Vec<u8>)>, CarError> {
        let offset = self.offset;
        let Some((length, prefix)) = read_length(&mut self.reader, offset)? else {
            return Ok(None);
        };
        let body = read_section(&mut self.reader, "block", offset, length, self.max_block)?;
        let (cid, data) = section(&body, offset)?;
        let start = body.len() - data.len();
        let mut body = body;
        body.drain(..start);
        self.offset += prefix as u64 + length;
        Ok(Some((cid, body)))
    }
}

impl<R: Read> Iterator for CarStream<R> {
    type Item = Result<Block<'static>, CarError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut failed = self.failed;
        let next = fused(&mut failed, || self.next_block());
        self.failed = failed;
        next
    }
}

/// Reads a varint length from a reader, a byte at a time: `(length, prefix
/// size)`, or `None` at a clean end of the input.
fn read_length<R: Read>(reader: &mut R, offset: u64) -> Result<Option<(u64, usize)>, CarError> {
    let mut buf = unsigned_varint::encode::u64_buffer();
    for i in 0..buf.len() {
        let mut byte = [0];
        if reader.read(&mut byte)? == 0 {
            if i == 0 {
                return Ok(None);
            }
            return Err(CarError::Length {
                offset,
                reason: "the input ends inside it".to_owned(),
            });
        }
        buf[i] = byte[0];
        if unsigned_varint::decode::is_last(byte[0]) {
            return length_prefix(&buf[..=i], offset);
        }
    }
    Err(CarError::Length {
        offset,
        reason: "longer than a 64-bit varint".to_owned(),
    })
}

/// Reads `length` bytes, growing the buffer only as bytes arrive.
fn read_section<R: Read>(
    reader: &mut R,
    what: &'static str,
    offset: u64,
    length: u64,
    limit: usize,
) -> Result<Vec<u8>, CarError> {
    if length > limit as u64 {
        return Err(CarError::TooLarge {
            what,
            offset,
            claimed: length,
            limit,
        });
    }
    let mut bytes = Vec::with_capacity((length as usize).min(64 << 10));
    reader.take(length).read_to_end(&mut bytes)?;
    if (bytes.len() as u64) < length {
        return Err(CarError::Truncated {
            what,
            offset,
            claimed: length,
            left: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// A whole CAR: its header and its blocks by CID.
#[derive(Clone, Debug, Default)]
pub struct Car<'a> {
    /// The root CIDs.
    pub roots: Vec<Cid>,
    /// The blocks.
    pub blocks: Blocks<'a>,
}

impl<'a> Car<'a> {
    /// Reads a CAR held in memory, verifying every block; the blocks borrow
    /// from `bytes`.
    pub fn from_slice(bytes: &'a [u8]) -> Result<Self, CarError> {
        let mut reader = CarReader::new(bytes)?;
        let mut map = BlockMap::default();
        while let Some((cid, data)) = reader.next_section()? {
            map.entry(cid).or_insert(Cow::Borrowed(data));
        }
        Ok(Self {
            roots: reader.header.roots,
            blocks: Blocks { map },
        })
    }

    /// Reads a CAR from a reader (see [`CarStream`]), verifying every block.
    pub fn from_reader<R: Read>(reader: R) -> Result<Car<'static>, CarError> {
        let mut stream = CarStream::new(reader)?;
        let mut map = BlockMap::default();
        while let Some((cid, data)) = stream.next_section()? {
            map.entry(cid).or_insert(Cow::Owned(data));
        }
        Ok(Car {
            roots: stream.header.roots,
            blocks: Blocks { map },
        })
    }

    /// The root CIDs.
    pub fn roots(&self) -> &[Cid] {
        &self.roots
    }

    /// Writes the CAR: the roots, then the blocks in CID order.
    pub fn to_vec(&self) -> Result<Vec<u8>, CarError> {
        let mut writer = CarWriter::new(Vec::new())?;
        let mut blocks: Vec<_> = self.blocks.map.iter().collect();
        blocks.sort_unstable_by_key(|(cid, _)| *cid);
        for (cid, data) in blocks {
            writer.write_section(cid, data)?;
        }
        writer.finish_with_roots(&self.roots)
    }
}

/// Blocks by CID, for looking up the blocks a structure links to and
/// decoding them. Every block in it was verified against its CID when read
/// or inserted.
#[derive(Clone, Debug, Default)]
pub struct Blocks<'a> {
    map: BlockMap<'a>,
}

impl<'a> Blocks<'a> {
    /// No blocks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a block after checking that `data` is what `cid` names.
    pub fn insert(&mut self, cid: Cid, data: impl Into<Cow<'a, [u8]>>) -> Result<(), VerifyError> {
        let data = data.into();
        cbor::verify(&cid, &data)?;
        self.map.insert(cid.into(), data);
        Ok(())
    }

    /// Adds a block a CAR reader has verified.
    #[cfg(feature = "mst")]
    pub(crate) fn insert_verified(&mut self, block: Block<'a>) {
        self.map.entry(*block.cid.as_cid()).or_insert(block.data);
    }

    /// Encodes `value`, adds it and returns its CID.
    pub fn insert_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<Cid, EncodeError> {
        let bytes = cbor::to_vec(value)?;
        let cid = Cid::of_dag_cbor(&bytes);
        self.map.insert(*cid.as_cid(), Cow::Owned(bytes));
        Ok(cid)
    }

    /// The bytes of block `cid`.
    pub fn get(&self, cid: &Cid) -> Option<&[u8]> {
        self.map.get(cid.as_cid()).map(|data| &**data)
    }

    /// Whether block `cid` is here.
    pub fn contains(&self, cid: &Cid) -> bool {
        self.map.contains_key(cid.as_cid())
    }

    /// How many blocks there are.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The blocks, in no particular order (each CID made as it is
    /// yielded: the index keeps them in a more compact form).
    pub fn iter(&self) -> impl Iterator<Item = (Cid, &[u8])> {
        self.map.iter().map(|(cid, data)| ((*cid).into(), &**data))
    }

    /// The blocks as the index holds them, without making a [`Cid`] each.
    #[cfg(feature = "mst")]
    pub(crate) fn raw(&self) -> impl Iterator<Item = (&RawCid, &[u8])> {
        self.map.iter().map(|(cid, data)| (cid, &**data))
    }

    /// Decodes block `cid` strictly (see [`cbor::from_slice`]).
    pub fn decode<T: DeserializeOwned>(&self, cid: &Cid) -> Result<T, BlockError> {
        self.decode_with(cid, |data| cbor::from_slice(data))
    }

    /// Decodes block `cid` leniently (see [`cbor::from_slice_lenient`]).
    pub fn decode_lenient<T: DeserializeOwned>(&self, cid: &Cid) -> Result<T, BlockError> {
        self.decode_with(cid, cbor::from_slice_lenient)
    }

    /// Decodes block `cid` as a record of type `T`, strictly; its `$type`
    /// must be `T`'s.
    pub fn decode_record<T: atlex_core::data::LexType + DeserializeOwned>(
        &self,
        cid: &Cid,
    ) -> Result<T, BlockError> {
        self.decode_with(cid, cbor::record_from_slice)
    }

    fn decode_with<T>(
        &self,
        cid: &Cid,
        decode: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
    ) -> Result<T, BlockError> {
        let data = self
            .get(cid)
            .ok_or_else(|| BlockError::Missing(Box::new(cid.clone())))?;
        decode(data).map_err(|error| BlockError::Decode {
            cid: Box::new(cid.clone()),
            error,
        })
    }

    /// Owned copies of the blocks, independent of the input they were read
    /// from.
    pub fn into_owned(self) -> Blocks<'static> {
        Blocks {
            map: self
                .map
                .into_iter()
                .map(|(cid, data)| (cid, Cow::Owned(data.into_owned())))
                .collect(),
        }
    }
}

/// Why a block could not be had.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// No block has this CID.
    #[error("no block {0}")]
    Missing(Box<Cid>),
    /// The block does not decode as asked.
    #[error("block {cid}: {error}")]
    Decode {
        /// The block.
        cid: Box<Cid>,
        /// Why.
        error: DecodeError,
    },
}

/// Writes a CAR v1 file: the header, then blocks as they are given.
///
/// The header comes first in the file but the roots are often known last
/// (a commit is written after its records): [`CarWriter::new`] buffers the
/// blocks and [`CarWriter::finish_with_roots`] writes the whole file, while
/// [`CarWriter::with_roots`] writes straight through.
pub struct CarWriter<W: Write> {
    writer: W,
    /// Blocks held until the roots are known; `None` once the header is out.
    pending: Option<Vec<u8>>,
    /// The roots written, for a writer made with [`CarWriter::with_roots`].
    roots: Vec<Cid>,
}

impl<W: Write> CarWriter<W> {
    /// A writer whose roots are given at the end.
    pub fn new(writer: W) -> Result<Self, CarError> {
        Ok(Self {
            writer,
            pending: Some(Vec::new()),
            roots: Vec::new(),
        })
    }

    /// A writer that writes the header with `roots` now and every block as
    /// it comes.
    pub fn with_roots(mut writer: W, roots: &[Cid]) -> Result<Self, CarError> {
        write_header(&mut writer, roots)?;
        Ok(Self {
            writer,
            pending: None,
            roots: roots.to_vec(),
        })
    }

    /// Writes a block after checking that `data` is what `cid` names.
    pub fn write_block(&mut self, cid: &Cid, data: &[u8]) -> Result<(), CarError> {
        self.write_section(cid.as_cid(), data)
    }

    fn write_section(&mut self, cid: &RawCid, data: &[u8]) -> Result<(), CarError> {
        cbor::verify_cid(cid, data)?;
        let mut cid_buf = [0; MAX_CID_BYTES];
        let cid_bytes = write_binary(cid, &mut cid_buf);
        let mut prefix = unsigned_varint::encode::u64_buffer();
        let prefix =
            unsigned_varint::encode::u64((cid_bytes.len() + data.len()) as u64, &mut prefix);
        match &mut self.pending {
            Some(buf) => {
                buf.extend_from_slice(prefix);
                buf.extend_from_slice(cid_bytes);
                buf.extend_from_slice(data);
            }
            None => {
                self.writer.write_all(prefix)?;
                self.writer.write_all(cid_bytes)?;
                self.writer.write_all(data)?;
            }
        }
        Ok(())
    }

    /// Encodes `value` as DAG-CBOR, writes it and returns its CID.
    pub fn write_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<Cid, CarError> {
        let bytes = cbor::to_vec(value).map_err(CarError::Encode)?;
        let cid = Cid::of_dag_cbor(&bytes);
        self.write_block(&cid, &bytes)?;
        Ok(cid)
    }

    /// Finishes a writer made with [`CarWriter::new`]: writes the header with
    /// `roots` and the blocks. A writer made with [`CarWriter::with_roots`]
    /// has written its header already; `roots` must be those.
    pub fn finish_with_roots(mut self, roots: &[Cid]) -> Result<W, CarError> {
        match self.pending.take() {
            Some(blocks) => {
                write_header(&mut self.writer, roots)?;
                self.writer.write_all(&blocks)?;
            }
            None if roots == self.roots.as_slice() => {}
            None => return Err(CarError::RootsWritten),
        }
        self.writer.flush()?;
        Ok(self.writer)
    }

    /// Finishes the file: for a writer made with [`CarWriter::with_roots`],
    /// flushes it; for one made with [`CarWriter::new`], writes it with no
    /// roots.
    pub fn finish(self) -> Result<W, CarError> {
        let roots = self.roots.clone();
        self.finish_with_roots(&roots)
    }
}

fn write_header<W: Write>(writer: &mut W, roots: &[Cid]) -> Result<(), CarError> {
    let header = Header::encode(roots)?;
    let mut prefix = unsigned_varint::encode::u64_buffer();
    writer.write_all(unsigned_varint::encode::u64(
        header.len() as u64,
        &mut prefix,
    ))?;
    writer.write_all(&header)?;
    Ok(())
}
