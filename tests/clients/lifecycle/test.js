// Activation and password reset from real mails: a user created without a password gets an
// activation mail (caught by a real SMTP server, tests/clients/lifecycle/smtp_sink.py); headless
// Chromium (playwright-core) follows its link; under a PASSWORD policy created first through
// /api/v1/policies (the common-password list, history 2) a too-short and a common password are
// refused with the policy's words shown, a good one is accepted, and social-auth-core
// (tests/clients/console/netbox_login.py) signs in with it. Then "Forgot password?" on the
// sign-in page: the same answer for an unknown address (and no mail), a reset mail for the
// user, the link followed, too short, common and reused (the current password) refused, a new
// one accepted, the old password no longer signs in and the new one does.
//   GH_URL, GH_TOKEN          gatehouse and an SSWS API token
//   MAILDIR, MAIL_PYTHON      the sink's directory, a python for mail.py
//   NB_PYTHON, NB_KEY, NB_SECRET   social-auth-core's python and the NetBox app's credentials
//   ORG_NAME                  the branding org name the mails must carry
'use strict';
const { execFile } = require('child_process');
const path = require('path');
const { chromium } = require('playwright-core');

const ghUrl = process.env.GH_URL;
const token = process.env.GH_TOKEN;
const orgName = process.env.ORG_NAME;
const STEP_TIMEOUT = 20000;
const person = { first: 'Lee', last: 'Link', login: 'lee.link@example.com' };
const GOOD = 'Brand-new-Passw0rd-1';
const GOOD2 = 'Second-new-Passw0rd-2';
// On the shipped common-password list (crates/gatehouse-core/data/common-passwords.txt) and
// long enough, so only the list refuses it.
const COMMON = 'password1';

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

function run(cmd, args, env) {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, out: `${stdout}${stderr}`.trim() });
    });
  });
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

const mailPy = path.join(__dirname, 'mail.py');
async function mailCount() {
  const r = await run(process.env.MAIL_PYTHON, [mailPy, process.env.MAILDIR, 'count']);
  return parseInt(r.out, 10);
}
/** The link (and subject) of the first mail to `to` with a `prefix` link numbered above `after`. */
async function mailLink(to, prefix, after) {
  const r = await run(process.env.MAIL_PYTHON, [mailPy, process.env.MAILDIR, to, prefix, String(after)]);
  assert(r.code === 0, r.out);
  const get = (k) => (r.out.match(new RegExp(`^${k} (.*)$`, 'm')) || [])[1];
  return { link: get('LINK'), subject: get('SUBJECT') };
}

async function netboxLogin(password) {
  return run(process.env.NB_PYTHON, [path.join(__dirname, '..', 'console', 'netbox_login.py')], {
    SOCIAL_AUTH_OKTA_OPENIDCONNECT_KEY: process.env.NB_KEY,
    SOCIAL_AUTH_OKTA_OPENIDCONNECT_SECRET: process.env.NB_SECRET,
    SOCIAL_AUTH_OKTA_OPENIDCONNECT_API_URL: `${ghUrl}/oauth2/`,
    NB_LOGIN: person.login,
    NB_PASSWORD: password,
  });
}

/** Submits `pw` on the open link page; the error shown, or null when none is. */
async function submitPassword(page, pw) {
  await page.fill('#password', pw);
  await page.fill('#confirm', pw);
  await page.click('button[type=submit]');
  await page.waitForSelector('#password-error, #password-set');
  const err = await page.$('#password-error');
  return err ? (await err.textContent()) : null;
}

/** On a link's page: each of `refusals` ([password, expected error pattern]) refused with the
 *  policy's words shown, then `good` accepted. */
async function setPassword(page, link, refusals, good, doneTitle) {
  await page.goto(link);
  for (const [pw, want] of refusals) {
    const error = await submitPassword(page, pw);
    assert(error !== null && want.test(error), `'${pw}' not refused with ${want}: ${error}`);
  }
  const error = await submitPassword(page, good);
  assert(error === null, `the good password refused: ${error}`);
  const title = await page.textContent('#password-set');
  assert(title.includes(doneTitle), `not done: ${title}`);
}

