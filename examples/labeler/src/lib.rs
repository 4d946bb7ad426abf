//! A labeler that follows a repository event stream (the firehose
//! example's `com.atproto.sync.subscribeRepos`) and labels the posts whose
//! text holds a word.
//!
//! Everything it keeps is in its data directory:
//! - `label.key`: its label signing key (made on the first start), whose
//!   public half its DID document publishes as `#atproto_label`;
//! - `labels.sqlite`: its labels (the log `subscribeLabels` serves, and the
//!   index `queryLabels` reads), from `atlex-labeler`;
//! - `cursor.sqlite`: the `seq` of the last firehose event it handled.
//!
//! Its DID is `did:web:localhost%3A<port>`, from the port it listens on, and
//! it serves the document at `/.well-known/did.json` next to the labeler's
//! endpoints: a resolver fetches it over plain HTTP, as `did:web` allows for
//! `localhost`. Start it on the same port and directory again and it is the
//! same labeler.
//!
//! Delivery from the firehose is at least once: after a crash, the events
//! handled since the cursor was last saved come again. The labeler looks a
//! post up in its own labels before labeling it, so a post is labeled once.

use std::error::Error;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use atlex::client::{Client, FutureCursor, Reconnect};
use atlex::crypto::{Curve, SigningKey};
use atlex::eventlog::SqliteCursor;
use atlex::firehose::RepoCommit as _;
use atlex::identity::{DidDocument, LABELER_SERVICE};
use atlex::label::ATPROTO_LABEL;
use atlex::types::{Did, Uri};
use atlex_labeler::{Labeler, NewLabel};
use atlex_lexicons::Record;
use atlex_lexicons::com::atproto::label::query_labels;
use atlex_lexicons::com::atproto::sync::subscribe_repos::{self, Message, SubscribeRepos};
use futures_util::StreamExt as _;

/// Errors of the labeler, sent across tasks.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// What the labeler does and where it keeps its state.
#[derive(Clone, Debug)]
pub struct Config {
    /// The data directory (created if need be).
    pub data: PathBuf,
    /// The base URL of the server whose `subscribeRepos` it follows.
    pub firehose: String,
    /// A post whose text holds this word (in any case) is labeled.
    pub word: String,
    /// The label's value.
    pub value: String,
}

/// Whether a post's `text` holds `word`, letter case aside.
pub fn matches(text: &str, word: &str) -> bool {
    text.to_lowercase().contains(&word.to_lowercase())
}

/// The DID of a labeler listening on `port` of localhost.
pub fn did_for_port(port: u16) -> Result<Did, BoxError> {
    Ok(Did::new(format!("did:web:localhost%3A{port}"))?)
}

/// Serves the labeler on `listener` and labels what the firehose of
/// `config` brings, until the firehose ends or an error stops it.
pub async fn run(config: Config, listener: tokio::net::TcpListener) -> Result<(), BoxError> {
    let port = listener.local_addr()?.port();
    std::fs::create_dir_all(&config.data)?;
    let did = did_for_port(port)?;
    let key = load_or_make_key(&config.data.join("label.key"))?;
    let labeler = Labeler::open(config.data.join("labels.sqlite"), did.clone(), key)?;
    let endpoint = format!("http://localhost:{port}");
    let document = DidDocument::new(&did)
        .with_key(ATPROTO_LABEL, &labeler.public_key())
        .with_service(LABELER_SERVICE, &endpoint);
    let document = serde_json::to_vec(&document)?;
    let app = labeler.router().into_router().route(
        "/.well-known/did.json",
        axum::routing::get(move || {
            let document = document.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    document,
                )
            }
        }),
    );
    eprintln!(
        "labeler {did} on {endpoint}: queryLabels, subscribeLabels, /.well-known/did.json; following {}",
        config.firehose
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let followed = follow(&config, &labeler).await;
    server.abort();
    followed
}

/// Reads the firehose from the saved cursor (from its start the first
/// time) and labels each matching post, saving the cursor after each event
/// handled.
async fn follow(config: &Config, labeler: &Labeler) -> Result<(), BoxError> {
    let client = Client::new(&config.firehose)?;
    let mut params = subscribe_repos::Params::new();
    // Without a saved cursor, from the oldest event the server keeps.
    params.cursor = Some(0);
    let cursor = SqliteCursor::open(config.data.join("cursor.sqlite"), "firehose")?;
    let mut stream = client
        .subscribe(SubscribeRepos, &params)
        .reconnect(Reconnect::default())
        // A firehose that restarted with new numbers answers `FutureCursor`
        // to the saved cursor: read again from its oldest event. Posts seen
        // before are not labeled twice (`label_commit` checks), and the
        // error below says that events may have been missed.
        .on_future_cursor(FutureCursor::FromOldest)
        .resume_with(cursor)?;
    while let Some(item) = stream.next().await {
        match item {
            Ok(Message::Commit(commit)) => label_commit(config, labeler, &commit).await?,
            Ok(_) => {}
            Err(error) => {
                eprintln!("labeler: firehose: {error}");
                continue;
            }
        }
        // An fsync: off the runtime's async work, on this thread.
        tokio::task::block_in_place(|| stream.save_cursor())?;
    }
    Ok(())
}

/// Labels the posts of `commit` (created or updated) that match, unless
/// they are labeled already.
async fn label_commit(
    config: &Config,
    labeler: &Labeler,
    commit: &subscribe_repos::Commit,
) -> Result<(), BoxError> {
    let ops = match commit.decode_ops::<Record>() {
        Ok(ops) => ops,
        Err(error) => {
            eprintln!("labeler: commit {} of {}: {error}", commit.seq, commit.repo);
            return Ok(());
        }
    };
    for op in ops {
        let op = match op {
            Ok(op) => op,
            Err(error) => {
                eprintln!("labeler: commit {}: {error}", commit.seq);
                continue;
            }
        };
        let Some(Record::AppBskyFeedPost(post)) = &op.record else {
            continue;
        };
        if !matches(&post.text, &config.word) {
            continue;
        }
        let uri: Uri = format!("at://{}/{}/{}", commit.repo, op.collection, op.rkey).parse()?;
        if labeled(labeler, &uri, &config.value).await? {
            continue;
        }
        let mut label = NewLabel::new(uri.clone(), config.value.clone());
        if let Some(cid) = op.cid {
            label = label.cid(cid);
        }
        let seq = labeler.emit(label).await?;
        eprintln!("labeler: label {seq}: {} on {uri}", config.value);
    }
    Ok(())
}

/// Whether the labeler's own labels have `value` on `uri` (and not
/// negated).
async fn labeled(labeler: &Labeler, uri: &Uri, value: &str) -> Result<bool, BoxError> {
    let mut params = query_labels::Params::new(vec![uri.as_str().to_owned()]);
    params.sources = Some(vec![labeler.did().clone()]);
    params.limit = Some(250);
    let answer = labeler.query(params).await?;
    Ok(answer
        .labels
        .iter()
        .any(|label| label.val == value && label.neg != Some(true)))
}

/// The signing key in `path` (32 bytes of secp256k1 secret, in hex), made
/// and saved the first time. The file is written whole, then renamed into
/// place, so a crash leaves no half-written key.
fn load_or_make_key(path: &Path) -> Result<SigningKey, BoxError> {
    match std::fs::read_to_string(path) {
        Ok(hex) => return Ok(SigningKey::from_hex(Curve::K256, hex.trim())?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error.into()),
    }
    let key = SigningKey::generate(Curve::K256)?;
    let hex: String = key.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let temp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    // Readable by its owner only.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temp)?;
    file.write_all(hex.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(key)
}
