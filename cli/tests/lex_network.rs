//! `atlex lex install`, `publish` and `status` (feature `resolve`) end to
//! end on loopback: the test identity network answers the `_lexicon` TXT
//! records and serves DID documents, and a small XRPC server here plays the
//! publisher's PDS (sync.getRecord, putRecord, listRecords, createSession),
//! keeping each account's schema records in a repository whose commits
//! the account's key signs. Nothing touches the network.

#![cfg(feature = "resolve")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use atlex::car::{Car, CarWriter};
use atlex::crypto::SigningKey;
use atlex::identity::testkit::{Account, TestNetwork};
use atlex::repo::Repo;
use atlex::repo::mst::MemoryBlockStore;
use atlex::repo::repo::Write;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

const COLLECTION: &str = "com.atproto.lexicon.schema";
const PASSWORD: &str = "app-password";

/// A repository in memory.
type Repository = Repo<Arc<MemoryBlockStore>>;

/// The PDS: each hosted account's repository, the CIDs of its schema
/// records by (DID, record key), proofs to serve in place of the
/// repository's, and the one account that can log in.
#[derive(Default)]
struct Pds {
    repos: Mutex<HashMap<String, Repository>>,
    records: Mutex<HashMap<(String, String), String>>,
    forged: Mutex<HashMap<(String, String), Vec<u8>>>,
    account: Mutex<Option<(String, String)>>,
}

impl Pds {
    /// Hosts an empty repository of `account`, signed with its key.
    fn host(&self, account: &Account) {
        let repo = repository(account.did().as_str(), account.signing_key());
        self.repos
            .lock()
            .unwrap()
            .insert(account.did().to_string(), repo);
    }

    /// Writes `record` under `rkey` in `did`'s repository, in a new commit
    /// signed with its key; returns the record's CID.
    fn put(&self, did: &str, rkey: &str, record: &Value) -> String {
        let mut repos = self.repos.lock().unwrap();
        let repo = repos.get_mut(did).expect("a repository the PDS hosts");
        let cid = write(repo, rkey, record);
        self.records
            .lock()
            .unwrap()
            .insert((did.to_owned(), rkey.to_owned()), cid.clone());
        cid
    }

    /// The proof of schema record `rkey` in `did`'s repository.
    fn proof(&self, did: &str, rkey: &str) -> Option<Vec<u8>> {
        let repos = self.repos.lock().unwrap();
        Some(repos.get(did)?.record_proof(COLLECTION, rkey).unwrap())
    }

    /// Serves `car` as the proof of `did`'s schema record `rkey`.
    fn forge(&self, did: &str, rkey: &str, car: Vec<u8>) {
        self.forged
            .lock()
            .unwrap()
            .insert((did.to_owned(), rkey.to_owned()), car);
    }
}

/// An empty repository of `did` whose commits `key` signs.
fn repository(did: &str, key: &SigningKey) -> Repository {
    let did = atlex::types::Did::new(did).unwrap();
    let store = Arc::new(MemoryBlockStore::new());
    Repo::create_empty(store, did, key.clone()).unwrap().0
}

/// Writes `record` as the schema record `rkey` of `repo` (created or
/// updated) in a new signed commit; returns its CID.
fn write(repo: &mut Repository, rkey: &str, record: &Value) -> String {
    let data = atlex::data::Value::from_json(record.clone()).unwrap();
    let path = format!("{COLLECTION}/{rkey}");
    let write = match repo.tree().get(&path).unwrap() {
        Some(_) => Write::update_data(COLLECTION, rkey, &data),
        None => Write::create_data(COLLECTION, Some(rkey), &data),
    };
    repo.apply_writes(&[write.unwrap()]).unwrap();
    repo.tree().get(&path).unwrap().unwrap().to_string()
}

fn xrpc_error(status: StatusCode, name: &str) -> (StatusCode, Json<Value>) {
    (status, Json(json!({"error": name, "message": name})))
}

