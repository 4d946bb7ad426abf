//! DID documents, and what atproto reads from them: the signing key, the
//! claimed handle and the PDS.

use serde::{Deserialize, Serialize};

use super::IdentityError;
use crate::crypto::{Curve, KeyError, PublicKey};
use atlex_core::types::{Did, Handle};

/// The fragment of the atproto signing key: `#atproto`.
pub const ATPROTO_KEY: &str = "atproto";
/// The fragment of the PDS service entry: `#atproto_pds`.
pub const ATPROTO_PDS: &str = "atproto_pds";
/// The `type` of the PDS service entry.
pub const PDS_SERVICE_TYPE: &str = "AtprotoPersonalDataServer";

/// A DID document, as resolved for a DID: the parts atproto uses, with the
/// rest of each entry ignored.
///
/// Read with [`DidDocument::parse`], which checks that it is the document of
/// the DID asked for; the accessors then find the atproto signing key
/// ([`signing_key`](Self::signing_key)), the claimed handle
/// ([`handle`](Self::handle)) and the PDS ([`pds`](Self::pds)), each as the
/// [DID specification](https://atproto.com/specs/did) says: the first
/// matching entry, with relative (`#atproto`) or absolute
/// (`did:plc:…#atproto`) ids.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DidDocument {
    /// The DID the document is about.
    pub id: String,
    /// URIs of the subject; a handle is `at://<handle>`.
    #[serde(rename = "alsoKnownAs", default, skip_serializing_if = "Vec::is_empty")]
    pub also_known_as: Vec<String>,
    /// Public keys.
    #[serde(
        rename = "verificationMethod",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub verification_method: Vec<VerificationMethod>,
    /// Service endpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service: Vec<Service>,
}

/// An entry of `verificationMethod`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerificationMethod {
    /// `#atproto` or `did:…#atproto`.
    pub id: String,
    /// `Multikey`, or a deprecated curve-specific type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The DID controlling the key.
    pub controller: String,
    /// The key, in multibase.
    #[serde(
        rename = "publicKeyMultibase",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub public_key_multibase: Option<String>,
}

/// An entry of `service`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// `#atproto_pds` or `did:…#atproto_pds`.
    pub id: String,
    /// `AtprotoPersonalDataServer`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// A URL, or (in DID documents of other ecosystems) a map or set of them.
    #[serde(rename = "serviceEndpoint")]
    pub service_endpoint: serde_json::Value,
}

/// The fragment and `type` of a feed generator's service entry
/// (`#bsky_fg`, `BskyFeedGenerator`).
pub const FEED_GENERATOR_SERVICE: (&str, &str) = ("bsky_fg", "BskyFeedGenerator");
/// The fragment and `type` of a labeler's service entry
/// (`#atproto_labeler`, `AtprotoLabeler`).
pub const LABELER_SERVICE: (&str, &str) = ("atproto_labeler", "AtprotoLabeler");

