#!/usr/bin/env node
// Gatehouse benchmark runner (started by scripts/bench.sh, which builds and installs what it needs).
//
// For each server under test (gatehouse on SQLite, gatehouse on PostgreSQL, panva/oidc-provider,
// and oidc-provider issuing JWT access tokens for the code and refresh rows, Glewlwyd)
// it starts the server pinned to one core (taskset -c 1), prepares a user, a client, a session and
// tokens, and runs every scenario for a bounded time from this process, which bash.sh pins to the
// other core (taskset -c 0). Fixed requests go through wrk (one thread); requests that consume
// something single-use (codes, sign-in transactions) go through the closed-loop generator in
// lib/http.mjs. Around every scenario it reads the server's CPU time (/proc/PID/stat, plus the
// PostgreSQL backends serving its database) and samples its resident memory (/proc/PID/status).
// Prints a Markdown table and writes it and the raw JSON to --out-dir.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync, createWriteStream } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

import { makePool, Jar, basicAuth, send, browse, closedLoop, FlowError } from './lib/http.mjs';
import { startGlewlwyd } from './lib/glewlwyd.mjs';
import { makeTotpUsers, browseWithTotp } from './lib/totp.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');

// ------------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = {
    smoke: false,
    duration: 10,
    concurrency: 32,
    signinConcurrency: 8,
    dbs: ['sqlite', 'postgres'],
    targets: ['gatehouse', 'oidc-provider', 'oidc-provider-jwt', 'glewlwyd'],
    gatehouseBin: join(ROOT, 'target/release/gatehouse'),
    rawlimitsBin: '',
    outDir: join(ROOT, 'target/bench'),
    pgUrl: 'postgres://postgres@127.0.0.1:5432',
    dbPrefix: `gh_bench_${process.pid}`,
    serverCore: '1',
    scenarios: null,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--smoke') o.smoke = true;
    else if (a === '--duration') o.duration = Number(next());
    else if (a === '--concurrency') o.concurrency = Number(next());
    else if (a === '--signin-concurrency') o.signinConcurrency = Number(next());
    else if (a === '--dbs') o.dbs = next().split(',').filter(Boolean);
    else if (a === '--targets') o.targets = next().split(',').filter(Boolean);
    else if (a === '--gatehouse-bin') o.gatehouseBin = next();
    else if (a === '--rawlimits-bin') o.rawlimitsBin = next();
    else if (a === '--out-dir') o.outDir = next();
    else if (a === '--pg-url') o.pgUrl = next();
    else if (a === '--db-prefix') o.dbPrefix = next();
    else if (a === '--server-core') o.serverCore = next();
    else if (a === '--scenarios') o.scenarios = next().split(',').filter(Boolean);
    else throw new Error(`unknown option ${a}`);
  }
  if (o.smoke) {
    if (!argv.includes('--duration')) o.duration = 2;
    if (!argv.includes('--dbs')) o.dbs = ['sqlite'];
    if (!argv.includes('--targets')) o.targets = ['gatehouse'];
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
mkdirSync(opts.outDir, { recursive: true });
const log = (...a) => console.error('[bench]', ...a);

const REDIRECT_URI = 'https://client.example.test/cb';
const LOGIN = 'bench.user@example.com';
const PASSWORD = `Bench-${randomBytes(6).toString('hex')}-pw!`;
const SCOPE = 'openid profile email offline_access';

// ------------------------------------------------------------------------------------------------
// Processes: everything we start is tracked and killed on exit.

const children = new Set();
const tempDirs = [];
const databases = [];
let cleaned = false;

function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const db of databases) {
    try {
      execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-qc', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`], { stdio: 'ignore' });
    } catch {
      // best effort; bench.sh's trap tries again
    }
  }
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

function run(cmd, args, options = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

/// Starts `cmd` pinned to the server core and waits for `listening on URL` on its stdout.
function startServer(name, cmd, args, env = {}) {
  const logFile = join(opts.outDir, `${name}.log`);
  const out = createWriteStream(logFile);
  const child = spawn('taskset', ['-c', opts.serverCore, cmd, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.stderr.pipe(out);
  return new Promise((resolveStart, rejectStart) => {
    let buf = '';
    const timer = setTimeout(() => rejectStart(new Error(`${name} did not print its URL within 60 s (see ${logFile})`)), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rejectStart(new Error(`${name} exited with ${code} before listening (see ${logFile})`));
    });
    child.stdout.on('data', (chunk) => {
      out.write(chunk);
      buf += chunk.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        buf = '';
        resolveStart({
          child,
          pid: child.pid,
          origin: m[1],
          stop: () =>
            new Promise((r) => {
              if (child.exitCode !== null) return r();
              child.once('exit', () => r());
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 5000).unref();
            }),
        });
      }
    });
  });
}

// ------------------------------------------------------------------------------------------------
// /proc readings

const CLK_TCK = Number(run('getconf', ['CLK_TCK']).trim()) || 100;

function cpuSplit(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]), sys: Number(f[12]) }; // utime, stime (fields 14 and 15)
  } catch {
    return { user: 0, sys: 0 };
  }
}

function cpuTicks(pid) {
  const c = cpuSplit(pid);
  return c.user + c.sys;
}

function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/// PostgreSQL backends serving `db` (process titles `postgres: USER DB HOST(PORT) ...`).
function pgBackends(db) {
  if (!db) return [];
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      // e.g. `postgres: 15/main: postgres gh_bench_1_0 127.0.0.1(53620) idle`
      const m = /^postgres: (?:\S+: )?\S+ (\S+) /.exec(cmd.replace(/\0/g, ' '));
      if (m && m[1] === db) pids.push(Number(entry));
    } catch {
      // raced with exit
    }
  }
  return pids;
}

