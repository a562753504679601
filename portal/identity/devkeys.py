"""Development key pairs for the portal (ESIA client) and the ESIA emulator.

Generated on first run into PORTAL_DATA_DIR/esia-dev/, never committed. They are
self-signed and good for the emulator only: real ESIA knows nothing about them.
"""

from pathlib import Path
from typing import Any

from portal.identity import gost


def key_pair_write(key_path: Path, cert_path: Path, common_name: str) -> bool:
    """Create the key and certificate unless both exist. True if created."""
    if key_path.exists() and cert_path.exists():
        return False
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key = gost.GostPrivateKey.generate()
    key_path.write_text(key.to_pem())
    key_path.chmod(0o600)
    cert_path.write_text(gost.certificate_to_pem(gost.self_signed_certificate(key, common_name)))
    return True


def dev_keys_ensure(settings: Any) -> list[Path]:
    created = []
    pairs = [
        (settings.ESIA_CLIENT_KEY, settings.ESIA_CLIENT_CERT, "Портал пациента (разработка)"),
        (settings.ESIA_EMULATOR_KEY, settings.ESIA_EMULATOR_CERT, "Эмулятор ЕСИА (разработка)"),
    ]
    for key_path, cert_path, name in pairs:
        if key_pair_write(Path(key_path), Path(cert_path), name):
            created.append(Path(cert_path))
    return created
