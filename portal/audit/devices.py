"""A short, human summary of the device an action came from, for the journal.

The journal answers «from which device» with «Яндекс Браузер, Android», never with the
raw User-Agent header: the header is long, identifies a browser build almost uniquely
and is text the client controls. Views call ``device_summary`` and pass the result to
services as a plain ``device`` value; ``audit_record`` keeps it in the event's details.

Hand-written on purpose: the journal needs a family name and an OS, not a version or a
device model, and a dozen ordered patterns do that without a parser dependency and its
regex database. Anything unrecognised becomes «Другое устройство».
"""

import re

from django.http import HttpRequest

# Order matters: Chromium-based browsers also say "Chrome" and "Safari", so the
# specific ones come first.
_BROWSERS: tuple[tuple[str, str], ...] = (
    (r"YaBrowser|YaApp", "Яндекс Браузер"),
    (r"Edg(e|A|iOS)?/", "Microsoft Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"SamsungBrowser", "Samsung Internet"),
    (r"Firefox/|FxiOS", "Firefox"),
    (r"Chrome/|CriOS|Chromium", "Chrome"),
    (r"Safari/", "Safari"),
)
_SYSTEMS: tuple[tuple[str, str], ...] = (
    (r"Android", "Android"),
    (r"iPhone|iPad|iPod", "iOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"CrOS", "ChromeOS"),
    (r"Linux", "Linux"),
)
_BOTS = re.compile(r"bot|crawler|spider|curl|wget|python|httpx|okhttp", re.IGNORECASE)
UNKNOWN = "Другое устройство"
MAX_LENGTH = 40


def _first(patterns: tuple[tuple[str, str], ...], user_agent: str) -> str | None:
    return next((name for pattern, name in patterns if re.search(pattern, user_agent)), None)


def device_summary(user_agent: str | None) -> str:
    """«Chrome, Windows», «Safari, iOS», or «Другое устройство»; at most 40 characters."""
    header = (user_agent or "")[:512]
    if not header or _BOTS.search(header):
        return UNKNOWN
    browser = _first(_BROWSERS, header)
    system = _first(_SYSTEMS, header)
    parts = [p for p in (browser, system) if p]
    return ", ".join(parts)[:MAX_LENGTH] if parts else UNKNOWN


def request_device(request: HttpRequest) -> str:
    """What a view passes to a service as ``device``."""
    return device_summary(request.META.get("HTTP_USER_AGENT"))
