// Seed 003 (Collate / OpenMetadata: Okta SSO) followed in Gatehouse's admin console by a new
// administrator, in headless Debian Chromium (playwright-core): create the Single-Page
// Application (Authorization Code, Refresh Token rotated after every use, Implicit (hybrid) with
// ID and access tokens, /callback and /silent-callback), add an authorization server whose
// Audience is the SPA's Client ID read off the console, switch its issuer from Dynamic to Okta
// URL, add a default scope, an access policy assigned to the SPA with a rule, and use Token
// Preview. Then the SPA, with @okta/okta-auth-js 7.x (the version OpenMetadata pins; the bundle
// from tests/clients/spa/node_modules), signs in against that server's issuer with PKCE through
// the hosted sign-in page, and the access token's aud, iss and scp are checked.
//   GH_URL                             gatehouse's base URL
//   GH_ADMIN_LOGIN, GH_ADMIN_PASSWORD  the first-start administrator (from `gatehouse serve`)
//   SHOTS                              where screenshots go (default: ./screenshots/seed003)
//   SPA_PORT                           the SPA's loopback port (default 8585, as in the seed;
//                                      any free port if it is taken)
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');

const ghUrl = process.env.GH_URL;
const adminLogin = process.env.GH_ADMIN_LOGIN;
const adminPassword = process.env.GH_ADMIN_PASSWORD;
const shots = process.env.SHOTS || path.join(__dirname, 'screenshots', 'seed003');
const oktaAuthBundle = path.join(__dirname, '../spa/node_modules/okta-auth-js-7/dist/okta-auth-js.min.js');
const STEP_TIMEOUT = 15000;
const SCOPE = 'openmetadata';

let passed = 0;
let failed = 0;
function check(ok, what, detail) {
  if (ok) {
    passed += 1;
    console.log(`ok   ${what}`);
  } else {
    failed += 1;
    console.log(`FAIL ${what}${detail === undefined ? '' : `: ${detail}`}`);
  }
  return ok;
}

async function shot(page, name) {
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

function claimsOf(jwt) {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
  } catch (e) {
    return {};
  }
}

// The SPA: OpenMetadata's okta-auth-js setup (issuer, client ID, /callback, PKCE), on a
// loopback port of this test. The client ID and issuer are those read off the console.
const spaConfig = { issuer: null, clientId: null };
function spaPage() {
  return `<!doctype html><html><head><meta charset="utf-8"><title>OpenMetadata (SPA)</title></head><body>
<h1>OpenMetadata-style SPA</h1><pre id="out">starting</pre>
<script src="/okta-auth-js.js"></script>
<script>
(function () {
  var cfg = ${JSON.stringify(spaConfig)};
  var out = document.getElementById('out');
  window.authClient = new OktaAuth({
    issuer: cfg.issuer, clientId: cfg.clientId,
    redirectUri: location.origin + '/callback',
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    pkce: true,
    tokenManager: { autoRenew: false, storage: 'localStorage', syncStorage: false },
    services: { autoRenew: false, autoRemove: false, syncStorage: false },
  });
  if (authClient.isLoginRedirect()) {
    authClient.token.parseFromUrl().then(function (res) {
      authClient.tokenManager.setTokens(res.tokens);
      out.textContent = JSON.stringify({ access_token: res.tokens.accessToken.claims, id_token: res.tokens.idToken.claims }, null, 2);
      window.__state = 'signed-in';
    }, function (e) {
      out.textContent = 'error: ' + (e && (e.errorCode || e.name)) + ' ' + (e && (e.errorSummary || e.message));
      window.__state = out.textContent;
    });
  } else {
    out.textContent = 'ready';
    window.__state = 'ready';
  }
})();
</script></body></html>`;
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function serveSpa() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/okta-auth-js.js') {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      fs.createReadStream(oktaAuthBundle).pipe(res);
    } else if (['/', '/callback', '/silent-callback', '/logout'].includes(url.pathname)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(spaPage());
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  const wanted = Number(process.env.SPA_PORT || 8585);
  let port;
  try {
    port = await listen(server, wanted);
  } catch (e) {
    port = await listen(server, 0);
  }
  return { server, spa: `http://localhost:${port}` };
}

