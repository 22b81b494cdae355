// Okta's Node SDK (@okta/okta-sdk-nodejs 8.x) as a service app: grants Okta API scopes with
// applicationApi.grantConsentToScope, then authenticates in `authorizationMode: 'PrivateKey'`
// (client_credentials with a private_key_jwt assertion; this SDK always adds a DPoP proof header,
// which gatehouse ignores for apps that are not DPoP-bound) and calls /api/v1 with the token.
// The service app is registered with raw HTTP: the SDK does not wrap /oauth2/v1/clients.
// Environment: GATEHOUSE_URL, GATEHOUSE_TOKEN (SSWS); NODE_PATH pointing at a node_modules that
// has @okta/okta-sdk-nodejs (the runner uses tests/clients/okta_sdk/node/node_modules).
// Prints "N passed, M failed"; exits non-zero on any failure.
'use strict';

const crypto = require('node:crypto');
const okta = require('@okta/okta-sdk-nodejs');

const URL_ = process.env.GATEHOUSE_URL.replace(/\/$/, '');
const TOKEN = process.env.GATEHOUSE_TOKEN;

let passed = 0;
let failed = 0;
function check(name, condition, detail = '') {
  if (condition) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name} ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
  }
}

async function main() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'okta-node-kid';
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
  const res = await fetch(`${URL_}/oauth2/v1/clients`, {
    method: 'POST',
    headers: { Authorization: `SSWS ${TOKEN}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({
      client_name: 'okta-node-service-app',
      application_type: 'service',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
    }),
  });
  const registered = await res.json();
  check('POST /oauth2/v1/clients registers the service app', res.status === 201, registered);
  const clientId = registered.client_id;

  const admin = new okta.Client({ orgUrl: URL_, token: TOKEN });
  for (const scopeId of ['okta.users.read', 'okta.groups.read']) {
    try {
      const grant = await admin.applicationApi.grantConsentToScope({
        appId: clientId,
        oAuth2ScopeConsentGrant: { issuer: URL_, scopeId },
      });
      check(`grantConsentToScope(${scopeId})`, grant.scopeId === scopeId, grant);
    } catch (e) {
      check(`grantConsentToScope(${scopeId})`, false, `${e.status} ${e.errorCode} ${e.message}`);
    }
  }

  const service = new okta.Client({
    orgUrl: URL_,
    authorizationMode: 'PrivateKey',
    clientId,
    scopes: 'okta.users.read okta.groups.read',
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }),
    keyId: kid,
  });
  try {
    const users = [];
    for await (const u of await service.userApi.listUsers({ limit: 5 })) {
      users.push(u);
      if (users.length >= 5) break;
    }
    check('PrivateKey mode: listUsers with the org-server token', users.length > 0, users.length);
  } catch (e) {
    check('PrivateKey mode: listUsers with the org-server token', false, `${e.status} ${e.errorCode} ${e.message}`);
  }
  try {
    const groups = [];
    for await (const g of await service.groupApi.listGroups()) groups.push(g);
    check('PrivateKey mode: listGroups (okta.groups.read)', groups.length > 0, groups.length);
  } catch (e) {
    check('PrivateKey mode: listGroups (okta.groups.read)', false, `${e.status} ${e.errorCode} ${e.message}`);
  }
  try {
    await service.userApi.createUser({
      body: { profile: { firstName: 'Node', lastName: 'Bot', email: 'node.bot@example.com', login: 'node.bot@example.com' } },
      activate: false,
    });
    check('PrivateKey mode: createUser is forbidden without okta.users.manage', false, 'no error');
  } catch (e) {
    check('PrivateKey mode: createUser is forbidden without okta.users.manage',
      e.status === 403 && e.errorCode === 'E0000006', `${e.status} ${e.errorCode} ${e.message}`);
  }
}

main()
  .catch((e) => {
    failed += 1;
    console.log(`FAIL unexpected error ${e.stack || e}`);
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
