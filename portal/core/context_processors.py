from django.http import HttpRequest

from portal.core.accessibility import AccessibilityChoices, choices_of


def accessibility(request: HttpRequest) -> dict[str, AccessibilityChoices | str]:
    """The visitor's version for the visually impaired, and where the switch returns to."""
    return {"a11y": choices_of(request), "a11y_next": request.get_full_path()}
