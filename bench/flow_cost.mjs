// Counts what one sign-in flow costs the server, `signin` (password) against `signin_totp`
// (password + TOTP), as the benchmark walks them: HTTP requests, SQL statements (reads and
// writes, from sqlx's statement log) and fsyncs (--fsyncs) or server CPU time per flow (the
// CPU includes writing the statement log: compare the two flows, not absolute figures). Not part of the benchmark; a tool to see where a
// flow's extra work is. Run against any gatehouse binary (debug is fine: counts, not timings):
//
//   node bench/flow_cost.mjs --gatehouse-bin target/debug/gatehouse [--flows 5] [--database-url URL] [--fsyncs]
//
// Everything talks to 127.0.0.1; the server and its data directory are removed on exit.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

import { makePool, Jar, browse } from './lib/http.mjs';
import { makeTotpUsers, browseWithTotp } from './lib/totp.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const bin = opt('--gatehouse-bin', 'target/debug/gatehouse');
const flows = Number(opt('--flows', '5'));
const dbUrl = opt('--database-url', '');
const REDIRECT_URI = 'https://client.example.test/cb';
const LOGIN = 'flow.cost@example.com';
const PASSWORD = `Cost-${randomBytes(6).toString('hex')}-pw!`;

const dir = mkdtempSync(join(tmpdir(), 'gh-flow-cost-'));
const logFile = join(dir, 'server.log');
const global = ['--data-dir', dir, ...(dbUrl ? ['--database-url', dbUrl] : [])];
const gh = (...a) => execFileSync(bin, [...global, ...a], { env: { ...process.env, RUST_LOG: 'warn' } }).toString();

const env = {
  ...process.env,
  RUST_LOG: 'info,sqlx::query=debug,tower_http=warn',
  GATEHOUSE_SIGNIN_REQUESTS_PER_MINUTE_PER_IP: '0',
  GATEHOUSE_LOGIN_TRANSACTIONS_PER_MINUTE_PER_IP: '0',
  GATEHOUSE_API_REQUESTS_PER_MINUTE: '1000000',
};
const out = openSync(logFile, 'a');
// With --fsyncs, the server runs under strace to count its fsync/fdatasync calls: on SQLite
// each commit is one (synchronous = FULL), and they are what a flow waits on.
const fsyncLog = join(dir, 'fsync.log');
const traced = args.includes('--fsyncs');
const cmd = traced ? ['strace', ['-f', '-qq', '-e', 'trace=fsync,fdatasync', '-o', fsyncLog, bin, ...global, 'serve', '--bind', '127.0.0.1:0']] : [bin, [...global, 'serve', '--bind', '127.0.0.1:0']];
// Its own process group: strace leaves its tracee running when it is stopped alone.
const server = spawn(cmd[0], cmd[1], { env, stdio: ['ignore', out, out], detached: true });
// The server's CPU time (user + system, ms) from /proc; without strace, `server` is gatehouse.
const cpuMs = () => {
  try {
    const f = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
};
const fsyncs = () => {
  try {
    return readFileSync(fsyncLog, 'utf8').split('\n').filter((l) => /fsync|fdatasync/.test(l)).length;
  } catch {
    return 0;
  }
};
const cleanup = () => {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    server.kill('SIGTERM');
  }
  if (process.env.FLOW_COST_KEEP_LOG) console.log(`\nserver log kept: ${logFile}`);
  else rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let origin;
for (let i = 0; i < 300 && !origin; i += 1) {
  await sleep(100);
  origin = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(readFileSync(logFile, 'utf8'))?.[1];
}
if (!origin) throw new Error(`server did not start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);

gh('auth-server', 'add-scope', '--id', 'default', '--name', 'bench.read');
gh('user', 'add', '--login', LOGIN, '--first-name', 'Flow', '--last-name', 'Cost', '--password', PASSWORD, '--output', 'json');
const mkApp = (label) => {
  const a = JSON.parse(gh('app', 'create-oidc', '--type', 'web', '--label', label, '--redirect-uri', REDIRECT_URI, '--assign', 'Everyone', '--grant-type', 'authorization_code', '--output', 'json'));
  return { id: a.client_id ?? a.clientId, secret: a.client_secret ?? a.clientSecret };
};
const plain = mkApp('Plain');
const mfa = mkApp('MFA');
gh('policy', 'require-mfa', '--app', mfa.id);
const token = JSON.parse(gh('token', 'create', '--name', 'flow-cost', '--output', 'json')).token;
const pool = makePool(origin, 2);
const users = await makeTotpUsers(pool, { token, password: PASSWORD, seconds: 1, concurrency: 1, log: () => {}, max: flows + 2 });

const authorize = (clientId) =>
  `/oauth2/default/v1/authorize?${new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid profile email', redirect_uri: REDIRECT_URI, state: randomBytes(9).toString('base64url'), nonce: randomBytes(9).toString('base64url') })}`;

// Every request of a flow goes through this pool, so it is counted here.
let requests = 0;
const counted = { request: (o) => ((requests += 1), pool.request(o)) };

const exchange = async (app, code) => {
  const auth = `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`;
  const res = await counted.request({ method: 'POST', path: '/oauth2/default/v1/token', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }).toString() });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`token -> ${res.statusCode}: ${text}`);
};

