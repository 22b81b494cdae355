// User consent ("Require consent"), end to end in headless Debian Chromium (playwright-core):
// an administrator ticks "Require consent" (with Terms of Service and Policy URIs) on a new
// single-page app in the console, and marks a new scope of the `default` authorization server
// "Require user consent for this scope". Then the SPA, with @okta/okta-auth-js 7.x in the page
// (as seed003.js), signs a user in: the consent page lists the scope, Allow Access sends the
// tokens with the scope; a second sign-in (a new browser session) is not asked; and with
// `prompt=consent`, Don't Allow gives the client access_denied.
//   GH_URL                             gatehouse's base URL
//   GH_ADMIN_LOGIN, GH_ADMIN_PASSWORD  the first-start administrator (from `gatehouse serve`)
//   SHOTS                              where screenshots go (default: ./screenshots/consent)
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');

const ghUrl = process.env.GH_URL;
const adminLogin = process.env.GH_ADMIN_LOGIN;
const adminPassword = process.env.GH_ADMIN_PASSWORD;
const shots = process.env.SHOTS || path.join(__dirname, 'screenshots', 'consent');
const oktaAuthBundle = path.join(__dirname, '../spa/node_modules/okta-auth-js-7/dist/okta-auth-js.min.js');
const STEP_TIMEOUT = 15000;
const SCOPE = 'photos:read';
const issuer = `${ghUrl}/oauth2/default`;

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

const spaConfig = { clientId: null };
function spaPage() {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Photo album (SPA)</title></head><body>
<h1>Photo album</h1><pre id="out">starting</pre>
<script src="/okta-auth-js.js"></script>
<script>
(function () {
  var cfg = ${JSON.stringify({ issuer, ...spaConfig })};
  var out = document.getElementById('out');
  window.authClient = new OktaAuth({
    issuer: cfg.issuer, clientId: cfg.clientId,
    redirectUri: location.origin + '/callback',
    scopes: ['openid', 'profile', '${SCOPE}'],
    pkce: true,
    tokenManager: { autoRenew: false, storage: 'memory' },
    services: { autoRenew: false, autoRemove: false, syncStorage: false },
  });
  if (authClient.isLoginRedirect()) {
    authClient.token.parseFromUrl().then(function (res) {
      window.__tokens = { access: res.tokens.accessToken.accessToken };
      out.textContent = 'signed in';
      window.__state = 'signed-in';
    }, function (e) {
      window.__state = 'error: ' + (e && (e.errorCode || e.name));
      out.textContent = window.__state + ' ' + (e && (e.errorSummary || e.message));
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
    } else if (['/', '/callback'].includes(url.pathname)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(spaPage());
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  const port = await listen(server, 0);
  return { server, spa: `http://localhost:${port}` };
}

async function nav(page, name) {
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name, exact: true }).click();
}

async function signIn(page) {
  await page.goto(`${ghUrl}/admin`);
  await page.getByLabel('Username').fill(adminLogin);
  await page.getByLabel('Password').fill(adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/admin\/dashboard$/);
}

// The SPA, then General > User Consent: Require consent, Terms of Service and Policy URIs.
async function createApp(page, spa) {
  await nav(page, 'Applications');
  await page.getByRole('link', { name: 'Create App Integration' }).click();
  await page.getByLabel('OIDC - OpenID Connect').check();
  await page.getByLabel('Single-Page Application').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: /^New .* App Integration$/ }).waitFor();
  await page.getByLabel('App integration name').fill('Photo Album');
  await page.getByLabel('Authorization Code').check();
  await page.getByLabel('Sign-in redirect URIs').fill(`${spa}/callback`);
  await page.getByLabel('Allow everyone in your organization to access').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Photo Album' }).waitFor();
  check(!(await page.getByLabel('Require consent').isChecked()), 'a new app does not require consent (trusted)');
  // Keyboard: tick the box and fill the URIs without the mouse.
  await page.getByLabel('Require consent').focus();
  await page.keyboard.press('Space');
  await page.getByLabel('Terms of Service URI').fill('https://photos.example/tos');
  await page.getByLabel('Policy URI').fill('https://photos.example/privacy');
  await shot(page, 'consent-01-app-require-consent');
  await page.locator('#save-general').click();
  await page.getByRole('status').filter({ hasText: /saved/ }).first().waitFor();
  check(await page.getByLabel('Require consent').isChecked(), 'Require consent is saved on the General tab');
  check((await page.getByLabel('Terms of Service URI').inputValue()) === 'https://photos.example/tos'
    && (await page.getByLabel('Policy URI').inputValue()) === 'https://photos.example/privacy', 'the Terms of Service and Policy URIs are saved');
  await page.getByRole('tab', { name: 'Client Credentials' }).click();
  const clientId = await page.locator('#client-id').inputValue();
  check(clientId.length > 0, 'the Client ID is read off the Client Credentials tab', clientId);
  return clientId;
}

// Security > API > default > Scopes > Add Scope, "Require user consent for this scope".
async function addConsentScope(page) {
  await nav(page, 'API');
  await page.getByRole('link', { name: 'default', exact: true }).click();
  await page.getByRole('navigation', { name: 'Authorization server' }).getByRole('link', { name: 'Scopes', exact: true }).click();
  await page.getByRole('link', { name: 'Add Scope' }).click();
  await page.getByLabel('Name').fill(SCOPE);
  await page.getByLabel('Display phrase').fill('View your photos');
  await page.getByLabel('Description').fill('See the photos in your album, but not change them.');
  await page.getByLabel('Require user consent for this scope').check();
  await shot(page, 'consent-02-scope-require-user-consent');
  await page.getByRole('button', { name: 'Create' }).click();
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: SCOPE, exact: true }) });
  await row.waitFor();
  check((await row.textContent()).includes('Required'), `the ${SCOPE} scope is listed with user consent Required`);
}

