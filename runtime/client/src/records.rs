//! Typed record calls for any record type, generated from the upstream
//! lexicons or from an application's own: creating (`createRecord`),
//! writing (`putRecord`), deleting (`deleteRecord`) and reading
//! (`getRecord`) one record, and several writes in one commit
//! (`applyWrites`), all of `com.atproto.repo`.
//!
//! The runtime cannot depend on the generated bindings (they depend on it),
//! so the five endpoints are written here by hand, with only the fields the
//! client sends and reads; a test checks that they agree with the lexicons.
//! The record goes into the request body as its `Serialize` impl writes it,
//! with the record type's `$type` first, and its collection is the record
//! type's NSID: collection, `$type` and value cannot disagree.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Client, Error};
use atlex_core::data::{Record, RecordKeyKind, RecordOf};
use atlex_core::types::{AtIdentifier, AtUri, Cid, RecordKey, Tid};
use atlex_core::validate::{Validate, Validator};
use atlex_core::xrpc::{
    DecodeError, EncodeError, Endpoint, EndpointKind, Json, NoBody, ParamsError, QueryReader,
    QueryWriter,
};

declared_errors! {
    /// The declared errors of `com.atproto.repo.createRecord`.
    CreateRecordError { InvalidSwap }
}
declared_errors! {
    /// The declared errors of `com.atproto.repo.putRecord`.
    PutRecordError { InvalidSwap }
}
declared_errors! {
    /// The declared errors of `com.atproto.repo.deleteRecord`.
    DeleteRecordError { InvalidSwap }
}
declared_errors! {
    /// The declared errors of `com.atproto.repo.getRecord`.
    GetRecordError { RecordNotFound }
}
declared_errors! {
    /// The declared errors of `com.atproto.repo.applyWrites`.
    ApplyWritesError { InvalidSwap }
}

/// The commit a write made (`com.atproto.repo.defs#commitMeta`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CommitMeta {
    /// The commit's CID.
    pub cid: Cid,
    /// The repository revision it made.
    pub rev: Tid,
}

/// Whether the server checked a written record against its lexicon.
#[derive(Clone, Debug, PartialEq, Eq, Hash, atlex_core::rt::StringEnum)]
#[lex(crate = "::atlex_core")]
#[non_exhaustive]
pub enum ValidationStatus {
    /// `valid`: checked, and valid.
    #[lex("valid")]
    Valid,
    /// `unknown`: not checked (the server does not know the lexicon, or was
    /// asked not to).
    #[lex("unknown")]
    Unknown,
    /// A value the lexicon does not list.
    #[lex(other)]
    Other(String),
}

/// A record written: its AT URI (which holds its record key) and the CID of
/// the version written, for a later `swap`.
#[non_exhaustive]
pub struct RecordRef<R> {
    /// `at://<repo DID>/<collection>/<record key>`.
    pub uri: AtUri,
    /// The CID of the record as written.
    pub cid: Cid,
    /// The commit, when the server says.
    pub commit: Option<CommitMeta>,
    /// Whether the server checked the record, when it says.
    pub validation_status: Option<ValidationStatus>,
    record: PhantomData<fn() -> R>,
}

impl<R> RecordRef<R> {
    fn new(output: WriteOutput) -> Self {
        Self {
            uri: output.uri,
            cid: output.cid,
            commit: output.commit,
            validation_status: output.validation_status,
            record: PhantomData,
        }
    }
}

// By hand: the record type itself need not be `Clone` or `Debug`.
impl<R> Clone for RecordRef<R> {
    fn clone(&self) -> Self {
        Self {
            uri: self.uri.clone(),
            cid: self.cid.clone(),
            commit: self.commit.clone(),
            validation_status: self.validation_status.clone(),
            record: PhantomData,
        }
    }
}

impl<R> fmt::Debug for RecordRef<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordRef")
            .field("uri", &self.uri)
            .field("cid", &self.cid)
            .field("commit", &self.commit)
            .field("validation_status", &self.validation_status)
            .finish()
    }
}

