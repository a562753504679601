"""A URLconf of routes that do not take every number, for `{% url %}`'s tests."""

from django.http import HttpResponse
from django.urls import path, re_path, register_converter


def _view(request, **kwargs):  # pragma: no cover - never served
    return HttpResponse()


class _Padded:
    """Writes a number in six digits: not as it is."""

    regex = "[0-9]{6}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{value:06d}"


register_converter(_Padded, "padded")

urlpatterns = [
    re_path(r"^three/(?P<n>[0-9]{3})/$", _view, name="three"),
    path("padded/<padded:n>/", _view, name="padded"),
    path("two/<int:a>/and/<int:b>/", _view, name="two"),
]
