//! Signed labels: signing a label as a labeler, verifying one as a consumer.
//!
//! A label (`com.atproto.label.defs#label`) of version 1 carries `sig`, the
//! labeler's signature over the DAG-CBOR of the label without its `sig`
//! field. The key is the labeler's `#atproto_label` verification method in
//! its DID document (not the account's `#atproto` signing key).
//!
//! The functions here take any type that serializes as a label — the
//! generated `com::atproto::label::defs::Label` of the bindings, or a type of
//! your own — and work on the data model: every field the label carries takes
//! part, including fields the type does not declare but keeps from the wire.
//!
//! ```
//! use atlex_core::data::{Bytes, Value};
//! use atlex_identity::crypto::{Curve, SigningKey};
//! use atlex_identity::label;
//!
//! let key = SigningKey::generate(Curve::K256)?;
//! let unsigned: Value = serde_json::from_str(
//!     r#"{"ver": 1, "src": "did:plc:ar7c4by46qjdydhdevvrndac", "uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jwdwj2ctlk26", "val": "spam", "cts": "2026-12-07T10:00:00.000Z"}"#,
//! )?;
//! let signed: Value = label::sign(&unsigned, &key)?;
//! label::verify(&signed, &key.public_key())?;
//!
//! // Any change to a signed field breaks the signature.
//! let Value::Object(mut fields) = signed else { unreachable!() };
//! fields.insert("val".into(), Value::String("!hide".into()));
//! let tampered = Value::Object(fields);
//! assert!(label::verify(&tampered, &key.public_key()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With feature `resolve`, [`LabelVerifier`] finds the key itself from the
//! label's `src`, through a [`Resolver`](crate::identity::Resolver) and its
//! cache.

use std::collections::BTreeMap;

