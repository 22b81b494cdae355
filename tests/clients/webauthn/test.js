// Passkeys on a running gatehouse in headless Chromium, with Chromium's virtual authenticator
// (CDP WebAuthn domain: a CTAP2 platform authenticator with resident keys and user
// verification): sign in with the password, enroll a passkey on the dashboard, sign out, sign
// in with password + passkey, then okta-auth-js 7.x in the same browser signs in through the
// hosted pages (password + passkey) and gets an ID token whose `amr` shows the passkey.
//   GH_URL    gatehouse's base URL (http://localhost:<port>: WebAuthn needs a host name)
//   GH_TOKEN  an SSWS API token
//   GH_LOGIN, GH_PASSWORD   the user
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const ghUrl = process.env.GH_URL;
const token = process.env.GH_TOKEN;
const login = process.env.GH_LOGIN;
const password = process.env.GH_PASSWORD;
const STEP_TIMEOUT = 20000;
const oktaAuthJs = path.join(__dirname, 'node_modules/okta-auth-js-7/dist/okta-auth-js.min.js');

let passed = 0, failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
    return true;
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
    return false;
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

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

// The SPA: okta-auth-js 7.x's browser bundle and a page that signs in with PKCE.
const spaPage = (cfg) => `<!doctype html><html><head><meta charset="utf-8"><title>SPA</title></head><body>
<script src="/okta-auth-js.js"></script>
<script>
(function () {
  var cfg = ${JSON.stringify(cfg)};
  var Ctor = (window.OktaAuth && window.OktaAuth.OktaAuth) || window.OktaAuth;
  window.authClient = new Ctor({
    clientId: cfg.clientId, issuer: cfg.issuer, redirectUri: cfg.spa + '/callback',
    scopes: ['openid', 'profile', 'email'], pkce: true,
    tokenManager: { autoRenew: false, storage: 'localStorage' },
    services: { autoRenew: false, autoRemove: false, syncStorage: false },
  });
  if (authClient.isLoginRedirect()) {
    authClient.token.parseFromUrl().then(function (res) {
      authClient.tokenManager.setTokens(res.tokens);
      window.__state = 'signed-in';
    }, function (e) { window.__state = 'error: ' + (e && (e.errorSummary || e.message)); });
  } else { window.__state = 'ready'; }
})();
</script></body></html>`;

function serve(cfg) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/okta-auth-js.js') {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      fs.createReadStream(oktaAuthJs).pipe(res);
    } else if (url.pathname === '/' || url.pathname === '/callback') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(spaPage(cfg));
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/** Signs in on the hosted page; returns once the factor page or `until` is reached. */
async function password_step(page) {
  await page.waitForSelector('#username');
  await page.fill('#username', login);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
}

/** On the factor page: chooses the passkey, which the virtual authenticator answers. */
async function passkey_step(page, until) {
  const button = await page.waitForSelector('[data-passkey-signin]');
  await Promise.all([page.waitForURL(until, { timeout: STEP_TIMEOUT }), button.click()]);
}

