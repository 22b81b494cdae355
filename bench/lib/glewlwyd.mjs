// Glewlwyd 2.7 (C, Debian's `glewlwyd` package) as a peer in the benchmark, for the rows it can
// serve like Gatehouse: client_credentials RS256 and ES256, discovery and JWKS (issue 21).
//
// Start-up, all on 127.0.0.1 and inside the run's temporary directory:
//   1. an SQLite database made with the package's own init script (it creates the `admin` user
//      with the password `password` and the `g_admin` scope), in WAL mode like Gatehouse's;
//   2. bench/glewlwyd/glewlwyd.conf with a free port and that database, started with
//      `taskset -c CORE glewlwyd -c FILE`;
//   3. the admin REST API, with the cookie session from POST /api/auth/: one OpenID Connect plugin
//      instance per algorithm (`oidc`, RSA-2048 key, RS256; `oidc-es256`, P-256 key, ES256; both
//      keys made with openssl for this run), the scope `bench.read`, and one confidential client
//      with a plain `client_secret` allowed `client_credentials`.
// Glewlwyd needs no algorithm switch between rows: each plugin instance has its own token endpoint.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

import { makePool, Jar, basicAuth, send } from './http.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const CONF_DIR = resolve(HERE, '../glewlwyd');
const BIN = '/usr/bin/glewlwyd';
// The package's SQLite schema with its default admin (dbconfig-common's copy: /usr/share/doc may
// be stripped from minimal images, this file is not).
const INIT_SQL = '/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3';
const ADMIN = { username: 'admin', password: 'password' };
// Which scenarios Glewlwyd runs; the others get no row for it.
export const GLEWLWYD_SCENARIOS = new Set(['cc_rs256', 'cc_es256', 'discovery', 'jwks']);
const PLUGINS = { RS256: 'oidc', ES256: 'oidc-es256' };

const freePort = () =>
  new Promise((resolvePort, rejectPort) => {
    const srv = createServer();
    srv.once('error', rejectPort);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });

export function glewlwydVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'glewlwyd'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function adminCall(pool, jar, method, path, body) {
  const res = await send(pool, { method, path, jar, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`glewlwyd admin ${method} ${path} -> ${res.status}: ${res.text.slice(0, 300)}`);
  return res;
}

/// Starts and configures Glewlwyd. `ctx` carries the runner's bookkeeping: `children` and
/// `tempDirs` (stopped and removed on exit), `outDir` (logs), `serverCore`, `connections`, `rssKiB`.
export async function startGlewlwyd(ctx) {
  const dir = mkdtempSync(join(tmpdir(), 'glewlwyd-bench-'));
  ctx.tempDirs.push(dir);
  const dbPath = join(dir, 'glewlwyd.sqlite3');
  // WAL like Gatehouse's SQLite (synchronous stays FULL, SQLite's default and ours): the journal
  // mode is stored in the file, so Glewlwyd's own connection uses it.
  execFileSync('sqlite3', [dbPath], { input: `${readFileSync(INIT_SQL, 'utf8')}\nPRAGMA journal_mode=WAL;\n`, stdio: ['pipe', 'ignore', 'pipe'] });
  const keys = {};
  for (const [alg, args] of [['RS256', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']], ['ES256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']]]) {
    // stderr ignored: genpkey draws progress dots there.
    const key = execFileSync('openssl', ['genpkey', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const pub = execFileSync('openssl', ['pkey', '-pubout'], { input: key, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
    keys[alg] = { key, pub };
  }
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const confPath = join(dir, 'glewlwyd.conf');
  writeFileSync(confPath, readFileSync(join(CONF_DIR, 'glewlwyd.conf'), 'utf8').replaceAll('@PORT@', String(port)).replaceAll('@DB_PATH@', dbPath));

  const logFile = join(ctx.outDir, 'glewlwyd.log');
  const out = createWriteStream(logFile);
  const child = spawn('taskset', ['-c', ctx.serverCore, BIN, '-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  ctx.children.add(child);
  child.on('exit', () => ctx.children.delete(child));
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const stop = () =>
    new Promise((r) => {
      if (child.exitCode !== null || child.signalCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });

  const pool = makePool(origin, ctx.connections);
  try {
    // Up when /config answers (bounded: 30 s).
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`glewlwyd exited with ${child.exitCode} (see ${logFile})`);
      try {
        if ((await send(pool, { path: '/config' })).status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`glewlwyd did not answer /config within 30 s (see ${logFile})`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const jar = new Jar();
    await adminCall(pool, jar, 'POST', '/api/auth/', ADMIN);
    const base = JSON.parse(readFileSync(join(CONF_DIR, 'oidc-plugin.json'), 'utf8'));
    for (const [alg, name] of Object.entries(PLUGINS)) {
      const parameters = { ...base, iss: origin, 'jwt-type': alg === 'RS256' ? 'rsa' : 'ecdsa', key: keys[alg].key, cert: keys[alg].pub };
      await adminCall(pool, jar, 'POST', '/api/mod/plugin/', { module: 'oidc', name, display_name: `Bench ${alg}`, order_rank: 0, parameters });
    }
    await adminCall(pool, jar, 'POST', '/api/scope/', { name: 'bench.read', display_name: 'Bench', description: 'client_credentials scope for the benchmark', password_required: false, scheme: {} });
    const clientId = 'bench-client';
    const clientSecret = randomBytes(24).toString('base64url');
    await adminCall(pool, jar, 'POST', '/api/client/', {
      client_id: clientId,
      name: 'Bench',
      enabled: true,
      confidential: true,
      client_secret: clientSecret,
      scope: ['bench.read'],
      authorization_type: ['client_credentials'],
      redirect_uri: [],
      token_endpoint_auth_method: ['client_secret_basic'],
    });
    const tokenPaths = Object.fromEntries(Object.entries(PLUGINS).map(([alg, name]) => [alg, `/api/${name}/token`]));
    // One token per plugin: proves the client and keys work before any row (untimed).
    for (const path of Object.values(tokenPaths)) {
      const res = await send(pool, { method: 'POST', path, headers: { authorization: basicAuth(clientId, clientSecret) }, body: 'grant_type=client_credentials&scope=bench.read' });
      if (res.status !== 200) throw new Error(`glewlwyd client_credentials at ${path} -> ${res.status}: ${res.text.slice(0, 200)}`);
    }
    return {
      name: `glewlwyd ${glewlwydVersion().split('-')[0]} (SQLite)`,
      version: glewlwydVersion(),
      key: 'glewlwyd',
      kind: 'glewlwyd',
      db: null,
      child,
      pid: child.pid,
      origin,
      stop,
      pool,
      clientId,
      clientSecret,
      clientCredentials: true,
      scenarios: GLEWLWYD_SCENARIOS,
      ccPath: (alg) => tokenPaths[alg],
      discoveryPath: `/api/${PLUGINS.RS256}/.well-known/openid-configuration`,
      // The runner's prepare() signs a user in; Glewlwyd's rows need only its endpoints.
      prepare: async (t) => {
        const disc = await send(pool, { path: t.discoveryPath });
        if (disc.status !== 200) throw new Error(`glewlwyd discovery -> ${disc.status}`);
        const meta = JSON.parse(disc.text);
        t.paths = { discovery: t.discoveryPath, token: new URL(meta.token_endpoint).pathname, jwks: new URL(meta.jwks_uri).pathname };
        t.basic = basicAuth(clientId, clientSecret);
        t.rssIdleKiB = ctx.rssKiB(child.pid);
      },
    };
  } catch (err) {
    await pool.close();
    await stop();
    throw err;
  }
}
