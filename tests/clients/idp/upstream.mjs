// The upstream identity provider of tests/clients/run_idp.sh: panva's oidc-provider 8.x on a
// loopback port, with one confidential client (Gatehouse) and one account whose claims are
// read from a JSON file on every request, so the test can change the upstream profile.
//
//   node upstream.mjs <port> <redirect_uri> <client_secret> <profile.json> [<jwks_uri>]
//
// A second client, gatehouse-csjwt, must authenticate with client_secret_jwt (HS256 with the
// same secret; oidc-provider checks aud, exp and that each jti is used once).
//
// With <jwks_uri>, a third client, gatehouse-pkjwt, must authenticate with private_key_jwt
// (RFC 7523), its keys fetched from <jwks_uri> (the IdP's JWKS on Gatehouse).
//
// It signs with the RSA key in $UPSTREAM_KEY_FILE, made (with a fresh kid) and saved there when
// the file does not exist: removing the file before a restart is a key rotation.
//
// Prints "listening <issuer>" once ready. Its development interactions (a login form taking
// any login, then a consent form) are what the test's browser fills in.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, redirectUri, clientSecret, profilePath, jwksUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

function profile() {
  return JSON.parse(readFileSync(profilePath, 'utf8'));
}

const clients = [{
    client_id: 'gatehouse',
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }, {
    client_id: 'gatehouse-csjwt',
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_jwt',
    token_endpoint_auth_signing_alg: 'HS256',
  }];
if (jwksUri) {
  clients.push({
    client_id: 'gatehouse-pkjwt',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    jwks_uri: jwksUri,
  });
}

const keyFile = process.env.UPSTREAM_KEY_FILE;
let signingKey;
if (keyFile && existsSync(keyFile)) {
  signingKey = JSON.parse(readFileSync(keyFile, 'utf8'));
} else {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
  if (keyFile) writeFileSync(keyFile, JSON.stringify(signingKey), { mode: 0o600 });
}

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name', 'name'],
    groups: ['groups'],
  },
  pkce: { required: () => true, methods: ['S256'] },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['upstream-test-cookie-key'] },
  async findAccount(ctx, id) {
    const p = profile();
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...p.claims };
      },
    };
  },
});
provider.proxy = false;
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
