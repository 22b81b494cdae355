// Prints a user's access token for bench/profile.sh (userinfo, introspect-user): signs in with
// the sign-in form and exchanges the code, as bench/run.mjs prepares its fixed requests.
//
//   node bench/lib/user_token.mjs ORIGIN SERVER_ID CLIENT_ID CLIENT_SECRET LOGIN PASSWORD REDIRECT_URI
import { randomBytes } from 'node:crypto';

import { Jar, basicAuth, browse, makePool, send } from './http.mjs';

const [origin, server, clientId, clientSecret, username, password, redirectUri] = process.argv.slice(2);
const pool = makePool(origin, 2);
const base = `/oauth2/${server}/v1`;
const q = new URLSearchParams({
  client_id: clientId,
  response_type: 'code',
  scope: 'openid profile email',
  redirect_uri: redirectUri,
  state: randomBytes(12).toString('base64url'),
  nonce: randomBytes(12).toString('base64url'),
});
const { code } = await browse(pool, { origin, startPath: `${base}/authorize?${q}`, redirectUri, jar: new Jar(), username, password });
if (!code) throw new Error('no authorization code');
const res = await send(pool, {
  method: 'POST',
  path: `${base}/token`,
  headers: { authorization: basicAuth(clientId, clientSecret) },
  body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }).toString(),
});
if (res.status !== 200) throw new Error(`code exchange -> ${res.status}: ${res.text.slice(0, 200)}`);
console.log(JSON.parse(res.text).access_token);
await pool.close();
