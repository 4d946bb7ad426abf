//! Jetstream v2: `network.bsky.jetstream.subscribeEvents` over `xrpc.v1.json`.
