from django.http import HttpRequest

from portal.core.accessibility import AccessibilityChoices, choices_of


def accessibility(request: HttpRequest) -> dict[str, AccessibilityChoices | str]:
    """The visitor's version for the visually impaired, and where the switch returns to."""
    return {"a11y": choices_of(request), "a11y_next": request.get_full_path()}


def replica(request: HttpRequest) -> dict[str, bool]:
    """Whether this page was read from the replica (degraded mode: `core.degraded`), for
    base.html's notice; asked in the template, the missing attribute cost 11 µs a page."""
    return {"reads_from_replica": bool(request.__dict__.get("reads_from_replica"))}