impl DidDocument {
    /// An empty document of `did`, to fill with the `with_*` methods: a
    /// service's own `did:web` document, served at
    /// `/.well-known/did.json` of its host.
    ///
    /// ```
    /// use atlex_core::types::Did;
    /// use atlex_identity::crypto::{Curve, SigningKey};
    /// use atlex_identity::identity::{DidDocument, LABELER_SERVICE};
    ///
    /// let did = Did::new("did:web:labeler.example.com")?;
    /// let key = SigningKey::generate(Curve::K256)?;
    /// let document = DidDocument::new(&did)
    ///     .with_key("atproto_label", &key.public_key())
    ///     .with_service(LABELER_SERVICE, "https://labeler.example.com");
    /// let json = serde_json::to_vec(&document)?;
    /// // What a resolver reads back.
    /// let read = DidDocument::parse(&did, &json)?;
    /// assert_eq!(read.verification_key("atproto_label")?, key.public_key());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(did: &Did) -> Self {
        Self {
            id: did.to_string(),
            also_known_as: Vec::new(),
            verification_method: Vec::new(),
            service: Vec::new(),
        }
    }

    /// Claims `handle` (`at://<handle>` in `alsoKnownAs`).
    pub fn with_handle(mut self, handle: &Handle) -> Self {
        self.also_known_as.push(format!("at://{handle}"));
        self
    }

    /// Adds `key` as verification method `#<fragment>` (`Multikey`,
    /// controlled by the document's DID): [`ATPROTO_KEY`] for the signing
    /// key of an account or a service's own tokens, `atproto_label` for a
    /// labeler's label key.
    pub fn with_key(mut self, fragment: &str, key: &PublicKey) -> Self {
        self.verification_method.push(VerificationMethod {
            id: format!("{}#{fragment}", self.id),
            kind: "Multikey".to_owned(),
            controller: self.id.clone(),
            public_key_multibase: Some(key.to_multikey()),
        });
        self
    }

    /// Adds service entry `#<fragment>` of `type` `kind` at `endpoint`
    /// ([`FEED_GENERATOR_SERVICE`], [`LABELER_SERVICE`], or the PDS's
    /// [`ATPROTO_PDS`] and [`PDS_SERVICE_TYPE`]).
    pub fn with_service(mut self, (fragment, kind): (&str, &str), endpoint: &str) -> Self {
        self.service.push(Service {
            id: format!("#{fragment}"),
            kind: kind.to_owned(),
            service_endpoint: serde_json::Value::String(endpoint.to_owned()),
        });
        self
    }

    /// Reads the JSON of `did`'s document, checking that its `id` is `did`.
    /// A document that is not JSON, lacks a required field or has one of the
    /// wrong type is [`IdentityError::MalformedDocument`], naming where.
    pub fn parse(did: &Did, json: &[u8]) -> Result<Self, IdentityError> {
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let document: Self =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
                let path = err.path().to_string();
                let inner = err.into_inner();
                IdentityError::MalformedDocument {
                    did: did.to_string(),
                    reason: if path == "." {
                        inner.to_string()
                    } else {
                        format!("{path}: {inner}")
                    },
                }
            })?;
        deserializer
            .end()
            .map_err(|err| IdentityError::MalformedDocument {
                did: did.to_string(),
                reason: err.to_string(),
            })?;
        if document.id != did.as_str() {
            return Err(IdentityError::WrongDocument {
                did: did.to_string(),
                found: document.id,
            });
        }
        Ok(document)
    }

    /// Whether an entry id names fragment `name` of this document: `#name`
    /// or `<id>#name`.
    fn is_fragment(&self, id: &str, name: &str) -> bool {
        names_fragment(&self.id, id, name)
    }

    /// The public key of verification method `#<fragment>` (`atproto` for
    /// the signing key, `atproto_label` for a labeler's): the first entry
    /// with that id, controlled by the document's DID, whose key reads.
    ///
    /// `Multikey` entries hold a multikey; the deprecated
    /// `EcdsaSecp256k1VerificationKey2019` and
    /// `EcdsaSecp256r1VerificationKey2019` hold the point alone.
    pub fn verification_key(&self, fragment: &str) -> Result<PublicKey, IdentityError> {
        let mut first_error = None;
        for method in &self.verification_method {
            if !self.is_fragment(&method.id, fragment) {
                continue;
            }
            match self.read_key(method) {
                Ok(key) => return Ok(key),
                Err(reason) => {
                    first_error.get_or_insert(reason);
                }
            }
        }
        Err(match first_error {
            Some(reason) => IdentityError::BadKey {
                did: self.id.clone(),
                fragment: fragment.to_owned(),
                reason,
            },
            None => IdentityError::NoKey {
                did: self.id.clone(),
                fragment: fragment.to_owned(),
            },
        })
    }

    fn read_key(&self, method: &VerificationMethod) -> Result<PublicKey, String> {
        if method.controller != self.id {
            return Err(format!(
                "its controller is {:?}, not the document's DID",
                method.controller
            ));
        }
        let Some(multibase) = &method.public_key_multibase else {
            return Err("it has no publicKeyMultibase".to_owned());
        };
        let key = if method.kind == "Multikey" {
            PublicKey::from_multikey(multibase)
        } else if let Some(curve) = Curve::from_legacy_method_type(&method.kind) {
            PublicKey::from_legacy_multibase(curve, multibase)
        } else {
            return Err(format!(
                "its type {:?} is not a known key type",
                method.kind
            ));
        };
        key.map_err(|err: KeyError| err.to_string())
    }

    /// The atproto signing key (`#atproto`), which signs the account's
    /// repository commits and service-auth tokens.
    pub fn signing_key(&self) -> Result<PublicKey, IdentityError> {
        self.verification_key(ATPROTO_KEY)
    }

    /// The handle the document claims: the first `at://` entry of
    /// `alsoKnownAs` that is a valid handle. Whether it is the account's
    /// handle takes resolving it back ([`Resolver::resolve`]).
    ///
    /// [`Resolver::resolve`]: super::Resolver::resolve
    pub fn handle(&self) -> Option<Handle> {
        self.also_known_as
            .iter()
            .filter_map(|uri| uri.strip_prefix("at://"))
            .find_map(|handle| Handle::new(handle).ok())
    }

    /// The endpoint of service `#<fragment>` when its type is `kind`: the
    /// first such entry whose endpoint is an `http` or `https` URL.
    pub fn service_endpoint(&self, fragment: &str, kind: &str) -> Option<&str> {
        self.service
            .iter()
            .filter(|service| self.is_fragment(&service.id, fragment) && service.kind == kind)
            .find_map(|service| {
                let url = service.service_endpoint.as_str()?;
                let parsed = reqwest::Url::parse(url).ok()?;
                (matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some())
                    .then_some(url)
            })
    }

    /// The account's PDS (`#atproto_pds` of type
    /// `AtprotoPersonalDataServer`).
    pub fn pds(&self) -> Option<&str> {
        self.service_endpoint(ATPROTO_PDS, PDS_SERVICE_TYPE)
    }
}

/// Whether entry id `id` of `did`'s document names fragment `name`: `#name`
/// or `<did>#name`.
pub(super) fn names_fragment(did: &str, id: &str, name: &str) -> bool {
    let fragment = match id.split_once('#') {
        Some(("", fragment)) => fragment,
        Some((owner, fragment)) if owner == did => fragment,
        _ => return false,
    };
    fragment == name
}