/// Runs `body` while accounting the server's CPU (and its PostgreSQL backends') and sampling RSS.
async function measured(target, body) {
  const before = cpuSplit(target.pid);
  const dbBefore = new Map(pgBackends(target.db).map((p) => [p, cpuTicks(p)]));
  let rssMax = rssKiB(target.pid);
  const sampler = setInterval(() => {
    rssMax = Math.max(rssMax, rssKiB(target.pid));
  }, 100);
  const result = await body();
  clearInterval(sampler);
  rssMax = Math.max(rssMax, rssKiB(target.pid));
  const after = cpuSplit(target.pid);
  const serverTicks = after.user + after.sys - before.user - before.sys;
  const serverSysS = (after.sys - before.sys) / CLK_TCK;
  let dbTicks = 0;
  for (const p of pgBackends(target.db)) dbTicks += cpuTicks(p) - (dbBefore.get(p) ?? 0);
  return { ...result, serverCpuS: serverTicks / CLK_TCK, serverSysS, dbCpuS: target.db ? dbTicks / CLK_TCK : null, rssLoadKiB: rssMax };
}

// ------------------------------------------------------------------------------------------------
// Servers under test

// Every request comes from 127.0.0.1: the per-address sign-in limit (100 a minute by default,
// against password spraying) would otherwise refuse the sign-in scenario after its first second.
// signin_totp's setup makes hundreds of users and factors through /api/v1 with one token: its
// per-token limit (1,200 a minute) would stall it.
const GATEHOUSE_ENV = { GATEHOUSE_SIGNIN_REQUESTS_PER_MINUTE_PER_IP: '0', GATEHOUSE_LOGIN_TRANSACTIONS_PER_MINUTE_PER_IP: '0', GATEHOUSE_API_REQUESTS_PER_MINUTE: '1000000' };

async function startGatehouse(db) {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-bench-'));
  tempDirs.push(dataDir);
  const global = ['--data-dir', dataDir];
  let dbName = null;
  if (db === 'postgres') {
    dbName = `${opts.dbPrefix}_${databases.length}`;
    run('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-qc', `CREATE DATABASE ${dbName}`]);
    databases.push(dbName);
    global.push('--database-url', `${opts.pgUrl}/${dbName}`);
  }
  const gh = (...args) => run(opts.gatehouseBin, [...global, ...args], { env: { ...process.env, RUST_LOG: 'warn' } });
  // First start creates the schema, the authorization servers and their keys.
  const server = await startServer(`gatehouse-${db}`, opts.gatehouseBin, [...global, 'serve', '--bind', '127.0.0.1:0'], GATEHOUSE_ENV);
  // Custom servers only grant the scopes they have.
  gh('auth-server', 'add-scope', '--id', 'default', '--name', 'bench.read');
  gh('user', 'add', '--login', LOGIN, '--first-name', 'Bench', '--last-name', 'User', '--password', PASSWORD, '--output', 'json');
  // One confidential web app for every scenario, client_credentials included where supported.
  const create = (...grants) => JSON.parse(gh('app', 'create-oidc', '--type', 'web', '--label', 'Bench', '--redirect-uri', REDIRECT_URI, '--assign', 'Everyone', ...grants.flatMap((g) => ['--grant-type', g]), '--output', 'json'));
  let app;
  let clientCredentials = true;
  try {
    app = create('authorization_code', 'refresh_token', 'client_credentials');
  } catch (err) {
    log(`gatehouse (${db}): no client_credentials grant for web apps (${String(err.stderr || err.message).trim().split('\n').pop()}); those scenarios are skipped`);
    clientCredentials = false;
    app = create('authorization_code', 'refresh_token');
  }
  // A second app whose refresh tokens rotate (Okta's ROTATE), for the refresh-with-rotation row.
  let rotate = null;
  try {
    const r = JSON.parse(gh('app', 'create-oidc', '--type', 'web', '--label', 'BenchRotate', '--redirect-uri', REDIRECT_URI, '--assign', 'Everyone', '--grant-type', 'authorization_code', '--grant-type', 'refresh_token', '--refresh-rotation', 'rotate', '--output', 'json'));
    rotate = { clientId: r.client_id, clientSecret: r.client_secret };
  } catch (err) {
    log(`gatehouse (${db}): no refresh-token rotation (${String(err.stderr || err.message).trim().split('\n').pop()}); that scenario is skipped`);
  }
  const clientId = app.client_id ?? app.clientId ?? app.credentials?.oauthClient?.client_id;
  const clientSecret = app.client_secret ?? app.clientSecret ?? app.credentials?.oauthClient?.client_secret;
  if (!clientId || !clientSecret) throw new Error(`unexpected create-oidc output: ${JSON.stringify(app)}`);
  return { name: `gatehouse (${db === 'postgres' ? 'PostgreSQL' : 'SQLite'})`, key: `gatehouse-${db}`, kind: 'gatehouse', db: dbName, ...server, clientId, clientSecret, clientCredentials, rotate, alg: 'RS256', gh, global, discoveryPath: '/oauth2/default/.well-known/openid-configuration' };
}

/// Switches the `default` server's signing algorithm: stops gatehouse, runs
/// `gatehouse auth-server set-alg` (a new key of that algorithm becomes active) and starts it again
/// on the same database, so no key cache holds the old key. oidc-provider needs no switch: each
/// algorithm is its own resource server there.
async function switchAlg(target, alg) {
  if (target.kind !== 'gatehouse' || target.alg === alg) return;
  await target.pool.close();
  await target.stop();
  target.gh('auth-server', 'set-alg', '--id', 'default', '--alg', alg);
  const server = await startServer(`${target.key}-${alg}`, opts.gatehouseBin, [...target.global, 'serve', '--bind', '127.0.0.1:0'], GATEHOUSE_ENV);
  Object.assign(target, server, { alg });
  target.pool = makePool(target.origin, Math.max(opts.concurrency, opts.signinConcurrency));
  log(`${target.name}: now signing ${alg}, pid ${target.pid} at ${target.origin}`);
}

