// A back-channel logout receiver, as an app would write one with `jose` (OpenID Connect
// Back-Channel Logout 1.0 §2.6): POST /backchannel-logout takes a form-encoded `logout_token`,
// verifies its signature against the issuer's JWKS (found by discovery), `iss`, `aud`, `typ`
// `logout+jwt`, `iat`/`exp`, the back-channel `events` member, the absence of `nonce`, and a
// `sub` or `sid`; answers 200 for a valid token and 400 otherwise. GET /received lists the
// verified claims (and the refusals), for the test driver.
//
// Environment: ISSUER (the issuer the app signs in with), PORT_FILE (where the chosen port is
// written). The app's client id (the tokens' audience) is set by the driver once the app exists:
// POST /audience with the client id as the body. Listens on 127.0.0.1 only.
import http from 'node:http';
import fs from 'node:fs';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const ISSUER = process.env.ISSUER;
let CLIENT_ID = null;
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const received = [];
const refused = [];
let jwks;

async function keys() {
  if (!jwks) {
    const res = await fetch(`${ISSUER}/.well-known/openid-configuration`);
    const config = await res.json();
    if (!config.backchannel_logout_supported) throw new Error('the issuer does not support back-channel logout');
    jwks = createRemoteJWKSet(new URL(config.jwks_uri));
  }
  return jwks;
}

async function verify(token) {
  if (!CLIENT_ID) throw new Error('no audience configured yet');
  const { payload, protectedHeader } = await jwtVerify(token, await keys(), {
    issuer: ISSUER,
    audience: CLIENT_ID,
    typ: 'logout+jwt',
    maxTokenAge: '2m',
    requiredClaims: ['iat', 'exp', 'jti', 'events'],
  });
  if (!payload.events || typeof payload.events[EVENT] !== 'object') throw new Error('no back-channel logout event');
  if ('nonce' in payload) throw new Error('a logout token must not carry a nonce');
  if (!payload.sub && !payload.sid) throw new Error('neither sub nor sid');
  return { ...payload, alg: protectedHeader.alg };
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/received') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ received, refused }));
    return;
  }
  if (req.method === 'POST' && req.url === '/audience') {
    let id = '';
    req.on('data', (chunk) => { id += chunk; });
    req.on('end', () => { CLIENT_ID = id.trim(); res.writeHead(204).end(); });
    return;
  }
  if (req.method !== 'POST' || req.url !== '/backchannel-logout') {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; if (body.length > 65536) req.destroy(); });
  req.on('end', async () => {
    const token = new URLSearchParams(body).get('logout_token');
    try {
      if (!token) throw new Error('no logout_token');
      received.push(await verify(token));
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    } catch (e) {
      refused.push(String(e && e.message || e));
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_request', error_description: String(e) }));
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.env.PORT_FILE, String(server.address().port));
  console.log(`receiver listening on 127.0.0.1:${server.address().port}`);
});
