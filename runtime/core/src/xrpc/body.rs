//! Bodies as bytes, and why one could not be encoded or decoded.

/// A request or response body as bytes, with its `Content-Type`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payload {
    /// The `Content-Type`, when there is a body.
    pub content_type: Option<String>,
    /// The bytes (empty when there is no body).
    pub body: Vec<u8>,
}

/// Why a body could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode the body as {encoding}: {reason}")]
pub struct EncodeError {
    /// The intended encoding.
    pub encoding: &'static str,
    /// What went wrong.
    pub reason: String,
}

/// Why a body could not be decoded: what was expected, where in the body it
/// failed (a path such as `convos[3].members[0].handle`), and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}{}: {reason}", if path.is_empty() || path == "." { String::new() } else { format!(" at {path}") })]
pub struct DecodeError {
    /// What the body should have been (`JSON body`, `empty body`, …).
    pub what: &'static str,
    /// Where in the body the problem is.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

/// A body in an encoding other than JSON (`*/*`, `application/vnd.ipld.car`,
/// `video/mp4`, …): the bytes and their MIME type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Binary {
    /// The `Content-Type` of the body.
    pub content_type: String,
    /// The body.
    pub data: Vec<u8>,
}

impl Binary {
    /// A body of `data` with MIME type `content_type`.
    pub fn new(content_type: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Self {
            content_type: content_type.into(),
            data: data.into(),
        }
    }
}
