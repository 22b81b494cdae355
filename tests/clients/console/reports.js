// Reports > System Log and the app's Sign On groups claim, in headless Debian Chromium
// (playwright-core): the first-start administrator adds a person and two groups in the
// console, finds those changes in Reports > System Log by searching (keywords, then an Okta
// filter, keyboard-opening an event's details), creates an OIDC Web app for a NetBox group,
// sets its Sign On tab's groups claim filter (Starts with "NetBox"), and NetBox's
// social-auth-core signs the person in with the `groups` scope and gets only that group.
//   GH_URL                             gatehouse's base URL
//   GH_ADMIN_LOGIN, GH_ADMIN_PASSWORD  the first-start administrator (from `gatehouse serve`)
//   NB_PYTHON                          a python with social-auth-core (for netbox_login.py)
//   SHOTS                              where screenshots go (default: ./screenshots)
'use strict';
const { execFile } = require('child_process');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const ghUrl = process.env.GH_URL;
const adminLogin = process.env.GH_ADMIN_LOGIN;
const adminPassword = process.env.GH_ADMIN_PASSWORD;
const nbPython = process.env.NB_PYTHON || 'python3';
const shots = process.env.SHOTS || path.join(__dirname, 'screenshots');
const STEP_TIMEOUT = 15000;
const person = { first: 'Rita', last: 'Ports', login: 'rita.ports@example.com', password: 'An0ther-Passw0rd!' };
const netboxGroup = 'NetBox Operators';
const otherGroup = 'Payroll';
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

async function nav(page, name) {
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name, exact: true }).click();
}

async function addGroup(page, name) {
  await nav(page, 'Groups');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByLabel('Assign people').selectOption({ label: `${person.first} ${person.last} (${person.login})` });
  await page.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('cell', { name: person.login, exact: true }).waitFor();
}

async function changes(page) {
  await page.goto(`${ghUrl}/admin`);
  await page.getByLabel('Username').fill(adminLogin);
  await page.getByLabel('Password').fill(adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/admin\/dashboard$/);

  await nav(page, 'People');
  await page.getByRole('link', { name: 'Add person' }).click();
  await page.getByLabel('First name').fill(person.first);
  await page.getByLabel('Last name').fill(person.last);
  await page.getByLabel('Username').fill(person.login);
  await page.getByLabel('Set by admin').check();
  await page.getByLabel('Enter password').fill(person.password);
  await page.getByRole('button', { name: 'Save' }).click();
  check((await page.locator('#person-status').textContent()) === 'ACTIVE', 'Add person: the person is ACTIVE');
  await addGroup(page, netboxGroup);
  await addGroup(page, otherGroup);
  check(true, `the person is in ${netboxGroup} and ${otherGroup}`);
}

async function systemLog(page) {
  await nav(page, 'System Log');
  await page.getByRole('heading', { name: 'System Log' }).waitFor();
  const rows = page.locator('tr.syslog-event');
  check(await rows.count() > 0, 'Reports > System Log lists events');

  // Keywords: the person's login finds their creation, newest first, with the admin as actor.
  await page.getByLabel('Search', { exact: true }).fill(person.login);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/[?&]q=/);
  const types = await page.locator('tr.syslog-event code.event-type').allTextContents();
  check(types.includes('user.lifecycle.create') && types.includes('group.user_membership.add'),
    'searching the login finds the person\'s creation and memberships', types.join(' '));
  check(types.indexOf('user.lifecycle.create') > types.indexOf('group.user_membership.add'), 'newest first', types.join(' '));
  const created = rows.filter({ has: page.locator('code.event-type', { hasText: /^user\.lifecycle\.create$/ }) });
  const createdText = await created.first().innerText();
  check(createdText.includes(adminLogin) && createdText.includes('SUCCESS') && createdText.includes('127.0.0.1')
    && createdText.includes(`User: ${person.first} ${person.last} (${person.login})`),
  'the event shows time, actor, outcome, target and client IP', createdText.replace(/\s+/g, ' ').slice(0, 300));
  await shot(page, 'reports-01-search-person');

  // An Okta filter expression: the group's creation.
  await page.getByLabel('Search', { exact: true }).fill('');
  await page.getByLabel('Filter', { exact: true }).fill(`eventType eq "group.lifecycle.create"`);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/[?&]filter=/);
  const groupRows = await page.locator('tr.syslog-event').allInnerTexts();
  check([netboxGroup, otherGroup].every((g) => groupRows.some((t) => t.includes(`UserGroup: ${g}`)))
    && groupRows.every((t) => t.includes('group.lifecycle.create')),
  'the filter eventType eq "group.lifecycle.create" finds the groups', groupRows.length);

  // Keyboard: Tab to the first event's Details and open it with Enter.
  const summary = page.locator('tr.syslog-event summary').first();
  await summary.focus();
  await page.keyboard.press('Enter');
  const json = page.locator('tr.syslog-event pre.event-json').first();
  check(await json.isVisible() && (await json.textContent()).includes('"eventType": "group.lifecycle.create"'),
    'Enter on Details shows the whole LogEvent');
  await shot(page, 'reports-02-filter-groups-details');

  // A bad filter is explained on the page.
  await page.getByLabel('Filter', { exact: true }).fill('published eq "x"');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('#syslog-error').waitFor();
  check(/cannot be filtered on/.test(await page.locator('#syslog-error').textContent()), 'a bad filter shows its error');
}

