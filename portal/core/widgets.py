"""A select box written out in Python, and choices taken as given (docs/performance.md,
issue 25).

Django renders a ``<select>`` with a template per ``<option>``: «Ближайшее свободное время»
offers about a hundred (specialties and districts), 8 ms of every search. `PlainSelect`
writes the markup of Django's own templates (``django/forms/widgets/select.html``,
``select_option.html``, ``attrs.html``) character for character, from the same context
(`Select.get_context`), so the page does not change; only the per-option templates go.

Django also normalises a field's choices every time they are set, and a callable's every
time they are read (`django.utils.choices.normalize_choices`): about 5 µs a pair, so the
43 places of that search cost 0.2 ms each time, three times a search (validation, the
select, its key). `plain_choices` keeps a flat list of plain pairs as it is.

`PlainHiddenInput` does for a hidden input what `PlainSelect` does for a select: the
confirm page's one-time key went through ``hidden.html``, ``input.html`` and
``attrs.html``, 66 µs of every confirm page.
"""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer
from django.utils.choices import normalize_choices
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

# What a pair of already plain choices holds: Django's normalisation would return it as is.
_PLAIN_VALUES = (str, int)


def plain_choices(value: Any) -> Any:
    """``value`` as it is when it is a list of (value, label) pairs of strings and
    integers, which `normalize_choices` would return unchanged; anything else (groups,
    lazy labels, enumerations, callables) normalised by Django."""
    if isinstance(value, list) and all(
        type(pair) is tuple
        and len(pair) == 2
        and type(pair[0]) in _PLAIN_VALUES
        and type(pair[1]) is str
        for pair in value
    ):
        return value
    return normalize_choices(value)


def set_plain_choices(field: forms.ChoiceField, value: Any) -> None:
    """A choice field's ``choices`` setter: as Django's own, minus the normalisation of
    plain pairs (a ModelChoiceField subclass takes it with its own getter). The widget
    normalises them again unless it is a `PlainSelect`, which takes them as checked here."""
    choices = field._choices = plain_choices(value)  # type: ignore[attr-defined]
    if isinstance(field.widget, PlainSelect):
        field.widget._choices = choices  # type: ignore[attr-defined]
    else:
        field.widget.choices = choices


def _set_widget_choices(widget: forms.Select, value: Any) -> None:
    widget._choices = plain_choices(value)  # type: ignore[attr-defined]


def plain_choices_property(base: type[forms.ChoiceField]) -> Any:
    """``base``'s own ``choices`` getter with `set_plain_choices` as its setter."""
    djangos: Any = vars(base)["choices"]
    return property(djangos.fget, set_plain_choices)


class PlainChoiceField(forms.ChoiceField):
    """A ChoiceField whose plain choices, set per form, are kept as given."""

    choices = plain_choices_property(forms.ChoiceField)


# Drawn selects kept per process (a few forms × the values chosen); past this, forgotten.
MAX_DRAWN = 1024
_drawn: dict[Any, SafeString] = {}


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``attrs.html``: a name alone for True, nothing for False, else name="value"."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {conditional_escape(name)}")
        if value is not True:
            out.append(f'="{conditional_escape(str(value))}"')
    return "".join(out)


class PlainSelect(forms.Select):
    # Plain choices kept as given here too: Django's Select normalises them once more.
    choices = property(vars(forms.widgets.ChoiceWidget)["choices"].fget, _set_widget_choices)

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        """The markup, remembered for everything it is made of (the choices included: a
        changed name is another key), since the same select is drawn on every search."""
        try:
            key = (
                get_language(),
                name,
                value if value is None else str(value),
                tuple(sorted({**self.attrs, **(attrs or {})}.items())),
                tuple((str(v), str(label)) for v, label in self.choices),
            )
            hash(key)
        except TypeError:  # grouped or unusual choices: drawn every time
            return self._render_plain(name, value, attrs)
        html = _drawn.get(key)
        if html is None:
            html = self._render_plain(name, value, attrs)
            if len(_drawn) >= MAX_DRAWN:
                _drawn.clear()
            _drawn[key] = html
        return html

    def _render_plain(self, name: str, value: Any, attrs: dict[str, Any] | None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"', widget["name"]), _attrs(widget["attrs"]), ">"]
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in group_choices:
                parts.append(format_html('\n  <option value="{}"', str(option["value"])))
                parts.append(_attrs(option["attrs"]))
                # select_option.html ends with a newline of its own.
                parts.append(format_html(">{}</option>\n", option["label"]))
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # every value above is escaped


class PlainHiddenInput(forms.HiddenInput):
    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        """Django's ``input.html`` (which ``hidden.html`` includes) with ``attrs.html``,
        character for character, from the same context (`Input.get_context`)."""
        widget = self.get_context(name, value, attrs)["widget"]
        parts: list[str] = [
            format_html('<input type="{}" name="{}"', widget["type"], widget["name"])
        ]
        if widget["value"] is not None:
            parts.append(format_html(' value="{}"', str(widget["value"])))
        parts += [_attrs(widget["attrs"]), ">"]
        return mark_safe("".join(parts))  # every value above is escaped
