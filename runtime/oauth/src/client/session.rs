//! [`OAuthSession`]: a signed-in account's tokens, kept fresh, and the
//! credentials of an [`atlex_client::Client`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use http::StatusCode;
use http::header::{AUTHORIZATION, HeaderMap, HeaderValue, WWW_AUTHENTICATE};

use atlex_client::{
    AuthAnswer, AuthFuture, AuthRequest, AuthVerdict, Authenticate, Client, ClientBuilder,
};

use super::dpop::{self, DpopKey};
use super::error::OAuthError;
use super::net::{checked_url, origin, remember_nonce};
use super::store::SessionData;
use super::{OAuthClient, metadata};
use crate::scope::{Access, RepoAction, Scopes};

/// A token is refreshed when it has less than this many seconds left.
const REFRESH_MARGIN: u64 = 30;

/// A signed-in account: its DPoP-bound tokens, refreshed as needed, and the
/// [`Client`] that calls its PDS with them. Cheap to clone; clones share the
/// tokens.
#[derive(Clone)]
pub struct OAuthSession {
    inner: Arc<SessionInner>,
}

struct SessionInner {
    client: OAuthClient,
    data: RwLock<SessionData>,
    key: DpopKey,
    /// Held while tokens are refreshed: refresh tokens rotate, so two
    /// refreshes with the same one would end the session.
    refresh_lock: tokio::sync::Mutex<()>,
    check_scopes: AtomicBool,
    refreshes: AtomicU64,
}

impl std::fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data = self.data();
        f.debug_struct("OAuthSession")
            .field("did", &data.did)
            .field("pds", &data.pds)
            .field("issuer", &data.issuer)
            .field("scope", &data.scope)
            .finish_non_exhaustive()
    }
}

impl OAuthSession {
    pub(crate) fn new(client: OAuthClient, data: SessionData, key: DpopKey) -> Self {
        Self {
            inner: Arc::new(SessionInner {
                client,
                data: RwLock::new(data),
                key,
                refresh_lock: tokio::sync::Mutex::new(()),
                check_scopes: AtomicBool::new(false),
                refreshes: AtomicU64::new(0),
            }),
        }
    }

    /// What the session keeps now (tokens included).
    pub fn data(&self) -> SessionData {
        self.inner
            .data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The account's DID.
    pub fn did(&self) -> String {
        self.data().did
    }

    /// The account's PDS, an origin (`https://pds.example.com`).
    pub fn pds(&self) -> String {
        self.data().pds
    }

    /// The scopes granted.
    pub fn scopes(&self) -> Scopes {
        Scopes::parse(&self.data().scope)
    }

    /// How many times the tokens were refreshed by this session value and
    /// its clones.
    pub fn refresh_count(&self) -> u64 {
        self.inner.refreshes.load(Ordering::Relaxed)
    }

    /// With `true`, calls through [`client`](Self::client) are checked
    /// against the granted scopes before they are sent: a proxied call needs
    /// `rpc:<method>?aud=<service>`, a record write `repo:<collection>` with
    /// its action, a blob upload `blob:<type>`. A call they do not cover
    /// fails with [`atlex_client::Error::Auth`], whose source is the
    /// [`ScopeMissing`](crate::scope::ScopeMissing) naming the scope. Off by
    /// default (the PDS checks anyway).
    pub fn check_scopes(&self, enabled: bool) {
        self.inner.check_scopes.store(enabled, Ordering::Relaxed);
    }

    /// A client builder for the account's PDS, authenticated by this
    /// session: add settings (a proxy, retries), then build.
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder(&self.pds()).authenticate(Arc::new(self.clone()))
    }

    /// A client of the account's PDS, authenticated by this session.
    pub fn client(&self) -> Result<Client, atlex_client::BuildError> {
        self.client_builder().build()
    }

    /// Refreshes the tokens now (they are refreshed when needed anyway).
    pub async fn refresh(&self) -> Result<(), OAuthError> {
        let used = self.data().access_token;
        self.refresh_if_current(&used).await
    }

    /// Signs out: revokes the refresh token (or the access token) at the
    /// authorization server and forgets the session.
    pub async fn sign_out(&self) -> Result<(), OAuthError> {
        let _guard = self.inner.refresh_lock.lock().await;
        let data = self.data();
        let client = &self.inner.client;
        let issuer = checked_url(&data.issuer)?;
        let server = metadata::authorization_server_metadata(&client.inner.http, &issuer).await?;
        let token = data.refresh_token.as_deref().unwrap_or(&data.access_token);
        let revoked = client.revoke(&self.inner.key, &server, token).await;
        client.inner.sessions.delete(&data.did).await?;
        revoked
    }