async function signOnGroupsClaim(page) {
  await nav(page, 'Applications');
  await page.getByRole('link', { name: 'Create App Integration' }).click();
  await page.getByLabel('Web Application').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('App integration name').fill('NetBox Groups');
  await page.getByLabel('Sign-in redirect URIs').fill(`${NETBOX}/oauth/complete/okta-openidconnect/`);
  await page.getByLabel('Limit access to selected groups').check();
  await page.getByLabel('Selected groups', { exact: true }).selectOption({ label: netboxGroup });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'NetBox Groups' }).waitFor();

  // Sign On > OpenID Connect ID Token > Groups claim filter: groups, Starts with, NetBox.
  await page.getByRole('tab', { name: 'Sign On' }).click();
  await page.getByLabel('Claim name').fill('groups');
  await page.getByLabel('Filter', { exact: true }).selectOption({ label: 'Starts with' });
  await page.getByLabel('Filter value').fill('NetBox');
  await page.locator('#save-sign-on').click();
  await page.getByRole('status').first().waitFor();
  await page.getByRole('tab', { name: 'Sign On' }).click();
  check(await page.getByLabel('Claim name').inputValue() === 'groups'
    && await page.getByLabel('Filter', { exact: true }).inputValue() === 'STARTS_WITH'
    && await page.getByLabel('Filter value').inputValue() === 'NetBox', 'the Sign On tab keeps the groups claim filter');
  await shot(page, 'reports-03-sign-on-groups-claim');

  await page.getByRole('tab', { name: 'Client Credentials' }).click();
  await page.getByRole('button', { name: 'Show' }).click();
  const clientId = await page.locator('#client-id').inputValue();
  const clientSecret = await page.locator('#client-secret').inputValue();
  const nb = await run(nbPython, [path.join(__dirname, 'netbox_login.py')], {
    SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY: clientId,
    SOCIAL_AUTH_OKTA_OPENIDCONNECT_SECRET: clientSecret,
    SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL: `${ghUrl}/oauth2/`,
    NB_LOGIN: person.login,
    NB_PASSWORD: person.password,
    NB_GROUPS: '1',
  });
  check(nb.code === 0 && nb.out.endsWith(`groups=${netboxGroup}`),
    `NetBox (social-auth-core) gets the groups claim filtered to ${netboxGroup}`, nb.out);

  // The change is in the System Log too, by the administrator.
  await nav(page, 'System Log');
  await page.getByLabel('Search', { exact: true }).fill('NetBox Groups');
  await page.getByLabel('Filter', { exact: true }).fill('eventType eq "application.lifecycle.update"');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/[?&]filter=/);
  const updates = await page.locator('tr.syslog-event').allInnerTexts();
  check(updates.length === 1 && updates[0].includes(adminLogin), 'the Sign On change is logged as application.lifecycle.update', updates.length);
  await shot(page, 'reports-04-app-update-logged');
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const started = Date.now();
  try {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    const errors = [];
    // The bad-filter step's page is a 422 on purpose; Chromium reports that as a console error.
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 422/.test(m.text())) errors.push(m.text()); });
    await changes(page);
    await systemLog(page);
    await signOnGroupsClaim(page);
    check(errors.length === 0, 'no console errors (CSP violations, script errors)', errors.join(' | '));
  } catch (e) {
    check(false, 'the reports walk-through completed', e && e.stack ? e.stack.split('\n').slice(0, 4).join(' ') : e);
  } finally {
    await browser.close();
  }
  console.log(`reports walk-through took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
