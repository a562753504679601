"""Django's ``i18n`` template library, whose ``{% translate "literal" %}`` remembers its
rendering (every ``{% load i18n %}`` loads this: `core.templates_backend`).

A ``{% translate %}`` builds a lazy string, looks the message up in the catalog and
escapes it on every render, 6 µs; a patient page renders 20–40 of them outside the kept
frame, 0.1–0.2 ms of each page (docs/performance.md, issue 25). A literal message
without filters or a context renders the same text for the same catalog (the active
language's, replaced when translations are reloaded) and the same autoescaping, so the
node keeps that text per catalog. Everything else — a variable, filters, ``context``,
``USE_I18N`` off — goes through Django's node unchanged. Every other tag and filter of
the library is Django's own.
"""

from typing import Any

from django import template
from django.conf import settings
from django.template.base import Parser, Token, render_value_in_context
from django.templatetags import i18n as django_i18n
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import trans_real

from portal.core.templatetags.render_constants import fresh_render_constants, render_constant

register = template.Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)


class RememberedTranslateNode(django_i18n.TranslateNode):
    def __init__(self, node: django_i18n.TranslateNode) -> None:
        super().__init__(node.filter_expression, node.noop, node.asvar, node.message_context)
        expression = self.filter_expression
        # A literal message, without filters or a context: its text depends on the catalog
        # and the escaping alone.
        self.rememberable = (
            not expression.filters
            and self.message_context is None
            and isinstance(expression.var, template.Variable)
            and expression.var.lookups is None
        )
        self.rendered: dict[tuple[Any, bool], str] = {}

    def render(self, context: template.Context) -> str:
        if not self.rememberable or not settings.USE_I18N:
            return super().render(context)
        # The catalog gettext would use now (the active language's, or the default's),
        # read once per render (`render_constants`).
        key = (render_constant(context, "catalog", trans_real.catalog), context.autoescape)
        value = self.rendered.get(key)
        if value is None:
            value = self._value(context)
            if len(self.rendered) > 16:  # languages × escaping: a handful at most
                self.rendered.clear()
            self.rendered[key] = value
        if self.asvar:
            context[self.asvar] = value
            return ""
        return value

    def _value(self, context: template.Context) -> str:
        """What Django's node renders for a literal without a context (or puts in its
        ``as`` variable)."""
        self.filter_expression.var.translate = not self.noop
        value = render_value_in_context(self.filter_expression.resolve(context), context)
        is_safe = isinstance(value, SafeData)
        value = value.replace("%%", "%")  # as Django's node: doubled in the template's text
        return mark_safe(value) if is_safe else value


@register.tag("translate")
@register.tag("trans")
def translate(parser: Parser, token: Token) -> RememberedTranslateNode:
    return RememberedTranslateNode(django_i18n.do_translate(parser, token))


class MemoLanguageNode(django_i18n.LanguageNode):
    """Django's ``{% language %}``: its block reads the language's constants afresh."""

    def render(self, context: template.Context) -> str:
        with fresh_render_constants(context):
            return super().render(context)


@register.tag("language")
def language(parser: Parser, token: Token) -> MemoLanguageNode:
    node = django_i18n.language(parser, token)
    return MemoLanguageNode(node.nodelist, node.language)