const SHORT = ['short', /at least 8 characters/];
const COMMONLY = [COMMON, /not a commonly used password/];

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    let userId;
    let activation;
    let policyId;
    await check('POST /api/v1/policies: a PASSWORD policy with the common list and history 2', async () => {
      const p = await api('POST', '/api/v1/policies', {
        type: 'PASSWORD', name: 'Lifecycle test policy', priority: 1, status: 'ACTIVE',
        settings: { password: {
          complexity: { minLength: 8, dictionary: { common: { exclude: true } } },
          age: { historyCount: 2 },
        } },
      });
      policyId = p.id;
      assert(p.settings.password.age.historyCount === 2, JSON.stringify(p));
    });
    await check('POST /api/v1/users?activate=true without a password: PROVISIONED, activation mailed', async () => {
      const u = await api('POST', '/api/v1/users?activate=true', {
        profile: { firstName: person.first, lastName: person.last, email: person.login, login: person.login },
      });
      userId = u.id;
      assert(u.status === 'PROVISIONED', `status ${u.status}`);
      activation = await mailLink(person.login, '/welcome/', 0);
      assert(activation.link.startsWith(`${ghUrl}/welcome/`), activation.link);
      assert(activation.subject.includes(orgName), `subject without the org name: ${activation.subject}`);
    });
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    await check('the activation link: too short and common refused (the policy\'s words shown), a good one accepted', async () => {
      await setPassword(page, activation.link, [SHORT, COMMONLY], GOOD, 'Account activated');
      const u = await api('GET', `/api/v1/users/${userId}`);
      assert(u.status === 'ACTIVE', `status ${u.status}`);
    });
    await check('the activation link works once', async () => {
      const res = await page.goto(activation.link);
      assert(res.status() === 410, `status ${res.status()}`);
    });
    await check('social-auth-core (NetBox) signs in with the new password', async () => {
      const r = await netboxLogin(GOOD);
      assert(r.code === 0 && r.out.startsWith('OK '), r.out);
    });

    const before = await mailCount();
    let answer;
    await check('"Forgot password?" on the sign-in page, for the user', async () => {
      const c = await browser.newContext();
      const p = await c.newPage();
      p.setDefaultTimeout(STEP_TIMEOUT);
      await p.goto(`${ghUrl}/login/login.htm`);
      await p.click('#forgot-password');
      await p.fill('#username', person.login);
      await p.click('button[type=submit]');
      answer = await p.textContent('#forgot-sent');
      await c.close();
    });
    await check('an unknown address gets the same answer', async () => {
      const c = await browser.newContext();
      const p = await c.newPage();
      p.setDefaultTimeout(STEP_TIMEOUT);
      await p.goto(`${ghUrl}/signin/forgot-password`);
      await p.fill('#username', 'nobody.here@example.com');
      await p.click('button[type=submit]');
      const other = await p.textContent('#forgot-sent');
      assert(other === answer, `${other} vs ${answer}`);
      await c.close();
    });
    let reset;
    await check('the reset mail arrives (one, to the user)', async () => {
      reset = await mailLink(person.login, '/signin/reset-password/', before);
      assert(reset.link.startsWith(`${ghUrl}/signin/reset-password/`), reset.link);
      await new Promise((r) => setTimeout(r, 1500));
      const n = await mailCount();
      assert(n === before + 1, `${n - before} mails for two requests`);
    });
    await check('the reset link: too short, common and reused refused, a new one accepted', async () => {
      const reused = [GOOD, /used too recently/];
      await setPassword(page, reset.link, [SHORT, COMMONLY, reused], GOOD2, 'Password reset');
    });
    await check('social-auth-core signs in with the new password, not the old one', async () => {
      const old = await netboxLogin(GOOD);
      assert(old.code !== 0, `the old password still signs in: ${old.out}`);
      const r = await netboxLogin(GOOD2);
      assert(r.code === 0 && r.out.startsWith('OK '), r.out);
    });
    await check('System Log: activation, reset request, password update, mail delivery', async () => {
      const events = await api('GET', `/api/v1/logs?limit=200`);
      const types = new Set(events.map((e) => e.eventType));
      for (const t of ['user.lifecycle.activate', 'user.account.update_password', 'system.email.delivery']) {
        assert(types.has(t), `no ${t} in ${[...types].join(',')}`);
      }
    });
    await ctx.close();
    if (policyId) await api('DELETE', `/api/v1/policies/${policyId}`);
  } catch (e) {
    failed++;
    console.log(`FAIL unexpected: ${e && e.stack ? e.stack : e}`);
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
