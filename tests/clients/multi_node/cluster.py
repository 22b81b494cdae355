"""A throw-away PostgreSQL cluster of the test's own (`initdb` on a free port of 127.0.0.1), to
stop and start under load. The shared cluster on 127.0.0.1:5432 is never touched: every pg_ctl
here names this cluster's data directory.

PostgreSQL refuses to run as root, so initdb and pg_ctl run as the `postgres` OS user
(`runuser -u postgres --`) in a temporary directory it owns. The directory and pg_ctl's path go
to DIR/pg_clusters before initdb, for the calling script's trap (pg_ctl stop -m immediate, rm -rf)
when this process cannot clean up itself.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from nodes import NodeError

OS_USER = "postgres"
SHARED_PORT = 5432
PG_CTL_TIMEOUT = 10  # seconds pg_ctl waits (-t) for a start or stop (a few tenths here)
COMMAND_TIMEOUT = 30.0  # seconds any one command may take here
START_ATTEMPTS = 3  # a free port may be taken between the probe and the start


def postgres_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [d for d in found if (d / "pg_ctl").is_file()]
    if not found:
        raise NodeError("no /usr/lib/postgresql/*/bin/initdb (a PostgreSQL server package)")
    return max(found, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, work: Path, label: str) -> None:
        self.bin = postgres_bin_dir()
        self.work = work
        self.label = label
        self.dir: Path | None = None
        self.port = 0

    @property
    def data(self) -> Path:
        assert self.dir is not None
        return self.dir / "data"

    @property
    def server_log(self) -> Path:
        assert self.dir is not None
        return self.dir / "server.log"

    def _as_postgres(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(
                ["runuser", "-u", OS_USER, "--", *args],
                capture_output=True, text=True, timeout=timeout, cwd=self.dir, stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise NodeError(f"`{' '.join(args)}` did not finish within {timeout}s") from exc
        return done

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), *args)

    # -- life cycle

    def create(self) -> str:
        """initdb, start, and a database; returns its URL."""
        user = pwd.getpwnam(OS_USER)
        self.dir = Path(tempfile.mkdtemp(prefix=f"gatehouse-pg-{self.label}-", dir="/tmp"))
        with open(self.work / "pg_clusters", "a", encoding="utf-8") as clusters:
            clusters.write(f"{self.bin / 'pg_ctl'}\t{self.dir}\n")
        os.chown(self.dir, user.pw_uid, user.pw_gid)
        done = self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )
        if done.returncode != 0:
            raise NodeError(f"initdb failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = _free_port()
            if self.port == SHARED_PORT:
                continue
            # In postgresql.conf (a later setting wins), so `pg_ctl start` alone brings it back the same.
            with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write(
                    f"\n# the test's throw-away cluster\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                    f"unix_socket_directories = '{self.dir}'\nmax_connections = 50\n"
                )
            try:
                self.start()
                break
            except NodeError:
                if attempt == START_ATTEMPTS:
                    raise
        done = subprocess.run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "gatehouse"],
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise NodeError(f"createdb failed ({done.returncode}): {done.stderr.strip()}")
        return f"postgres://postgres@127.0.0.1:{self.port}/gatehouse"

    def start(self) -> None:
        done = self._pg_ctl("-l", str(self.server_log), "-w", "-t", str(PG_CTL_TIMEOUT), "start")
        if done.returncode != 0:
            raise NodeError(f"pg_ctl start failed ({done.returncode}): {done.stdout.strip()} {self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        done = self._pg_ctl("-m", mode, "-w", "-t", str(PG_CTL_TIMEOUT), "stop")
        if done.returncode != 0:
            raise NodeError(f"pg_ctl stop -m {mode} failed ({done.returncode}): {done.stderr.strip()}")

    def destroy(self, keep_log: Path | None = None) -> None:
        """pg_ctl stop -m immediate (if it runs) and the directory removed; the server log is
        copied to keep_log first."""
        if self.dir is None or not self.dir.exists():
            return
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except NodeError as exc:
                print(f"warning: could not stop the throw-away cluster in {self.dir}: {exc}")
        if keep_log is not None and self.server_log.exists():
            shutil.copyfile(self.server_log, keep_log)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.server_log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