async function spaStart(context, spa, options) {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.goto(`${spa}/`);
  await page.waitForFunction(() => window.__state !== undefined);
  await page.evaluate((o) => { authClient.signInWithRedirect(o); }, options || {});
  return page;
}

async function signInForm(page) {
  await page.waitForSelector('#username');
  await page.fill('#username', adminLogin);
  await page.fill('#password', adminPassword);
  await page.click('button[type=submit]');
}

async function callbackState(page) {
  await page.waitForURL(/\/callback[?#]/);
  await page.waitForFunction(() => window.__state !== 'ready' && window.__state !== undefined);
  return page.evaluate(() => window.__state);
}

async function consentRuns(browser, spa) {
  // First sign-in: the consent page, then Allow Access.
  let context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  try {
    const page = await spaStart(context, spa);
    await signInForm(page);
    await page.locator('#consent-allow').waitFor().catch(async (e) => {
      throw new Error(`no consent page at ${page.url()}: ${(await page.locator('body').textContent()).slice(0, 300)}`);
    });
    const text = await page.locator('main').textContent();
    check(text.includes('Photo Album') && text.includes('View your photos') && text.includes('See the photos in your album'),
      'the consent page names the app and the scope with its display phrase and description', text.replace(/\s+/g, ' '));
    check(await page.locator('#consent-tos').getAttribute('href') === 'https://photos.example/tos'
      && await page.locator('#consent-policy').getAttribute('href') === 'https://photos.example/privacy',
      "the consent page links the app's Terms of Service and Policy");
    check(!(await page.locator('[data-scope="openid"]').count()), 'implicit scopes (openid, profile) are not asked');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    check(focused === 'consent-allow', 'Allow Access has the keyboard focus', focused);
    await shot(page, 'consent-03-consent-page');
    // Keyboard: Enter on the focused Allow Access.
    await page.keyboard.press('Enter');
    const state = await callbackState(page);
    if (check(state === 'signed-in', 'Allow Access: okta-auth-js gets its tokens', state)) {
      const at = claimsOf(await page.evaluate(() => window.__tokens.access));
      check(Array.isArray(at.scp) && at.scp.includes(SCOPE), `the access token carries ${SCOPE}`, JSON.stringify(at.scp));
      await shot(page, 'consent-04-signed-in');
    }
  } finally {
    await context.close();
  }
  // A second sign-in, in a new browser session: not asked.
  context = await browser.newContext();
  try {
    const page = await spaStart(context, spa);
    const consentPages = [];
    page.on('response', (r) => { if (r.url().startsWith(`${ghUrl}/login`) && r.request().method() === 'POST') consentPages.push(r.status()); });
    await signInForm(page);
    const state = await callbackState(page);
    check(state === 'signed-in', 'a second sign-in is not asked again: straight back with tokens', state);
    check(!(await page.locator('#consent-allow').count()), 'no consent page on the second sign-in');
    // prompt=consent with the live session: asked again; Don't Allow.
    await page.evaluate(() => { authClient.signInWithRedirect({ prompt: 'consent' }); });
    await page.locator('#consent-deny').waitFor();
    await shot(page, 'consent-05-prompt-consent');
    await page.locator('#consent-deny').click();
    const denied = await callbackState(page);
    check(denied === 'error: access_denied', "Don't Allow: the client gets access_denied", denied);
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
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await signIn(page);
    spaConfig.clientId = await createApp(page, spa);
    await addConsentScope(page);
    check(errors.length === 0, 'no console errors (CSP violations, script errors)', errors.join(' | '));
    await context.close();
    await consentRuns(browser, spa);
  } catch (e) {
    check(false, 'the consent walk-through completed', e && e.stack ? e.stack.split('\n').slice(0, 4).join(' ') : e);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`consent walk-through took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
