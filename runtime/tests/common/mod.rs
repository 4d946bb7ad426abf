//! What the runtime's tests share: error enums written the way
//! `atlex-codegen` writes them.

/// An endpoint's error enum: one `{ message }` variant per declared error
/// name, and `Unknown` for any other name, with `EndpointError`, `Display`
/// (`name: message`) and `Error`.
macro_rules! endpoint_error {
    ($name:ident { $($variant:ident),* $(,)? }) => {
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum $name {
            $($variant { message: Option<String> },)*
            Unknown(atlex::xrpc::UnknownError),
        }

        impl atlex::xrpc::EndpointError for $name {
            const DECLARED: &'static [&'static str] = &[$(stringify!($variant)),*];

            fn from_parts(error: String, message: Option<String>) -> Self {
                match error.as_str() {
                    $(stringify!($variant) => Self::$variant { message },)*
                    _ => Self::Unknown(atlex::xrpc::UnknownError { error, message }),
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
                let name = atlex::xrpc::EndpointError::name(self);
                match atlex::xrpc::EndpointError::message(self) {
                    Some(message) => write!(f, "{name}: {message}"),
                    None => f.write_str(name),
                }
            }
        }

        impl std::error::Error for $name {}
    };
}

/// `impl Endpoint for $name` with the required items of endpoint `$base`
/// and the provided methods given (a test endpoint that overrides some).
#[allow(unused_macros)] // Only the client and server tests use it.
macro_rules! endpoint_as {
    ($name:ty = $base:ty { $($methods:tt)* }) => {
        impl atlex::xrpc::Endpoint for $name {
            const NSID: &'static str = <$base as atlex::xrpc::Endpoint>::NSID;
            const KIND: atlex::xrpc::EndpointKind = <$base as atlex::xrpc::Endpoint>::KIND;
            const INPUT_ENCODING: Option<&'static str> =
                <$base as atlex::xrpc::Endpoint>::INPUT_ENCODING;
            const OUTPUT_ENCODING: Option<&'static str> =
                <$base as atlex::xrpc::Endpoint>::OUTPUT_ENCODING;
            type Params = <$base as atlex::xrpc::Endpoint>::Params;
            type Input = <$base as atlex::xrpc::Endpoint>::Input;
            type Output = <$base as atlex::xrpc::Endpoint>::Output;
            type Error = <$base as atlex::xrpc::Endpoint>::Error;
            type InputCodec = <$base as atlex::xrpc::Endpoint>::InputCodec;
            type OutputCodec = <$base as atlex::xrpc::Endpoint>::OutputCodec;

            $($methods)*
        }
    };
}

/// `n` as an unsigned LEB128 varint, as CAR files write lengths.
#[allow(dead_code)] // Only the CAR tests use it.
pub fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}
