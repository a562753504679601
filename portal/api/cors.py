"""Which browser origins may call the API: those of registered apps (docs/api.md, «CORS»).

django-cors-headers asks every receiver of `check_request_enabled`; this one allows an
origin when it is the scheme and host of a registered app's redirect URI, so a browser
app works from where it was registered and nowhere else. Custom schemes (mobile apps) are
not origins and never match.
"""

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from oauth2_provider.models import Application


def _origin_of(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def registered_origins() -> set[str]:
    origins: set[str] = set()
    for uris in Application.objects.values_list("redirect_uris", flat=True):
        origins.update(_origin_of(uri) for uri in uris.split())
    origins.discard("")
    return origins


def origin_allowed(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """The library enables CORS when the path matches CORS_URLS_REGEX *or* a receiver says
    yes, and then admits the origins the receivers allow: so the path is checked here too,
    or the site's own pages would be opened to these origins."""
    if not re.match(settings.CORS_URLS_REGEX, request.path_info):
        return False
    origin = request.headers.get("Origin", "").lower()
    return bool(origin) and origin in registered_origins()
