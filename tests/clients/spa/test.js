// okta-auth-js (7.x, as OpenMetadata pins it, and 8.x) in headless Chromium against a running
// gatehouse: PKCE sign-in through the hosted form, renewal by rotated refresh token, renewal by
// hidden iframe (prompt=none, okta_post_message), userinfo, session check, and sign-out.
//   GH_URL    gatehouse's base URL (http://127.0.0.1:<port>)
//   GH_TOKEN  an SSWS API token (the SPA app is created through /api/v1/apps)
//   GH_PASSWORD, GH_LOGIN   the user that signs in
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const ghUrl = process.env.GH_URL;
const token = process.env.GH_TOKEN;
const login = process.env.GH_LOGIN;
const password = process.env.GH_PASSWORD;
const versions = (process.env.SPA_VERSIONS || '7 8').split(' ').filter(Boolean);
const servers = (process.env.SPA_SERVERS || 'default org').split(' ').filter(Boolean);
const STEP_TIMEOUT = 20000;

// The packages' own browser bundles (UMD, global `OktaAuth`), not in their `exports` map.
const libs = {
  '7': path.join(__dirname, 'node_modules/okta-auth-js-7/dist/okta-auth-js.min.js'),
  '8': path.join(__dirname, 'node_modules/okta-auth-js-8/dist/okta-auth-js.min.js'),
};
const config = { ghUrl, clientId: null };

