"""ESIA's JSON Web Tokens: signed with GOST R 34.10-2012 (`GOST3410_2012_256`) or RS256.

JOSE libraries do not know ESIA's GOST algorithm name, and the format is small, so the
compact serialisation is handled here. Verification checks the signature with the
configured ESIA certificate first, then the claims (docs/domain.md, "Identity").
"""

import base64
import json
import math
import time
from collections.abc import Callable
from typing import Any, TypeGuard

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from portal.identity import gost

GOST_ALG = "GOST3410_2012_256"
LEEWAY_SECONDS = 60


class TokenError(Exception):
    """A token failed verification; `reason` is a short machine word for logs and tests."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(payload: dict[str, Any], sign: Callable[[bytes], bytes], **header: Any) -> str:
    head = {"alg": GOST_ALG, "typ": "JWT", "ver": 1, **header}
    signing_input = ".".join(
        b64url(json.dumps(part, ensure_ascii=False, separators=(",", ":")).encode())
        for part in (head, payload)
    )
    return f"{signing_input}.{b64url(sign(signing_input.encode('ascii')))}"


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        header = json.loads(b64url_decode(head_b64))
        claims = json.loads(b64url_decode(body_b64))
        signature = b64url_decode(sig_b64)
    except (ValueError, AttributeError) as exc:
        raise TokenError("malformed") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenError("malformed")
    return header, claims, f"{head_b64}.{body_b64}".encode("ascii"), signature


def _signature_ok(alg: str, cert_der: bytes, signing_input: bytes, signature: bytes) -> bool:
    if alg == GOST_ALG:
        key_alg, public = gost.certificate_public_key(cert_der)
        return key_alg == gost.OID_GOST2012_256 and gost.verify_openssl_order(
            public, signing_input, signature
        )
    if alg == "RS256":
        # A GOST certificate is unknown to `cryptography`: an RS256 header then simply
        # does not verify (the header is the attacker's choice, the certificate ours).
        try:
            key = x509.load_der_x509_certificate(cert_der).public_key()
        except (UnsupportedAlgorithm, ValueError):
            return False
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        try:
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True
    return False


def _is_time(value: Any) -> TypeGuard[int | float]:
    """A NumericDate: a finite number of seconds (not a bool, not NaN or infinity)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def verify(
    token: str,
    cert_der: bytes,
    *,
    issuer: str,
    audience: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    header, claims, signing_input, signature = unverified_parts(token)
    if not _signature_ok(str(header.get("alg")), cert_der, signing_input, signature):
        raise TokenError("signature")
    moment = time.time() if now is None else now
    if claims.get("iss") != issuer:
        raise TokenError("iss")
    if audience is not None:
        aud = claims.get("aud")
        if aud != audience and not (isinstance(aud, list) and audience in aud):
            raise TokenError("aud")
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
    # NaN compares false with everything, so `moment > NaN` would never expire.
    if not _is_time(exp) or moment > exp + LEEWAY_SECONDS:
        raise TokenError("expired")
    if nbf is not None and (not _is_time(nbf) or moment < nbf - LEEWAY_SECONDS):
        raise TokenError("not_yet_valid")
    return claims