/// `com.atproto.sync.getRecord`: the proof of the record, or of its
/// absence, from the repository's head commit.
async fn get_record(
    State(pds): State<Arc<Pds>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let (Some(did), Some(COLLECTION), Some(rkey)) = (
        params.get("did"),
        params.get("collection").map(String::as_str),
        params.get("rkey"),
    ) else {
        return xrpc_error(StatusCode::BAD_REQUEST, "InvalidRequest").into_response();
    };
    let forged = pds
        .forged
        .lock()
        .unwrap()
        .get(&(did.clone(), rkey.clone()))
        .cloned();
    match forged.or_else(|| pds.proof(did, rkey)) {
        Some(car) => ([(header::CONTENT_TYPE, "application/vnd.ipld.car")], car).into_response(),
        None => xrpc_error(StatusCode::BAD_REQUEST, "RepoNotFound").into_response(),
    }
}

/// `com.atproto.repo.listRecords`, two records a page (to make the client
/// follow cursors), in record key order.
async fn list_records(
    State(pds): State<Arc<Pds>>,
    Query(params): Query<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let (Some(repo), Some(COLLECTION)) = (
        params.get("repo"),
        params.get("collection").map(String::as_str),
    ) else {
        return xrpc_error(StatusCode::BAD_REQUEST, "InvalidRequest");
    };
    let mut keys: Vec<String> = pds
        .records
        .lock()
        .unwrap()
        .keys()
        .filter(|(did, _)| did == repo)
        .map(|(_, rkey)| rkey.clone())
        .collect();
    keys.sort();
    let after = params.get("cursor").cloned().unwrap_or_default();
    let page: Vec<String> = keys
        .into_iter()
        .filter(|key| *key > after)
        .take(2)
        .collect();
    let records: Vec<Value> = page
        .iter()
        .map(|rkey| json!({"uri": format!("at://{repo}/{COLLECTION}/{rkey}"), "cid": "", "value": {}}))
        .collect();
    let mut output = json!({"records": records});
    if let Some(last) = page.last() {
        output["cursor"] = json!(last);
    }
    (StatusCode::OK, Json(output))
}

async fn create_session(
    State(pds): State<Arc<Pds>>,
    Json(input): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let account = pds.account.lock().unwrap().clone();
    match account {
        Some((did, handle))
            if input["identifier"] == did.as_str() && input["password"] == PASSWORD =>
        {
            (
                StatusCode::OK,
                Json(
                    json!({"did": did, "handle": handle, "accessJwt": "access", "refreshJwt": "refresh"}),
                ),
            )
        }
        _ => xrpc_error(StatusCode::UNAUTHORIZED, "AuthenticationRequired"),
    }
}

async fn put_record(
    State(pds): State<Arc<Pds>>,
    headers: HeaderMap,
    Json(input): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let account = pds.account.lock().unwrap().clone();
    let authorized = headers
        .get("authorization")
        .is_some_and(|value| value == "Bearer access");
    let (Some((did, _)), true) = (account, authorized) else {
        return xrpc_error(StatusCode::UNAUTHORIZED, "AuthenticationRequired");
    };
    if input["repo"] != did.as_str() || input["collection"] != COLLECTION {
        return xrpc_error(StatusCode::BAD_REQUEST, "InvalidRequest");
    }
    let rkey = input["rkey"].as_str().unwrap().to_owned();
    let cid = pds.put(&did, &rkey, &input["record"]);
    (
        StatusCode::OK,
        Json(json!({"uri": format!("at://{did}/{COLLECTION}/{rkey}"), "cid": cid})),
    )
}

async fn start_pds(pds: Arc<Pds>) -> SocketAddr {
    let router = axum::Router::new()
        .route("/xrpc/com.atproto.sync.getRecord", get(get_record))
        .route("/xrpc/com.atproto.repo.putRecord", post(put_record))
        .route("/xrpc/com.atproto.repo.listRecords", get(list_records))
        .route(
            "/xrpc/com.atproto.server.createSession",
            post(create_session),
        )
        .with_state(pds);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}

/// A lexicon document: a record `main` whose object has `properties`.
fn record_doc(nsid: &str, properties: Value) -> Value {
    json!({
        "lexicon": 1,
        "id": nsid,
        "defs": {"main": {"type": "record", "key": "tid", "record": {
            "type": "object", "properties": properties
        }}}
    })
}

