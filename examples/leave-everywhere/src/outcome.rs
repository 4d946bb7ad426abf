//! One way to handle the typed errors of three services alike: map each
//! endpoint's result to an [`Outcome`].

use std::fmt;
use std::time::{Duration, SystemTime};

use atlex::client::Error;
use atlex::error::CommonError;
use atlex_lexicons::chat::bsky::convo::leave_convo;
use atlex_lexicons::com::bitrix24::chats::leave as bitrix_leave;
use atlex_lexicons::com::slack::conversations::leave as slack_leave;

/// What became of a request to leave a conversation, whatever the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The user left.
    Left,
    /// The user was not in the conversation (or it does not exist for them).
    NotAMember(String),
    /// The service will not let the user leave, or does not accept the
    /// credentials.
    NotAllowed(String),
    /// Worth trying again later, after the wait when the service gave one.
    RetryLater(Option<Duration>),
    /// Anything else.
    Other(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Left => f.write_str("left"),
            Outcome::NotAMember(why) => write!(f, "not a member ({why})"),
            Outcome::NotAllowed(why) => write!(f, "not allowed ({why})"),
            Outcome::RetryLater(Some(wait)) => write!(f, "retry in {}s", wait.as_secs()),
            Outcome::RetryLater(None) => f.write_str("retry later"),
            Outcome::Other(what) => write!(f, "other: {what}"),
        }
    }
}

/// The outcome of a call to one of the three `leave` endpoints.
pub trait LeaveOutcome {
    /// What became of the request.
    fn outcome(&self) -> Outcome;
}

/// What the errors every endpoint shares mean (transport, rate limits,
/// common XRPC errors, bad requests).
fn shared<E: fmt::Display>(error: &Error<E>) -> Outcome {
    if let Error::Common {
        error:
            CommonError::AuthenticationRequired { .. }
            | CommonError::InvalidToken { .. }
            | CommonError::ExpiredToken { .. }
            | CommonError::Forbidden { .. },
        ..
    } = error
    {
        return Outcome::NotAllowed(error.to_string());
    }
    if error.is_retryable() {
        let wait = error
            .retry_after()
            .map(|at| at.duration_since(SystemTime::now()).unwrap_or_default());
        return Outcome::RetryLater(wait);
    }
    Outcome::Other(error.to_string())
}

impl LeaveOutcome for Result<leave_convo::Output, Error<leave_convo::Error>> {
    fn outcome(&self) -> Outcome {
        use leave_convo::Error as E;
        match self {
            Ok(_) => Outcome::Left,
            Err(Error::Endpoint { error, .. }) => match error {
                E::InvalidConvo { .. } => Outcome::NotAMember(error.to_string()),
                E::OwnerCannotLeave { .. } => Outcome::NotAllowed(error.to_string()),
                // Undeclared names, and errors a newer lexicon declares.
                _ => Outcome::Other(error.to_string()),
            },
            Err(other) => shared(other),
        }
    }
}

impl LeaveOutcome for Result<slack_leave::Output, Error<slack_leave::Error>> {
    fn outcome(&self) -> Outcome {
        use slack_leave::Error as E;
        match self {
            // "This method will not return an error if the user was not in the
            // conversation before it was called."
            Ok(output) if output.not_in_channel == Some(true) => {
                Outcome::NotAMember("not_in_channel".to_owned())
            }
            Ok(_) => Outcome::Left,
            Err(Error::Endpoint { error, .. }) => {
                let name = error.to_string();
                match error {
                    E::ChannelNotFound { .. } => Outcome::NotAMember(name),
                    E::Ratelimited { .. }
                    | E::ServiceUnavailable { .. }
                    | E::InternalError { .. }
                    | E::RequestTimeout { .. }
                    | E::TeamAddedToOrg { .. }
                    | E::OrgLoginRequired { .. } => Outcome::RetryLater(None),
                    E::CantLeaveGeneral { .. }
                    | E::IsArchived { .. }
                    | E::LastMember { .. }
                    | E::MethodNotSupportedForChannelType { .. }
                    | E::MissingScope { .. }
                    | E::UserIsRestricted { .. }
                    | E::UserIsUltraRestricted { .. }
                    | E::AccessDenied { .. }
                    | E::AccountInactive { .. }
                    | E::EkmAccessDenied { .. }
                    | E::EnterpriseIsRestricted { .. }
                    | E::InvalidAuth { .. }
                    | E::IsBot { .. }
                    | E::NotAllowedTokenType { .. }
                    | E::NotAuthed { .. }
                    | E::NoPermission { .. }
                    | E::TokenExpired { .. }
                    | E::TokenRevoked { .. }
                    | E::TwoFactorSetupRequired { .. }
                    | E::TeamAccessNotGranted { .. }
                    | E::Accesslimited { .. } => Outcome::NotAllowed(name),
                    _ => Outcome::Other(name),
                }
            }
            Err(other) => shared(other),
        }
    }
}

impl LeaveOutcome for Result<bitrix_leave::Output, Error<bitrix_leave::Error>> {
    fn outcome(&self) -> Outcome {
        use bitrix_leave::Error as E;
        match self {
            Ok(output) if output.data => Outcome::Left,
            Ok(_) => Outcome::Other("the portal answered data: false".to_owned()),
            Err(Error::Endpoint { error, .. }) => {
                let text = error.to_string();
                match error {
                    // "chat not found or no permissions (text in message)"
                    E::BitrixError { message } => {
                        let message = message.as_deref().unwrap_or_default().to_lowercase();
                        if message.contains("not found") || message.contains("not a member") {
                            Outcome::NotAMember(text)
                        } else {
                            Outcome::NotAllowed(text)
                        }
                    }
                    E::BitrixUnavailable { .. } => Outcome::RetryLater(None),
                    E::ScopeDenied { .. } | E::TokenMissing { .. } => Outcome::NotAllowed(text),
                    _ => Outcome::Other(text),
                }
            }
            Err(other) => shared(other),
        }
    }
}