function page(version) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>SPA ${version}</title></head><body>
<h1>OpenMetadata-style SPA (okta-auth-js ${version}.x)</h1>
<script src="/lib/okta-auth-js-${version}.js"></script>
<script>window.__GH_CONFIG = ${JSON.stringify(config)};</script>
<script src="/app.js"></script></body></html>`;
}

function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const lib = url.pathname.match(/^\/lib\/okta-auth-js-(7|8)\.js$/);
    const app = url.pathname.match(/^\/v(7|8)\/(default|org)(\/.*)?$/);
    if (lib) {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      fs.createReadStream(libs[lib[1]]).pipe(res);
    } else if (url.pathname === '/app.js') {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      fs.createReadStream(path.join(__dirname, 'app.js')).pipe(res);
    } else if (app) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page(app[1]));
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function api(method, p, body) {
  const res = await fetch(ghUrl + p, {
    method,
    headers: { authorization: 'SSWS ' + token, accept: 'application/json', 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The SPA app as seed 003 sets it up: authorization code + refresh token (rotate), PKCE. */
async function createApp(spa) {
  const redirects = [], logouts = [];
  for (const v of ['7', '8']) for (const s of ['default', 'org']) {
    redirects.push(`${spa}/v${v}/${s}/callback`, `${spa}/v${v}/${s}/silent-callback`);
    logouts.push(`${spa}/v${v}/${s}/signed-out`);
  }
  const app = await api('POST', '/api/v1/apps', {
    name: 'oidc_client', label: 'OpenMetadata', signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'none' } },
    settings: { oauthClient: {
      application_type: 'browser', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      redirect_uris: redirects, post_logout_redirect_uris: logouts,
      refresh_token: { rotation_type: 'ROTATE', leeway: 30 },
    } },
  });
  const groups = await api('GET', '/api/v1/groups?q=Everyone');
  await api('PUT', `/api/v1/apps/${app.id}/groups/${groups[0].id}`, {});
  return app;
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

async function scenario(browser, spa, version, server) {
  const label = `okta-auth-js ${version}.x, ${server} server`;
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  const tokens = () => page.evaluate(async () => {
    const t = await authClient.tokenManager.getTokens();
    return {
      access: t.accessToken && t.accessToken.accessToken,
      id: t.idToken && t.idToken.idToken,
      email: t.idToken && t.idToken.claims.email,
      refresh: t.refreshToken && t.refreshToken.refreshToken,
    };
  });
  let signedIn = false;
  try {
    await check(`${label}: signInWithRedirect (PKCE) through the hosted sign-in page`, async () => {
      await page.goto(`${spa}/v${version}/${server}/`);
      assert((await state(page)) === 'ready', 'SPA did not start: ' + (await state(page)));
      await page.evaluate(() => { authClient.signInWithRedirect({ originalUri: '/' }); });
      await page.waitForSelector('#username');
      assert(page.url().startsWith(ghUrl), 'not on gatehouse: ' + page.url());
      const authorize = new URL(page.url());
      await page.fill('#username', login);
      await page.fill('#password', password);
      await Promise.all([page.waitForURL(/\/callback\?/), page.click('button[type=submit]')]);
      void authorize;
      await page.waitForFunction(() => window.__state !== 'ready' && window.__state !== undefined);
      const s = await state(page);
      assert(s === 'signed-in', s + ' ' + consoleLines.slice(-3).join(' / '));
      const t = await tokens();
      assert(t.access && t.id && t.refresh, 'tokens missing: ' + JSON.stringify(Object.keys(t).filter((k) => t[k])));
      assert(t.email, 'no email claim in the ID token');
      signedIn = true;
    });
    if (!signedIn) return;
    await check(`${label}: tokenManager.renew by refresh token rotates it`, async () => {
      const before = await tokens();
      const err = await page.evaluate(() => authClient.tokenManager.renew('accessToken').then(() => null, (e) => String(e && (e.errorSummary || e.message))));
      assert(err === null, 'renew failed: ' + err);
      const after = await tokens();
      assert(after.refresh && after.refresh !== before.refresh, 'the refresh token did not change');
      assert(after.access !== before.access, 'no new access token');
      assert(after.id && after.id !== before.id, 'no new ID token');
      // The rotated-out token, replayed after the leeway, would revoke the family: here just
      // check the new one works again.
      const again = await page.evaluate(() => authClient.tokenManager.renew('accessToken').then(() => null, (e) => String(e && (e.errorSummary || e.message))));
      assert(again === null, 'second renew failed: ' + again);
      assert((await tokens()).refresh !== after.refresh, 'the refresh token did not change twice');
    });
    await check(`${label}: renewal without a refresh token by hidden iframe (prompt=none, okta_post_message)`, async () => {
      const before = await tokens();
      const result = await page.evaluate(async () => {
        authClient.tokenManager.remove('refreshToken');
        const frames = [];
        const seen = new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach((n) => { if (n.tagName === 'IFRAME') frames.push(n.src); })));
        seen.observe(document.body, { childList: true, subtree: true });
        try {
          await authClient.tokenManager.renew('idToken');
          return { frames };
        } catch (e) {
          return { error: String(e && (e.errorSummary || e.message)), frames };
        } finally {
          seen.disconnect();
        }
      });
      assert(!result.error, 'iframe renewal failed: ' + result.error);
      assert(result.frames.some((f) => f.includes('response_mode=okta_post_message') && f.includes('prompt=none')),
        'no hidden prompt=none okta_post_message iframe: ' + JSON.stringify(result.frames));
      const after = await tokens();
      assert(after.id && after.id !== before.id, 'no new ID token');
    });
    await check(`${label}: getUserInfo and session.exists over CORS`, async () => {
      const r = await page.evaluate(async () => {
        const info = await authClient.token.getUserInfo();
        const exists = await authClient.session.exists();
        return { email: info.email, sub: info.sub, exists };
      });
      assert(r.email && r.sub, 'userinfo: ' + JSON.stringify(r));
      assert(r.exists === true, 'the Gatehouse session is not visible: ' + JSON.stringify(r));
    });
    await check(`${label}: signOut revokes the tokens and ends the Gatehouse session`, async () => {
      const before = await tokens();
      await page.evaluate(() => { authClient.signOut(); });
      await page.waitForURL(/\/signed-out/);
      await state(page);
      const r = await page.evaluate(async () => ({ exists: await authClient.session.exists() }));
      assert(r.exists === false, 'the Gatehouse session survived signOut');
      // Sign-in again must show the form (no silent SSO).
      await page.goto(`${spa}/v${version}/${server}/`);
      await state(page);
      await page.evaluate(() => { authClient.signInWithRedirect(); });
      await page.waitForSelector('#username');
      const introspect = await fetch(`${server === 'default' ? ghUrl + '/oauth2/default' : ghUrl + '/oauth2'}/v1/introspect`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: before.access, client_id: config.clientId }),
      }).then((x) => x.json());
      assert(introspect.active === false, 'the access token is still active after signOut: ' + JSON.stringify(introspect));
    });
    await check(`${label}: OpenMetadata's logout (tokenManager.clear, then signOut: DELETE /api/v1/sessions/me)`, async () => {
      // Still on the sign-in form from the previous step: sign in again.
      await page.fill('#username', login);
      await page.fill('#password', password);
      await Promise.all([page.waitForURL(/\/callback\?/), page.click('button[type=submit]')]);
      await page.waitForFunction(() => window.__state !== 'ready' && window.__state !== undefined);
      assert((await state(page)) === 'signed-in', 'second sign-in: ' + (await state(page)));
      assert((await page.evaluate(() => authClient.session.exists())) === true, 'no session after sign-in');
      // customAuthHandler: the tokens are gone, so signOut falls back to closeSession.
      await page.evaluate(() => { authClient.tokenManager.clear(); authClient.signOut(); });
      await page.waitForURL(/\/signed-out/);
      await state(page);
      assert((await page.evaluate(() => authClient.session.exists())) === false, 'the session survived closeSession');
    });
  } finally {
    await context.close();
  }
}

async function main() {
  const server = await serve();
  const spa = `http://127.0.0.1:${server.address().port}`;
  const app = await createApp(spa);
  config.clientId = app.credentials.oauthClient.client_id;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    for (const v of versions) for (const s of servers) await scenario(browser, spa, v, s);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((e) => {
  console.log('FAIL setup: ' + (e && e.stack || e));
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
