"""Gatehouse processes and PostgreSQL databases for the multi-node tests.

Each node is a real `gatehouse serve` on 127.0.0.1:<ephemeral port> with its own data
directory. The nodes of one deployment share a database URL, an encryption key (passed as
GATEHOUSE_ENCRYPTION_KEY) and a public URL (GATEHOUSE_PUBLIC_URL: a load balancer's name, so
every node names the same issuer). Every child dies with this process (util-linux's `setpriv
--pdeathsig KILL`, where present) and its pid is written to a file the calling shell script kills
from its EXIT trap.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
START_TIMEOUT = 30.0
CLI_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
PSQL = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "test", "-v", "ON_ERROR_STOP=1", "-qAt"]
PSQL_TIMEOUT = 30.0
# A SIGKILLed test runner must not leave servers behind: the kernel kills them with it. (Not a
# preexec_fn: this process has threads, and setpriv execs the binary, keeping the pid.)
DIE_WITH_PARENT = ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which("setpriv") else []


def new_encryption_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class NodeError(AssertionError):
    pass


class Databases:
    """Fresh PostgreSQL databases on the shared cluster, all dropped by drop_all()."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.created: list[str] = []

    def create(self, label: str) -> str:
        name = f"{self.prefix}_{label}_{len(self.created)}"
        _psql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"postgres://postgres@127.0.0.1:5432/{name}"

    def drop_all(self) -> None:
        for name in self.created:
            try:
                _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except NodeError as exc:
                print(f"warning: could not drop database {name}: {exc}")
        self.created = []


def _psql(sql: str) -> None:
    try:
        done = subprocess.run([*PSQL, "-c", sql], capture_output=True, text=True, timeout=PSQL_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise NodeError(f"psql did not finish within {PSQL_TIMEOUT}s: {sql}") from exc
    if done.returncode != 0:
        raise NodeError(f"psql failed ({done.returncode}): {sql}: {done.stderr.strip()}")


class Node:
    """One `gatehouse serve` process; start() may be called again after kill() or stop()."""

    def __init__(
        self,
        name: str,
        binary: str,
        work: Path,
        pid_file: Path,
        database_url: str | None = None,
        encryption_key: str | None = None,
        public_url: str | None = None,
    ) -> None:
        self.name = name
        self.binary = binary
        self.data_dir = work / f"data-{name}"
        self.log_path = work / f"{name}.log"
        self.pid_file = pid_file
        self.database_url = database_url
        self.encryption_key = encryption_key
        self.public_url = public_url
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self.output: deque[str] = deque(maxlen=40)
        self._ready = threading.Event()
        self._pump: threading.Thread | None = None

    # -- configuration shared by `serve` and the CLI

    def _global_options(self) -> list[str]:
        options = ["--data-dir", str(self.data_dir)]
        if self.database_url:
            options += ["--database-url", self.database_url]
        return options

    def _env(self) -> dict[str, str]:
        # Only what is set here configures the node, never the caller's GATEHOUSE_* variables.
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
        env["NO_COLOR"] = "1"
        # The write-load scenarios send more than the default per-token budget.
        env["GATEHOUSE_API_REQUESTS_PER_MINUTE"] = "1000000"
        if self.encryption_key:
            env["GATEHOUSE_ENCRYPTION_KEY"] = self.encryption_key
        if self.public_url:
            env["GATEHOUSE_PUBLIC_URL"] = self.public_url
        return env

    def cli(self, *args: str) -> str:
        try:
            done = subprocess.run(
                [*DIE_WITH_PARENT, self.binary, *self._global_options(), *args],
                capture_output=True,
                text=True,
                timeout=CLI_TIMEOUT,
                env=self._env(),
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise NodeError(f"`gatehouse {' '.join(args)}` did not finish within {CLI_TIMEOUT}s") from exc
        if done.returncode != 0:
            raise NodeError(f"`gatehouse {' '.join(args)}` exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    # -- the server

    def spawn(self) -> None:
        """Start `serve` without waiting for it (see wait_listening)."""
        if self.alive():
            raise NodeError(f"node {self.name} is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.url = ""
        self._ready.clear()
        self.output.clear()
        log = open(self.log_path, "a", encoding="utf-8")
        log.write(f"---- start at {time.strftime('%H:%M:%S')}\n")
        log.flush()
        self.proc = subprocess.Popen(
            [*DIE_WITH_PARENT, self.binary, *self._global_options(), "serve", "--bind", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env=self._env(),
        )
        with open(self.pid_file, "a", encoding="utf-8") as pids:
            pids.write(f"{self.proc.pid}\n")
        self._pump = threading.Thread(target=self._read_output, args=(self.proc, log), daemon=True)
        self._pump.start()

    def _read_output(self, proc: subprocess.Popen[str], log) -> None:
        assert proc.stdout is not None
        with log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                line = ANSI_ESCAPE.sub("", line.rstrip("\n"))
                self.output.append(line)
                match = not self.url and LISTENING.search(line)
                if match:
                    self.url = f"http://127.0.0.1:{match.group(1)}"
                    self._ready.set()
        self._ready.set()  # EOF: wake wait_listening to report the exit

    def wait_listening(self, timeout: float = START_TIMEOUT) -> str:
        """The node's origin once it listens; NodeError if it exits or takes too long."""
        if not self._ready.wait(timeout):
            raise NodeError(f"node {self.name} printed no 'listening on' line within {timeout}s: {self.tail()}")
        if not self.url:
            code = self.proc.wait(STOP_TIMEOUT) if self.proc else None
            raise NodeError(f"node {self.name} exited ({code}) before listening: {self.tail()}")
        return self.url

    def start(self, timeout: float = START_TIMEOUT) -> str:
        self.spawn()
        return self.wait_listening(timeout)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL: no graceful shutdown, whatever is in flight is cut off."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(STOP_TIMEOUT)
        if self._pump is not None:
            self._pump.join(STOP_TIMEOUT)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        if self._pump is not None:
            self._pump.join(STOP_TIMEOUT)
        self.proc = None

    def tail(self, lines: int = 12) -> str:
        return " | ".join(list(self.output)[-lines:]) or "(no output)"

    def sqlite_files(self) -> list[Path]:
        return sorted(p for p in self.data_dir.glob("*.db") if p.is_file())
