//! `did:plc` operations: creating and updating an identity, and verifying
//! the operation log a PLC directory serves.
//!
//! A `did:plc` identity is a chain of signed operations. The first (the
//! genesis) names the identity: the DID is the base32 of the SHA-256 of its
//! DAG-CBOR, cut to 24 characters. Each later operation names the one before
//! it by CID (`prev`) and is signed by one of that one's `rotationKeys`. The
//! directory orders operations and serves them; it cannot forge one, and
//! [`verify_log`] checks that it did not: the DID, every signature, every
//! `prev`, and the nullified operations a higher-priority rotation key
//! replaced within the recovery window.
//!
//! ```
//! use atlex_identity::crypto::{Curve, SigningKey};
//! use atlex_identity::plc::{Operation, State};
//!
//! let rotation = SigningKey::generate(Curve::P256)?;
//! let signing = SigningKey::generate(Curve::K256)?;
//! let genesis = Operation::atproto(
//!     &[rotation.public_key()],
//!     &signing.public_key(),
//!     "alice.example.com",
//!     "https://pds.example.com",
//! )
//! .sign(&rotation)?;
//! let did = genesis.did()?;
//!
//! // A new handle: the next operation names the genesis and is signed by
//! // one of its rotation keys.
//! let mut next = genesis.state().expect("not a tombstone").successor(&genesis);
//! next.also_known_as = vec!["at://alice.example.org".to_owned()];
//! let update = next.sign(&rotation)?;
//!
//! // What a directory would serve, checked.
//! let state = atlex_identity::plc::verify_chain(&did, &[genesis, update])?;
//! let State::Active(current) = state else { unreachable!() };
//! assert_eq!(current.handle(), Some("alice.example.org"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With feature `resolve`, [`PlcDirectory`] submits operations and reads the
//! audit log.

use std::collections::BTreeMap;

use atlex_core::cbor;
use atlex_core::data::Value;
use atlex_core::types::{Cid, Datetime, Did};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::crypto::{PublicKey, SigningKey};

/// The largest operation a directory accepts, in bytes of DAG-CBOR.
pub const MAX_OPERATION_SIZE: usize = 7500;
/// The most rotation keys an operation may list.
pub const MAX_ROTATION_KEYS: usize = 5;
/// The most verification methods an operation may list.
pub const MAX_VERIFICATION_METHODS: usize = 10;
/// How long after an operation a higher-priority rotation key may still
/// replace it (and everything after it).
pub const RECOVERY_WINDOW: std::time::Duration = std::time::Duration::from_secs(72 * 3600);

/// The operation type of creations and updates.
const OPERATION: &str = "plc_operation";
/// The operation type that deactivates an identity for good.
const TOMBSTONE: &str = "plc_tombstone";
/// The legacy creation format, still found at the start of old logs.
const LEGACY_CREATE: &str = "create";

/// Why an operation cannot be made, or does not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlcError {
    /// The operation is not one: a missing or mistyped field, an unknown
    /// `type`, a key that is not a `did:key`, too many keys, too large.
    #[error("not a valid PLC operation: {0}")]
    Malformed(String),
    /// The signature is not one of the allowed keys'.
    #[error("operation {cid}: the signature is not by any of its allowed rotation keys")]
    BadSignature {
        /// The operation.
        cid: String,
    },
    /// The genesis operation does not hash to the DID.
    #[error("the genesis operation is the one of {derived}, not of {did}")]
    WrongDid {
        /// The DID asked about.
        did: String,
        /// The DID the genesis names.
        derived: String,
    },
    /// The log breaks the rules of the chain: a `prev` naming another
    /// operation, a genesis that is not first, a nullified operation no
    /// recovery explains, an operation after a tombstone.
    #[error("the operation log is not a valid chain: {0}")]
    Chain(String),
}

fn malformed(message: impl Into<String>) -> PlcError {
    PlcError::Malformed(message.into())
}

/// A service of an identity: its `type` and `endpoint`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// `AtprotoPersonalDataServer` for a PDS.
    #[serde(rename = "type")]
    pub kind: String,
    /// The service's URL.
    pub endpoint: String,
}

