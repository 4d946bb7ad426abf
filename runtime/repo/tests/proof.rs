//! Record proofs (`com.atproto.sync.getRecord`): proofs of presence and of
//! absence that verify, and one proof broken in each way the check names.

use std::sync::Arc;

use atlex_core::data::Value;
use atlex_core::types::{Cid, Did, Nsid, RecordKey};
use atlex_identity::crypto::{Curve, PublicKey, SigningKey};
use atlex_repo::Repo;
use atlex_repo::car::{Car, CarError, CarWriter};
use atlex_repo::mst::{MemoryBlockStore, MstError};
use atlex_repo::proof::{MAX_PROOF_BLOCKS, ProofError, RecordProof, verify_record_proof};
use atlex_repo::repo::Write;

const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
const COLLECTION: &str = "com.example.note";

fn key(hex: &str) -> SigningKey {
    SigningKey::from_hex(Curve::K256, hex).unwrap()
}

fn publisher_key() -> SigningKey {
    key("9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c")
}

fn note(n: u32) -> Value {
    Value::from_json(serde_json::json!({"$type": COLLECTION, "text": format!("note number {n}")}))
        .unwrap()
}

fn rkey(n: u32) -> String {
    format!("{n:06}")
}

/// A repository of `did` signed by `key` holding notes 0, 2, 4, … 398
/// (the odd keys are absent, with neighbours on both sides).
fn repo(did: &str, key: SigningKey) -> Repo<Arc<MemoryBlockStore>> {
    let store = Arc::new(MemoryBlockStore::new());
    let (mut repo, _) = Repo::create_empty(store, Did::new(did).unwrap(), key).unwrap();
    let writes: Vec<Write> = (0..200)
        .map(|n| Write::create_data(COLLECTION, Some(&rkey(2 * n)), &note(2 * n)).unwrap())
        .collect();
    repo.apply_writes(&writes).unwrap();
    repo
}

fn verify(car: &[u8], n: u32, key: &PublicKey) -> Result<RecordProof, ProofError> {
    verify_record_proof(
        &Did::new(DID).unwrap(),
        &Nsid::new(COLLECTION).unwrap(),
        &RecordKey::new(rkey(n)).unwrap(),
        car,
        key,
    )
}

/// A CAR with `roots` and these blocks, in order.
fn car_of(roots: &[Cid], blocks: &[(Cid, Vec<u8>)]) -> Vec<u8> {
    let mut writer = CarWriter::with_roots(Vec::new(), roots).unwrap();
    for (cid, data) in blocks {
        writer.write_block(cid, data).unwrap();
    }
    writer.finish().unwrap()
}

/// The blocks of a CAR, the root's first.
fn blocks_of(car: &[u8]) -> (Cid, Vec<(Cid, Vec<u8>)>) {
    let car = Car::from_slice(car).unwrap();
    let root = car.roots()[0].clone();
    let mut blocks: Vec<(Cid, Vec<u8>)> = car
        .blocks
        .iter()
        .map(|(cid, data)| (cid, data.to_vec()))
        .collect();
    blocks.sort_by_key(|(cid, _)| *cid != root);
    (root, blocks)
}

#[test]
fn proofs_of_presence_and_absence_verify() {
    let repo = repo(DID, publisher_key());
    let public = publisher_key().public_key();
    let (mut present, mut absent, mut deepest) = (0, 0, 0);
    for n in 0..400 {
        let car = repo.record_proof(COLLECTION, &rkey(n)).unwrap();
        let proof = verify(&car, n, &public).unwrap();
        assert_eq!(proof.commit, *repo.commit());
        assert_eq!(proof.commit.data, repo.tree().root().unwrap());
        let path = format!("{COLLECTION}/{}", rkey(n));
        let ours: Vec<Cid> = repo
            .tree()
            .proof(&path)
            .unwrap()
            .into_iter()
            .map(|block| block.cid)
            .collect();
        assert_eq!(proof.nodes, ours, "{path}");
        assert_eq!(proof.extra_blocks, 0);
        deepest = deepest.max(proof.nodes.len());
        match proof.record {
            Some(record) => {
                assert_eq!(n % 2, 0, "{path}: proved present");
                assert_eq!(Some(&record.cid), repo.tree().get(&path).unwrap().as_ref());
                assert_eq!(
                    atlex_core::cbor::from_slice::<Value>(&record.bytes).unwrap(),
                    note(n)
                );
                present += 1;
            }
            None => {
                assert_eq!(n % 2, 1, "{path}: proved absent");
                absent += 1;
            }
        }
    }
    assert_eq!((present, absent), (200, 200));
    // The tree has several layers: the proofs walk more than the root.
    assert!(deepest >= 3, "{deepest}");
}

