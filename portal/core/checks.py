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
