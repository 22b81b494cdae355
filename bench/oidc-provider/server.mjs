// panva/oidc-provider configured like Gatehouse's benchmark setup, for the comparison run by
// scripts/bench.sh (bench/run.mjs starts it pinned to one core, exactly like gatehouse).
//
// Equivalent to Gatehouse:
//   - one confidential web client: client_secret_basic, one redirect URI, grants
//     authorization_code + refresh_token, response_type code, PKCE optional (as for Gatehouse's
//     confidential clients);
//   - RS256 signing with a 2048-bit RSA key; scopes openid profile email offline_access with the
//     standard OIDC claims; introspection and revocation enabled;
//   - the client_credentials grant with JWT access tokens (what Gatehouse issues), one resource
//     server per algorithm: `resource=urn:bench:rs256|es256|eddsa` gets a token signed RS256,
//     ES256 (P-256) or EdDSA (Ed25519), scope `bench.read`; the keys of all three are published;
//   - a refresh grant that returns the same refresh token (rotateRefreshToken: false), like
//     Gatehouse's static refresh tokens;
//   - 5-minute codes, 1-hour access and ID tokens;
//   - no consent screen (Gatehouse, like Okta, asks none for assigned first-party apps): every
//     authorization reuses or creates a grant for the requested scopes;
//   - a minimal password sign-in page in place of devInteractions, verifying an argon2id hash with
//     Gatehouse's parameters (m=19456 KiB, t=2, p=1; node-argon2, the reference C implementation).
// Differences that remain (see BENCHMARKS.md): oidc-provider keeps everything in memory (an
// unbounded Map adapter below, no database), and by default issues opaque access tokens (one RS256
// signature per token response, for the ID token) where Gatehouse issues JWT access tokens (two
// signatures). BENCH_AT_FORMAT=jwt removes that difference for the equal-work row
// (`oidc-provider-jwt` in bench/run.mjs): authorization requests default to the resource
// `urn:bench:at`, whose access tokens are RS256 JWTs, and the code exchange and refresh (with or
// without rotation) issue them (two signatures per response, as Gatehouse). Those tokens are for
// that resource, not userinfo, so that mode is run only for the code and refresh rows.
//
// Environment: BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_REDIRECT_URI, BENCH_LOGIN,
// BENCH_PASSWORD, BENCH_AT_FORMAT (opaque, the default, or jwt). Listens on 127.0.0.1, on an
// ephemeral port, and prints `listening on URL`.

import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import argon2 from 'argon2';
import Provider, { errors } from 'oidc-provider';

const env = (name, fallback) => process.env[name] || fallback;
const CLIENT_ID = env('BENCH_CLIENT_ID', 'bench-client');
const CLIENT_SECRET = env('BENCH_CLIENT_SECRET', 'bench-client-secret-0123456789abcdef');
const ROTATE_CLIENT_ID = env('BENCH_ROTATE_CLIENT_ID', 'bench-rotate');
const REDIRECT_URI = env('BENCH_REDIRECT_URI', 'https://client.example.test/cb');
const LOGIN = env('BENCH_LOGIN', 'bench.user@example.com');
const PASSWORD = env('BENCH_PASSWORD', 'Bench-pass-1234!');
const JWT_ACCESS_TOKENS = env('BENCH_AT_FORMAT', 'opaque') === 'jwt';

const ARGON2 = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const ACCOUNT_ID = 'bench-user-0001';
const account = {
  sub: ACCOUNT_ID,
  name: 'Bench User',
  given_name: 'Bench',
  family_name: 'User',
  preferred_username: LOGIN,
  email: LOGIN,
  email_verified: true,
  locale: 'en_US',
  zoneinfo: 'America/Los_Angeles',
};
const passwordHash = await argon2.hash(PASSWORD, ARGON2);

