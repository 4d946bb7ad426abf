//! `did:plc` operations: chains made and verified, and every way a
//! directory's log can break the rules refused with the reason.

#![cfg(feature = "plc")]

use atlex_core::data::Value;
use atlex_core::types::{Datetime, Did};
use atlex_identity::crypto::{Curve, PublicKey, SigningKey};
use atlex_identity::plc::{
    self, Kind, LogEntry, MAX_OPERATION_SIZE, Operation, PlcError, SignedOperation, State,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn key(curve: Curve) -> SigningKey {
    SigningKey::generate(curve).unwrap()
}

/// A genesis for an account with these rotation keys.
fn genesis(rotation: &[&SigningKey]) -> Operation {
    let keys: Vec<PublicKey> = rotation.iter().map(|k| k.public_key()).collect();
    Operation::atproto(
        &keys,
        &key(Curve::K256).public_key(),
        "alice.test",
        "https://pds.test",
    )
}

/// The operation as JSON, changed by `edit`, read back.
fn edited(operation: &SignedOperation, edit: impl FnOnce(&mut serde_json::Value)) -> Value {
    let mut json = serde_json::to_value(operation).unwrap();
    edit(&mut json);
    serde_json::from_value(json).unwrap()
}

fn entry(did: &Did, operation: &SignedOperation, nullified: bool, micros: i64) -> LogEntry {
    LogEntry {
        did: did.to_string(),
        operation: operation.clone(),
        cid: operation.cid().to_string(),
        nullified,
        created_at: Datetime::from_unix_micros(micros).unwrap(),
    }
}

const HOUR: i64 = 3_600_000_000;
const START: i64 = 1_780_000_000_000_000;

#[test]
fn a_chain_of_updates_and_a_tombstone_verifies() {
    let (k1, k2) = (key(Curve::P256), key(Curve::K256));
    let first = genesis(&[&k1, &k2]).sign(&k2).unwrap();
    let did = first.did().unwrap();
    let id = did.as_str().strip_prefix("did:plc:").unwrap();
    assert_eq!(id.len(), 24);
    assert!(
        id.bytes()
            .all(|b| b"abcdefghijklmnopqrstuvwxyz234567".contains(&b))
    );
    assert_eq!(first.kind(), &Kind::Operation);
    assert_eq!(first.prev(), None);

    let mut next = first.state().unwrap().successor(&first);
    next.also_known_as = vec!["at://alice.example.org".to_owned()];
    next.rotation_keys.reverse();
    let second = next.sign(&k1).unwrap();
    assert_eq!(second.prev(), Some(first.cid().to_string().as_str()));
    assert!(second.did().is_err(), "only a genesis names a DID");
    let state = plc::verify_chain(&did, &[first.clone(), second.clone()]).unwrap();
    let State::Active(current) = state else {
        panic!("{state:?}")
    };
    assert_eq!(current.handle(), Some("alice.example.org"));
    assert_eq!(current.pds(), Some("https://pds.test"));
    assert_eq!(current.rotation_keys[0], k2.public_key().to_did_key());

    let end = plc::tombstone(&second, &k2).unwrap();
    assert_eq!(end.kind(), &Kind::Tombstone);
    let chain = [first.clone(), second.clone(), end.clone()];
    assert_eq!(plc::verify_chain(&did, &chain).unwrap(), State::Tombstoned);
    // Nothing follows a tombstone.
    let after = next.successor(&end).sign(&k1).unwrap();
    let chain = [first, second, end, after];
    assert!(matches!(
        plc::verify_chain(&did, &chain),
        Err(PlcError::Chain(message)) if message.contains("follows a tombstone")
    ));
}

#[test]
fn operations_read_from_json_keep_their_cid() {
    let k1 = key(Curve::K256);
    let first = genesis(&[&k1]).sign(&k1).unwrap();
    let json = serde_json::to_string(&first).unwrap();
    assert!(json.contains(r#""prev":null"#), "{json}");
    assert!(json.contains(r#""type":"plc_operation""#), "{json}");
    let read: SignedOperation = serde_json::from_str(&json).unwrap();
    assert_eq!(read.cid(), first.cid());
    assert_eq!(read.did().unwrap(), first.did().unwrap());
    // A field this version does not know takes part in the CID and the
    // signature: kept, not dropped.
    let extra = edited(&first, |json| json["note"] = "hi".into());
    let extra = SignedOperation::from_value(extra).unwrap();
    assert_ne!(extra.cid(), first.cid());
    assert!(matches!(
        extra.verify(&[k1.public_key().to_did_key()]),
        Err(PlcError::BadSignature { .. })
    ));
}

#[test]
fn forged_and_misplaced_operations_are_refused() {
    let (k1, k2, stranger) = (key(Curve::K256), key(Curve::P256), key(Curve::K256));
    let first = genesis(&[&k1, &k2]).sign(&k1).unwrap();
    let did = first.did().unwrap();
    let state = first.state().unwrap();

    // Signed by a key that is not a rotation key.
    let forged = state.successor(&first).sign(&stranger).unwrap();
    let err = plc::verify_chain(&did, &[first.clone(), forged]).unwrap_err();
    assert!(matches!(err, PlcError::BadSignature { .. }), "{err}");

    // A genesis signed by none of its own rotation keys.
    let self_forged = genesis(&[&k1]).sign(&stranger).unwrap();
    let err = plc::verify_chain(&self_forged.did().unwrap(), &[self_forged]).unwrap_err();
    assert!(matches!(err, PlcError::BadSignature { .. }), "{err}");

    // A field changed after signing.
    let tampered = edited(&first, |json| {
        json["alsoKnownAs"] = serde_json::json!(["at://mallory.test"]);
    });
    let tampered = SignedOperation::from_value(tampered).unwrap();
    let err = plc::verify_chain(&tampered.did().unwrap(), &[tampered]).unwrap_err();
    assert!(matches!(err, PlcError::BadSignature { .. }), "{err}");

    // The log of another DID.
    let other = genesis(&[&k1]).sign(&k1).unwrap();
    let err = plc::verify_chain(&did, &[other]).unwrap_err();
    assert!(matches!(err, PlcError::WrongDid { .. }), "{err}");

    // An update whose `prev` is not the operation before it.
    let second = state.successor(&first).sign(&k1).unwrap();
    let third = state.successor(&first).sign(&k1).unwrap();
    let err = plc::verify_chain(&did, &[first.clone(), second.clone(), third]).unwrap_err();
    assert!(
        matches!(&err, PlcError::Chain(m) if m.contains("names")),
        "{err}"
    );

    // A log that does not start with a genesis, and an empty one.
    let err = plc::verify_chain(&did, &[second]).unwrap_err();
    assert!(
        matches!(&err, PlcError::Chain(m) if m.contains("not a genesis")),
        "{err}"
    );
    assert!(plc::verify_chain(&did, &[]).is_err());

    // A high-S signature verifies mathematically but is refused: it would
    // give the same operation another CID.
    let signature = URL_SAFE_NO_PAD.decode(sig_of(&first)).unwrap();
    let low = k256::ecdsa::Signature::from_slice(&signature).unwrap();
    let (r, s) = low.split_scalars();
    let high = k256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
    let high_s = edited(&first, |json| {
        json["sig"] = URL_SAFE_NO_PAD.encode(high.to_bytes()).into();
    });
    let high_s = SignedOperation::from_value(high_s).unwrap();
    let err = plc::verify_chain(&high_s.did().unwrap(), &[high_s]).unwrap_err();
    assert!(matches!(err, PlcError::BadSignature { .. }), "{err}");
}

/// The signature of an operation, from its JSON.
fn sig_of(operation: &SignedOperation) -> String {
    serde_json::to_value(operation).unwrap()["sig"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn malformed_operations_are_refused_with_the_reason() {
    let k1 = key(Curve::K256);
    let first = genesis(&[&k1]).sign(&k1).unwrap();
    let refused = |edit: &dyn Fn(&mut serde_json::Value), expected: &str| {
        let value = edited(&first, |json| edit(json));
        match SignedOperation::from_value(value) {
            Err(PlcError::Malformed(message)) => {
                assert!(message.contains(expected), "{message:?} lacks {expected:?}");
            }
            other => panic!("expected {expected:?}, got {other:?}"),
        }
    };
    refused(
        &|json| json["type"] = "plc_update".into(),
        "unknown operation type",
    );
    refused(
        &|json| {
            let sig = json["sig"].as_str().unwrap().to_owned();
            json["sig"] = format!("{sig}=").into();
        },
        "base64url",
    );
    refused(
        &|json| {
            json.as_object_mut()
                .unwrap()
                .remove("sig")
                .map(drop)
                .unwrap()
        },
        "`sig`",
    );
    refused(
        &|json| {
            json.as_object_mut()
                .unwrap()
                .remove("prev")
                .map(drop)
                .unwrap()
        },
        "`prev`",
    );
    refused(
        &|json| json["rotationKeys"] = serde_json::json!([]),
        "rotation keys",
    );
    let key_text = k1.public_key().to_did_key();
    refused(
        &|json| json["rotationKeys"] = serde_json::json!([key_text, key_text]),
        "listed twice",
    );
    let six: Vec<String> = (0..6)
        .map(|_| key(Curve::K256).public_key().to_did_key())
        .collect();
    refused(
        &|json| json["rotationKeys"] = serde_json::json!(six),
        "6 rotation keys",
    );
    refused(
        &|json| json["rotationKeys"] = serde_json::json!(["did:web:example.com"]),
        "rotation key",
    );
    refused(
        &|json| json["verificationMethods"]["atproto"] = "zQ3sh".into(),
        "not a did:key",
    );
    refused(
        &|json| json["verificationMethods"]["atproto"] = "did:key:z0OIl".into(),
        "base58btc",
    );
    let eleven: serde_json::Map<String, serde_json::Value> = (0..11)
        .map(|i| (format!("k{i}"), key_text.clone().into()))
        .collect();
    refused(
        &|json| json["verificationMethods"] = eleven.clone().into(),
        "11 verification methods",
    );
    refused(
        &|json| json["alsoKnownAs"] = serde_json::json!(["at://x".repeat(2000)]),
        &format!("at most {MAX_OPERATION_SIZE}"),
    );
    refused(
        &|json| json["services"]["atproto_pds"] = "x".into(),
        "service",
    );
    // JSON that is not an object at all, through serde.
    assert!(serde_json::from_str::<SignedOperation>("[1]").is_err());
}

#[test]
fn a_legacy_creation_starts_a_log() {
    let (signing, recovery) = (key(Curve::K256), key(Curve::K256));
    let unsigned = serde_json::json!({
        "type": "create",
        "signingKey": signing.public_key().to_did_key(),
        "recoveryKey": recovery.public_key().to_did_key(),
        "handle": "old.test",
        "service": "https://pds.test",
        "prev": null,
    });
    let value: Value = serde_json::from_value(unsigned.clone()).unwrap();
    let bytes = atlex_core::cbor::to_vec(&value).unwrap();
    let mut signed = unsigned;
    signed["sig"] = URL_SAFE_NO_PAD.encode(signing.sign(&bytes)).into();
    let create = SignedOperation::from_value(serde_json::from_value(signed).unwrap()).unwrap();
    assert_eq!(create.kind(), &Kind::LegacyCreate);
    let did = create.did().unwrap();
    let state = create.state().unwrap();
    assert_eq!(state.handle(), Some("old.test"));
    assert_eq!(
        state.signing_key(),
        Some(signing.public_key().to_did_key().as_str())
    );
    assert_eq!(
        state.rotation_keys,
        [
            recovery.public_key().to_did_key(),
            signing.public_key().to_did_key()
        ]
    );
    // The recovery key updates it, as a regular operation.
    let update = state.successor(&create).sign(&recovery).unwrap();
    assert!(matches!(
        plc::verify_chain(&did, &[create.clone(), update.clone()]),
        Ok(State::Active(_))
    ));
    // A legacy creation anywhere but first is refused.
    assert!(plc::verify_chain(&did, &[create.clone(), create]).is_err());
}

#[test]
fn nullified_operations_need_a_recovery_by_a_higher_key_in_time() {
    // k1 outranks k2.
    let (k1, k2) = (key(Curve::P256), key(Curve::K256));
    let first = genesis(&[&k1, &k2]).sign(&k1).unwrap();
    let did = first.did().unwrap();
    let state = first.state().unwrap();
    let mut hijack = state.successor(&first);
    hijack.also_known_as = vec!["at://mallory.test".to_owned()];
    let hijack = hijack.sign(&k2).unwrap();
    // A second operation in the nullified run, after the first.
    let hijack_more = hijack
        .state()
        .unwrap()
        .successor(&hijack)
        .sign(&k2)
        .unwrap();
    let recovery = state.successor(&first).sign(&k1).unwrap();

    let log = |recovered_after: i64, recovery: &SignedOperation| {
        vec![
            entry(&did, &first, false, START),
            entry(&did, &hijack, true, START + HOUR),
            entry(&did, &hijack_more, true, START + 2 * HOUR),
            entry(&did, recovery, false, START + HOUR + recovered_after),
        ]
    };
    let state = plc::verify_log(&did, &log(10 * HOUR, &recovery)).unwrap();
    let State::Active(current) = state else {
        panic!("{state:?}")
    };
    assert_eq!(current.handle(), Some("alice.test"));

    // Too late: 73 hours after the operation it replaced.
    let err = plc::verify_log(&did, &log(73 * HOUR, &recovery)).unwrap_err();
    assert!(
        matches!(&err, PlcError::Chain(m) if m.contains("recovery window")),
        "{err}"
    );

    // Replaced by a key of the same priority.
    let same = state_of(&first).successor(&first).sign(&k2).unwrap();
    let err = plc::verify_log(&did, &log(HOUR, &same)).unwrap_err();
    assert!(
        matches!(&err, PlcError::Chain(m) if m.contains("no higher priority")),
        "{err}"
    );

    // Nullified, but nothing replaced it.
    let lone = vec![
        entry(&did, &first, false, START),
        entry(&did, &hijack, true, START + HOUR),
    ];
    let err = plc::verify_log(&did, &lone).unwrap_err();
    assert!(
        matches!(&err, PlcError::Chain(m) if m.contains("nothing replaced")),
        "{err}"
    );

    // The directory's CID for an operation is not its CID.
    let mut wrong = log(HOUR, &recovery);
    wrong[1].cid = first.cid().to_string();
    let err = plc::verify_log(&did, &wrong).unwrap_err();
    assert!(
        matches!(&err, PlcError::Chain(m) if m.contains("gives")),
        "{err}"
    );

    // A directory log entry as JSON.
    let json = serde_json::to_string(&log(HOUR, &recovery)).unwrap();
    assert!(json.contains(r#""nullified":true"#), "{json}");
    assert!(json.contains(r#""createdAt":"#), "{json}");
    let read: Vec<LogEntry> = serde_json::from_str(&json).unwrap();
    assert!(plc::verify_log(&did, &read).is_ok());
}

fn state_of(operation: &SignedOperation) -> Operation {
    operation.state().unwrap().clone()
}

/// The test network's PLC directory takes signed operations as the real
/// one does: a genesis, updates, a recovery nullifying what it replaces, a
/// tombstone; and refuses forgeries, with the directory's answer.
#[cfg(feature = "testkit")]
#[tokio::test]
async fn the_test_network_directory_takes_signed_operations() {
    use atlex_identity::identity::testkit::TestNetwork;
    use atlex_identity::plc::{DirectoryError, PlcDirectory};

    let network = TestNetwork::start().await.unwrap();
    let directory = PlcDirectory::new(network.plc_directory()).unwrap();
    let resolver = network.resolver();
    let (k1, k2, signing) = (key(Curve::P256), key(Curve::K256), key(Curve::K256));
    let first = genesis(&[&k1, &k2]).sign(&k2).unwrap();
    let did = first.did().unwrap();
    directory.submit(&did, &first).await.unwrap();
    // Twice is refused: the DID exists.
    assert!(matches!(
        directory.submit(&did, &first).await,
        Err(DirectoryError::Refused { status: 400, .. })
    ));

    let mut next = state_of(&first).successor(&first);
    next.verification_methods
        .insert("atproto".to_owned(), signing.public_key().to_did_key());
    let update = next.sign(&k2).unwrap();
    directory.submit(&did, &update).await.unwrap();
    assert_eq!(
        resolver.signing_key(&did, true).await.unwrap(),
        signing.public_key()
    );
    assert_eq!(
        resolver.resolve_did(&did).await.unwrap().pds(),
        Some("https://pds.test")
    );

    // A forgery: signed by a key that is not a rotation key.
    let forged = state_of(&update)
        .successor(&update)
        .sign(&key(Curve::K256))
        .unwrap();
    match directory.submit(&did, &forged).await {
        Err(DirectoryError::Refused { status, message }) => {
            assert_eq!(status, 400);
            assert!(message.contains("signature"), "{message}");
        }
        other => panic!("a forgery was taken: {other:?}"),
    }
    // A recovery from the genesis by the lower key is refused; by the
    // higher key it nullifies the update.
    let mut recovery = state_of(&first).successor(&first);
    recovery.also_known_as = vec!["at://alice-recovered.test".to_owned()];
    assert!(
        directory
            .submit(&did, &recovery.sign(&k2).unwrap())
            .await
            .is_err()
    );
    let recovery = recovery.sign(&k1).unwrap();
    directory.submit(&did, &recovery).await.unwrap();
    let log = directory.audit_log(&did).await.unwrap();
    let nullified: Vec<bool> = log.iter().map(|entry| entry.nullified).collect();
    assert_eq!(nullified, [false, true, false]);
    let (state, last) = directory.verified_state(&did).await.unwrap();
    assert_eq!(last.cid(), recovery.cid());
    let State::Active(current) = state else {
        panic!("{state:?}")
    };
    assert_eq!(current.handle(), Some("alice-recovered.test"));

    // An account the network made by its methods takes no operations.
    let made = network.account("bob.test").unwrap();
    let genesis_of_other = genesis(&[&k1]).sign(&k1).unwrap();
    assert!(
        directory
            .submit(made.did(), &genesis_of_other)
            .await
            .is_err()
    );

    // The end.
    directory
        .submit(&did, &plc::tombstone(&recovery, &k1).unwrap())
        .await
        .unwrap();
    assert_eq!(
        directory.verified_state(&did).await.unwrap().0,
        State::Tombstoned
    );
    resolver.clear_cache();
    assert!(resolver.resolve_did(&did).await.is_err());
}

#[test]
fn a_directory_takes_a_recovery_only_within_the_window() {
    let (k1, k2) = (key(Curve::P256), key(Curve::K256));
    let first = genesis(&[&k1, &k2]).sign(&k1).unwrap();
    let did = first.did().unwrap();
    let update = state_of(&first).successor(&first).sign(&k2).unwrap();
    let more = state_of(&update).successor(&update).sign(&k2).unwrap();
    let log = [
        entry(&did, &first, false, START),
        entry(&did, &update, false, START + HOUR),
        entry(&did, &more, false, START + 2 * HOUR),
    ];
    let recovery = state_of(&first).successor(&first).sign(&k1).unwrap();
    let at = |hours: i64| Datetime::from_unix_micros(START + HOUR + hours * HOUR).unwrap();
    // Within 72 hours of the operation it replaces: it and what follows it
    // are nullified.
    assert_eq!(plc::accept(&did, &log, &recovery, &at(71)).unwrap(), [1, 2]);
    let err = plc::accept(&did, &log, &recovery, &at(73)).unwrap_err();
    assert!(
        matches!(&err, PlcError::Chain(m) if m.contains("recovery window")),
        "{err}"
    );
    // The next operation after the last needs no recovery rule.
    let next = state_of(&more).successor(&more).sign(&k2).unwrap();
    assert!(plc::accept(&did, &log, &next, &at(500)).unwrap().is_empty());
    // A genesis for a DID that exists, and an operation following nothing
    // of the log, are refused.
    assert!(plc::accept(&did, &log, &first, &at(0)).is_err());
    let elsewhere = genesis(&[&k1]).sign(&k1).unwrap();
    let stray = state_of(&elsewhere)
        .successor(&elsewhere)
        .sign(&k1)
        .unwrap();
    assert!(plc::accept(&did, &log, &stray, &at(0)).is_err());
}

/// A resolver that makes `did:plc` documents from verified logs: the
/// document follows the signed operations; a directory serving a log that
/// does not verify is caught; a DID with no log does not resolve.
#[cfg(feature = "testkit")]
#[tokio::test]
async fn a_resolver_can_make_documents_from_verified_logs() {
    use atlex_identity::identity::testkit::TestNetwork;
    use atlex_identity::identity::{IdentityError, Resolver};
    use atlex_identity::plc::PlcDirectory;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let network = TestNetwork::start().await.unwrap();
    let directory = PlcDirectory::new(network.plc_directory()).unwrap();
    let verifying = network
        .resolver_builder()
        .verify_plc_log(1 << 20)
        .build()
        .unwrap();
    let (k1, signing) = (key(Curve::K256), key(Curve::P256));
    let mut first = genesis(&[&k1]);
    first
        .verification_methods
        .insert("atproto".to_owned(), signing.public_key().to_did_key());
    let first = first.sign(&k1).unwrap();
    let did = first.did().unwrap();
    directory.submit(&did, &first).await.unwrap();
    let mut second = state_of(&first).successor(&first);
    second.also_known_as = vec!["at://alice.example.org".to_owned()];
    directory
        .submit(&did, &second.sign(&k1).unwrap())
        .await
        .unwrap();
    let document = verifying.resolve_did(&did).await.unwrap();
    assert_eq!(document.signing_key().unwrap(), signing.public_key());
    assert_eq!(document.pds(), Some("https://pds.test"));
    let handle = document.handle().map(|handle| handle.to_string());
    assert_eq!(handle.as_deref(), Some("alice.example.org"));
    // The directory's own document says the same.
    assert_eq!(
        *network.resolver().resolve_did(&did).await.unwrap(),
        *document
    );
    // An account the network made by its methods has no log.
    let made = network.account("bob.test").unwrap();
    assert!(matches!(
        verifying.resolve_did(made.did()).await,
        Err(IdentityError::DidNotFound { .. })
    ));

    // A directory that serves a log whose update names another handle
    // (with the CID of what it serves).
    let mut log = serde_json::to_value(directory.audit_log(&did).await.unwrap()).unwrap();
    log[1]["operation"]["alsoKnownAs"] = serde_json::json!(["at://mallory.test"]);
    let changed: SignedOperation = serde_json::from_value(log[1]["operation"].clone()).unwrap();
    log[1]["cid"] = changed.cid().to_string().into();
    let body = log.to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    let lying = Resolver::builder()
        .plc_directory(format!("http://{address}"))
        .verify_plc_log(1 << 20)
        .build()
        .unwrap();
    match lying.resolve_did(&did).await {
        Err(IdentityError::InvalidPlcLog { reason, .. }) => {
            assert!(reason.contains("signature"), "{reason}");
        }
        other => panic!("a forged log was taken: {other:?}"),
    }
}