impl<R> PartialEq for RecordRef<R> {
    fn eq(&self, other: &Self) -> bool {
        (&self.uri, &self.cid, &self.commit, &self.validation_status)
            == (
                &other.uri,
                &other.cid,
                &other.commit,
                &other.validation_status,
            )
    }
}

impl<R> Eq for RecordRef<R> {}

/// A record read, with its AT URI and the CID of the version read (to pass
/// as `swap` when writing it back).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StoredRecord<R> {
    /// `at://<repo DID>/<collection>/<record key>`.
    pub uri: AtUri,
    /// The CID of the version read, when the server says.
    pub cid: Option<Cid>,
    /// The record.
    pub value: R,
}

/// One write of [`Client::apply_writes`]. Made from a record (or, for a
/// delete, a record type), which gives its collection and `$type`.
///
/// The record is encoded when the write is made; an encoding failure is
/// reported by `apply_writes`, before anything is sent.
#[derive(Clone, Debug)]
pub struct Write {
    collection: &'static str,
    op: Op,
}

#[derive(Clone, Debug)]
enum Op {
    Create {
        rkey: Option<RecordKey>,
        value: Encoded,
    },
    Update {
        rkey: RecordKey,
        value: Encoded,
    },
    Delete {
        rkey: RecordKey,
    },
}

/// A record's JSON, with its `$type`.
type Encoded = Result<Box<RawValue>, EncodeError>;

impl Write {
    /// Creates `record`, under a record key the server chooses (or the one
    /// key its lexicon allows, such as `self`).
    pub fn create<R: Record + Serialize>(record: &R) -> Self {
        let (rkey, value) = match fixed_key::<R>() {
            Ok(rkey) => (rkey, encode(record)),
            Err(error) => (None, Err(error)),
        };
        Self {
            collection: R::NSID,
            op: Op::Create { rkey, value },
        }
    }

    /// Creates `record` under `rkey`.
    pub fn create_at<R: Record + Serialize>(rkey: RecordKey, record: &R) -> Self {
        Self {
            collection: R::NSID,
            op: Op::Create {
                rkey: Some(rkey),
                value: encode(record),
            },
        }
    }

    /// Replaces the record at `rkey` with `record`.
    pub fn update<R: Record + Serialize>(rkey: RecordKey, record: &R) -> Self {
        Self {
            collection: R::NSID,
            op: Op::Update {
                rkey,
                value: encode(record),
            },
        }
    }

    /// Deletes the record of type `R` at `rkey`.
    pub fn delete<R: Record>(rkey: RecordKey) -> Self {
        Self {
            collection: R::NSID,
            op: Op::Delete { rkey },
        }
    }
}

/// What [`Client::apply_writes`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedWrites {
    /// The commit, when the server says.
    pub commit: Option<CommitMeta>,
    /// One result per write, in the order of the writes; `None` when the
    /// server does not list them (the lexicon makes the list optional).
    pub results: Option<Vec<WriteResult>>,
}

/// The result of one write of [`Client::apply_writes`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteResult {
    /// A record created.
    Create {
        /// Its AT URI.
        uri: AtUri,
        /// Its CID.
        cid: Cid,
        /// Whether the server checked it, when it says.
        validation_status: Option<ValidationStatus>,
    },
    /// A record replaced.
    Update {
        /// Its AT URI.
        uri: AtUri,
        /// The CID of the new version.
        cid: Cid,
        /// Whether the server checked it, when it says.
        validation_status: Option<ValidationStatus>,
    },
    /// A record deleted.
    Delete,
}

