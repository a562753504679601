"""FHIR search parameters and searchset Bundles, shared by every resource type.

Hostile input is a 400 OperationOutcome, never an exception: every parser here
checks type and size before the database sees the value.
"""

import datetime
import re
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from portal.api.outcomes import api_error
from portal.core.dates import EARLIEST, LATEST
from portal.core.digits import is_ascii_digits

T = TypeVar("T")
MAX_VALUE = 200
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_ID_DIGITS = 18


def invalid(detail: str) -> Exception:
    return api_error(400, "invalid", detail=detail)


def id_of(text: str) -> int | None:
    """A row id: 1-18 ASCII digits (``str.isdigit`` also passes «²», which ``int`` refuses:
    issue 24), else None. Every id of the API, in a path, a parameter or a body."""
    if not is_ascii_digits(text) or len(text) > MAX_ID_DIGITS:
        return None
    return int(text)


def values(query: QueryDict, name: str) -> list[str]:
    """Every value of ``name`` (repeats AND, commas OR in FHIR; callers decide)."""
    found = query.getlist(name)
    for value in found:
        if len(value) > MAX_VALUE or "\x00" in value:
            raise invalid(f"слишком длинное или недопустимое значение параметра {name}")
    return found


def one(query: QueryDict, name: str) -> str | None:
    found = values(query, name)
    if len(found) > 1:
        raise invalid(f"параметр {name} указан несколько раз")
    return found[0] if found else None


def ids(query: QueryDict, name: str, kind: str | None = None) -> list[int] | None:
    """A reference parameter: "Kind/12" or "12", commas for OR. None when absent."""
    raw = values(query, name)
    if not raw:
        return None
    result: list[int] = []
    for value in raw:
        for part in value.split(","):
            part = part.strip()
            if kind and part.startswith(f"{kind}/"):
                part = part[len(kind) + 1 :]
            number = id_of(part)
            if number is None:
                raise invalid(f"параметр {name}: ожидается идентификатор, получено «{part[:40]}»")
            result.append(number)
    return result


def tokens(query: QueryDict, *names: str) -> list[str] | None:
    """Token codes of [system|]code values, commas for OR; the system is not checked."""
    found: list[str] = []
    seen = False
    for name in names:
        for value in values(query, name):
            seen = True
            for part in value.split(","):
                code = part.rsplit("|", 1)[-1].strip()
                if code:
                    found.append(code)
    return found if seen else None


def _parse_moment(text: str, *, end_of_day: bool) -> datetime.datetime:
    tz = timezone.get_current_timezone()
    if _DATE.match(text):
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError as exc:
            raise invalid(f"неверная дата «{text}»") from exc
        # Within the portal's calendar before any arithmetic: a local midnight of year 1
        # has no UTC, and 9999-12-31 has no next day (issue 24: a 500 on SQLite).
        if not EARLIEST <= day <= LATEST:
            raise invalid("дата вне допустимого диапазона")
        if end_of_day:
            day += datetime.timedelta(days=1)
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(f"неверная дата и время «{text[:40]}»") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    if not EARLIEST.year <= moment.year <= LATEST.year:
        raise invalid("дата вне допустимого диапазона")
    return moment


def date_filter(query: QueryDict, name: str, field: str) -> Q:
    """FHIR date search: ge/gt/le/lt/eq prefixes, a date means the whole local day."""
    condition = Q()
    for value in values(query, name):
        prefix, text = ("eq", value)
        if value[:2] in PREFIXES:
            prefix, text = value[:2], value[2:]
        if prefix in ("ge", "sa", "gt"):
            strict_day = prefix != "ge" and bool(_DATE.match(text))
            start = _parse_moment(text, end_of_day=strict_day)
            lookup = "gt" if prefix in ("gt", "sa") and not _DATE.match(text) else "gte"
            condition &= Q(**{f"{field}__{lookup}": start})
        elif prefix in ("le", "eb", "lt"):
            whole_day = prefix == "le" and bool(_DATE.match(text))
            end = _parse_moment(text, end_of_day=whole_day)
            lookup = "lte" if prefix == "le" and not _DATE.match(text) else "lt"
            condition &= Q(**{f"{field}__{lookup}": end})
        elif prefix == "eq":
            start = _parse_moment(text, end_of_day=False)
            if _DATE.match(text):
                end = _parse_moment(text, end_of_day=True)
                condition &= Q(**{f"{field}__gte": start, f"{field}__lt": end})
            else:
                condition &= Q(**{field: start})
        else:
            raise invalid(f"префикс {prefix} не поддерживается для {name}")
    return condition


