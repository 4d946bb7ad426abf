//! Jetstream v1: the `/subscribe` endpoint.