impl Client {
    /// Creates `record` in `repo` (`com.atproto.repo.createRecord`), in the
    /// record type's collection, under a record key the server chooses (a
    /// TID), or the one key the record's lexicon allows (such as `self`).
    /// Needs an access token for `repo`.
    ///
    /// ```no_run
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Note { text: String }
    /// # impl atlex_core::data::LexType for Note { const TYPE: &'static str = "com.example.note"; }
    /// # impl atlex_core::data::Record for Note {
    /// #     const NSID: &'static str = "com.example.note";
    /// #     const KEY: atlex_core::data::RecordKeyKind = atlex_core::data::RecordKeyKind::Tid;
    /// # }
    /// # async fn run(client: atlex_client::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use atlex_core::types::AtIdentifier;
    ///
    /// let repo = AtIdentifier::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?;
    /// let note = Note { text: "hello".into() };
    /// let written = client.create_record(&repo, &note).await?;
    /// println!("{} ({})", written.uri, written.cid);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_record<R: Record + Serialize>(
        &self,
        repo: &AtIdentifier,
        record: &R,
    ) -> Result<RecordRef<R>, Error<CreateRecordError>> {
        self.create_record_with(repo, None, record, None).await
    }

    /// [`create_record`](Self::create_record) under record key `rkey` when
    /// given, and with `validate`: `Some(true)` asks the server to check the
    /// record against its lexicon, `Some(false)` not to, `None` leaves it to
    /// the server (it checks the lexicons it knows).
    pub async fn create_record_with<R: Record + Serialize>(
        &self,
        repo: &AtIdentifier,
        rkey: Option<&RecordKey>,
        record: &R,
        validate: Option<bool>,
    ) -> Result<RecordRef<R>, Error<CreateRecordError>> {
        let rkey = match rkey {
            Some(rkey) => Some(rkey.clone()),
            None => fixed_key::<R>().map_err(encode_error::<CreateRecord>)?,
        };
        let input = CreateRecordInput {
            repo: repo.clone(),
            collection: R::NSID.to_owned(),
            rkey,
            validate,
            record: encode(record).map_err(encode_error::<CreateRecord>)?,
        };
        let output = self.procedure(CreateRecord, &input).await?;
        Ok(RecordRef::new(output))
    }

    /// Writes `record` at `rkey` in `repo`, creating or replacing it
    /// (`com.atproto.repo.putRecord`). With `swap`, only if the record there
    /// now has that CID (the one [`get_record`](Self::get_record) gave): the
    /// server answers [`PutRecordError::InvalidSwap`] otherwise, and an edit
    /// made meanwhile is not overwritten.
    ///
    /// ```no_run
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Profile { name: String }
    /// # impl atlex_core::data::LexType for Profile { const TYPE: &'static str = "com.example.profile"; }
    /// # impl atlex_core::data::Record for Profile {
    /// #     const NSID: &'static str = "com.example.profile";
    /// #     const KEY: atlex_core::data::RecordKeyKind = atlex_core::data::RecordKeyKind::Literal("self");
    /// # }
    /// # impl atlex_core::validate::Validate for Profile {}
    /// # async fn run(client: atlex_client::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use atlex_core::types::{AtIdentifier, RecordKey};
    ///
    /// let repo = AtIdentifier::new("alice.example.com")?;
    /// let rkey = RecordKey::new("self")?;
    /// let mut profile = client.get_record::<Profile>(&repo, &rkey).await?;
    /// profile.value.name = "Alice".into();
    /// client
    ///     .put_record(&repo, &rkey, &profile.value, profile.cid.as_ref())
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn put_record<R: Record + Serialize>(
        &self,
        repo: &AtIdentifier,
        rkey: &RecordKey,
        record: &R,
        swap: Option<&Cid>,
    ) -> Result<RecordRef<R>, Error<PutRecordError>> {
        let input = PutRecordInput {
            repo: repo.clone(),
            collection: R::NSID.to_owned(),
            rkey: rkey.clone(),
            record: encode(record).map_err(encode_error::<PutRecord>)?,
            swap_record: swap.cloned(),
        };
        let output = self.procedure(PutRecord, &input).await?;
        Ok(RecordRef::new(output))
    }

    /// Deletes the record of type `R` at `rkey` in `repo`
    /// (`com.atproto.repo.deleteRecord`); a record that is not there is not
    /// an error. With `swap`, only if the record there has that CID. The
    /// commit, when the server says.
    pub async fn delete_record<R: Record>(
        &self,
        repo: &AtIdentifier,
        rkey: &RecordKey,
        swap: Option<&Cid>,
    ) -> Result<Option<CommitMeta>, Error<DeleteRecordError>> {
        let input = DeleteRecordInput {
            repo: repo.clone(),
            collection: R::NSID.to_owned(),
            rkey: rkey.clone(),
            swap_record: swap.cloned(),
        };
        let output = self.procedure(DeleteRecord, &input).await?;
        Ok(output.commit)
    }

    /// Reads the record of type `R` at `rkey` in `repo`
    /// (`com.atproto.repo.getRecord`). Its `$type` must be `R`'s: another
    /// one is an [`Error::Decode`]. A record that is not there is
    /// [`GetRecordError::RecordNotFound`]. No access token needed.
    pub async fn get_record<R>(
        &self,
        repo: &AtIdentifier,
        rkey: &RecordKey,
    ) -> Result<StoredRecord<R>, Error<GetRecordError>>
    where
        R: Record + Serialize + DeserializeOwned + Validate + Send + Sync + 'static,
    {
        let params = GetRecordParams {
            repo: repo.clone(),
            collection: R::NSID.to_owned(),
            rkey: rkey.clone(),
        };
        let output = self.query(GetRecord::<R>(PhantomData), &params).await?;
        Ok(StoredRecord {
            uri: output.uri,
            cid: output.cid,
            value: output.value.0,
        })
    }

    /// Applies `writes` to `repo` in one commit, all or none
    /// (`com.atproto.repo.applyWrites`).
    ///
    /// ```no_run
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Note { text: String }
    /// # impl atlex_core::data::LexType for Note { const TYPE: &'static str = "com.example.note"; }
    /// # impl atlex_core::data::Record for Note {
    /// #     const NSID: &'static str = "com.example.note";
    /// #     const KEY: atlex_core::data::RecordKeyKind = atlex_core::data::RecordKeyKind::Tid;
    /// # }
    /// # async fn run(client: atlex_client::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use atlex_client::Write;
    /// use atlex_core::types::{AtIdentifier, RecordKey, Tid};
    ///
    /// let repo = AtIdentifier::new("alice.example.com")?;
    /// let old = RecordKey::new("3jzfcijpj2z2a")?;
    /// let applied = client
    ///     .apply_writes(&repo, [
    ///         Write::create(&Note { text: "new".into() }),
    ///         Write::create_at(Tid::next()?.into(), &Note { text: "keyed".into() }),
    ///         Write::delete::<Note>(old),
    ///     ])
    ///     .await?;
    /// println!("{:?}", applied.results);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// The server's results must match the writes, one each, in order:
    /// another list is an [`Error::Decode`] (the writes were applied all
    /// the same).
    pub async fn apply_writes(
        &self,
        repo: &AtIdentifier,
        writes: impl IntoIterator<Item = Write>,
    ) -> Result<AppliedWrites, Error<ApplyWritesError>> {
        let mut kinds = Vec::new();
        let mut inputs = Vec::new();
        for Write { collection, op } in writes {
            let (kind, rkey, value) = match op {
                Op::Create { rkey, value } => (WriteKind::Create, rkey, Some(value)),
                Op::Update { rkey, value } => (WriteKind::Update, Some(rkey), Some(value)),
                Op::Delete { rkey } => (WriteKind::Delete, Some(rkey), None),
            };
            let value = value.transpose().map_err(encode_error::<ApplyWrites>)?;
            kinds.push(kind);
            inputs.push(WriteInput {
                type_name: kind.input_type().to_owned(),
                collection: collection.to_owned(),
                rkey,
                value,
            });
        }
        let input = ApplyWritesInput {
            repo: repo.clone(),
            writes: inputs,
        };
        let output = self.procedure(ApplyWrites, &input).await?;
        let results = match output.results {
            None => None,
            Some(results) => Some(match_results(&kinds, results)?),
        };
        Ok(AppliedWrites {
            commit: output.commit,
            results,
        })
    }
}