#[test]
fn a_proof_signed_by_another_key_is_refused() {
    let repo = repo(DID, publisher_key());
    let car = repo.record_proof(COLLECTION, &rkey(10)).unwrap();
    let other =
        key("0f5c3e6a0ec4b3c4f5a1c7c1b2b7e2e0a9e8d7c6b5a4938271605f4e3d2c1b0a").public_key();
    let err = verify(&car, 10, &other).unwrap_err();
    assert!(matches!(err, ProofError::Signature(_)), "{err}");
    assert!(err.to_string().contains("not signed by the key"), "{err}");
}

#[test]
fn a_commit_of_another_did_is_refused() {
    let other = "did:plc:bv6ggog3tya2z3vxsub7hnal";
    let repo = repo(other, publisher_key());
    let car = repo.record_proof(COLLECTION, &rkey(10)).unwrap();
    let err = verify(&car, 10, &publisher_key().public_key()).unwrap_err();
    match &err {
        ProofError::WrongRepo { expected, found } => {
            assert_eq!(expected.as_str(), DID);
            assert_eq!(found.as_str(), other);
        }
        _ => panic!("{err}"),
    }
}

#[test]
fn an_altered_record_block_is_refused() {
    let repo = repo(DID, publisher_key());
    let mut car = repo.record_proof(COLLECTION, &rkey(10)).unwrap();
    // The record's text, changed in place: same lengths, other bytes under
    // the record's CID.
    let text = b"note number 10";
    let at = car
        .windows(text.len())
        .position(|window| window == text)
        .unwrap();
    car[at] = b'N';
    let err = verify(&car, 10, &publisher_key().public_key()).unwrap_err();
    assert!(matches!(err, ProofError::Car(CarError::Verify(_))), "{err}");
}

#[test]
fn a_swapped_record_block_is_refused() {
    let repo = repo(DID, publisher_key());
    let car = repo.record_proof(COLLECTION, &rkey(10)).unwrap();
    let (root, mut blocks) = blocks_of(&car);
    let record = repo
        .tree()
        .get(&format!("{COLLECTION}/{}", rkey(10)))
        .unwrap()
        .unwrap();
    // Another record, valid under its own CID, where the record was.
    let swapped = atlex_core::cbor::to_vec(&note(12)).unwrap();
    blocks.retain(|(cid, _)| *cid != record);
    blocks.push((Cid::of_dag_cbor(&swapped), swapped));
    let err = verify(&car_of(&[root], &blocks), 10, &publisher_key().public_key()).unwrap_err();
    match &err {
        ProofError::MissingRecord { path, cid } => {
            assert_eq!(path, &format!("{COLLECTION}/{}", rkey(10)));
            assert_eq!(**cid, record);
        }
        _ => panic!("{err}"),
    }
    // The extra block alone does no harm.
    let (root, mut blocks) = blocks_of(&car);
    let extra = atlex_core::cbor::to_vec(&note(12)).unwrap();
    blocks.push((Cid::of_dag_cbor(&extra), extra));
    let proof = verify(&car_of(&[root], &blocks), 10, &publisher_key().public_key()).unwrap();
    assert_eq!(proof.extra_blocks, 1);
    assert!(proof.record.is_some());
}

