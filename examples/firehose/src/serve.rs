//! The endpoints: writes (`createRecord`, `putRecord`, `deleteRecord`),
//! reads (`getRecord`, `listRecords`), the repository's sync endpoints
//! (`getRepo`, `getLatestCommit`, `getRecord` with its proof, the firehose)
//! and the accounts' DID documents.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use atlex::car::CarWriter;
use atlex::cbor;
use atlex::data::Unknown;
use atlex::repo::mst::{BlockStore as _, Mst};
use atlex::repo::repo_car::write_repo_car;
use atlex::rt::Binary;
use atlex::server::{
    CommonError, HandlerError, HandlerResult, Request, SubscriptionRequest, SubscriptionResult,
};
use atlex::types::{AtIdentifier, AtUri, Cid, Nsid, RecordKey, Tid};
use atlex_lexicons::com::atproto::repo::defs::CommitMeta;
use atlex_lexicons::com::atproto::repo::{
    self, create_record, delete_record, get_record, list_records, put_record,
};
use atlex_lexicons::com::atproto::sync::{self, get_latest_commit, get_repo, subscribe_repos};

use crate::pds::{Account, Change, Pds, internal, tree_error};

/// The MIME type of CAR files.
const CAR: &str = "application/vnd.ipld.car";

/// The bearer token of a request.
fn bearer<E>(request_headers: &http::HeaderMap) -> Result<String, HandlerError<E>> {
    request_headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .ok_or(HandlerError::Common(CommonError::AuthenticationRequired {
            message: Some("use a bearer token: alice-token or bob-token".to_owned()),
        }))
}

/// Refuses a write that asks for `swapCommit` or `swapRecord`: this server
/// does not compare them, and a write that ignored them would not do what
/// was asked.
fn refuse_swaps<E>(asked: bool) -> Result<(), HandlerError<E>> {
    if asked {
        return Err(HandlerError::Common(CommonError::invalid_request(
            "swapCommit and swapRecord are not supported by this server",
        )));
    }
    Ok(())
}

/// A message naming a repository this server does not host.
fn no_repo(did: &str) -> Option<String> {
    Some(format!("no repository {did} on this server"))
}

impl Pds {
    /// Creates (`create`) or puts the record at `collection/rkey` of `repo`
    /// for the account of `token`: its URI and CID, and the commit.
    fn write_record(
        &self,
        token: &str,
        repo: &AtIdentifier,
        collection: &Nsid,
        rkey: &RecordKey,
        record: Unknown,
        create: bool,
    ) -> Result<(AtUri, Cid, CommitMeta), CommonError> {
        let path = format!("{collection}/{rkey}");
        let uri = AtUri::new(format!("at://{repo}/{path}")).map_err(|e| internal(&e))?;
        let change = if create {
            Change::Create { path, record }
        } else {
            Change::Put { path, record }
        };
        let (commit, cid) = self.write(token, repo.as_ref(), change)?;
        let cid = cid.ok_or_else(|| internal(&"no record CID"))?;
        Ok((uri, cid, commit))
    }
}

impl repo::Service for Pds {
    async fn create_record(
        &self,
        request: Request<create_record::CreateRecord>,
    ) -> HandlerResult<create_record::CreateRecord> {
        let token = bearer(&request.context.headers)?;
        let input = request.input;
        refuse_swaps(input.swap_commit.is_some())?;
        let rkey = match input.rkey {
            Some(rkey) => rkey,
            None => RecordKey::new(
                Tid::next()
                    .map_err(|e| HandlerError::internal(e.to_string()))?
                    .as_str(),
            )
            .map_err(|e| HandlerError::internal(e.to_string()))?,
        };
        let (uri, cid, commit) = self
            .write_record(
                &token,
                &input.repo,
                &input.collection,
                &rkey,
                input.record,
                true,
            )
            .map_err(HandlerError::Common)?;
        Ok(create_record::Output::builder()
            .uri(uri)
            .cid(cid)
            .build()
            .with_commit(commit))
    }

