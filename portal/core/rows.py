"""Statements written out, rows back as the ORM would give them: for the one hot path
(the booking transaction, docs/performance.md «Booking: narrow reads, fewer statements
(issue 25)») where building a query costs more than the database's work.

The caller writes its SQL; this module does what the ORM does around it, and nothing
more: column names from the models (`Shape`), Django's own conversions of what comes
back (so SQLite and PostgreSQL give the same values: aware datetimes, booleans, dates),
complete instances as `Model.from_db` gives them (`built`), and a single-row INSERT whose values are
prepared by the fields themselves (`insert`). What is cached per process is SQL text and
converter lists, derived from the models and the engine — never data.

Every statement runs on the default alias, the primary (docs/operations.md): these are
the reads a booking decides on, and they must never reach a replica. Their SQL text is
fixed per model and engine, so on PostgreSQL each is prepared once per connection
(`prepared`): planning cost the database more than running them (docs/performance.md,
«The booking's statements prepared»).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.db.models.expressions import Col
from django.db.models.signals import post_init, post_save, pre_init, pre_save

_M = TypeVar("_M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


def quoted(name: str | None) -> str:
    """A table or column name as the engine quotes it (a concrete column always has one)."""
    assert name is not None
    return connection.ops.quote_name(name)


def several_per_round_trip() -> bool:
    """Whether one execute may carry several statements: PostgreSQL through psycopg's
    client-side binding (Django's default, ``server_side_binding`` off) runs a string of
    statements in order, each to its end before the next starts, in one round trip."""
    options = connection.settings_dict.get("OPTIONS", {})
    return connection.vendor == "postgresql" and not options.get("server_side_binding")


def prepared(alias: str = DEFAULT_DB_ALIAS) -> Any:
    """A cursor whose statements are prepared on the server once per connection and then
    only bound and run (`core.postgresql`'s ``prepared_cursor``: logged and counted as any
    other); Django's own cursor on an engine without one. Only for SQL whose text is fixed
    — a statement whose text varies with its values would fill the connection's cache.
    ``alias``: the primary unless a caller's router says otherwise (`core.sessions`)."""
    on = connections[alias]
    prepared_cursor = getattr(on, "prepared_cursor", None)
    return prepared_cursor() if prepared_cursor is not None else on.cursor()


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
        out.append(
            (col, tuple(connection.ops.get_db_converters(col) + f.get_db_converters(connection)))
        )
    return tuple(out)


def converted(fields: tuple[Field[Any, Any], ...], values: Sequence[Any]) -> list[Any]:
    """``values`` as the ORM would give them for these fields (same order)."""
    out = list(values)
    for i, (col, converters) in enumerate(_converters(fields, connection.vendor)):
        for convert in converters:
            out[i] = convert(out[i], col, connection)
    return out


def _built_as_django_does(model: type[Model]) -> bool:
    """Whether `built` must leave the instance to `Model.from_db`: the model (or one
    of its fields, as an ImageField does) listens to its own construction, or it has
    its own constructor. Asking the two signals costs more than building the instance
    (a page builds 20–60), so they are asked only when anything listens at all."""
    if (pre_init.receivers or post_init.receivers) and (
        pre_init.has_listeners(model) or post_init.has_listeners(model)
    ):
        return True
    return _own_construction(model)


@cache
def _own_construction(model: type[Model]) -> bool:
    own_init = model.__init__ is not Model.__init__
    own_from_db = model.from_db.__func__ is not Model.from_db.__func__  # type: ignore[attr-defined]
    return own_init or own_from_db


def built(model: type[_M], db: str, attnames: Sequence[str], values: Sequence[Any]) -> _M:
    """The instance `Model.from_db` would give for these columns (the others deferred),
    without running `Model.__init__`'s loop over every field: a deferred field is one
    missing from the instance's ``__dict__``, so the values are simply set. Four to five
    times cheaper (1–2 µs against 4–7 µs); a page of the nearest times builds sixty
    (docs/performance.md, «Instances of narrow reads»). ``values`` follow ``attnames``."""
    if _built_as_django_does(model):
        by_name = dict(zip(attnames, values, strict=True))
        ordered = [f.attname for f in model._meta.concrete_fields if f.attname in by_name]
        return model.from_db(db, ordered, [by_name[name] for name in ordered])
    instance = model.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=True))
    state = instance._state = ModelState()
    state.adding = False
    state.db = db
    return instance


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
        return built(self.model, DEFAULT_DB_ALIAS, self.attnames, converted(self.fields, row))


@dataclass(frozen=True)
class Insert:
    """A model's single-row INSERT, in parts, so a caller can also feed it from a SELECT
    (``{into} SELECT {placeholders} FROM …``); the columns are what ``save()`` writes."""

    into: str  # INSERT INTO "table" ("a", "b", …)
    placeholders: str  # %s, %s, …
    returning: str  # RETURNING "table"."id", or "" where the engine cannot
    fields: tuple[Field[Any, Any], ...]

    @property
    def sql(self) -> str:
        return f"{self.into} VALUES ({self.placeholders}) {self.returning}".rstrip()


@cache
def _insert_of(model: type[Model], vendor: str) -> Insert:
    del vendor  # part of the key: quoting and RETURNING are the engine's
    meta = model._meta
    fields = tuple(f for f in meta.local_concrete_fields if f is not meta.auto_field)
    returning = ""
    if connection.features.can_return_columns_from_insert:  # PostgreSQL, SQLite ≥ 3.35
        returning = f"RETURNING {quoted(meta.pk.column)}"
    return Insert(
        into="INSERT INTO {} ({})".format(
            quoted(meta.db_table), ", ".join(quoted(f.column) for f in fields)
        ),
        placeholders=", ".join(["%s"] * len(fields)),
        returning=returning,
        fields=fields,
    )


def insert_of(model: type[Model]) -> Insert:
    return _insert_of(model, connection.vendor)


def insert_params(instance: Model) -> list[Any] | None:
    """The INSERT's parameters for a new instance, prepared by each field as ``save()``
    would (``pre_save`` fills ``auto_now_add``); None where only the ORM may write it:
    a model with save signals, or a value left to the database (an expression)."""
    model = type(instance)
    fields = insert_of(model).fields
    values = [f.pre_save(instance, True) for f in fields]
    if (
        pre_save.has_listeners(model)
        or post_save.has_listeners(model)
        or any(hasattr(v, "resolve_expression") for v in values)
    ):
        return None
    return [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]


def inserted(instance: _M, pk: Any) -> _M:
    """The instance as ``save()`` leaves it: its new key, no longer "adding"."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    return instance


def insert(instance: _M) -> _M:
    """INSERT one new row (an auto primary key) and give the instance its key, as
    ``instance.save(force_insert=True)`` would, without compiling a query; a model
    `insert_params` refuses is saved by the ORM: nothing it would do is skipped."""
    params = insert_params(instance)
    if params is None:
        instance.save(force_insert=True, using=DEFAULT_DB_ALIAS)
        return instance
    statement = insert_of(type(instance))
    meta = instance._meta
    with prepared() as cursor:
        cursor.execute(statement.sql, params)
        if statement.returning:
            pk = cursor.fetchone()[0]
        else:
            pk = connection.ops.last_insert_id(cursor, meta.db_table, str(meta.pk.column))
    return inserted(instance, pk)
