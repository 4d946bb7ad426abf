//! The two curves of atproto (feature `crypto`): public keys as `did:key` /
//! multikey strings, ECDSA signatures as atproto makes and checks them.
//!
//! - [`PublicKey`]: a `k256` (secp256k1, JWT `ES256K`) or `p256` (NIST P-256,
//!   JWT `ES256`) public key, read from and written as `did:key:z…` or its
//!   multikey part (base58btc of the multicodec prefix `0xe7` / `0x1200` and
//!   the 33-byte compressed point), or from the deprecated verification
//!   method forms that carry no codec.
//! - [`SigningKey`]: a private key that signs as atproto requires.
//!
//! Signatures are the 64 bytes `r ‖ s` over the SHA-256 hash of the message,
//! with `s` in its low half ("low-S"): [`SigningKey::sign`] always makes such
//! signatures, and [`PublicKey::verify`] refuses DER-encoded signatures and
//! high-S ones, for both curves, as the [atproto cryptography
//! specification](https://atproto.com/specs/cryptography) requires.
//!
//! ```
//! use atlex_identity::crypto::{Curve, PublicKey, SigningKey};
//!
//! let key = SigningKey::from_hex(
//!     Curve::K256,
//!     "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
//! )?;
//! let did_key = key.public_key().to_did_key();
//! assert_eq!(did_key, "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme");
//!
//! let signature = key.sign(b"hello");
//! let public: PublicKey = did_key.parse()?;
//! assert!(public.verify(b"hello", &signature).is_ok());
//! assert!(public.verify(b"hullo", &signature).is_err());
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use k256::ecdsa::signature::{Signer as _, Verifier as _};
use k256::elliptic_curve::Generate as _;

/// The `did:key:` prefix.
const DID_KEY_PREFIX: &str = "did:key:";
/// The multicodec `secp256k1-pub` (0xe7) as an unsigned varint.
const K256_CODEC: [u8; 2] = [0xe7, 0x01];
/// The multicodec `p256-pub` (0x1200) as an unsigned varint.
const P256_CODEC: [u8; 2] = [0x80, 0x24];
/// The length of a compressed point of either curve.
const COMPRESSED_LEN: usize = 33;
/// The length of a signature: `r ‖ s`, 32 bytes each.
pub const SIGNATURE_LEN: usize = 64;

/// One of the two elliptic curves atproto uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    /// secp256k1 ("k256"); JWT algorithm `ES256K`. What the reference
    /// implementation generates by default.
    K256,
    /// NIST P-256 ("p256", secp256r1); JWT algorithm `ES256`.
    P256,
}

impl Curve {
    /// The JWT `alg` of signatures on this curve: `ES256K` or `ES256`.
    pub fn jwt_alg(self) -> &'static str {
        match self {
            Self::K256 => "ES256K",
            Self::P256 => "ES256",
        }
    }

    /// The curve of a JWT `alg`, if it is one of atproto's.
    pub fn from_jwt_alg(alg: &str) -> Option<Self> {
        match alg {
            "ES256K" => Some(Self::K256),
            "ES256" => Some(Self::P256),
            _ => None,
        }
    }

    /// The curve of a verification method `type` that names one:
    /// `EcdsaSecp256k1VerificationKey2019` or
    /// `EcdsaSecp256r1VerificationKey2019` (the deprecated forms whose key
    /// carries no codec).
    pub fn from_legacy_method_type(method_type: &str) -> Option<Self> {
        match method_type {
            "EcdsaSecp256k1VerificationKey2019" => Some(Self::K256),
            "EcdsaSecp256r1VerificationKey2019" => Some(Self::P256),
            _ => None,
        }
    }

    /// The multicodec prefix of a public key on this curve.
    fn codec(self) -> [u8; 2] {
        match self {
            Self::K256 => K256_CODEC,
            Self::P256 => P256_CODEC,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::K256 => "k256",
            Self::P256 => "p256",
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a key could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A `did:key` without the `did:key:` prefix.
    #[error("{0:?} is not a did:key (it does not start with `did:key:`)")]
    NotDidKey(String),
    /// The multibase text does not decode.
    #[error("{text:?} is not valid multibase: {reason}")]
    Multibase {
        /// The text.
        text: String,
        /// Why.
        reason: String,
    },
    /// A multikey must be base58btc (`z…`).
    #[error("a multikey is base58btc (starting with `z`), not {0:?}")]
    NotBase58btc(String),
    /// The multicodec prefix is not `secp256k1-pub` or `p256-pub`.
    #[error(
        "unsupported key type: the multicodec prefix {0:02x?} is neither secp256k1-pub (e7 01) nor p256-pub (80 24)"
    )]
    UnsupportedCodec(Vec<u8>),
    /// A multikey holds a 33-byte compressed point.
    #[error("a {curve} multikey holds a 33-byte compressed point, this one has {found} bytes")]
    NotCompressed {
        /// The curve of the codec.
        curve: Curve,
        /// The number of key bytes.
        found: usize,
    },
    /// The bytes are not a point of the curve.
    #[error("the key bytes are not a valid {0} public key")]
    InvalidPoint(Curve),
    /// The bytes are not a private key of the curve (wrong length, zero, or
    /// not below the group order).
    #[error("not a valid {0} private key (32 bytes, nonzero, below the group order)")]
    InvalidPrivateKey(Curve),
    /// A hex-encoded private key that is not hex.
    #[error("a private key in hex has 64 hex digits")]
    InvalidHex,
}