const jwk = (privateKey, kid, alg) => ({ ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' });
const signingJwks = [
  jwk(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'bench-rs256', 'RS256'),
  jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'bench-es256', 'ES256'),
  jwk(generateKeyPairSync('ed25519').privateKey, 'bench-eddsa', 'EdDSA'),
];
// client_credentials resource servers: one per signing algorithm.
const RESOURCES = { 'urn:bench:rs256': 'RS256', 'urn:bench:es256': 'ES256', 'urn:bench:eddsa': 'EdDSA' };
// BENCH_AT_FORMAT=jwt: the resource of the code and refresh grants' access tokens, with the
// OIDC scopes the benchmark asks for (Gatehouse's access tokens carry them as `scp`).
const AT_RESOURCE = 'urn:bench:at';
const OIDC_SCOPE = 'openid profile email offline_access';

// oidc-provider's bundled development adapter is an LRU capped at 1000 entries (codes minted ahead
// of the exchange scenario get evicted) and rescans a grant's whole token list on every write; this
// is the same in-memory storage without either, so the comparison measures the provider itself.
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
const store = new Map(); // `${model}:${id}` -> { payload, exp (ms) }
const grants = new Map(); // grantId -> Set of keys
const sessionUids = new Map();
const userCodes = new Map();
const live = (key) => {
  const e = store.get(key);
  if (!e) return undefined;
  if (e.exp <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return e.payload;
};
class BenchMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    store.set(key, { payload, exp: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity });
    if (this.model === 'Session') sessionUids.set(payload.uid, id);
    if (payload.userCode) userCodes.set(payload.userCode, id);
    if (payload.grantId && GRANTABLE.has(this.model)) {
      let members = grants.get(payload.grantId);
      if (!members) grants.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
  }

  async find(id) {
    return live(this.key(id));
  }

  async findByUid(uid) {
    const id = sessionUids.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(code) {
    const id = userCodes.get(code);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = live(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    const key = this.key(id);
    const payload = store.get(key)?.payload;
    store.delete(key);
    if (payload?.grantId) grants.get(payload.grantId)?.delete(key);
  }

  async revokeByGrantId(grantId) {
    for (const key of grants.get(grantId) ?? []) store.delete(key);
    grants.delete(grantId);
  }
}
setInterval(() => {
  const now = Date.now();
  for (const [key, e] of store) {
    if (e.exp <= now) {
      store.delete(key);
      if (e.payload?.grantId) grants.get(e.payload.grantId)?.delete(key);
    }
  }
}, 30_000).unref();

const server = http.createServer();
server.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  adapter: BenchMemoryAdapter,
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }, {
    // The refresh-with-rotation row: the same client, but its refresh tokens rotate.
    client_id: ROTATE_CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: signingJwks },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'locale', 'zoneinfo'],
    email: ['email', 'email_verified'],
  },
  // Okta's URL layout, so the runner drives both servers the same way.
  routes: {
    authorization: '/oauth2/default/v1/authorize',
    token: '/oauth2/default/v1/token',
    userinfo: '/oauth2/default/v1/userinfo',
    jwks: '/oauth2/default/v1/keys',
    introspection: '/oauth2/default/v1/introspect',
    revocation: '/oauth2/default/v1/revoke',
    end_session: '/oauth2/default/v1/logout',
  },
  features: {
    devInteractions: { enabled: false },
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => !(client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client.clientId),
    },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Only client_credentials names a resource; code and refresh grants keep opaque tokens,
      // unless BENCH_AT_FORMAT=jwt, where they default to (and keep) AT_RESOURCE.
      defaultResource: async (_ctx, _client, oneOf) => oneOf ?? (JWT_ACCESS_TOKENS ? AT_RESOURCE : undefined),
      useGrantedResource: async () => JWT_ACCESS_TOKENS,
      getResourceServerInfo: async (_ctx, resource) => {
        if (JWT_ACCESS_TOKENS && resource === AT_RESOURCE) {
          return { scope: OIDC_SCOPE, audience: AT_RESOURCE, accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        }
        const alg = RESOURCES[resource];
        if (!alg) throw new errors.InvalidTarget();
        return { scope: 'bench.read', audience: resource, accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
      },
    },
  },
  pkce: { required: () => false },
  rotateRefreshToken: (ctx) => ctx.oidc.client.clientId === ROTATE_CLIENT_ID,
  // oidc-provider follows OIDC Core 11 and drops offline_access unless prompt=consent, which would
  // force a consent screen on every authorization; Gatehouse (like Okta) honours offline_access
  // without it. Every request of the benchmark asks for offline_access, so issue refresh tokens to
  // the refresh-capable client, not tied to the browser session.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 300,
    IdToken: 3600,
    RefreshToken: 90 * 24 * 3600,
    Grant: 90 * 24 * 3600,
    Session: 2 * 3600,
    Interaction: 600,
  },
  findAccount: async (_ctx, sub) => (sub === ACCOUNT_ID ? { accountId: sub, claims: async () => account } : undefined),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  // No consent screen: reuse the session's grant for this client, or create one for what is asked.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    const requested = ctx.oidc.params?.scope || 'openid';
    if (!grant) {
      grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    }
    const missing = requested.split(' ').filter((s) => !(grant.getOIDCScope() || '').split(' ').includes(s));
    // BENCH_AT_FORMAT=jwt: the resource's scopes too, or the request would need consent.
    const resourceMissing = JWT_ACCESS_TOKENS && !(grant.getResourceScope(AT_RESOURCE) || '');
    if (missing.length || !grantId || resourceMissing) {
      grant.addOIDCScope(requested);
      if (JWT_ACCESS_TOKENS) grant.addResourceScope(AT_RESOURCE, requested);
      await grant.save();
    }
    return grant;
  },
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const formPage = (uid, error) => `<!doctype html><html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
${error ? `<p>${escapeHtml(error)}</p>` : ''}
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form></body></html>`;

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const callback = provider.callback();
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/;

server.on('request', async (req, res) => {
  const path = req.url.split('?')[0];
  const m = INTERACTION.exec(path);
  if (!m) {
    callback(req, res);
    return;
  }
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== m[1] || details.prompt.name !== 'login') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('unexpected interaction');
      return;
    }
    if (!m[2] && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(formPage(details.uid));
      return;
    }
    if (m[2] && req.method === 'POST') {
      const form = await readForm(req);
      const ok = form.get('username') === LOGIN && await argon2.verify(passwordHash, form.get('password') || '');
      if (!ok) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(formPage(details.uid, 'Sign-in failed'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT_ID } }, { mergeWithLastSubmission: false });
      return;
    }
    res.writeHead(405).end();
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err?.message || err));
  }
});

console.log(`listening on ${issuer}`);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