use atlex_core::cbor;
use atlex_core::data::{Bytes, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::crypto::{PublicKey, SignatureError, SigningKey};

/// The label version that carries a signature.
pub const VERSION: i64 = 1;

/// Why a label cannot be signed or does not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// The value does not encode as DAG-CBOR, or what it encodes to does not
    /// decode as the label type.
    #[error("the label does not encode: {0}")]
    Encode(String),
    /// The value is not an object.
    #[error("a label is an object")]
    NotAnObject,
    /// A required field is missing or not of its kind (`src` not a string,
    /// `ver` not an integer).
    #[error("the label's `{0}` is missing or not of its type")]
    Field(&'static str),
    /// `ver` is not [`VERSION`]: labels of other versions (or none) are not
    /// signed this way.
    #[error("label version {0:?} is not signed (only version 1 is)")]
    Version(Option<i64>),
    /// The label has no `sig`.
    #[error("the label is not signed")]
    Unsigned,
    /// `sig` is not bytes.
    #[error("the label's `sig` is not bytes")]
    SignatureNotBytes,
    /// The signature does not verify with the labeler's key.
    #[error("the label's signature does not verify: {0}")]
    Signature(#[from] SignatureError),
    /// The labeler's key could not be found.
    #[cfg(feature = "resolve")]
    #[error("the labeler's key: {0}")]
    Identity(#[from] crate::identity::IdentityError),
}

/// The label's fields as data, checked to be a version-1 label.
fn fields<L: Serialize + ?Sized>(label: &L) -> Result<BTreeMap<String, Value>, LabelError> {
    let bytes = cbor::to_vec(label).map_err(|error| LabelError::Encode(error.to_string()))?;
    let value: Value =
        cbor::from_slice(&bytes).map_err(|error| LabelError::Encode(error.to_string()))?;
    let Value::Object(fields) = value else {
        return Err(LabelError::NotAnObject);
    };
    let version = match fields.get("ver") {
        None => None,
        Some(Value::Integer(version)) => Some(*version),
        Some(_) => return Err(LabelError::Field("ver")),
    };
    if version != Some(VERSION) {
        return Err(LabelError::Version(version));
    }
    if !matches!(fields.get("src"), Some(Value::String(_))) {
        return Err(LabelError::Field("src"));
    }
    Ok(fields)
}

fn encode(fields: &BTreeMap<String, Value>) -> Result<Vec<u8>, LabelError> {
    cbor::to_vec(fields).map_err(|error| LabelError::Encode(error.to_string()))
}

/// The bytes a labeler signs for `label`: the canonical DAG-CBOR of the label
/// without its `sig` field. The label must be of version 1 with a `src`.
pub fn signing_bytes<L: Serialize + ?Sized>(label: &L) -> Result<Vec<u8>, LabelError> {
    let mut fields = fields(label)?;
    fields.remove("sig");
    encode(&fields)
}

/// `label` signed with `key`: the same label with `sig` set (replacing any
/// signature it had). The label must be of version 1 with a `src`.
///
/// The signed label is read back into `L` and checked: a type that cannot
/// hold the signature or a signed field gives an error, not a label whose
/// signature does not verify.
pub fn sign<L: Serialize + DeserializeOwned>(label: &L, key: &SigningKey) -> Result<L, LabelError> {
    let mut fields = fields(label)?;
    fields.remove("sig");
    let signature = key.sign(&encode(&fields)?);
    fields.insert("sig".into(), Value::Bytes(Bytes(signature.to_vec())));
    let bytes = encode(&fields)?;
    let signed: L =
        cbor::from_slice(&bytes).map_err(|error| LabelError::Encode(error.to_string()))?;
    verify(&signed, &key.public_key())?;
    Ok(signed)
}

/// Checks that `label` is signed by `key`.
pub fn verify<L: Serialize + ?Sized>(label: &L, key: &PublicKey) -> Result<(), LabelError> {
    let mut fields = fields(label)?;
    let signature = match fields.remove("sig") {
        Some(Value::Bytes(signature)) => signature,
        Some(_) => return Err(LabelError::SignatureNotBytes),
        None => return Err(LabelError::Unsigned),
    };
    key.verify(&encode(&fields)?, signature.as_slice())?;
    Ok(())
}

/// The labeler (`src`) of `label`, as written.
#[cfg(any(feature = "resolve", test))]
fn source<L: Serialize + ?Sized>(label: &L) -> Result<String, LabelError> {
    match fields(label)?.remove("src") {
        Some(Value::String(src)) => Ok(src),
        _ => Err(LabelError::Field("src")),
    }
}

#[cfg(feature = "resolve")]
pub use verifier::LabelVerifier;

#[cfg(feature = "resolve")]
mod verifier {
    use atlex_core::types::Did;
    use serde::Serialize;

    use super::{LabelError, source, verify};
    use crate::crypto::SignatureError;
    use crate::identity::{IdentityError, Resolver};

    /// The fragment of a labeler's signing key: `#atproto_label`.
    pub const ATPROTO_LABEL: &str = "atproto_label";

    /// Verifies labels against their labeler's `#atproto_label` key, found
    /// from each label's `src` through a resolver (whose cache it shares).
    ///
    /// A signature that does not verify with the cached key is checked once
    /// more with the document fetched again, so a labeler that rotated its
    /// key is not refused until the cache expires.
    #[derive(Clone, Debug)]
    pub struct LabelVerifier {
        resolver: Resolver,
    }

    impl LabelVerifier {
        /// A verifier resolving labelers with `resolver`.
        pub fn new(resolver: Resolver) -> Self {
            Self { resolver }
        }

        /// Checks that `label` is signed by the key its labeler publishes.
        pub async fn verify<L: Serialize + ?Sized>(&self, label: &L) -> Result<(), LabelError> {
            let src = source(label)?;
            let did: Did = src.parse().map_err(|_| {
                LabelError::Identity(IdentityError::InvalidDid {
                    did: src.clone(),
                    reason: "not a DID".into(),
                })
            })?;
            let key = self
                .resolver
                .verification_key(&did, ATPROTO_LABEL, false)
                .await?;
            match verify(label, &key) {
                Err(LabelError::Signature(SignatureError::Mismatch)) => {
                    let fresh = self
                        .resolver
                        .verification_key(&did, ATPROTO_LABEL, true)
                        .await?;
                    if fresh == key {
                        return Err(LabelError::Signature(SignatureError::Mismatch));
                    }
                    verify(label, &fresh)
                }
                other => other,
            }
        }

        /// Checks every label of `labels` (those of a `subscribeLabels`
        /// frame, or of a `queryLabels` answer), each against its own
        /// labeler: the first failure with its index.
        pub async fn verify_all<L: Serialize>(
            &self,
            labels: &[L],
        ) -> Result<(), (usize, LabelError)> {
            for (index, label) in labels.iter().enumerate() {
                self.verify(label).await.map_err(|error| (index, error))?;
            }
            Ok(())
        }
    }
}

#[cfg(feature = "resolve")]
pub use verifier::ATPROTO_LABEL;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Curve;

    fn label(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    const UNSIGNED: &str = r#"{"ver": 1, "src": "did:plc:ar7c4by46qjdydhdevvrndac", "uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jwdwj2ctlk26", "cid": "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a", "val": "spam", "neg": false, "cts": "2026-12-07T10:00:00.000Z"}"#;

    #[test]
    fn a_signed_label_verifies_on_both_curves_and_nothing_else_does() {
        for curve in [Curve::K256, Curve::P256] {
            let key = SigningKey::generate(curve).unwrap();
            let other = SigningKey::generate(curve).unwrap();
            let signed: Value = sign(&label(UNSIGNED), &key).unwrap();
            verify(&signed, &key.public_key()).unwrap();
            assert!(matches!(
                verify(&signed, &other.public_key()),
                Err(LabelError::Signature(SignatureError::Mismatch))
            ));
            // Signing again replaces the signature rather than signing it.
            let again: Value = sign(&signed, &key).unwrap();
            verify(&again, &key.public_key()).unwrap();
        }
    }

    #[test]
    fn the_signature_covers_every_field_also_those_a_type_does_not_declare() {
        let key = SigningKey::generate(Curve::K256).unwrap();
        let signed: Value = sign(&label(UNSIGNED), &key).unwrap();
        let Value::Object(fields) = signed else {
            panic!("an object")
        };
        for (name, value) in [
            ("val", Value::String("!hide".into())),
            ("neg", Value::Bool(true)),
            ("exp", Value::String("2027-01-01T00:00:00.000Z".into())),
            ("futureField", Value::Integer(1)),
        ] {
            let mut changed = fields.clone();
            changed.insert(name.into(), value);
            assert!(
                matches!(
                    verify(&Value::Object(changed), &key.public_key()),
                    Err(LabelError::Signature(_))
                ),
                "{name}"
            );
        }
        let mut removed = fields.clone();
        removed.remove("cid");
        assert!(verify(&Value::Object(removed), &key.public_key()).is_err());
    }

    #[test]
    fn what_is_not_a_signed_version_1_label_is_refused_by_name() {
        let key = SigningKey::generate(Curve::K256).unwrap();
        let public = key.public_key();
        assert!(matches!(
            sign::<Value>(&label(r#"{"src": "did:plc:x", "val": "a"}"#), &key),
            Err(LabelError::Version(None))
        ));
        assert!(matches!(
            sign::<Value>(&label(r#"{"ver": 2, "src": "did:plc:x"}"#), &key),
            Err(LabelError::Version(Some(2)))
        ));
        assert!(matches!(
            sign::<Value>(&label(r#"{"ver": "1", "src": "did:plc:x"}"#), &key),
            Err(LabelError::Field("ver"))
        ));
        assert!(matches!(
            sign::<Value>(&label(r#"{"ver": 1}"#), &key),
            Err(LabelError::Field("src"))
        ));
        assert!(matches!(
            sign::<Value>(&label("[1]"), &key),
            Err(LabelError::NotAnObject)
        ));
        assert!(matches!(
            verify(&label(UNSIGNED), &public),
            Err(LabelError::Unsigned)
        ));
        let mut fields = match label(UNSIGNED) {
            Value::Object(fields) => fields,
            _ => unreachable!(),
        };
        fields.insert("sig".into(), Value::String("AAAA".into()));
        assert!(matches!(
            verify(&Value::Object(fields.clone()), &public),
            Err(LabelError::SignatureNotBytes)
        ));
        fields.insert("sig".into(), Value::Bytes(Bytes(vec![0; 70])));
        assert!(matches!(
            verify(&Value::Object(fields), &public),
            Err(LabelError::Signature(SignatureError::Length(70)))
        ));
    }

    #[test]
    fn the_signed_bytes_are_the_label_without_sig_in_canonical_order() {
        let key = SigningKey::generate(Curve::K256).unwrap();
        let signed: Value = sign(&label(UNSIGNED), &key).unwrap();
        assert_eq!(
            signing_bytes(&signed).unwrap(),
            cbor::to_vec(&label(UNSIGNED)).unwrap()
        );
        assert_eq!(source(&signed).unwrap(), "did:plc:ar7c4by46qjdydhdevvrndac");
    }
}