/// The state an operation sets: an unsigned `plc_operation`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// The keys that control the identity, the most authoritative first, as
    /// `did:key`s (K-256 or P-256).
    pub rotation_keys: Vec<String>,
    /// The identity's keys by name without `#` (`atproto` for the account's
    /// signing key), as `did:key`s.
    pub verification_methods: BTreeMap<String, String>,
    /// The identity's other names: `at://handle` for a handle.
    pub also_known_as: Vec<String>,
    /// The identity's services by name without `#` (`atproto_pds`).
    pub services: BTreeMap<String, Service>,
    /// The CID of the operation this one follows; `None` for a genesis.
    pub prev: Option<String>,
}

/// What an operation sets and how it is signed, as serialized (`type`
/// first, `sig` absent until signed).
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    sig: Option<&'a str>,
}

impl Operation {
    /// A genesis operation for an atproto account: its rotation keys, its
    /// signing key (`#atproto`), its handle (`at://…`) and its PDS
    /// (`#atproto_pds`).
    pub fn atproto(
        rotation_keys: &[PublicKey],
        signing_key: &PublicKey,
        handle: &str,
        pds: &str,
    ) -> Self {
        Self {
            rotation_keys: rotation_keys.iter().map(PublicKey::to_did_key).collect(),
            verification_methods: BTreeMap::from([(
                "atproto".to_owned(),
                signing_key.to_did_key(),
            )]),
            also_known_as: vec![format!("at://{handle}")],
            services: BTreeMap::from([(
                "atproto_pds".to_owned(),
                Service {
                    kind: "AtprotoPersonalDataServer".to_owned(),
                    endpoint: pds.to_owned(),
                },
            )]),
            prev: None,
        }
    }

    /// The same state as an operation following `prev`, to change and
    /// sign.
    pub fn successor(&self, prev: &SignedOperation) -> Self {
        Self {
            prev: Some(prev.cid().to_string()),
            ..self.clone()
        }
    }

    /// The handle, from the first `at://` name.
    pub fn handle(&self) -> Option<&str> {
        self.also_known_as
            .iter()
            .find_map(|name| name.strip_prefix("at://"))
    }

    /// The account's signing key (`#atproto`).
    pub fn signing_key(&self) -> Option<&str> {
        self.verification_methods.get("atproto").map(String::as_str)
    }

    /// The PDS (`#atproto_pds`).
    pub fn pds(&self) -> Option<&str> {
        self.services
            .get("atproto_pds")
            .map(|service| service.endpoint.as_str())
    }

    /// Signs the operation with `key`, which must be one of the rotation
    /// keys of the operation it follows (of this one, for a genesis). The
    /// operation is checked first as [`SignedOperation::from_value`] checks
    /// one read from a directory.
    pub fn sign(&self, key: &SigningKey) -> Result<SignedOperation, PlcError> {
        sign_tagged(OPERATION, self, key)
    }

    /// Checks the limits a directory enforces.
    fn check(&self) -> Result<(), PlcError> {
        if self.rotation_keys.is_empty() || self.rotation_keys.len() > MAX_ROTATION_KEYS {
            return Err(malformed(format!(
                "{} rotation keys; between 1 and {MAX_ROTATION_KEYS} are allowed",
                self.rotation_keys.len()
            )));
        }
        for (i, key) in self.rotation_keys.iter().enumerate() {
            PublicKey::from_did_key(key)
                .map_err(|err| malformed(format!("rotation key {key:?}: {err}")))?;
            if self.rotation_keys[..i].contains(key) {
                return Err(malformed(format!("rotation key {key} is listed twice")));
            }
        }
        if self.verification_methods.len() > MAX_VERIFICATION_METHODS {
            return Err(malformed(format!(
                "{} verification methods; at most {MAX_VERIFICATION_METHODS} are allowed",
                self.verification_methods.len()
            )));
        }
        for (name, key) in &self.verification_methods {
            // Any did:key is allowed here, of any curve, as long as it is
            // one: `did:key:` and a base58btc multibase string.
            let Some(encoded) = key.strip_prefix("did:key:z") else {
                return Err(malformed(format!(
                    "verification method {name}: {key:?} is not a did:key"
                )));
            };
            if multibase::Base::Base58Btc.decode(encoded).is_err() {
                return Err(malformed(format!(
                    "verification method {name}: {key:?} is not base58btc"
                )));
            }
        }
        if let Some(prev) = &self.prev {
            prev.parse::<Cid>()
                .map_err(|err| malformed(format!("prev {prev:?}: {err}")))?;
        }
        Ok(())
    }
}