// The rows the equal-work peer runs: the token responses where oidc-provider's default opaque
// access token means one signature to Gatehouse's two.
const JWT_AT_SCENARIOS = new Set(['refresh', 'code_exchange', 'refresh_rotate']);

/// panva/oidc-provider; with `jwt`, the equal-work configuration (`oidc-provider-jwt`): RS256 JWT
/// access tokens from the code and refresh grants, so each of those responses signs two JWTs
/// as Gatehouse's do. It runs only those rows (its access tokens are for a resource, not userinfo).
async function startOidcProvider({ jwt = false } = {}) {
  const clientId = 'bench-client';
  const clientSecret = randomBytes(24).toString('base64url');
  const key = jwt ? 'oidc-provider-jwt' : 'oidc-provider';
  const server = await startServer(key, process.execPath, [join(HERE, 'oidc-provider/server.mjs')], {
    BENCH_AT_FORMAT: jwt ? 'jwt' : 'opaque',
    BENCH_CLIENT_ID: clientId,
    BENCH_CLIENT_SECRET: clientSecret,
    BENCH_ROTATE_CLIENT_ID: 'bench-rotate',
    BENCH_REDIRECT_URI: REDIRECT_URI,
    BENCH_LOGIN: LOGIN,
    BENCH_PASSWORD: PASSWORD,
    NODE_ENV: 'production',
  });
  const common = { db: null, ...server, clientId, clientSecret, clientCredentials: true, rotate: { clientId: 'bench-rotate', clientSecret }, discoveryPath: '/.well-known/openid-configuration' };
  if (jwt) return { ...common, name: 'oidc-provider (JWT access tokens)', key, kind: 'oidc-provider-jwt', jwtAccessTokens: true, scenarios: JWT_AT_SCENARIOS };
  return { ...common, name: 'oidc-provider', key, kind: 'oidc-provider' };
}

/// A target that must issue JWT access tokens (Gatehouse, oidc-provider-jwt) got an RS256 one:
/// the equal-work comparison means nothing if a token came back opaque.
function checkJwtAccessToken(target, json, what) {
  if (target.kind !== 'gatehouse' && !target.jwtAccessTokens) return;
  const alg = jwtAlg(json.access_token ?? '');
  if (alg !== 'RS256') throw new FlowError(`${what}: access token is ${alg ? `a ${alg} JWT` : 'not a JWT'}, expected an RS256 JWT`);
}

/// Reads discovery, signs in once (the session then gives single sign-on for minting codes) and
/// exchanges that code for the tokens the fixed-request scenarios reuse.
async function prepare(target) {
  target.pool = makePool(target.origin, Math.max(opts.concurrency, opts.signinConcurrency));
  const disc = await send(target.pool, { path: target.discoveryPath });
  if (disc.status !== 200) throw new Error(`${target.name}: discovery -> ${disc.status}`);
  const meta = JSON.parse(disc.text);
  const p = (url) => new URL(url).pathname;
  target.paths = {
    discovery: target.discoveryPath,
    authorize: p(meta.authorization_endpoint),
    token: p(meta.token_endpoint),
    userinfo: p(meta.userinfo_endpoint),
    jwks: p(meta.jwks_uri),
    introspect: p(meta.introspection_endpoint),
  };
  target.basic = basicAuth(target.clientId, target.clientSecret);
  target.sso = new Jar();
  const code = await signIn(target, target.sso);
  const tokens = await exchange(target, code);
  if (!tokens.refresh_token) throw new Error(`${target.name}: no refresh token for ${SCOPE}`);
  target.accessToken = tokens.access_token;
  target.refreshToken = tokens.refresh_token;
  if (target.clientCredentials && target.kind === 'gatehouse') {
    // Until the grant is implemented, the token endpoint refuses it: skip, do not fail.
    const probe = await send(target.pool, {
      method: 'POST',
      path: target.paths.token,
      headers: { authorization: target.basic },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'bench.read' }).toString(),
    });
    if (probe.status === 400 && /unsupported_grant_type/.test(probe.text)) {
      log(`${target.name}: client_credentials is not implemented (${probe.text.slice(0, 120)}); those scenarios are skipped`);
      target.clientCredentials = false;
    }
  }
  target.rssIdleKiB = rssKiB(target.pid);
}

const authorizePath = (target, clientId = target.clientId) => {
  const q = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    scope: SCOPE,
    redirect_uri: REDIRECT_URI,
    state: randomBytes(12).toString('base64url'),
    nonce: randomBytes(12).toString('base64url'),
  });
  return `${target.paths.authorize}?${q}`;
};

async function signIn(target, jar) {
  const result = await browse(target.pool, {
    origin: target.origin,
    startPath: authorizePath(target),
    redirectUri: REDIRECT_URI,
    jar,
    username: LOGIN,
    password: PASSWORD,
  });
  if (!result.code) throw new FlowError(`authorization response without code: ${JSON.stringify(result)}`);
  return result.code;
}

async function exchange(target, code) {
  const res = await send(target.pool, {
    method: 'POST',
    path: target.paths.token,
    headers: { authorization: target.basic },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }).toString(),
  });
  if (res.status !== 200) throw new FlowError(`code exchange -> ${res.status}: ${res.text.slice(0, 200)}`);
  const json = JSON.parse(res.text);
  if (!json.access_token || !json.id_token) throw new FlowError('code exchange without access_token/id_token');
  checkJwtAccessToken(target, json, 'code exchange');
  return json;
}

// ------------------------------------------------------------------------------------------------
// Scenarios