    /// Refreshes the tokens unless they were already replaced since
    /// `used` was read: calls that find the token stale together refresh
    /// once.
    async fn refresh_if_current(&self, used: &str) -> Result<(), OAuthError> {
        let _guard = self.inner.refresh_lock.lock().await;
        let data = self.data();
        if data.access_token != used {
            return Ok(());
        }
        let Some(refresh_token) = data.refresh_token.clone() else {
            return Err(OAuthError::InvalidToken(
                "the access token expired and there is no refresh token".to_owned(),
            ));
        };
        let client = &self.inner.client;
        let issuer = checked_url(&data.issuer)?;
        let server = metadata::authorization_server_metadata(&client.inner.http, &issuer).await?;
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token),
            ("client_id", client.inner.kind.client_id()),
        ];
        client.client_auth(&server.issuer, &mut form)?;
        let tokens = match client.token_request(&self.inner.key, &server, &form).await {
            Ok(tokens) => tokens,
            Err(error) => {
                // A refresh token the server no longer takes ends the
                // session: keeping it would only fail again.
                if matches!(&error, OAuthError::Server { error, .. } if error == "invalid_grant") {
                    client.inner.sessions.delete(&data.did).await?;
                }
                return Err(error);
            }
        };
        if tokens.sub.as_deref() != Some(data.did.as_str()) {
            return Err(OAuthError::InvalidToken(format!(
                "the refreshed tokens are for {:?}, not {}",
                tokens.sub, data.did
            )));
        }
        let next = SessionData {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.or(data.refresh_token),
            expires_at: tokens.expires_in.map(|s| dpop::now().saturating_add(s)),
            scope: tokens.scope.unwrap_or(data.scope),
            ..data
        };
        // Stored before it is used: the old refresh token is spent.
        client.inner.sessions.put(&next).await?;
        *self
            .inner
            .data
            .write()
            .unwrap_or_else(PoisonError::into_inner) = next;
        self.inner.refreshes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The access a request needs from the granted scopes, if any.
    fn needed_access<'a>(
        request: &'a AuthRequest<'a>,
        body: &'a Option<serde_json::Value>,
    ) -> Vec<Access<'a>> {
        if let Some(aud) = request.proxy {
            return vec![Access::Rpc {
                lxm: request.nsid,
                aud,
            }];
        }
        let field =
            |value: &'a serde_json::Value, name: &str| value.get(name).and_then(|v| v.as_str());
        let one = |action: RepoAction| {
            body.as_ref()
                .and_then(|b| field(b, "collection"))
                .map(|collection| Access::Repo { collection, action })
                .into_iter()
                .collect()
        };
        match request.nsid {
            "com.atproto.repo.createRecord" => one(RepoAction::Create),
            "com.atproto.repo.putRecord" => one(RepoAction::Update),
            "com.atproto.repo.deleteRecord" => one(RepoAction::Delete),
            "com.atproto.repo.applyWrites" => body
                .as_ref()
                .and_then(|b| b.get("writes"))
                .and_then(|w| w.as_array())
                .into_iter()
                .flatten()
                .filter_map(|write| {
                    let action = match field(write, "$type")? {
                        "com.atproto.repo.applyWrites#create" => RepoAction::Create,
                        "com.atproto.repo.applyWrites#update" => RepoAction::Update,
                        "com.atproto.repo.applyWrites#delete" => RepoAction::Delete,
                        _ => return None,
                    };
                    Some(Access::Repo {
                        collection: field(write, "collection")?,
                        action,
                    })
                })
                .collect(),
            "com.atproto.repo.uploadBlob" => request
                .body
                .map(|(mime, _)| Access::Blob { mime })
                .into_iter()
                .collect(),
            other => account_access(other).into_iter().collect(),
        }
    }

    fn check_request(&self, request: &AuthRequest<'_>) -> Result<(), OAuthError> {
        if !self.inner.check_scopes.load(Ordering::Relaxed) {
            return Ok(());
        }
        let body = request
            .body
            .filter(|(content_type, _)| content_type.starts_with("application/json"))
            .and_then(|(_, bytes)| serde_json::from_slice(bytes).ok());
        let scopes = self.scopes();
        for access in Self::needed_access(request, &body) {
            scopes.require(&access)?;
        }
        Ok(())
    }

    async fn headers_for(&self, request: &AuthRequest<'_>) -> Result<HeaderMap, OAuthError> {
        self.check_request(request)?;
        let data = self.data();
        if data
            .expires_at
            .is_some_and(|at| at <= dpop::now().saturating_add(REFRESH_MARGIN))
            && data.refresh_token.is_some()
        {
            self.refresh_if_current(&data.access_token).await?;
        }
        let token = self.data().access_token;
        let nonce = self.inner.client.inner.nonces.get(&origin(request.url));
        let proof = self.inner.key.proof(
            request.method.as_str(),
            request.url,
            nonce.as_deref(),
            Some(&token),
        )?;
        let mut headers = HeaderMap::new();
        let mut authorization = HeaderValue::from_str(&format!("DPoP {token}")).map_err(|_| {
            OAuthError::InvalidToken("an access token not fit for a header".to_owned())
        })?;
        authorization.set_sensitive(true);
        headers.insert(AUTHORIZATION, authorization);
        headers.insert(
            "dpop",
            HeaderValue::from_str(&proof).map_err(|e| OAuthError::Jose(e.to_string()))?,
        );
        Ok(headers)
    }

    async fn verdict(
        &self,
        request: &AuthRequest<'_>,
        answer: &AuthAnswer<'_>,
    ) -> Result<AuthVerdict, OAuthError> {
        let new_nonce = remember_nonce(
            &self.inner.client.inner.nonces,
            &origin(request.url),
            answer.headers,
        );
        if answer.status != StatusCode::UNAUTHORIZED {
            return Ok(AuthVerdict::Accept);
        }
        let challenge = answer
            .headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.len() >= 4 && v[..4].eq_ignore_ascii_case("dpop"))
            .unwrap_or_default();
        if challenge.contains("error=\"use_dpop_nonce\"") || answer.error == Some("use_dpop_nonce")
        {
            // A server that keeps sending the nonce it was sent is not asked
            // again.
            return Ok(if new_nonce {
                AuthVerdict::Retry
            } else {
                AuthVerdict::Accept
            });
        }
        let expired = challenge.contains("error=\"invalid_token\"")
            || matches!(
                answer.error,
                Some("InvalidToken" | "ExpiredToken" | "invalid_token")
            );
        if !expired {
            return Ok(AuthVerdict::Accept);
        }
        let used = answer
            .sent
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("DPoP "))
            .unwrap_or_default()
            .to_owned();
        if self.data().refresh_token.is_none() {
            return Ok(AuthVerdict::Accept);
        }
        self.refresh_if_current(&used).await?;
        Ok(AuthVerdict::Retry)
    }
}

