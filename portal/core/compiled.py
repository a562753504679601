"""Narrow ORM reads compiled to SQL once per process and sent again with new values.

Building and compiling a Django query costs 0.3–1 ms of Python per statement, several
times what PostgreSQL spends on an indexed read (docs/performance.md, issue 25). The
hottest reads of the patient pages (the session's user with their patient record, the
patient's active appointments, a doctor's free times) are written once as ORM queries
over their arguments; `CompiledQuery` compiles one the first time it runs per database
and shape, finds where each argument went among the parameters, and afterwards sends the
same SQL with the new values, converting the rows exactly as the ORM does
(`SQLCompiler.results_iter`). On PostgreSQL the SQL is also prepared on the server once
per connection (`core.postgresql`): planning cost the database more than the reads.
Filters stay ORM expressions, so a rule written as a ``Q``
(``scheduling.selectors.bookable_q``) is the same rule here.

What it takes: a function returning a ``values_list`` queryset, whose arguments are ints,
strings, dates, aware datetimes or non-empty tuples of ints or strings (an ``__in``), each
used only as a value compared with a field. The query is compiled twice with different
stand-ins, and planned only if the SQL is the same, every argument is among the
parameters and every other parameter is unchanged; anything it cannot place safely (a
value folded into the SQL or computed from an argument, an argument the SQL does not
carry, an empty tuple, None) runs through the ORM instead, every time: slower, never
different.
"""

import datetime
import itertools
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

Arg = int | str | datetime.date | datetime.datetime | tuple[int | str, ...]
Row = tuple[Any, ...]
# A query has few shapes (tuple lengths); past this many it is not worth a plan each.
MAX_PLANS = 64


@dataclass(frozen=True)
class _Place:
    """Where one parameter comes from: an argument (and an element of it), or nowhere."""

    arg: int | None  # None: a constant of the query itself
    item: int | None  # the element of a tuple argument
    adapt: Callable[[Any], Any] | None  # how the ORM prepared the value for the database
    constant: Any = None


Converter = tuple[int, tuple[Callable[..., Any], ...], Any]


@dataclass(frozen=True)
class _Plan:
    sql: str
    places: tuple[_Place, ...]
    # The ORM's converters per column, found once: asking the fields for them on every
    # read cost 0.1 ms for the user's row alone (docs/performance.md, issue 25: «Pages»).
    converters: tuple[Converter, ...]


_stand_in_numbers = itertools.count(1)
_lock = threading.Lock()
# Every compiled query of the process, so a test can check none of them fell back.
_instances: "weakref.WeakSet[CompiledQuery]" = weakref.WeakSet()


def _stand_in(kind: Any) -> Any:
    """A value no query holds by chance, of the argument's kind."""
    with _lock:
        n = next(_stand_in_numbers)
    if kind is int:
        return -(7_000_000_000_000 + n)
    if kind is str:
        return f"⟨stand-in {n}⟩"
    if kind is datetime.datetime:
        base = datetime.datetime(2345, 6, 7, tzinfo=datetime.UTC)
        return base + datetime.timedelta(seconds=n, microseconds=n % 1_000_000)
    if kind is datetime.date:
        return datetime.date(2400, 1, 1) + datetime.timedelta(days=n % 200_000)
    raise TypeError(kind)


def _plain_kind(value: Any) -> type | None:
    """int or str for a value of either kind, a choices member included: a TextChoices
    member is a str and an IntegerChoices one an int, sent to the database as the ORM
    sends them. A bool is an int to Python but not a value these queries compare."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return str
    if isinstance(value, int):
        return int
    return None


def _shape(args: Sequence[Arg]) -> tuple[Any, ...] | None:
    """Each argument's kind; a tuple's is the tuple of its items' kinds."""
    shape: list[Any] = []
    for arg in args:
        if isinstance(arg, tuple):
            kinds = tuple(_plain_kind(item) for item in arg)
            if not kinds or None in kinds:
                return None
            shape.append(kinds)
        elif (kind := _plain_kind(arg)) is not None:
            shape.append(kind)
        elif type(arg) is datetime.date or (
            type(arg) is datetime.datetime and arg.tzinfo is not None
        ):
            shape.append(type(arg))
        else:
            return None
    return tuple(shape)


def _mistyped(args: Sequence[Any]) -> bool:
    """An argument other than None or an empty tuple that `_shape` refuses: a bool, a
    float, a naive datetime."""
    return any(arg is not None and arg != () and _shape([arg]) is None for arg in args)


def _stand_ins(shape: tuple[Any, ...]) -> list[Any]:
    return [
        tuple(_stand_in(item) for item in kind) if isinstance(kind, tuple) else _stand_in(kind)
        for kind in shape
    ]


