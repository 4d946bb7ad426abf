//! The errors every XRPC endpoint may answer, whatever its lexicon declares.

use std::time::SystemTime;

/// An error common to all XRPC endpoints, with the HTTP status it is sent with.
///
/// Clients recognise these by name on any status; servers send them with the
/// status of [`CommonError::status`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommonError {
    /// `InvalidRequest` (400): the request does not fit the endpoint.
    #[error("InvalidRequest{}", suffix(message))]
    InvalidRequest {
        /// What is wrong.
        message: Option<String>,
    },
    /// `AuthenticationRequired` (401): no or unusable credentials.
    #[error("AuthenticationRequired{}", suffix(message))]
    AuthenticationRequired {
        /// Details.
        message: Option<String>,
    },
    /// `ExpiredToken` (400): the access token has expired; refresh it.
    #[error("ExpiredToken{}", suffix(message))]
    ExpiredToken {
        /// Details.
        message: Option<String>,
    },
    /// `InvalidToken` (400): the token is not valid.
    #[error("InvalidToken{}", suffix(message))]
    InvalidToken {
        /// Details.
        message: Option<String>,
    },
    /// `Forbidden` (403): authenticated, but not allowed.
    #[error("Forbidden{}", suffix(message))]
    Forbidden {
        /// Details.
        message: Option<String>,
    },
    /// `PayloadTooLarge` (413): the request body is over the server's limit.
    #[error("PayloadTooLarge{}", suffix(message))]
    PayloadTooLarge {
        /// Details.
        message: Option<String>,
    },
    /// `RateLimitExceeded` (429): too many requests; retry after `reset`.
    #[error("RateLimitExceeded{}", suffix(message))]
    RateLimitExceeded {
        /// Details.
        message: Option<String>,
        /// When requests are allowed again (`ratelimit-reset` or
        /// `Retry-After`), if the server said.
        reset: Option<SystemTime>,
    },
    /// `InternalServerError` (500).
    #[error("InternalServerError{}", suffix(message))]
    InternalServerError {
        /// Details.
        message: Option<String>,
    },
    /// `MethodNotImplemented` (501): the server does not serve this endpoint.
    #[error("MethodNotImplemented{}", suffix(message))]
    MethodNotImplemented {
        /// Details.
        message: Option<String>,
    },
    /// `UpstreamFailure` (502): a server this one depends on failed.
    #[error("UpstreamFailure{}", suffix(message))]
    UpstreamFailure {
        /// Details.
        message: Option<String>,
    },
    /// `NotEnoughResources` (503): the server is overloaded.
    #[error("NotEnoughResources{}", suffix(message))]
    NotEnoughResources {
        /// Details.
        message: Option<String>,
    },
    /// `UpstreamTimeout` (504): a server this one depends on timed out.
    #[error("UpstreamTimeout{}", suffix(message))]
    UpstreamTimeout {
        /// Details.
        message: Option<String>,
    },
    /// A service-auth token (an inter-service JWT) refused (401), under the
    /// name of its [`ServiceAuthRejection`]: `BadJwtAudience`, `JwtExpired`, …
    #[error("{}{}", rejection.name(), suffix(message))]
    ServiceAuth {
        /// Which check the token failed.
        rejection: ServiceAuthRejection,
        /// Details.
        message: Option<String>,
    },
}

/// Why a service-auth token was refused: the error names atproto's service
/// auth answers with, whatever endpoint was called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceAuthRejection {
    /// `BadJwt`: not a JWT of the expected shape, or issued in the future.
    BadJwt,
    /// `BadJwtType`: a `typ` that is not a service-auth token's.
    BadJwtType,
    /// `JwtExpired`: past its `exp`.
    JwtExpired,
    /// `BadJwtAudience`: `aud` is another service.
    BadJwtAudience,
    /// `BadJwtLexiconMethod`: `lxm` is missing or names another endpoint.
    BadJwtLexiconMethod,
    /// `BadJwtIss`: the issuer's DID document has no usable signing key.
    BadJwtIss,
    /// `BadJwtSignature`: the signature does not verify with the issuer's
    /// key.
    BadJwtSignature,
}

impl ServiceAuthRejection {
    /// Every rejection.
    pub const ALL: [Self; 7] = [
        Self::BadJwt,
        Self::BadJwtType,
        Self::JwtExpired,
        Self::BadJwtAudience,
        Self::BadJwtLexiconMethod,
        Self::BadJwtIss,
        Self::BadJwtSignature,
    ];

    /// The error name sent in the `error` field.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadJwt => "BadJwt",
            Self::BadJwtType => "BadJwtType",
            Self::JwtExpired => "JwtExpired",
            Self::BadJwtAudience => "BadJwtAudience",
            Self::BadJwtLexiconMethod => "BadJwtLexiconMethod",
            Self::BadJwtIss => "BadJwtIss",
            Self::BadJwtSignature => "BadJwtSignature",
        }
    }

    /// The rejection called `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|rejection| rejection.name() == name)
    }
}

fn suffix(message: &Option<String>) -> String {
    match message {
        Some(m) => format!(": {m}"),
        None => String::new(),
    }
}

