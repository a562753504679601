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

from portal.settings import *  # noqa: F403
from portal.settings import LOGGING

ROOT_URLCONF = "bench.urls"
# One log line per booking would make the server measure its own terminal.
LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": "WARNING"}}