impl Authenticate for OAuthSession {
    fn headers<'a>(&'a self, request: &'a AuthRequest<'a>) -> AuthFuture<'a, HeaderMap> {
        Box::pin(async move { self.headers_for(request).await.map_err(Into::into) })
    }

    fn answer<'a>(
        &'a self,
        request: &'a AuthRequest<'a>,
        answer: &'a AuthAnswer<'a>,
    ) -> AuthFuture<'a, AuthVerdict> {
        Box::pin(async move { self.verdict(request, answer).await.map_err(Into::into) })
    }
}

/// The account or identity access an endpoint of the PDS needs, as the
/// reference PDS checks it.
fn account_access(nsid: &str) -> Option<Access<'static>> {
    use crate::scope::{AccountAction, AccountAttr, IdentityAttr};
    let account = |attr| Access::Account {
        attr,
        action: AccountAction::Manage,
    };
    Some(match nsid {
        "com.atproto.identity.updateHandle" => Access::Identity {
            attr: IdentityAttr::Handle,
        },
        "com.atproto.identity.requestPlcOperationSignature"
        | "com.atproto.identity.signPlcOperation"
        | "com.atproto.identity.submitPlcOperation" => Access::Identity {
            attr: IdentityAttr::Any,
        },
        "com.atproto.server.requestEmailConfirmation" => account(AccountAttr::Email),
        "com.atproto.server.deactivateAccount" => account(AccountAttr::Status),
        "com.atproto.repo.importRepo" => account(AccountAttr::Repo),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::account_access;
    use crate::scope::Scopes;

    #[test]
    fn account_and_identity_endpoints_need_their_scopes() {
        let granted = Scopes::parse("atproto identity:handle account:email?action=manage");
        let needs = |nsid| {
            let access = account_access(nsid).unwrap();
            granted.require(&access).err().map(|m| m.scope().to_owned())
        };
        assert_eq!(needs("com.atproto.identity.updateHandle"), None);
        assert_eq!(needs("com.atproto.server.requestEmailConfirmation"), None);
        assert_eq!(
            needs("com.atproto.identity.submitPlcOperation").as_deref(),
            Some("identity:*")
        );
        assert_eq!(
            needs("com.atproto.repo.importRepo").as_deref(),
            Some("account:repo?action=manage")
        );
        assert_eq!(
            needs("com.atproto.server.deactivateAccount").as_deref(),
            Some("account:status?action=manage")
        );
        assert!(account_access("app.bsky.feed.getTimeline").is_none());
    }
}