function runWrk(target, { method = 'GET', path, body = '', auth = '' }, seconds) {
  return new Promise((resolveRun, rejectRun) => {
    const args = ['-t1', `-c${opts.concurrency}`, `-d${seconds}s`, '--timeout', '10s', '-s', join(HERE, 'lib/wrk_report.lua'), `${target.origin}${path}`];
    const child = spawn('wrk', args, { env: { ...process.env, BENCH_METHOD: method, BENCH_BODY: body, BENCH_AUTH: auth }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => {
      children.delete(child);
      const m = /BENCH_JSON (\{.*\})/.exec(out);
      if (code !== 0 || !m) return rejectRun(new Error(`wrk failed (${code}): ${out.slice(-500)}`));
      const r = JSON.parse(m[1]);
      const errors = r.err_connect + r.err_read + r.err_write + r.err_status + r.err_timeout;
      resolveRun({ ok: r.requests - errors, errors, elapsed: r.duration_us / 1e6, p50_us: r.p50_us, p99_us: r.p99_us, firstErrors: errors ? [`wrk errors: ${JSON.stringify(r)}`] : [] });
    });
  });
}

/// A fixed request: checked once (must answer 200), then driven by wrk.
function fixedScenario(build) {
  return async (target, seconds) => {
    const req = build(target);
    const headers = req.auth ? { authorization: req.auth } : {};
    const probe = await send(target.pool, { method: req.method ?? 'GET', path: req.path, headers, body: req.body || undefined });
    if (probe.status !== 200) throw new FlowError(`probe ${req.method ?? 'GET'} ${req.path} -> ${probe.status}: ${probe.text.slice(0, 200)}`);
    if (req.check) req.check(probe.text);
    return measured(target, () => runWrk(target, req, seconds));
  };
}

const jwtAlg = (token) => {
  try {
    return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')).alg;
  } catch {
    return undefined;
  }
};

/// client_credentials, a fixed request: Gatehouse's `default` server signing `alg` (switched
/// before the scenario), oidc-provider's resource server for `alg`. Both issue JWT access tokens.
const clientCredentials = (alg) => ({
  key: `cc_${alg.toLowerCase()}`,
  label: `client_credentials grant (${alg} JWT access token)`,
  alg,
  needs: 'clientCredentials',
  run: fixedScenario((t) => {
    const form = { grant_type: 'client_credentials', scope: 'bench.read' };
    if (t.kind === 'oidc-provider') form.resource = `urn:bench:${alg.toLowerCase()}`;
    return {
      method: 'POST',
      path: t.ccPath ? t.ccPath(alg) : t.paths.token,
      auth: t.basic,
      body: new URLSearchParams(form).toString(),
      check: (text) => {
        const got = jwtAlg(JSON.parse(text).access_token ?? '');
        if (got !== alg) throw new FlowError(`client_credentials access token is ${got}, expected ${alg}: ${text.slice(0, 200)}`);
      },
    };
  }),
});

const SCENARIOS = [
  clientCredentials('RS256'),
  {
    key: 'discovery',
    label: 'discovery (GET openid-configuration)',
    run: fixedScenario((t) => ({ path: t.paths.discovery })),
  },
  {
    key: 'jwks',
    label: 'JWKS (GET keys)',
    run: fixedScenario((t) => ({ path: t.paths.jwks })),
  },
  {
    key: 'userinfo',
    label: 'userinfo (GET, Bearer JWT/opaque AT)',
    run: fixedScenario((t) => ({ path: t.paths.userinfo, auth: `Bearer ${t.accessToken}` })),
  },
  {
    key: 'introspect',
    label: 'introspection (POST, access token)',
    run: fixedScenario((t) => ({
      method: 'POST',
      path: t.paths.introspect,
      auth: t.basic,
      body: new URLSearchParams({ token: t.accessToken, token_type_hint: 'access_token' }).toString(),
      check: (text) => {
        if (JSON.parse(text).active !== true) throw new FlowError(`introspection says inactive: ${text.slice(0, 200)}`);
      },
    })),
  },
  {
    key: 'refresh',
    label: 'refresh_token grant (static refresh token, no rotation)',
    run: fixedScenario((t) => ({
      method: 'POST',
      path: t.paths.token,
      auth: t.basic,
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refreshToken }).toString(),
      check: (text) => {
        const j = JSON.parse(text);
        if (j.refresh_token && j.refresh_token !== t.refreshToken) throw new FlowError('refresh token rotated; the fixed-request scenario needs a static one');
        checkJwtAccessToken(t, j, 'refresh');
      },
    })),
  },
  {
    key: 'code_exchange',
    label: 'authorization-code exchange (POST token)',
    run: async (target, seconds) => {
      // Mint codes first (single sign-on: one authorize GET with the session cookie each), untimed,
      // for twice the timed phase: an exchange can outrun the minting (stop 21 ran out of codes).
      const codes = [];
      const cookie = target.sso.header();
      const mint = await closedLoop({
        concurrency: opts.concurrency,
        seconds: seconds * 2,
        task: async () => {
          if (codes.length >= 100_000) return false;
          const res = await send(target.pool, { path: authorizePath(target), headers: { cookie } });
          const location = res.headers.location;
          const code = location && location.startsWith(REDIRECT_URI) ? new URL(location).searchParams.get('code') : null;
          if (!code) throw new FlowError(`SSO authorize -> ${res.status} ${location ?? res.text.slice(0, 200)}`);
          codes.push(code);
          return true;
        },
      });
      if (mint.errors) throw new FlowError(`minting codes failed: ${mint.firstErrors.join('; ')}`);
      const r = await measured(target, () =>
        closedLoop({
          concurrency: opts.concurrency,
          seconds,
          task: async () => {
            const code = codes.pop();
            if (!code) return false;
            await exchange(target, code);
            return true;
          },
        }),
      );
      r.note = `${mint.ok} codes minted in ${mint.elapsed.toFixed(1)} s (${Math.round(mint.ok / mint.elapsed)}/s via SSO authorize)${r.exhausted ? '; ran out of codes' : ''}`;
      return r;
    },
  },
  {
    key: 'signin',
    label: 'password sign-in, full flow (per flow)',
    run: (target, seconds) =>
      measured(target, () =>
        closedLoop({
          concurrency: opts.signinConcurrency,
          seconds,
          task: async () => {
            const code = await signIn(target, new Jar());
            await exchange(target, code);
            return true;
          },
        }),
      ),
  },
  {
    // Gatehouse only (`needs: 'gh'`, its CLI): oidc-provider has no TOTP. Its own app, whose
    // access policy requires a second factor, and a pool of users each with a TOTP factor.
    key: 'signin_totp',
    label: 'sign-in with password + TOTP, full flow (per flow; oidc-provider has no TOTP)',
    needs: 'gh',
    run: async (target, seconds) => {
      const app = JSON.parse(target.gh('app', 'create-oidc', '--type', 'web', '--label', 'BenchMFA', '--redirect-uri', REDIRECT_URI, '--assign', 'Everyone', '--grant-type', 'authorization_code', '--output', 'json'));
      app.client_id ??= app.clientId;
      app.client_secret ??= app.clientSecret;
      target.gh('policy', 'require-mfa', '--app', app.client_id);
      const token = JSON.parse(target.gh('token', 'create', '--name', `bench-totp-${randomBytes(3).toString('hex')}`, '--output', 'json')).token;
      const users = await makeTotpUsers(target.pool, { token, password: PASSWORD, seconds, concurrency: opts.signinConcurrency, log });
      const auth = basicAuth(app.client_id, app.client_secret);
      const r = await measured(target, () =>
        closedLoop({
          concurrency: opts.signinConcurrency,
          seconds,
          task: async () => {
            const who = users.take();
            if (!who) return false;
            const res = await browseWithTotp(target.pool, { origin: target.origin, startPath: authorizePath(target, app.client_id), redirectUri: REDIRECT_URI, jar: new Jar(), username: who.login, password: PASSWORD, code: who.code });
            if (!res.code) throw new FlowError(`authorization response without code: ${JSON.stringify(res)}`);
            const tok = await send(target.pool, { method: 'POST', path: target.paths.token, headers: { authorization: auth }, body: new URLSearchParams({ grant_type: 'authorization_code', code: res.code, redirect_uri: REDIRECT_URI }).toString() });
            const idToken = tok.status === 200 ? JSON.parse(tok.text).id_token : null;
            if (!idToken) throw new FlowError(`code exchange -> ${tok.status}: ${tok.text.slice(0, 200)}`);
            const amr = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString('utf8')).amr ?? [];
            if (!amr.includes('otp')) throw new FlowError(`ID token amr ${JSON.stringify(amr)} lacks otp`);
            return true;
          },
        }),
      );
      r.note = `${users.users.length} users with a TOTP factor${r.exhausted ? '; every user had spent its codes (the pool ran out)' : ''}`;
      return r;
    },
  },
  {
    key: 'refresh_rotate',
    label: 'refresh_token grant with rotation (ROTATE: new refresh token each time)',
    needs: 'rotate',
    run: async (target, seconds) => {
      // One refresh-token chain per connection, each from an SSO code for the rotating client
      // (untimed); every timed request spends its chain's token and puts the new one back.
      const { clientId, clientSecret } = target.rotate;
      const auth = basicAuth(clientId, clientSecret);
      const cookie = target.sso.header();
      const chains = [];
      for (let i = 0; i < opts.concurrency; i += 1) {
        const res = await send(target.pool, { path: authorizePath(target, clientId), headers: { cookie } });
        const location = res.headers.location ?? '';
        const code = location.startsWith(REDIRECT_URI) ? new URL(location).searchParams.get('code') : null;
        if (!code) throw new FlowError(`SSO authorize for the rotating client -> ${res.status} ${location || res.text.slice(0, 200)}`);
        const tok = await send(target.pool, { method: 'POST', path: target.paths.token, headers: { authorization: auth }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }).toString() });
        const rt = tok.status === 200 ? JSON.parse(tok.text).refresh_token : null;
        if (!rt) throw new FlowError(`rotating client's code exchange -> ${tok.status}: ${tok.text.slice(0, 200)}`);
        checkJwtAccessToken(target, JSON.parse(tok.text), "rotating client's code exchange");
        chains.push(rt);
      }
      return measured(target, () =>
        closedLoop({
          concurrency: opts.concurrency,
          seconds,
          task: async () => {
            const rt = chains.shift();
            if (!rt) throw new FlowError('no refresh-token chain free');
            const res = await send(target.pool, { method: 'POST', path: target.paths.token, headers: { authorization: auth }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt }).toString() });
            const json = res.status === 200 ? JSON.parse(res.text) : {};
            const next = json.refresh_token ?? null;
            if (!next || next === rt) {
              chains.push(rt);
              throw new FlowError(`rotating refresh -> ${res.status}: ${res.text.slice(0, 200)}`);
            }
            chains.push(next);
            checkJwtAccessToken(target, json, 'rotating refresh');
            return true;
          },
        }),
      );
    },
  },
  clientCredentials('ES256'),
  clientCredentials('EdDSA'),
];

