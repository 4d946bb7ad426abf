//! What the runtime's tests share: endpoints that override the body methods
//! of another, and the varints of CAR files.

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
pub(crate) fn varint(mut n: u64) -> Vec<u8> {
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
