"""Statements written out, rows back as the ORM would give them: for the one hot path
(the booking transaction, docs/performance.md «Booking: narrow reads, fewer statements
(issue 25)») where building a query costs more than the database's work.

The caller writes its SQL; this module does what the ORM does around it, and nothing
more: column names from the models (`Shape`), Django's own conversions of what comes
back (so SQLite and PostgreSQL give the same values: aware datetimes, booleans, dates),
complete instances through `Model.from_db`, and a single-row INSERT whose values are
prepared by the fields themselves (`insert`). What is cached per process is SQL text and
converter lists, derived from the models and the engine — never data.

Every statement runs on the default alias, the primary (docs/operations.md): these are
the reads a booking decides on, and they must never reach a replica.
"""

from collections.abc import Callable, Sequence
from functools import cache, cached_property
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Field, Model
from django.db.models.expressions import Col
from django.db.models.signals import post_save, pre_save

_M = TypeVar("_M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


def quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def for_update(*of: str) -> str:
    """``FOR UPDATE [OF …]`` where the engine has row locks; "" on SQLite, whose
    IMMEDIATE transactions already hold the whole database (docs/concurrency.md)."""
    if not connection.features.has_select_for_update:
        return ""
    return str(connection.ops.for_update_sql(of=of))


@cache
def _converters(fields: tuple[Field[Any, Any], ...], vendor: str) -> tuple[Any, ...]:
    """Per field, (the Col the ORM would select, the converters it would apply), as
    `SQLCompiler.get_converters` builds them: the backend's, then the field's own."""
    del vendor  # part of the key: SQLite converts what PostgreSQL's driver already did
    out = []
    for f in fields:
        col = Col(f.model._meta.db_table, f)
        out.append((col, tuple(connection.ops.get_db_converters(col) + f.get_db_converters(connection))))
    return tuple(out)


def converted(fields: tuple[Field[Any, Any], ...], values: Sequence[Any]) -> list[Any]:
    """``values`` as the ORM would give them for these fields (same order)."""
    out = list(values)
    for i, (col, converters) in enumerate(_converters(fields, connection.vendor)):
        for convert in converters:
            out[i] = convert(out[i], col, connection)
    return out


class Shape(Generic[_M]):
    """Some of a model's columns in a SELECT under ``alias``, and the way back to values
    or to an instance. Without ``names``, every concrete column: `instance` then gives
    a complete instance, nothing deferred. The columns come in the model's order, as
    `Model.from_db` expects them, whatever the order of ``names``."""

    def __init__(self, model: type[_M], alias: str, names: tuple[str, ...] = ()) -> None:
        self.model = model
        self.alias = alias
        self.names = names

    @cached_property
    def fields(self) -> tuple[Field[Any, Any], ...]:
        # Lazily: a module may define its shapes before the app registry is ready.
        wanted = set(self.names)
        chosen = tuple(
            f
            for f in self.model._meta.concrete_fields
            if not wanted or f.name in wanted or f.attname in wanted
        )
        if wanted and len(chosen) != len(wanted):
            raise ValueError(f"{self.model.__name__} lacks a column of {self.names}")
        return chosen

    @cached_property
    def attnames(self) -> tuple[str, ...]:
        return tuple(f.attname for f in self.fields)

    @property
    def width(self) -> int:
        return len(self.fields)

    def sql(self) -> str:
        return ", ".join(f"{self.alias}.{quoted(f.column)}" for f in self.fields)

    def values(self, row: Sequence[Any]) -> dict[str, Any]:
        """The row's values by attribute name (``clinic_id``, not ``clinic``)."""
        return dict(zip(self.attnames, converted(self.fields, row), strict=True))

    def instance(self, row: Sequence[Any]) -> _M:
        """The model instance of these columns (the rest deferred, as `.only()` would)."""
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, converted(self.fields, row))


@cache
def _insert_sql(model: type[Model], vendor: str) -> tuple[str, tuple[Field[Any, Any], ...], bool]:
    del vendor
    meta = model._meta
    fields = tuple(f for f in meta.local_concrete_fields if f is not meta.auto_field)
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quoted(meta.db_table),
        ", ".join(quoted(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    returning = bool(connection.features.can_return_columns_from_insert)
    if returning:
        sql += " " + connection.ops.return_insert_columns([meta.pk])[0]
    return sql, fields, returning


def insert(instance: _M) -> _M:
    """INSERT one new row (an auto primary key) and give the instance its key, as
    ``instance.save(force_insert=True)`` would: each field prepares its own value
    (``pre_save`` fills ``auto_now_add``), so what is stored is what the ORM stores.

    A model with save signals, or a value that is an expression (a database default
    left to the database), is saved by the ORM instead: nothing it would do is skipped.
    """
    model = type(instance)
    sql, fields, returning = _insert_sql(model, connection.vendor)
    values = [f.pre_save(instance, True) for f in fields]
    if (
        pre_save.has_listeners(model)
        or post_save.has_listeners(model)
        or any(hasattr(v, "resolve_expression") for v in values)
    ):
        instance.save(force_insert=True, using=DEFAULT_DB_ALIAS)
        return instance
    params = [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            pk = cursor.fetchone()[0]
        else:
            pk = connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    return instance
