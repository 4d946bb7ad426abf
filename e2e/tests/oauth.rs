//! The OAuth client against the official PDS's authorization server
//! (`@atproto/oauth-provider`): sign-in and consent driven headlessly
//! through the provider's own JSON endpoints, as its authorization page
//! does, then DPoP-bound calls, refreshes, nonce rotation, revocation and
//! scopes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use atlex::client::Error;
use atlex::identity::Resolver;
use atlex::oauth::client::{
    CallbackParams, ClientKind, Es256Key, FileSessionStore, MemorySessionStore, OAuthClient,
    OAuthError, OAuthSession, SessionStore as _,
};
use atlex::types::{AtIdentifier, Datetime, Did};
use atlex_e2e::Pds;
use atlex_lexicons::app::bsky::feed::like::Like;
use atlex_lexicons::app::bsky::feed::post::Post;
use atlex_lexicons::com::atproto::repo::strong_ref::StrongRef;
use atlex_lexicons::com::atproto::repo::upload_blob::UploadBlob;
use atlex_lexicons::com::atproto::server::get_session::GetSession;

mod common;

use common::{BoxError, account, approve, follow_redirect};

/// Where the loopback client says the user comes back; nothing needs to
/// listen there, the consent answer carries the redirect.
const REDIRECT: &str = "http://127.0.0.1:7/callback";

/// The name the confidential client's server is reached by: the
/// authorization server refuses loopback and local names (`.localhost`,
/// `.test`, …) and IP addresses in client ids; the PDS resolves this one to
/// 127.0.0.1 (`E2E_LOOPBACK_HOSTS`), so no request leaves the machine.
const APP_HOST: &str = "client.atlex-e2e.dev";

/// The shared PDS, and the certificate (for [`APP_HOST`]) it trusts, which
/// the confidential client's server presents. A static is never dropped:
/// the servers stop when the test process exits.
struct Fixture {
    pds: Pds,
    cert: rcgen::CertifiedKey<rcgen::KeyPair>,
    /// Holds the certificate's PEM file for the PDS.
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Result<Fixture, String>> = OnceLock::new();
    let fixture = FIXTURE.get_or_init(|| {
        let cert = rcgen::generate_simple_self_signed(vec![APP_HOST.to_owned()])
            .map_err(|err| err.to_string())?;
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        let pem = dir.path().join("app.pem");
        std::fs::write(&pem, cert.cert.pem()).map_err(|err| err.to_string())?;
        let pem = pem.to_str().ok_or("a temporary path that is not UTF-8")?;
        let pds = Pds::start_with_env(&[
            ("NODE_EXTRA_CA_CERTS", pem),
            ("E2E_LOOPBACK_HOSTS", APP_HOST),
        ])
        .map_err(|err| err.to_string())?;
        Ok(Fixture {
            pds,
            cert,
            _dir: dir,
        })
    });
    match fixture {
        Ok(fixture) => fixture,
        Err(err) => panic!("the PDS: {err}"),
    }
}

fn pds() -> &'static Pds {
    &fixture().pds
}

/// A TLS listener for axum, with the fixture's certificate.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, address)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Serves `files` (path → JSON body) over HTTPS on `listener`, counting
/// the requests.
async fn serve_https(
    port_listener: tokio::net::TcpListener,
    files: Vec<(String, String)>,
    hits: Arc<AtomicUsize>,
) -> Result<(), BoxError> {
    let cert = &fixture().cert;
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der())?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)?;
    let mut app = axum::Router::new();
    for (path, body) in files {
        let hits = Arc::clone(&hits);
        app = app.route(
            &path,
            axum::routing::get(move || {
                hits.fetch_add(1, Ordering::Relaxed);
                let body = body.clone();
                async move { ([("content-type", "application/json")], body) }
            }),
        );
    }
    let listener = TlsListener {
        tcp: port_listener,
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    };
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(())
}

fn port(url: &str) -> u16 {
    url.rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"))
}

/// A resolver for the test PDS: its PLC directory, and `*.test` handles
/// answered by the PDS itself.
fn resolver(pds: &Pds, handles: &[&str]) -> Resolver {
    let address = SocketAddr::from(([127, 0, 0, 1], port(pds.url())));
    let mut builder = Resolver::builder()
        .plc_directory(pds.plc_url())
        .plain_http(true);
    for handle in handles {
        builder = builder.override_host(*handle, address);
    }
    builder.build().expect("a resolver")
}

fn loopback(pds: &Pds, scope: &str, handles: &[&str]) -> OAuthClient {
    OAuthClient::builder(ClientKind::loopback(REDIRECT, scope).expect("a loopback client"))
        .resolver(resolver(pds, handles))
        .build()
        .expect("an OAuth client")
}

