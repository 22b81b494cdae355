// okta-auth-js's classic sign-in with a second factor (issue 19), in Node: a sign-on policy made
// through /api/v1/policies requires MFA for a group. `signInWithCredentials` answers MFA_ENROLL;
// okta-auth-js enrolls a TOTP factor (`factor.enroll()`) and activates it (`tx.activate`) with
// a code computed here (RFC 6238); the next sign-in answers MFA_REQUIRED, a wrong code is
// E0000068, the right one (`factor.verify`) gives a sessionToken whose session carries the
// factor: /authorize issues a code at once and the ID token's amr has otp and mfa.
//   GH_URL, GH_TOKEN (SSWS)
'use strict';
const assert = require('assert');
const crypto = require('crypto');

const ghUrl = process.env.GH_URL;
const token = process.env.GH_TOKEN;
const redirectUri = 'http://127.0.0.1:8585/authn-callback';
const password = 'Mfa-Classic-Passw0rd!';

async function api(method, path, body) {
  const res = await fetch(ghUrl + path, {
    method,
    headers: { Authorization: `SSWS ${token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

// RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, a base32 seed.
function totp(secret, at = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac = crypto.createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
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

async function setup() {
  const app = await api('POST', '/api/v1/apps', {
    name: 'oidc_client', label: 'Classic sign-in with MFA', signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'none' } },
    settings: { oauthClient: {
      application_type: 'browser', grant_types: ['authorization_code'], response_types: ['code'],
      redirect_uris: [redirectUri],
    } },
  });
  const group = await api('POST', '/api/v1/groups', { profile: { name: 'Classic MFA', description: '' } });
  await api('PUT', `/api/v1/apps/${app.id}/groups/${group.id}`, {});
  const policy = await api('POST', '/api/v1/policies', {
    type: 'OKTA_SIGN_ON', name: 'Classic MFA', conditions: { people: { groups: { include: [group.id] } } },
  });
  await api('POST', `/api/v1/policies/${policy.id}/rules`, {
    type: 'SIGN_ON', name: 'MFA', actions: { signon: { access: 'ALLOW', requireFactor: true, factorPromptMode: 'ALWAYS' } },
  });
  const users = [];
  for (const version of ['7', '8']) {
    const login = `classic-mfa-${version}@example.com`;
    const user = await api('POST', '/api/v1/users?activate=true', {
      profile: { login, email: login, firstName: 'Classic', lastName: `Mfa${version}` },
      credentials: { password: { value: password } },
    });
    await api('PUT', `/api/v1/groups/${group.id}/users/${user.id}`);
    users.push({ version, login, id: user.id });
  }
  return { clientId: app.credentials.oauthClient.client_id, users };
}

async function main() {
  const { clientId, users } = await setup();
  for (const { version, login, id } of users) {
    const { OktaAuth } = require(`okta-auth-js-${version}`);
    const label = `okta-auth-js ${version}.x`;
    const issuer = `${ghUrl}/oauth2/default`;
    const auth = new OktaAuth({
      issuer, clientId, redirectUri, scopes: ['openid', 'profile'], pkce: true, tokenManager: { storage: 'memory' },
    });
    let secret, enrolledAt;
    await check(`${label}: MFA_ENROLL, enroll a TOTP factor, activate it: SUCCESS`, async () => {
      const tx = await auth.signInWithCredentials({ username: login, password });
      assert.strictEqual(tx.status, 'MFA_ENROLL');
      assert.ok(!tx.sessionToken, 'no sessionToken before the factor');
      const factor = tx.factors.find((f) => f.factorType === 'token:software:totp' && f.provider === 'GOOGLE');
      assert.ok(factor, `no TOTP factor to enroll in ${JSON.stringify(tx.factors)}`);
      const activate = await factor.enroll();
      assert.strictEqual(activate.status, 'MFA_ENROLL_ACTIVATE');
      secret = activate.factor.activation.sharedSecret;
      assert.ok(/^[A-Z2-7]+=*$/.test(secret), `sharedSecret ${secret}`);
      enrolledAt = Date.now() / 1000;
      const done = await activate.activate({ passCode: totp(secret, enrolledAt) });
      assert.strictEqual(done.status, 'SUCCESS');
      assert.ok(done.sessionToken, 'no sessionToken');
    });
    let sessionToken;
    await check(`${label}: MFA_REQUIRED; a wrong code is E0000068; factor.verify gives a sessionToken`, async () => {
      const tx = await auth.signInWithCredentials({ username: login, password });
      assert.strictEqual(tx.status, 'MFA_REQUIRED');
      const factor = tx.factors.find((f) => f.factorType === 'token:software:totp');
      assert.ok(factor, `no TOTP factor in ${JSON.stringify(tx.factors)}`);
      const good = totp(secret, enrolledAt + 30); // the step after the activation's
      const wrong = String((Number(good) + 1) % 1_000_000).padStart(6, '0');
      await assert.rejects(factor.verify({ passCode: wrong }), (e) => e.errorCode === 'E0000068');
      const done = await factor.verify({ passCode: good });
      assert.strictEqual(done.status, 'SUCCESS');
      sessionToken = done.sessionToken;
      assert.ok(sessionToken, 'no sessionToken');
    });
    await check(`${label}: that sessionToken signs in at /authorize without a second prompt; amr has otp and mfa`, async () => {
      const p = await auth.token.prepareTokenParams();
      const query = new URLSearchParams({
        client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile',
        state: p.state, nonce: p.nonce, code_challenge: p.codeChallenge, code_challenge_method: 'S256', sessionToken,
      });
      const res = await fetch(`${issuer}/v1/authorize?${query}`, { redirect: 'manual' });
      assert.strictEqual(res.status, 302, `authorize answered ${res.status}`);
      const code = new URL(res.headers.get('location')).searchParams.get('code');
      assert.ok(code, `no code in ${res.headers.get('location')}`);
      const { tokens } = await auth.token.exchangeCodeForTokens({ authorizationCode: code, codeVerifier: p.codeVerifier });
      assert.strictEqual(tokens.idToken.claims.sub, id);
      const amr = tokens.idToken.claims.amr || [];
      assert.ok(amr.includes('otp') && amr.includes('mfa'), `amr ${JSON.stringify(amr)}`);
    });
  }
  console.log(`${passed} passed, ${failed} failed`);
}

main().catch((e) => { console.log(`FAIL authn_mfa: ${e && e.stack ? e.stack : e}`); console.log(`${passed} passed, ${failed + 1} failed`); });
