"""Several narrow reads sent as one statement: a page that needs two or three small reads
pays one round trip for them (docs/performance.md, issue 25: «Reads sent together»).

Each `Part` is a queryset (its filters) and the columns to read from it, as expressions.
`together` writes them as one ``UNION ALL``: every part's columns get a range of their
own, NULL in the other parts' rows, followed by the part's index (``kind``), so no
column ever holds two parts' types and no part has to line its columns up with
another's. A NULL stands in cast to the type of the column it pads, with its output
field: PostgreSQL matches a union's columns pair by pair (two untyped NULLs would be
text), and the rows are converted by the first part's columns
(`SQLCompiler.get_converters`), so a date read by a later part still comes back as a
date on SQLite. The rows come back
ordered by part, then by each part's ``order``; `apart` splits them again, each row cut
to its own columns.

The result is a ``values_list`` queryset, so `core.compiled.CompiledQuery` compiles it
once per process like any other narrow read.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet, Value
from django.db.models.functions import Cast

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Part:
    """One read: ``queryset``'s rows (its ordering ignored), ``columns`` by name (an
    expression each: ``F("starts_at")``, a ``Subquery``, an aggregate over a
    ``values()`` grouping), ordered by ``order`` (names among ``columns``)."""

    queryset: QuerySet[Any]
    columns: dict[str, Any]
    order: Sequence[str] = field(default_factory=tuple)


def _name(index: int, column: str) -> str:
    # A prefix of its own: an annotation may not take a field's name (``starts_at``).
    return f"p{index}_{column}"


def _null(output_field: Any) -> Cast:
    # Typed: PostgreSQL matches a UNION's columns pair by pair, and two untyped NULLs
    # in one column would be taken for text before a later part's number came.
    return Cast(Value(None), output_field=output_field)


def together(*parts: Part) -> "QuerySet[Any, Row]":
    """``parts`` as one statement: rows of every part's columns, then ``kind``."""
    output_fields: dict[str, Any] = {}
    for index, part in enumerate(parts):
        own = {_name(index, c): e for c, e in part.columns.items()}
        resolved = part.queryset.annotate(**own).query.annotations
        output_fields |= {name: resolved[name].output_field for name in own}
    names = list(output_fields)
    branches = []
    for index, part in enumerate(parts):
        own = {_name(index, c): e for c, e in part.columns.items()}
        every = {name: own[name] if name in own else _null(output_fields[name]) for name in names}
        # Annotations only, in one order: every part's columns in the same places.
        branches.append(
            part.queryset.order_by()
            .annotate(**every, kind=Value(index))
            .values_list(*names, "kind")
        )
    order = ["kind", *(_name(i, c) for i, part in enumerate(parts) for c in part.order)]
    combined: QuerySet[Any, Row] = branches[0].union(*branches[1:], all=True)
    return combined.order_by(*order)


def apart(rows: Sequence[Row], *widths: int) -> list[list[Row]]:
    """``rows`` of `together` split by part, each row cut to that part's columns (``widths``:
    how many each part reads, in the parts' order)."""
    split: list[list[Row]] = [[] for _ in widths]
    starts = [0]
    for width in widths:
        starts.append(starts[-1] + width)
    for row in rows:
        kind = row[-1]
        split[kind].append(tuple(row[starts[kind] : starts[kind + 1]]))
    return split