/// A tombstone following `prev`: it deactivates the identity for good
/// (unless a higher-priority rotation key replaces it within the recovery
/// window). `key` must be one of `prev`'s rotation keys.
pub fn tombstone(prev: &SignedOperation, key: &SigningKey) -> Result<SignedOperation, PlcError> {
    #[derive(Serialize)]
    struct Body {
        prev: String,
    }
    sign_tagged(
        TOMBSTONE,
        &Body {
            prev: prev.cid().to_string(),
        },
        key,
    )
}

fn sign_tagged<T: Serialize>(
    kind: &'static str,
    body: &T,
    key: &SigningKey,
) -> Result<SignedOperation, PlcError> {
    let unsigned = Tagged {
        kind,
        body,
        sig: None,
    };
    let bytes = cbor::to_vec(&unsigned).map_err(|err| malformed(err.to_string()))?;
    let sig = URL_SAFE_NO_PAD.encode(key.sign(&bytes));
    let signed = Tagged {
        kind,
        body,
        sig: Some(&sig),
    };
    let bytes = cbor::to_vec(&signed).map_err(|err| malformed(err.to_string()))?;
    let value = cbor::from_slice::<Value>(&bytes).map_err(|err| malformed(err.to_string()))?;
    SignedOperation::from_value(value)
}

/// What kind an operation is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `plc_operation`: a creation or an update.
    Operation,
    /// `plc_tombstone`: the end of the identity.
    Tombstone,
    /// `create`: the legacy creation format.
    LegacyCreate,
}

/// A signed operation as a directory stores it: every field it carries
/// (fields this version does not know included) takes part in its CID and
/// signature, so it is kept as the data model value it is.
#[derive(Clone, Debug, PartialEq)]
pub struct SignedOperation {
    value: Value,
    kind: Kind,
    /// The DAG-CBOR of the whole operation.
    bytes: Vec<u8>,
    /// The state it sets; `None` for a tombstone.
    state: Option<Operation>,
}

impl SignedOperation {
    /// Reads an operation (from a directory's JSON, through
    /// `serde_json::from_value`, or any data model value) and checks its
    /// form: a known `type`, the fields that type needs, a `sig` in
    /// base64url without padding, keys that are `did:key`s, the size limit.
    /// The signature itself is checked against the log ([`verify_log`]).
    pub fn from_value(value: Value) -> Result<Self, PlcError> {
        let kind = Self::kind_of(&value)?;
        let bytes = cbor::to_vec(&value).map_err(|err| malformed(err.to_string()))?;
        if bytes.len() > MAX_OPERATION_SIZE {
            return Err(malformed(format!(
                "{} bytes of DAG-CBOR; at most {MAX_OPERATION_SIZE} are allowed",
                bytes.len()
            )));
        }
        let mut operation = Self {
            value,
            kind,
            bytes,
            state: None,
        };
        match operation.kind {
            Kind::Tombstone => {
                let Some(prev) = operation.prev() else {
                    return Err(malformed("a tombstone's `prev` is missing or not a string"));
                };
                prev.parse::<Cid>()
                    .map_err(|err| malformed(format!("prev {prev:?}: {err}")))?;
            }
            Kind::Operation => operation.state = Some(operation.operation()?),
            Kind::LegacyCreate => operation.state = Some(operation.legacy_create()?),
        }
        if let Some(state) = &operation.state {
            state.check()?;
        }
        Ok(operation)
    }

