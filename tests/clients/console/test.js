// Seeds 000 and 004 followed in Gatehouse's admin console, as a new administrator would, in
// headless Debian Chromium (playwright-core). Seed 000: sign in with the first-start
// administrator, add a test person and a group, Create App Integration (OIDC, Web Application),
// sign-in and sign-out redirect URIs, assign the group, copy the Client ID, Client secret and
// Okta domain off the Client Credentials tab; then NetBox's social-auth-core signs the person
// in with those values (netbox_login.py). Seed 004: create an API token in Security > API >
// Tokens, register the ingestion service app with it (POST /oauth2/v1/clients), find the app in
// Applications and grant its Okta API scopes.
//   GH_URL                          gatehouse's base URL
//   GH_ADMIN_LOGIN, GH_ADMIN_PASSWORD  the first-start administrator (from `gatehouse serve`)
//   NB_PYTHON                       a python with social-auth-core (for netbox_login.py)
//   SHOTS                           where screenshots go (default: ./screenshots)
'use strict';
const { execFile } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const ghUrl = process.env.GH_URL;
const adminLogin = process.env.GH_ADMIN_LOGIN;
const adminPassword = process.env.GH_ADMIN_PASSWORD;
const nbPython = process.env.NB_PYTHON || 'python3';
const shots = process.env.SHOTS || path.join(__dirname, 'screenshots');
const STEP_TIMEOUT = 15000;
const person = { first: 'Jane', last: 'Doe', login: 'jdoe@example.com', password: 'S3cure-Passw0rd!' };
const group = 'NetBox Users';
const NETBOX = 'http://netbox.test';

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

function run(cmd, args, env) {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, out: `${stdout}${stderr}`.trim() });
    });
  });
}

async function api(method, p, token, body) {
  const res = await fetch(ghUrl + p, {
    method,
    headers: { authorization: `SSWS ${token}`, accept: 'application/json', 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: res.status, json, text };
}

// The admin console's left navigation, by its words.
async function nav(page, name) {
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name, exact: true }).click();
}

async function seed000(page) {
  // Sign in: the console sends an anonymous visitor to the hosted sign-in page.
  await page.goto(`${ghUrl}/admin`);
  check(page.url().includes('/login/login.htm'), 'the console asks an anonymous visitor to sign in', page.url());
  await shot(page, '000-01-sign-in');
  await page.getByLabel('Username').fill(adminLogin);
  await page.getByLabel('Password').fill(adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/admin\/dashboard$/);
  check(await page.getByRole('heading', { name: 'Dashboard' }).isVisible(), 'the first-start administrator lands on the Dashboard');

  // Step 1: create a test user (Directory > People > Add person).
  await nav(page, 'People');
  await page.getByRole('link', { name: 'Add person' }).click();
  await page.getByLabel('First name').fill(person.first);
  await page.getByLabel('Last name').fill(person.last);
  await page.getByLabel('Username').fill(person.login);
  await page.getByLabel('Set by admin').check();
  await page.getByLabel('Enter password').fill(person.password);
  await shot(page, '000-02-add-person');
  await page.getByRole('button', { name: 'Save' }).click();
  check((await page.locator('#person-status').textContent()) === 'ACTIVE', 'Add person: the test person is ACTIVE');

  // A group for controlled access (Directory > Groups).
  await nav(page, 'Groups');
  await page.getByLabel('Name', { exact: true }).fill(group);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByLabel('Assign people').selectOption({ label: `${person.first} ${person.last} (${person.login})` });
  await page.getByRole('button', { name: 'Add' }).click();
  check(await page.getByRole('cell', { name: person.login, exact: true }).isVisible(), `the person is a member of ${group}`);

  // Step 2: Applications > Applications > Create App Integration > OIDC, Web application.
  await nav(page, 'Applications');
  await page.getByRole('link', { name: 'Create App Integration' }).click();
  check(await page.getByLabel('OIDC - OpenID Connect').isChecked(), 'sign-in method OIDC - OpenID Connect');
  await page.getByLabel('Web Application').check();
  await shot(page, '000-03-create-app-integration');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'New Web Application App Integration' }).waitFor();
  check(await page.getByLabel('Authorization Code').isChecked(), "Okta's default grant type: Authorization Code");
  await page.getByLabel('App integration name').fill('NetBox Cloud');
  await page.getByLabel('Sign-in redirect URIs').fill(`${NETBOX}/oauth/complete/okta-openidconnect/`);
  await page.getByLabel('Sign-out redirect URIs (Optional)').fill(`${NETBOX}/oauth/disconnect/okta-openidconnect/`);
  // Under "Assignments", the controlled access setting.
  await page.getByLabel('Limit access to selected groups').check();
  await page.getByLabel('Selected groups', { exact: true }).selectOption({ label: group });
  await shot(page, '000-04-web-app-integration');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'NetBox Cloud' }).waitFor();
  check(/app integration was created/.test(await page.getByRole('status').first().textContent()), 'Save: the app integration was created');

  // Note the Client ID, Client secret and Okta domain (Client Credentials, copy buttons).
  await page.getByRole('tab', { name: 'Client Credentials' }).click();
  check(await page.locator('#tab-credentials').isVisible() && await page.locator('#tab-general').isHidden(),
    'the Client Credentials tab shows its panel only');
  const clientId = await page.locator('#client-id').inputValue();
  await page.getByRole('button', { name: 'Copy client ID to clipboard' }).click();
  const copied = await page.waitForFunction(
    () => document.querySelector('[data-copy=client-id]').textContent === 'Copied', null, { timeout: 5000 },
  ).then(() => page.evaluate(() => navigator.clipboard.readText()), () => null);
  check(copied === clientId, 'the Client ID copy button puts the client ID on the clipboard', copied);
  await page.getByRole('button', { name: 'Show' }).click();
  const clientSecret = await page.locator('#client-secret').inputValue();
  const oktaDomain = await page.locator('#okta-domain').inputValue();
  check(clientId.length > 0 && clientSecret.length >= 14 && oktaDomain === ghUrl.replace(/^https?:\/\//, ''), 'Client ID, Client secret and Okta domain read off the page',
    `${clientId} / ${clientSecret.length} chars / ${oktaDomain}`);
  await shot(page, '000-05-client-credentials');
  await page.getByRole('tab', { name: 'Assignments' }).click();
  check(await page.locator('#tab-assignments').getByRole('cell', { name: group, exact: true }).isVisible(), `Assignments lists ${group}`);
  await shot(page, '000-06-assignments');

  // Keyboard: the tabs answer the arrow keys.
  await page.getByRole('tab', { name: 'Assignments' }).focus();
  await page.keyboard.press('ArrowRight');
  check(await page.locator('#tab-scopes').isVisible(), 'the app tabs move with the arrow keys');

  // NetBox Cloud Configuration, then Testing: social-auth-core signs the test person in.
  const nb = await run(nbPython, [path.join(__dirname, 'netbox_login.py')], {
    SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY: clientId,
    SOCIAL_AUTH_OKTA_OPENIDCONNECT_SECRET: clientSecret,
    SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL: `${ghUrl.split(':')[0]}://${oktaDomain}/oauth2/`,
    NB_LOGIN: person.login,
    NB_PASSWORD: person.password,
  });
  check(nb.code === 0 && nb.out.startsWith('OK ') && nb.out.includes(person.login),
    'NetBox (social-auth-core OktaOpenIdConnect) signs the person in with the values from the console', nb.out);
  return { clientId };
}

