"""Settings of the benchmark server: production settings plus a bench-only urlconf.

Production-like on purpose (DEBUG off, the same middleware and session engine), so
that what is measured is what would run. Only two things differ: a fixed secret key
(the bench writes sessions itself) and the urlconf, which adds the framework-floor
view without touching portal.urls.
"""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")
# As in production behind the TLS-terminating proxy: the load generator sends
# X-Forwarded-Proto: https (and Origin on POSTs), so no HTTPS redirect is measured.
os.environ.setdefault("BEHIND_TLS_PROXY", "1")


def _redis_up(host: str = "127.0.0.1", port: int = 6379) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# Production runs with Redis (shared cache, cached_db sessions, rate-limit counters);
# use the machine's Redis when it is there, database 1 to stay clear of anything else.
if _redis_up():
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
# All load comes from one address and a thousand bench users: per-IP limits would turn
# the measurement into a measurement of the limiter (tested in tests/, not here).
os.environ.setdefault("RATELIMIT_ENABLE", "0")

from portal.settings import *  # noqa: E402, F403
from portal.settings import LOGGING  # noqa: E402

ROOT_URLCONF = "bench.urls"
# One log line per booking would make the server measure its own terminal.
LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": "WARNING"}}