#[test]
fn a_missing_tree_node_is_refused() {
    let repo = repo(DID, publisher_key());
    let public = publisher_key().public_key();
    for n in [10, 11] {
        let car = repo.record_proof(COLLECTION, &rkey(n)).unwrap();
        let proof = verify(&car, n, &public).unwrap();
        // Without the last node on the path, or without the root.
        for missing in [proof.nodes.last().unwrap(), &proof.nodes[0]] {
            let (root, mut blocks) = blocks_of(&car);
            blocks.retain(|(cid, _)| cid != missing);
            let err = verify(&car_of(&[root], &blocks), n, &public).unwrap_err();
            match &err {
                ProofError::Tree(MstError::MissingBlock(cid)) => assert_eq!(**cid, *missing),
                _ => panic!("{n}: {err}"),
            }
        }
    }
}

#[test]
fn a_proof_of_another_key_does_not_prove_this_one() {
    let repo = repo(DID, publisher_key());
    let public = publisher_key().public_key();
    // The proof of one key may lack nodes of another's path; if it holds
    // them all, it proves the other key's value too, never another's.
    let car = repo.record_proof(COLLECTION, &rkey(10)).unwrap();
    for n in 0..400 {
        match verify(&car, n, &public) {
            Ok(proof) => {
                let path = format!("{COLLECTION}/{}", rkey(n));
                let held = repo.tree().get(&path).unwrap();
                assert_eq!(proof.record.map(|record| record.cid), held, "{path}");
            }
            Err(ProofError::Tree(MstError::MissingBlock(_))) => {}
            Err(ProofError::MissingRecord { .. }) => assert_eq!(n % 2, 0),
            Err(err) => panic!("{n}: {err}"),
        }
    }
}

#[test]
fn garbage_and_malformed_cars_are_refused() {
    let repo = repo(DID, publisher_key());
    let public = publisher_key().public_key();
    let car = repo.record_proof(COLLECTION, &rkey(10)).unwrap();
    let inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"not a car at all".to_vec(),
        vec![0xff; 64],
        car[..car.len() / 2].to_vec(),
    ];
    for input in &inputs {
        let err = verify(input, 10, &public).unwrap_err();
        assert!(matches!(err, ProofError::Car(_)), "{input:?}: {err}");
    }
    // Every shorter prefix is an error; every byte flipped an error or the
    // same proof; never a panic.
    let good = verify(&car, 10, &public).unwrap();
    for end in 0..car.len() {
        assert!(verify(&car[..end], 10, &public).is_err(), "prefix of {end}");
    }
    for at in 0..car.len() {
        let mut bad = car.clone();
        bad[at] ^= 0x40;
        if let Ok(proof) = verify(&bad, 10, &public) {
            assert_eq!(proof, good, "byte {at}");
        }
    }

    // No root, two roots, a root that is not a commit, a root not there.
    let (root, blocks) = blocks_of(&car);
    let err = verify(&car_of(&[], &blocks), 10, &public).unwrap_err();
    assert!(matches!(err, ProofError::Roots(0)), "{err}");
    let err = verify(&car_of(&[root.clone(), root.clone()], &blocks), 10, &public).unwrap_err();
    assert!(matches!(err, ProofError::Roots(2)), "{err}");
    let node = good.nodes[0].clone();
    let err = verify(&car_of(&[node], &blocks), 10, &public).unwrap_err();
    assert!(matches!(err, ProofError::Commit(_)), "{err}");
    let err = verify(
        &car_of(std::slice::from_ref(&root), &blocks[1..]),
        10,
        &public,
    )
    .unwrap_err();
    assert!(matches!(err, ProofError::MissingCommit(_)), "{err}");

    // More blocks than a proof needs, before they are indexed.
    let mut many = blocks.clone();
    for n in 0..MAX_PROOF_BLOCKS as u32 {
        let extra = atlex_core::cbor::to_vec(&note(1000 + n)).unwrap();
        many.push((Cid::of_dag_cbor(&extra), extra));
    }
    let err = verify(&car_of(&[root], &many), 10, &public).unwrap_err();
    assert!(matches!(err, ProofError::TooManyBlocks), "{err}");
}
