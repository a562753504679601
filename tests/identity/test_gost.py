"""Signing vectors: byte order of GOST R 34.10-2012 signatures as ESIA expects them."""

import shutil
import subprocess
import sys

import pytest

from portal.identity import gost
from portal.identity.signers import CommandSigner, GostFileSigner, SignerError

# A fixed private scalar makes the public key a vector (key and signatures are test-only).
TEST_KEY = gost.GostPrivateKey(
    bytes.fromhex("7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28")
)


def test_streebog256_matches_the_published_digest_of_hello():
    digest = gost.streebog256(b"hello").hex()
    assert digest.startswith("3fb0700a") and digest.endswith("6d6d")


def test_a_signature_verifies_and_a_changed_message_does_not():
    signature = TEST_KEY.sign(b"client_id+scope+timestamp")
    assert len(signature) == 64
    assert gost.verify_openssl_order(TEST_KEY.public_be, b"client_id+scope+timestamp", signature)
    assert not gost.verify_openssl_order(
        TEST_KEY.public_be, b"client_id+scope+timestamP", signature
    )


def test_signatures_are_in_openssl_order_not_gostcrypto_order():
    """OpenSSL order = gostcrypto's halves swapped over the reversed digest."""
    signature = TEST_KEY.sign(b"data")
    swapped = signature[32:] + signature[:32]
    assert not gost.verify_openssl_order(TEST_KEY.public_be, b"data", swapped)
    raw = gost._signer().sign(
        bytearray(TEST_KEY.private_be), bytearray(gost.streebog256(b"data")[::-1])
    )
    assert gost.verify_openssl_order(TEST_KEY.public_be, b"data", bytes(raw[32:] + raw[:32]))


def test_key_and_certificate_files_round_trip():
    again = gost.GostPrivateKey.from_pem(TEST_KEY.to_pem())
    assert again == TEST_KEY
    cert = gost.self_signed_certificate(TEST_KEY, "test")
    algorithm, public = gost.certificate_public_key(
        gost.certificate_der(gost.certificate_to_pem(cert))
    )
    assert algorithm == gost.OID_GOST2012_256
    assert public == TEST_KEY.public_be
    assert gost.certificate_hash(cert) == gost.streebog256(cert).hex()
    assert len(gost.certificate_hash(cert)) == 64


def _files(tmp_path, key=TEST_KEY):
    key_path, cert_path = tmp_path / "k.pem", tmp_path / "c.pem"
    key_path.write_text(key.to_pem())
    cert_path.write_text(gost.certificate_to_pem(gost.self_signed_certificate(key, "t")))
    return key_path, cert_path


def test_command_signer_reverses_cryptopro_output(tmp_path):
    key_path, cert_path = _files(tmp_path)
    # Stands in for CryptoPro: prints the signature with all bytes reversed.
    script = (
        "import sys; from portal.identity import gost; "
        f"k = gost.GostPrivateKey.from_pem(open({str(key_path)!r}).read()); "
        "sys.stdout.buffer.write(k.sign(sys.stdin.buffer.read())[::-1])"
    )
    command = f"{sys.executable} -c {_quote(script)}"
    signer = CommandSigner(command, cert_path, reverse=True, timeout=20)
    assert gost.verify_openssl_order(TEST_KEY.public_be, b"abc", signer.sign(b"abc"))
    unreversed = CommandSigner(command, cert_path, reverse=False, timeout=20)
    assert not gost.verify_openssl_order(TEST_KEY.public_be, b"abc", unreversed.sign(b"abc"))


def _quote(text):
    import shlex

    return shlex.quote(text)


def test_command_signer_failures_are_signer_errors(tmp_path):
    _, cert_path = _files(tmp_path)
    with pytest.raises(SignerError):
        CommandSigner("false", cert_path, reverse=False, timeout=5).sign(b"x")
    with pytest.raises(SignerError):
        CommandSigner("echo short", cert_path, reverse=False, timeout=5).sign(b"x")
    with pytest.raises(SignerError):
        CommandSigner("/nonexistent/signer", cert_path, reverse=False, timeout=5).sign(b"x")


def _gost_engine() -> bool:
    if not shutil.which("openssl"):
        return False
    probe = subprocess.run(["openssl", "engine", "gost"], capture_output=True, check=False)
    return probe.returncode == 0


openssl_gost = pytest.mark.skipif(not _gost_engine(), reason="OpenSSL GOST engine not installed")


def _openssl(*args, **kwargs):
    argv = ["openssl", *(str(a) for a in args)]
    return subprocess.run(argv, capture_output=True, check=True, **kwargs)


@openssl_gost
def test_openssl_signature_verifies_here_and_ours_verifies_in_openssl(tmp_path):
    key_pem, cert_pem, pub_pem = tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / "pub.pem"
    _openssl(
        *[
            "genpkey",
            "-engine",
            "gost",
            "-algorithm",
            "gost2012_256",
            "-pkeyopt",
            "paramset:A",
            "-out",
        ],
        key_pem,
    )
    _openssl(
        *["req", "-engine", "gost", "-new", "-x509", "-subj", "/CN=t", "-md_gost12_256", "-key"],
        key_pem,
        "-out",
        cert_pem,
    )
    pub_pem.write_bytes(_openssl("pkey", "-engine", "gost", "-in", str(key_pem), "-pubout").stdout)
    message = b"PORTAL_TESTopenid fullname2025.09.02 13:00:29 +0300state"

    # OpenSSL signs (as a production CommandSigner would) -> our verifier accepts.
    command = f"openssl dgst -engine gost -md_gost12_256 -sign {key_pem}"
    signer = CommandSigner(command, cert_pem, reverse=False, timeout=20)
    _, public = gost.certificate_public_key(signer.certificate_der)
    assert gost.verify_openssl_order(public, message, signer.sign(message))

    # We sign with OpenSSL's key file -> `openssl dgst -verify` accepts.
    ours = GostFileSigner(key_pem, cert_pem).sign(message)
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(ours)
    verify = ["dgst", "-engine", "gost", "-md_gost12_256", "-verify"]
    verified = _openssl(*verify, pub_pem, "-signature", tmp_path / "sig", tmp_path / "msg")
    assert b"Verified OK" in verified.stdout

    # And ESIA's certificate hash agrees with OpenSSL's Streebog over the DER.
    der = _openssl("x509", "-in", str(cert_pem), "-outform", "DER").stdout
    openssl_out = _openssl(*["dgst", "-engine", "gost", "-md_gost12_256", "-r"], input=der).stdout
    assert gost.certificate_hash(der) == openssl_out.split()[0].decode()


@openssl_gost
def test_our_development_certificate_is_valid_for_openssl(tmp_path):
    _, cert_path = _files(tmp_path)
    result = subprocess.run(
        ["openssl", "verify", "-engine", "gost", "-CAfile", str(cert_path), str(cert_path)],
        capture_output=True, check=False,
    )  # fmt: skip
    assert b": OK" in result.stdout
