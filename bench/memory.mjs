#!/usr/bin/env node
// Memory and sign-in cost of one Gatehouse server, measured the way bench/run.mjs measures them,
// but on a fixed amount of work so that runs compare (see "Memory and sign-in" in BENCHMARKS.md):
//
//   node bench/memory.mjs [--db sqlite|postgres] [--flows 200] [--concurrency 8]
//                         [--bin target/release/gatehouse] [--env NAME=VALUE]... [--perf FILE]
//   node bench/memory.mjs --layout crates/gatehouse/link/symbol-order.txt
//
// 1. Starts `gatehouse serve` pinned to core 1 (`taskset -c 1`) on a fresh database, creates a
//    user and a web app, signs in once and exchanges the code (as run.mjs does before its
//    scenarios), waits a second and reads VmRSS: the "idle" figure. It also prints the
//    `smaps_rollup` split and the largest anonymous mappings, so one can see what is resident.
// 2. Runs `--flows` full password sign-ins (authorize -> sign-in page -> POST credentials ->
//    redirect with code -> code exchange), `--concurrency` at a time, each on a new cookie jar,
//    and reports the server's CPU time (utime+stime from /proc/PID/stat) per flow, the peak
//    VmRSS (sampled every 50 ms) and VmRSS 3 s after the load.
//
// CPU per flow is what to compare on a shared machine (wall-clock rates are noisy there).
// `--env` passes settings to the server only (e.g. GLIBC_TUNABLES=glibc.malloc.arena_max=1).
// `--perf FILE` records `perf record -g` of the server during the flows.
// `--layout FILE` runs the server under valgrind's callgrind instead, through start-up, one
// sign-in, the code exchange and one request of each common kind (discovery, JWKS, userinfo,
// introspection, refresh), and writes the functions of the binary it ran, one mangled name per
// line, for the linker to lay out together (scripts/symbol-order.sh; crates/gatehouse/build.rs).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { makePool, Jar, basicAuth, send, browse, FlowError } from './lib/http.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const o = { db: 'sqlite', flows: 200, concurrency: 8, bin: join(ROOT, 'target/release/gatehouse'), env: {}, perf: '', layout: '', core: '1', pgUrl: 'postgres://postgres@127.0.0.1:5432' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 1) {
  const a = argv[i];
  const next = () => argv[++i];
  if (a === '--db') o.db = next();
  else if (a === '--flows') o.flows = Number(next());
  else if (a === '--concurrency') o.concurrency = Number(next());
  else if (a === '--bin') o.bin = resolve(next());
  else if (a === '--perf') o.perf = resolve(next());
  else if (a === '--core') o.core = next();
  else if (a === '--layout') o.layout = resolve(next());
  else if (a === '--env') {
    const [k, ...v] = next().split('=');
    o.env[k] = v.join('=');
  } else throw new Error(`unknown option ${a}`);
}

const REDIRECT_URI = 'https://client.example.test/cb';
const LOGIN = 'memory.user@example.com';
const PASSWORD = `Mem-${randomBytes(6).toString('hex')}-pw!`;
const SCOPE = 'openid profile email offline_access';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const run = (cmd, args, env = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });

