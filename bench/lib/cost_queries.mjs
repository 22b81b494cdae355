// The measurements of the cost curve at one size (bench/cost.mjs): the password sign-in flow,
// refresh with a seeded refresh token, the management API's user searches and paging, the
// 300k-member group's pages and the System Log's windows, filters and pages. Every request must
// answer 200 (and a sign-in must end at the client with a code); anything else is an error.

import { randomBytes } from 'node:crypto';

import { send, browse, closedLoop, Jar, FlowError } from './http.mjs';

export const REDIRECT_URI = 'https://client.example.test/cb';
export const SCOPE = 'openid profile email offline_access';

const pick = (a) => a[Math.floor(Math.random() * a.length)];
const q = (o) => new URLSearchParams(o).toString();
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);

/// The path of the `rel="next"` Link, if any.
export function nextLink(headers) {
  let link = headers.link;
  if (!link) return undefined;
  if (Array.isArray(link)) link = link.join(', ');
  for (const part of link.split(/,\s*(?=<)/)) {
    const m = /^<([^>]+)>;\s*rel="?next"?/.exec(part.trim());
    if (m) {
      const u = new URL(m[1]);
      return u.pathname + u.search;
    }
  }
  return undefined;
}

export async function api(t, path) {
  const res = await send(t.pool, { path, headers: { authorization: `SSWS ${t.apiToken}`, accept: 'application/json' } });
  if (res.status !== 200) throw new FlowError(`GET ${path.slice(0, 120)} -> ${res.status}: ${res.text.slice(0, 200)}`);
  return { body: JSON.parse(res.text), next: nextLink(res.headers) };
}

export function authorizePath(t) {
  return `/oauth2/default/v1/authorize?${q({ client_id: t.clientId, response_type: 'code', scope: SCOPE, redirect_uri: REDIRECT_URI, state: randomBytes(12).toString('base64url'), nonce: randomBytes(12).toString('base64url') })}`;
}

export async function signIn(t, username, password) {
  const result = await browse(t.pool, { origin: t.origin, startPath: authorizePath(t), redirectUri: REDIRECT_URI, jar: new Jar(), username, password });
  if (!result.code) throw new FlowError(`authorization response without code: ${JSON.stringify(result)}`);
  return result.code;
}

export async function tokenRequest(t, form) {
  const res = await send(t.pool, { method: 'POST', path: '/oauth2/default/v1/token', headers: { authorization: t.basic }, body: q(form) });
  if (res.status !== 200) throw new FlowError(`token ${form.grant_type} -> ${res.status}: ${res.text.slice(0, 200)}`);
  return JSON.parse(res.text);
}

const iso = (ms) => new Date(ms).toISOString();

/// A random window of `days` days inside the seeded span (since, until).
function window(s, days) {
  const span = s.event_days * 86_400_000;
  const start = s.now_ms - span + Math.floor(Math.random() * Math.max(1, span - days * 86_400_000));
  return { since: iso(start), until: iso(start + days * 86_400_000) };
}

/// Single-request scenarios: key -> (target, seed info) -> one request (a promise).
export const REQUESTS = {
  refresh: (t) => tokenRequest(t, { grant_type: 'refresh_token', refresh_token: `${t.tokenSecret}.${Math.floor(Math.random() * t.tokens)}` }).then((j) => {
    if (!j.access_token) throw new FlowError('refresh without access_token');
  }),
  users_search_email_sw: (t, s) => api(t, `/api/v1/users?${q({ search: `profile.email sw "${pick(s.logins).split('.').slice(0, 2).join('.')}"` })}`),
  users_search_lastname_eq: (t, s) => api(t, `/api/v1/users?${q({ search: `profile.lastName eq "${pick(s.last_names)}"`, limit: 200 })}`),
  users_filter_status_after: (t, s) => api(t, `/api/v1/users?${q({ filter: 'status eq "ACTIVE"', after: pick(s.ids), limit: 200 })}`),
  users_q: (t, s) => api(t, `/api/v1/users?${q({ q: pick(s.last_names).slice(0, 5), limit: 200 })}`),
  users_last_page: (t, s) => api(t, `/api/v1/users?${q({ limit: 200, ...(s.users_last_after ? { after: s.users_last_after } : {}) })}`),
  group_users_last_page: (t, s) => api(t, `/api/v1/groups/${s.groups.Staff}/users?${q({ limit: 1000, ...(s.staff_last_after ? { after: s.staff_last_after } : {}) })}`),
  logs_window: (t, s) => api(t, `/api/v1/logs?${q({ ...window(s, 1), limit: 100 })}`),
  logs_filter: (t, s) => api(t, `/api/v1/logs?${q({ ...window(s, 7), filter: `eventType eq "${pick(s.event_types)}"`, limit: 100 })}`),
  logs_window_desc: (t, s) => api(t, `/api/v1/logs?${q({ ...window(s, 1), sortOrder: 'DESCENDING', limit: 100 })}`),
  // The seeded events target the app, not users: a user's id matches none (a scan's worst case).
  logs_target: (t, s) => api(t, `/api/v1/logs?${q({ ...window(s, 30), filter: `target.id eq "${pick(s.ids)}"`, limit: 100 })}`),
};