    async fn put_record(
        &self,
        request: Request<put_record::PutRecord>,
    ) -> HandlerResult<put_record::PutRecord> {
        let token = bearer(&request.context.headers)?;
        let input = request.input;
        refuse_swaps(input.swap_commit.is_some() || input.swap_record.is_some())?;
        let (uri, cid, commit) = self
            .write_record(
                &token,
                &input.repo,
                &input.collection,
                &input.rkey,
                input.record,
                false,
            )
            .map_err(HandlerError::Common)?;
        Ok(put_record::Output::builder()
            .uri(uri)
            .cid(cid)
            .build()
            .with_commit(commit))
    }

    async fn delete_record(
        &self,
        request: Request<delete_record::DeleteRecord>,
    ) -> HandlerResult<delete_record::DeleteRecord> {
        let token = bearer(&request.context.headers)?;
        let input = request.input;
        refuse_swaps(input.swap_commit.is_some() || input.swap_record.is_some())?;
        let path = format!("{}/{}", input.collection, input.rkey);
        let (commit, _) = self
            .write(&token, input.repo.as_ref(), Change::Delete { path })
            .map_err(HandlerError::Common)?;
        Ok(delete_record::Output::new().with_commit(commit))
    }

    async fn get_record(
        &self,
        request: Request<get_record::GetRecord>,
    ) -> HandlerResult<get_record::GetRecord> {
        let params = request.params;
        let repo = params.repo.to_string();
        let path = format!("{}/{}", params.collection, params.rkey);
        let found = self
            .with_account(&repo, |account| {
                let Some(cid) = account.tree.get(&path).map_err(tree_error)? else {
                    return Ok(None);
                };
                let bytes = account
                    .tree
                    .store()
                    .get(&cid)
                    .map_err(|e| internal(&e))?
                    .ok_or_else(|| internal(&format!("the record block {cid} is missing")))?;
                Ok::<_, CommonError>(Some((cid, bytes)))
            })
            .ok_or_else(|| {
                HandlerError::Common(CommonError::invalid_request(format!(
                    "no repository {repo} on this server"
                )))
            })?
            .map_err(HandlerError::Common)?;
        let not_found = || {
            HandlerError::endpoint(get_record::Error::RecordNotFound {
                message: Some(format!("no record at {path}")),
            })
        };
        let (cid, bytes) = found.ok_or_else(not_found)?;
        if params.cid.as_ref().is_some_and(|asked| *asked != cid) {
            return Err(not_found());
        }
        let value: Unknown =
            cbor::from_slice(&bytes).map_err(|e| HandlerError::internal(e.to_string()))?;
        let uri = AtUri::new(format!("at://{repo}/{path}"))
            .map_err(|e| HandlerError::internal(e.to_string()))?;
        Ok(get_record::Output::builder()
            .uri(uri)
            .value(value)
            .build()
            .with_cid(cid))
    }

    /// Pages through a collection by record key: newest (greatest) first,
    /// or oldest first with `reverse`; the cursor is the last key sent.
    async fn list_records(
        &self,
        request: Request<list_records::ListRecords>,
    ) -> HandlerResult<list_records::ListRecords> {
        let params = request.params;
        let repo = params.repo.to_string();
        let limit = params.limit.unwrap_or(50);
        let limit = usize::try_from(limit)
            .ok()
            .filter(|limit| (1..=100).contains(limit))
            .ok_or_else(|| {
                HandlerError::Common(CommonError::invalid_request("limit must be from 1 to 100"))
            })?;
        let collection = params.collection.as_str();
        let ascending = params.reverse == Some(true);
        let cursor = params.cursor.map(|rkey| format!("{collection}/{rkey}"));
        let page = self
            .with_account(&repo, |account| {
                page(account, collection, cursor.as_deref(), ascending, limit)
            })
            .ok_or_else(|| {
                HandlerError::Common(CommonError::invalid_request(format!(
                    "no repository {repo} on this server"
                )))
            })?
            .map_err(HandlerError::Common)?;
        let mut records = Vec::with_capacity(page.len());
        for (path, cid, bytes) in &page {
            let value: Unknown =
                cbor::from_slice(bytes).map_err(|e| HandlerError::internal(e.to_string()))?;
            let uri = AtUri::new(format!("at://{repo}/{path}"))
                .map_err(|e| HandlerError::internal(e.to_string()))?;
            records.push(
                list_records::Record::builder()
                    .uri(uri)
                    .cid(cid.clone())
                    .value(value)
                    .build(),
            );
        }
        // A full page may have more after it; the cursor is its last key.
        let cursor = (page.len() == limit)
            .then(|| page.last())
            .flatten()
            .and_then(|(path, _, _)| path.rsplit_once('/'))
            .map(|(_, rkey)| rkey.to_owned());
        let mut output = list_records::Output::new(records);
        output.cursor = cursor;
        Ok(output)
    }
}

