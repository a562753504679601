"""ESIA test fixtures: throw-away GOST keys and the emulator on its own port.

Import the fixtures a test module needs (`from tests.esia_fixtures import ...`). The
emulator runs in a thread with its own WSGI handler, so the portal reaches it over real
HTTP with httpx, exactly as it reaches ESIA. The emulator binds an ephemeral port (the
kernel's choice, so parallel workers and other test runs never collide), or the first
free one of ESIA_TEST_PORTS (a range such as 18150-18199) when that is set.
"""

import copy
import html
import os
import re
import socketserver
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

from portal.esia_emulator.wsgi import EmulatorWSGIHandler
from portal.identity.devkeys import key_pair_write


@dataclass(frozen=True)
class EsiaKeys:
    client_key: Path
    client_cert: Path
    emulator_key: Path
    emulator_cert: Path
    stranger_key: Path
    stranger_cert: Path


@pytest.fixture(scope="session")
def esia_keys(tmp_path_factory) -> EsiaKeys:
    """Test-only key pairs, generated per test session, never written to the repository."""
    folder = tmp_path_factory.mktemp("esia-keys")
    keys = EsiaKeys(*(folder / name for name in (
        "client.key.pem", "client.cert.pem", "emulator.key.pem", "emulator.cert.pem",
        "stranger.key.pem", "stranger.cert.pem",
    )))  # fmt: skip
    key_pair_write(keys.client_key, keys.client_cert, "test client")
    key_pair_write(keys.emulator_key, keys.emulator_cert, "test emulator")
    key_pair_write(keys.stranger_key, keys.stranger_cert, "somebody else")
    return keys


class _EmulatorServer(socketserver.ThreadingMixIn, WSGIServer):
    """Threaded, but unlike Django's live server it leaves DB connections alone: the
    emulator has none, and the live server thread shares the test database's."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def _emulator_server() -> _EmulatorServer:
    """Bind at once rather than probe for a free port and bind later: between the two,
    another xdist worker's emulator could take the port."""
    ports = os.environ.get("ESIA_TEST_PORTS", "")
    if not ports:
        return _EmulatorServer(("127.0.0.1", 0), _QuietHandler)
    first, last = (int(p) for p in ports.split("-"))
    for port in range(first, last + 1):
        try:
            return _EmulatorServer(("127.0.0.1", port), _QuietHandler)
        except OSError:
            continue
    raise RuntimeError(f"no free port for the ESIA emulator in {ports}")


@pytest.fixture(scope="session")
def esia_emulator_url():
    """The emulator serving on 127.0.0.1:<port> for the whole test session."""
    server = _emulator_server()
    server.set_app(EmulatorWSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


ISSUER = "http://esia-emulator.test/"


def esia_configure(settings, keys: EsiaKeys, emulator_url: str, portal_url: str) -> None:
    settings.ESIA_EMULATOR_ENABLED = True
    settings.ESIA_BASE_URL = emulator_url
    settings.ESIA_ISSUER = settings.ESIA_EMULATOR_ISSUER = ISSUER
    settings.ESIA_CLIENT_ID = "PORTAL_TEST"
    settings.ESIA_REDIRECT_URI = f"{portal_url}/login/esia/callback/"
    settings.ESIA_LOGOUT_REDIRECT_URL = f"{portal_url}/"
    settings.ESIA_SIGNER = "gost-file"
    settings.ESIA_CLIENT_KEY, settings.ESIA_CLIENT_CERT = keys.client_key, keys.client_cert
    settings.ESIA_EMULATOR_KEY, settings.ESIA_EMULATOR_CERT = keys.emulator_key, keys.emulator_cert
    settings.ESIA_CERT = keys.emulator_cert
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(emulator_url)
    settings.CONTENT_SECURITY_POLICY = policy


@pytest.fixture
def esia_setup(settings, esia_keys, esia_emulator_url) -> EsiaKeys:
    """Portal and emulator configured for each other; the portal is Django's test client."""
    esia_configure(settings, esia_keys, esia_emulator_url, "http://testserver")
    return esia_keys


# One client for the whole run: building an httpx client loads the CA bundle (~50 ms).
_browser = httpx.Client(timeout=10)


def emulator_choose(authorization_url: str, *, oid: str | None = None, cancel: bool = False):
    """What a person does on the ESIA page: pick an account (or press «Отмена»).

    Returns ESIA's redirect back to the portal (a full URL)."""
    page = _browser.get(authorization_url)
    assert page.status_code == 200, page.text[:500]
    match = re.search(r'name="auth_request" value="([^"]+)"', page.text)
    assert match, "the emulator's login page has no request field"
    form = {"auth_request": html.unescape(match.group(1))}
    form |= {"cancel": "1"} if cancel else {"persona": oid or ""}
    answer = _browser.post(authorization_url.split("?")[0], data=form)
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["location"]
