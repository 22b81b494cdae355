// Gatehouse processes and databases for the cost curve (bench/cost.mjs): a data directory and,
// on PostgreSQL, a database of its own per run; the server pinned to the server core on a port
// picked here, so the startup time can be measured from the spawn to the first answer of
// /.well-known/openid-configuration; the `gatehouse` CLI on the same database; sizes.

import { spawn, execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const children = new Set();
const databases = [];
const tempDirs = [];

export function keepStores() {
  databases.length = 0;
  tempDirs.length = 0;
}

export function cleanupAll() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  for (const db of databases.splice(0)) dropDb(db);
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

function psql(sql) {
  return execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-qAtc', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function dropDb(db) {
  try {
    psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  } catch {
    // best effort; bench.sh's trap tries again
  }
}

/// CPU seconds (user + system) of a process so far, from /proc (0 if it is gone).
const CLK_TCK = 100;
function cpuSeconds(pid) {
  try {
    // Fields after the `(comm)`, which may hold spaces: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/// A CPU reading of the server and, on PostgreSQL, of the backends serving its database (the
/// server's pool keeps them for the run; one that starts or ends in between is counted from
/// whichever reading sees it). PostgreSQL's shared background processes are not counted.
export function cpuReading(pid, store) {
  const pg = new Map();
  let wal = null;
  if (store.backend === 'postgres') {
    // The WAL position too: its growth per request is the write cost (full-page images after
    // a checkpoint grow with the pages a request touches). It is the cluster's, so another
    // database's writes count too.
    const out = psql(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint UNION ALL (SELECT pid FROM pg_stat_activity WHERE datname = '${store.dbName}' AND pid <> pg_backend_pid())`);
    const [lsn, ...pids] = out.split('\n').filter(Boolean);
    wal = Number(lsn);
    for (const p of pids) pg.set(p, cpuSeconds(p));
  }
  return { server: cpuSeconds(pid), pg, wal };
}

/// Server and PostgreSQL CPU per completed request (µs) between two readings.
export function cpuPerRequest(a, b, n) {
  let pg = 0;
  for (const [p, s] of b.pg) pg += s - (a.pg.get(p) ?? 0);
  const per = (s) => (n ? (s * 1e6) / n : null);
  return {
    server_cpu_us: per(b.server - a.server),
    pg_cpu_us: a.pg.size || b.pg.size ? per(pg) : null,
    wal_bytes: a.wal === null ? null : per(b.wal - a.wal) / 1e6,
  };
}

/// A fresh place for one run: a data directory, and on PostgreSQL an empty database.
/// `existing`: the data directory of a run kept with `--keep` (its database already made).
export function makeStore({ backend, pgUrl, dbName, existing }) {
  const dataDir = existing ?? mkdtempSync(join(tmpdir(), 'gh-cost-'));
  tempDirs.push(dataDir);
  const global = ['--data-dir', dataDir];
  let seedTarget = join(dataDir, 'gatehouse.db');
  if (backend === 'postgres') {
    if (!existing) psql(`CREATE DATABASE ${dbName}`);
    databases.push(dbName);
    const url = `${pgUrl}/${dbName}`;
    global.push('--database-url', url);
    seedTarget = url;
  }
  return {
    backend,
    dataDir,
    dbName: backend === 'postgres' ? dbName : null,
    global,
    seedTarget,
    sizeBytes() {
      if (backend === 'postgres') return Number(psql(`SELECT pg_database_size('${dbName}')`).trim());
      return execFileSync('du', ['-sb', dataDir], { encoding: 'utf8' }).split('\t').map(Number)[0];
    },
    drop() {
      if (backend === 'postgres') {
        dropDb(dbName);
        databases.splice(databases.indexOf(dbName), 1);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

/// Runs the gatehouse CLI on the store's database; returns stdout.
export function cli(bin, store, args, input) {
  return execFileSync(bin, [...store.global, ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, RUST_LOG: 'warn' },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Starts `gatehouse serve` pinned to `core` and waits until discovery answers 200. `onLine` sees
/// every log line (the purge's end is read off them). startupMs: spawn to first 200.
export async function startGatehouse({ bin, store, core, env = {}, logFile, onLine = () => {} }) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const out = createWriteStream(logFile, { flags: 'a' });
  const t0 = process.hrtime.bigint();
  const child = spawn('taskset', ['-c', core, bin, ...store.global, 'serve', '--bind', `127.0.0.1:${port}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let exited = null;
  child.on('exit', (code) => {
    exited = code ?? -1;
    children.delete(child);
  });
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream.on('data', (chunk) => {
      out.write(chunk);
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, nl), process.hrtime.bigint());
        buf = buf.slice(nl + 1);
      }
    });
  }
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited !== null) throw new Error(`gatehouse exited with ${exited} before answering (see ${logFile})`);
    if (Date.now() > deadline) throw new Error(`gatehouse did not answer within 120 s (see ${logFile})`);
    try {
      const res = await fetch(`${origin}/.well-known/openid-configuration`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  const startupMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return {
    child,
    pid: child.pid,
    origin,
    startupMs,
    t0,
    stop: () =>
      new Promise((r) => {
        if (exited !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