#[cfg(test)]
mod tests {
    use super::*;

    const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
    const KEY: &str = "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF";

    fn did() -> Did {
        Did::new(DID).unwrap()
    }

    fn parse(json: serde_json::Value) -> Result<DidDocument, IdentityError> {
        DidDocument::parse(&did(), json.to_string().as_bytes())
    }

    #[test]
    fn reads_key_handle_and_pds() {
        let doc = parse(serde_json::json!({
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": DID,
            "alsoKnownAs": ["https://example.com", "at://not a handle", "at://alice.example.com", "at://bob.example.com"],
            "verificationMethod": [
                {"id": "#other", "type": "Multikey", "controller": DID, "publicKeyMultibase": "zbad"},
                {"id": format!("{DID}#atproto"), "type": "Multikey", "controller": DID, "publicKeyMultibase": KEY},
            ],
            "service": [
                {"id": "#atproto_pds", "type": "Other", "serviceEndpoint": "https://wrong.example.com"},
                {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "ftp://x"},
                {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": {"a": "b"}},
                {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://pds.example.com"},
            ],
        }))
        .unwrap();
        assert_eq!(doc.signing_key().unwrap().to_multikey(), KEY);
        assert_eq!(doc.handle().unwrap().as_str(), "alice.example.com");
        assert_eq!(doc.pds(), Some("https://pds.example.com"));
    }

    #[test]
    fn reads_the_legacy_key_form() {
        // The example of the DID specification: the same key in both forms.
        let doc = parse(serde_json::json!({
            "id": DID,
            "verificationMethod": [{
                "id": "#atproto",
                "type": "EcdsaSecp256k1VerificationKey2019",
                "controller": DID,
                "publicKeyMultibase": "zQYEBzXeuTM9UR3rfvNag6L3RNAs5pQZyYPsomTsgQhsxLdEgCrPTLgFna8yqCnxPpNT7DBk6Ym3dgPKNu86vt9GR",
            }],
        }))
        .unwrap();
        assert_eq!(doc.signing_key().unwrap().to_multikey(), KEY);
    }

    #[test]
    fn missing_and_bad_keys_say_why() {
        let no_key = parse(serde_json::json!({"id": DID})).unwrap();
        assert!(matches!(
            no_key.signing_key(),
            Err(IdentityError::NoKey { .. })
        ));
        assert_eq!(no_key.handle(), None);
        assert_eq!(no_key.pds(), None);

        for (method, expected) in [
            (
                serde_json::json!({"id": "#atproto", "type": "Multikey", "controller": "did:plc:other", "publicKeyMultibase": KEY}),
                "controller",
            ),
            (
                serde_json::json!({"id": "#atproto", "type": "Multikey", "controller": DID}),
                "no publicKeyMultibase",
            ),
            (
                serde_json::json!({"id": "#atproto", "type": "Ed25519VerificationKey2020", "controller": DID, "publicKeyMultibase": KEY}),
                "not a known key type",
            ),
            (
                serde_json::json!({"id": "#atproto", "type": "Multikey", "controller": DID, "publicKeyMultibase": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}),
                "unsupported key type",
            ),
        ] {
            let doc =
                parse(serde_json::json!({"id": DID, "verificationMethod": [method]})).unwrap();
            match doc.signing_key() {
                Err(IdentityError::BadKey { reason, .. }) => {
                    assert!(reason.contains(expected), "{reason}")
                }
                other => panic!("{other:?}"),
            }
        }
        // A key of another document is not this one's.
        let doc = parse(serde_json::json!({"id": DID, "verificationMethod": [
            {"id": "did:plc:other#atproto", "type": "Multikey", "controller": DID, "publicKeyMultibase": KEY}
        ]}))
        .unwrap();
        assert!(matches!(
            doc.signing_key(),
            Err(IdentityError::NoKey { .. })
        ));
    }

    #[test]
    fn malformed_documents_name_the_problem() {
        let cases = [
            (&b"not json"[..], "expected"),
            (br#"{"alsoKnownAs": []}"#, "missing field `id`"),
            (
                br#"{"id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "verificationMethod": [{"id": 5}]}"#,
                "verificationMethod[0].id",
            ),
            (
                br#"{"id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "alsoKnownAs": "at://a.b"}"#,
                "alsoKnownAs",
            ),
            (
                br#"{"id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz"} trailing"#,
                "trailing",
            ),
        ];
        for (json, expected) in cases {
            match DidDocument::parse(&did(), json) {
                Err(IdentityError::MalformedDocument { reason, .. }) => {
                    assert!(reason.contains(expected), "{reason}")
                }
                other => panic!("{other:?}"),
            }
        }
        match DidDocument::parse(&did(), br#"{"id": "did:plc:someoneelse"}"#) {
            Err(IdentityError::WrongDocument { found, .. }) => {
                assert_eq!(found, "did:plc:someoneelse")
            }
            other => panic!("{other:?}"),
        }
    }
}
