//! A PostgreSQL server of its own for a test, started by
//! scripts/postgres.sh and stopped on drop.

use std::path::PathBuf;
use std::process::Command;

pub struct Postgres {
    dir: PathBuf,
    config: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres.sh")
}

impl Postgres {
    /// Starts a server in a new directory under /tmp (short, for the
    /// socket's path).
    pub fn start() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = PathBuf::from(format!("/tmp/atlex-pg-{}-{nanos}", std::process::id()));
        let started = std::time::Instant::now();
        let output = Command::new(script())
            .arg("start")
            .arg(&dir)
            .output()
            .expect("scripts/postgres.sh runs");
        assert!(
            output.status.success(),
            "scripts/postgres.sh start failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let config = String::from_utf8(output.stdout)
            .expect("a connection string")
            .trim()
            .to_owned();
        eprintln!(
            "atlex-eventlog: PostgreSQL started in {:.2} s ({config})",
            started.elapsed().as_secs_f64()
        );
        Self { dir, config }
    }

    /// The libpq connection string of the server.
    pub fn config(&self) -> &str {
        &self.config
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).status();
    }
}