    /// The kind an operation's `type` names, once its `sig` is checked for
    /// form.
    fn kind_of(value: &Value) -> Result<Kind, PlcError> {
        let Value::Object(fields) = value else {
            return Err(malformed("an operation is an object"));
        };
        let text = |name: &str| match fields.get(name) {
            Some(Value::String(s)) => Ok(s.as_str()),
            _ => Err(malformed(format!("`{name}` is missing or not a string"))),
        };
        let sig = text("sig")?;
        let decoded = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|err| malformed(format!("`sig` is not base64url without padding: {err}")))?;
        // The encoding is canonical (no bits beyond the bytes): any other
        // spelling would change the CID without changing the signature.
        if URL_SAFE_NO_PAD.encode(&decoded) != sig {
            return Err(malformed("`sig` is not canonical base64url"));
        }
        match text("type")? {
            OPERATION => Ok(Kind::Operation),
            TOMBSTONE => Ok(Kind::Tombstone),
            LEGACY_CREATE => Ok(Kind::LegacyCreate),
            other => Err(malformed(format!("unknown operation type {other:?}"))),
        }
    }

    /// The operation's kind.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The operation as the data model value it is.
    pub fn as_value(&self) -> &Value {
        &self.value
    }

    /// Its CID, which the next operation's `prev` names.
    pub fn cid(&self) -> Cid {
        cbor::cid_for(cbor::DAG_CBOR, &self.bytes)
    }

    /// The CID of the operation it follows; `None` for a genesis.
    pub fn prev(&self) -> Option<&str> {
        match self.field("prev") {
            Some(Value::String(prev)) => Some(prev),
            _ => None,
        }
    }

    /// The DID this operation creates, were it a genesis: `did:plc:` and
    /// the first 24 characters of the base32 of the SHA-256 of its DAG-CBOR.
    pub fn did(&self) -> Result<Did, PlcError> {
        if self.prev().is_some() {
            return Err(malformed(
                "only a genesis operation (no `prev`) names a DID",
            ));
        }
        let cid = self.cid();
        let digest = cid.as_cid().hash().digest();
        let encoded = data_encoding::BASE32_NOPAD
            .encode(digest)
            .to_ascii_lowercase();
        format!("did:plc:{}", &encoded[..24])
            .parse()
            .map_err(|err| malformed(format!("derived DID: {err}")))
    }

    /// The state it sets (a legacy creation read as the operation it
    /// stands for); `None` for a tombstone.
    pub fn state(&self) -> Option<&Operation> {
        self.state.as_ref()
    }

    /// Checks the signature against `keys` (`did:key`s, in priority
    /// order) and returns the index of the key that signed it.
    pub fn verify(&self, keys: &[String]) -> Result<usize, PlcError> {
        let Value::Object(fields) = &self.value else {
            return Err(malformed("an operation is an object"));
        };
        let mut unsigned = fields.clone();
        let sig = match unsigned.remove("sig") {
            Some(Value::String(sig)) => sig,
            _ => return Err(malformed("`sig` is missing")),
        };
        let bytes =
            cbor::to_vec(&Value::Object(unsigned)).map_err(|err| malformed(err.to_string()))?;
        let signature = URL_SAFE_NO_PAD
            .decode(&sig)
            .map_err(|err| malformed(format!("`sig`: {err}")))?;
        keys.iter()
            .position(|key| {
                PublicKey::from_did_key(key).is_ok_and(|key| key.verify(&bytes, &signature).is_ok())
            })
            .ok_or_else(|| PlcError::BadSignature {
                cid: self.cid().to_string(),
            })
    }

    fn field(&self, name: &str) -> Option<&Value> {
        match &self.value {
            Value::Object(fields) => fields.get(name),
            _ => None,
        }
    }

    fn operation(&self) -> Result<Operation, PlcError> {
        let Value::Object(fields) = &self.value else {
            return Err(malformed("an operation is an object"));
        };
        let strings = |name: &str| -> Result<Vec<String>, PlcError> {
            match fields.get(name) {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| match item {
                        Value::String(s) => Ok(s.clone()),
                        _ => Err(malformed(format!(
                            "`{name}` holds a value that is not a string"
                        ))),
                    })
                    .collect(),
                _ => Err(malformed(format!("`{name}` is missing or not an array"))),
            }
        };
        let map = |name: &str| match fields.get(name) {
            Some(Value::Object(map)) => Ok(map),
            _ => Err(malformed(format!("`{name}` is missing or not an object"))),
        };
        let mut verification_methods = BTreeMap::new();
        for (key, value) in map("verificationMethods")? {
            let Value::String(value) = value else {
                return Err(malformed(format!(
                    "verification method {key} is not a string"
                )));
            };
            verification_methods.insert(key.clone(), value.clone());
        }
        let mut services = BTreeMap::new();
        for (key, value) in map("services")? {
            let service = match value {
                Value::Object(service) => match (service.get("type"), service.get("endpoint")) {
                    (Some(Value::String(kind)), Some(Value::String(endpoint))) => Service {
                        kind: kind.clone(),
                        endpoint: endpoint.clone(),
                    },
                    _ => {
                        return Err(malformed(format!(
                            "service {key} lacks `type` or `endpoint`"
                        )));
                    }
                },
                _ => return Err(malformed(format!("service {key} is not an object"))),
            };
            services.insert(key.clone(), service);
        }
        let prev = match fields.get("prev") {
            Some(Value::Null) => None,
            Some(Value::String(prev)) => Some(prev.clone()),
            // `prev` is present, `null` for a genesis.
            _ => return Err(malformed("`prev` is missing or neither null nor a string")),
        };
        Ok(Operation {
            rotation_keys: strings("rotationKeys")?,
            verification_methods,
            also_known_as: strings("alsoKnownAs")?,
            services,
            prev,
        })
    }

    /// A legacy `create`: its recovery and signing keys rotate (in that
    /// order), the signing key signs for the account, the handle and the
    /// PDS are the usual names.
    fn legacy_create(&self) -> Result<Operation, PlcError> {
        let text = |name: &str| match self.field(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(malformed(format!("`{name}` is missing or not a string"))),
        };
        if self.field("prev") != Some(&Value::Null) {
            return Err(malformed("a legacy creation has `prev: null`"));
        }
        let signing_key = text("signingKey")?;
        let recovery_key = text("recoveryKey")?;
        let mut rotation_keys = vec![recovery_key];
        if !rotation_keys.contains(&signing_key) {
            rotation_keys.push(signing_key.clone());
        }
        Ok(Operation {
            rotation_keys,
            verification_methods: BTreeMap::from([("atproto".to_owned(), signing_key)]),
            also_known_as: vec![format!("at://{}", text("handle")?)],
            services: BTreeMap::from([(
                "atproto_pds".to_owned(),
                Service {
                    kind: "AtprotoPersonalDataServer".to_owned(),
                    endpoint: text("service")?,
                },
            )]),
            prev: None,
        })
    }
}