/// Signs in and consents as `username`; what the redirect to the client
/// carries.
async fn consent(
    authorize: &reqwest::Url,
    username: &str,
    password: &str,
) -> Result<CallbackParams, BoxError> {
    let redirect = approve(authorize, username, password).await?;
    let callback = follow_redirect(authorize, &redirect).await?;
    Ok(CallbackParams::from_query(
        callback.query().unwrap_or_default(),
    ))
}

/// The whole sign-in of `name` from `input` (its handle or DID).
async fn sign_in(client: &OAuthClient, input: &str, name: &str) -> Result<OAuthSession, BoxError> {
    let authorize = client.authorize(input).await?;
    let params = consent(
        &authorize,
        &format!("{name}.test"),
        &format!("{name}-password"),
    )
    .await?;
    Ok(client.callback(&params).await?)
}

fn post(text: &str) -> Post {
    Post::builder()
        .text(text)
        .created_at(Datetime::now())
        .build()
}

#[tokio::test]
async fn loopback_client_signs_in_writes_refreshes_and_signs_out() -> Result<(), BoxError> {
    let pds = pds();
    let did = account(pds, "alice").await?;
    let client = loopback(pds, "atproto transition:generic", &["alice.test"]);

    // From the handle: resolved, then the PDS's authorization server.
    let session = sign_in(&client, "alice.test", "alice").await?;
    assert_eq!(session.did(), did.as_str());
    assert_eq!(session.pds(), pds.url());
    assert!(session.scopes().contains("transition:generic"));
    let data = session.data();
    assert!(data.refresh_token.is_some());
    assert!(client.session_store().get(did.as_str()).await?.is_some());

    // DPoP-bound calls: a query and a record write.
    let xrpc = session.client()?;
    let me = xrpc.query(GetSession, &()).await?;
    assert_eq!(me.did, did);
    let repo = AtIdentifier::from(did.clone());
    let created = xrpc
        .create_record(&repo, &post("written over OAuth"))
        .await?;
    let rkey = created.uri.rkey().ok_or("no record key")?;
    let read = xrpc.get_record::<Post>(&repo, &rkey).await?;
    assert_eq!(read.value.text, "written over OAuth");
    // An upload: a binary body, with its proof like any call.
    let bytes = b"plain text, uploaded over OAuth".to_vec();
    let uploaded = xrpc
        .procedure(
            UploadBlob,
            &atlex::rt::Binary::new("text/plain", bytes.clone()),
        )
        .await?;
    assert_eq!(uploaded.blob.size, Some(bytes.len() as u64));

    // A refresh: new tokens (the refresh token rotates), calls go on.
    session.refresh().await?;
    assert_eq!(session.refresh_count(), 1);
    let refreshed = session.data();
    assert_ne!(refreshed.access_token, data.access_token);
    assert_ne!(refreshed.refresh_token, data.refresh_token);
    assert_eq!(
        client.session_store().get(did.as_str()).await?,
        Some(refreshed.clone())
    );
    xrpc.query(GetSession, &()).await?;

    // The PDS's nonce changed: the call is answered `use_dpop_nonce` and
    // sent again with the new one.
    client.nonces().set(pds.url(), "a-stale-nonce");
    xrpc.query(GetSession, &()).await?;
    assert_ne!(
        client.nonces().get(pds.url()).as_deref(),
        Some("a-stale-nonce")
    );
    // The same for the authorization server's token endpoint.
    client.nonces().set(pds.url(), "a-stale-nonce");
    session.refresh().await?;
    assert_eq!(session.refresh_count(), 2);

    // Sign-out revokes: the old tokens no longer work, and the session is
    // gone from the store.
    let before = session.data();
    session.sign_out().await?;
    assert!(client.session_store().get(did.as_str()).await?.is_none());
    let stale = OAuthSession::clone(&session);
    let err = stale.client()?.query(GetSession, &()).await.unwrap_err();
    assert!(
        matches!(err, Error::Auth { .. } | Error::Common { status: 401, .. }),
        "{err:?}"
    );
    let err = session.refresh().await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Server { error, .. } if error == "invalid_grant"),
        "{err:?} after {before:?}"
    );
    Ok(())
}

/// `n` calls at once through `session`, each checked to be `did`'s.
async fn calls_at_once(session: &OAuthSession, did: &Did, n: usize) -> Result<(), BoxError> {
    let xrpc = session.client()?;
    let calls = (0..n).map(|_| {
        let xrpc = xrpc.clone();
        async move { xrpc.query(GetSession, &()).await }
    });
    for answer in futures_util::future::join_all(calls).await {
        assert_eq!(answer?.did, *did);
    }
    Ok(())
}

