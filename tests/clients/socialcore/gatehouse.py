"""Runs the gatehouse binary: its CLI (seeding) and `serve` (the IdP under test)."""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

LISTENING = re.compile(r"listening on (https?)://127\.0\.0\.1:(\d+)")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CLI_TIMEOUT = 60
START_TIMEOUT = 60
STOP_TIMEOUT = 10


class GatehouseError(RuntimeError):
    pass


def _child_env() -> dict[str, str]:
    # Only the options passed on the command line may configure the server under test.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    env["NO_COLOR"] = "1"
    return env


class Gatehouse:
    def __init__(self, binary: str, data_dir: Path, log_path: Path, database_url: str | None = None) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.database_url = database_url
        self.log_path = log_path
        self.origin: str | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._pump: threading.Thread | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=60)
        self._ready = threading.Event()

    def _global_options(self) -> list[str]:
        # The data dir always goes along: it holds the key that encrypts client secrets.
        options = ["--data-dir", str(self.data_dir)]
        if self.database_url:
            options += ["--database-url", self.database_url]
        return options

    def cli(self, *args: str) -> str:
        command = [self.binary, *self._global_options(), *args]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=CLI_TIMEOUT, env=_child_env(), stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as exc:
            raise GatehouseError(f"`{' '.join(args)}` did not finish within {CLI_TIMEOUT}s") from exc
        if done.returncode != 0:
            output = f"stderr={done.stderr.strip()!r} stdout={done.stdout.strip()!r}"
            raise GatehouseError(f"`{' '.join(args)}` exited {done.returncode}: {output}")
        return done.stdout

    def cli_json(self, *args: str) -> dict:
        out = self.cli(*args, "--output", "json")
        try:
            return json.loads(out)
        except json.JSONDecodeError as exc:
            raise GatehouseError(f"`{' '.join(args)} --output json` printed non-JSON: {out!r}") from exc

    def start(self, *serve_args: str) -> str:
        """Start `serve` on an ephemeral loopback port; return its origin (http(s)://127.0.0.1:PORT).

        `serve_args` are added to `serve` (e.g. `--tls-cert`/`--tls-key`)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            [self.binary, *self._global_options(), "serve", "--bind", "127.0.0.1:0", *serve_args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env=_child_env(),
        )
        self._pump = threading.Thread(target=self._read_output, name="gatehouse-output", daemon=True)
        self._pump.start()
        if not self._ready.wait(START_TIMEOUT):
            raise GatehouseError(f"no 'listening on' line within {START_TIMEOUT}s")
        if self.origin is None:
            raise GatehouseError(f"gatehouse serve exited ({self._proc.poll()}) before listening")
        return self.origin

    def _read_output(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        with open(self.log_path, "a", encoding="utf-8") as log:
            for line in self._proc.stdout:
                log.write(line)
                log.flush()
                self._output.append(line.rstrip("\n"))
                match = self.origin is None and LISTENING.search(ANSI_ESCAPE.sub("", line))
                if match:
                    self.origin = f"{match.group(1)}://127.0.0.1:{match.group(2)}"
                    self._ready.set()
        self._ready.set()  # EOF: wake start() so it can report the early exit

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(STOP_TIMEOUT)
        if self._pump is not None:
            self._pump.join(STOP_TIMEOUT)
        self._proc = None

    def output_tail(self, lines: int = 30) -> str:
        return "\n".join(list(self._output)[-lines:])
