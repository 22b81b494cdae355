//! Where log lines go: stderr, but lines below WARN (the access log's among them) are gathered
//! and written in one `write` when [`BUFFER_LIMIT`] bytes are waiting or every
//! [`FLUSH_INTERVAL`], instead of one `write` per line: at tens of thousands of requests a
//! second, a system call per access-log line was a good part of what a cached answer (discovery,
//! JWKS) cost (issue 21). Warnings and errors are written at once, after whatever is waiting, so
//! the order of lines holds; so is everything still waiting when the process exits or panics.

use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// A full buffer is written at once (about a hundred access-log lines).
const BUFFER_LIMIT: usize = 16 * 1024;
/// The longest a line waits; tools tailing the log see it this much later at worst.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

static WAITING: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fn waiting() -> MutexGuard<'static, Vec<u8>> {
    WAITING.lock().unwrap_or_else(PoisonError::into_inner)
}

fn write_out(buf: &mut Vec<u8>) {
    if !buf.is_empty() {
        // Nowhere to report a failed write to stderr: the lines are dropped.
        let _ = io::stderr().write_all(buf);
        buf.clear();
    }
}

/// Writes out whatever is waiting.
pub fn flush() {
    write_out(&mut waiting());
}

/// Starts the thread that writes waiting lines out every [`FLUSH_INTERVAL`], and makes a panic
/// write them before its message.
pub fn start_flushing() {
    let spawned = std::thread::Builder::new()
        .name("log-flush".into())
        .stack_size(64 * 1024)
        .spawn(|| {
            loop {
                std::thread::sleep(FLUSH_INTERVAL);
                flush();
            }
        });
    if spawned.is_err() {
        // Without the thread, lines would wait for the next warning or a full buffer.
        let _ = io::stderr().write_all(b"log: no flushing thread, logging unbuffered\n");
        UNBUFFERED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        flush();
        previous(info);
    }));
}

static UNBUFFERED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The `tracing_subscriber` writer: buffered below WARN, direct from WARN up.
#[derive(Debug, Clone, Copy, Default)]
pub struct BufferedStderr;

/// One line's writer (the fmt layer writes each line with one `write_all`).
pub struct LineWriter {
    direct: bool,
}

impl<'a> MakeWriter<'a> for BufferedStderr {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { direct: true }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        // `Level` orders by verbosity: INFO, DEBUG and TRACE are ≥ INFO.
        let direct =
            *meta.level() < Level::INFO || UNBUFFERED.load(std::sync::atomic::Ordering::Relaxed);
        LineWriter { direct }
    }
}

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut buf = waiting();
        if self.direct {
            write_out(&mut buf);
            // Written under the lock, so no buffered line can overtake this one.
            io::stderr().write_all(bytes)?;
            return Ok(bytes.len());
        }
        buf.extend_from_slice(bytes);
        if buf.len() >= BUFFER_LIMIT {
            write_out(&mut buf);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_direct_and_info_is_buffered() {
        assert!(Level::WARN < Level::INFO && Level::ERROR < Level::INFO);
        assert!(Level::DEBUG >= Level::INFO);
    }
}