/// Up to `limit` records of `collection` after `cursor` (a path) in the
/// order asked: each path, CID and block.
fn page(
    account: &Account,
    collection: &str,
    cursor: Option<&str>,
    ascending: bool,
    limit: usize,
) -> Result<Vec<(String, atlex::types::Cid, Vec<u8>)>, CommonError> {
    let leaves = account.tree.collection(collection);
    let mut picked: VecDeque<_> = VecDeque::new();
    for leaf in leaves {
        let leaf = leaf.map_err(|e| internal(&e))?;
        let key = &*leaf.key;
        if ascending {
            if cursor.is_some_and(|cursor| key <= cursor) {
                continue;
            }
            picked.push_back(leaf);
            if picked.len() == limit {
                break;
            }
        } else {
            if cursor.is_some_and(|cursor| key >= cursor) {
                break;
            }
            // Keep the greatest `limit` keys before the cursor.
            if picked.len() == limit {
                picked.pop_front();
            }
            picked.push_back(leaf);
        }
    }
    if !ascending {
        picked = picked.into_iter().rev().collect();
    }
    picked
        .into_iter()
        .map(|leaf| {
            let bytes = account
                .tree
                .store()
                .get(&leaf.value)
                .map_err(|e| internal(&e))?
                .ok_or_else(|| internal(&format!("the record block {} is missing", leaf.value)))?;
            Ok((leaf.key.to_string(), leaf.value, bytes.to_vec()))
        })
        .collect()
}

impl sync::Service for Pds {
    async fn subscribe_repos(
        &self,
        request: SubscriptionRequest<subscribe_repos::SubscribeRepos>,
    ) -> SubscriptionResult<subscribe_repos::SubscribeRepos> {
        self.log().subscribe(request.params.cursor)
    }

    async fn get_latest_commit(
        &self,
        request: Request<get_latest_commit::GetLatestCommit>,
    ) -> HandlerResult<get_latest_commit::GetLatestCommit> {
        let did = request.params.did;
        self.with_account(did.as_str(), |account| {
            get_latest_commit::Output::builder()
                .cid(account.head.clone())
                .rev(account.rev.clone())
                .build()
        })
        .ok_or_else(|| {
            HandlerError::endpoint(get_latest_commit::Error::RepoNotFound {
                message: no_repo(did.as_str()),
            })
        })
    }

    /// The whole repository, in the order `write_repo_car` gives: the
    /// commit, then each node before its subtrees and records. With
    /// `since`, what changed after that revision (see `diff_car`).
    async fn get_repo(
        &self,
        request: Request<get_repo::GetRepo>,
    ) -> HandlerResult<get_repo::GetRepo> {
        let params = request.params;
        let did = params.did;
        let car = self
            .with_account(did.as_str(), |account| match &params.since {
                Some(since) => diff_car(account, since),
                None => write_repo_car(account.tree.store(), &account.head, Vec::new())
                    .map_err(|e| internal(&e)),
            })
            .ok_or_else(|| {
                HandlerError::endpoint(get_repo::Error::RepoNotFound {
                    message: no_repo(did.as_str()),
                })
            })?
            .map_err(HandlerError::Common)?;
        Ok(Binary::new(CAR, car))
    }

    /// A CAR of the head commit, the nodes from the root down to where the
    /// record is (or would be), and the record if there is one: a proof of
    /// its presence or absence.
    async fn get_record(
        &self,
        request: Request<sync::get_record::GetRecord>,
    ) -> HandlerResult<sync::get_record::GetRecord> {
        let params = request.params;
        let did = params.did;
        let path = format!("{}/{}", params.collection, params.rkey);
        let car = self
            .with_account(did.as_str(), |account| proof_car(account, &path))
            .ok_or_else(|| {
                HandlerError::endpoint(sync::get_record::Error::RepoNotFound {
                    message: no_repo(did.as_str()),
                })
            })?
            .map_err(HandlerError::Common)?;
        Ok(Binary::new(CAR, car))
    }
}

