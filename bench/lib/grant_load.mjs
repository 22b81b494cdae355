// Drives the grants that spend something, for bench/profile.sh (`refresh`, `refresh-rotate`,
// `code`): signs in once through the form (the session cookie then gives codes by single
// sign-on, as bench/run.mjs mints them), prepares what the timed phase spends, and runs it.
//
//   node bench/lib/grant_load.mjs MODE ORIGIN CLIENT_ID CLIENT_SECRET LOGIN PASSWORD REDIRECT_URI \
//        [SECONDS CONCURRENCY GO_FILE]
//
// MODE `refresh-token` prints one static refresh token (wrk then repeats one fixed request).
// MODE `rotate`: one refresh-token chain per connection, each request spends its chain's token.
// MODE `code`: mints codes for 2 × SECONDS first (untimed), then exchanges them.
// For `rotate` and `code`, everything untimed is done before the line `READY` is printed; the
// timed phase starts when GO_FILE exists (the caller starts its profiler first). The last line is
// `BENCH_JSON {...}` with the timed phase's counts.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

import { Jar, basicAuth, browse, closedLoop, makePool, send } from './http.mjs';

const [mode, origin, clientId, clientSecret, username, password, redirectUri, secs, conc, goFile] =
  process.argv.slice(2);
const seconds = Number(secs ?? 8);
const concurrency = Number(conc ?? 32);
const pool = makePool(origin, concurrency);
const base = '/oauth2/default/v1';
const auth = basicAuth(clientId, clientSecret);
const authorizePath = () =>
  `${base}/authorize?${new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    scope: 'openid profile email offline_access',
    redirect_uri: redirectUri,
    state: randomBytes(12).toString('base64url'),
    nonce: randomBytes(12).toString('base64url'),
  })}`;

const jar = new Jar();
const first = await browse(pool, { origin, startPath: authorizePath(), redirectUri, jar, username, password });
if (!first.code) throw new Error('no authorization code from the sign-in');

const ssoCode = async () => {
  const res = await send(pool, { path: authorizePath(), jar });
  const location = res.headers.location ?? '';
  const code = location.startsWith(redirectUri) ? new URL(location).searchParams.get('code') : null;
  if (!code) throw new Error(`SSO authorize -> ${res.status} ${location || res.text.slice(0, 200)}`);
  return code;
};
const token = async (form) => {
  const res = await send(pool, { method: 'POST', path: `${base}/token`, headers: { authorization: auth }, body: new URLSearchParams(form).toString() });
  if (res.status !== 200) throw new Error(`token ${form.grant_type} -> ${res.status}: ${res.text.slice(0, 200)}`);
  return JSON.parse(res.text);
};
const exchange = (code) => token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });

const waitForGo = async () => {
  console.log('READY');
  while (!existsSync(goFile)) await new Promise((r) => setTimeout(r, 10));
};

let task;
if (mode === 'refresh-token') {
  const rt = (await exchange(first.code)).refresh_token;
  if (!rt) throw new Error('the code exchange gave no refresh token');
  console.log(rt);
  await pool.close();
  process.exit(0);
} else if (mode === 'rotate') {
  const chains = [(await exchange(first.code)).refresh_token];
  while (chains.length < concurrency) chains.push((await exchange(await ssoCode())).refresh_token);
  if (chains.some((rt) => !rt)) throw new Error('the code exchange gave no refresh token');
  task = async () => {
    const rt = chains.shift();
    const next = (await token({ grant_type: 'refresh_token', refresh_token: rt })).refresh_token;
    if (!next || next === rt) throw new Error('the refresh token did not rotate');
    chains.push(next);
  };
} else if (mode === 'code') {
  const codes = [];
  const mint = await closedLoop({
    concurrency,
    seconds: seconds * 2,
    task: async () => {
      codes.push(await ssoCode());
    },
  });
  if (mint.errors) throw new Error(`minting codes failed: ${mint.firstErrors.join('; ')}`);
  task = async () => {
    const code = codes.pop();
    if (!code) return false;
    await exchange(code);
    return true;
  };
} else {
  throw new Error(`unknown mode ${mode}`);
}
// One untimed request, so the timed phase profiles answers that succeed.
await task();
await waitForGo();
const r = await closedLoop({ concurrency, seconds, task });
console.log(`BENCH_JSON ${JSON.stringify({ requests: r.ok, errors: r.errors, seconds: r.elapsed, rps: r.ok / r.elapsed, p50_us: r.p50_us, p99_us: r.p99_us, exhausted: r.exhausted, firstErrors: r.firstErrors })}`);
await pool.close();
