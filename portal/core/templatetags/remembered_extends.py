"""``{% extends %}`` that finds the root template's blocks once (a template builtin,
settings.TEMPLATES).

Django's tag walks the whole parent template on every render to list its blocks, 19 µs
of every page for ``base.html`` (docs/performance.md, issue 25). A compiled template
never changes, so the list is kept per compiled parent (and dropped with it); everything
else is Django's own tag.
"""

import weakref
from typing import Any

from django import template
from django.template.base import Parser, Template, TextNode, Token
from django.template.loader_tags import (
    BLOCK_CONTEXT_KEY,
    BlockContext,
    BlockNode,
    ExtendsNode,
    do_extends,
)
from django.utils.safestring import SafeString

register = template.Library()

# Compiled parent -> its blocks by name, or None when it extends another template itself.
_root_blocks: "weakref.WeakKeyDictionary[Template, dict[str, Any] | None]" = (
    weakref.WeakKeyDictionary()
)


def _blocks_of_root(parent: Template) -> dict[str, Any] | None:
    try:
        return _root_blocks[parent]
    except KeyError:
        pass
    blocks: dict[str, Any] | None = None
    for node in parent.nodelist:
        # As Django's tag: the ExtendsNode has to be the first non-text node.
        if not isinstance(node, TextNode):
            if not isinstance(node, ExtendsNode):
                found: list[Any] = parent.nodelist.get_nodes_by_type(BlockNode)
                blocks = {n.name: n for n in found}
            break
    _root_blocks[parent] = blocks
    return blocks


class RememberedExtendsNode(ExtendsNode):
    def render(self, context: template.Context) -> SafeString:
        compiled_parent: Any = self.get_parent(context)
        if BLOCK_CONTEXT_KEY not in context.render_context:
            context.render_context[BLOCK_CONTEXT_KEY] = BlockContext()
        block_context = context.render_context[BLOCK_CONTEXT_KEY]
        block_context.add_blocks(self.blocks)
        root_blocks = _blocks_of_root(compiled_parent)
        if root_blocks is not None:  # add_blocks only reads the dict: it can be shared
            block_context.add_blocks(root_blocks)
        with context.render_context.push_state(compiled_parent, isolated_context=False):
            rendered: SafeString = compiled_parent._render(context)
            return rendered


@register.tag
def extends(parser: Parser, token: Token) -> RememberedExtendsNode:
    node: Any = do_extends(parser, token)
    return RememberedExtendsNode(node.nodelist, node.parent_name, node.template_dirs)