/// What changed in the account's repository after revision `since`: a CAR
/// of the head commit, the nodes of the tree that the tree at `since` (the
/// last commit at or before it) lacks, and the records those nodes add or
/// change. A consumer that holds the repository at `since` adds these
/// blocks to its own and reads the new tree. A `since` before the first
/// commit gives the whole repository.
fn diff_car(account: &Account, since: &Tid) -> Result<Vec<u8>, CommonError> {
    let store = account.tree.store();
    let Some((_, base)) = account.history.iter().rev().find(|(rev, _)| rev <= since) else {
        return write_repo_car(store, &account.head, Vec::new()).map_err(|e| internal(&e));
    };
    let diff = Mst::load(store, base)
        .and_then(|old| old.diff(&account.tree))
        .map_err(|e| internal(&e))?;
    let mut car = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&account.head))
        .map_err(|e| internal(&e))?;
    car.write_block(&account.head, block(account, &account.head)?.as_ref())
        .map_err(|e| internal(&e))?;
    for node in &diff.created_nodes {
        car.write_block(&node.cid, &node.data)
            .map_err(|e| internal(&e))?;
    }
    let mut records = HashSet::new();
    for cid in diff.ops.iter().filter_map(|op| op.cid()) {
        if records.insert(cid) {
            car.write_block(cid, block(account, cid)?.as_ref())
                .map_err(|e| internal(&e))?;
        }
    }
    car.finish().map_err(|e| internal(&e))
}

/// A block of the account's store that must be there.
fn block(account: &Account, cid: &Cid) -> Result<impl AsRef<[u8]> + use<>, CommonError> {
    account
        .tree
        .store()
        .get(cid)
        .map_err(|e| internal(&e))?
        .ok_or_else(|| internal(&format!("the block {cid} is missing")))
}

/// The proof CAR of `path` in the account's repository.
fn proof_car(account: &Account, path: &str) -> Result<Vec<u8>, CommonError> {
    let mut car = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&account.head))
        .map_err(|e| internal(&e))?;
    car.write_block(&account.head, block(account, &account.head)?.as_ref())
        .map_err(|e| internal(&e))?;
    for node in account.tree.proof(path).map_err(tree_error)? {
        car.write_block(&node.cid, &node.data)
            .map_err(|e| internal(&e))?;
    }
    if let Some(cid) = account.tree.get(path).map_err(tree_error)? {
        car.write_block(&cid, block(account, &cid)?.as_ref())
            .map_err(|e| internal(&e))?;
    }
    car.finish().map_err(|e| internal(&e))
}

/// `GET /{did}`: the DID document of an account, as a PLC directory serves
/// it: the signing key as `#atproto` (a `Multikey`) and this server as the
/// PDS (`#atproto_pds`, from the request's `Host`).
pub(crate) async fn did_document(
    axum::extract::State(pds): axum::extract::State<Arc<Pds>>,
    axum::extract::Path(did): axum::extract::Path<String>,
    headers: http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let host = headers
        .get(http::header::HOST)
        .and_then(|host| host.to_str().ok());
    let document = pds.with_account(&did, |account| {
        let mut document = serde_json::json!({
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1",
            ],
            "id": account.did.as_str(),
            "verificationMethod": [{
                "id": format!("{}#atproto", account.did),
                "type": "Multikey",
                "controller": account.did.as_str(),
                "publicKeyMultibase": account.key.public_key().to_multikey(),
            }],
        });
        if let Some(host) = host {
            document["service"] = serde_json::json!([{
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": format!("http://{host}"),
            }]);
        }
        document
    });
    match document {
        Some(document) => (
            [(http::header::CONTENT_TYPE, "application/did+ld+json")],
            document.to_string(),
        )
            .into_response(),
        None => (
            http::StatusCode::NOT_FOUND,
            format!("no DID document for {did}"),
        )
            .into_response(),
    }
}