const logLines = () => readFileSync(logFile, 'utf8').split('\n');
async function measure(name, flow) {
  await sleep(300);
  const before = logLines().length;
  const fsyncsBefore = fsyncs();
  const cpuBefore = cpuMs();
  requests = 0;
  for (let i = 0; i < flows; i += 1) await flow();
  await sleep(300);
  // eslint-disable-next-line no-control-regex
  const lines = logLines().slice(before - 1).map((l) => l.replace(/\x1b\[[0-9;]*m/g, '')).filter((l) => /sqlx::query/.test(l));
  const kinds = {};
  for (const l of lines) {
    const sql = /db\.statement="(?:\\n)*\s*([^"]*)/.exec(l)?.[1] ?? /summary="([^"]*)/.exec(l)?.[1] ?? '';
    const verb = (/^\s*([A-Za-z]+)/.exec(sql)?.[1] ?? 'other').toUpperCase();
    const table = /^(?:SELECT|WITH)/i.test(sql) ? /\bFROM\s+([a-z_]+)/i.exec(sql)?.[1] : /^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_]+)/i.exec(sql)?.[1];
    const k = `${verb} ${table ?? ''}`.trim();
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  const per = (n) => +(n / flows).toFixed(2);
  const writes = Object.entries(kinds).filter(([k]) => !/^SELECT/.test(k)).reduce((s, [, n]) => s + n, 0);
  const synced = traced ? `, ${per(fsyncs() - fsyncsBefore)} fsyncs` : `, ${per(cpuMs() - cpuBefore)} ms server CPU`;
  console.log(`\n${name}: ${flows} flows; per flow: ${per(requests)} HTTP requests, ${per(lines.length)} SQL statements (${per(writes)} not SELECT)${synced}`);
  for (const [k, n] of Object.entries(kinds).sort((a, b) => b[1] - a[1])) console.log(`  ${String(per(n)).padStart(6)}  ${k}`);
}

// The benchmark's walks, with the pool wrapped so each request is counted.
await measure('signin', async () => {
  const r = await browse(counted, { origin, startPath: authorize(plain.id), redirectUri: REDIRECT_URI, jar: new Jar(), username: LOGIN, password: PASSWORD });
  await exchange(plain, r.code);
});
await measure('signin_totp', async () => {
  let who = users.take();
  while (!who) {
    await sleep(1000);
    who = users.take();
  }
  const r = await browseWithTotp(counted, { origin, startPath: authorize(mfa.id), redirectUri: REDIRECT_URI, jar: new Jar(), username: who.login, password: PASSWORD, code: who.code });
  await exchange(mfa, r.code);
});
await pool.close();
process.exit(0);
