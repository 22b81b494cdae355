// okta-auth-js (7.x and 8.x) served from another site than gatehouse, in headless Chromium:
// over https the SPA's closeSession() (a cross-site DELETE /api/v1/sessions/me with
// credentials) ends the Gatehouse session; over plain http the same call cannot, because the
// session cookie is then SameSite=Lax and the browser leaves it off cross-site requests (the
// negative control that shows why https is required).
//
// gatehouse runs twice: https://127.0.0.1:<port> (built-in TLS, `gatehouse dev-cert`) and
// http://127.0.0.1:<port>. The SPA is served from localhost (a different site from 127.0.0.1):
// https with the same dev certificate, and http. Chromium trusts the dev certificate by its
// public key only (--ignore-certificate-errors-spki-list): every other certificate is still
// checked.
//   GH_TLS_URL, GH_TLS_TOKEN    the https gatehouse and an SSWS token for it
//   GH_HTTP_URL, GH_HTTP_TOKEN  the plain-http gatehouse and an SSWS token for it
//   GH_TLS_CERT, GH_TLS_KEY     the dev certificate and key (the SPA's https server uses them)
//   GH_LOGIN, GH_PASSWORD       the user (present on both servers)
// Node's own requests to the https gatehouse trust the dev CA through NODE_EXTRA_CA_CERTS.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const login = env('GH_LOGIN');
const password = env('GH_PASSWORD');
const certPem = fs.readFileSync(env('GH_TLS_CERT'));
const keyPem = fs.readFileSync(env('GH_TLS_KEY'));
const versions = (process.env.SPA_VERSIONS || '7 8').split(' ').filter(Boolean);
const STEP_TIMEOUT = 20000;

const libs = {
  '7': path.join(__dirname, 'node_modules/okta-auth-js-7/dist/okta-auth-js.min.js'),
  '8': path.join(__dirname, 'node_modules/okta-auth-js-8/dist/okta-auth-js.min.js'),
};

/** One SPA origin talking to one gatehouse: app.js under /v7/default/ and /v8/default/. */
function serveSpa(tls, config) {
  const handler = (req, res) => {
    const url = new URL(req.url, 'http://x');
    const lib = url.pathname.match(/^\/lib\/okta-auth-js-(7|8)\.js$/);
    const app = url.pathname.match(/^\/v(7|8)\/default(\/.*)?$/);
    if (lib) {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      fs.createReadStream(libs[lib[1]]).pipe(res);
    } else if (url.pathname === '/app.js') {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      fs.createReadStream(path.join(__dirname, 'app.js')).pipe(res);
    } else if (app) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`<!doctype html><html><head><meta charset="utf-8"><title>SPA ${app[1]}</title></head><body>
<script src="/lib/okta-auth-js-${app[1]}.js"></script>
<script>window.__GH_CONFIG = ${JSON.stringify(config)};</script>
<script src="/app.js"></script></body></html>`);
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  };
  const server = tls ? https.createServer({ cert: certPem, key: keyPem }, handler) : http.createServer(handler);
  // localhost, not 127.0.0.1: another site than gatehouse's.
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function api(gh, method, p, body) {
  const res = await fetch(gh.url + p, {
    method,
    headers: { authorization: 'SSWS ' + gh.token, accept: 'application/json', 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The SPA app (authorization code + PKCE) and its origin as a trusted origin (CORS, redirect). */
async function setUp(gh, spa) {
  const app = await api(gh, 'POST', '/api/v1/apps', {
    name: 'oidc_client', label: 'Cross-site SPA', signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'none' } },
    settings: { oauthClient: {
      application_type: 'browser', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      redirect_uris: versions.flatMap((v) => [`${spa}/v${v}/default/callback`]),
      post_logout_redirect_uris: versions.map((v) => `${spa}/v${v}/default/signed-out`),
    } },
  });
  const groups = await api(gh, 'GET', '/api/v1/groups?q=Everyone');
  await api(gh, 'PUT', `/api/v1/apps/${app.id}/groups/${groups[0].id}`, {});
  await api(gh, 'POST', '/api/v1/trustedOrigins', {
    name: 'Cross-site SPA', origin: spa, scopes: [{ type: 'CORS' }, { type: 'REDIRECT' }],
  });
  return app.credentials.oauthClient.client_id;
}

/** GET /api/v1/sessions/me from Node with a given session cookie: the server's own answer. */
async function sessionStatus(gh, cookie) {
  const res = await fetch(gh.url + '/api/v1/sessions/me', {
    headers: { cookie: `${cookie.name}=${cookie.value}`, accept: 'application/json' },
  });
  return res.status;
}

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

async function state(page) {
  await page.waitForFunction(() => window.__state !== undefined, null, { timeout: STEP_TIMEOUT });
  return page.evaluate(() => window.__state);
}

/** Signs in by redirect through gatehouse's hosted form; returns the page on the callback. */
async function signIn(context, gh, spa, version) {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.goto(`${spa}/v${version}/default/`);
  assert((await state(page)) === 'ready', 'SPA did not start: ' + (await state(page)));
  await page.evaluate(() => { authClient.signInWithRedirect({ originalUri: '/' }); });
  await page.waitForSelector('#username');
  assert(page.url().startsWith(gh.url), 'not on gatehouse: ' + page.url());
  await page.fill('#username', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/\/callback\?/), page.click('button[type=submit]')]);
  await page.waitForFunction(() => window.__state !== 'ready' && window.__state !== undefined);
  const s = await state(page);
  assert(s === 'signed-in', 'sign-in: ' + s);
  assert(new URL(page.url()).hostname === 'localhost', 'the SPA is not on localhost: ' + page.url());
  return page;
}