// `--scenarios a,b` keeps only those scenarios (by key), in the table's order.
if (opts.scenarios) {
  const known = new Set(SCENARIOS.map((sc) => sc.key));
  const unknown = opts.scenarios.filter((k) => !known.has(k));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  for (let i = SCENARIOS.length - 1; i >= 0; i -= 1) if (!opts.scenarios.includes(SCENARIOS[i].key)) SCENARIOS.splice(i, 1);
}

// ------------------------------------------------------------------------------------------------
// Raw limits

function rawLimits() {
  const raw = {};
  if (opts.rawlimitsBin) {
    log('raw limits: aws-lc-rs RS256 and RustCrypto argon2id (pinned to core', opts.serverCore, ')');
    raw.rust = JSON.parse(run('taskset', ['-c', opts.serverCore, opts.rawlimitsBin, opts.smoke ? '0.5' : '3']).trim());
  }
  try {
    log('raw limits: openssl speed rsa2048');
    const out = run('taskset', ['-c', opts.serverCore, 'openssl', 'speed', '-seconds', opts.smoke ? '1' : '3', 'rsa2048'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(out);
    if (m) raw.openssl = { version: run('openssl', ['version']).trim(), rs256_sign_per_s: Number(m[1]), rs256_verify_per_s: Number(m[2]) };
  } catch (err) {
    raw.openssl = { error: String(err.message) };
  }
  for (const [alg, re] of [['es256', /ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/], ['eddsa', /EdDSA \(Ed25519\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/]]) {
    try {
      const out = run('taskset', ['-c', opts.serverCore, 'openssl', 'speed', '-seconds', opts.smoke ? '1' : '3', alg === 'es256' ? 'ecdsap256' : 'ed25519'], { stdio: ['ignore', 'pipe', 'ignore'] });
      const m = re.exec(out);
      if (m && raw.openssl && !raw.openssl.error) Object.assign(raw.openssl, { [`${alg}_sign_per_s`]: Number(m[1]), [`${alg}_verify_per_s`]: Number(m[2]) });
    } catch {
      // cross-check only
    }
  }
  return raw;
}

// ------------------------------------------------------------------------------------------------
// Report

const fmtMs = (us) => (us >= 100_000 ? (us / 1000).toFixed(0) : us >= 10_000 ? (us / 1000).toFixed(1) : (us / 1000).toFixed(2));
const fmtRps = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const mib = (kib) => (kib / 1024).toFixed(1);

function cpuPerReq(r) {
  if (!r.ok) return '–';
  const s = (r.serverCpuS * 1e6) / (r.ok + r.errors);
  const txt = s >= 1000 ? `${(s / 1000).toFixed(2)} ms` : `${Math.round(s)} µs`;
  if (r.dbCpuS === null || r.dbCpuS === undefined) return txt;
  const d = (r.dbCpuS * 1e6) / (r.ok + r.errors);
  return `${txt} + ${d >= 1000 ? `${(d / 1000).toFixed(2)} ms` : `${Math.round(d)} µs`} PG`;
}

function report(results, targets, raw, meta) {
  const lines = [];
  const push = (s = '') => lines.push(s);
  const byKey = Object.fromEntries(targets.map((t) => [t.key, t]));
  const gh = targets.filter((t) => t.kind === 'gatehouse');
  const op = targets.find((t) => t.kind === 'oidc-provider');
  push(`Per core: server pinned to core ${opts.serverCore}, load generator to the other; ${opts.duration} s per scenario; ${opts.concurrency} connections (${opts.signinConcurrency} concurrent flows for sign-in).`);
  push('rps = completed requests (flows for sign-in) per second; p50/p99 in ms; CPU/req = server CPU time (user+sys) per request, plus PostgreSQL backend CPU where used; core% = server CPU busy share of its one core.');
  push();
  // The "vs oidc-provider (JWT AT)" and "vs glewlwyd" columns only when those peers ran, so
  // other runs' tables keep their shape.
  const opJwt = targets.find((t) => t.kind === 'oidc-provider-jwt');
  const gl = targets.find((t) => t.kind === 'glewlwyd');
  const peerCol = (peer) => (t, sc, rps) => {
    if (!peer) return '';
    const g = results[peer.key]?.[sc.key];
    return t.kind === 'gatehouse' && g && !g.failed && !g.skipped && g.ok ? ` ${(rps / (g.ok / g.elapsed)).toFixed(2)}× |` : ' |';
  };
  const opJwtCol = peerCol(opJwt);
  const glCol = peerCol(gl);
  const extra = (opJwt ? ' |' : '') + (gl ? ' |' : '');
  push(`| Scenario | Server | rps | p50 ms | p99 ms | CPU/req | core% | RSS under load MiB | errors | vs oidc-provider |${opJwt ? ' vs oidc-provider (JWT AT) |' : ''}${gl ? ' vs glewlwyd |' : ''}`);
  push(`|---|---|---:|---:|---:|---|---:|---:|---:|---:|${opJwt ? '---:|' : ''}${gl ? '---:|' : ''}`);
  for (const sc of SCENARIOS) {
    for (const t of targets) {
      const r = results[t.key]?.[sc.key];
      if (!r) continue;
      if (r.skipped) {
        push(`| ${sc.label} | ${t.name} | ${r.skipped} | | | | | | | |${extra}`);
        continue;
      }
      if (r.failed) {
        push(`| ${sc.label} | ${t.name} | FAILED | | | | | | | ${r.failed.replace(/\|/g, '/').slice(0, 120)} |${extra}`);
        continue;
      }
      const rps = r.ok / r.elapsed;
      const opR = op && results[op.key]?.[sc.key];
      const ratio = t.kind === 'gatehouse' && opR && !opR.failed && opR.ok ? `${(rps / (opR.ok / opR.elapsed)).toFixed(2)}×` : '';
      const core = `${Math.round((100 * r.serverCpuS) / r.elapsed)}%`;
      push(`| ${sc.label} | ${t.name} | ${fmtRps(rps)} | ${fmtMs(r.p50_us)} | ${fmtMs(r.p99_us)} | ${cpuPerReq(r)} | ${core} | ${mib(r.rssLoadKiB)} | ${r.errors} | ${ratio} |${opJwtCol(t, sc, rps)}${glCol(t, sc, rps)}`);
    }
  }
  push();
  push('| Server | RSS idle MiB (after start and one sign-in) | RSS peak under load MiB |');
  push('|---|---:|---:|');
  for (const t of targets) {
    const peaks = Object.values(results[t.key] ?? {}).filter((r) => !r.failed && !r.skipped).map((r) => r.rssLoadKiB);
    push(`| ${t.name} | ${mib(t.rssIdleKiB ?? 0)} | ${peaks.length ? mib(Math.max(...peaks)) : '–'} |`);
  }
  const notes = [];
  for (const t of targets) for (const sc of SCENARIOS) if (results[t.key]?.[sc.key]?.note) notes.push(`${t.name}, ${sc.key}: ${results[t.key][sc.key].note}`);
  if (notes.length) {
    push();
    for (const n of notes) push(`- ${n}`);
  }
  if (raw.rust || raw.openssl) {
    push();
    push(`Raw limits, one core (core ${opts.serverCore}):`);
    push();
    push('| Operation | Figure | Implementation |');
    push('|---|---:|---|');
    if (raw.rust) {
      push(`| RS256 sign (RSA-2048) | ${fmtRps(raw.rust.rs256_sign_per_s)} /s | aws-lc-rs 1.19.0 (what Gatehouse signs with) |`);
      push(`| RS256 verify | ${fmtRps(raw.rust.rs256_verify_per_s)} /s | aws-lc-rs 1.19.0 |`);
      push(`| ES256 sign (P-256) | ${fmtRps(raw.rust.es256_sign_per_s)} /s | aws-lc-rs 1.19.0 |`);
      push(`| ES256 verify | ${fmtRps(raw.rust.es256_verify_per_s)} /s | aws-lc-rs 1.19.0 |`);
      push(`| EdDSA sign (Ed25519) | ${fmtRps(raw.rust.eddsa_sign_per_s)} /s | aws-lc-rs 1.19.0 |`);
      push(`| EdDSA verify | ${fmtRps(raw.rust.eddsa_verify_per_s)} /s | aws-lc-rs 1.19.0 |`);
      push(`| argon2id m=19456 KiB, t=2, p=1 (one hash) | ${raw.rust.argon2id_ms.toFixed(1)} ms (${raw.rust.argon2id_per_s.toFixed(1)} /s) | RustCrypto argon2 0.5.3 (what Gatehouse hashes with) |`);
    }
    if (raw.openssl?.rs256_sign_per_s) {
      push(`| RS256 sign (RSA-2048) | ${fmtRps(raw.openssl.rs256_sign_per_s)} /s | ${raw.openssl.version} \`openssl speed rsa2048\` |`);
      push(`| RS256 verify | ${fmtRps(raw.openssl.rs256_verify_per_s)} /s | ${raw.openssl.version} |`);
    }
    if (raw.openssl?.es256_sign_per_s) {
      push(`| ES256 sign / verify | ${fmtRps(raw.openssl.es256_sign_per_s)} / ${fmtRps(raw.openssl.es256_verify_per_s)} /s | ${raw.openssl.version} \`openssl speed ecdsap256\` |`);
    }
    if (raw.openssl?.eddsa_sign_per_s) {
      push(`| EdDSA sign / verify | ${fmtRps(raw.openssl.eddsa_sign_per_s)} / ${fmtRps(raw.openssl.eddsa_verify_per_s)} /s | ${raw.openssl.version} \`openssl speed ed25519\` |`);
    }
  }
  const targetLines = targetReport(results, targets, raw);
  if (targetLines.length) {
    push();
    push('Targets (issue 21), per core:');
    push();
    push('| Target | Measured | Bound | Met |');
    push('|---|---:|---:|:---:|');
    for (const l of targetLines) push(l);
  }
  push();
  push(`Machine: ${meta.cpu}, ${meta.nproc} CPUs; load average at start ${meta.loadavg}. ${meta.date}.`);
  return lines.join('\n');
}

/// Issue 21's targets, checked against this run's figures (rows only where both sides exist).
function targetReport(results, targets, raw) {
  const rows = [];
  const rate = (t, key) => {
    const r = t && results[t.key]?.[key];
    return r && !r.failed && !r.skipped && r.ok ? r.ok / r.elapsed : null;
  };
  const row = (what, measured, fmtBound, met) => rows.push(`| ${what} | ${measured} | ${fmtBound} | ${met ? 'yes' : '**no**'} |`);
  const ratioRow = (what, a, b, want) => {
    if (a && b) row(`${what} ≥ ${want}×`, `${(a / b).toFixed(2)}×`, `${want}×`, a / b >= want);
  };
  const op = targets.find((t) => t.kind === 'oidc-provider');
  const opJwt = targets.find((t) => t.kind === 'oidc-provider-jwt');
  const gl = targets.find((t) => t.kind === 'glewlwyd');
  const rsSign = raw.rust?.rs256_sign_per_s;
  for (const t of targets.filter((x) => x.kind === 'gatehouse')) {
    const who = t.name;
    const sqlite = t.key === 'gatehouse-sqlite';
    // Token responses that write state: ahead of oidc-provider (default and equal-work), and
    // near the two-signature bound (raw RS256 / 2) on SQLite.
    for (const key of ['code_exchange', 'refresh', 'refresh_rotate']) {
      const a = rate(t, key);
      ratioRow(`${who}: ${key} vs oidc-provider`, a, rate(op, key), 1.2);
      ratioRow(`${who}: ${key} vs oidc-provider (JWT access tokens)`, a, rate(opJwt, key), 1.2);
      if (a && rsSign && sqlite) {
        const bound = rsSign / 2;
        row(`${who}: ${key} ≥ 85% of the two-signature bound (raw RS256 / 2)`, `${fmtRps(a)}/s (${Math.round((100 * a) / bound)}%)`, `${fmtRps(0.85 * bound)}/s`, a >= 0.85 * bound);
      }
    }
    for (const key of ['userinfo', 'introspect']) ratioRow(`${who}: ${key} vs oidc-provider`, rate(t, key), rate(op, key), 3);
    // client_credentials: ES256/EdDSA against oidc-provider and the HTTP-stack bound (this
    // run's discovery rate); RS256 against raw signing.
    const disc = rate(t, 'discovery');
    const share = sqlite ? 0.5 : 0.35;
    for (const key of ['cc_es256', 'cc_eddsa']) {
      const a = rate(t, key);
      ratioRow(`${who}: ${key} vs oidc-provider`, a, rate(op, key), 5);
      if (a && disc) row(`${who}: ${key} ≥ ${share * 100}% of this run's discovery rate`, `${fmtRps(a)}/s (${Math.round((100 * a) / disc)}%)`, `${fmtRps(share * disc)}/s`, a >= share * disc);
    }
    const cc = rate(t, 'cc_rs256');
    if (cc && rsSign) row(`${who}: cc_rs256 ≥ 85% of raw RS256 signing`, `${fmtRps(cc)}/s (${Math.round((100 * cc) / rsSign)}%)`, `${fmtRps(0.85 * rsSign)}/s`, cc >= 0.85 * rsSign);
    // Memory: idle after start and one sign-in; peak under any scenario.
    const MiB = 1024;
    if (t.rssIdleKiB) row(`${who}: RSS idle ≤ 20 MiB`, `${mib(t.rssIdleKiB)} MiB`, '20 MiB', t.rssIdleKiB <= 20 * MiB);
    const peaks = Object.values(results[t.key] ?? {}).filter((r) => !r.failed && !r.skipped && r.rssLoadKiB).map((r) => r.rssLoadKiB);
    if (peaks.length) row(`${who}: RSS peak under load ≤ 64 MiB`, `${mib(Math.max(...peaks))} MiB`, '64 MiB', Math.max(...peaks) <= 64 * MiB);
    // The second peer: ≥ 2× Glewlwyd on every row it runs (cc RS256/ES256, discovery, JWKS).
    for (const key of gl ? gl.scenarios : []) ratioRow(`${who}: ${key} vs glewlwyd`, rate(t, key), rate(gl, key), 2);
  }
  return rows;
}

// ------------------------------------------------------------------------------------------------
// Main

async function main() {
  const meta = {
    cpu: cpus()[0]?.model ?? 'unknown',
    nproc: cpus().length,
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    date: new Date().toISOString(),
    node: process.version,
    opts,
  };
  log(`${opts.smoke ? 'SMOKE' : 'FULL'} run: ${opts.duration} s per scenario, targets ${opts.targets.join(',')}, dbs ${opts.dbs.join(',')}`);
  const plan = [];
  if (opts.targets.includes('gatehouse')) for (const db of opts.dbs) plan.push(() => startGatehouse(db));
  if (opts.targets.includes('oidc-provider')) plan.push(() => startOidcProvider());
  if (opts.targets.includes('oidc-provider-jwt')) plan.push(() => startOidcProvider({ jwt: true }));
  if (opts.targets.includes('glewlwyd')) {
    plan.push(() => startGlewlwyd({ children, tempDirs, outDir: opts.outDir, serverCore: opts.serverCore, connections: Math.max(opts.concurrency, opts.signinConcurrency), rssKiB }));
  }

  const results = {};
  const targets = [];
  let failures = 0;
  for (const start of plan) {
    const target = await start();
    targets.push(target);
    results[target.key] = {};
    log(`${target.name}: pid ${target.pid} at ${target.origin}`);
    try {
      await (target.prepare ?? prepare)(target);
    } catch (err) {
      log(`${target.name}: preparation failed: ${err.message}`);
      for (const sc of SCENARIOS) results[target.key][sc.key] = { failed: `setup: ${err.message}` };
      failures += SCENARIOS.length;
      await target.stop();
      continue;
    }
    for (const sc of SCENARIOS) {
      if (target.scenarios && !target.scenarios.has(sc.key)) continue; // a peer's partial set: no row
      if (sc.needs && !target[sc.needs]) {
        results[target.key][sc.key] = { skipped: 'not implemented' };
        continue;
      }
      try {
        await switchAlg(target, sc.alg ?? 'RS256');
        const r = await sc.run(target, opts.duration);
        results[target.key][sc.key] = r;
        const rps = r.ok / r.elapsed;
        log(`${target.name} ${sc.key}: ${r.ok} ok, ${r.errors} errors, ${fmtRps(rps)}/s, p50 ${fmtMs(r.p50_us)} ms, p99 ${fmtMs(r.p99_us)} ms, cpu ${r.serverCpuS.toFixed(2)} s${r.dbCpuS !== null ? ` + PG ${r.dbCpuS.toFixed(2)} s` : ''}${r.firstErrors.length ? ` (${r.firstErrors.join('; ')})` : ''}`);
        if (!r.ok || r.errors) failures += 1;
      } catch (err) {
        log(`${target.name} ${sc.key}: FAILED: ${err.message}`);
        results[target.key][sc.key] = { failed: err.message };
        failures += 1;
      }
    }
    await target.pool.close();
    await target.stop();
  }

  const raw = opts.smoke ? {} : rawLimits();
  const table = report(results, targets, raw, meta);
  const stamp = opts.smoke ? 'smoke' : 'full';
  writeFileSync(join(opts.outDir, `results-${stamp}.json`), JSON.stringify({ meta, raw, results, targets: targets.map(({ name, key, pid, rssIdleKiB, version }) => ({ name, key, pid, rssIdleKiB, version })) }, null, 2));
  writeFileSync(join(opts.outDir, `results-${stamp}.md`), `${table}\n`);
  console.log(table);
  if (failures) {
    log(`${failures} scenario(s) failed, had errors or completed no request`);
    process.exitCode = 1;
  } else if (opts.smoke) {
    log('smoke: every scenario completed requests with no errors');
  }
}

main().catch((err) => {
  log(`fatal: ${err.stack || err}`);
  process.exitCode = 1;
}).finally(() => cleanup());
