//! The four `com.atproto.server` calls the client itself makes: logging in
//! (`createSession`), refreshing (`refreshSession`), logging out
//! (`deleteSession`) and asking for a service-auth token
//! (`getServiceAuth`).
//!
//! The runtime cannot depend on the generated bindings (they depend on it),
//! and a session must refresh itself, so these are written here by hand,
//! with only the fields the client reads. Their full generated forms are in
//! `atlex_lexicons::com::atproto::server` (feature `com-atproto`), callable
//! with any [`Client`]; a test checks the two agree with the lexicons.

use serde::{Deserialize, Serialize};

use super::{Client, Error};
use atlex_core::types::{Did, Handle};
use atlex_core::xrpc::{
    Endpoint, EndpointKind, Json, NoBody, ParamsError, QueryReader, QueryWriter,
};

declared_errors! {
    /// The declared errors of `com.atproto.server.createSession`.
    CreateSessionError { AccountTakedown, AuthFactorTokenRequired }
}
declared_errors! {
    /// The declared errors of `com.atproto.server.refreshSession` (here
    /// `ExpiredToken` and `InvalidToken` are about the refresh token).
    RefreshSessionError { AccountTakedown, InvalidToken, ExpiredToken }
}
declared_errors! {
    /// The declared errors of `com.atproto.server.deleteSession`.
    DeleteSessionError { InvalidToken, ExpiredToken }
}
declared_errors! {
    /// The declared errors of `com.atproto.server.getServiceAuth`.
    GetServiceAuthError { BadExpiration }
}

/// `com.atproto.server.createSession`.
pub(crate) struct CreateSession;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateSessionInput {
    pub(crate) identifier: String,
    pub(crate) password: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) auth_factor_token: Option<String>,
}

/// What `createSession` and `refreshSession` answer, as far as the client
/// reads it.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionOutput {
    pub(crate) access_jwt: String,
    pub(crate) refresh_jwt: String,
    pub(crate) handle: Handle,
    pub(crate) did: Did,
    #[serde(default)]
    pub(crate) active: Option<bool>,
    #[serde(default)]
    pub(crate) status: Option<String>,
}

impl Endpoint for CreateSession {
    const NSID: &'static str = "com.atproto.server.createSession";
    const KIND: EndpointKind = EndpointKind::Procedure;
    const INPUT_ENCODING: Option<&'static str> = Some("application/json");
    const OUTPUT_ENCODING: Option<&'static str> = Some("application/json");
    type Params = ();
    type Input = CreateSessionInput;
    type Output = SessionOutput;
    type Error = CreateSessionError;
    type InputCodec = Json;
    type OutputCodec = Json;
}

/// `com.atproto.server.refreshSession`, authenticated with the refresh
/// token.
pub(crate) struct RefreshSession;

impl Endpoint for RefreshSession {
    const NSID: &'static str = "com.atproto.server.refreshSession";
    const KIND: EndpointKind = EndpointKind::Procedure;
    const INPUT_ENCODING: Option<&'static str> = None;
    const OUTPUT_ENCODING: Option<&'static str> = Some("application/json");
    type Params = ();
    type Input = ();
    type Output = SessionOutput;
    type Error = RefreshSessionError;
    type InputCodec = NoBody;
    type OutputCodec = Json;
}

/// `com.atproto.server.deleteSession`, authenticated with the refresh
/// token.
pub(crate) struct DeleteSession;

impl Endpoint for DeleteSession {
    const NSID: &'static str = "com.atproto.server.deleteSession";
    const KIND: EndpointKind = EndpointKind::Procedure;
    const INPUT_ENCODING: Option<&'static str> = None;
    const OUTPUT_ENCODING: Option<&'static str> = None;
    type Params = ();
    type Input = ();
    type Output = ();
    type Error = DeleteSessionError;
    type InputCodec = NoBody;
    type OutputCodec = NoBody;
}

/// `com.atproto.server.getServiceAuth`.
pub(crate) struct GetServiceAuth;

pub(crate) struct GetServiceAuthParams {
    aud: String,
    exp: Option<i64>,
    lxm: Option<String>,
}

impl atlex_core::xrpc::Params for GetServiceAuthParams {
    fn write_query(&self, query: &mut QueryWriter) {
        query.required("aud", &self.aud);
        query.optional("exp", &self.exp);
        query.optional("lxm", &self.lxm);
    }

    fn read_query(query: &QueryReader<'_>) -> Result<Self, ParamsError> {
        Ok(Self {
            aud: query.required("aud")?,
            exp: query.optional("exp")?,
            lxm: query.optional("lxm")?,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct GetServiceAuthOutput {
    token: String,
}

no_constraints!(
    CreateSessionInput,
    SessionOutput,
    GetServiceAuthParams,
    GetServiceAuthOutput
);

impl Endpoint for GetServiceAuth {
    const NSID: &'static str = "com.atproto.server.getServiceAuth";
    const KIND: EndpointKind = EndpointKind::Query;
    const INPUT_ENCODING: Option<&'static str> = None;
    const OUTPUT_ENCODING: Option<&'static str> = Some("application/json");
    type Params = GetServiceAuthParams;
    type Input = ();
    type Output = GetServiceAuthOutput;
    type Error = GetServiceAuthError;
    type InputCodec = NoBody;
    type OutputCodec = Json;
}

impl Client {
    /// Asks the server (the user's PDS) for a service-auth token
    /// (`com.atproto.server.getServiceAuth`): a JWT signed with the user's
    /// signing key, for the service `audience` (`did:web:api.bsky.chat` or
    /// `did:web:api.bsky.chat#bsky_chat`), bound to endpoint `lxm` when
    /// given, expiring at `exp` (Unix seconds; the server's default, a
    /// minute, when `None`). Needs an access token.
    pub async fn service_auth(
        &self,
        audience: &str,
        lxm: Option<&str>,
        exp: Option<i64>,
    ) -> Result<String, Error<GetServiceAuthError>> {
        let params = GetServiceAuthParams {
            aud: audience.to_owned(),
            exp,
            lxm: lxm.map(str::to_owned),
        };
        let output = self.query(GetServiceAuth, &params).await?;
        Ok(output.token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon_checks::check;

    #[test]
    fn the_hand_written_descriptors_agree_with_the_lexicons() {
        let session = [
            "accessJwt",
            "refreshJwt",
            "handle",
            "did",
            "active",
            "status",
        ];
        let mut create = session.to_vec();
        create.extend(["identifier", "password", "authFactorToken"]);
        check::<CreateSession>(&create);
        check::<RefreshSession>(&session);
        check::<DeleteSession>(&[]);
        check::<GetServiceAuth>(&["aud", "exp", "lxm", "token"]);
    }
}