impl Serialize for SignedOperation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SignedOperation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_value(value).map_err(serde::de::Error::custom)
    }
}

/// An identity's state at the end of its log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Active, with what its last operation set.
    Active(Operation),
    /// Deactivated by a tombstone.
    Tombstoned,
}

/// One entry of a directory's audit log (`GET /{did}/log/audit`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// The identity.
    pub did: String,
    /// The operation.
    pub operation: SignedOperation,
    /// Its CID, as the directory computed it.
    pub cid: String,
    /// Whether a recovery replaced it: it is kept in the log but no longer
    /// counts.
    pub nullified: bool,
    /// When the directory accepted it.
    pub created_at: Datetime,
}

/// Verifies a chain of operations with no nullified ones: the genesis
/// names `did`, each next one names the one before it and is signed by one
/// of its rotation keys. Returns the state it ends in.
pub fn verify_chain(did: &Did, operations: &[SignedOperation]) -> Result<State, PlcError> {
    let mut last: Option<(State, String)> = None;
    for operation in operations {
        let previous = last.as_ref().map(|(state, cid)| (state, cid.as_str()));
        let (state, _) = apply(did, previous, operation)?;
        last = Some((state, operation.cid().to_string()));
    }
    last.map(|(state, _)| state)
        .ok_or_else(|| PlcError::Chain("the log is empty".to_owned()))
}

