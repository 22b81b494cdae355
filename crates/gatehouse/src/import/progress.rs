//! Progress of a long import step: for the CLI on stderr, a bar redrawn in place when stderr
//! is a terminal, otherwise (a log, CI) one line at each tenth (the report stays on stdout);
//! for the console into the job's [`ImportProgress`].

use std::io::{IsTerminal as _, Write as _};

use gatehouse_core::services::org_import::ImportProgress;

const WIDTH: usize = 30;

pub struct Progress<'a> {
    label: &'static str,
    total: usize,
    done: usize,
    tty: bool,
    last_tenth: usize,
    live: Option<&'a ImportProgress>,
}

impl<'a> Progress<'a> {
    pub fn new(label: &'static str, total: usize, live: Option<&'a ImportProgress>) -> Self {
        let tty = live.is_none() && std::io::stderr().is_terminal();
        if let Some(live) = live {
            live.step(label, total);
        }
        Self {
            label,
            total,
            done: 0,
            tty,
            last_tenth: 0,
            live,
        }
    }

    /// One more item done.
    pub fn inc(&mut self) {
        self.done = (self.done + 1).min(self.total);
        if let Some(live) = self.live {
            live.advance(self.done);
            return;
        }
        if let Some(line) = self.line() {
            let mut err = std::io::stderr().lock();
            let _ = if self.tty {
                write!(err, "\r{line}")
            } else {
                writeln!(err, "{line}")
            };
            if self.tty && self.done == self.total {
                let _ = writeln!(err);
            }
            let _ = err.flush();
        }
    }

    /// What to draw now, if anything.
    fn line(&mut self) -> Option<String> {
        if self.total == 0 {
            return None;
        }
        if self.tty {
            let filled = self.done * WIDTH / self.total;
            return Some(format!(
                "{:<22} [{}{}] {}/{}",
                self.label,
                "#".repeat(filled),
                "-".repeat(WIDTH - filled),
                self.done,
                self.total
            ));
        }
        let tenth = self.done * 10 / self.total;
        if tenth <= self.last_tenth {
            return None;
        }
        self.last_tenth = tenth;
        Some(format!("{}: {}/{} done", self.label, self.done, self.total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_at_each_tenth_without_a_terminal() {
        let mut p = Progress {
            label: "users",
            total: 300,
            done: 0,
            tty: false,
            last_tenth: 0,
            live: None,
        };
        let mut lines = Vec::new();
        for _ in 0..300 {
            p.done += 1;
            lines.extend(p.line());
        }
        assert_eq!(lines.len(), 10);
        assert_eq!(lines[0], "users: 30/300 done");
        assert_eq!(lines[9], "users: 300/300 done");
    }

    #[test]
    fn a_bar_on_a_terminal() {
        let mut p = Progress {
            label: "apps",
            total: 4,
            done: 2,
            tty: true,
            last_tenth: 0,
            live: None,
        };
        let line = p.line().unwrap_or_default();
        assert!(line.ends_with("] 2/4"), "{line}");
        assert_eq!(line.matches('#').count(), WIDTH / 2);
    }
}