const dataDir = mkdtempSync(join(tmpdir(), 'gh-memory-'));
const global = ['--data-dir', dataDir];
let dbName = null;
if (o.db === 'postgres') {
  dbName = `gh_memory_${process.pid}`;
  run('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-qc', `CREATE DATABASE ${dbName}`]);
  global.push('--database-url', `${o.pgUrl}/${dbName}`);
}
let server = null;
let perf = null;
function cleanup() {
  if (perf && perf.exitCode === null) perf.kill('SIGINT');
  if (server && server.exitCode === null) server.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  if (dbName) {
    try {
      run('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-qc', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`]);
    } catch {
      // best effort
    }
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const gh = (...args) => run(o.bin, [...global, ...args], { RUST_LOG: 'warn' });

function status(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0);
  return { rss: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile'), threads: Number(/Threads:\s+(\d+)/.exec(s)?.[1] ?? 0) };
}
function cpu(pid) {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) / CLK_TCK, sys: Number(f[12]) / CLK_TCK, minflt: Number(f[7]) };
}
/// The largest resident mappings, from /proc/PID/smaps.
function topMappings(pid, n = 8) {
  const out = [];
  let cur = null;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { size: (parseInt(head[2], 16) - parseInt(head[1], 16)) / 1024, name: head[3] || '[anon]', rss: 0 };
      out.push(cur);
    } else if (cur && line.startsWith('Rss:')) cur.rss = Number(/(\d+)/.exec(line)[1]);
  }
  return out.sort((a, b) => b.rss - a.rss).slice(0, n);
}
const mib = (k) => (k / 1024).toFixed(1);

// Start the server (first start creates the schema, the servers and their keys).
const callgrindOut = join(dataDir, 'callgrind.out');
const launch = o.layout
  ? ['valgrind', ['--tool=callgrind', '--demangle=no', '--dump-instr=no', `--callgrind-out-file=${callgrindOut}`, '-q', o.bin]]
  : ['taskset', ['-c', o.core, o.bin]];
server = spawn(launch[0], [...launch[1], ...global, 'serve', '--bind', '127.0.0.1:0'], {
  env: { ...process.env, RUST_LOG: 'warn', GATEHOUSE_SIGNIN_REQUESTS_PER_MINUTE_PER_IP: '0', ...o.env },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const origin = await new Promise((ok, fail) => {
  let buf = '';
  const t = setTimeout(() => fail(new Error('gatehouse did not start within 60 s')), 60_000);
  server.on('exit', (c) => fail(new Error(`gatehouse exited with ${c}`)));
  server.stdout.on('data', (d) => {
    buf += d;
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
    if (m) {
      clearTimeout(t);
      ok(m[1]);
    }
  });
});
const pid = server.pid;
const rssStart = status(pid);
gh('user', 'add', '--login', LOGIN, '--first-name', 'Mem', '--last-name', 'User', '--password', PASSWORD, '--output', 'json');
const app = JSON.parse(gh('app', 'create-oidc', '--type', 'web', '--label', 'Memory', '--redirect-uri', REDIRECT_URI, '--assign', 'Everyone', '--grant-type', 'authorization_code', '--grant-type', 'refresh_token', '--output', 'json'));
const auth = basicAuth(app.client_id, app.client_secret);
const pool = makePool(origin, Math.max(8, o.concurrency));
const meta = JSON.parse((await send(pool, { path: '/oauth2/default/.well-known/openid-configuration' })).text);
const authorizePath = new URL(meta.authorization_endpoint).pathname;
const tokenPath = new URL(meta.token_endpoint).pathname;

async function flow() {
  const q = new URLSearchParams({ client_id: app.client_id, response_type: 'code', scope: SCOPE, redirect_uri: REDIRECT_URI, state: randomBytes(12).toString('base64url'), nonce: randomBytes(12).toString('base64url') });
  const result = await browse(pool, { origin, startPath: `${authorizePath}?${q}`, redirectUri: REDIRECT_URI, jar: new Jar(), username: LOGIN, password: PASSWORD });
  if (!result.code) throw new FlowError(`no code: ${JSON.stringify(result)}`);
  const res = await send(pool, { method: 'POST', path: tokenPath, headers: { authorization: auth }, body: new URLSearchParams({ grant_type: 'authorization_code', code: result.code, redirect_uri: REDIRECT_URI }).toString() });
  if (res.status !== 200 || !JSON.parse(res.text).id_token) throw new FlowError(`code exchange -> ${res.status}: ${res.text.slice(0, 200)}`);
  return JSON.parse(res.text);
}

const tokens = await flow();
if (o.layout) {
  await layout(tokens);
  process.exit(0);
}
await new Promise((r) => setTimeout(r, 1000));
const idle = status(pid);
const idleTop = topMappings(pid);

// The timed part: a fixed number of flows.
if (o.perf) {
  perf = spawn('perf', ['record', '-q', '-g', '-p', String(pid), '-o', o.perf], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
}
let peak = status(pid).rss;
const sampler = setInterval(() => {
  peak = Math.max(peak, status(pid).rss);
}, 50);
const c0 = cpu(pid);
const t0 = process.hrtime.bigint();
let started = 0;
let errors = 0;
await Promise.all(
  Array.from({ length: o.concurrency }, async () => {
    while (started < o.flows) {
      started += 1;
      try {
        await flow();
      } catch (e) {
        errors += 1;
        if (errors <= 3) console.error('flow error:', e.message);
      }
    }
  }),
);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const c1 = cpu(pid);
clearInterval(sampler);
peak = Math.max(peak, status(pid).rss);
if (perf) {
  perf.kill('SIGINT');
  await new Promise((r) => perf.once('exit', r));
}
await new Promise((r) => setTimeout(r, 3000));
const after = status(pid);
await pool.close();

const user = c1.user - c0.user;
const sys = c1.sys - c0.sys;
const result = {
  db: o.db,
  env: o.env,
  flows: o.flows,
  concurrency: o.concurrency,
  errors,
  rss_start_mib: +mib(rssStart.rss),
  rss_idle_mib: +mib(idle.rss),
  idle_anon_mib: +mib(idle.anon),
  idle_file_mib: +mib(idle.file),
  idle_threads: idle.threads,
  cpu_ms_per_flow: +(((user + sys) * 1000) / o.flows).toFixed(2),
  user_ms_per_flow: +((user * 1000) / o.flows).toFixed(2),
  sys_ms_per_flow: +((sys * 1000) / o.flows).toFixed(2),
  page_faults_per_flow: Math.round((c1.minflt - c0.minflt) / o.flows),
  flows_per_s_wall: +(o.flows / wall).toFixed(1),
  rss_peak_mib: +mib(peak),
  rss_after_load_mib: +mib(after.rss),
  threads_after_load: after.threads,
};
console.log(`gatehouse (${o.db}) ${Object.keys(o.env).length ? JSON.stringify(o.env) : ''}`);
console.log(`  RSS: ${result.rss_start_mib} MiB at start, ${result.rss_idle_mib} MiB idle after one sign-in (anon ${result.idle_anon_mib}, file ${result.idle_file_mib}, ${idle.threads} threads)`);
console.log('  largest resident mappings when idle (KiB rss / KiB size):');
for (const m of idleTop) console.log(`    ${String(m.rss).padStart(7)} / ${String(m.size).padStart(8)}  ${m.name}`);
console.log(`  ${o.flows} flows, ${o.concurrency} at a time: ${result.cpu_ms_per_flow} ms CPU per flow (user ${result.user_ms_per_flow}, sys ${result.sys_ms_per_flow}; ${result.page_faults_per_flow} page faults per flow), ${result.flows_per_s_wall} flows/s wall, ${errors} errors`);
console.log(`  RSS peak under load ${result.rss_peak_mib} MiB, ${result.rss_after_load_mib} MiB 3 s after (${after.threads} threads)`);
console.log(`MEMORY_JSON ${JSON.stringify(result)}`);
if (errors) process.exitCode = 1;

/// `--layout`: one request of each common kind, then a clean stop (callgrind writes its profile
/// at exit), then the profile's functions that the binary defines, in the order callgrind met them.
async function layout(t) {
  const form = (body) => ({ method: 'POST', headers: { authorization: auth }, body: new URLSearchParams(body).toString() });
  const requests = [
    { path: new URL(meta.jwks_uri).pathname },
    { path: new URL(meta.userinfo_endpoint).pathname, headers: { authorization: `Bearer ${t.access_token}` } },
    { path: new URL(meta.introspection_endpoint).pathname, ...form({ token: t.access_token }) },
    { path: tokenPath, ...form({ grant_type: 'refresh_token', refresh_token: t.refresh_token }) },
    { path: '/oauth2/default/.well-known/openid-configuration' },
  ];
  for (const r of requests) {
    const res = await send(pool, r);
    if (res.status !== 200) throw new Error(`${r.path} -> ${res.status}: ${res.text.slice(0, 200)}`);
  }
  await pool.close();
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await Promise.race([exited, new Promise((_, fail) => setTimeout(() => fail(new Error('gatehouse did not stop within 60 s')), 60_000))]);
  const defined = new Set(
    execFileSync('nm', ['--defined-only', o.bin], { encoding: 'utf8', maxBuffer: 1 << 28 })
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f.length === 3 && 'tT'.includes(f[1]))
      .map((f) => f[2]),
  );
  const names = new Map();
  const seen = new Set();
  for (const line of readFileSync(callgrindOut, 'utf8').split('\n')) {
    const m = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (!m) continue;
    if (m[2]) names.set(m[1], m[2]);
    const name = names.get(m[1]);
    if (name && defined.has(name)) seen.add(name);
  }
  writeFileSync(o.layout, [...seen].join('\n') + '\n');
  console.log(`${seen.size} functions of ${defined.size} written to ${o.layout}`);
}
