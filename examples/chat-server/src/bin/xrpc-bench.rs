//! Benchmarks the generated server router and the client against hand-written
//! baselines, in the same run, on loopback.
//!
//! ```sh
//! cargo run --release -p chat-server --bin xrpc-bench            # needs `wrk` on PATH
//! cargo run --release -p chat-server --bin xrpc-bench -- 5 64 7   # seconds per run, connections, rounds
//! ```
//!
//! Server: `chat.bsky.convo.listConvos` answered by
//! - `generated`: the generated `Service` trait mounted on `XrpcRouter` (params
//!   parsed and validated, output serialized by the router);
//! - `hand-written`: an axum handler that parses `limit`, checks its range and
//!   serializes the same output itself;
//! - `bytes`: an axum handler returning the same response, pre-serialized.
//!
//! Each is loaded with `wrk` in turn, in rounds (7 by default) that start
//! with a different server each time; the ratios are taken within each round
//! and reported as their median and range, because a shared machine's speed
//! drifts between rounds more than the servers differ.
//!
//! Client: sequential calls through `atlex::client` vs raw reqwest +
//! serde_json on the same server, per-call time compared, the order
//! alternating between rounds.

use std::sync::Arc;
use std::time::Instant;

use atlex::server::{HandlerResult, Request, XrpcRouter};
use atlex_lexicons::chat::bsky::convo::{self as convo, list_convos};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../lexicons/tests/fixtures/list_convos_100.json"
);

/// The page every server answers with.
struct Fixed(list_convos::Output);

impl convo::Service for Fixed {
    async fn list_convos(
        &self,
        request: Request<list_convos::ListConvos>,
    ) -> HandlerResult<list_convos::ListConvos> {
        let limit = usize::try_from(request.params.limit_or_default()).unwrap_or(50);
        Ok(page_of(
            self.0.convos.iter().take(limit).cloned(),
            self.0.cursor.clone(),
        ))
    }
}

async fn hand_written(
    state: axum::extract::State<Arc<list_convos::Output>>,
    uri: axum::http::Uri,
) -> axum::response::Response {
    // What a hand-written handler does: read `limit`, check it, serialize.
    let mut limit = 50usize;
    for pair in uri.query().unwrap_or("").split('&') {
        if let Some(value) = pair.strip_prefix("limit=") {
            match value.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => limit = n,
                _ => {
                    return (
                        StatusCode::BAD_REQUEST,
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"error":"InvalidRequest","message":"bad limit"}"#,
                    )
                        .into_response();
                }
            }
        }
    }
    let page = page_of(
        state.convos.iter().take(limit).cloned(),
        state.cursor.clone(),
    );
    match serde_json::to_vec(&page) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn serve(app: axum::Router) -> Result<String, std::io::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}"))
}

