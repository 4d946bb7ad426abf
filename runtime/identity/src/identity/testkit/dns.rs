//! The network's DNS server: UDP on 127.0.0.1, answering TXT queries for
//! `_atproto.<handle>` from the network's handle records and for other names
//! from the TXT records set on the network.

use std::sync::Arc;

use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::TXT;
use hickory_resolver::proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;

use super::Shared;

/// The name of a handle's TXT record, without the final dot.
const PREFIX: &str = "_atproto.";
/// How long answers may be cached, in seconds (the resolver keeps its own
/// cache of handles, cleared with it).
const TTL: u32 = 60;

/// Answers queries on `socket` until the task is aborted.
pub(super) async fn serve(socket: UdpSocket, shared: Arc<Shared>) {
    let mut buffer = vec![0u8; 4096];
    loop {
        // A socket that fails is not retried in a busy loop: the resolver's
        // queries then time out, which says that DNS did not answer.
        let Ok((length, peer)) = socket.recv_from(&mut buffer).await else {
            return;
        };
        // A datagram that is not a DNS query gets no answer, as from a
        // real server.
        let Ok(query) = Message::from_vec(&buffer[..length]) else {
            continue;
        };
        let Some(answer) = answer(&query, &shared) else {
            continue;
        };
        // A client that went away is not the server's concern.
        let _ = socket.send_to(&answer, peer).await;
    }
}

/// The response to `query`, encoded.
fn answer(query: &Message, shared: &Shared) -> Option<Vec<u8>> {
    let mut response = Message::response(query.metadata.id, query.metadata.op_code);
    response.metadata.recursion_desired = query.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.add_queries(query.queries.clone());
    let Some(question) = query.queries.first() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response.to_vec().ok();
    };
    let name = question.name().to_ascii().to_ascii_lowercase();
    let name = name.trim_end_matches('.');
    let values: Option<Vec<String>> = {
        let state = shared.state();
        match name.strip_prefix(PREFIX) {
            Some(handle) => state
                .dns_handles
                .get(handle)
                .map(|did| vec![format!("did={did}")]),
            None => state.txt.get(name).cloned(),
        }
    };
    match values {
        Some(values) => {
            // The name exists; only a TXT query has an answer.
            if question.query_type() == RecordType::TXT {
                for value in values {
                    response.add_answer(Record::from_rdata(
                        question.name().clone(),
                        TTL,
                        RData::TXT(TXT::from_bytes(vec![value.as_bytes()])),
                    ));
                }
            }
        }
        None => response.metadata.response_code = ResponseCode::NXDomain,
    }
    response.to_vec().ok()
}
