"""Each way an id_token must be refused (docs/domain.md, «Identity»)."""

import datetime
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from portal.identity import esia, gost, jwt
from portal.identity.esia import EsiaError
from tests.esia_fixtures import ISSUER


def _token(keys, **changes):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "PORTAL_TEST", "sub": 1000320001, "iat": now, "nbf": now}
    claims |= {"exp": now + 3600, "urn:esia:sbj": {"urn:esia:sbj:lvl": "PR"}}
    claims |= changes
    key = gost.GostPrivateKey.from_pem(keys.emulator_key.read_text())
    return jwt.encode(claims, key.sign, sbt="id")


def _reason(token):
    with pytest.raises(EsiaError) as caught:
        esia.id_token_verify(token)
    return caught.value.detail


def test_a_good_token_is_accepted(esia_setup):
    assert esia.id_token_verify(_token(esia_setup))["sub"] == 1000320001


def test_a_token_signed_by_another_key_is_refused(esia_setup):
    key = gost.GostPrivateKey.from_pem(esia_setup.stranger_key.read_text())
    token = jwt.encode({"iss": ISSUER, "aud": "PORTAL_TEST", "exp": time.time() + 60}, key.sign)
    assert _reason(token) == "signature"


def test_a_token_with_a_changed_payload_is_refused(esia_setup):
    head, _, signature = _token(esia_setup).split(".")
    forged = jwt.b64url(
        b'{"iss":"%s","aud":"PORTAL_TEST","sub":1,"exp":9999999999}' % ISSUER.encode()
    )
    assert _reason(f"{head}.{forged}.{signature}") == "signature"


def test_wrong_audience_is_refused(esia_setup):
    assert _reason(_token(esia_setup, aud="OTHER_SYSTEM")) == "aud"


def test_wrong_issuer_is_refused(esia_setup):
    assert _reason(_token(esia_setup, iss="http://esia.gosuslugi.ru/")) == "iss"


def test_expired_beyond_leeway_is_refused_but_within_leeway_accepted(esia_setup):
    assert _reason(_token(esia_setup, exp=int(time.time()) - 61 - 5)) == "expired"
    assert esia.id_token_verify(_token(esia_setup, exp=int(time.time()) - 30))


def test_not_yet_valid_is_refused(esia_setup):
    assert _reason(_token(esia_setup, nbf=int(time.time()) + 600)) == "not_yet_valid"


def test_garbage_and_unknown_algorithms_are_refused(esia_setup):
    assert _reason("not-a-jwt") == "malformed"
    body = _token(esia_setup).split(".")[1]
    none_head = jwt.b64url(b'{"alg":"none","typ":"JWT"}')
    assert _reason(f"{none_head}.{body}.") == "signature"


def test_rs256_tokens_verify_with_an_rsa_certificate(esia_setup, settings, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "esia-rsa")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    settings.ESIA_CERT = tmp_path / "rsa.pem"
    settings.ESIA_CERT.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    claims = {"iss": ISSUER, "aud": "PORTAL_TEST", "sub": 5, "exp": int(time.time()) + 60}

    def rsa_sign(data):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    assert esia.id_token_verify(jwt.encode(claims, rsa_sign, alg="RS256"))["sub"] == 5
    assert (
        _reason(jwt.encode(claims | {"sub": 6}, rsa_sign, alg="RS256")[:-4] + "AAAA") == "signature"
    )
    # A GOST-signed token against an RSA certificate is refused, not crashed on.
    assert _reason(_token(esia_setup)) == "signature"