/// Walks every page from `first` (following rel="next") until the last or the time budget;
/// returns per-page latencies.
async function walk(t, first, budgetS) {
  const lat = [];
  const deadline = Date.now() + budgetS * 1000;
  let path = first;
  let items = 0;
  let reachedEnd = false;
  while (path && Date.now() < deadline) {
    const t0 = process.hrtime.bigint();
    const { body, next } = await api(t, path);
    lat.push(Number(process.hrtime.bigint() - t0) / 1000);
    items += body.length;
    // Polling feeds (logs without `until`) always have a next link; these walks all have `until`.
    if (!next || body.length === 0) reachedEnd = true;
    path = body.length ? next : undefined;
  }
  return { lat, items, reachedEnd };
}

/// Paging scenarios: key -> first page. Each is walked to its last page (or the budget).
export const WALKS = {
  users_all_pages: () => `/api/v1/users?limit=200`,
  users_lastname_eq_pages: (s) => `/api/v1/users?${q({ search: `profile.lastName eq "${s.last_names[0]}"`, limit: 200 })}`,
  // `q=` answers its first `limit` matches with no next link (as Okta): one page, kept as a check.
  users_q_pages: (s) => `/api/v1/users?${q({ q: s.last_names[0].slice(0, 4), limit: 200 })}`,
  group_users_pages: (s) => `/api/v1/groups/${s.groups.Staff}/users?limit=1000`,
  logs_pages: (s) => `/api/v1/logs?${q({ since: iso(s.now_ms - s.event_days * 86_400_000 - 1000), until: iso(s.now_ms + 1000), filter: `eventType eq "${s.event_types[0]}"`, limit: 1000 })}`,
};

export async function runWalk(t, s, key, budgetS) {
  const t0 = Date.now();
  const r = await walk(t, WALKS[key](s), budgetS);
  const sorted = [...r.lat].sort((a, b) => a - b);
  return { pages: r.lat.length, items: r.items, reached_end: r.reachedEnd, seconds: (Date.now() - t0) / 1000, p50_ms: pct(sorted, 50) / 1000, p99_ms: pct(sorted, 99) / 1000, max_ms: (sorted.at(-1) ?? 0) / 1000, errors: 0 };
}

export async function runRequests(t, s, key, { seconds, concurrency }) {
  const r = await closedLoop({ concurrency, seconds, task: () => REQUESTS[key](t, s) });
  return summarize(r);
}

export async function runSignIn(t, s, { seconds, concurrency }) {
  const r = await closedLoop({ concurrency, seconds, task: () => signIn(t, pick(s.logins), t.password) });
  return summarize(r);
}

function summarize(r) {
  return { ok: r.ok, errors: r.errors, rate: r.ok / r.elapsed, p50_ms: r.p50_us / 1000, p99_ms: r.p99_us / 1000, first_errors: r.firstErrors };
}

/// The purge comparison's mix: each worker cycles through these; per-request start times are
/// kept so requests can be split into "while the purge ran" and "after".
export const MIX = ['refresh', 'users_search_lastname_eq', 'logs_window', 'group_users_last_page', 'users_search_email_sw'];

export async function runMix(t, s, { concurrency, until }) {
  const samples = [];
  let errors = 0;
  const firstErrors = [];
  let k = 0;
  const worker = async () => {
    while (!until()) {
      const key = MIX[k++ % MIX.length];
      const t0 = process.hrtime.bigint();
      try {
        await REQUESTS[key](t, s);
        samples.push({ key, t0, us: Number(process.hrtime.bigint() - t0) / 1000 });
      } catch (err) {
        errors += 1;
        if (firstErrors.length < 3) firstErrors.push(String(err?.message || err));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { samples, errors, firstErrors };
}

export function mixStats(samples) {
  const all = samples.map((x) => x.us).sort((a, b) => a - b);
  const per = {};
  for (const key of MIX) {
    const l = samples.filter((x) => x.key === key).map((x) => x.us).sort((a, b) => a - b);
    per[key] = { n: l.length, p50_ms: pct(l, 50) / 1000, p99_ms: pct(l, 99) / 1000 };
  }
  return { n: all.length, p50_ms: pct(all, 50) / 1000, p99_ms: pct(all, 99) / 1000, per };
}