/// Why a signature does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// Not the 64 bytes `r ‖ s` (a DER-encoded signature is refused here).
    #[error(
        "a signature is {SIGNATURE_LEN} bytes (r ‖ s), not {0} (DER-encoded signatures are not accepted)"
    )]
    Length(usize),
    /// `r` or `s` is zero or not below the group order.
    #[error("the signature's r or s is out of range")]
    Malformed,
    /// `s` is in the upper half of the group order: the malleable twin of a
    /// valid signature, refused by atproto.
    #[error("the signature is high-S, which atproto does not accept")]
    HighS,
    /// The signature is well-formed but not by this key over this message.
    #[error("the signature does not match the key and message")]
    Mismatch,
}

/// A public key on one of atproto's curves.
///
/// Its text form ([`Display`](fmt::Display), [`FromStr`]) is the `did:key`.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(Public);

#[derive(Clone, PartialEq, Eq)]
enum Public {
    K256(k256::ecdsa::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// Reads `did:key:z…`.
    pub fn from_did_key(did_key: &str) -> Result<Self, KeyError> {
        let multikey = did_key
            .strip_prefix(DID_KEY_PREFIX)
            .ok_or_else(|| KeyError::NotDidKey(did_key.to_owned()))?;
        Self::from_multikey(multikey)
    }

    /// Reads a multikey (`z…`: base58btc of the multicodec prefix and the
    /// compressed point), the `publicKeyMultibase` of a `Multikey`
    /// verification method.
    pub fn from_multikey(multikey: &str) -> Result<Self, KeyError> {
        if !multikey.starts_with('z') {
            return Err(KeyError::NotBase58btc(multikey.to_owned()));
        }
        let bytes = decode_multibase(multikey)?;
        let (curve, key) = if let Some(key) = bytes.strip_prefix(&K256_CODEC) {
            (Curve::K256, key)
        } else if let Some(key) = bytes.strip_prefix(&P256_CODEC) {
            (Curve::P256, key)
        } else {
            return Err(KeyError::UnsupportedCodec(
                bytes.iter().take(2).copied().collect(),
            ));
        };
        if key.len() != COMPRESSED_LEN {
            return Err(KeyError::NotCompressed {
                curve,
                found: key.len(),
            });
        }
        Self::from_sec1_bytes(curve, key)
    }

    /// Reads the deprecated `publicKeyMultibase` of an
    /// `EcdsaSecp256k1VerificationKey2019` or
    /// `EcdsaSecp256r1VerificationKey2019` verification method: the point's
    /// bytes, compressed or not, in any multibase, without a codec.
    pub fn from_legacy_multibase(curve: Curve, text: &str) -> Result<Self, KeyError> {
        Self::from_sec1_bytes(curve, &decode_multibase(text)?)
    }

    /// A point in SEC1 encoding (33 bytes compressed or 65 uncompressed).
    pub fn from_sec1_bytes(curve: Curve, bytes: &[u8]) -> Result<Self, KeyError> {
        let invalid = |_| KeyError::InvalidPoint(curve);
        Ok(Self(match curve {
            Curve::K256 => {
                Public::K256(k256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(invalid)?)
            }
            Curve::P256 => {
                Public::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(invalid)?)
            }
        }))
    }

