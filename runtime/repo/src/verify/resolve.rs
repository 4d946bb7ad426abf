//! Keys from an identity resolver.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use atlex_core::types::{AtIdentifier, Did, Handle};
use atlex_identity::crypto::PublicKey;
use atlex_identity::identity::Resolver;

use super::{BoxError, KeySource};

/// The `#atproto` keys of DID documents, through a [`Resolver`] and its
/// cache. After an `#identity` event the account's document is fetched
/// again the next time its key is asked for.
#[derive(Debug)]
pub struct ResolverKeys {
    resolver: Resolver,
    /// Accounts whose cached document is stale.
    stale: Mutex<HashSet<Did>>,
}

impl ResolverKeys {
    /// Keys through `resolver` (whose cache it shares with its clones).
    pub fn new(resolver: Resolver) -> Self {
        Self {
            resolver,
            stale: Mutex::new(HashSet::new()),
        }
    }

    /// The resolver.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }
}

impl KeySource for ResolverKeys {
    async fn signing_key(&self, did: &Did, fresh: bool) -> Result<PublicKey, BoxError> {
        let stale = self
            .stale
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(did);
        let key = self.resolver.signing_key(did, fresh || stale).await?;
        if stale {
            self.stale
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(did);
        }
        Ok(key)
    }

    /// Resolves the handle (DNS or HTTPS) and the DID's document (fetched
    /// again after an `#identity`): the handle must point at the DID and
    /// the document claim the handle.
    async fn check_handle(&self, did: &Did, handle: &Handle) -> Result<(), BoxError> {
        let identity = self
            .resolver
            .resolve(&AtIdentifier::Handle(handle.clone()))
            .await?;
        if identity.did != *did {
            return Err(format!("{handle} resolves to {}, not {did}", identity.did).into());
        }
        match identity.handle_problem {
            Some(problem) => Err(problem.into()),
            None => Ok(()),
        }
    }

    fn invalidate(&self, did: &Did) {
        // Only a document in the cache can be stale: the set stays as small
        // as the cache however many accounts the stream names.
        if self.resolver.cached_did(did).is_none() {
            return;
        }
        self.stale
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(did.clone());
    }
}