def page_size(query: QueryDict) -> int:
    raw = one(query, "_count")
    if raw is None:
        return int(settings.API_PAGE_SIZE)
    if not is_ascii_digits(raw) or len(raw) > 9:
        raise invalid("_count должен быть целым неотрицательным числом")
    return max(1, min(int(raw), int(settings.API_PAGE_MAX)))


def page_offset(query: QueryDict) -> int:
    raw = one(query, "_offset")
    if raw is None:
        return 0
    if not is_ascii_digits(raw) or len(raw) > 9:
        raise invalid("_offset должен быть целым неотрицательным числом")
    return int(raw)


class Pageable(Protocol):
    """What a searchset pages: a queryset, a list, or `public.EarliestFirst`."""

    def __getitem__(self, page: slice) -> Iterable[Any]: ...


def searchset(
    request: HttpRequest,
    rows: Pageable,
    render: Callable[[Any], dict[str, Any]],
    *,
    base: str,
    kind: str,
    prepare: Callable[[list[Any]], list[Any]] | None = None,
) -> dict[str, Any]:
    """One page of ``rows`` as a searchset Bundle with self/next/previous links.

    Reads one row more than the page to know whether there is a next page, so no
    COUNT(*) over a region's slots.
    """
    size = page_size(request.GET)
    offset = page_offset(request.GET)
    chunk = list(rows[offset : offset + size + 1])
    more = len(chunk) > size
    kept = [(k, v) for k, vs in request.GET.lists() for v in vs if k not in ("_offset", "_count")]
    params = [*kept, ("_count", str(size))]

    def link(relation: str, at: int) -> dict[str, str]:
        return {
            "relation": relation,
            "url": f"{base}/{kind}?{urlencode([*params, ('_offset', str(at))])}",
        }

    links = [link("self", offset)]
    if more:
        links.append(link("next", offset + size))
    if offset:
        links.append(link("previous", max(0, offset - size)))
    page = chunk[:size]
    if prepare is not None:
        page = prepare(page)
    entries = [_entry(base, render(row)) for row in page]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": entries,
    }
    if not more and not offset:
        bundle["total"] = len(entries)
    return bundle


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": "match"},
    }


def bundle_of(base: str, resources: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A searchset that is never paged (a patient's own few records)."""
    entries = [_entry(base, r) for r in resources]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


# Understood by every search (paging; `_format` because we only ever answer JSON).
COMMON_PARAMETERS = frozenset({"_count", "_offset", "_format"})


def prefers_lenient(request: HttpRequest) -> bool:
    """`Prefer: handling=lenient` (FHIR R4 §3.1.1.4.2): ignore what is not understood."""
    for part in request.headers.get("Prefer", "").replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "handling" and value.strip().strip('"').lower() == "lenient":
            return True
    return False


def understood_query(request: HttpRequest, supported: frozenset[str]) -> QueryDict:
    """The search's parameters, every one understood: a parameter or modifier the server
    does not support is a 400 naming it (issue 23: it used to be ignored silently and
    still shown in the Bundle's `self` link, so `name:exact` read as if it had applied);
    with `Prefer: handling=lenient` it is dropped instead, and the `self` link shows
    only what was applied."""
    unknown = sorted(name for name in request.GET if name not in supported | COMMON_PARAMETERS)
    if not unknown:
        return request.GET
    if not prefers_lenient(request):
        raise api_error(400, "unsupported_parameter", name=unknown[0][:40])
    applied = request.GET.copy()
    for name in unknown:
        del applied[name]
    return applied
