//! Where log lines go: stderr, but lines below WARN (the access log's among them) are gathered
//! and written by a thread of their own every [`FLUSH_INTERVAL`], instead of one `write` per line:
//! at tens of thousands of requests a second, a system call per access-log line was a good part
//! of what a cached answer (discovery, JWKS) cost (issue 21). The thread that logs a line only
//! appends it: when whatever reads stderr falls behind (a pipe fills), the flushing thread waits
//! for it, not the request being served, until [`BACKLOG_LIMIT`] bytes are waiting; then the
//! logging threads wait too, as they would writing unbuffered. Warnings and errors are written at
//! once, after whatever is waiting, so the order of lines holds; so is everything still waiting
//! when the process exits or panics.

use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// How many waiting bytes a logging thread lets the flushing thread write before it writes them
/// itself (about seven thousand access-log lines: a third of a second at full speed).
const BACKLOG_LIMIT: usize = 1024 * 1024;
/// The longest a line waits; tools tailing the log see it this much later at worst.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// Lines waiting to be written.
static WAITING: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Held while writing to stderr, and taken before the waiting lines are: lines leave in the order
/// they were logged. (Whoever holds both took this one first.)
static OUTPUT: Mutex<()> = Mutex::new(());

fn waiting() -> MutexGuard<'static, Vec<u8>> {
    WAITING.lock().unwrap_or_else(PoisonError::into_inner)
}

fn output() -> MutexGuard<'static, ()> {
    OUTPUT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Writes out what is waiting; the caller holds [`OUTPUT`]. A logging thread holds [`WAITING`]
/// only to take the lines, never while they are written.
fn write_waiting(_output: &MutexGuard<'static, ()>) {
    let lines = std::mem::take(&mut *waiting());
    if !lines.is_empty() {
        // Nowhere to report a failed write to stderr: the lines are dropped.
        let _ = io::stderr().write_all(&lines);
    }
}

/// Writes out whatever is waiting.
pub fn flush() {
    write_waiting(&output());
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
        // Without the thread, lines would wait for the next warning or the backlog limit.
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
        if self.direct {
            let out = output();
            write_waiting(&out);
            // Written under the output lock, so no waiting line can overtake this one.
            io::stderr().write_all(bytes)?;
            return Ok(bytes.len());
        }
        let backlog = {
            let mut lines = waiting();
            lines.extend_from_slice(bytes);
            lines.len()
        };
        if backlog >= BACKLOG_LIMIT {
            flush();
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

    /// An info line is only appended (the flushing thread writes it), until the backlog limit.
    #[test]
    fn info_lines_wait_for_the_flushing_thread() {
        let mut line = LineWriter { direct: false };
        assert_eq!(line.write(b"an info line\n").ok(), Some(13));
        // Nothing else in this test binary logs or flushes.
        assert!(waiting().ends_with(b"an info line\n"));
        flush();
        assert!(waiting().is_empty());
    }
}