#[tokio::test]
async fn a_session_in_files_outlives_its_client() -> Result<(), BoxError> {
    let pds = pds();
    let did = account(pds, "gina").await?;
    let dir = tempfile::tempdir()?;
    let make = || -> Result<OAuthClient, BoxError> {
        Ok(OAuthClient::builder(ClientKind::loopback(
            REDIRECT,
            "atproto transition:generic",
        )?)
        .resolver(resolver(pds, &[]))
        .session_store(Arc::new(FileSessionStore::new(dir.path())?))
        .build()?)
    };
    let first = make()?;
    let session = sign_in(&first, did.as_str(), "gina").await?;
    session.refresh().await?;
    let refreshed = session.data();
    drop((session, first));

    // A new client (a restarted app) continues with the rotated tokens.
    let restored = make()?.restore(&did).await?;
    assert_eq!(restored.data(), refreshed);
    assert_eq!(restored.client()?.query(GetSession, &()).await?.did, did);
    restored.refresh().await?;
    Ok(())
}

#[tokio::test]
async fn concurrent_calls_refresh_once() -> Result<(), BoxError> {
    let pds = pds();
    let did = account(pds, "bob").await?;
    let store = Arc::new(MemorySessionStore::default());
    let client = OAuthClient::builder(ClientKind::loopback(
        REDIRECT,
        "atproto transition:generic",
    )?)
    .resolver(resolver(pds, &[]))
    .session_store(store.clone())
    .build()?;
    let session = sign_in(&client, did.as_str(), "bob").await?;

    // The stored session says its token has expired: the calls that find
    // it so refresh it once between them.
    let mut data = session.data();
    data.expires_at = Some(1);
    store.put(&data).await?;
    let restored = client.restore(&did).await?;
    calls_at_once(&restored, &did, 8).await?;
    assert_eq!(restored.refresh_count(), 1);

    // A token the PDS refuses (`invalid_token`): refreshed once, then the
    // calls go through.
    let mut data = restored.data();
    let good = data.access_token.clone();
    // One character changed inside the signature, where every bit counts
    // (the last character of base64url may only carry padding bits).
    let at = good.len() - 20;
    let other = if &good[at..=at] == "A" { "B" } else { "A" };
    data.access_token = format!("{}{other}{}", &good[..at], &good[at + 1..]);
    assert_ne!(data.access_token, good);
    store.put(&data).await?;
    let restored = client.restore(&did).await?;
    calls_at_once(&restored, &did, 8).await?;
    assert_eq!(restored.refresh_count(), 1);
    Ok(())
}