async function nav(page, name) {
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name, exact: true }).click();
}

async function serverTab(page, name) {
  await page.getByRole('navigation', { name: 'Authorization server' }).getByRole('link', { name, exact: true }).click();
}

async function signIn(page) {
  await page.goto(`${ghUrl}/admin`);
  await page.getByLabel('Username').fill(adminLogin);
  await page.getByLabel('Password').fill(adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/admin\/dashboard$/);
}

// Steps 2, 3 and 8: the SPA app integration, its Client ID, User consent off.
async function createSpa(page, spa) {
  await nav(page, 'Applications');
  await page.getByRole('link', { name: 'Create App Integration' }).click();
  await page.getByLabel('OIDC - OpenID Connect').check();
  await page.getByLabel('Single-Page Application').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: /^New .* App Integration$/ }).waitFor();
  await page.getByLabel('App integration name').fill('OpenMetadata');
  await page.getByLabel('Authorization Code').check();
  await page.getByLabel('Refresh Token', { exact: true }).check();
  await page.getByLabel('Rotate token after every use').check();
  await page.getByLabel('Implicit (hybrid)').check();
  await page.getByLabel('Allow ID Token with implicit grant type').check();
  await page.getByLabel('Allow Access Token with implicit grant type').check();
  await page.getByLabel('Sign-in redirect URIs').fill(`${spa}/callback\n${spa}/silent-callback`);
  await page.getByLabel('Sign-out redirect URIs (Optional)').fill(`${spa}/logout`);
  await page.getByLabel('Allow everyone in your organization to access').check();
  await shot(page, '003-01-spa-general-settings');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'OpenMetadata' }).waitFor();
  check(/app integration was created/.test(await page.getByRole('status').first().textContent()), 'Save: the SPA app integration was created');
  check(!(await page.getByLabel('Require consent').isChecked()), 'User consent is off for the SPA (Require consent unticked)');
  await page.getByRole('tab', { name: 'Client Credentials' }).click();
  const clientId = await page.locator('#client-id').inputValue();
  check(clientId.length > 0, 'the Client ID is read off the Client Credentials tab', clientId);
  await shot(page, '003-02-spa-client-id');
  return clientId;
}

// Steps 4 and 5: Security > API > Add Authorization Server (Audience = Client ID), then the
// issuer from Dynamic to Okta URL.
async function addServer(page, clientId) {
  await nav(page, 'API');
  await page.getByRole('link', { name: 'Add Authorization Server' }).click();
  // Saving without an audience shows the error next to the field.
  await page.getByLabel('Name').fill('OpenMetadata');
  await page.getByRole('button', { name: 'Save' }).click();
  const audienceError = await page.locator('#as_audience-error').textContent().catch(() => '');
  check(/audience/i.test(audienceError) && (await page.getByLabel('Audience').getAttribute('aria-invalid')) === 'true',
    'Add Authorization Server without an Audience shows the error next to the field', audienceError);
  await page.getByLabel('Audience').fill(clientId);
  await page.getByLabel('Description').fill('Authorization server for OpenMetadata');
  await shot(page, '003-03-add-authorization-server');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'The authorization server was created.' }).waitFor();
  const issuer = await page.locator('#issuer').inputValue();
  const serverId = issuer.split('/oauth2/')[1];
  check(issuer.startsWith(`${ghUrl}/oauth2/aus`) && (await page.locator('#server-audience').textContent()) === clientId,
    'the new server shows its Issuer URL and the SPA Client ID as Audience', issuer);
  check((await page.getByLabel('Issuer', { exact: true }).inputValue()) === 'DYNAMIC', 'the issuer shows up as Dynamic by default');
  await page.getByLabel('Issuer', { exact: true }).selectOption('ORG_URL');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'The changes were saved.' }).waitFor();
  check((await page.getByLabel('Issuer', { exact: true }).inputValue()) === 'ORG_URL', 'Issuer changed to Okta URL and saved');
  await shot(page, '003-04-issuer-okta-url');
  return { issuer, serverId };
}

