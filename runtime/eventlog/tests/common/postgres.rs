//! A PostgreSQL server of its own for a test, started by
//! scripts/postgres.sh and stopped on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: PathBuf,
    config: String,
    /// The loopback port of a server that listens on TCP too.
    port: Option<u16>,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres.sh")
}

/// Runs the script with `args`, failing the test with its errors.
fn run(args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new(script())
        .args(args)
        .output()
        .expect("scripts/postgres.sh runs");
    assert!(
        output.status.success(),
        "scripts/postgres.sh {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("text")
        .trim()
        .to_owned()
}

/// A loopback port no one listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("its address").port()
}

impl Postgres {
    /// Starts a server on a unix socket in a new directory under /tmp
    /// (short, for the socket's path).
    pub fn start() -> Self {
        Self::start_as(None)
    }

    /// Starts a server listening on a loopback TCP port too, without TLS.
    pub fn start_tcp() -> Self {
        Self::start_as(Some("tcp"))
    }

    /// Starts a server listening on a loopback TCP port too, with TLS only
    /// there, its certificate signed by [`ca_pem`](Self::ca_pem).
    pub fn start_tls() -> Self {
        Self::start_as(Some("tls"))
    }

    fn start_as(mode: Option<&str>) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = PathBuf::from(format!("/tmp/atlex-pg-{}-{nanos}", std::process::id()));
        let started = std::time::Instant::now();
        let port = mode.map(|_| free_port());
        let port_text = port.map(|port| port.to_string());
        let mut args = vec![std::ffi::OsStr::new("start"), dir.as_os_str()];
        if let (Some(mode), Some(port)) = (mode, &port_text) {
            args.extend([std::ffi::OsStr::new(mode), std::ffi::OsStr::new(port)]);
        }
        let config = run(&args);
        eprintln!(
            "atlex-eventlog: PostgreSQL started in {:.2} s ({config})",
            started.elapsed().as_secs_f64()
        );
        Self { dir, config, port }
    }

    /// The libpq connection string of the server's unix socket.
    pub fn config(&self) -> &str {
        &self.config
    }

    /// The connection string of the server's loopback TCP port, followed
    /// by `extra`.
    pub fn tcp_config(&self, extra: &str) -> String {
        let port = self.port();
        format!("host=127.0.0.1 port={port} user=postgres dbname=postgres {extra}")
    }

    /// The loopback TCP port of a server started with TCP.
    pub fn port(&self) -> u16 {
        self.port.expect("a server started with TCP")
    }

    /// The CA certificate of a server started with TLS, in PEM.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("ca.crt")).expect("a server started with TLS")
    }

    /// The server's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the server (`pg_ctl stop -m fast`: its connections are ended),
    /// keeping its data.
    pub fn down(&self) {
        run(&["down".as_ref(), self.dir.as_os_str()]);
    }

    /// Starts the server stopped by [`down`](Self::down) again.
    pub fn up(&self) {
        run(&["up".as_ref(), self.dir.as_os_str()]);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).status();
    }
}