/// Verifies a directory's audit log of `did`, nullified operations
/// included: every operation's CID is the one the directory gives, the
/// valid operations form a chain ([`verify_chain`]), and each nullified
/// operation follows an operation of that chain (or a nullified one, in a
/// run) with a valid signature, where the first of its run was replaced
/// within [`RECOVERY_WINDOW`] by an operation of the chain signed with a
/// rotation key of higher priority. Returns the state the chain ends in.
pub fn verify_log(did: &Did, log: &[LogEntry]) -> Result<State, PlcError> {
    let chain_error = PlcError::Chain;
    for entry in log {
        if entry.did != did.as_str() {
            return Err(chain_error(format!(
                "an entry of {} in the log of {did}",
                entry.did
            )));
        }
        let cid = entry.operation.cid().to_string();
        if entry.cid != cid {
            return Err(chain_error(format!(
                "the directory gives {} for the operation whose CID is {cid}",
                entry.cid
            )));
        }
    }
    let mut chain = valid_chain(did, log)?;
    // The nullified operations, by CID: the state each sets.
    let mut nullified: BTreeMap<&str, State> = BTreeMap::new();
    for entry in log.iter().filter(|entry| entry.nullified) {
        let Some(prev) = entry.operation.prev() else {
            return Err(chain_error(format!(
                "nullified operation {} is a genesis",
                entry.cid
            )));
        };
        let fork = chain.iter().position(|link| link.cid == prev);
        let before = match fork {
            Some(at) => &chain[at].state,
            None => nullified.get(prev).ok_or_else(|| {
                chain_error(format!(
                    "nullified operation {} follows {prev}, which is not in the log before it",
                    entry.cid
                ))
            })?,
        };
        let (state, signer) = apply(did, Some((before, prev)), &entry.operation)?;
        if let Some(at) = fork {
            // The first of a run: the operation of the chain that follows
            // the same operation replaced it.
            let Some(recovery) = chain.get(at + 1) else {
                return Err(chain_error(format!(
                    "nullified operation {} follows the last valid operation: nothing replaced it",
                    entry.cid
                )));
            };
            if recovery.signer >= signer {
                return Err(chain_error(format!(
                    "operation {} replaced nullified operation {} with a rotation key of no higher priority",
                    recovery.cid, entry.cid
                )));
            }
            let elapsed = micros_between(&entry.created_at, &recovery.entry.created_at);
            if !(0..=RECOVERY_WINDOW_MICROS).contains(&elapsed) {
                return Err(chain_error(format!(
                    "operation {} replaced nullified operation {} outside the recovery window",
                    recovery.cid, entry.cid
                )));
            }
        }
        nullified.insert(&entry.cid, state);
    }
    chain
        .pop()
        .map(|link| link.state)
        .ok_or_else(|| chain_error("the log has no valid operation".to_owned()))
}

/// An operation of a log's valid chain, replayed.
struct Link<'a> {
    /// Its index in the log.
    index: usize,
    entry: &'a LogEntry,
    /// Its CID.
    cid: String,
    /// The state it sets.
    state: State,
    /// The index of the rotation key that signed it.
    signer: usize,
}

/// The operations of `log` that are not nullified, each applied to the one
/// before it.
fn valid_chain<'a>(did: &Did, log: &'a [LogEntry]) -> Result<Vec<Link<'a>>, PlcError> {
    let mut chain: Vec<Link<'a>> = Vec::new();
    for (index, entry) in log.iter().enumerate().filter(|(_, entry)| !entry.nullified) {
        let previous = chain.last().map(|link| (&link.state, link.cid.as_str()));
        let (state, signer) = apply(did, previous, &entry.operation)?;
        chain.push(Link {
            index,
            entry,
            cid: entry.operation.cid().to_string(),
            state,
            signer,
        });
    }
    Ok(chain)
}

/// [`RECOVERY_WINDOW`] in microseconds.
const RECOVERY_WINDOW_MICROS: i64 = RECOVERY_WINDOW.as_secs() as i64 * 1_000_000;

/// Microseconds from `from` to `to` (negative when `to` is earlier).
fn micros_between(from: &Datetime, to: &Datetime) -> i64 {
    to.timestamp_micros()
        .saturating_sub(from.timestamp_micros())
}

/// What a directory does with `operation`, submitted for `did` at `at`,
/// given the `log` it holds: whether it takes it, and which entries of the
/// log it then nullifies (their indices). An operation taken follows the
/// last valid one, or (a recovery) an earlier valid one, when its signing
/// key has a higher priority than the key of the operation it replaces and
/// that operation is at most [`RECOVERY_WINDOW`] old; everything after the
/// fork is nullified.
pub fn accept(
    did: &Did,
    log: &[LogEntry],
    operation: &SignedOperation,
    at: &Datetime,
) -> Result<Vec<usize>, PlcError> {
    let chain = valid_chain(did, log)?;
    let Some(prev) = operation.prev() else {
        if chain.is_empty() {
            apply(did, None, operation)?;
            return Ok(Vec::new());
        }
        return Err(PlcError::Chain(format!("{did} already exists")));
    };
    let Some(fork) = chain.iter().position(|link| link.cid == prev) else {
        return Err(PlcError::Chain(format!(
            "{prev} is not a valid operation of {did}"
        )));
    };
    let base = &chain[fork];
    let (_, signer) = apply(did, Some((&base.state, &base.cid)), operation)?;
    let Some(replaced) = chain.get(fork + 1) else {
        return Ok(Vec::new());
    };
    if signer >= replaced.signer {
        return Err(PlcError::Chain(format!(
            "{prev} is not the last operation of {did}, and a recovery from it needs a rotation key of higher priority than the one that signed the operation after it"
        )));
    }
    if micros_between(&replaced.entry.created_at, at) > RECOVERY_WINDOW_MICROS {
        return Err(PlcError::Chain(format!(
            "the operation after {prev} is older than the recovery window"
        )));
    }
    Ok(chain[fork + 1..].iter().map(|link| link.index).collect())
}

