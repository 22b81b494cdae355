#!/usr/bin/env node
// The cost curve (issue 21): how Gatehouse's costs grow with the directory and the System Log.
// Started by `scripts/bench.sh --cost` (which builds gatehouse and the plot's venv).
//
// For each size (users; System Log events) and backend it:
//  1. makes an empty database and starts gatehouse once (migrations, bootstrap), then through
//     Gatehouse itself adds a template user (with the password everyone will share), an API
//     token, a group, an OIDC web app, and signs the template user in once (a grant, a refresh
//     token and System Log events); stops it;
//  2. runs bench/seed/seed.py, which clones those rows into N users, their group memberships,
//     live refresh tokens and the events (batched inserts on SQLite, COPY on PostgreSQL);
//  3. starts gatehouse again (startup time: spawn to discovery answering) with retention off,
//     waits for the startup expiry purge to log its end (its duration is a row), and measures
//     the sign-in flow, refresh, the API queries and paging walks, and a mixed
//     load (the purge's baseline);
//  4. starts it with 90-day retention (the events span 120 days, so a quarter is due): the
//     purge starts at startup; the same mixed load runs until the purge logs its end, and its
//     p99 is compared with the baseline's.
// Writes cost.json and cost.md to --out-dir; bench/seed/plot_cost.py turns the JSON into cost.png.
// `--keep` leaves each run's database and writes kept-<run>.json beside them; `--reuse FILE`
// (one size and backend) skips steps 1 and 2 and measures that kept database again, e.g.
// before and after a change with `--only KEY,…` (it is dropped at the end unless `--keep`).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

import { makePool, basicAuth } from './lib/http.mjs';
import { cleanupAll, cpuPerRequest, cpuReading, keepStores, makeStore, cli, startGatehouse } from './lib/cost_server.mjs';
import { REQUESTS, WALKS, signIn, tokenRequest, REDIRECT_URI, runRequests, runSignIn, runWalk, runMix, mixStats } from './lib/cost_queries.mjs';
import { markdown } from './lib/cost_report.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');

const count = (s) => {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(String(s).trim());
  if (!m) throw new Error(`not a count: ${s}`);
  return Math.round(Number(m[1]) * { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[m[2]]);
};

function parseArgs(argv) {
  const o = {
    smoke: false,
    sizes: ['1k', '100k', '1m'],
    events: null, // default: as many events as users, at least 10k
    tokens: 1_000_000,
    dbs: ['sqlite', 'postgres'],
    duration: 5,
    walkBudget: 30,
    purgeMax: 300,
    gatehouseBin: join(ROOT, 'target/release/gatehouse'),
    outDir: join(ROOT, 'target/bench/cost'),
    pgUrl: 'postgres://postgres@127.0.0.1:5432',
    dbPrefix: `gh_cost_${process.pid}`,
    serverCore: '1',
    python: 'python3',
  };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--smoke') o.smoke = true;
    else if (a === '--cost') continue;
    else if (a === '--sizes') o.sizes = next().split(',').filter(Boolean);
    else if (a === '--events') o.events = next().split(',').filter(Boolean);
    else if (a === '--tokens') o.tokens = count(next());
    else if (a === '--dbs') o.dbs = next().split(',').filter(Boolean);
    else if (a === '--duration') o.duration = Number(next());
    else if (a === '--walk-budget') o.walkBudget = Number(next());
    else if (a === '--gatehouse-bin') o.gatehouseBin = next();
    else if (a === '--out-dir') o.outDir = next();
    else if (a === '--pg-url') o.pgUrl = next();
    else if (a === '--db-prefix') o.dbPrefix = next();
    else if (a === '--server-core') o.serverCore = next();
    else if (a === '--python') o.python = next();
    else if (a === '--keep') o.keep = true;
    else if (a === '--reuse') o.reuse = next();
    else if (a === '--only') o.only = new Set(next().split(',').filter(Boolean));
    else throw new Error(`unknown option ${a}`);
  }
  if (o.smoke) {
    if (!argv.includes('--sizes')) o.sizes = ['1k'];
    if (!argv.includes('--dbs')) o.dbs = ['sqlite'];
    if (!argv.includes('--duration')) o.duration = 1;
    if (!argv.includes('--walk-budget')) o.walkBudget = 3;
    o.purgeMax = 30;
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
mkdirSync(opts.outDir, { recursive: true });
const log = (...a) => console.error('[cost]', ...a);
process.on('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanupAll();
    process.exit(130);
  });
}