    /// The key's curve.
    pub fn curve(&self) -> Curve {
        match self.0 {
            Public::K256(_) => Curve::K256,
            Public::P256(_) => Curve::P256,
        }
    }

    /// The JWT `alg` of the key's signatures: `ES256K` or `ES256`.
    pub fn jwt_alg(&self) -> &'static str {
        self.curve().jwt_alg()
    }

    /// The 33-byte compressed point.
    pub fn to_compressed_bytes(&self) -> Vec<u8> {
        match &self.0 {
            Public::K256(key) => key.to_sec1_point(true).as_bytes().to_vec(),
            Public::P256(key) => key.to_sec1_point(true).as_bytes().to_vec(),
        }
    }

    /// The multikey: `z` and the base58btc of the codec and compressed point.
    pub fn to_multikey(&self) -> String {
        let mut bytes = self.curve().codec().to_vec();
        bytes.extend_from_slice(&self.to_compressed_bytes());
        multibase::encode(multibase::Base::Base58Btc, bytes)
    }

    /// `did:key:` and the multikey.
    pub fn to_did_key(&self) -> String {
        format!("{DID_KEY_PREFIX}{}", self.to_multikey())
    }

    /// Checks `signature` (64 bytes `r ‖ s`, low-S) over the SHA-256 hash of
    /// `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        if signature.len() != SIGNATURE_LEN {
            return Err(SignatureError::Length(signature.len()));
        }
        match &self.0 {
            Public::K256(key) => {
                let signature = k256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| SignatureError::Malformed)?;
                if signature.normalize_s() != signature {
                    return Err(SignatureError::HighS);
                }
                key.verify(message, &signature)
            }
            Public::P256(key) => {
                let signature = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| SignatureError::Malformed)?;
                if signature.normalize_s() != signature {
                    return Err(SignatureError::HighS);
                }
                key.verify(message, &signature)
            }
        }
        .map_err(|_| SignatureError::Mismatch)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_did_key())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_did_key())
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    /// Reads a `did:key`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_did_key(text)
    }
}

/// A private key on one of atproto's curves, which signs as atproto
/// requires: SHA-256, deterministic nonces (RFC 6979), low-S.
///
/// Its [`Debug`](fmt::Debug) output shows the public key only.
#[derive(Clone)]
pub struct SigningKey(Secret);