/// Applies an operation to the state before it and that state's
/// operation's CID (`None` for a genesis): the state it sets and the index
/// of the rotation key that signed it.
fn apply(
    did: &Did,
    previous: Option<(&State, &str)>,
    operation: &SignedOperation,
) -> Result<(State, usize), PlcError> {
    let cid = operation.cid();
    let next = match operation.state() {
        None => State::Tombstoned,
        Some(next) => State::Active(next.clone()),
    };
    let keys = match (previous, &next) {
        (None, State::Active(genesis)) if operation.prev().is_none() => {
            let derived = operation.did()?;
            if &derived != did {
                return Err(PlcError::WrongDid {
                    did: did.to_string(),
                    derived: derived.to_string(),
                });
            }
            &genesis.rotation_keys
        }
        (None, _) => {
            return Err(PlcError::Chain(format!(
                "the first operation, {cid}, is not a genesis"
            )));
        }
        (Some((State::Tombstoned, _)), _) => {
            return Err(PlcError::Chain(format!(
                "operation {cid} follows a tombstone"
            )));
        }
        (Some((State::Active(before), before_cid)), _) => {
            if operation.prev() != Some(before_cid) {
                return Err(PlcError::Chain(format!(
                    "operation {cid} names {} as the one it follows, not {before_cid}",
                    operation.prev().unwrap_or("nothing")
                )));
            }
            &before.rotation_keys
        }
    };
    let signer = operation.verify(keys)?;
    Ok((next, signer))
}

#[cfg(feature = "resolve")]
impl Operation {
    /// The DID document this state gives `did`, as a directory renders it:
    /// each verification method a `Multikey` (`#<name>`), each service
    /// `#<name>`. Feature `resolve`.
    pub fn to_document(&self, did: &Did) -> crate::identity::DidDocument {
        use crate::identity::{DidDocument, VerificationMethod};
        let mut document =
            self.services
                .iter()
                .fold(DidDocument::new(did), |document, (name, service)| {
                    document.with_service((name, &service.kind), &service.endpoint)
                });
        document.also_known_as = self.also_known_as.clone();
        // Any did:key is allowed here, so the key is not parsed (as
        // `DidDocument::with_key` would): its multibase is taken as written.
        document.verification_method = self
            .verification_methods
            .iter()
            .map(|(name, key)| VerificationMethod {
                id: format!("{did}#{name}"),
                kind: "Multikey".to_owned(),
                controller: did.to_string(),
                public_key_multibase: Some(key.strip_prefix("did:key:").unwrap_or(key).to_owned()),
            })
            .collect();
        document
    }
}

#[cfg(feature = "resolve")]
pub use directory::{DirectoryError, PlcDirectory};

#[cfg(feature = "resolve")]
mod directory {
    use std::time::Duration;

    use atlex_core::types::Did;

    use super::{LogEntry, PlcError, SignedOperation, State, verify_log};
    use crate::identity::read_bounded;

    /// The most bytes of an audit log read by default.
    const DEFAULT_MAX_LOG: usize = 16 * 1024 * 1024;
    /// The most bytes of an error answer kept for the message.
    const MAX_ERROR_BODY: usize = 4096;

    /// Why a directory request failed.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum DirectoryError {
        /// The request did not get an answer (connection, timeout, a body
        /// larger than allowed).
        #[error("PLC directory: {0}")]
        Transport(String),
        /// The directory refused: its status and what it said.
        #[error("PLC directory answered HTTP {status}: {message}")]
        Refused {
            /// The HTTP status.
            status: u16,
            /// The answer's `message`, or its body.
            message: String,
        },
        /// The answer is not what the directory serves (not JSON, not a log).
        #[error("PLC directory: the answer is not an audit log: {0}")]
        BadAnswer(String),
        /// The log does not verify: the directory served operations its
        /// rules forbid.
        #[error("PLC directory: {0}")]
        Invalid(#[from] PlcError),
    }

