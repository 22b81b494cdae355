// @okta/jwt-verifier (npm) against gatehouse tokens, over https with no testing flags: it
// fetches {issuer}/v1/keys through jwks-rsa, trusting the dev CA through NODE_EXTRA_CA_CERTS.
//
//   node verify_node.js <fixtures.json>   (written by setup_tokens.py)
'use strict';

const fs = require('fs');
const OktaJwtVerifier = require('@okta/jwt-verifier');

const F = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const results = [];

function check(name, ok, detail) {
  results.push(ok);
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${!ok && detail ? ': ' + detail : ''}`);
}

async function accepts(name, promise) {
  try {
    await promise;
    check(name, true);
  } catch (e) {
    check(name, false, e && e.message);
  }
}

async function rejects(name, promise, expect = '') {
  try {
    await promise;
    check(name, false, 'accepted');
  } catch (e) {
    const text = String((e && e.message) || e);
    check(name, text.toLowerCase().includes(expect.toLowerCase()), text);
  }
}

function flipSignature(token) {
  const [head, body, sig] = token.split('.');
  const i = Math.floor(sig.length / 2);
  return `${head}.${body}.${sig.slice(0, i)}${sig[i] === 'A' ? 'B' : 'A'}${sig.slice(i + 1)}`;
}

function swapPayload(token, other) {
  const [head, , sig] = token.split('.');
  return `${head}.${other.split('.')[1]}.${sig}`;
}

// njwt reads the clock through `new Date()`; move it past a token's expiry.
function withClockShift(seconds, fn) {
  const RealDate = Date;
  const shift = seconds * 1000;
  class Later extends RealDate {
    constructor(...args) {
      if (args.length) super(...args);
      else super(RealDate.now() + shift);
    }
    static now() {
      return RealDate.now() + shift;
    }
  }
  global.Date = Later;
  return Promise.resolve()
    .then(fn)
    .finally(() => {
      global.Date = RealDate;
    });
}

async function main() {
  const { issuer, audience } = F;
  const at = F.cc_access_token;
  const verifier = new OktaJwtVerifier({ issuer, assertClaims: { cid: F.service_client_id } });

  await accepts('client_credentials access token accepted (aud, iss, cid asserted)', verifier.verifyAccessToken(at, audience));
  await accepts('user access token accepted', new OktaJwtVerifier({ issuer }).verifyAccessToken(F.user_access_token, audience));
  await rejects('changed signature rejected', verifier.verifyAccessToken(flipSignature(at), audience), 'signature');
  await rejects('claims swapped under another signature rejected', verifier.verifyAccessToken(swapPayload(at, F.user_access_token), audience), 'signature');
  await rejects('wrong audience rejected', verifier.verifyAccessToken(at, 'api://someone-else'), 'audience');
  await rejects('asserted cid of another client rejected', new OktaJwtVerifier({ issuer, assertClaims: { cid: F.web_client_id } }).verifyAccessToken(at, audience), 'cid');
  // Same server and keys under another host name, so only the issuer string differs.
  const other = new OktaJwtVerifier({ issuer: F.other_issuer });
  await rejects('wrong issuer rejected', other.verifyAccessToken(at, audience), 'issuer');
  await rejects('unknown kid rejected', verifier.verifyAccessToken(retitle(at), audience), 'kid');

  const idt = F.id_token;
  const idVerifier = new OktaJwtVerifier({ issuer });
  await accepts('ID token accepted (aud = client_id, nonce)', idVerifier.verifyIdToken(idt, F.web_client_id, F.nonce));
  await rejects('ID token with wrong nonce rejected', idVerifier.verifyIdToken(idt, F.web_client_id, 'not-the-nonce'), 'nonce');
  await rejects('ID token for another client rejected', idVerifier.verifyIdToken(idt, F.service_client_id, F.nonce), 'audience');
  await rejects('ID token with changed signature rejected', idVerifier.verifyIdToken(flipSignature(idt), F.web_client_id, F.nonce), 'signature');

  await withClockShift(F.cc_expires_in - 300, () =>
    accepts('access token still valid 5 min before exp', verifier.verifyAccessToken(at, audience)));
  await withClockShift(F.cc_expires_in + 60, async () => {
    await rejects('expired access token rejected', verifier.verifyAccessToken(at, audience), 'expired');
    await rejects('expired ID token rejected', idVerifier.verifyIdToken(idt, F.web_client_id, F.nonce), 'expired');
  });

  const passed = results.filter(Boolean).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

// The token with a `kid` the server never published.
function retitle(token) {
  const [head, body, sig] = token.split('.');
  const header = JSON.parse(Buffer.from(head, 'base64url').toString());
  header.kid = 'not-a-published-kid';
  return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${body}.${sig}`;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
