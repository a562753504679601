"""The version for the visually impaired («версия для слабовидящих», ГОСТ Р 52872-2019).

The visitor's choices live in one cookie, not in the session, so they hold before
logging in and after logging out. The cookie is user input: anything that is not one
of the known values is ignored. Templates get the choices from the context processor
`portal.core.context_processors.accessibility` as classes on <html>; the styles are in
portal/static/portal/accessibility.css.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

# Value → label, in the order the settings page lists them; what it proposes to someone
# who has not chosen yet is AccessibilityChoices' defaults (large font, black on white).
FONT_SIZES = {
    "normal": _("Обычный (100 %)"),
    "large": _("Крупный (150 %)"),
    "larger": _("Очень крупный (200 %)"),
}
SCHEMES = {
    "black-on-white": _("Чёрным по белому"),
    "white-on-black": _("Белым по чёрному"),
    "blue-on-light-blue": _("Тёмно-синим по голубому"),
}
SPACINGS = {"normal": _("Обычный"), "wide": _("Увеличенный")}
IMAGES = {"on": _("Показывать"), "off": _("Не показывать")}


@dataclass(frozen=True)
class OptionGroup:
    name: str
    legend: str
    options: list[tuple[str, str]]
    selected: str


def option_groups(current: "AccessibilityChoices") -> list[OptionGroup]:
    """The settings panel's fieldsets, each with the visitor's current value."""
    groups = [
        ("font", _("Размер шрифта"), FONT_SIZES),
        ("scheme", _("Цветовая схема"), SCHEMES),
        ("spacing", _("Интервал между буквами и строками"), SPACINGS),
        ("images", _("Изображения"), IMAGES),
    ]
    return [
        OptionGroup(
            name=name,
            legend=str(legend),
            options=[(value, str(label)) for value, label in options.items()],
            selected=getattr(current, name),
        )
        for name, legend, options in groups
    ]


@dataclass(frozen=True)
class AccessibilityChoices:
    enabled: bool = False
    font: str = "large"
    scheme: str = "black-on-white"
    spacing: str = "normal"
    images: str = "on"

    @property
    def html_class(self) -> str:
        """Classes for <html>: every style of the version hangs on them."""
        if not self.enabled:
            return ""
        classes = ["a11y", f"a11y-font-{self.font}", f"a11y-scheme-{self.scheme}"]
        if self.spacing == "wide":
            classes.append("a11y-spacing-wide")
        if self.images == "off":
            classes.append("a11y-images-off")
        return " ".join(classes)


def _pick(value: str | None, allowed: Mapping[str, object], default: str) -> str:
    return value if value is not None and value in allowed else default


def choices_from_values(values: Mapping[str, str]) -> AccessibilityChoices:
    """Choices from a form or the cookie; unknown values fall back to the defaults."""
    default = AccessibilityChoices()
    return AccessibilityChoices(
        enabled=True,
        font=_pick(values.get("font"), FONT_SIZES, default.font),
        scheme=_pick(values.get("scheme"), SCHEMES, default.scheme),
        spacing=_pick(values.get("spacing"), SPACINGS, default.spacing),
        images=_pick(values.get("images"), IMAGES, default.images),
    )


def choices_of(request: HttpRequest) -> AccessibilityChoices:
    raw = request.COOKIES.get(settings.ACCESSIBILITY_COOKIE_NAME)
    if not raw:
        return AccessibilityChoices()
    return choices_from_values(dict(parse_qsl(raw[:200])))


def remember(response: HttpResponse, choices: AccessibilityChoices) -> None:
    if not choices.enabled:
        response.delete_cookie(settings.ACCESSIBILITY_COOKIE_NAME, samesite="Lax")
        return
    value = urlencode(
        {
            "font": choices.font,
            "scheme": choices.scheme,
            "spacing": choices.spacing,
            "images": choices.images,
        }
    )
    response.set_cookie(
        settings.ACCESSIBILITY_COOKIE_NAME,
        value,
        max_age=settings.ACCESSIBILITY_COOKIE_DAYS * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """Back to the page the visitor came from, only if it is a path on this site."""
    if (
        candidate
        and candidate.startswith("/")
        and not candidate.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return "/"