impl CommonError {
    /// The names of XRPC's own common errors, those a binding's envelope may
    /// send under names of its own. The service-auth rejections, which keep
    /// their names, are [`ServiceAuthRejection::ALL`].
    pub const NAMES: &'static [&'static str] = &[
        "InvalidRequest",
        "AuthenticationRequired",
        "ExpiredToken",
        "InvalidToken",
        "Forbidden",
        "PayloadTooLarge",
        "RateLimitExceeded",
        "InternalServerError",
        "MethodNotImplemented",
        "UpstreamFailure",
        "NotEnoughResources",
        "UpstreamTimeout",
    ];

    /// The common error called `name`, if it is one.
    pub fn from_parts(name: &str, message: Option<String>) -> Option<Self> {
        Some(match name {
            "InvalidRequest" => Self::InvalidRequest { message },
            "AuthenticationRequired" | "AuthRequired" => Self::AuthenticationRequired { message },
            "ExpiredToken" => Self::ExpiredToken { message },
            "InvalidToken" => Self::InvalidToken { message },
            "Forbidden" => Self::Forbidden { message },
            "PayloadTooLarge" => Self::PayloadTooLarge { message },
            "RateLimitExceeded" => Self::RateLimitExceeded {
                message,
                reset: None,
            },
            "InternalServerError" => Self::InternalServerError { message },
            "MethodNotImplemented" => Self::MethodNotImplemented { message },
            "UpstreamFailure" => Self::UpstreamFailure { message },
            "NotEnoughResources" => Self::NotEnoughResources { message },
            "UpstreamTimeout" => Self::UpstreamTimeout { message },
            _ => Self::ServiceAuth {
                rejection: ServiceAuthRejection::from_name(name)?,
                message,
            },
        })
    }

    /// The error name sent in the `error` field.
    pub fn name(&self) -> &'static str {
        match self {
            Self::InvalidRequest { .. } => "InvalidRequest",
            Self::AuthenticationRequired { .. } => "AuthenticationRequired",
            Self::ExpiredToken { .. } => "ExpiredToken",
            Self::InvalidToken { .. } => "InvalidToken",
            Self::Forbidden { .. } => "Forbidden",
            Self::PayloadTooLarge { .. } => "PayloadTooLarge",
            Self::RateLimitExceeded { .. } => "RateLimitExceeded",
            Self::InternalServerError { .. } => "InternalServerError",
            Self::MethodNotImplemented { .. } => "MethodNotImplemented",
            Self::UpstreamFailure { .. } => "UpstreamFailure",
            Self::NotEnoughResources { .. } => "NotEnoughResources",
            Self::UpstreamTimeout { .. } => "UpstreamTimeout",
            Self::ServiceAuth { rejection, .. } => rejection.name(),
        }
    }

    /// The message, if any.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest { message }
            | Self::AuthenticationRequired { message }
            | Self::ExpiredToken { message }
            | Self::InvalidToken { message }
            | Self::Forbidden { message }
            | Self::PayloadTooLarge { message }
            | Self::RateLimitExceeded { message, .. }
            | Self::InternalServerError { message }
            | Self::MethodNotImplemented { message }
            | Self::UpstreamFailure { message }
            | Self::NotEnoughResources { message }
            | Self::UpstreamTimeout { message }
            | Self::ServiceAuth { message, .. } => message.as_deref(),
        }
    }

    /// The HTTP status a server answers this error with.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest { .. } | Self::ExpiredToken { .. } | Self::InvalidToken { .. } => {
                400
            }
            Self::AuthenticationRequired { .. } | Self::ServiceAuth { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::PayloadTooLarge { .. } => 413,
            Self::RateLimitExceeded { .. } => 429,
            Self::InternalServerError { .. } => 500,
            Self::MethodNotImplemented { .. } => 501,
            Self::UpstreamFailure { .. } => 502,
            Self::NotEnoughResources { .. } => 503,
            Self::UpstreamTimeout { .. } => 504,
        }
    }

    /// An `InvalidRequest` with a message.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            message: Some(message.into()),
        }
    }

    /// A `MethodNotImplemented`.
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::MethodNotImplemented {
            message: Some(message.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CommonError, ServiceAuthRejection};

    #[test]
    fn names_round_trip() {
        for name in CommonError::NAMES {
            let e = CommonError::from_parts(name, Some("m".to_owned())).unwrap();
            assert_eq!(e.name(), *name);
            assert_eq!(e.message(), Some("m"));
            assert!(e.status() >= 400);
            assert_eq!(e.to_string(), format!("{name}: m"));
        }
        assert!(CommonError::from_parts("OwnerCannotLeave", None).is_none());
        assert_eq!(
            CommonError::from_parts("BadJwtAudience", None),
            Some(CommonError::ServiceAuth {
                rejection: ServiceAuthRejection::BadJwtAudience,
                message: None,
            })
        );
        for rejection in ServiceAuthRejection::ALL {
            assert_eq!(
                ServiceAuthRejection::from_name(rejection.name()),
                Some(rejection)
            );
            let error = CommonError::from_parts(rejection.name(), None).unwrap();
            assert_eq!((error.name(), error.status()), (rejection.name(), 401));
        }
    }
}
