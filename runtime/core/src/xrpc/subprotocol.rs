//! The wire subprotocols of event streams, negotiated with the WebSocket
//! handshake's `Sec-WebSocket-Protocol`.

use std::fmt;
use std::str::FromStr;

/// How the frames of an event stream are written on the wire.
///
/// A subscription's lexicon may declare its default (`subprotocol`); a
/// client may ask for another with the `Sec-WebSocket-Protocol` header of
/// the handshake, which the server echoes when it agrees. Without either,
/// a stream is [`V0Cbor`](Self::V0Cbor), the framing every existing stream
/// (the firehose among them) uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Subprotocol {
    /// `xrpc.v0.cbor`: each frame a binary message of two DAG-CBOR objects,
    /// a header (`op`, `t`) and the body.
    #[default]
    V0Cbor,
    /// `xrpc.v1.json`: each frame a text message holding one JSON object,
    /// `{"$type": "message", "payload": {…}}` or `{"$type": "error",
    /// "error": …, "message": …}`; the payload carries its full `$type`.
    V1Json,
    /// `xrpc.v1.cbor`: the `v1` object of [`V1Json`](Self::V1Json), as one
    /// DAG-CBOR object in a binary message.
    V1Cbor,
}

impl Subprotocol {
    /// Every subprotocol, in the order a server prefers them when a client
    /// offers several it does not rank (it always does: the header is
    /// ordered).
    pub const ALL: [Subprotocol; 3] = [Self::V0Cbor, Self::V1Json, Self::V1Cbor];

    /// The token that names it in `Sec-WebSocket-Protocol` and in lexicons.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V0Cbor => "xrpc.v0.cbor",
            Self::V1Json => "xrpc.v1.json",
            Self::V1Cbor => "xrpc.v1.cbor",
        }
    }

    /// The subprotocol a token names; `None` for any other token (compared
    /// exactly: tokens are case-sensitive).
    pub fn from_token(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|known| known.as_str() == token)
    }

    /// Whether frames are the single-object `v1` framing.
    pub const fn is_v1(self) -> bool {
        matches!(self, Self::V1Json | Self::V1Cbor)
    }

    /// What a server answers a client that offered `offered` (the tokens of
    /// its `Sec-WebSocket-Protocol` headers, in its order of preference),
    /// for a stream whose default is `default`: the first token it knows,
    /// to be echoed, or, when it knows none (or the client offered
    /// nothing), `default`, with nothing to echo.
    pub fn negotiate<'a>(
        offered: impl IntoIterator<Item = &'a str>,
        default: Subprotocol,
    ) -> (Subprotocol, Option<Subprotocol>) {
        match offered.into_iter().find_map(Self::from_token) {
            Some(chosen) => (chosen, Some(chosen)),
            None => (default, None),
        }
    }

    /// The tokens of `Sec-WebSocket-Protocol` header values, in order: each
    /// value is a comma-separated list; blanks around the commas are
    /// dropped, as are empty items.
    pub fn offered<'a>(values: impl IntoIterator<Item = &'a str>) -> impl Iterator<Item = &'a str> {
        values
            .into_iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|token| !token.is_empty())
    }
}

impl fmt::Display for Subprotocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token that names no subprotocol this crate knows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown event-stream subprotocol {0:?} (known: xrpc.v0.cbor, xrpc.v1.json, xrpc.v1.cbor)")]
pub struct UnknownSubprotocol(pub String);

impl FromStr for Subprotocol {
    type Err = UnknownSubprotocol;

    fn from_str(token: &str) -> Result<Self, Self::Err> {
        Self::from_token(token).ok_or_else(|| UnknownSubprotocol(token.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::Subprotocol;

    #[test]
    fn the_tokens_and_variants_are_those_the_derive_and_generator_use() {
        let ours: Vec<(&str, String)> = Subprotocol::ALL
            .iter()
            .map(|p| (p.as_str(), format!("{p:?}")))
            .collect();
        let contract: Vec<(&str, String)> = atlex_names::SUBPROTOCOLS
            .iter()
            .map(|(token, variant)| (*token, (*variant).to_owned()))
            .collect();
        assert_eq!(ours, contract);
        for p in Subprotocol::ALL {
            assert_eq!(p.as_str().parse::<Subprotocol>(), Ok(p));
        }
        assert!("XRPC.V1.JSON".parse::<Subprotocol>().is_err());
        assert!("".parse::<Subprotocol>().is_err());
    }

    #[test]
    fn the_first_known_offer_wins_and_nothing_known_falls_back_to_the_default() {
        fn offers(header: &str) -> Vec<&str> {
            Subprotocol::offered([header]).collect()
        }
        assert_eq!(
            offers(" junk , xrpc.v1.cbor,,xrpc.v1.json "),
            ["junk", "xrpc.v1.cbor", "xrpc.v1.json"]
        );
        assert_eq!(
            Subprotocol::negotiate(
                offers("junk, xrpc.v1.cbor, xrpc.v1.json"),
                Subprotocol::V0Cbor
            ),
            (Subprotocol::V1Cbor, Some(Subprotocol::V1Cbor))
        );
        assert_eq!(
            Subprotocol::negotiate(offers("xrpc.v0.cbor"), Subprotocol::V1Json),
            (Subprotocol::V0Cbor, Some(Subprotocol::V0Cbor))
        );
        assert_eq!(
            Subprotocol::negotiate(offers("junk, xrpc.v9.json"), Subprotocol::V1Json),
            (Subprotocol::V1Json, None)
        );
        assert_eq!(
            Subprotocol::negotiate([], Subprotocol::V0Cbor),
            (Subprotocol::V0Cbor, None)
        );
        // Two header lines read as one list, in order.
        let two: Vec<&str> = Subprotocol::offered(["a", "xrpc.v1.json, b"]).collect();
        assert_eq!(two, ["a", "xrpc.v1.json", "b"]);
    }
}
