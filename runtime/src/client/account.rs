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
use crate::types::{Did, Handle};
use crate::validate::{Validate, Validator};
use crate::xrpc::{
    Endpoint, EndpointKind, Json, NoBody, ParamsError, QueryReader, QueryWriter, UnknownError,
};

/// An endpoint's declared errors as a generated enum has them: one case per
/// name, and `Unknown` for any other.
macro_rules! declared_errors {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = concat!("`", stringify!($variant), "`.")]
                $variant {
                    /// The server's message.
                    message: Option<String>,
                },
            )*
            /// An error name the endpoint does not declare.
            Unknown(UnknownError),
        }

        impl crate::xrpc::EndpointError for $name {
            const DECLARED: &'static [&'static str] = &[$(stringify!($variant)),*];

            fn from_parts(error: String, message: Option<String>) -> Self {
                match error.as_str() {
                    $(stringify!($variant) => Self::$variant { message },)*
                    _ => Self::Unknown(UnknownError { error, message }),
                }
            }

            fn name(&self) -> &str {
                match self {
                    $(Self::$variant { .. } => stringify!($variant),)*
                    Self::Unknown(error) => &error.error,
                }
            }

            fn message(&self) -> Option<&str> {
                match self {
                    $(Self::$variant { message } => message.as_deref(),)*
                    Self::Unknown(error) => error.message.as_deref(),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let name = crate::xrpc::EndpointError::name(self);
                match crate::xrpc::EndpointError::message(self) {
                    Some(message) => write!(f, "{name}: {message}"),
                    None => f.write_str(name),
                }
            }
        }

        impl std::error::Error for $name {}
    };
}

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

/// Nothing to check: the types below carry no lexicon constraints the client
/// relies on.
macro_rules! no_constraints {
    ($($ty:ty),*) => {
        $(impl Validate for $ty {
            fn check(&self, _validator: &mut Validator) {}
        })*
    };
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

impl crate::xrpc::Params for GetServiceAuthParams {
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
    use crate::xrpc::EndpointError;

    /// The lexicon of `nsid`, from the checked-in upstream lexicons.
    fn lexicon(nsid: &str) -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../lexicons")
            .join(nsid.replace('.', "/"))
            .with_extension("json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    fn errors(main: &serde_json::Value) -> Vec<String> {
        main["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn check<E: Endpoint>(fields_read: &[&str]) {
        let main = lexicon(E::NSID)["defs"]["main"].clone();
        let kind = match E::KIND {
            EndpointKind::Query => "query",
            EndpointKind::Procedure => "procedure",
        };
        assert_eq!(main["type"], kind, "{}", E::NSID);
        assert_eq!(
            main["input"]["encoding"].as_str(),
            E::INPUT_ENCODING,
            "{}",
            E::NSID
        );
        assert_eq!(
            main["output"]["encoding"].as_str(),
            E::OUTPUT_ENCODING,
            "{}",
            E::NSID
        );
        assert_eq!(errors(&main), E::Error::DECLARED, "{}", E::NSID);
        // Every field the hand-written types read or write is in the
        // lexicon, and every required one is among them.
        let mut declared = Vec::new();
        for part in ["input", "output"] {
            let schema = &main[part]["schema"];
            if let Some(properties) = schema["properties"].as_object() {
                declared.extend(properties.keys().cloned());
            }
            for required in schema["required"].as_array().into_iter().flatten() {
                let required = required.as_str().unwrap();
                assert!(fields_read.contains(&required), "{}: {required}", E::NSID);
            }
        }
        if let Some(properties) = main["parameters"]["properties"].as_object() {
            declared.extend(properties.keys().cloned());
        }
        for field in fields_read {
            assert!(declared.iter().any(|d| d == field), "{}: {field}", E::NSID);
        }
    }

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
