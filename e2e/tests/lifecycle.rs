//! The servers stop, and their data goes, when the `Pds` is dropped, also
//! while a test panics.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use atlex_e2e::Pds;

/// The loopback address of `http://localhost:<port>`.
fn address(url: &str) -> SocketAddr {
    let port = url
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("no port in {url}"));
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn answers(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
}

#[test]
fn a_panicking_test_leaves_no_server_and_no_data() {
    let (sender, receiver) = std::sync::mpsc::channel::<(SocketAddr, SocketAddr, PathBuf)>();
    let panicked = std::thread::spawn(move || {
        let pds = Pds::start().unwrap();
        let seen = (
            address(pds.url()),
            address(pds.plc_url()),
            pds.data_dir().to_owned(),
        );
        assert!(answers(seen.0) && answers(seen.1), "the servers answer");
        assert!(seen.2.is_dir());
        sender.send(seen).unwrap();
        panic!("a test that fails while the servers run");
    })
    .join();
    assert!(panicked.is_err());
    let (pds, plc, data) = receiver.recv().unwrap();
    assert!(!answers(pds), "the PDS still answers on {pds}");
    assert!(!answers(plc), "the PLC directory still answers on {plc}");
    assert!(!data.exists(), "{} is left", data.display());
}
