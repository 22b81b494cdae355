"""The two backends of the cost-curve seeder: SQLite through the standard library's sqlite3
(batched executemany, one transaction per batch) and PostgreSQL through `psql`'s COPY FROM STDIN
(no driver to install). Both write into the schema Gatehouse's own migrations made, with its
indexes in place, so the indexes cost what they cost in production.
"""

import json
import os
import sqlite3
import subprocess

BATCH = 50_000


class Sqlite:
    kind = "sqlite"

    def __init__(self, path):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        # The load itself need not be durable (a failed seed is run again); Gatehouse reopens the
        # file with its own settings (WAL, synchronous = FULL).
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("PRAGMA cache_size = -512000")
        self.db.execute("PRAGMA foreign_keys = OFF")

    def query(self, sql, args=()):
        cur = self.db.execute(sql.replace("%s", "?"), args)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]

    def insert(self, table, columns, rows):
        """Inserts an iterable of tuples in transactions of BATCH rows; returns the count."""
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        n = 0
        batch = []
        for r in rows:
            batch.append(r)
            if len(batch) >= BATCH:
                self._flush(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            self._flush(sql, batch)
            n += len(batch)
        return n

    def _flush(self, sql, batch):
        self.db.execute("BEGIN")
        self.db.executemany(sql, batch)
        self.db.execute("COMMIT")

    def has_table(self, name):
        return bool(self.query("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = %s",
                               (name,)))

    def add_log_targets(self, after_seq):
        """One `system_log_targets` row per target of each event past `after_seq`, as the store
        writes them with the event (the split of migration 0033)."""
        self.db.execute("BEGIN")
        self.db.execute(
            "WITH RECURSIVE split (seq, published_ms, id, rest) AS ("
            " SELECT seq, published_ms, '', substr(target_ids, 2) FROM system_log WHERE seq > ?"
            " UNION ALL SELECT seq, published_ms, substr(rest, 1, instr(rest, ' ') - 1),"
            " substr(rest, instr(rest, ' ') + 1) FROM split WHERE instr(rest, ' ') > 0)"
            " INSERT OR IGNORE INTO system_log_targets (event_seq, target_id, event_published_ms)"
            " SELECT seq, id, published_ms FROM split WHERE id <> ''", (after_seq,))
        self.db.execute("COMMIT")

    def finish(self):
        # What a long-running Gatehouse would have: statistics for the planner (sqlx runs no
        # ANALYZE; without one SQLite still uses the indexes), and the WAL folded into the file.
        self.db.execute("ANALYZE")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def size_bytes(self):
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += os.path.getsize(self.path + suffix)
            except OSError:
                pass
        return total

    def close(self):
        self.db.close()


def _copy_field(v):
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    s = str(v)
    if any(c in s for c in "\\\t\n\r"):
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


class Postgres:
    kind = "postgres"

    def __init__(self, url):
        self.url = url

    def _psql(self, *args, **kw):
        return subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-qAt", *args],
                              check=True, capture_output=True, text=True, **kw)

    def query(self, sql, args=()):
        # Only the seeder's own fixed queries with simple literal arguments come here.
        lit = tuple("'" + str(a).replace("'", "''") + "'" for a in args)
        out = self._psql("-c", f"SELECT row_to_json(q) FROM ({sql % lit}) q").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def insert(self, table, columns, rows):
        proc = subprocess.Popen(
            ["psql", self.url, "-v", "ON_ERROR_STOP=1", "-qc",
             f"COPY {table} ({', '.join(columns)}) FROM STDIN"],
            stdin=subprocess.PIPE, text=True, bufsize=1 << 20)
        n = 0
        buf = []
        for r in rows:
            buf.append("\t".join(_copy_field(v) for v in r))
            n += 1
            if len(buf) >= BATCH:
                proc.stdin.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            proc.stdin.write("\n".join(buf) + "\n")
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"COPY {table} failed")
        return n

    def has_table(self, name):
        return bool(self.query("SELECT 1 AS x WHERE to_regclass(%s) IS NOT NULL", (name,)))

    def add_log_targets(self, after_seq):
        """One `system_log_targets` row per target of each event past `after_seq`, as the store
        writes them with the event (the split of migration 0033)."""
        self._psql("-c",
                   "INSERT INTO system_log_targets (event_seq, target_id, event_published_ms) "
                   "SELECT seq, t.id, published_ms FROM system_log, "
                   "unnest(string_to_array(btrim(target_ids, ' '), ' ')) AS t (id) "
                   f"WHERE seq > {int(after_seq)} AND t.id <> '' ON CONFLICT DO NOTHING")

    def finish(self):
        # Autovacuum would analyze the loaded tables within a minute; do it now so the first
        # measurement does not race it.
        self._psql("-c", "VACUUM ANALYZE")

    def size_bytes(self):
        return int(self._psql("-c", "SELECT pg_database_size(current_database())").stdout.strip())

    def close(self):
        pass


def open_db(target):
    if target.startswith("postgres://") or target.startswith("postgresql://"):
        return Postgres(target)
    return Sqlite(target.removeprefix("sqlite://").removeprefix("sqlite:"))