    /// A PLC directory: operations submitted, logs read and verified.
    #[derive(Clone, Debug)]
    pub struct PlcDirectory {
        http: reqwest::Client,
        url: String,
        timeout: Duration,
        max_log: usize,
    }

    impl PlcDirectory {
        /// The directory at `url` (`https://plc.directory`), with a 10 s
        /// timeout per request.
        pub fn new(url: impl Into<String>) -> Result<Self, DirectoryError> {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("atlex/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|err| DirectoryError::Transport(err.to_string()))?;
            Ok(Self {
                http,
                url: url.into().trim_end_matches('/').to_owned(),
                timeout: Duration::from_secs(10),
                max_log: DEFAULT_MAX_LOG,
            })
        }

        /// How long each request may take.
        pub fn timeout(mut self, timeout: Duration) -> Self {
            self.timeout = timeout;
            self
        }

        /// The most bytes of an audit log read (16 MiB by default).
        pub fn max_log_size(mut self, bytes: usize) -> Self {
            self.max_log = bytes;
            self
        }

        /// Submits `operation` for `did` (`POST /{did}`): a genesis creates
        /// the identity, any other operation updates it. The directory
        /// checks it against the log and refuses what does not follow.
        pub async fn submit(
            &self,
            did: &Did,
            operation: &SignedOperation,
        ) -> Result<(), DirectoryError> {
            let body = serde_json::to_vec(operation)
                .map_err(|err| DirectoryError::BadAnswer(err.to_string()))?;
            let request = self
                .http
                .post(format!("{}/{did}", self.url))
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send();
            let response = self.within(request).await?;
            self.body(response, MAX_ERROR_BODY).await.map(|_| ())
        }

        /// The audit log of `did` (`GET /{did}/log/audit`), unverified: every
        /// operation, nullified ones included, in the directory's order.
        pub async fn audit_log(&self, did: &Did) -> Result<Vec<LogEntry>, DirectoryError> {
            let request = self
                .http
                .get(format!("{}/{did}/log/audit", self.url))
                .send();
            let response = self.within(request).await?;
            let body = self.body(response, self.max_log).await?;
            serde_json::from_slice(&body).map_err(|err| DirectoryError::BadAnswer(err.to_string()))
        }

        /// The audit log of `did`, verified ([`verify_log`]), and the state
        /// it ends in with the last valid operation (the one an update
        /// follows).
        pub async fn verified_state(
            &self,
            did: &Did,
        ) -> Result<(State, SignedOperation), DirectoryError> {
            let log = self.audit_log(did).await?;
            let state = verify_log(did, &log)?;
            let last = log
                .into_iter()
                .rev()
                .find(|entry| !entry.nullified)
                .map(|entry| entry.operation)
                .ok_or_else(|| DirectoryError::BadAnswer("an empty log".to_owned()))?;
            Ok((state, last))
        }

        async fn within(
            &self,
            request: impl Future<Output = reqwest::Result<reqwest::Response>>,
        ) -> Result<reqwest::Response, DirectoryError> {
            match tokio::time::timeout(self.timeout, request).await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(err)) => Err(DirectoryError::Transport(err.to_string())),
                Err(_) => Err(DirectoryError::Transport(format!(
                    "no answer within {:?}",
                    self.timeout
                ))),
            }
        }

        /// A successful answer's body, at most `limit` bytes; a refusal as
        /// [`DirectoryError::Refused`].
        async fn body(
            &self,
            response: reqwest::Response,
            limit: usize,
        ) -> Result<Vec<u8>, DirectoryError> {
            let status = response.status();
            let limit = if status.is_success() {
                limit
            } else {
                MAX_ERROR_BODY
            };
            let read = tokio::time::timeout(self.timeout, read_bounded(response, limit));
            let body = match read.await {
                Ok(Ok(body)) => body,
                Ok(Err(err)) => return Err(DirectoryError::Transport(err.to_string())),
                Err(_) => {
                    return Err(DirectoryError::Transport(format!(
                        "the answer did not arrive within {:?}",
                        self.timeout
                    )));
                }
            };
            if status.is_success() {
                return Ok(body);
            }
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|json| json.get("message")?.as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            Err(DirectoryError::Refused {
                status: status.as_u16(),
                message,
            })
        }
    }
}