/** What the SPA's own calls see: session.exists, GET /api/v1/sessions/me, getWithoutPrompt. */
function probe(page) {
  return page.evaluate(async () => {
    const exists = await authClient.session.exists();
    const me = await fetch(authClient.getIssuerOrigin() + '/api/v1/sessions/me', { credentials: 'include' });
    let silent;
    try {
      const res = await authClient.token.getWithoutPrompt();
      silent = res.tokens && res.tokens.idToken ? 'tokens' : 'no tokens';
    } catch (e) {
      silent = 'error: ' + (e && (e.errorCode || e.name));
    }
    return { exists, me: me.status, silent };
  });
}

async function overHttps(context, gh, spa, version) {
  const label = `https, okta-auth-js ${version}.x (SPA ${spa}, gatehouse ${gh.url})`;
  await context.clearCookies();
  let page;
  try {
    let cookie;
    await check(`${label}: signInWithRedirect; the browser holds __Host-gh_sid, Secure, SameSite=None`, async () => {
      page = await signIn(context, gh, spa, version);
      const jar = await context.cookies(gh.url);
      cookie = jar.find((c) => c.name === '__Host-gh_sid');
      assert(cookie, 'no __Host-gh_sid: ' + JSON.stringify(jar.map((c) => c.name)));
      assert(cookie.secure && cookie.sameSite === 'None' && cookie.httpOnly && cookie.path === '/',
        'cookie attributes: ' + JSON.stringify({ ...cookie, value: undefined }));
      assert(!jar.some((c) => c.name === 'gh_sid' && c.value), 'a gh_sid cookie too');
    });
    if (!page) return;
    await check(`${label}: before closeSession the cross-site session is visible (sessions/me 200, getWithoutPrompt gets tokens)`, async () => {
      const r = await probe(page);
      assert(r.exists === true && r.me === 200 && r.silent === 'tokens', JSON.stringify(r));
    });
    await check(`${label}: closeSession() (cross-site DELETE /api/v1/sessions/me) ends the session`, async () => {
      const closed = await page.evaluate(() => authClient.closeSession());
      assert(closed === true, 'closeSession returned ' + closed);
      const r = await probe(page);
      assert(r.exists === false && r.me === 404 && r.silent === 'error: login_required', JSON.stringify(r));
      // Ended on the server, not only dropped from the browser: the old cookie is refused.
      assert((await sessionStatus(gh, cookie)) === 404, 'the old session cookie still works');
      const jar = await context.cookies(gh.url);
      assert(!jar.some((c) => c.name === '__Host-gh_sid'), 'the cookie was not cleared');
    });
  } finally {
    if (page) await page.close();
  }
}

async function overHttp(context, gh, spa, version) {
  const label = `http (negative control), okta-auth-js ${version}.x (SPA ${spa}, gatehouse ${gh.url})`;
  await context.clearCookies();
  let page;
  try {
    let cookie;
    await check(`${label}: signInWithRedirect; the browser holds gh_sid, SameSite=Lax, not Secure`, async () => {
      page = await signIn(context, gh, spa, version);
      const jar = await context.cookies(gh.url);
      cookie = jar.find((c) => c.name === 'gh_sid');
      assert(cookie, 'no gh_sid: ' + JSON.stringify(jar.map((c) => c.name)));
      assert(!cookie.secure && cookie.sameSite === 'Lax', 'cookie attributes: ' + JSON.stringify({ ...cookie, value: undefined }));
      assert((await sessionStatus(gh, cookie)) === 200, 'the session is not alive on the server');
    });
    if (!page) return;
    await check(`${label}: closeSession() cannot end the session (the Lax cookie stays home)`, async () => {
      const closed = await page.evaluate(() => authClient.closeSession());
      assert(closed === false, 'closeSession returned ' + closed + ' (the cookie went cross-site?)');
      assert((await sessionStatus(gh, cookie)) === 200, 'the session ended');
      assert((await context.cookies(gh.url)).some((c) => c.name === 'gh_sid' && c.value === cookie.value),
        'the cookie left the browser');
    });
  } finally {
    if (page) await page.close();
  }
}

async function main() {
  const tls = { url: env('GH_TLS_URL'), token: env('GH_TLS_TOKEN') };
  const plain = { url: env('GH_HTTP_URL'), token: env('GH_HTTP_TOKEN') };
  const tlsConfig = { ghUrl: tls.url, clientId: null };
  const plainConfig = { ghUrl: plain.url, clientId: null };
  const tlsServer = await serveSpa(true, tlsConfig);
  const plainServer = await serveSpa(false, plainConfig);
  const tlsSpa = `https://localhost:${tlsServer.address().port}`;
  const plainSpa = `http://localhost:${plainServer.address().port}`;
  tlsConfig.clientId = await setUp(tls, tlsSpa);
  plainConfig.clientId = await setUp(plain, plainSpa);
  const spki = new crypto.X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  const pin = crypto.createHash('sha256').update(spki).digest('base64');
  // A profile that allows third-party cookies, the setting cross-site sessions need (Okta's
  // too). A fresh Chromium profile, like an incognito window, blocks them: the cookie then
  // stays home whatever its SameSite, and no cross-site call can see or end the session.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-cross-site-'));
  fs.mkdirSync(path.join(profile, 'Default'));
  fs.writeFileSync(path.join(profile, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0 } }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      `--ignore-certificate-errors-spki-list=${pin}`],
  });
  try {
    for (const v of versions) await overHttps(context, tls, tlsSpa, v);
    for (const v of versions) await overHttp(context, plain, plainSpa, v);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    tlsServer.close();
    plainServer.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((e) => {
  console.log('FAIL setup: ' + (e && e.stack || e));
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