// Every request comes from 127.0.0.1: the per-address limits would refuse the load generator.
const ENV = {
  GATEHOUSE_SIGNIN_REQUESTS_PER_MINUTE_PER_IP: '0',
  GATEHOUSE_LOGIN_TRANSACTIONS_PER_MINUTE_PER_IP: '0',
  // The API's budget per token (a counter row written per request, kept: it is part of the
  // cost); 0 would refuse everything.
  GATEHOUSE_API_REQUESTS_PER_MINUTE: '100000000',
  RUST_LOG: 'warn',
};
const TEMPLATE_LOGIN = 'template.user@bench.example.com';
const RETENTION_DAYS = 90;
const EVENT_DAYS = 120;

/// Step 1: the rows every seeded one is cloned from, written by Gatehouse itself.
async function template(store, logFile, password) {
  const bin = opts.gatehouseBin;
  const srv = await startGatehouse({ bin, store, core: opts.serverCore, env: ENV, logFile });
  try {
    cli(bin, store, ['user', 'add', '--login', TEMPLATE_LOGIN, '--first-name', 'Template', '--last-name', 'User', '--password-stdin'], `${password}\n`);
    cli(bin, store, ['user', 'admin', '--user', TEMPLATE_LOGIN]);
    const apiToken = JSON.parse(cli(bin, store, ['token', 'create', '--name', 'cost-bench', '--user', TEMPLATE_LOGIN, '--output', 'json'])).token;
    cli(bin, store, ['group', 'add', '--name', 'Bench template group']);
    const app = JSON.parse(cli(bin, store, ['app', 'create-oidc', '--type', 'web', '--label', 'Cost bench', '--redirect-uri', REDIRECT_URI, '--assign', 'Everyone', '--grant-type', 'authorization_code', '--grant-type', 'refresh_token', '--output', 'json']));
    const t = { origin: srv.origin, pool: makePool(srv.origin, 4), clientId: app.client_id, clientSecret: app.client_secret, apiToken };
    t.basic = basicAuth(t.clientId, t.clientSecret);
    const code = await signIn(t, TEMPLATE_LOGIN, password);
    const tokens = await tokenRequest(t, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    if (!tokens.refresh_token) throw new Error('template sign-in gave no refresh token');
    await t.pool.close();
    return { freshStartupMs: srv.startupMs, ...t, pool: null };
  } finally {
    await srv.stop();
  }
}

function seed(store, t, users, events, tokenSecret, infoFile) {
  // `--token-secret=…` in one argument: a base64url secret may start with '-', which argparse
  // would take for an option.
  const args = [join(HERE, 'seed/seed.py'), '--db', store.seedTarget, '--template-login', TEMPLATE_LOGIN, '--client-id', t.clientId, `--token-secret=${tokenSecret}`, '--users', String(users), '--tokens', String(Math.min(users, opts.tokens)), '--events', String(events), '--event-days', String(EVENT_DAYS), '--info', infoFile];
  const t0 = Date.now();
  const r = spawnSync('python3', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  if (r.status !== 0) throw new Error(`seed.py failed (${r.status ?? r.signal})`);
  const info = JSON.parse(readFileSync(infoFile, 'utf8'));
  info.seconds = (Date.now() - t0) / 1000;
  return info;
}

async function measureAll(t, s) {
  const out = {};
  const d = opts.duration;
  // --only KEY,…: those rows alone (keys of REQUESTS and WALKS, or `signin`), no purge phase.
  const want = (key) => !opts.only || opts.only.has(key);
  // CPU per request (server, and PostgreSQL's backends): on a shared machine the rates and
  // latencies move with the neighbours' load, the CPU a request costs much less.
  const withCpu = async (run) => {
    const a = cpuReading(t.pid, t.store);
    const r = await run();
    return { ...r, ...cpuPerRequest(a, cpuReading(t.pid, t.store), r.ok) };
  };
  if (want('signin')) {
    log('sign-in flow');
    out.signin = await withCpu(() => runSignIn(t, s, { seconds: d, concurrency: 8 }));
  }
  for (const key of Object.keys(REQUESTS).filter(want)) {
    log(key);
    out[key] = await withCpu(() => runRequests(t, s, key, { seconds: d, concurrency: key === 'refresh' ? 16 : 4 }));
  }
  for (const key of Object.keys(WALKS).filter(want)) {
    log(`${key} (walk)`);
    out[key] = await runWalk(t, s, key, opts.walkBudget);
  }
  return out;
}

async function runOne(backend, sizeLabel, eventsLabel, index) {
  const users = count(sizeLabel);
  const events = eventsLabel ? count(eventsLabel) : Math.max(users, 10_000);
  const name = `${backend}-${sizeLabel}`;
  log(`== ${name}: ${users} users, ${events} events`);
  // --reuse FILE: a run kept by --keep (FILE is its kept-*.json): no template, no seeding.
  const kept = opts.reuse ? JSON.parse(readFileSync(opts.reuse, 'utf8')) : null;
  if (kept && kept.backend !== backend) throw new Error(`${opts.reuse} is a ${kept.backend} run`);
  const store = makeStore({ backend, pgUrl: opts.pgUrl, dbName: kept?.dbName ?? `${opts.dbPrefix}_${index}`, existing: kept?.dataDir });
  const logFile = join(opts.outDir, `gatehouse-${name}.log`);
  writeFileSync(logFile, '');
  const password = kept?.password ?? `Cost-${randomBytes(6).toString('hex')}-pw!`;
  const tokenSecret = kept?.tokenSecret ?? randomBytes(16).toString('base64url');
  const run = { backend, users, events, label: name };
  try {
    const tmpl = kept?.template ?? (await template(store, logFile, password));
    run.seed = kept?.seed ?? seed(store, tmpl, users, events, tokenSecret, join(opts.outDir, `seed-${name}.json`));
    if (opts.keep && !kept) {
      // What --reuse needs to query this database again (the API token and secrets included:
      // a local benchmark database's, dropped with it).
      const keptFile = join(opts.outDir, `kept-${name}.json`);
      writeFileSync(keptFile, JSON.stringify({ backend, dataDir: store.dataDir, dbName: store.dbName, password, tokenSecret, template: tmpl, seed: run.seed }));
      log(`kept: rerun with --reuse ${keptFile}`);
    }
    const s = { ...run.seed.samples, event_types: run.seed.event_types };
    const sz = run.seed.sizes;
    run.size = {
      total_bytes: store.sizeBytes(),
      per_user_bytes: (sz.users - sz.base) / users,
      per_refresh_token_bytes: run.seed.tokens ? (sz.tokens - sz.users) / run.seed.tokens : null,
      per_event_bytes: events ? (sz.events - sz.tokens) / events : null,
    };
    const tokens = run.seed.tokens;
    const mk = (srv) => ({ ...tmpl, origin: srv.origin, pool: makePool(srv.origin, 16), password, tokenSecret, tokens, pid: srv.pid, store });

    // 3. retention off: every query, and the mixed load's baseline. The expiry purge starts
    // with the server (as it does every ten minutes); the rows wait for its end, which the
    // server logs, so that they measure requests alone.
    const expiry = { end: null, ms: null, walked: false, failed: null };
    const onStartupLine = (line, at) => {
      if (expiry.end !== null) return;
      const done = /expiry purge pass done.*\bms=(\d+)/.exec(line);
      if (done) {
        expiry.end = at;
        expiry.ms = Number(done[1]);
      }
      if (/walked every grant/.test(line)) expiry.walked = true;
      if (/purging expired records failed/.test(line)) expiry.failed = line;
    };
    let srv = await startGatehouse({ bin: opts.gatehouseBin, store, core: opts.serverCore, env: { ...ENV, RUST_LOG: 'warn,gatehouse::startup=info,gatehouse_store::sql::purge=info', GATEHOUSE_SYSTEM_LOG_RETENTION_DAYS: '0' }, logFile, onLine: onStartupLine });
    run.startup_ms = [srv.startupMs];
    let t = mk(srv);
    try {
      const expiryDeadline = Date.now() + opts.purgeMax * 1000;
      while (expiry.end === null && !expiry.failed) {
        if (Date.now() > expiryDeadline) throw new Error(`the startup expiry purge did not end within ${opts.purgeMax} s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      if (expiry.failed) throw new Error(`the startup expiry purge failed: ${expiry.failed}`);
      run.expiry_purge = { ms: expiry.ms, end_ms_from_spawn: Number(expiry.end - srv.t0) / 1e6, walked_every_grant: expiry.walked };
      log(`startup expiry purge: ${expiry.ms} ms${expiry.walked ? ' (walked every grant)' : ''}, ended ${Math.round(run.expiry_purge.end_ms_from_spawn)} ms after spawn`);
      run.results = await measureAll(t, s);
      if (opts.only) return run;
      log('mixed load, no purge (baseline)');
      const end = Date.now() + opts.duration * 2000;
      const base = await runMix(t, s, { concurrency: 4, until: () => Date.now() > end });
      run.purge = { baseline: mixStats(base.samples), errors: base.errors, first_errors: base.firstErrors };
    } finally {
      await t.pool.close();
      await srv.stop();
    }

    // 4. retention on: the purge starts with the server; the same load runs until it ends.
    let purgeEnd = null;
    let purgeFailed = null;
    const onLine = (line, at) => {
      if (/purged old System Log events/.test(line)) purgeEnd = at;
      if (/purging old System Log events failed/.test(line)) purgeFailed = line;
    };
    srv = await startGatehouse({ bin: opts.gatehouseBin, store, core: opts.serverCore, env: { ...ENV, RUST_LOG: 'warn,gatehouse::startup=info', GATEHOUSE_SYSTEM_LOG_RETENTION_DAYS: String(RETENTION_DAYS) }, logFile, onLine });
    run.startup_ms.push(srv.startupMs);
    t = mk(srv);
    try {
      log('mixed load while the retention purge runs');
      const stopAt = Date.now() + opts.purgeMax * 1000;
      let tail = null;
      const during = await runMix(t, s, {
        concurrency: 4,
        until: () => {
          if (purgeFailed || Date.now() > stopAt) return true;
          // Keep going a moment after the purge so the comparison also sees the recovery.
          if (purgeEnd && tail === null) tail = Date.now() + 1000;
          return tail !== null && Date.now() > tail;
        },
      });
      if (purgeFailed) throw new Error(`purge failed: ${purgeFailed}`);
      if (!purgeEnd) throw new Error(`the purge did not end within ${opts.purgeMax} s`);
      const inPurge = during.samples.filter((x) => x.t0 <= purgeEnd);
      run.purge.during = mixStats(inPurge);
      run.purge.purge_ms_from_spawn = Number(purgeEnd - srv.t0) / 1e6;
      run.purge.errors += during.errors;
      run.purge.first_errors.push(...during.firstErrors);
      const b = run.purge.baseline.p99_ms;
      run.purge.p99_increase = inPurge.length && b ? run.purge.during.p99_ms / b - 1 : null;
    } finally {
      await t.pool.close();
      await srv.stop();
    }
  } catch (err) {
    run.error = String(err?.stack || err);
    log(`${name} FAILED: ${run.error}`);
  } finally {
    // --keep: leave the data directory (and database) for inspection.
    if (opts.keep) keepStores();
    if (opts.keep) log(`kept ${store.dataDir} ${store.dbName ?? ''}`);
    else store.drop();
  }
  return run;
}

function errorsOf(run) {
  const out = [];
  if (run.error) out.push(run.error);
  for (const [k, r] of Object.entries(run.results ?? {})) {
    if (r.errors) out.push(`${k}: ${r.errors} errors (${(r.first_errors ?? []).join(' | ')})`);
    if (r.ok === 0 || r.pages === 0) out.push(`${k}: no request completed`);
  }
  if (run.purge?.errors) out.push(`purge mix: ${run.purge.errors} errors (${run.purge.first_errors.join(' | ')})`);
  return out;
}

const runs = [];
let index = 0;
for (const [i, size] of opts.sizes.entries()) {
  for (const backend of opts.dbs) {
    runs.push(await runOne(backend, size, opts.events?.[i] ?? opts.events?.at(-1), index++));
  }
}
const report = { date: new Date().toISOString(), smoke: opts.smoke, duration_s: opts.duration, walk_budget_s: opts.walkBudget, cpu: execFileSync('nproc', { encoding: 'utf8' }).trim(), runs };
writeFileSync(join(opts.outDir, 'cost.json'), JSON.stringify(report, null, 1));
const md = markdown(report);
writeFileSync(join(opts.outDir, 'cost.md'), md);
console.log(md);
const plot = spawnSync(opts.python, [join(HERE, 'seed/plot_cost.py'), join(opts.outDir, 'cost.json'), join(opts.outDir, 'cost.png')], { stdio: 'inherit' });
const problems = runs.flatMap(errorsOf);
if (plot.status !== 0) problems.push(`plot_cost.py failed (${plot.status ?? plot.error})`);
for (const p of problems) log(`ERROR: ${p}`);
log(`wrote ${opts.outDir}/cost.{json,md,png}`);
process.exit(problems.length ? 1 : 0);