// Step 6: Scopes > Add Scope > Set as a default scope.
async function addScope(page) {
  await serverTab(page, 'Scopes');
  await page.getByRole('link', { name: 'Add Scope' }).click();
  await page.getByLabel('Name').fill(SCOPE);
  await page.getByLabel('Display phrase').fill('Use OpenMetadata');
  await page.getByLabel('Description').fill('Access to the OpenMetadata APIs');
  await page.getByLabel('Set as a default scope').check();
  check(await page.getByLabel('Include in public metadata').isChecked(), 'a new scope is included in public metadata by default');
  await shot(page, '003-05-add-scope');
  await page.getByRole('button', { name: 'Create' }).click();
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: SCOPE, exact: true }) });
  await row.waitFor();
  check((await row.textContent()).includes('Yes'), `the ${SCOPE} scope is listed as a default scope`);
}

// Step 7: Access Policies > Add New Access Policy (assigned to the SPA) > Add Rule.
async function addPolicy(page, clientId) {
  await serverTab(page, 'Access Policies');
  await page.getByRole('link', { name: 'Add New Access Policy' }).click();
  await page.getByLabel('Name').fill('OpenMetadata policy');
  await page.getByLabel('Description').fill('Who may sign in to OpenMetadata');
  await page.getByLabel('The following clients:').check();
  await page.getByLabel('Clients', { exact: true }).selectOption(clientId);
  await shot(page, '003-06-add-access-policy');
  await page.getByRole('button', { name: 'Create Policy' }).click();
  await page.getByRole('heading', { name: /^Add Rule/ }).waitFor();
  await page.getByLabel('Rule Name').fill('OpenMetadata sign-in');
  check(await page.getByLabel('Authorization Code').isChecked() && await page.getByLabel('Client Credentials').isChecked(),
    "a new rule starts with Okta's grant types (Client Credentials, Authorization Code, ...)");
  await page.getByLabel('Implicit', { exact: true }).check();
  // Keyboard: the access-token lifetime is reachable and editable without the mouse.
  await page.getByLabel('THEN Access token lifetime is (minutes)').focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('30');
  await shot(page, '003-07-add-rule');
  await page.getByRole('button', { name: 'Create Rule' }).click();
  const row = page.getByRole('row').filter({ hasText: 'OpenMetadata sign-in' });
  await row.waitFor();
  const text = await row.textContent();
  check(text.includes('Authorization Code') && text.includes('Implicit') && text.includes('30'),
    'the rule is listed with its grant types and 30-minute access tokens', text);
  check((await page.locator('section', { hasText: 'OpenMetadata policy' }).textContent()).includes(`OpenMetadata (${clientId})`),
    'the policy is assigned to the SPA');
  await shot(page, '003-08-access-policy-and-rule');
}

// Token Preview: what the SPA would get, and a policy refusal.
async function tokenPreview(page, clientId, issuer) {
  await serverTab(page, 'Token Preview');
  await page.getByLabel('OAuth/OIDC client').selectOption(clientId);
  await page.getByLabel('Grant type').selectOption('authorization_code');
  const people = await page.getByLabel('User', { exact: true }).locator('option').allTextContents();
  await page.getByLabel('User', { exact: true }).selectOption({ label: people.find((o) => o.endsWith(`(${adminLogin})`)) });
  await page.getByLabel('Scopes').selectOption(['openid', 'email', SCOPE]);
  await page.getByRole('button', { name: 'Preview Token' }).click();
  await page.locator('#preview-access-token').waitFor();
  const at = JSON.parse(await page.locator('#preview-access-token').textContent());
  const id = JSON.parse(await page.locator('#preview-id-token').textContent());
  check(at.aud === clientId && at.iss === issuer && JSON.stringify([...(at.scp || [])].sort()) === JSON.stringify(['email', 'openid', SCOPE]),
    'Token Preview: the access token has aud = Client ID, the server issuer, and the scopes', JSON.stringify(at));
  check(id.aud === clientId && id.iss === issuer && id.sub && id.email, 'Token Preview: the ID token is for the SPA and the admin', JSON.stringify(id));
  check((await page.locator('#preview-rule').textContent()) === 'OpenMetadata sign-in', 'Token Preview names the rule that decides');
  await shot(page, '003-09-token-preview');
  await page.getByLabel('Grant type').selectOption('password');
  await page.getByRole('button', { name: 'Preview Token' }).click();
  const refusal = await page.locator('#preview-error').textContent();
  check(/access_denied/.test(refusal), 'Token Preview shows the policy error for a grant type no rule allows', refusal);
}

