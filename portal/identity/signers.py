"""Signers of ESIA's `client_secret`, behind one interface.

- `GostFileSigner`: pure-Python GOST with a key file — the emulator, development and the
  ESIA test stand.
- `CommandSigner`: runs a configured command (OpenSSL with the GOST engine, CryptoPro's
  `cryptcp`/`csptest`, an HSM client) that reads the data on stdin and writes the raw
  64-byte signature on stdout. Certified keys never enter the Python process.

Both return the signature in the byte order ESIA expects (OpenSSL order).
"""

import shlex
import subprocess
from functools import cache
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.identity import gost


class SignerError(Exception):
    """The signer could not produce a signature (logged; the user sees a retry page)."""


class Signer(Protocol):
    certificate_der: bytes

    def sign(self, data: bytes) -> bytes: ...


class GostFileSigner:
    def __init__(self, key_path: Path, cert_path: Path) -> None:
        self.key = gost.GostPrivateKey.from_pem(Path(key_path).read_text())
        self.certificate_der = gost.certificate_der(Path(cert_path).read_bytes())

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)


class CommandSigner:
    """`command` is split like a shell line; it must not need a shell.

    CryptoPro writes the signature little-endian as a whole: `reverse=True` turns it into
    OpenSSL order, which is what ESIA verifies.
    """

    def __init__(self, command: str, cert_path: Path, *, reverse: bool, timeout: float) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise ImproperlyConfigured("ESIA_SIGNER_COMMAND is empty")
        self.reverse = reverse
        self.timeout = timeout
        self.certificate_der = gost.certificate_der(Path(cert_path).read_bytes())

    def sign(self, data: bytes) -> bytes:
        try:
            done = subprocess.run(
                self.argv, input=data, capture_output=True, timeout=self.timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SignerError(f"signer command failed to run: {type(exc).__name__}") from exc
        if done.returncode != 0:
            raise SignerError(f"signer command exited with {done.returncode}")
        signature = done.stdout
        if len(signature) != 64:
            raise SignerError(f"signer returned {len(signature)} bytes, expected 64")
        return signature[::-1] if self.reverse else signature


@cache
def _signer_for(kind: str, key: str, cert: str, command: str, reverse: bool) -> Signer:
    if kind == "gost-file":
        return GostFileSigner(Path(key), Path(cert))
    if kind == "command":
        return CommandSigner(command, Path(cert), reverse=reverse, timeout=10.0)
    raise ImproperlyConfigured(f"ESIA_SIGNER must be gost-file or command, got {kind!r}")


def client_signer() -> Signer:
    """The portal's signer as configured (cached per configuration, keys read once)."""
    return _signer_for(
        settings.ESIA_SIGNER,
        str(settings.ESIA_CLIENT_KEY),
        str(settings.ESIA_CLIENT_CERT),
        settings.ESIA_SIGNER_COMMAND,
        settings.ESIA_SIGNER_REVERSE,
    )