class CompiledQuery:
    """One narrow read; ``rows(*args)`` returns what ``list(build(*args))`` would."""

    def __init__(
        self, build: Callable[..., "QuerySet[Any, Row]"], *, health_check: bool = False
    ) -> None:
        """``health_check``: an indexed read of a millisecond, which may stand for the
        request's database health check when it is the first statement (PostgreSQL,
        `core.postgresql.base.DatabaseWrapper.read_as_health_check`)."""
        self._build = build
        self._health_check = health_check
        self._plans: dict[tuple[str, tuple[Any, ...]], _Plan | None] = {}
        self._model: Any = None
        self._mistyped = False  # called with an argument of a kind it takes no stand-in for
        _instances.add(self)

    @property
    def name(self) -> str:
        return f"{self._build.__module__}.{self._build.__qualname__}"

    def rows(self, *args: Arg) -> list[Row]:
        shape = _shape(args)
        if shape is None:
            # None and an empty tuple are expected to go to the ORM; any other argument
            # it cannot stand in for is a caller's slip, named by `queries_falling_back`.
            self._mistyped = self._mistyped or _mistyped(args)
            return list(self._build(*args))
        if self._model is None:
            self._model = self._build(*args).model
        alias = router.db_for_read(self._model)
        key = (alias, shape)
        if key not in self._plans:
            if len(self._plans) >= MAX_PLANS:
                return list(self._build(*args))
            self._plans[key] = self._plan(alias, shape)
        plan = self._plans[key]
        if plan is None:
            return list(self._build(*args).using(alias))
        params = [self._value(place, args) for place in plan.places]
        connection = connections[alias]
        # PostgreSQL (our backend): prepared once per connection, as the SQL is fixed.
        prepared = getattr(connection, "prepared_cursor", None)

        def fetch() -> list[Any]:
            with prepared() if prepared is not None else connection.cursor() as cursor:
                cursor.execute(plan.sql, params)
                return cursor.fetchall()  # type: ignore[no-any-return]

        as_check = getattr(connection, "read_as_health_check", None) if self._health_check else None
        fetched = as_check(fetch) if as_check is not None else fetch()
        if not plan.converters:
            return [tuple(row) for row in fetched]
        return [_converted(row, plan.converters, connection) for row in fetched]

    @staticmethod
    def _value(place: _Place, args: Sequence[Arg]) -> Any:
        if place.arg is None:
            return place.constant
        value = args[place.arg]
        if place.item is not None:
            assert isinstance(value, tuple)
            value = value[place.item]
        return place.adapt(value) if place.adapt is not None else value

    def _plan(self, alias: str, shape: tuple[Any, ...]) -> _Plan | None:
        first, second = _stand_ins(shape), _stand_ins(shape)
        try:
            compiled = [self._compile(alias, stand_ins) for stand_ins in (first, second)]
        except Exception:  # EmptyResultSet and the like: the ORM decides, every time
            return None
        (sql, params, compiler), (sql_again, params_again, _) = compiled
        if sql != sql_again or len(params) != len(params_again):
            return None
        ops = connections[alias].ops
        places: list[_Place] = []
        for value, value_again in zip(params, params_again, strict=True):
            place = _locate(value, first, ops)
            again = _locate(value_again, second, ops)
            if place is None and again is None:
                if value != value_again:
                    return None  # computed from an argument: cannot be placed
                places.append(_Place(arg=None, item=None, adapt=None, constant=value))
            elif place is None or place != again:
                return None
            else:
                places.append(place)
        used = {(p.arg, p.item) for p in places if p.arg is not None}
        wanted = {
            (n, i)
            for n, kind in enumerate(shape)
            for i in (range(len(kind)) if isinstance(kind, tuple) else [None])
        }
        if used != wanted:
            return None  # an argument the SQL does not carry as a parameter
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        if compiler.has_composite_fields(fields):
            return None  # rows the ORM reshapes: not worth a plan of our own
        converters = tuple(
            (pos, tuple(convs), expression)
            for pos, (convs, expression) in compiler.get_converters(fields).items()
        )
        return _Plan(sql=sql, places=tuple(places), converters=converters)

    def _compile(self, alias: str, stand_ins: list[Any]) -> tuple[str, list[Any], SQLCompiler]:
        queryset = self._build(*stand_ins)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        return sql, list(params), compiler


def _converted(row: Row, converters: tuple[Converter, ...], connection: Any) -> Row:
    """A row as `SQLCompiler.apply_converters` turns it into values."""
    values = list(row)
    for pos, convs, expression in converters:
        value = values[pos]
        for converter in convs:
            value = converter(value, expression, connection)
        values[pos] = value
    return tuple(values)


def padded(values: Sequence[int]) -> tuple[int, ...]:
    """Ids for an ``__in``, the last repeated up to the next power of two: an IN of
    repeated ids finds the same rows, and a query sees a handful of shapes (each planned
    by two compilations) instead of one per length."""
    if not values:
        return ()
    size = 1 << (len(values) - 1).bit_length()
    return (*values, *([values[-1]] * (size - len(values))))


def queries_falling_back() -> list[str]:
    """The compiled queries of this process that found a shape they could not plan, or
    were called with an argument of a kind they cannot stand in for."""
    return sorted(
        q.name for q in _instances if q._mistyped or any(p is None for p in q._plans.values())
    )


def _locate(value: Any, stand_ins: list[Any], ops: Any) -> _Place | None:
    for n, stand_in in enumerate(stand_ins):
        items = stand_in if isinstance(stand_in, tuple) else (stand_in,)
        for i, item in enumerate(items):
            item_index = i if isinstance(stand_in, tuple) else None
            if type(value) is type(item) and value == item:
                return _Place(arg=n, item=item_index, adapt=None)
            adapt = None
            if type(item) is datetime.datetime:
                adapt = ops.adapt_datetimefield_value
            elif type(item) is datetime.date:
                adapt = ops.adapt_datefield_value
            if adapt is not None and value == adapt(item):
                return _Place(arg=n, item=item_index, adapt=adapt)
    return None