/// Runs wrk against `url`; requests per second.
fn wrk(url: &str, seconds: u64, connections: u32) -> Result<f64, String> {
    let output = std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            url,
        ])
        .output()
        .map_err(|e| format!("cannot run wrk (is it installed?): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if text.contains("Non-2xx") {
        return Err(format!("wrk saw errors:\n{text}"));
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk output:\n{text}"))
}

/// The median and range of per-round ratios, as `0.97 (0.91–1.04)`.
fn spread(mut ratios: Vec<f64>) -> String {
    ratios.sort_by(|a, b| a.total_cmp(b));
    match (ratios.first(), ratios.last()) {
        (Some(low), Some(high)) => format!("{:.2} ({low:.2}–{high:.2})", median(ratios.clone())),
        _ => "n/a".to_owned(),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(5);
    let connections: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(32);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(7).max(1);

    let fixture: list_convos::Output = serde_json::from_str(&std::fs::read_to_string(FIXTURE)?)?;
    let shared = Arc::new(fixture.clone());

    let generated = serve(
        XrpcRouter::new(Fixed(fixture.clone()))
            .mount(convo::register)
            .into_router(),
    )
    .await?;
    let written = serve(
        axum::Router::new()
            .route(
                "/xrpc/chat.bsky.convo.listConvos",
                axum::routing::get(hand_written),
            )
            .with_state(Arc::clone(&shared)),
    )
    .await?;

    for limit in [1usize, 50] {
        let page = page_of(
            fixture.convos.iter().take(limit).cloned(),
            fixture.cursor.clone(),
        );
        let bytes = Arc::new(serde_json::to_vec(&page)?);
        let fixed_bytes = Arc::clone(&bytes);
        let raw = serve(axum::Router::new().route(
            "/xrpc/chat.bsky.convo.listConvos",
            axum::routing::get(move || {
                let body = Arc::clone(&fixed_bytes);
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        body.as_ref().clone(),
                    )
                }
            }),
        ))
        .await?;
        let path = format!("/xrpc/chat.bsky.convo.listConvos?limit={limit}");
        println!(
            "== server: listConvos limit={limit} ({} bytes per response), wrk -t2 -c{connections} -d{seconds}s, {rounds} rounds",
            bytes.len()
        );
        // Each round loads the three servers back to back, starting with a
        // different one each time, so that drift of the machine's speed
        // falls on all three alike; ratios are taken within a round.
        let urls = [&generated, &written, &raw];
        let mut rates: [Vec<f64>; 3] = Default::default();
        for round in 0..rounds {
            let mut this_round = [0.0; 3];
            for offset in 0..3 {
                let which = (round + offset) % 3;
                this_round[which] = wrk(&format!("{}{path}", urls[which]), seconds, connections)?;
            }
            for (rate, all) in this_round.iter().zip(rates.iter_mut()) {
                all.push(*rate);
            }
        }
        let ratios = |other: usize| -> Vec<f64> {
            rates[0]
                .iter()
                .zip(&rates[other])
                .map(|(g, o)| g / o)
                .collect()
        };
        let (to_written, to_raw) = (ratios(1), ratios(2));
        let [g, h, b] = rates.map(median);
        println!("generated router   {g:>10.0} req/s");
        println!(
            "hand-written axum  {h:>10.0} req/s   generated/hand-written = {}",
            spread(to_written)
        );
        println!(
            "pre-serialized     {b:>10.0} req/s   generated/pre-serialized = {}",
            spread(to_raw)
        );
    }

    // Client: sequential calls against a server returning fixed bytes.
    let page = page_of(
        fixture.convos.iter().take(50).cloned(),
        fixture.cursor.clone(),
    );
    let body = Arc::new(serde_json::to_vec(&page)?);
    let body_len = body.len();
    let raw = serve(axum::Router::new().route(
        "/xrpc/chat.bsky.convo.listConvos",
        axum::routing::get(move || {
            let body = Arc::clone(&body);
            async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    body.as_ref().clone(),
                )
            }
        }),
    ))
    .await?;
    let http = reqwest::Client::new();
    let client = atlex::client::Client::builder(&raw)
        .http_client(http.clone())
        .build()?;
    let params = list_convos::Params::new().with_limit(50);
    let url = format!("{raw}/xrpc/chat.bsky.convo.listConvos?limit=50");
    const CALLS: u32 = 1000;
    let (mut atlex_times, mut raw_times, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut per_call = [0.0; 2];
        // Alternate which goes first, so that warm-up favours neither.
        for offset in 0..2 {
            let which = (round + offset) % 2;
            let start = Instant::now();
            for _ in 0..CALLS {
                if which == 0 {
                    let bytes = http.get(&url).send().await?.bytes().await?;
                    let out: list_convos::Output = serde_json::from_slice(&bytes)?;
                    std::hint::black_box(out);
                } else {
                    let out = client.query(list_convos::ListConvos, &params).await?;
                    std::hint::black_box(out);
                }
            }
            per_call[which] = start.elapsed().as_secs_f64() / f64::from(CALLS);
        }
        raw_times.push(per_call[0]);
        atlex_times.push(per_call[1]);
        ratios.push(per_call[1] / per_call[0]);
    }
    let (a, r) = (median(atlex_times), median(raw_times));
    println!(
        "== client: {CALLS} sequential listConvos calls ({} convos, {} bytes) per round, {rounds} rounds",
        page.convos.len(),
        body_len
    );
    println!("raw reqwest + serde_json  {:>8.1} µs/call", r * 1e6);
    println!(
        "atlex client              {:>8.1} µs/call   difference {:+.1} µs/call, atlex/raw = {}",
        a * 1e6,
        (a - r) * 1e6,
        spread(ratios)
    );
    Ok(())
}

/// A listConvos page of `convos` with `cursor`.
fn page_of(
    convos: impl Iterator<Item = convo::defs::ConvoView>,
    cursor: Option<String>,
) -> list_convos::Output {
    let mut page = list_convos::Output::new(convos.collect::<Vec<_>>());
    page.cursor = cursor;
    page
}