#[derive(Clone)]
enum Secret {
    K256(k256::ecdsa::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

impl SigningKey {
    /// A new random key, from the operating system's random source.
    pub fn generate(curve: Curve) -> Result<Self, RandomError> {
        let failed = |err: getrandom::Error| RandomError::new(err.to_string());
        Ok(Self(match curve {
            Curve::K256 => Secret::K256(k256::ecdsa::SigningKey::try_generate().map_err(failed)?),
            Curve::P256 => Secret::P256(p256::ecdsa::SigningKey::try_generate().map_err(failed)?),
        }))
    }

    /// The key whose secret scalar is these 32 big-endian bytes.
    pub fn from_bytes(curve: Curve, bytes: &[u8]) -> Result<Self, KeyError> {
        let invalid = |_| KeyError::InvalidPrivateKey(curve);
        Ok(Self(match curve {
            Curve::K256 => {
                Secret::K256(k256::ecdsa::SigningKey::from_slice(bytes).map_err(invalid)?)
            }
            Curve::P256 => {
                Secret::P256(p256::ecdsa::SigningKey::from_slice(bytes).map_err(invalid)?)
            }
        }))
    }

    /// [`from_bytes`](Self::from_bytes) of 64 hex digits, the form the
    /// reference implementation stores keys in.
    pub fn from_hex(curve: Curve, hex: &str) -> Result<Self, KeyError> {
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(hex.trim().as_bytes())
            .map_err(|_| KeyError::InvalidHex)?;
        Self::from_bytes(curve, &bytes)
    }

    /// The secret scalar, 32 big-endian bytes. Keep it secret.
    pub fn to_bytes(&self) -> [u8; 32] {
        match &self.0 {
            Secret::K256(key) => key.to_bytes().into(),
            Secret::P256(key) => key.to_bytes().into(),
        }
    }

    /// The key's curve.
    pub fn curve(&self) -> Curve {
        match self.0 {
            Secret::K256(_) => Curve::K256,
            Secret::P256(_) => Curve::P256,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(match &self.0 {
            Secret::K256(key) => Public::K256(*key.verifying_key()),
            Secret::P256(key) => Public::P256(*key.verifying_key()),
        })
    }

    /// Signs the SHA-256 hash of `message`: 64 bytes `r ‖ s`, low-S.
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        match &self.0 {
            Secret::K256(key) => {
                let signature: k256::ecdsa::Signature = key.sign(message);
                signature.normalize_s().to_bytes().into()
            }
            Secret::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.normalize_s().to_bytes().into()
            }
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.public_key().to_did_key())
    }
}

/// The operating system's random source failed ([`SigningKey::generate`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(String);

impl RandomError {
    pub(crate) fn new(reason: String) -> Self {
        Self(reason)
    }
}

fn decode_multibase(text: &str) -> Result<Vec<u8>, KeyError> {
    multibase::decode(text)
        .map(|(_, bytes)| bytes)
        .map_err(|err| KeyError::Multibase {
            text: text.to_owned(),
            reason: err.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_low_s_and_round_trip() {
        for curve in [Curve::K256, Curve::P256] {
            let key = SigningKey::generate(curve).unwrap();
            let public = key.public_key();
            assert_eq!(public.curve(), curve);
            let text = public.to_did_key();
            assert_eq!(text.parse::<PublicKey>().unwrap(), public);
            // Enough signatures that a curve that signs high-S half the
            // time (p256 before normalisation) would show it.
            for i in 0..32u8 {
                let message = [i; 7];
                let signature = key.sign(&message);
                assert_eq!(public.verify(&message, &signature), Ok(()));
                assert_eq!(
                    public.verify(b"other", &signature),
                    Err(SignatureError::Mismatch)
                );
            }
            let restored = SigningKey::from_bytes(curve, &key.to_bytes()).unwrap();
            assert_eq!(restored.public_key(), public);
        }
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        assert!(matches!(
            PublicKey::from_did_key("zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"),
            Err(KeyError::NotDidKey(_))
        ));
        assert!(matches!(
            PublicKey::from_did_key("did:key:mAOcB"),
            Err(KeyError::NotBase58btc(_))
        ));
        assert!(matches!(
            PublicKey::from_did_key("did:key:z0OIl"),
            Err(KeyError::Multibase { .. })
        ));
        // An ed25519 key (codec 0xed).
        assert!(matches!(
            PublicKey::from_did_key("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
            Err(KeyError::UnsupportedCodec(codec)) if codec == [0xed, 0x01]
        ));
        let mut short = K256_CODEC.to_vec();
        short.extend_from_slice(&[2; 20]);
        let short = multibase::encode(multibase::Base::Base58Btc, short);
        assert!(matches!(
            PublicKey::from_multikey(&short),
            Err(KeyError::NotCompressed {
                curve: Curve::K256,
                found: 20
            })
        ));
        let mut off_curve = P256_CODEC.to_vec();
        off_curve.push(0x05);
        off_curve.extend_from_slice(&[0xff; 32]);
        let off_curve = multibase::encode(multibase::Base::Base58Btc, off_curve);
        assert_eq!(
            PublicKey::from_multikey(&off_curve),
            Err(KeyError::InvalidPoint(Curve::P256))
        );
        assert_eq!(
            SigningKey::from_bytes(Curve::K256, &[0; 32]).unwrap_err(),
            KeyError::InvalidPrivateKey(Curve::K256)
        );
        assert_eq!(
            SigningKey::from_hex(Curve::K256, "xyz").unwrap_err(),
            KeyError::InvalidHex
        );
    }

    #[test]
    fn signature_shapes() {
        let key = SigningKey::from_bytes(Curve::P256, &[7; 32]).unwrap();
        let public = key.public_key();
        assert_eq!(
            public.verify(b"m", &[1; 70]),
            Err(SignatureError::Length(70))
        );
        assert_eq!(
            public.verify(b"m", &[0; 64]),
            Err(SignatureError::Malformed)
        );
        assert_eq!(format!("{key:?}"), format!("SigningKey({public})"));
    }
}
