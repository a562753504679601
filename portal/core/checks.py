import ipaddress
from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def rate_limits_are_shared(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Several app servers each with a memory cache would each grant the full limit."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("LocMemCache"):
        return [
            checks.Warning(
                "Rate limits use a per-process memory cache.",
                hint="Set REDIS_URL so every worker and server shares the counters.",
                id="portal.W001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def client_address_behind_the_proxy(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Behind a proxy without these, every citizen shares the proxy's per-IP budget."""
    if not getattr(settings, "BEHIND_TLS_PROXY", False):
        return []
    errors: list[checks.CheckMessage] = []
    if not settings.CLIENT_IP_HEADER:
        errors.append(
            checks.Error(
                "BEHIND_TLS_PROXY is on but CLIENT_IP_HEADER is empty: every request "
                "would count against the proxy's address.",
                hint="Set CLIENT_IP_HEADER=X-Forwarded-For (or X-Real-IP), as the proxy sends.",
                id="portal.E001",
            )
        )
    if not settings.TRUSTED_PROXIES:
        errors.append(
            checks.Error(
                "BEHIND_TLS_PROXY is on but TRUSTED_PROXIES is empty: the client address "
                "header cannot be told from one a client forged.",
                hint="Set TRUSTED_PROXIES to the proxies' addresses or networks, comma-separated.",
                id="portal.E002",
            )
        )
    for entry in settings.TRUSTED_PROXIES:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            errors.append(
                checks.Error(
                    f"TRUSTED_PROXIES has {entry!r}, not an address or network.", id="portal.E003"
                )
            )
    return errors


@checks.register(checks.Tags.database)
def statement_timeout_outlasts_the_lock_timeout(
    app_configs: Any, **kwargs: Any
) -> list[checks.CheckMessage]:
    """A booking waits up to SCHEDULING_LOCK_TIMEOUT_MS for a lock and then says «busy»
    (docs/concurrency.md); a shorter statement timeout would cancel that wait first and
    the patient would get an error instead of «try again in a few seconds»."""
    statement = settings.DB_STATEMENT_TIMEOUT_MS
    if 0 < statement <= settings.SCHEDULING_LOCK_TIMEOUT_MS:
        return [
            checks.Error(
                f"DB_STATEMENT_TIMEOUT_MS ({statement}) must exceed "
                f"SCHEDULING_LOCK_TIMEOUT_MS ({settings.SCHEDULING_LOCK_TIMEOUT_MS}), or be 0.",
                id="portal.E010",
            )
        ]
    return []
