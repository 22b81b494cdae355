// After `gatehouse import okta`: the source's single-page app, unchanged but for the IdP's URL,
// signs in with okta-auth-js (7.x and 8.x, headless Chromium) on the imported `default` server:
// PKCE through the hosted form, the ID token's `sub` is the source's user id, userinfo over CORS.
// Reuses tests/clients/spa (its app.js and node_modules).
//   GH_URL       the importing gatehouse (the only thing the SPA changed)
//   CLIENT_ID    the source's client id of the SPA
//   SPA_PORT     the port the SPA is served on (its redirect URIs were registered at the source)
//   GH_LOGIN, GH_PASSWORD, EXPECT_SUB
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const spaDir = path.join(__dirname, '..', 'spa');
const { chromium } = require(path.join(spaDir, 'node_modules', 'playwright-core'));

const ghUrl = process.env.GH_URL;
const clientId = process.env.CLIENT_ID;
const port = Number(process.env.SPA_PORT);
const login = process.env.GH_LOGIN;
const password = process.env.GH_PASSWORD;
const expectSub = process.env.EXPECT_SUB;
const STEP_TIMEOUT = 20000;
const libs = {
  '7': path.join(spaDir, 'node_modules/okta-auth-js-7/dist/okta-auth-js.min.js'),
  '8': path.join(spaDir, 'node_modules/okta-auth-js-8/dist/okta-auth-js.min.js'),
};

function page(version) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>SPA ${version}</title></head><body>
<script src="/lib/okta-auth-js-${version}.js"></script>
<script>window.__GH_CONFIG = ${JSON.stringify({ ghUrl, clientId })};</script>
<script src="/app.js"></script></body></html>`;
}

function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const lib = url.pathname.match(/^\/lib\/okta-auth-js-(7|8)\.js$/);
    const app = url.pathname.match(/^\/v(7|8)\/default(\/.*)?$/);
    if (lib) {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      fs.createReadStream(libs[lib[1]]).pipe(res);
    } else if (url.pathname === '/app.js') {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      fs.createReadStream(path.join(spaDir, 'app.js')).pipe(res);
    } else if (app) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page(app[1]));
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
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

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

async function scenario(browser, spa, version) {
  const context = await browser.newContext();
  const tab = await context.newPage();
  tab.setDefaultTimeout(STEP_TIMEOUT);
  const state = async () => {
    await tab.waitForFunction(() => window.__state !== undefined, null, { timeout: STEP_TIMEOUT });
    return tab.evaluate(() => window.__state);
  };
  try {
    await check(`okta-auth-js ${version}.x: the source's SPA signs in at the new IdP (PKCE, hosted form)`, async () => {
      await tab.goto(`${spa}/v${version}/default/`);
      assert((await state()) === 'ready', 'SPA did not start: ' + (await state()));
      await tab.evaluate(() => { authClient.signInWithRedirect({ originalUri: '/' }); });
      await tab.waitForSelector('#username');
      assert(tab.url().startsWith(ghUrl), 'not on the new IdP: ' + tab.url());
      await tab.fill('#username', login);
      await tab.fill('#password', password);
      await Promise.all([tab.waitForURL(/\/callback\?/), tab.click('button[type=submit]')]);
      await tab.waitForFunction(() => window.__state !== 'ready' && window.__state !== undefined);
      const s = await state();
      assert(s === 'signed-in', s);
      const t = await tab.evaluate(async () => {
        const all = await authClient.tokenManager.getTokens();
        return { id: all.idToken && all.idToken.idToken, access: all.accessToken && all.accessToken.accessToken };
      });
      assert(t.id && t.access, 'tokens missing');
      const c = claims(t.id);
      assert(c.sub === expectSub, `sub ${c.sub}, expected the source's ${expectSub}`);
      assert(c.aud === clientId, `aud ${c.aud}`);
      assert(c.iss === `${ghUrl}/oauth2/default`, `iss ${c.iss}`);
      const info = await tab.evaluate(() => authClient.token.getUserInfo().then((i) => ({ sub: i.sub, email: i.email })));
      assert(info.sub === expectSub && info.email === login, 'userinfo ' + JSON.stringify(info));
    });
  } finally {
    await context.close();
  }
}

async function main() {
  const server = await serve();
  const spa = `http://127.0.0.1:${port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    for (const v of ['7', '8']) await scenario(browser, spa, v);
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
