"""GOST R 34.10-2012 (256 bit) keys, signatures and certificates in pure Python.

ESIA signs and expects signatures in "OpenSSL order" (docs/esia.md): gostcrypto's
raw signature with its two 32-byte halves swapped, computed over the Streebog-256 digest
with its bytes reversed. Keys and certificates are read and written in the same DER
layouts OpenSSL's GOST engine uses, so files from `openssl genpkey -engine gost` work
here and ours work there. Only the small part of DER that these layouts need is
implemented.
"""

import base64
import datetime
import re
import secrets
from dataclasses import dataclass

import gostcrypto
from gostcrypto import gostsignature

# OpenSSL's paramset A for gost2012_256 is the CryptoPro-A curve, which gostcrypto names
# after its TC26 alias.
_CURVE = gostsignature.CURVES_R_1323565_1_024_2019["id-tc26-gost-3410-2012-256-paramSetB"]
OID_GOST2012_256 = "1.2.643.7.1.1.1.1"
OID_CRYPTOPRO_A = "1.2.643.2.2.35.1"
OID_STREEBOG_256 = "1.2.643.7.1.1.2.2"
OID_SIGN_GOST2012_256 = "1.2.643.7.1.1.3.2"
OID_COMMON_NAME = "2.5.4.3"


def streebog256(data: bytes) -> bytes:
    hasher = gostcrypto.gosthash.new("streebog256", data=data)
    return bytes(hasher.digest())


class _GostSignature(gostsignature.GOST34102012):
    """gostcrypto with Python's built-in modular inverse.

    gostcrypto inverts with a recursive extended Euclid in pure Python on every point
    addition, which made one signature cost ~100 ms. `pow(x, -1, n)` gives the same
    value (the unique inverse in [0, n)) several times faster.
    """

    @staticmethod
    def _invert(value: int, n_mod: int) -> int:
        return pow(value, -1, n_mod)


def _signer() -> gostsignature.GOST34102012:
    return _GostSignature(gostsignature.MODE_256, _CURVE)


# --- minimal DER -------------------------------------------------------------------


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _len(len(content)) + content


def der_seq(*items: bytes) -> bytes:
    return der(0x30, b"".join(items))