async function main() {
  const user = (await api('GET', `/api/v1/users/${encodeURIComponent(login)}`));
  const groups = await api('GET', '/api/v1/groups?q=Everyone');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  let server;
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
      },
    });

    const enrolled = await check('a passkey is enrolled on the dashboard after re-entering the password', async () => {
      await page.goto(`${ghUrl}/login/login.htm?fromURI=${encodeURIComponent('/enduser/settings/passkeys')}`);
      await password_step(page);
      await page.waitForURL(/\/enduser\/settings\/passkeys/);
      await page.fill('#passkey-name', 'Virtual passkey');
      await page.fill('#passkey-password', 'not-the-password');
      await page.click('#passkey-add');
      await page.waitForSelector('#passkey-error:not([hidden])');
      const refused = await page.textContent('#passkey-error');
      assert(/password/i.test(refused), 'a wrong password was not refused: ' + refused);
      await page.fill('#passkey-password', password);
      await page.click('#passkey-add');
      await page.waitForFunction(() => /added=1/.test(location.search)
        || !document.getElementById('passkey-error').hidden, null, { timeout: STEP_TIMEOUT });
      const problem = await page.evaluate(() => /added=1/.test(location.search) ? null : document.getElementById('passkey-error').textContent);
      assert(problem === null, 'enrollment failed in the page: ' + problem);
      await page.waitForLoadState();
      const listed = await page.textContent('#passkeys');
      assert(listed.includes('Virtual passkey'), 'not listed: ' + listed);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert(credentials.length === 1, 'the authenticator holds ' + credentials.length + ' credentials');
    });
    if (!enrolled) return;

    await check('/api/v1/users/{id}/factors lists it as Okta does (webauthn, FIDO, credentialId)', async () => {
      const factors = await api('GET', `/api/v1/users/${user.id}/factors`);
      const f = factors.find((x) => x.factorType === 'webauthn');
      assert(f, 'no webauthn factor in ' + JSON.stringify(factors));
      assert(f.provider === 'FIDO' && f.status === 'ACTIVE', JSON.stringify(f));
      assert(f.profile && f.profile.credentialId && f.profile.authenticatorName === 'Virtual passkey', JSON.stringify(f.profile));
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      const fromAuthenticator = Buffer.from(credentials[0].credentialId, 'base64').toString('base64url');
      assert(f.profile.credentialId === fromAuthenticator, `${f.profile.credentialId} != ${fromAuthenticator}`);
    });

    await check('sign out, then sign in with the password and the passkey: the session amr has hwk and mfa', async () => {
      await page.goto(`${ghUrl}/login/signout`);
      await page.goto(`${ghUrl}/login/login.htm?fromURI=${encodeURIComponent('/enduser/settings')}`);
      await password_step(page);
      await passkey_step(page, /\/enduser\/settings/);
      // The browser's own cookies (the console's CSP lets no script call the API).
      const res = await context.request.get(`${ghUrl}/api/v1/sessions/me`, { headers: { accept: 'application/json' } });
      const me = await res.json();
      assert(me.amr && me.amr.includes('hwk') && me.amr.includes('mfa') && me.amr.includes('user'), JSON.stringify(me));
    });

    await check('okta-auth-js 7.x signs in with password + passkey: the ID token amr has hwk and mfa', async () => {
      await page.goto(`${ghUrl}/login/signout`);
      const cfg = { clientId: null, issuer: `${ghUrl}/oauth2/default`, spa: null };
      server = await serve(cfg);
      const spa = `http://127.0.0.1:${server.address().port}`;
      cfg.spa = spa;
      const app = await api('POST', '/api/v1/apps', {
        name: 'oidc_client', label: 'Passkey SPA', signOnMode: 'OPENID_CONNECT',
        credentials: { oauthClient: { token_endpoint_auth_method: 'none' } },
        settings: { oauthClient: {
          application_type: 'browser', grant_types: ['authorization_code'], response_types: ['code'],
          redirect_uris: [`${spa}/callback`],
        } },
      });
      await api('PUT', `/api/v1/apps/${app.id}/groups/${groups[0].id}`, {});
      cfg.clientId = app.credentials.oauthClient.client_id;
      await page.goto(`${spa}/`);
      await page.waitForFunction(() => window.__state === 'ready');
      await page.evaluate(() => { authClient.signInWithRedirect({ originalUri: '/' }); });
      await password_step(page);
      await passkey_step(page, /\/callback\?/);
      await page.waitForFunction(() => window.__state && window.__state !== 'ready');
      const s = await page.evaluate(() => window.__state);
      assert(s === 'signed-in', s);
      const idToken = await page.evaluate(async () => (await authClient.tokenManager.getTokens()).idToken.idToken);
      const amr = claims(idToken).amr || [];
      assert(amr.includes('hwk') && amr.includes('mfa') && amr.includes('pwd'), 'amr ' + JSON.stringify(amr));
    });

    await check('the System Log records both passkey verifications (user.authentication.auth_via_mfa, SUCCESS)', async () => {
      const list = await api('GET', `/api/v1/logs?filter=${encodeURIComponent('eventType eq "user.authentication.auth_via_mfa"')}`);
      const ok = list.filter((e) => e.outcome && e.outcome.result === 'SUCCESS');
      assert(ok.length >= 2, 'expected two passkey verifications in the System Log, got ' + JSON.stringify(list.map((e) => e.outcome)));
    });
  } finally {
    await browser.close();
    if (server) server.close();
  }
}

main().then(() => {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}, (e) => {
  console.log('FAIL setup: ' + (e && e.stack || e));
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
