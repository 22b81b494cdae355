// openid-client 5.x (panva) as the relying party for Gatehouse's implicit, hybrid and form_post
// responses, on the default custom authorization server and the org server; as a service
// app's client: client_credentials, introspection and revocation of that self-contained token;
// and as a device (RFC 8628): deviceAuthorization() and handle.poll() while this script plays
// the user at /activate (code, hosted sign-in, approve or deny).
//   GH_URL    the running gatehouse (http://127.0.0.1:<port>)
//   GH_TOKEN  an SSWS API token (the apps are created through /api/v1/apps)
//   GH_LOGIN, GH_PASSWORD   the user that signs in
// The user signs in over plain HTTP (a cookie jar posting the hosted sign-in form with its CSRF
// token); the fragment or form_post response is handed to openid-client's callbackParams and
// callback, which must accept it, and must reject tampered ones. Prints "N passed, M failed".
'use strict';
const { Issuer, generators, errors } = require('openid-client');

const ghUrl = process.env.GH_URL;
const token = process.env.GH_TOKEN;
const login = process.env.GH_LOGIN;
const password = process.env.GH_PASSWORD;
const REDIRECT = 'http://127.0.0.1:8585/callback';
const STEP_TIMEOUT = 15000;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let passed = 0, failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

async function api(method, path, body) {
  const res = await fetch(ghUrl + path, {
    method,
    headers: { Authorization: `SSWS ${token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(STEP_TIMEOUT),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// Seed 003's SPA (Implicit (hybrid) with the ID token and access token options), and a web app
// with the same options and a client secret.
async function createApps() {
  const everyone = (await api('GET', '/api/v1/groups?q=Everyone'))[0];
  const make = async (label, type, method) => {
    const app = await api('POST', '/api/v1/apps', {
      name: 'oidc_client', label, signOnMode: 'OPENID_CONNECT',
      credentials: { oauthClient: { token_endpoint_auth_method: method } },
      settings: { oauthClient: {
        application_type: type,
        grant_types: ['authorization_code', 'refresh_token', 'implicit'],
        response_types: ['code', 'token', 'id_token'],
        redirect_uris: [REDIRECT],
      } },
    });
    await api('PUT', `/api/v1/apps/${app.id}/groups/${everyone.id}`, {});
    return app.credentials.oauthClient;
  };
  // A service app (client_credentials) and the custom scope it asks the default server for.
  const service = await api('POST', '/api/v1/apps', {
    name: 'oidc_client', label: 'Ingestion Bot', signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'client_secret_basic' } },
    settings: { oauthClient: { application_type: 'service', grant_types: ['client_credentials'], response_types: ['token'] } },
  });
  await api('POST', '/api/v1/authorizationServers/default/scopes', { name: 'ingest.read', description: 'Read for ingestion' });
  // A TV app: public native client with only the device grant (and refresh).
  const device = await api('POST', '/api/v1/apps', {
    name: 'oidc_client', label: 'Living Room TV', signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'none' } },
    settings: { oauthClient: { application_type: 'native', grant_types: [DEVICE_GRANT, 'refresh_token'] } },
  });
  await api('PUT', `/api/v1/apps/${device.id}/groups/${everyone.id}`, {});
  return {
    device: device.credentials.oauthClient,
    spa: await make('OpenMetadata', 'browser', 'none'),
    web: await make('Portal', 'web', 'client_secret_basic'),
    service: service.credentials.oauthClient,
  };
}

// A browser without a browser: cookies kept per name, redirects not followed.
class Jar {
  constructor() { this.cookies = new Map(); }
  header() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
  take(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim(), value = pair.slice(i + 1).trim();
      if (/max-age=0/i.test(c) || value === '') this.cookies.delete(name); else this.cookies.set(name, value);
    }
  }
  async request(url, init = {}) {
    const res = await fetch(url, {
      ...init, redirect: 'manual', signal: AbortSignal.timeout(STEP_TIMEOUT),
      headers: { ...(init.headers || {}), Cookie: this.header() },
    });
    this.take(res);
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }
}

function unescapeHtml(s) {
  return s.replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&#x2f;|&#x2F;|&#47;/g, '/')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
function inputs(html) {
  const out = {};
  for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0]), value = /value="([^"]*)"/.exec(m[0]);
    if (name && value) out[unescapeHtml(name[1])] = unescapeHtml(value[1]);
  }
  return out;
}

// Follows an authorize URL to the client's callback: signs in on the hosted form if asked.
// Returns { kind: 'redirect', url } or { kind: 'form_post', action, body }.
async function authorize(jar, url) {
  let res = await jar.request(url);
  if (res.status === 200 && res.body.includes('name="password"')) {
    const action = unescapeHtml(/<form method="post"[^>]*action="([^"]*)"/.exec(res.body)[1]);
    const fields = inputs(res.body);
    assert(fields.csrf && fields.tx, 'the sign-in form has no CSRF token');
    res = await jar.request(new URL(action, url).toString(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ tx: fields.tx, csrf: fields.csrf, username: login, password }).toString(),
    });
  }
  if (res.status === 302) return { kind: 'redirect', url: res.location };
  if (res.status === 200 && res.body.includes('id="response"')) {
    const action = unescapeHtml(/<form method="post" action="([^"]*)"/.exec(res.body)[1]);
    return { kind: 'form_post', action, body: new URLSearchParams(inputs(res.body)).toString() };
  }
  throw new Error(`unexpected answer ${res.status}: ${res.body.slice(0, 300)}`);
}

// What the client's callback page would hand to the server side: the fragment's parameters
// (a page script posts them), or the form_post body, as openid-client's callbackParams reads.
function callbackParams(client, answer) {
  if (answer.kind === 'form_post') {
    assert(answer.action === REDIRECT, `form_post to ${answer.action}`);
    return client.callbackParams({ method: 'POST', url: '/callback', body: answer.body });
  }
  const url = new URL(answer.url);
  assert(url.search === '', `parameters in the query: ${answer.url}`);
  assert(`${url.origin}${url.pathname}` === REDIRECT, `redirected to ${answer.url}`);
  return client.callbackParams(`${REDIRECT}?${url.hash.slice(1)}`);
}

// The user at /activate: enters the code (CSRF cookie + field), signs in on the hosted form
// when there is no session yet, and answers `decision` ('approve' or 'deny').
async function activate(jar, userCode, decision) {
  const url = `${ghUrl}/activate`;
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  let res = await jar.request(url);
  let fields = inputs(res.body);
  assert(res.status === 200 && fields.csrf, `no /activate form: ${res.status}`);
  res = await jar.request(url, { method: 'POST', headers: form, body: new URLSearchParams({ csrf: fields.csrf, user_code: userCode }).toString() });
  if (res.status === 303) {
    const page = await jar.request(new URL(res.location, ghUrl).toString());
    const signIn = inputs(page.body);
    assert(signIn.csrf && signIn.fromURI, `no sign-in form: ${page.status}`);
    res = await jar.request(`${ghUrl}/login/login.htm`, {
      method: 'POST', headers: form,
      body: new URLSearchParams({ fromURI: signIn.fromURI, csrf: signIn.csrf, username: login, password }).toString(),
    });
    assert(res.status === 303 && res.location.startsWith('/activate?user_code='), `sign-in answered ${res.status} ${res.location}`);
    res = await jar.request(new URL(res.location, ghUrl).toString());
  }
  assert(res.status === 200 && res.body.includes('activate-approve'), `no confirmation page: ${res.status} ${res.body.slice(0, 200)}`);
  assert(res.body.includes('Living Room TV'), 'the confirmation does not name the app');
  fields = inputs(res.body);
  res = await jar.request(url, { method: 'POST', headers: form, body: new URLSearchParams({ csrf: fields.csrf, user_code: fields.user_code, decision }).toString() });
  assert(res.status === 200, `the ${decision} answer got ${res.status}`);
}

function flip(s) {
  const i = Math.floor(s.length / 2);
  return s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
}
function tamperJwtPayload(jwt) {
  const [h, p, s] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  claims.sub = 'someone-else';
  return [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
}

async function expectRejected(what, promise, pattern) {
  try {
    await promise;
  } catch (e) {
    assert(e instanceof errors.RPError || e instanceof errors.OPError || e instanceof TypeError,
      `${what}: unexpected error type ${e && e.name}: ${e && e.message}`);
    if (pattern) assert(pattern.test(e.message), `${what}: rejected, but for: ${e.message}`);
    return;
  }
  throw new Error(`${what}: openid-client accepted a tampered response`);
}

async function run() {
  const apps = await createApps();
  const servers = [
    { name: 'default', issuer: `${ghUrl}/oauth2/default` },
    { name: 'org', issuer: ghUrl },
  ];
  for (const server of servers) {
    let issuer, spa, web;
    await check(`${server.name}: Issuer.discover lists implicit, hybrid and form_post`, async () => {
      issuer = await Issuer.discover(server.issuer);
      const m = issuer.metadata;
      assert(m.issuer === server.issuer, `issuer ${m.issuer}`);
      for (const t of ['id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token']) {
        assert(m.response_types_supported.includes(t), `response type ${t} not listed`);
      }
      assert(m.response_modes_supported.includes('form_post') && m.response_modes_supported.includes('fragment'), 'modes');
      assert(m.grant_types_supported.includes('implicit'), 'implicit grant not listed');
      assert(m.request_parameter_supported === true && m.request_uri_parameter_supported === true
        && m.require_request_uri_registration === true, 'request objects');
      assert(m.request_object_signing_alg_values_supported.includes('RS256')
        && m.request_object_signing_alg_values_supported.includes('none'), 'request object algorithms');
      spa = new issuer.Client({ client_id: apps.spa.client_id, token_endpoint_auth_method: 'none', redirect_uris: [REDIRECT] });
      web = new issuer.Client({
        client_id: apps.web.client_id, client_secret: apps.web.client_secret,
        token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [REDIRECT],
      });
    });
    if (!issuer) continue;
    const jar = new Jar();

    // One flow: authorize, capture, validate with openid-client. Returns what it needs to tamper.
    const flow = async (client, responseType, mode, extra = {}) => {
      const checks = { response_type: responseType, state: generators.state(), nonce: generators.nonce() };
      const params = { scope: 'openid profile email', response_type: responseType, state: checks.state, nonce: checks.nonce, ...extra };
      if (mode) params.response_mode = mode;
      if (responseType.split(' ').includes('code')) {
        checks.code_verifier = generators.codeVerifier();
        params.code_challenge = generators.codeChallenge(checks.code_verifier);
        params.code_challenge_method = 'S256';
      }
      const answer = await authorize(jar, client.authorizationUrl(params));
      if (mode === 'form_post') assert(answer.kind === 'form_post', `expected a form_post page, got ${answer.kind}`);
      else assert(answer.kind === 'redirect' && answer.url.includes('#'), `expected a fragment redirect: ${answer.url}`);
      const got = callbackParams(client, answer);
      return { checks, got };
    };

    for (const [label, client, responseType, mode] of [
      ['implicit id_token (fragment)', 'spa', 'id_token', undefined],
      ['implicit id_token token (fragment)', 'spa', 'id_token token', undefined],
      ['hybrid code id_token (fragment, PKCE)', 'spa', 'code id_token', undefined],
      ['hybrid code id_token token (fragment, PKCE)', 'spa', 'code id_token token', undefined],
      ['implicit id_token token (form_post)', 'spa', 'id_token token', 'form_post'],
      ['hybrid code id_token (form_post, client_secret_basic)', 'web', 'code id_token', 'form_post'],
      ['hybrid code id_token token (form_post, client_secret_basic)', 'web', 'code id_token token', 'form_post'],
    ]) {
      await check(`${server.name}: ${label} accepted by client.callback`, async () => {
        const c = client === 'spa' ? spa : web;
        const { checks, got } = await flow(c, responseType, mode);
        const tokenSet = await c.callback(REDIRECT, got, checks);
        const claims = tokenSet.claims();
        assert(claims.aud === c.client_id && claims.iss === server.issuer, `aud ${claims.aud}, iss ${claims.iss}`);
        assert(claims.nonce === checks.nonce, `nonce ${claims.nonce}`);
        const parts = responseType.split(' ');
        if (parts.includes('token') || parts.includes('code')) {
          assert(tokenSet.access_token, 'no access token in the token set');
          const info = await c.userinfo(tokenSet);
          assert(info.sub === claims.sub, `userinfo sub ${info.sub}`);
        }
        if (got.id_token) {
          const [, p] = got.id_token.split('.');
          const front = JSON.parse(Buffer.from(p, 'base64url'));
          if (got.access_token) assert(front.at_hash, 'no at_hash');
          if (got.code) assert(front.c_hash, 'no c_hash');
        }
      });
    }

    await check(`${server.name}: tampered implicit and hybrid responses rejected`, async () => {
      let r = await flow(spa, 'id_token token', undefined);
      await expectRejected('forged id_token signature', spa.callback(REDIRECT, { ...r.got, id_token: tamperJwtPayload(r.got.id_token) }, r.checks), /signature|JWS/i);
      await expectRejected('swapped access_token (at_hash)', spa.callback(REDIRECT, { ...r.got, access_token: flip(r.got.access_token) }, r.checks), /at_hash/);
      await expectRejected('wrong nonce', spa.callback(REDIRECT, r.got, { ...r.checks, nonce: 'other' }), /nonce/);
      await expectRejected('wrong state', spa.callback(REDIRECT, r.got, { ...r.checks, state: 'other' }), /state/);
      await expectRejected('missing access_token for id_token token', spa.callback(REDIRECT, { ...r.got, access_token: undefined }, r.checks), /access_token/);
      // The genuine response still passes.
      await spa.callback(REDIRECT, r.got, r.checks);

      r = await flow(spa, 'code id_token', undefined);
      await expectRejected('swapped code (c_hash)', spa.callback(REDIRECT, { ...r.got, code: flip(r.got.code) }, r.checks), /c_hash/);
      r = await flow(web, 'code id_token', 'form_post');
      await expectRejected('form_post: swapped code (c_hash)', web.callback(REDIRECT, { ...r.got, code: flip(r.got.code) }, r.checks), /c_hash/);
      await expectRejected('form_post: wrong issuer', web.callback(REDIRECT, { ...r.got, iss: 'https://evil.example.com' }, r.checks), /iss/);
    });

    await check(`${server.name}: a request object made by client.requestObject() decides the request`, async () => {
      // Unsigned (alg none), as openid-client makes them for a client without keys; its
      // parameters win over the query's, so the query's state is not the one answered.
      const c = new issuer.Client({
        client_id: apps.spa.client_id, token_endpoint_auth_method: 'none', redirect_uris: [REDIRECT],
        request_object_signing_alg: 'none',
      });
      const checks = { response_type: 'id_token', state: generators.state(), nonce: generators.nonce() };
      const request = await c.requestObject({
        scope: 'openid profile', response_type: 'id_token', redirect_uri: REDIRECT,
        state: checks.state, nonce: checks.nonce,
      });
      const answer = await authorize(jar, c.authorizationUrl({ request, response_type: 'id_token', state: 'from-the-query' }));
      assert(answer.kind === 'redirect' && answer.url.includes('#'), `expected a fragment redirect: ${answer.url}`);
      const got = callbackParams(c, answer);
      assert(got.state === checks.state, `state ${got.state}`);
      const tokenSet = await c.callback(REDIRECT, got, checks);
      assert(tokenSet.claims().nonce === checks.nonce, 'nonce');
      // A tampered object (another client's id inside) is refused at the client's redirect URI.
      const forged = await c.requestObject({ client_id: apps.web.client_id, response_type: 'id_token', nonce: checks.nonce, state: checks.state });
      const refused = callbackParams(c, await authorize(jar, c.authorizationUrl({ request: forged, response_type: 'id_token' })));
      assert(refused.error === 'invalid_request_object', `error ${refused.error}`);
    });

    if (server.name === 'org') {
      await check('org: client.deviceAuthorization(), the user approves at /activate, handle.poll() gets tokens', async () => {
        assert(issuer.metadata.device_authorization_endpoint === `${ghUrl}/oauth2/v1/device/authorize`, 'no device_authorization_endpoint');
        assert(issuer.metadata.grant_types_supported.includes(DEVICE_GRANT), 'device grant not listed');
        const tv = new issuer.Client({ client_id: apps.device.client_id, token_endpoint_auth_method: 'none' });
        const handle = await tv.deviceAuthorization({ scope: 'openid profile offline_access' });
        assert(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/.test(handle.user_code), `user code ${handle.user_code}`);
        assert(handle.verification_uri === `${ghUrl}/activate`, `verification_uri ${handle.verification_uri}`);
        assert(handle.verification_uri_complete === `${ghUrl}/activate?user_code=${handle.user_code}`, 'verification_uri_complete');
        assert(handle.expires_in > 590 && handle.expires_in <= 600, `expires_in ${handle.expires_in}`);
        // Before the user answers, one poll by hand: authorization_pending.
        await expectRejected('poll before approval', tv.grant({ grant_type: DEVICE_GRANT, device_code: handle.device_code }), /authorization_pending/);
        await activate(new Jar(), handle.user_code, 'approve');
        const tokenSet = await handle.poll();
        assert(tokenSet.access_token && tokenSet.id_token && tokenSet.refresh_token, `token set ${JSON.stringify(Object.keys(tokenSet))}`);
        const claims = tokenSet.claims();
        assert(claims.aud === apps.device.client_id && claims.iss === ghUrl, `aud ${claims.aud}, iss ${claims.iss}`);
        const info = await tv.userinfo(tokenSet);
        assert(info.sub === claims.sub, `userinfo sub ${info.sub}`);
        const refreshed = await tv.refresh(tokenSet.refresh_token);
        assert(refreshed.access_token, 'the refresh token did not work');
        // Redeemed once.
        await expectRejected('a second redemption', tv.grant({ grant_type: DEVICE_GRANT, device_code: handle.device_code }), /invalid_grant/);
      });

      await check('org: the user denies at /activate, handle.poll() rejects with access_denied', async () => {
        const tv = new issuer.Client({ client_id: apps.device.client_id, token_endpoint_auth_method: 'none' });
        const handle = await tv.deviceAuthorization({ scope: 'openid' });
        await activate(new Jar(), handle.user_code, 'deny');
        await expectRejected('a denied device', handle.poll(), /access_denied/);
      });
    }

    if (server.name === 'default') {
      await check('default: client.grant(client_credentials), then client.revoke: introspection turns inactive', async () => {
        const svc = new issuer.Client({
          client_id: apps.service.client_id, client_secret: apps.service.client_secret,
          token_endpoint_auth_method: 'client_secret_basic',
        });
        const tokenSet = await svc.grant({ grant_type: 'client_credentials', scope: 'ingest.read' });
        assert(tokenSet.access_token && tokenSet.token_type === 'Bearer' && !tokenSet.refresh_token && !tokenSet.id_token,
          `token set ${JSON.stringify(Object.keys(tokenSet))}`);
        assert(tokenSet.scope === 'ingest.read', `scope ${tokenSet.scope}`);
        const live = await svc.introspect(tokenSet.access_token, 'access_token');
        assert(live.active === true && live.client_id === apps.service.client_id && live.scope === 'ingest.read',
          `introspection before revoking: ${JSON.stringify(live)}`);
        await svc.revoke(tokenSet.access_token, 'access_token');
        const dead = await svc.introspect(tokenSet.access_token, 'access_token');
        assert(dead.active === false, `introspection after revoking: ${JSON.stringify(dead)}`);
        // Revoking again is still a success (RFC 7009 §2.2), and another token stays live.
        await svc.revoke(tokenSet.access_token, 'access_token');
        const other = await svc.grant({ grant_type: 'client_credentials', scope: 'ingest.read' });
        assert((await svc.introspect(other.access_token)).active === true, 'a second token was revoked too');
        // Another client can neither see nor revoke it.
        assert((await web.introspect(other.access_token)).active === false, 'another client saw the token as active');
        await web.revoke(other.access_token).catch(() => {});
        assert((await svc.introspect(other.access_token)).active === true, 'another client revoked the token');
      });
    }

    await check(`${server.name}: a request without nonce is refused by the server and surfaced by openid-client`, async () => {
      const state = generators.state();
      const answer = await authorize(jar, spa.authorizationUrl({ scope: 'openid', response_type: 'id_token', state }));
      const got = callbackParams(spa, answer);
      await expectRejected('no nonce', spa.callback(REDIRECT, got, { response_type: 'id_token', state }), /invalid_request|nonce/);
      assert(got.error === 'invalid_request', `error ${got.error}`);
    });
  }
}

const deadline = setTimeout(() => { console.log('FAIL the run timed out'); failed++; done(); }, 50000);
function done() {
  clearTimeout(deadline);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
run().catch((e) => { failed++; console.log(`FAIL ${e && e.stack}`); }).finally(done);
