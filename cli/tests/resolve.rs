//! `atlex resolve` (feature `resolve`) against a local HTTP server playing
//! the PLC directory and a handle's well-known file, and a DNS server that
//! never answers: nothing touches the network.

#![cfg(feature = "resolve")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, UdpSocket};
use std::process::{Command, Output};
use std::sync::Arc;

const ALICE: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
const KEY: &str = "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF";

/// Serves `GET <path>` from `routes` (anything else is 404), one connection
/// at a time, until the test process ends.
fn serve(routes: HashMap<String, String>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line.split(' ').nth(1).unwrap_or("");
            let response = match routes.get(path) {
                Some(body) => format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned(),
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    port
}

fn document(handle: &str) -> String {
    serde_json::json!({
        "id": ALICE,
        "alsoKnownAs": [format!("at://{handle}")],
        "verificationMethod": [{
            "id": "#atproto", "type": "Multikey", "controller": ALICE, "publicKeyMultibase": KEY,
        }],
        "service": [{
            "id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
            "serviceEndpoint": "https://pds.example.com",
        }],
    })
    .to_string()
}

fn resolve(port: u16, dns: &UdpSocket, args: &[&str]) -> Output {
    command(port, dns, args).output().unwrap()
}

fn command(port: u16, dns: &UdpSocket, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atlex"));
    command
        .arg("resolve")
        .args(["--plc", &format!("http://127.0.0.1:{port}")])
        .args(["--dns", &dns.local_addr().unwrap().to_string()])
        .args(["--timeout", "0.5", "--plain-http"])
        .args(["--resolve", &format!("alice.test=127.0.0.1:{port}")])
        .args(["--resolve", &format!("bob.test=127.0.0.1:{port}")])
        .args(args);
    command
}

fn text(output: &Output) -> (Option<i32>, String, String) {
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Serves alice's document and a well-known file (for any host) naming her.
fn serve_alice() -> u16 {
    serve(HashMap::from([
        (format!("/{ALICE}"), document("alice.test")),
        ("/.well-known/atproto-did".to_owned(), ALICE.to_owned()),
    ]))
}

#[test]
fn resolves_handles_and_dids() {
    let port = serve_alice();
    // A DNS server that never answers: the well-known file decides.
    let dns = UdpSocket::bind("127.0.0.1:0").unwrap();

    for identifier in ["alice.test", ALICE] {
        let (code, out, err) = text(&resolve(port, &dns, &[identifier]));
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(out.contains(&format!("did:         {ALICE}")), "{out}");
        assert!(out.contains("alice.test (checks out both ways)"), "{out}");
        assert!(out.contains(&format!("did:key:{KEY} (k256)")), "{out}");
        assert!(
            out.contains("pds:         https://pds.example.com"),
            "{out}"
        );
    }

    let (code, out, _) = text(&resolve(port, &dns, &["--json", ALICE]));
    assert_eq!(code, Some(0));
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["handleVerified"], true);
    assert_eq!(value["signingKey"], format!("did:key:{KEY}"));

    // bob.test also points at alice (the same well-known file), but her
    // document does not claim it.
    let (code, out, _) = text(&resolve(port, &dns, &["bob.test"]));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("does not check out"), "{out}");
}

#[test]
fn failures_exit_1_with_the_reason() {
    let port = serve(HashMap::new());
    let dns = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (code, _, err) = text(&resolve(port, &dns, &[ALICE]));
    assert_eq!(code, Some(1));
    assert!(err.contains("not found") && err.contains("404"), "{err}");

    let (code, _, err) = text(&resolve(port, &dns, &["alice.test"]));
    assert_eq!(code, Some(1));
    assert!(err.contains("does not resolve"), "{err}");

    let (code, _, err) = text(&resolve(port, &dns, &["not a handle"]));
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn a_closed_stdout_keeps_the_status() {
    let port = serve_alice();
    let dns = UdpSocket::bind("127.0.0.1:0").unwrap();
    for (args, status) in [
        (&["alice.test"][..], 0),
        (&["--json", "alice.test"], 0),
        (&["bob.test"], 1),
        (&["--json", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"], 1),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = command(port, &dns, args).stdout(writer).output().unwrap();
        let (code, _, err) = text(&output);
        assert_eq!(code, Some(status), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
