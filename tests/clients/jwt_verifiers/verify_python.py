"""okta-jwt-verifier (Python, PyPI) against gatehouse tokens, over https (the library refuses
http issuers). It fetches {issuer}/v1/keys itself with aiohttp, trusting the dev CA through
SSL_CERT_FILE.

  python verify_python.py <fixtures.json>   (written by setup_tokens.py)
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import sys

import jwt.api_jwt
from okta_jwt_verifier import AccessTokenVerifier, IDTokenVerifier

F = json.load(open(sys.argv[1]))
results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    results.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'} {name}{(': ' + detail) if detail and not ok else ''}")


async def accepts(name, coro):
    try:
        await coro
        check(name, True)
    except Exception as e:  # noqa: BLE001 - any refusal is the failure here
        check(name, False, f"{type(e).__name__}: {e}")


async def rejects(name, coro, expect: str = ""):
    try:
        await coro
        check(name, False, "accepted")
    except Exception as e:  # noqa: BLE001
        text = f"{type(e).__name__}: {e}"
        check(name, expect.lower() in text.lower(), text)


def flip_signature(token: str) -> str:
    head, body, sig = token.split(".")
    i = len(sig) // 2
    return f"{head}.{body}.{sig[:i]}{'A' if sig[i] != 'A' else 'B'}{sig[i + 1:]}"


def swap_payload(token: str, other: str) -> str:
    """`token`'s header and signature around `other`'s claims."""
    head, _, sig = token.split(".")
    return f"{head}.{other.split('.')[1]}.{sig}"


def retitle(token: str) -> str:
    """The token with a `kid` the server never published."""
    head, body, sig = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    header["kid"] = "not-a-published-kid"
    new = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return f"{new}.{body}.{sig}"


class Later(dt.datetime):
    """PyJWT's clock, moved past the tokens' expiry (and the verifier's 120 s leeway)."""

    shift = dt.timedelta(0)

    @classmethod
    def now(cls, tz=None):
        return dt.datetime.now(tz) + cls.shift


async def main() -> int:
    iss, aud = F["issuer"], F["audience"]
    at, user_at, idt = F["cc_access_token"], F["user_access_token"], F["id_token"]
    verifier = AccessTokenVerifier(issuer=iss, audience=aud)

    await accepts("client_credentials access token accepted", verifier.verify(at))
    await accepts("user access token accepted", verifier.verify(user_at))
    await rejects("changed signature rejected", verifier.verify(flip_signature(at)), "signature")
    await rejects(
        "claims swapped under another signature rejected",
        verifier.verify(swap_payload(at, user_at)),
        "signature",
    )
    await rejects(
        "wrong audience rejected",
        AccessTokenVerifier(issuer=iss, audience="api://someone-else").verify(at),
        "audience",
    )
    # Same server and keys under another host name, so only the issuer string differs.
    await rejects(
        "wrong issuer rejected",
        AccessTokenVerifier(issuer=F["other_issuer"], audience=aud).verify(at),
        "issuer",
    )
    await rejects("unknown kid rejected", verifier.verify(retitle(at)))
    await rejects("ID token is not an access token for this audience", verifier.verify(idt), "audience")

    id_verifier = IDTokenVerifier(issuer=iss, client_id=F["web_client_id"])
    await accepts("ID token accepted (aud = client_id, nonce)", id_verifier.verify(idt, nonce=F["nonce"]))
    await rejects("ID token with wrong nonce rejected", id_verifier.verify(idt, nonce="not-the-nonce"), "nonce")
    await rejects(
        "ID token for another client rejected",
        IDTokenVerifier(issuer=iss, client_id=F["service_client_id"]).verify(idt, nonce=F["nonce"]),
        "aud",
    )
    await rejects(
        "ID token with changed signature rejected",
        id_verifier.verify(flip_signature(idt), nonce=F["nonce"]),
        "signature",
    )

    # Expiry, as the library checks it: the same token once its exp has passed.
    real = jwt.api_jwt.datetime
    jwt.api_jwt.datetime = Later
    try:
        Later.shift = dt.timedelta(seconds=F["cc_expires_in"] - 300)
        await accepts("access token still valid 5 min before exp", verifier.verify(at))
        Later.shift = dt.timedelta(seconds=F["cc_expires_in"] + 121 + 60)
        await rejects("expired access token rejected", verifier.verify(at), "expired")
        await rejects("expired ID token rejected", id_verifier.verify(idt, nonce=F["nonce"]), "expired")
    finally:
        jwt.api_jwt.datetime = real

    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
