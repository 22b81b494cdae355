// okta-auth-js's classic sign-in in Node (no browser): `signIn` / `signInWithCredentials` post
// the username and password to gatehouse's POST /api/v1/authn and get a SUCCESS transaction with
// a sessionToken; the token then stands in for the sign-in form at /authorize (one use), and
// the code is exchanged by okta-auth-js itself. A wrong password is Okta's E0000004.
//   GH_URL, GH_TOKEN (SSWS, the SPA app is created through /api/v1/apps), GH_LOGIN, GH_PASSWORD
'use strict';
const assert = require('assert');

const ghUrl = process.env.GH_URL;
const token = process.env.GH_TOKEN;
const login = process.env.GH_LOGIN;
const password = process.env.GH_PASSWORD;
const redirectUri = 'http://127.0.0.1:8585/authn-callback';

async function api(method, path, body) {
  const res = await fetch(ghUrl + path, {
    method,
    headers: { Authorization: `SSWS ${token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
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

async function main() {
  const app = await api('POST', '/api/v1/apps', {
    name: 'oidc_client', label: 'Classic sign-in', signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'none' } },
    settings: { oauthClient: {
      application_type: 'browser', grant_types: ['authorization_code'], response_types: ['code'],
      redirect_uris: [redirectUri],
    } },
  });
  const groups = await api('GET', '/api/v1/groups?q=Everyone');
  await api('PUT', `/api/v1/apps/${app.id}/groups/${groups[0].id}`, {});
  const clientId = app.credentials.oauthClient.client_id;

  for (const version of ['7', '8']) {
    const { OktaAuth } = require(`okta-auth-js-${version}`);
    for (const method of ['signIn', 'signInWithCredentials']) {
      const label = `okta-auth-js ${version}.x ${method}`;
      const issuer = `${ghUrl}/oauth2/default`;
      const auth = new OktaAuth({
        issuer, clientId, redirectUri, scopes: ['openid', 'profile'], pkce: true,
        tokenManager: { storage: 'memory' },
      });
      let tx;
      await check(`${label}: SUCCESS with a sessionToken and the user`, async () => {
        tx = await auth[method]({ username: login, password });
        assert.strictEqual(tx.status, 'SUCCESS');
        assert.ok(tx.sessionToken, 'no sessionToken');
        assert.strictEqual(tx.user.profile.login, login);
      });
      await check(`${label}: the sessionToken signs in at /authorize, once`, async () => {
        const p = await auth.token.prepareTokenParams();
        const query = new URLSearchParams({
          client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile',
          state: p.state, nonce: p.nonce, code_challenge: p.codeChallenge, code_challenge_method: 'S256',
          sessionToken: tx.sessionToken,
        });
        const url = `${issuer}/v1/authorize?${query}`;
        const res = await fetch(url, { redirect: 'manual' });
        assert.strictEqual(res.status, 302, `authorize answered ${res.status}`);
        const code = new URL(res.headers.get('location')).searchParams.get('code');
        assert.ok(code, `no code in ${res.headers.get('location')}`);
        const { tokens } = await auth.token.exchangeCodeForTokens({ authorizationCode: code, codeVerifier: p.codeVerifier });
        assert.strictEqual(tokens.idToken.claims.sub, tx.user.id);
        const again = await fetch(url, { redirect: 'manual' });
        assert.strictEqual(again.status, 200, 'a spent sessionToken must show the sign-in form');
      });
      await check(`${label}: a wrong password is E0000004`, async () => {
        await assert.rejects(auth[method]({ username: login, password: 'not-the-password' }),
          (e) => e.errorCode === 'E0000004');
      });
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
}

main().catch((e) => { console.log(`FAIL authn: ${e && e.stack ? e.stack : e}`); console.log(`${passed} passed, ${failed + 1} failed`); });