/// The key of a collection whose lexicon allows one only (`literal:self`).
fn fixed_key<R: Record>() -> Result<Option<RecordKey>, EncodeError> {
    match R::KEY {
        RecordKeyKind::Literal(key) => RecordKey::new(key).map(Some).map_err(|error| EncodeError {
            encoding: "application/json",
            reason: format!("the key of {} records: {error}", R::NSID),
        }),
        _ => Ok(None),
    }
}

/// `record` as JSON, with its type's `$type` first (in place of any
/// `$type` its `Serialize` impl writes).
fn encode<R: Record + Serialize>(record: &R) -> Encoded {
    serde_json::value::to_raw_value(&atlex_core::rt::Tagged::new(R::TYPE, record)).map_err(|err| {
        EncodeError {
            encoding: "application/json",
            reason: format!("the {} record: {err}", R::TYPE),
        }
    })
}

fn encode_error<E: Endpoint>(error: EncodeError) -> Error<E::Error> {
    Error::Encode {
        nsid: E::NSID,
        error,
    }
}

/// The server's results, checked against the writes sent: one each, of the
/// same kind, in order.
fn match_results(
    kinds: &[WriteKind],
    results: Vec<ResultOutput>,
) -> Result<Vec<WriteResult>, Error<ApplyWritesError>> {
    let mismatch = |path: String, reason: String| Error::Decode {
        nsid: ApplyWrites::NSID,
        error: DecodeError {
            what: "JSON body",
            path,
            reason,
        },
    };
    if results.len() != kinds.len() {
        return Err(mismatch(
            "results".to_owned(),
            format!("{} results for {} writes", results.len(), kinds.len()),
        ));
    }
    kinds
        .iter()
        .zip(results)
        .enumerate()
        .map(|(index, (kind, result))| {
            let result = match (kind, result) {
                (WriteKind::Create, ResultOutput::Create(written)) => WriteResult::Create {
                    uri: written.uri,
                    cid: written.cid,
                    validation_status: written.validation_status,
                },
                (WriteKind::Update, ResultOutput::Update(written)) => WriteResult::Update {
                    uri: written.uri,
                    cid: written.cid,
                    validation_status: written.validation_status,
                },
                (WriteKind::Delete, ResultOutput::Delete {}) => WriteResult::Delete,
                (kind, result) => {
                    return Err(mismatch(
                        format!("results[{index}]"),
                        format!(
                            "a {} result for a {} write",
                            result.kind().name(),
                            kind.name()
                        ),
                    ));
                }
            };
            Ok(result)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The endpoints, with the fields the client uses.
// ---------------------------------------------------------------------------

/// `com.atproto.repo.createRecord`.
pub(crate) struct CreateRecord;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateRecordInput {
    repo: AtIdentifier,
    collection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rkey: Option<RecordKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    validate: Option<bool>,
    record: Box<RawValue>,
}

/// What `createRecord` and `putRecord` answer.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WriteOutput {
    uri: AtUri,
    cid: Cid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commit: Option<CommitMeta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    validation_status: Option<ValidationStatus>,
}

impl Endpoint for CreateRecord {
    const NSID: &'static str = "com.atproto.repo.createRecord";
    const KIND: EndpointKind = EndpointKind::Procedure;
    const INPUT_ENCODING: Option<&'static str> = Some("application/json");
    const OUTPUT_ENCODING: Option<&'static str> = Some("application/json");
    type Params = ();
    type Input = CreateRecordInput;
    type Output = WriteOutput;
    type Error = CreateRecordError;
    type InputCodec = Json;
    type OutputCodec = Json;
}

/// `com.atproto.repo.putRecord`.
pub(crate) struct PutRecord;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutRecordInput {
    repo: AtIdentifier,
    collection: String,
    rkey: RecordKey,
    record: Box<RawValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    swap_record: Option<Cid>,
}

impl Endpoint for PutRecord {
    const NSID: &'static str = "com.atproto.repo.putRecord";
    const KIND: EndpointKind = EndpointKind::Procedure;
    const INPUT_ENCODING: Option<&'static str> = Some("application/json");
    const OUTPUT_ENCODING: Option<&'static str> = Some("application/json");
    type Params = ();
    type Input = PutRecordInput;
    type Output = WriteOutput;
    type Error = PutRecordError;
    type InputCodec = Json;
    type OutputCodec = Json;
}

/// `com.atproto.repo.deleteRecord`.
pub(crate) struct DeleteRecord;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteRecordInput {
    repo: AtIdentifier,
    collection: String,
    rkey: RecordKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    swap_record: Option<Cid>,
}

/// What `deleteRecord` and `applyWrites` answer besides their results.
#[derive(Serialize, Deserialize)]
pub(crate) struct CommitOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commit: Option<CommitMeta>,
}

impl Endpoint for DeleteRecord {
    const NSID: &'static str = "com.atproto.repo.deleteRecord";
    const KIND: EndpointKind = EndpointKind::Procedure;
    const INPUT_ENCODING: Option<&'static str> = Some("application/json");
    const OUTPUT_ENCODING: Option<&'static str> = Some("application/json");
    type Params = ();
    type Input = DeleteRecordInput;
    type Output = CommitOutput;
    type Error = DeleteRecordError;
    type InputCodec = Json;
    type OutputCodec = Json;
}

/// `com.atproto.repo.getRecord`, reading records of type `R`.
pub(crate) struct GetRecord<R>(PhantomData<fn() -> R>);

pub(crate) struct GetRecordParams {
    repo: AtIdentifier,
    collection: String,
    rkey: RecordKey,
}

impl atlex_core::xrpc::Params for GetRecordParams {
    fn write_query(&self, query: &mut QueryWriter) {
        query.required("repo", &self.repo);
        query.required("collection", &self.collection);
        query.required("rkey", &self.rkey);
    }

    fn read_query(query: &QueryReader<'_>) -> Result<Self, ParamsError> {
        Ok(Self {
            repo: query.required("repo")?,
            collection: query.required("collection")?,
            rkey: query.required("rkey")?,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(bound(
    serialize = "R: Record + Serialize",
    deserialize = "R: Record + DeserializeOwned"
))]
pub(crate) struct GetRecordOutput<R> {
    uri: AtUri,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cid: Option<Cid>,
    value: RecordOf<R>,
}

/// The record is checked as its type says (with a client that validates).
impl<R: Validate> Validate for GetRecordOutput<R> {
    fn check(&self, validator: &mut Validator) {
        validator.check_field("value", &self.value.0);
    }
}

impl<R> Endpoint for GetRecord<R>
where
    R: Record + Serialize + DeserializeOwned + Validate + Send + Sync + 'static,
{
    const NSID: &'static str = "com.atproto.repo.getRecord";
    const KIND: EndpointKind = EndpointKind::Query;
    const INPUT_ENCODING: Option<&'static str> = None;
    const OUTPUT_ENCODING: Option<&'static str> = Some("application/json");
    type Params = GetRecordParams;
    type Input = ();
    type Output = GetRecordOutput<R>;
    type Error = GetRecordError;
    type InputCodec = NoBody;
    type OutputCodec = Json;
}

/// `com.atproto.repo.applyWrites`.
pub(crate) struct ApplyWrites;

#[derive(Serialize, Deserialize)]
pub(crate) struct ApplyWritesInput {
    repo: AtIdentifier,
    writes: Vec<WriteInput>,
}

/// A member of the input's closed union of `#create`, `#update` and
/// `#delete`.
#[derive(Serialize, Deserialize)]
pub(crate) struct WriteInput {
    #[serde(rename = "$type")]
    type_name: String,
    collection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rkey: Option<RecordKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<Box<RawValue>>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct ApplyWritesOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commit: Option<CommitMeta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    results: Option<Vec<ResultOutput>>,
}

/// A member of the output's closed union of results.
#[derive(Serialize, Deserialize)]
#[serde(tag = "$type")]
pub(crate) enum ResultOutput {
    #[serde(rename = "com.atproto.repo.applyWrites#createResult")]
    Create(WrittenOutput),
    #[serde(rename = "com.atproto.repo.applyWrites#updateResult")]
    Update(WrittenOutput),
    #[serde(rename = "com.atproto.repo.applyWrites#deleteResult")]
    Delete {},
}

impl ResultOutput {
    fn kind(&self) -> WriteKind {
        match self {
            Self::Create(_) => WriteKind::Create,
            Self::Update(_) => WriteKind::Update,
            Self::Delete {} => WriteKind::Delete,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WrittenOutput {
    uri: AtUri,
    cid: Cid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    validation_status: Option<ValidationStatus>,
}

impl Endpoint for ApplyWrites {
    const NSID: &'static str = "com.atproto.repo.applyWrites";
    const KIND: EndpointKind = EndpointKind::Procedure;
    const INPUT_ENCODING: Option<&'static str> = Some("application/json");
    const OUTPUT_ENCODING: Option<&'static str> = Some("application/json");
    type Params = ();
    type Input = ApplyWritesInput;
    type Output = ApplyWritesOutput;
    type Error = ApplyWritesError;
    type InputCodec = Json;
    type OutputCodec = Json;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WriteKind {
    Create,
    Update,
    Delete,
}

impl WriteKind {
    fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }

    /// The `$type` of the input's union member.
    fn input_type(self) -> &'static str {
        match self {
            Self::Create => "com.atproto.repo.applyWrites#create",
            Self::Update => "com.atproto.repo.applyWrites#update",
            Self::Delete => "com.atproto.repo.applyWrites#delete",
        }
    }
}

no_constraints!(
    CreateRecordInput,
    WriteOutput,
    PutRecordInput,
    DeleteRecordInput,
    CommitOutput,
    GetRecordParams,
    ApplyWritesInput,
    ApplyWritesOutput
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon_checks::{check, check_known_values, check_object, lexicon};

    /// A record type for the generic descriptor.
    #[derive(Serialize, Deserialize)]
    struct Note {
        text: String,
    }

    impl atlex_core::data::LexType for Note {
        const TYPE: &'static str = "com.example.note";
    }

    impl Record for Note {
        const NSID: &'static str = "com.example.note";
        const KEY: RecordKeyKind = RecordKeyKind::Tid;
    }

    impl Validate for Note {}

    /// The JSON names `value` writes (every optional field set), without
    /// `$type`.
    fn keys<T: Serialize>(value: &T) -> Vec<String> {
        let json = serde_json::to_value(value).unwrap();
        json.as_object()
            .unwrap()
            .keys()
            .filter(|key| *key != "$type")
            .cloned()
            .collect()
    }

    fn all<'a>(parts: &[&'a [String]]) -> Vec<&'a str> {
        parts
            .iter()
            .flat_map(|part| part.iter().map(String::as_str))
            .collect()
    }

    #[test]
    fn the_hand_written_descriptors_agree_with_the_lexicons() {
        let repo = AtIdentifier::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz").unwrap();
        let uri = AtUri::new("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/com.example.note/3k").unwrap();
        let cid = Cid::new("bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm").unwrap();
        let rkey = RecordKey::new("3jzfcijpj2z2a").unwrap();
        let commit = CommitMeta {
            cid: cid.clone(),
            rev: Tid::new("3jzfcijpj2z2a").unwrap(),
        };
        let record = || encode(&Note { text: "hi".into() }).unwrap();
        let written = keys(&WriteOutput {
            uri: uri.clone(),
            cid: cid.clone(),
            commit: Some(commit.clone()),
            validation_status: Some(ValidationStatus::Valid),
        });
        let create = keys(&CreateRecordInput {
            repo: repo.clone(),
            collection: Note::NSID.into(),
            rkey: Some(rkey.clone()),
            validate: Some(true),
            record: record(),
        });
        check::<CreateRecord>(&all(&[&create, &written]));
        let put = keys(&PutRecordInput {
            repo: repo.clone(),
            collection: Note::NSID.into(),
            rkey: rkey.clone(),
            record: record(),
            swap_record: Some(cid.clone()),
        });
        check::<PutRecord>(&all(&[&put, &written]));
        let delete = keys(&DeleteRecordInput {
            repo: repo.clone(),
            collection: Note::NSID.into(),
            rkey: rkey.clone(),
            swap_record: Some(cid.clone()),
        });
        let committed = keys(&CommitOutput {
            commit: Some(commit.clone()),
        });
        check::<DeleteRecord>(&all(&[&delete, &committed]));
        let mut query = QueryWriter::new();
        atlex_core::xrpc::Params::write_query(
            &GetRecordParams {
                repo: repo.clone(),
                collection: Note::NSID.into(),
                rkey: rkey.clone(),
            },
            &mut query,
        );
        let params: Vec<String> = query
            .pairs()
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        let got = keys(&GetRecordOutput {
            uri: uri.clone(),
            cid: Some(cid.clone()),
            value: RecordOf(Note { text: "hi".into() }),
        });
        check::<GetRecord<Note>>(&all(&[&params, &got]));
        let apply = keys(&ApplyWritesInput {
            repo,
            writes: Vec::new(),
        });
        let applied = keys(&ApplyWritesOutput {
            commit: Some(commit.clone()),
            results: Some(Vec::new()),
        });
        check::<ApplyWrites>(&all(&[&apply, &applied]));

        // The members of the unions of writes and of results.
        let nsid = ApplyWrites::NSID;
        let main = &lexicon(nsid)["defs"]["main"];
        let refs = |part: &str, name: &str| -> Vec<String> {
            main[part]["schema"]["properties"][name]["items"]["refs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| format!("{nsid}{}", r.as_str().unwrap()))
                .collect()
        };
        let write = |kind: WriteKind, value: bool| WriteInput {
            type_name: kind.input_type().to_owned(),
            collection: Note::NSID.into(),
            rkey: Some(rkey.clone()),
            value: value.then(record),
        };
        let members = [
            ("create", write(WriteKind::Create, true)),
            ("update", write(WriteKind::Update, true)),
            ("delete", write(WriteKind::Delete, false)),
        ];
        let mut types = Vec::new();
        for (name, member) in &members {
            check_object(nsid, name, &all(&[&keys(member)]));
            types.push(member.type_name.clone());
        }
        assert_eq!(types, refs("input", "writes"));
        let written = || WrittenOutput {
            uri: uri.clone(),
            cid: cid.clone(),
            validation_status: Some(ValidationStatus::Unknown),
        };
        let results = [
            ("createResult", ResultOutput::Create(written())),
            ("updateResult", ResultOutput::Update(written())),
            ("deleteResult", ResultOutput::Delete {}),
        ];
        let mut types = Vec::new();
        for (name, result) in &results {
            check_object(nsid, name, &all(&[&keys(result)]));
            let json = serde_json::to_value(result).unwrap();
            types.push(json["$type"].as_str().unwrap().to_owned());
        }
        assert_eq!(types, refs("output", "results"));

        check_object(
            "com.atproto.repo.defs",
            "commitMeta",
            &all(&[&keys(&commit)]),
        );
        let values: Vec<&str> = ValidationStatus::VALUES.to_vec();
        for nsid in [CreateRecord::NSID, PutRecord::NSID] {
            check_known_values(
                nsid,
                &["main", "output", "schema", "properties", "validationStatus"],
                &values,
            );
        }
        for name in ["createResult", "updateResult"] {
            check_known_values(nsid, &[name, "properties", "validationStatus"], &values);
        }
    }
}