#[tokio::test]
async fn a_scope_the_session_lacks_is_refused_by_atlex_first() -> Result<(), BoxError> {
    let pds = pds();
    let did = account(pds, "carol").await?;
    // Likes only: no posts.
    let client = loopback(pds, "atproto repo:app.bsky.feed.like", &[]);
    let session = sign_in(&client, did.as_str(), "carol").await?;
    assert!(session.scopes().contains("repo:app.bsky.feed.like"));
    let repo = AtIdentifier::from(did.clone());
    let xrpc = session.client()?;

    // A like is covered.
    let subject = StrongRef::builder()
        .uri(format!("at://{did}/app.bsky.feed.post/3jzfcijpj2z2a").parse()?)
        .cid("bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm".parse()?)
        .build();
    let like = Like::builder()
        .subject(subject)
        .created_at(Datetime::now())
        .build();
    xrpc.create_record(&repo, &like).await?;

    // A post is not: the PDS refuses it...
    let err = xrpc
        .create_record(&repo, &post("not allowed"))
        .await
        .unwrap_err();
    let status = match &err {
        Error::Common { status, .. }
        | Error::Endpoint { status, .. }
        | Error::Http { status, .. } => *status,
        other => panic!("the PDS did not refuse: {other:?}"),
    };
    assert!(status == 403 || status == 401, "{err}");

    // ...and with the check on, atlex says so before sending, naming the
    // scope.
    session.check_scopes(true);
    let err = xrpc
        .create_record(&repo, &post("not allowed"))
        .await
        .unwrap_err();
    let Error::Auth { source, .. } = &err else {
        panic!("not refused by the scope check: {err:?}");
    };
    let missing = source
        .downcast_ref::<OAuthError>()
        .and_then(|e| match e {
            OAuthError::ScopeMissing(missing) => Some(missing.scope().to_owned()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("not a missing scope: {source}"));
    assert_eq!(missing, "repo:app.bsky.feed.post?action=create");
    // What the scopes cover still goes through with the check on.
    xrpc.create_record(&repo, &like).await?;
    Ok(())
}

#[tokio::test]
async fn callbacks_with_a_wrong_issuer_or_a_used_state_are_refused() -> Result<(), BoxError> {
    let pds = pds();
    let did = account(pds, "dave").await?;
    let client = loopback(pds, "atproto", &[]);

    let authorize = client.authorize(did.as_str()).await?;
    let params = consent(&authorize, "dave.test", "dave-password").await?;
    assert_eq!(params.iss.as_deref(), Some(pds.url()));

    // Another issuer: refused (and the state is spent).
    let wrong = CallbackParams {
        iss: Some("https://evil.example.com".to_owned()),
        ..params.clone()
    };
    let err = client.callback(&wrong).await.unwrap_err();
    assert!(matches!(err, OAuthError::IssuerMismatch { .. }), "{err:?}");
    // The same state again: unknown.
    let err = client.callback(&params).await.unwrap_err();
    assert!(matches!(err, OAuthError::UnknownState), "{err:?}");
    // A state never issued.
    let unknown = CallbackParams {
        state: Some("never-issued".to_owned()),
        ..params.clone()
    };
    assert!(matches!(
        client.callback(&unknown).await,
        Err(OAuthError::UnknownState)
    ));

    // A fresh authorization goes through once, and its state only once.
    let authorize = client.authorize(did.as_str()).await?;
    let params = consent(&authorize, "dave.test", "dave-password").await?;
    client.callback(&params).await?;
    assert!(matches!(
        client.callback(&params).await,
        Err(OAuthError::UnknownState)
    ));
    Ok(())
}

/// Serves `kind`'s metadata (and keys, for a confidential client) over
/// HTTPS on `listener`; returns the counter of requests.
async fn host_client(
    listener: tokio::net::TcpListener,
    kind: &ClientKind,
) -> Result<Arc<AtomicUsize>, BoxError> {
    let mut files = vec![(
        "/oauth-client-metadata.json".to_owned(),
        kind.metadata().ok_or("no metadata")?.to_json(),
    )];
    if let Some(jwks) = kind.jwks() {
        files.push(("/jwks.json".to_owned(), jwks));
    }
    let hits = Arc::new(AtomicUsize::new(0));
    serve_https(listener, files, Arc::clone(&hits)).await?;
    Ok(hits)
}

#[tokio::test]
async fn public_web_client_signs_in() -> Result<(), BoxError> {
    let pds = pds();
    let did = account(pds, "frank").await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("https://{APP_HOST}:{}", listener.local_addr()?.port());
    let kind = ClientKind::public(
        &format!("{base}/oauth-client-metadata.json"),
        &["https://app.example.com/callback"],
        "atproto transition:generic",
    )?;
    let hits = host_client(listener, &kind).await?;
    let client = OAuthClient::builder(kind)
        .resolver(resolver(pds, &[]))
        .build()?;
    let session = sign_in(&client, did.as_str(), "frank").await?;
    assert!(
        hits.load(Ordering::Relaxed) >= 1,
        "the PDS read the metadata"
    );
    assert_eq!(session.client()?.query(GetSession, &()).await?.did, did);
    session.refresh().await?;
    session.sign_out().await?;
    Ok(())
}

#[tokio::test]
async fn confidential_client_signs_in_with_client_assertions() -> Result<(), BoxError> {
    let pds = pds();
    let did = account(pds, "erin").await?;

    // The app's metadata and keys at https://<APP_HOST>:<port>, which the
    // PDS fetches (and trusts through the fixture's certificate).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("https://{APP_HOST}:{}", listener.local_addr()?.port());
    let kind = ClientKind::confidential(
        &format!("{base}/oauth-client-metadata.json"),
        &["https://app.example.com/callback"],
        "atproto transition:generic",
        &format!("{base}/jwks.json"),
        Es256Key::generate()?,
        "key-1",
    )?;
    let hits = host_client(listener, &kind).await?;

    let client = OAuthClient::builder(kind)
        .resolver(resolver(pds, &[]))
        .build()?;
    let session = sign_in(&client, did.as_str(), "erin").await?;
    assert!(
        hits.load(Ordering::Relaxed) >= 2,
        "the PDS read the metadata and the keys"
    );
    assert_eq!(session.did(), did.as_str());

    let xrpc = session.client()?;
    let repo = AtIdentifier::from(did.clone());
    xrpc.create_record(&repo, &post("from a confidential client"))
        .await?;
    assert_eq!(xrpc.query(GetSession, &()).await?.did, did);

    // The refresh and the revocation authenticate the client too.
    session.refresh().await?;
    assert_eq!(session.refresh_count(), 1);
    xrpc.query(GetSession, &()).await?;
    session.sign_out().await?;
    let err = session.refresh().await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Server { error, .. } if error == "invalid_grant"),
        "{err:?}"
    );
    Ok(())
}
