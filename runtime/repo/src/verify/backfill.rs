//! Backfill: a whole repository (`com.atproto.sync.getRepo`), its commit
//! verified, walked into typed records.

use atlex_core::types::Did;

use super::{KeySource, VerifyError, read_verified_repo};
use crate::repo_car::RepoCar;

/// Reads a repository CAR of `did` (every block checked against its CID)
/// and verifies its commit's signature with `did`'s key from `keys` (once
/// more with the key fetched again if it fails). Walk its records through
/// [`RepoCar::repo`]: [`Repo::records`](crate::Repo::records) yields one
/// result per record, so a record that is missing or does not decode does
/// not stop the walk.
///
/// ```
/// use atlex_core::types::{Did, Tid};
/// use atlex_identity::crypto::{Curve, SigningKey};
/// use atlex_repo::commit::UnsignedCommit;
/// use atlex_repo::mst::{BlockStore, MemoryBlockStore, Mst};
/// use atlex_repo::repo_car::write_repo_car;
/// use atlex_repo::verify::{StaticKeys, verify_repo};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// // A repository of one record.
/// let store = MemoryBlockStore::new();
/// let record = atlex_core::cbor::to_vec(&"a note")?;
/// let cid = atlex_core::types::Cid::of_dag_cbor(&record);
/// store.put(&cid, record.into())?;
/// let tree = Mst::new(&store).insert("com.example.note/3jzfcijpj2z2a", cid)?;
/// let key = SigningKey::generate(Curve::K256)?;
/// let did = Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?;
/// let commit = UnsignedCommit::new(did.clone(), tree.write()?, Tid::next()?).sign(&key);
/// store.put(&commit.cid(), commit.to_bytes().into())?;
/// let car = write_repo_car(&store, &commit.cid(), Vec::new())?;
///
/// let keys = StaticKeys::new().with(did.clone(), key.public_key());
/// let repo = verify_repo(&did, &car, &keys).await?;
/// for record in repo.repo()?.records::<String>() {
///     let record = record?;
///     assert_eq!((record.collection(), record.record.as_str()), ("com.example.note", "a note"));
/// }
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(run())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn verify_repo<K: KeySource + ?Sized>(
    did: &Did,
    car: &[u8],
    keys: &K,
) -> Result<RepoCar, VerifyError> {
    read_verified_repo(did, car, keys, true).await
}
