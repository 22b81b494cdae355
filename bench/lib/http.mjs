// HTTP helpers for the benchmark: an undici pool per server, a cookie jar, a minimal "browser"
// that walks an OpenID Connect sign-in (redirects and one HTML sign-in form) until the client's
// redirect URI, and the closed-loop load generator used for the scenarios whose requests must be
// prepared one by one (code exchange, password sign-in).

import { Pool } from 'undici';

export function makePool(origin, connections) {
  return new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
}

export class Jar {
  constructor() {
    this.cookies = new Map();
  }

  take(headers) {
    let set = headers['set-cookie'];
    if (!set) return;
    if (!Array.isArray(set)) set = [set];
    for (const line of set) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export const basicAuth = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", '#x27': "'", '#x2F': '/', '#47': '/' };
const unescapeHtml = (s) =>
  s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, e) => {
    if (ENTITIES[e] !== undefined) return ENTITIES[e];
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return m;
  });

function attrs(tag) {
  const out = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
    out[m[1].toLowerCase()] = unescapeHtml(m[3] ?? m[4] ?? '');
  }
  return out;
}

/// The first <form> of a page: its action, method and every named input a browser would send
/// with its value.
export function parseForm(html) {
  const form = /<form\b[^>]*>/i.exec(html);
  if (!form) return undefined;
  const a = attrs(form[0]);
  const rest = html.slice(form.index);
  const end = rest.search(/<\/form>/i);
  const body = end >= 0 ? rest.slice(0, end) : rest;
  const fields = {};
  for (const m of body.matchAll(/<input\b[^>]*>/gi)) {
    const i = attrs(m[0]);
    // As a browser: an unticked box or radio button is not sent.
    const box = /^(checkbox|radio)$/i.test(i.type ?? '');
    if (box && !/\schecked[\s>=/]/i.test(m[0])) continue;
    if (i.name) fields[i.name] = i.value ?? (box ? 'on' : '');
  }
  return { action: a.action ?? '', method: (a.method ?? 'get').toUpperCase(), fields };
}

/// One request; the body is read as text. Throws on network errors.
export async function send(pool, { method = 'GET', path, headers = {}, body, jar }) {
  const h = { ...headers };
  if (jar && jar.cookies.size) h.cookie = jar.header();
  if (body !== undefined && !h['content-type']) h['content-type'] = 'application/x-www-form-urlencoded';
  const res = await pool.request({ method, path, headers: h, body });
  const text = await res.body.text();
  if (jar) jar.take(res.headers);
  return { status: res.statusCode, headers: res.headers, text };
}

export class FlowError extends Error {}

const pathOf = (location, base) => {
  const u = new URL(location, base);
  return u.pathname + u.search;
};

/// Walks from `startPath` (an authorize request) through redirects and the sign-in form, filling
/// in username and password, until a redirect to `redirectUri`. Returns the authorization
/// response's query parameters. Every response that is not 2xx/3xx is a FlowError.
export async function browse(pool, { origin, startPath, redirectUri, jar, username, password, maxSteps = 10 }) {
  let req = { method: 'GET', path: startPath };
  for (let step = 0; step < maxSteps; step += 1) {
    const res = await send(pool, { ...req, jar });
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.location;
      if (!location) throw new FlowError(`redirect without Location from ${req.path}`);
      if (location.startsWith(redirectUri)) {
        return Object.fromEntries(new URL(location).searchParams);
      }
      req = { method: 'GET', path: pathOf(location, origin) };
      continue;
    }
    if (res.status !== 200) {
      throw new FlowError(`${req.method} ${req.path.split('?')[0]} -> ${res.status}: ${res.text.slice(0, 200)}`);
    }
    const form = parseForm(res.text);
    if (!form || !('password' in form.fields || /name="password"/.test(res.text))) {
      throw new FlowError(`${req.method} ${req.path.split('?')[0]} -> 200 without a sign-in form`);
    }
    const fields = { ...form.fields, username, password };
    const action = form.action ? pathOf(form.action, new URL(req.path, origin).href) : req.path;
    req = { method: 'POST', path: action, headers: { origin }, body: new URLSearchParams(fields).toString() };
  }
  throw new FlowError(`no redirect to the client after ${maxSteps} steps`);
}

/// Closed loop: `concurrency` workers each run `task()` back to back until `seconds` have passed
/// (or `task` returns false: out of prepared work). Returns counts and latencies (microseconds).
export async function closedLoop({ concurrency, seconds, task }) {
  const latencies = [];
  let ok = 0;
  let errors = 0;
  const firstErrors = [];
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let exhausted = false;
  const worker = async () => {
    while (!exhausted && process.hrtime.bigint() < deadline) {
      const t0 = process.hrtime.bigint();
      try {
        const more = await task();
        if (more === false) {
          exhausted = true;
          break;
        }
        ok += 1;
        latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
      } catch (err) {
        errors += 1;
        if (firstErrors.length < 3) firstErrors.push(String(err?.message || err));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : 0);
  return { ok, errors, elapsed, p50_us: pct(50), p99_us: pct(99), firstErrors, exhausted };
}
