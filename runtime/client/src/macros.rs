//! What the hand-written endpoint descriptors of the client share.

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
            Unknown(atlex_core::xrpc::UnknownError),
        }

        impl atlex_core::xrpc::EndpointError for $name {
            const DECLARED: &'static [&'static str] = &[$(stringify!($variant)),*];

            fn from_parts(error: String, message: Option<String>) -> Self {
                match error.as_str() {
                    $(stringify!($variant) => Self::$variant { message },)*
                    _ => Self::Unknown(atlex_core::xrpc::UnknownError { error, message }),
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
                let name = atlex_core::xrpc::EndpointError::name(self);
                match atlex_core::xrpc::EndpointError::message(self) {
                    Some(message) => write!(f, "{name}: {message}"),
                    None => f.write_str(name),
                }
            }
        }

        impl std::error::Error for $name {}
    };
}

/// Nothing to check: the types given carry no lexicon constraints the client
/// relies on.
macro_rules! no_constraints {
    ($($ty:ty),*) => {
        $(impl atlex_core::validate::Validate for $ty {
            fn check(&self, _validator: &mut atlex_core::validate::Validator) {}
        })*
    };
}
