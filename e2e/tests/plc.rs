//! `did:plc` operations against the official PLC directory
//! (`@did-plc/server`): the logs the official PDS makes for its accounts
//! (signed by `@did-plc/lib`) verify with atlex, and the identities atlex
//! makes, updates, recovers and ends are accepted by the directory, which
//! refuses what atlex also refuses.

use atlex::crypto::{Curve, SigningKey};
use atlex::identity::Resolver;
use atlex::plc::{self, DirectoryError, Operation, PlcDirectory, State};
use atlex::types::{Did, Handle};
use atlex_e2e::Pds;
use atlex_lexicons::com::atproto::identity::update_handle::{self, UpdateHandle};

mod accounts;

use accounts::{BoxError, create_account};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

fn resolver(pds: &Pds) -> Resolver {
    Resolver::builder()
        .plc_directory(pds.plc_url())
        .plain_http(true)
        .build()
        .expect("a resolver")
}

fn key(curve: Curve) -> SigningKey {
    SigningKey::generate(curve).expect("a key")
}

#[test]
fn the_logs_the_official_pds_writes_verify() -> Result<(), BoxError> {
    let pds = Pds::start()?;
    runtime().block_on(async {
        let directory = PlcDirectory::new(pds.plc_url())?;
        let resolver = resolver(&pds);
        let verifying = Resolver::builder()
            .plc_directory(pds.plc_url())
            .plain_http(true)
            .verify_plc_log(1 << 20)
            .build()?;
        for name in ["carol", "dave"] {
            let (did, client) = create_account(&pds, name).await?;
            // A second operation, made and signed by the PDS.
            let renamed = Handle::new(format!("{name}-renamed.test"))?;
            client
                .procedure(UpdateHandle, &update_handle::Input::new(renamed.clone()))
                .await?;
            let log = directory.audit_log(&did).await?;
            assert_eq!(log.len(), 2, "{name}: {log:?}");
            let (state, last) = directory.verified_state(&did).await?;
            assert_eq!(last.cid(), log[1].operation.cid());
            let State::Active(current) = state else {
                panic!("{name}: {state:?}")
            };
            assert_eq!(current.handle(), Some(renamed.as_str()));
            assert_eq!(current.pds(), Some(pds.url().trim_end_matches('/')));
            let document_key = resolver.signing_key(&did, true).await?;
            assert_eq!(
                current.signing_key(),
                Some(document_key.to_did_key().as_str())
            );
            // A resolver that makes the document from the verified log
            // agrees with the directory's document.
            let from_log = verifying.resolve_did(&did).await?;
            let from_directory = resolver.resolve_did(&did).await?;
            assert_eq!(from_log.signing_key()?, from_directory.signing_key()?);
            assert_eq!(from_log.handle(), from_directory.handle());
            assert_eq!(from_log.pds(), from_directory.pds());
            assert_eq!(from_log.also_known_as, from_directory.also_known_as);
            // Each entry's operation is accepted as it came; one changed
            // field and the log no longer verifies.
            let mut tampered = log.clone();
            let mut json = serde_json::to_value(&tampered[1].operation)?;
            json["alsoKnownAs"] = serde_json::json!(["at://mallory.test"]);
            tampered[1].operation = serde_json::from_value(json)?;
            tampered[1].cid = tampered[1].operation.cid().to_string();
            let err = plc::verify_log(&did, &tampered).unwrap_err();
            assert!(matches!(err, plc::PlcError::BadSignature { .. }), "{err}");
        }
        Ok(())
    })
}

#[test]
fn the_directory_accepts_what_atlex_signs_and_refuses_what_it_refuses() -> Result<(), BoxError> {
    let pds = Pds::start()?;
    runtime().block_on(async {
        let directory = PlcDirectory::new(pds.plc_url())?;
        let resolver = resolver(&pds);
        // k1 outranks k2.
        let (k1, k2, signing) = (key(Curve::P256), key(Curve::K256), key(Curve::K256));
        let genesis = Operation::atproto(
            &[k1.public_key(), k2.public_key()],
            &signing.public_key(),
            "erin.test",
            "https://pds.erin.test",
        )
        .sign(&k2)?;
        let did: Did = genesis.did()?;
        directory.submit(&did, &genesis).await?;
        let document = resolver.resolve_did(&did).await?;
        assert_eq!(
            document.handle().map(|h| h.to_string()).as_deref(),
            Some("erin.test")
        );
        assert_eq!(
            resolver.signing_key(&did, true).await?.to_did_key(),
            signing.public_key().to_did_key()
        );

        // An update signed by a key that is not a rotation key: refused by
        // the directory as by atlex.
        let state = genesis.state().expect("not a tombstone");
        let stranger = key(Curve::K256);
        let forged = state.successor(&genesis).sign(&stranger)?;
        match directory.submit(&did, &forged).await {
            Err(DirectoryError::Refused { status: 400, .. }) => {}
            other => panic!("the directory took a forged operation: {other:?}"),
        }
        assert!(plc::verify_chain(&did, &[genesis.clone(), forged]).is_err());

        // An update by the lower key, then a recovery by the higher one
        // from the genesis: the directory nullifies the update.
        let mut hijack = state.successor(&genesis);
        hijack.also_known_as = vec!["at://mallory.test".to_owned()];
        let hijack = hijack.sign(&k2)?;
        directory.submit(&did, &hijack).await?;
        let mut recovery = state.successor(&genesis);
        recovery.rotation_keys = vec![k1.public_key().to_did_key()];
        recovery.also_known_as = vec!["at://erin-recovered.test".to_owned()];
        let recovery = recovery.sign(&k1)?;
        directory.submit(&did, &recovery).await?;
        let log = directory.audit_log(&did).await?;
        let nullified: Vec<bool> = log.iter().map(|entry| entry.nullified).collect();
        assert_eq!(nullified, [false, true, false], "{log:?}");
        let (state, last) = directory.verified_state(&did).await?;
        assert_eq!(last.cid(), recovery.cid());
        let State::Active(current) = state else {
            panic!("{state:?}")
        };
        assert_eq!(current.handle(), Some("erin-recovered.test"));
        // The removed key no longer signs.
        let late = current.successor(&recovery).sign(&k2)?;
        assert!(matches!(
            directory.submit(&did, &late).await,
            Err(DirectoryError::Refused { status: 400, .. })
        ));

        // The end: a tombstone, after which the DID no longer resolves.
        let end = plc::tombstone(&recovery, &k1)?;
        directory.submit(&did, &end).await?;
        let (state, _) = directory.verified_state(&did).await?;
        assert_eq!(state, State::Tombstoned);
        resolver.clear_cache();
        assert!(resolver.resolve_did(&did).await.is_err());
        Ok(())
    })
}
