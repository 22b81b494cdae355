// The `signin_totp` scenario's pieces: RFC 6238 codes computed here (node:crypto HMAC-SHA1,
// 6 digits, 30 s), a pool of users each with its own enrolled TOTP factor, and a sign-in walk
// that answers the factor page after the password.
//
// Gatehouse accepts a TOTP code once: a step it has accepted (and every older one) is refused
// for that factor afterwards, and it accepts the current step ±1. Each flow therefore takes a
// user whose factor has a step still unused within [now, now + 1] (never now − 1: it could age
// out between our clock read and the server's), reserving it before the flow starts, so that no
// two flows collide and no code is refused as a replay. Activation spends the current step, so
// a user gives one flow (step now + 1) right after enrollment, then one per 30 s; the pool is
// sized from how fast the server creates users (one argon2id hash each, as a sign-in), for the
// scenario's whole run.

import { createHmac, randomBytes } from 'node:crypto';

import { send, parseForm, FlowError } from './http.mjs';

export const STEP_SECONDS = 30;

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/// RFC 4648 base32 (no padding, case and spaces ignored), as Okta's `sharedSecret` comes.
export function fromBase32(s) {
  const clean = s.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of clean) {
    const i = B32.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export const stepAt = (unixSeconds) => Math.floor(unixSeconds / STEP_SECONDS);
export const currentStep = () => stepAt(Date.now() / 1000);

/// The 6-digit code of time step `step` (RFC 4226 §5.3 dynamic truncation).
export function totpCode(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 1_000_000).padStart(6, '0');
}

/// RFC 6238 Appendix B's SHA-1 vectors (8 digits there; the last 6 are what a 6-digit code is).
export function selfTest() {
  const secret = Buffer.from('12345678901234567890');
  for (const [t, want] of [[59, '94287082'], [1111111109, '07081804'], [1234567890, '89005924'], [2000000000, '69279037']]) {
    const got = totpCode(secret, stepAt(t));
    if (got !== want.slice(2)) throw new Error(`TOTP self-test failed at T=${t}: ${got} != ${want.slice(2)}`);
  }
}

/// A management API call that waits out the per-token rate limit (429) instead of failing.
async function api(pool, token, method, path, body) {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const res = await send(pool, {
      method,
      path,
      headers: { authorization: `SSWS ${token}`, accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 429) {
      const reset = Number(res.headers['x-rate-limit-reset']) || 0;
      const waitS = Math.min(61, Math.max(1, reset - Math.floor(Date.now() / 1000) + 1));
      await new Promise((r) => setTimeout(r, waitS * 1000));
      continue;
    }
    return res;
  }
  throw new FlowError(`${method} ${path}: still rate limited after 5 tries`);
}

/// Creates one user with `password` and an ACTIVE TOTP factor. Activation spends one step.
async function enrollUser(pool, token, login, password) {
  const u = await api(pool, token, 'POST', '/api/v1/users?activate=true', {
    profile: { firstName: 'Totp', lastName: 'Bench', email: login, login },
    credentials: { password: { value: password } },
  });
  if (u.status !== 200) throw new Error(`create ${login} -> ${u.status}: ${u.text.slice(0, 200)}`);
  const userId = JSON.parse(u.text).id;
  const f = await api(pool, token, 'POST', `/api/v1/users/${userId}/factors`, { factorType: 'token:software:totp', provider: 'GOOGLE' });
  if (f.status !== 200) throw new Error(`enroll ${login} -> ${f.status}: ${f.text.slice(0, 200)}`);
  const factor = JSON.parse(f.text);
  const secret = fromBase32(factor._embedded.activation.sharedSecret);
  const step = currentStep();
  const a = await api(pool, token, 'POST', `/api/v1/users/${userId}/factors/${factor.id}/lifecycle/activate`, { passCode: totpCode(secret, step) });
  if (a.status !== 200) throw new Error(`activate ${login} -> ${a.status}: ${a.text.slice(0, 200)}`);
  return { login, secret, lastStep: step };
}

/// Users with TOTP factors; `take()` reserves a user and a step no other flow will use.
export class TotpUsers {
  constructor(users) {
    this.users = users;
    this.next = 0;
  }

  /// `{ login, code }`, or `null` when every user has spent both steps it may use now.
  take() {
    const now = currentStep();
    for (let i = 0; i < this.users.length; i += 1) {
      const u = this.users[(this.next + i) % this.users.length];
      const step = Math.max(u.lastStep + 1, now);
      if (step <= now + 1) {
        u.lastStep = step;
        this.next = (this.next + i + 1) % this.users.length;
        return { login: u.login, code: totpCode(u.secret, step) };
      }
    }
    return null;
  }
}

/// Makes enough users for `seconds` of sign-ins: a first batch times the server's user creation
/// (an argon2id hash each, like a sign-in's), which bounds the sign-in rate from above.
export async function makeTotpUsers(pool, { token, password, seconds, concurrency, log, max = 4000 }) {
  selfTest();
  const tag = randomBytes(4).toString('hex');
  const users = [];
  let n = 0;
  const batch = async (count) => {
    const t0 = process.hrtime.bigint();
    const todo = Array.from({ length: count }, () => `totp.${tag}.${(n += 1)}@example.com`);
    const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let login = todo.shift(); login; login = todo.shift()) users.push(await enrollUser(pool, token, login, password));
    });
    await Promise.all(workers);
    return count / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  const first = 2 * concurrency;
  const rate = await batch(first);
  // One flow right after activation (step now + 1), then one per 30 s.
  const flowsPerUser = 1 + Math.floor(seconds / STEP_SECONDS);
  const want = Math.min(max, Math.ceil((1.3 * rate * seconds) / flowsPerUser) + 2 * concurrency);
  if (want > first) await batch(want - first);
  log(`signin_totp: ${users.length} users with a TOTP factor (users created at ${rate.toFixed(1)}/s)`);
  return new TotpUsers(users);
}