def der_int(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    return der(0x02, body)


def der_oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body.extend(reversed(chunk))
    return der(0x06, bytes(body))


def der_read(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """One TLV at ``offset``: (tag, content, offset after it)."""
    tag = data[offset]
    length = data[offset + 1]
    pos = offset + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, data[pos : pos + length], pos + length


def der_children(content: bytes) -> list[tuple[int, bytes]]:
    items, pos = [], 0
    while pos < len(content):
        tag, body, pos = der_read(content, pos)
        items.append((tag, body))
    return items


def _pem(label: str, body: bytes) -> str:
    text = base64.b64encode(body).decode()
    lines = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def pem_to_der(text: str | bytes, label: str) -> bytes:
    if isinstance(text, bytes):
        if not text.lstrip().startswith(b"-----"):
            return text  # already DER
        text = text.decode("ascii")
    match = re.search(rf"-----BEGIN {label}-----(.*?)-----END {label}-----", text, re.S)
    if not match:
        raise ValueError(f"no {label} block in PEM")
    return base64.b64decode("".join(match.group(1).split()))


# --- keys and signatures -------------------------------------------------------------


def _algorithm_identifier() -> bytes:
    return der_seq(
        der_oid(OID_GOST2012_256), der_seq(der_oid(OID_CRYPTOPRO_A), der_oid(OID_STREEBOG_256))
    )


def public_key_from_private(private_be: bytes) -> bytes:
    """Big-endian X‖Y, the form gostcrypto verifies with."""
    return bytes(_signer().public_key_generate(bytearray(private_be)))


def sign_digest_openssl_order(private_be: bytes, digest: bytes) -> bytes:
    raw = bytes(_signer().sign(bytearray(private_be), bytearray(digest[::-1])))
    return raw[32:] + raw[:32]


def verify_openssl_order(public_be: bytes, data: bytes, signature: bytes) -> bool:
    if len(signature) != 64 or len(public_be) != 64:
        return False
    raw = signature[32:] + signature[:32]
    try:
        return bool(
            _signer().verify(
                bytearray(public_be), bytearray(streebog256(data)[::-1]), bytearray(raw)
            )
        )
    except (gostsignature.GOSTSignatureError, ValueError):
        return False


@dataclass(frozen=True)
class GostPrivateKey:
    private_be: bytes  # the secret scalar, big-endian (gostcrypto's convention)

    @classmethod
    def generate(cls) -> "GostPrivateKey":
        scalar = secrets.randbelow(int(_CURVE["q"]) - 1) + 1
        return cls(scalar.to_bytes(32, "big"))

    @classmethod
    def from_pem(cls, text: str | bytes) -> "GostPrivateKey":
        """PKCS#8 as written by OpenSSL's GOST engine (little-endian octet string)."""
        body = pem_to_der(text, "PRIVATE KEY")
        _, outer, _ = der_read(body)
        children = der_children(outer)
        tag, key = children[2]
        if tag != 0x04:
            raise ValueError("unexpected PKCS#8 layout")
        if len(key) == 32:  # OpenSSL: the raw little-endian scalar
            return cls(key[::-1])
        inner_tag, inner, _ = der_read(key)
        if inner_tag == 0x02:  # some writers wrap it in an INTEGER (big-endian)
            return cls(inner[-32:].rjust(32, b"\x00"))
        return cls(inner[::-1])

    def to_pem(self) -> str:
        body = der_seq(der_int(0), _algorithm_identifier(), der(0x04, self.private_be[::-1]))
        return _pem("PRIVATE KEY", body)

    @property
    def public_be(self) -> bytes:
        return public_key_from_private(self.private_be)

    def sign(self, data: bytes) -> bytes:
        return sign_digest_openssl_order(self.private_be, streebog256(data))


# --- certificates ----------------------------------------------------------------------


def _spki(public_be: bytes) -> bytes:
    x, y = public_be[:32], public_be[32:]
    point = der(0x04, x[::-1] + y[::-1])
    return der_seq(_algorithm_identifier(), der(0x03, b"\x00" + point))


def _name(common_name: str) -> bytes:
    attr = der_seq(der_oid(OID_COMMON_NAME), der(0x0C, common_name.encode()))
    return der_seq(der(0x31, attr))


def _utc(moment: datetime.datetime) -> bytes:
    return der(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())


def self_signed_certificate(key: GostPrivateKey, common_name: str, days: int = 3650) -> bytes:
    """A self-signed X.509 v3 certificate (DER) for development and test stands only."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    sig_alg = der_seq(der_oid(OID_SIGN_GOST2012_256))
    tbs = der_seq(
        der(0xA0, der_int(2)),
        der_int(secrets.randbits(63) + 1),
        sig_alg,
        _name(common_name),
        der_seq(_utc(now - datetime.timedelta(days=1)), _utc(now + datetime.timedelta(days=days))),
        _name(common_name),
        _spki(key.public_be),
    )
    return der_seq(tbs, sig_alg, der(0x03, b"\x00" + key.sign(tbs)))


def certificate_to_pem(cert_der: bytes) -> str:
    return _pem("CERTIFICATE", cert_der)


def certificate_der(text: str | bytes) -> bytes:
    return pem_to_der(text, "CERTIFICATE")


def certificate_public_key(cert_der: bytes) -> tuple[str, bytes]:
    """(algorithm OID, key) of a certificate; for GOST the key is big-endian X‖Y."""
    _, cert, _ = der_read(cert_der)
    _, tbs = der_children(cert)[0]
    fields = der_children(tbs)
    if fields[0][0] == 0xA0:  # explicit version
        fields = fields[1:]
    spki = der_children(fields[5][1])
    algorithm_oid = _oid_text(der_children(spki[0][1])[0][1])
    bits = spki[1][1][1:]
    if algorithm_oid != OID_GOST2012_256:
        return algorithm_oid, bits
    _, point, _ = der_read(bits)
    return algorithm_oid, point[:32][::-1] + point[32:][::-1]


def _oid_text(body: bytes) -> str:
    parts = [body[0] // 40, body[0] % 40]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def certificate_hash(cert_der: bytes) -> str:
    """ESIA's `client_certificate_hash`: Streebog-256 of the DER certificate, hex."""
    return streebog256(cert_der).hex()