async function spaSignIn(browser, spa, clientId, issuer) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  try {
    await page.goto(`${spa}/`);
    await page.waitForFunction(() => window.__state !== undefined);
    const authorizeRequests = [];
    page.on('request', (r) => { if (r.url().startsWith(`${issuer}/v1/authorize?`)) authorizeRequests.push(new URL(r.url())); });
    await page.evaluate(() => { authClient.signInWithRedirect({ originalUri: '/' }); });
    await page.waitForSelector('#username');
    check(authorizeRequests.length > 0 && authorizeRequests[0].searchParams.get('code_challenge_method') === 'S256'
      && authorizeRequests[0].searchParams.get('client_id') === clientId,
      "okta-auth-js goes to the new server's /v1/authorize with PKCE", authorizeRequests.map(String).join(' '));
    await shot(page, '003-10-hosted-sign-in');
    await page.fill('#username', adminLogin);
    await page.fill('#password', adminPassword);
    await Promise.all([page.waitForURL(/\/callback\?/), page.click('button[type=submit]')]);
    await page.waitForFunction(() => window.__state !== 'ready' && window.__state !== undefined);
    const state = await page.evaluate(() => window.__state);
    if (!check(state === 'signed-in', 'the SPA signs in through the hosted sign-in page', state)) return;
    const t = await page.evaluate(async () => {
      const x = await authClient.tokenManager.getTokens();
      return { access: x.accessToken.accessToken, id: x.idToken.idToken, refresh: x.refreshToken && x.refreshToken.refreshToken };
    });
    const at = claimsOf(t.access);
    check(at.aud === clientId, 'the access token aud is the SPA Client ID (the server Audience)', at.aud);
    check(at.iss === issuer, "the access token iss is the new server's issuer", at.iss);
    check(Array.isArray(at.scp) && ['openid', 'profile', 'email', 'offline_access'].every((s) => at.scp.includes(s)),
      'the access token scp holds the requested scopes', JSON.stringify(at.scp));
    check(at.exp - at.iat === 30 * 60, "the rule's 30-minute access-token lifetime applies", at.exp - at.iat);
    check(claimsOf(t.id).iss === issuer && claimsOf(t.id).aud === clientId, 'the ID token is from the new server for the SPA');
    await shot(page, '003-11-spa-signed-in');
    const err = await page.evaluate(() => authClient.tokenManager.renew('accessToken').then(() => null, (e) => String(e && (e.errorSummary || e.message))));
    const renewed = await page.evaluate(async () => (await authClient.tokenManager.getTokens()).refreshToken.refreshToken);
    check(err === null && renewed && renewed !== t.refresh, 'the refresh token is rotated after use (Rotate token after every use)', err);
  } finally {
    await context.close();
  }
}

async function main() {
  const { server, spa } = await serveSpa();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const started = Date.now();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    const errors = [];
    // The deliberate refusals (a form sent without its Audience) answer 422, which Chromium logs.
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 422/.test(m.text())) errors.push(m.text()); });
    await signIn(page);
    const clientId = await createSpa(page, spa);
    spaConfig.clientId = clientId;
    const { issuer, serverId } = await addServer(page, clientId);
    spaConfig.issuer = issuer;
    await addScope(page);
    await addPolicy(page, clientId);
    await tokenPreview(page, clientId, issuer);
    check(errors.length === 0, 'no console errors (CSP violations, script errors)', errors.join(' | '));
    await context.close();
    const meta = await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.json());
    check(meta.issuer === issuer && meta.scopes_supported.includes(SCOPE), `the discovery document of ${serverId} publishes ${SCOPE}`);
    await spaSignIn(browser, spa, clientId, issuer);
  } catch (e) {
    check(false, 'the seed 003 walk-through completed', e && e.stack ? e.stack.split('\n').slice(0, 4).join(' ') : e);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`seed 003 walk-through took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