const pathOf = (location, base) => {
  const u = new URL(location, base);
  return u.pathname + u.search;
};

/// authorize → sign-in page → POST password → factor page → POST the code → the client's
/// redirect URI. Returns the authorization response's parameters; counts the pages it answered.
export async function browseWithTotp(pool, { origin, startPath, redirectUri, jar, username, password, code, maxSteps = 12 }) {
  let req = { method: 'GET', path: startPath };
  let passwordPosted = false;
  let codePosted = false;
  for (let step = 0; step < maxSteps; step += 1) {
    const res = await send(pool, { ...req, jar });
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.location;
      if (!location) throw new FlowError(`redirect without Location from ${req.path}`);
      if (location.startsWith(redirectUri)) {
        if (!codePosted) throw new FlowError('signed in without the factor step: is the MFA policy applied?');
        return Object.fromEntries(new URL(location).searchParams);
      }
      req = { method: 'GET', path: pathOf(location, origin) };
      continue;
    }
    if (res.status !== 200) throw new FlowError(`${req.method} ${req.path.split('?')[0]} -> ${res.status}: ${res.text.slice(0, 200)}`);
    const form = parseForm(res.text);
    if (!form) throw new FlowError(`${req.method} ${req.path.split('?')[0]} -> 200 without a form`);
    let fields;
    if ('password' in form.fields || /name="password"/.test(res.text)) {
      if (passwordPosted) throw new FlowError('the sign-in form came back after the password');
      passwordPosted = true;
      fields = { ...form.fields, username, password };
    } else if (form.fields.action === 'totp') {
      if (codePosted) throw new FlowError(`the factor page came back after the code: ${/class="error"[^>]*>([^<]*)/.exec(res.text)?.[1] ?? ''}`);
      codePosted = true;
      fields = { ...form.fields, code };
    } else {
      throw new FlowError(`${req.method} ${req.path.split('?')[0]} -> 200: neither the sign-in nor the TOTP form`);
    }
    const action = form.action ? pathOf(form.action, new URL(req.path, origin).href) : req.path;
    req = { method: 'POST', path: action, headers: { origin }, body: new URLSearchParams(fields).toString() };
  }
  throw new FlowError(`no redirect to the client after ${maxSteps} steps`);
}