function serviceJwks() {
  const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: 'ingestion-1', use: 'sig', alg: 'RS256' }] };
}

async function seed004(page) {
  // Step 2: Security > API > Tokens > Create New Token; save the token safely.
  await nav(page, 'API');
  await page.getByRole('navigation', { name: 'API' }).getByRole('link', { name: 'Tokens' }).click();
  await page.getByLabel('What do you want your token to be named?').fill('OpenMetadata ingestion');
  await page.getByRole('button', { name: 'Create Token' }).click();
  const token = await page.locator('#token-value').inputValue();
  check(/^00[A-Za-z0-9_-]{40}$/.test(token), 'Create Token shows the token value', token.length);
  await shot(page, '004-01-api-token');
  const me = await api('GET', '/api/v1/users/me', token);
  check(me.status === 200 && me.json?.profile?.login === adminLogin, 'the token acts as the administrator on /api/v1', me.text.slice(0, 200));
  await page.reload();
  check(!(await page.content()).includes(token), 'the token value is shown only once');

  // Step 3: the ingestion bot's service app, registered with the token.
  const reg = await api('POST', '/oauth2/v1/clients', token, {
    client_name: 'OM-service-app', grant_types: ['client_credentials'], response_types: ['token'],
    token_endpoint_auth_method: 'private_key_jwt', application_type: 'service', jwks: serviceJwks(),
  });
  check(reg.status === 201 && reg.json?.client_id, 'POST /oauth2/v1/clients with the console token registers the service app', reg.text.slice(0, 200));
  await nav(page, 'Applications');
  const link = page.getByRole('link', { name: 'OM-service-app' });
  check(await link.isVisible(), 'Applications lists the service app');
  await link.click();

  // Step 4: Okta API Scopes > Grant.
  await page.getByRole('tab', { name: 'Okta API Scopes' }).click();
  for (const scope of ['okta.users.read', 'okta.users.manage', 'okta.clients.read']) {
    await page.getByRole('button', { name: `Grant ${scope}` }).click();
    await page.getByRole('button', { name: `Revoke ${scope}` }).waitFor({ timeout: STEP_TIMEOUT });
  }
  await shot(page, '004-02-okta-api-scopes');
  const appId = reg.json?.client_id;
  const grants = await api('GET', `/api/v1/apps/${appId}/grants`, token);
  const granted = (grants.json || []).map((g) => g.scopeId).sort();
  check(JSON.stringify(granted) === JSON.stringify(['okta.clients.read', 'okta.users.manage', 'okta.users.read']),
    'the granted scopes show in /api/v1/apps/{id}/grants', grants.text.slice(0, 300));
}

async function endUser(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.goto(`${ghUrl}/app/UserHome`);
  await page.getByLabel('Username').fill(person.login);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'My Apps' }).waitFor();
  check(true, 'the person reaches the end-user dashboard');
  await shot(page, '000-07-user-home');
  const admin = await page.goto(`${ghUrl}/admin/apps/active`);
  check(admin.status() === 403, 'the console refuses a person who is no administrator', admin.status());
  await context.close();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const started = Date.now();
  try {
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await seed000(page);
    await seed004(page);
    check(errors.length === 0, 'no console errors (CSP violations, script errors)', errors.join(' | '));
    await context.close();
    await endUser(browser);
  } catch (e) {
    check(false, 'the walk-through completed', e && e.stack ? e.stack.split('\n').slice(0, 4).join(' ') : e);
  } finally {
    await browser.close();
  }
  console.log(`browser walk-through took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