fn object_doc(nsid: &str, properties: Value) -> Value {
    json!({
        "lexicon": 1,
        "id": nsid,
        "defs": {"thing": {"type": "object", "properties": properties}}
    })
}

/// Puts `document` in `did`'s repository as a schema record.
fn publish(pds: &Pds, did: &str, document: &Value) -> String {
    publish_at(pds, did, document["id"].as_str().unwrap(), document)
}

/// Puts `document` in `did`'s repository under the record key `rkey`.
fn publish_at(pds: &Pds, did: &str, rkey: &str, document: &Value) -> String {
    pds.put(did, rkey, &schema_record(document))
}

/// `document` as a schema record: with its `$type`.
fn schema_record(document: &Value) -> Value {
    let mut value = json!({"$type": COLLECTION});
    value
        .as_object_mut()
        .unwrap()
        .extend(document.as_object().unwrap().clone());
    value
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lex-network-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_doc(root: &Path, document: &Value) {
    let nsid = document["id"].as_str().unwrap();
    let path = root.join(format!("{}.json", nsid.replace('.', "/")));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(document).unwrap()).unwrap();
}

/// Runs `atlex` in `dir` (off the runtime's threads, which serve the
/// network meanwhile): exit code, stdout, stderr.
async fn atlex(dir: &Path, args: Vec<String>) -> (i32, String, String) {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_atlex"))
            .args(&args)
            .current_dir(dir)
            .env("ATLEX_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

struct World {
    network: TestNetwork,
    pds: Arc<Pds>,
    publisher: Account,
    /// Flags that point a command at the test network.
    net_flags: Vec<String>,
}

impl World {
    async fn start() -> Self {
        let network = TestNetwork::start().await.unwrap();
        let pds = Arc::new(Pds::default());
        let address = start_pds(Arc::clone(&pds)).await;
        let publisher = network.account("lexicons.example.com").unwrap();
        publisher.set_pds(&format!("http://{address}"));
        pds.host(&publisher);
        *pds.account.lock().unwrap() = Some((
            publisher.did().to_string(),
            "lexicons.example.com".to_owned(),
        ));
        network.set_txt(
            "_lexicon.example.com",
            &[&format!("did={}", publisher.did())],
        );
        let net_flags = vec![
            "--plc".to_owned(),
            network.plc_directory(),
            "--dns".to_owned(),
            network.dns_address().to_string(),
            "--plain-http".to_owned(),
        ];
        Self {
            network,
            pds,
            publisher,
            net_flags,
        }
    }

    /// The CID of the publisher's schema record of `nsid` in the PDS.
    fn cid_of_record(&self, nsid: &str) -> String {
        let key = (self.did(), nsid.to_owned());
        self.pds.records.lock().unwrap()[&key].clone()
    }

    fn did(&self) -> String {
        self.publisher.did().to_string()
    }

    /// `atlex lex <command> <args> --net-flags` in `dir`.
    async fn lex(&self, dir: &Path, command: &str, args: &[&str]) -> (i32, String, String) {
        let mut all = vec!["lex".to_owned(), command.to_owned()];
        all.extend(args.iter().map(|arg| (*arg).to_owned()));
        if !(command == "install" && args.contains(&"--ci")) {
            all.extend(self.net_flags.iter().cloned());
        }
        atlex(dir, all).await
    }
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("lexicons.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_pin_publish_update_and_ci() {
    let world = World::start().await;
    let did = world.did();
    // post → defs → post: a cycle of references; and a reference into a
    // set provided otherwise (never fetched: the PDS does not have it).
    let post = record_doc(
        "com.example.post",
        json!({
            "text": {"type": "string", "maxLength": 300},
            "author": {"type": "ref", "ref": "com.example.defs#thing"},
            "subject": {"type": "ref", "ref": "com.atproto.repo.strongRef"}
        }),
    );
    let defs = object_doc(
        "com.example.defs",
        json!({"post": {"type": "ref", "ref": "com.example.post"}}),
    );
    let post_cid = publish(&world.pds, &did, &post);
    let defs_cid = publish(&world.pds, &did, &defs);

    let app = scratch("app");
    let externs = app.join("extern");
    write_doc(
        &externs,
        &object_doc("com.atproto.repo.strongRef", json!({})),
    );
    let project = ["--extern-lexicons", "extern=atlex_lexicons"];

    let args: Vec<&str> = ["com.example.post"].into_iter().chain(project).collect();
    let (code, out, err) = world.lex(&app, "install", &args).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("2 lexicons pinned in lexicons.json: 2 fetched"),
        "{out}"
    );
    let pinned = manifest(&app);
    assert_eq!(pinned["version"], 1);
    assert_eq!(pinned["lexicons"], json!(["com.example.post"]));
    assert_eq!(
        pinned["resolutions"]["com.example.post"],
        json!({"uri": format!("at://{did}/{COLLECTION}/com.example.post"), "cid": post_cid})
    );
    assert_eq!(pinned["resolutions"]["com.example.defs"]["cid"], defs_cid);
    assert!(
        pinned["resolutions"]
            .get("com.atproto.repo.strongRef")
            .is_none()
    );
    let installed: Value = serde_json::from_str(
        &std::fs::read_to_string(app.join("lexicons/com/example/post.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(installed["$type"], COLLECTION);
    assert_eq!(installed["defs"], post["defs"]);

    // The pins hold: --ci passes, offline.
    let ci: Vec<&str> = ["--ci"].into_iter().chain(project).collect();
    let (code, _, err) = world.lex(&app, "install", &ci).await;
    assert_eq!(code, 0, "{err}");
    // Installing again fetches nothing.
    let (code, out, err) = world.lex(&app, "install", &project).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("0 fetched, 2 unchanged"), "{out}");
    let old_post = std::fs::read_to_string(app.join("lexicons/com/example/post.json")).unwrap();

    // The publisher changes the schema (an optional property: compatible)
    // and publishes it from its own project.
    let publisher = scratch("publisher");
    let changed = record_doc(
        "com.example.post",
        json!({
            "text": {"type": "string", "maxLength": 300},
            "author": {"type": "ref", "ref": "com.example.defs#thing"},
            "subject": {"type": "ref", "ref": "com.atproto.repo.strongRef"},
            "lang": {"type": "string", "format": "language"}
        }),
    );
    write_doc(&publisher.join("lexicons"), &changed);
    let publish_post = ["com.example.post", "--identifier", &did];
    let (code, out, err) = world.lex(&publisher, "publish", &publish_post).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("published"), "{out}");
    let new_cid = world.cid_of_record("com.example.post");
    assert_ne!(new_cid, post_cid);

    // A breaking change is refused unless forced.
    let breaking = record_doc("com.example.post", json!({"text": {"type": "integer"}}));
    write_doc(&publisher.join("lexicons"), &breaking);
    let (code, out, err) = world.lex(&publisher, "publish", &publish_post).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("the change is breaking"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(world.cid_of_record("com.example.post"), new_cid);

    // Upstream changed since the pin: status says so, with the change.
    let (code, out, err) = world.lex(&app, "status", &project).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("com.example.post: changed upstream since the pin (published {new_cid}, pinned {post_cid})")),
        "{out}"
    );
    assert!(out.contains("lang"), "{out}");
    // The local files are still the pinned ones.
    let (code, _, err) = world.lex(&app, "install", &ci).await;
    assert_eq!(code, 0, "{err}");

    // An edited pinned file is not overwritten, not even by --update.
    let update: Vec<&str> = ["--update"].into_iter().chain(project).collect();
    let post_path = app.join("lexicons/com/example/post.json");
    std::fs::write(&post_path, old_post.replace("300", "301")).unwrap();
    for args in [&project[..], &update[..]] {
        let (code, _, err) = world.lex(&app, "install", args).await;
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("is not the pinned"), "{err}");
    }
    let offline: Vec<&str> = ["--offline"].into_iter().chain(project).collect();
    let (code, out, _) = world.lex(&app, "status", &offline).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("com.example.post: changed locally (CID "),
        "{out}"
    );
    assert!(out.contains("com.example.defs: as pinned"), "{out}");
    std::fs::write(&post_path, &old_post).unwrap();
    let (code, out, _) = world.lex(&app, "status", &offline).await;
    assert_eq!(code, 0, "{out}");

    // --update takes the new version; the pins move with it.
    let (code, out, err) = world.lex(&app, "install", &update).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        manifest(&app)["resolutions"]["com.example.post"]["cid"],
        new_cid
    );
    let (code, _, err) = world.lex(&app, "install", &ci).await;
    assert_eq!(code, 0, "{err}");

    // A checkout whose files were not updated with the manifest fails --ci,
    // and `atlex diff` explains the difference.
    let new_post = std::fs::read_to_string(app.join("lexicons/com/example/post.json")).unwrap();
    std::fs::write(app.join("lexicons/com/example/post.json"), &old_post).unwrap();
    let (code, _, err) = world.lex(&app, "install", &ci).await;
    assert_eq!(code, 1);
    assert!(err.contains("differs: "), "{err}");
    assert!(
        err.contains(&format!("the manifest pins {new_cid}")),
        "{err}"
    );
    std::fs::write(app.join("new-post.json"), &new_post).unwrap();
    let (code, out, err) = atlex(
        &app,
        ["diff", "lexicons/com/example/post.json", "new-post.json"]
            .map(str::to_owned)
            .to_vec(),
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("lang"), "{out}");
    assert!(out.contains("compatible"), "{out}");

    // A file missing, and a pin nothing needs, fail --ci too.
    std::fs::remove_file(app.join("lexicons/com/example/defs.json")).unwrap();
    let (code, _, err) = world.lex(&app, "install", &ci).await;
    assert_eq!(code, 1);
    assert!(err.contains("missing: "), "{err}");
    // Without the extern set, the reference into it is out of date.
    std::fs::write(app.join("lexicons/com/example/post.json"), &new_post).unwrap();
    let (code, _, _) = world.lex(&app, "install", &project).await;
    assert_eq!(code, 0);
    let (code, _, err) = world.lex(&app, "install", &["--ci"]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains("out of date: com.atproto.repo.strongRef is needed"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_needs_the_lexicon_txt_record_to_name_the_account() {
    let world = World::start().await;
    let other = world.network.account("other.example.org").unwrap();
    world
        .network
        .set_txt("_lexicon.example.com", &[&format!("did={}", other.did())]);
    let publisher = scratch("elsewhere");
    write_doc(
        &publisher.join("lexicons"),
        &record_doc("com.example.note", json!({})),
    );
    // No NSID: the project's own documents (those not pinned).
    let (code, out, err) = world
        .lex(&publisher, "publish", &["--identifier", &world.did()])
        .await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(&format!(
            "com.example.note: add the DNS TXT record _lexicon.example.com with the value \"did={}\" (it names {})",
            world.did(),
            other.did()
        )),
        "{err}"
    );
    assert!(world.pds.records.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_answers_are_clear_errors_and_change_nothing() {
    let world = World::start().await;
    let did = world.did();
    let app = scratch("untrusted");

    // Proofs that do not prove the record, each of a document the
    // publisher's repository holds.
    let key_of = |account: &Account| account.signing_key().clone();
    let proofs = [
        ("altered", "the proof is not a valid CAR: block "),
        ("resigned", "the proof's commit is not signed by the key"),
        ("swapped", "and the proof lacks that block"),
        ("elsewhere", "the proof's commit is of "),
    ];
    let stranger = world.network.account("stranger.example.org").unwrap();
    for (name, _) in proofs {
        let nsid = format!("com.example.{name}");
        let record = schema_record(&record_doc(&nsid, json!({})));
        world.pds.put(&did, &nsid, &record);
        let honest = world.pds.proof(&did, &nsid).unwrap();
        let car = match name {
            // The record's bytes changed in place, under its CID.
            "altered" => {
                let text = br#"com.example.altered"#;
                let mut car = honest;
                let at = car
                    .windows(text.len())
                    .rposition(|window| window == text)
                    .unwrap();
                car[at] = b'C';
                car
            }
            // The same record in a repository of the publisher's DID whose
            // commit another key signed.
            "resigned" => {
                let mut repo = repository(&did, &key_of(&stranger));
                write(&mut repo, &nsid, &record);
                repo.record_proof(COLLECTION, &nsid).unwrap()
            }
            // Another record's block where the record's was.
            "swapped" => {
                let car = Car::from_slice(&honest).unwrap();
                let record_cid = world.cid_of_record(&nsid);
                let other = schema_record(&record_doc("com.example.other", json!({})));
                let other =
                    atlex::cbor::to_vec(&atlex::data::Value::from_json(other).unwrap()).unwrap();
                let mut writer = CarWriter::with_roots(Vec::new(), car.roots()).unwrap();
                for (cid, data) in car.blocks.iter() {
                    if cid.to_string() != record_cid {
                        writer.write_block(&cid, data).unwrap();
                    }
                }
                writer
                    .write_block(&atlex::types::Cid::of_dag_cbor(&other), &other)
                    .unwrap();
                writer.finish().unwrap()
            }
            // A commit of another DID, signed with the publisher's key.
            _ => {
                let mut repo = repository(stranger.did().as_str(), &key_of(&world.publisher));
                write(&mut repo, &nsid, &record);
                repo.record_proof(COLLECTION, &nsid).unwrap()
            }
        };
        world.pds.forge(&did, &nsid, car);
    }
    for (name, expected) in proofs {
        let nsid = format!("com.example.{name}");
        let (code, _, err) = world.lex(&app, "install", &[&nsid]).await;
        assert_eq!(code, 1, "{name}: {err}");
        assert!(err.contains(expected), "{name}: {err}");
        assert!(
            err.contains(&format!("at://{did}/{COLLECTION}/{nsid}")),
            "{name}: {err}"
        );
    }

    // A document whose id is another NSID.
    publish_at(
        &world.pds,
        &did,
        "com.example.renamed",
        &record_doc("com.example.wrongid", json!({})),
    );
    let (code, _, err) = world.lex(&app, "install", &["com.example.renamed"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the document's id is com.example.wrongid, not com.example.renamed"),
        "{err}"
    );

    // An oversized record.
    let big = record_doc(
        "com.example.big",
        json!({"text": {"type": "string", "description": "x".repeat(50_000)}}),
    );
    publish(&world.pds, &did, &big);
    let (code, _, err) = world
        .lex(
            &app,
            "install",
            &["com.example.big", "--max-record-size", "10000"],
        )
        .await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the record is 50") && err.contains("more than the 10000 allowed"),
        "{err}"
    );
    // One larger than the proof's allowance besides: the answer is not read
    // whole.
    let huge = record_doc(
        "com.example.huge",
        json!({"text": {"type": "string", "description": "x".repeat(300_000)}}),
    );
    publish(&world.pds, &did, &huge);
    let (code, _, err) = world
        .lex(
            &app,
            "install",
            &["com.example.huge", "--max-record-size", "10000"],
        )
        .await;
    assert_eq!(code, 1, "{err}");
    // 10000 bytes and the 256 KiB a proof may add.
    assert!(
        err.contains("the response body is over the 272144-byte limit"),
        "{err}"
    );

    // A TXT record naming a DID that does not publish the schema, and an
    // authority with none.
    let other = world.network.account("elsewhere.example.net").unwrap();
    other.set_pds(world.publisher.document().pds().unwrap());
    world.pds.host(&other);
    world
        .network
        .set_txt("_lexicon.example.net", &[&format!("did={}", other.did())]);
    let (code, _, err) = world.lex(&app, "install", &["net.example.thing"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "net.example.thing is not published: {}, which the _lexicon TXT record names",
            other.did()
        )),
        "{err}"
    );
    let (code, _, err) = world.lex(&app, "install", &["org.example.thing"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no lexicon authority at DNS TXT _lexicon.example.org"),
        "{err}"
    );

    // A chain of references longer than the bound.
    publish(
        &world.pds,
        &did,
        &record_doc(
            "com.example.first",
            json!({"next": {"type": "ref", "ref": "com.example.second"}}),
        ),
    );
    publish(
        &world.pds,
        &did,
        &object_doc("com.example.second", json!({})),
    );
    let (code, _, err) = world
        .lex(
            &app,
            "install",
            &["com.example.first", "--max-documents", "1"],
        )
        .await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("more than 1 documents to fetch"), "{err}");

    // Nothing was written by any of these.
    assert!(!app.join("lexicons.json").exists());
    assert!(!app.join("lexicons").exists());
}

/// The documents `tests/lex_interop/write.mjs` installed with
/// `@atproto/lex`, published on the loopback network and installed with
/// `atlex lex install com.example.post` into a new directory.
async fn install_interop_documents(name: &str) -> (PathBuf, String) {
    let world = World::start().await;
    let did = world.did();
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lex_interop");
    let documents: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(interop.join("documents.json")).unwrap())
            .unwrap();
    for document in &documents {
        publish(&world.pds, &did, document);
    }
    let dir = scratch(name);
    let (code, out, err) = world.lex(&dir, "install", &["com.example.post"]).await;
    assert_eq!(code, 0, "{out}{err}");
    (dir, did)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atlex_writes_the_bytes_atproto_lex_writes() {
    let (dir, did) = install_interop_documents("same-bytes").await;
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lex_interop/ts");
    // The same manifest but for the publisher's DID, which is the test's.
    let expected = std::fs::read_to_string(reference.join("lexicons.json"))
        .unwrap()
        .replace("did:plc:ewvi7nxzyoun6zhxrhs64oiz", &did);
    assert_eq!(
        std::fs::read_to_string(dir.join("lexicons.json")).unwrap(),
        expected
    );
    for nsid in ["post", "defs", "embed"] {
        let file = format!("lexicons/com/example/{nsid}.json");
        assert_eq!(
            std::fs::read_to_string(dir.join(&file)).unwrap(),
            std::fs::read_to_string(reference.join(&file)).unwrap(),
            "{file}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs npm (and the registry, the first time): npm ci in tests/lex_interop"]
async fn atproto_lex_accepts_what_atlex_installs() {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lex_interop");
    if !interop.join("node_modules/@atproto/lex").is_dir() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&interop)
            .status()
            .expect("npm runs");
        assert!(
            status.success(),
            "npm ci in {}: {status}",
            interop.display()
        );
    }
    let (dir, _) = install_interop_documents("checked-by-atproto-lex").await;
    let lex = interop.join("node_modules/@atproto/lex/bin/lex");
    let run = |dir: PathBuf| {
        let out = Command::new("node")
            .arg(&lex)
            .args(["install", "--ci"])
            .current_dir(dir)
            .output()
            .expect("node runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(dir.clone());
    assert_eq!(code, Some(0), "{err}");
    // And it refuses the directory once a file changes.
    let defs = dir.join("lexicons/com/example/defs.json");
    let text = std::fs::read_to_string(&defs).unwrap();
    std::fs::write(&defs, text.replace("\"name\"", "\"title\"")).unwrap();
    let (code, err) = run(dir);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("Lexicons manifest is out of date"), "{err}");
}

/// The commands of the README's "Lexicons from the network", in order, as a
/// third-party app runs them: its dependency published by one account, its
/// own lexicon published by another, the network flags added to each
/// command that uses the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_loop_runs_as_written() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = readme
        .split_once("## Lexicons from the network\n")
        .unwrap()
        .1;
    let section = section.split_once("\n## ").map_or(section, |(s, _)| s);
    let block = section.split_once("```sh\n").unwrap().1;
    let block = block.split_once("\n```").unwrap().0;
    let commands: Vec<&str> = block
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    assert!(commands.len() >= 5, "{commands:?}");

    let world = World::start().await;
    world.network.set_txt(
        "_lexicon.feed.example.com",
        &[&format!("did={}", world.did())],
    );
    let post = |extra: Value| {
        let mut properties = json!({
            "text": {"type": "string", "maxLength": 300},
            "author": {"type": "ref", "ref": "com.example.feed.defs#thing"}
        });
        properties
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        record_doc("com.example.feed.post", properties)
    };
    publish(&world.pds, &world.did(), &post(json!({})));
    publish(
        &world.pds,
        &world.did(),
        &object_doc("com.example.feed.defs", json!({"name": {"type": "string"}})),
    );
    // The app's account, which logs in to the PDS.
    let app_account = world.network.account("app.example.org").unwrap();
    app_account.set_pds(world.publisher.document().pds().unwrap());
    world.pds.host(&app_account);
    *world.pds.account.lock().unwrap() =
        Some((app_account.did().to_string(), "app.example.org".to_owned()));
    world.network.set_txt(
        "_lexicon.app.example.org",
        &[&format!("did={}", app_account.did())],
    );

    let app = scratch("readme");
    let mut wrote_own = false;
    for command in commands {
        let mut words: Vec<&str> = command.split_whitespace().collect();
        let password = words[0].strip_prefix("ATLEX_PASSWORD=");
        if let Some(password) = password {
            assert_eq!(password, PASSWORD);
            words.remove(0);
        }
        assert_eq!(words[0], "atlex", "{command}");
        let mut args: Vec<String> = words[1..].iter().map(|word| (*word).to_owned()).collect();
        let networked = words[1] == "lex" && words[2] != "lint" && !words.contains(&"--ci");
        if networked {
            args.extend(world.net_flags.iter().cloned());
        }
        // The app's own lexicon, written once the dependency is installed.
        if words[1] == "generate" && !wrote_own {
            write_doc(
                &app.join("lexicons"),
                &record_doc(
                    "org.example.app.note",
                    json!({"post": {"type": "ref", "ref": "com.example.feed.post"}}),
                ),
            );
            wrote_own = true;
        }
        // Upstream moves on before the app asks what changed.
        let expected = if words[1..] == ["lex", "status"] {
            publish(
                &world.pds,
                &world.did(),
                &post(json!({"lang": {"type": "string", "format": "language"}})),
            );
            1
        } else {
            0
        };
        let (code, out, err) = atlex(&app, args).await;
        assert_eq!(code, expected, "{command}\n{out}{err}");
        if expected == 1 {
            assert!(out.contains("changed upstream since the pin"), "{out}");
        }
    }
    assert!(wrote_own);
    assert!(app.join("src/generated").is_dir());
    // The app's lexicon is published in its repository; the update pinned
    // the dependency's new version.
    let records = world.pds.records.lock().unwrap().clone();
    assert!(records.contains_key(&(
        app_account.did().to_string(),
        "org.example.app.note".to_owned()
    )));
    let published = &records[&(world.did(), "com.example.feed.post".to_owned())];
    assert_eq!(
        &manifest(&app)["resolutions"]["com.example.feed.post"]["cid"],
        published
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_installs_what_its_authority_publishes_under_it() {
    let world = World::start().await;
    let did = world.did();
    for name in ["alpha", "beta", "gamma"] {
        publish(
            &world.pds,
            &did,
            &object_doc(&format!("com.example.{name}"), json!({})),
        );
    }
    // Another authority's schema in the same repository: not in the group.
    publish(
        &world.pds,
        &did,
        &object_doc("com.example.sub.delta", json!({})),
    );
    let app = scratch("group");
    let (code, out, err) = world.lex(&app, "install", &["com.example.*"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        manifest(&app)["lexicons"],
        json!(["com.example.alpha", "com.example.beta", "com.example.gamma"])
    );
    let (code, _, err) = world.lex(&app, "install", &["--ci"]).await;
    assert_eq!(code, 0, "{err}");

    // A group its authority publishes nothing under.
    let (code, _, err) = world.lex(&app, "install", &["com.example.none.*"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no lexicon authority at DNS TXT _lexicon.none.example.com"),
        "{err}"
    );
    world
        .network
        .set_txt("_lexicon.none.example.com", &[&format!("did={did}")]);
    let (code, _, err) = world.lex(&app, "install", &["com.example.none.*"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("publishes no schema com.example.none.*"),
        "{err}"
    );
}
