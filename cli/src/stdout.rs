//! Standard output for the commands. A reader that goes away before the
//! output ends (`atlex diff … | head`) is a normal end, not an error: what is
//! left to print is dropped, and the command exits with the status it would
//! have had. Any other failure to write is reported, with exit status 2.

use std::fmt;
use std::io::{self, ErrorKind, Write};
use std::process::ExitCode;

/// Standard output, locked for the command's lifetime.
pub struct Stdout {
    out: io::StdoutLock<'static>,
    state: State,
}

enum State {
    /// Everything written so far has been taken.
    Open,
    /// The reader closed the pipe.
    Closed,
    /// A write failed otherwise.
    Failed(io::Error),
}

impl Stdout {
    /// Locks stdout.
    pub fn lock() -> Self {
        Self {
            out: io::stdout().lock(),
            state: State::Open,
        }
    }

    /// Writes formatted text (so `write!` and `writeln!` take a `Stdout`);
    /// dropped once output has ended.
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) {
        if self.is_open() {
            let result = self.out.write_fmt(args);
            self.settle(result);
        }
    }

    /// Writes `bytes`; dropped once output has ended.
    pub fn write_all(&mut self, bytes: &[u8]) {
        if self.is_open() {
            let result = self.out.write_all(bytes);
            self.settle(result);
        }
    }

    /// Whether output still goes anywhere: not after the reader has gone or
    /// a write has failed. A command that could go on only to print more
    /// stops when it turns false.
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open)
    }

    /// Flushes what is buffered and ends the command: with `status`, or
    /// with 2 when a write failed for another reason than a closed pipe.
    pub fn finish(mut self, status: ExitCode) -> ExitCode {
        if self.is_open() {
            let result = self.out.flush();
            self.settle(result);
        }
        match self.state {
            State::Open | State::Closed => status,
            State::Failed(err) => {
                eprintln!("error: writing stdout: {err}");
                ExitCode::from(2)
            }
        }
    }

    fn settle(&mut self, result: io::Result<()>) {
        match result {
            Ok(()) => {}
            Err(err) if err.kind() == ErrorKind::BrokenPipe => self.state = State::Closed,
            Err(err) => self.state = State::Failed(err),
        }
    }
}
