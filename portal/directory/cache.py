"""The directory, kept in each process under a generation that every change replaces.

Districts, clinics, specialties and doctors are the same for every patient and change a
few times a year, yet every wizard page read them again (docs/performance.md, issue 25).
Here a process keeps what it has read (lists and single rows, as the selectors return
them) in a bucket named by the directory's **generation**: a random token in the shared
cache (Redis in production), read once per request. Every change of a directory row —
the admin, the workspace's directory forms, anything that saves or deletes one, and the
demo loader's bulk writes (`directory_changed`) — puts a new token there: at once, and
again when its transaction commits, so no process can keep rows read before the commit
under the new token. Every process then starts a new bucket on its next request.

What is never here: free times, bookings, anything about a patient. Rows are read from
the primary (a lagging replica must not fill a new generation with old rows); in degraded
mode, when everything comes from the replica, nothing is kept. Without the shared cache
(Redis down), nothing is kept either: every read goes to the database. A bucket older
than DIRECTORY_CACHE_SECONDS is dropped, a bound on what an edit made behind the ORM's
back (raw SQL, a restore) or while Redis was down (its new token was not written) can
leave stale. Cached objects are shared: callers must not change them.
"""

import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.signals import request_finished, request_started
from django.db import transaction

from portal.core.cache import read_with_session
from portal.core.dbrouter import primary_reads, reading_everything_from_replica

T = TypeVar("T")
GENERATION_KEY = "directory:generation"
# A bucket is dropped when it has this many entries (the region has ≈ 6,000 doctors).
MAX_ENTRIES = 20_000


class _Bucket:
    def __init__(self, generation: str) -> None:
        self.generation = generation
        self.born = time.monotonic()
        self.entries: dict[Hashable, Any] = {}


class _State(threading.local):
    # The generation this request reads under (None: not read yet in this request).
    generation: str | None = None
    # Outside a request (a worker, a command) the generation is read on every call.
    in_request: bool = False
    # The bucket this request found current: a page asks the cache 20–30 times, and the
    # bucket's age and size need checking once (docs/performance.md).
    bucket: "_Bucket | None" = None


_state = _State()
_bucket: _Bucket | None = None
_bucket_lock = threading.Lock()


def _generation() -> str | None:
    """The current generation, read from the shared cache once per request (on every call
    outside one); None when the shared cache does not answer (then nothing is kept)."""
    if _state.generation is not None:
        return _state.generation
    token = cache.get(GENERATION_KEY)
    if token is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        token = cache.get(GENERATION_KEY)
    if isinstance(token, str):
        if _state.in_request:
            _state.generation = token
        return token
    return None


def _current_bucket(generation: str) -> _Bucket:
    checked = _state.bucket
    if checked is not None and checked is _bucket and checked.generation == generation:
        return checked
    bucket = _bucket_checked(generation)
    if _state.in_request:
        _state.bucket = bucket
    return bucket


def _bucket_checked(generation: str) -> _Bucket:
    global _bucket
    bucket = _bucket
    lifetime = float(settings.DIRECTORY_CACHE_SECONDS)
    if (
        bucket is None
        or bucket.generation != generation
        or time.monotonic() - bucket.born > lifetime
        or len(bucket.entries) > MAX_ENTRIES
    ):
        with _bucket_lock:
            bucket = _Bucket(generation)
            _bucket = bucket
    return bucket


def directory_cached(key: Hashable, build: Callable[[], T]) -> T:
    """``build()``'s answer, kept for the current generation."""
    generation = _generation()
    if generation is None or reading_everything_from_replica():
        return build()
    bucket = _current_bucket(generation)
    try:
        value: T = bucket.entries[key]
        return value
    except KeyError:
        pass
    with primary_reads():
        value = build()
    bucket.entries[key] = value
    return value


class DirectoryFragmentCache(BaseCache):
    """Django's cache API over the generation's bucket (settings.CACHES["directory"]), for
    ``{% cache None "name" key… using="directory" %}``: rendered parts of the directory's
    pages, dropped with their generation. A fragment may show fresh data (free times, the
    patient's own appointment) only if that data is among its keys, read on this request:
    then it is a rendering kept, never an answer kept."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        generation = _generation()
        if generation is None:
            return default
        return _current_bucket(generation).entries.get(("fragment", key), default)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        generation = _generation()
        if generation is not None and not reading_everything_from_replica():
            _current_bucket(generation).entries[("fragment", key)] = value

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        if self.get(key) is not None:
            return False
        self.set(key, value)
        return True

    def delete(self, key: Any, version: int | None = None) -> bool:
        bucket = _bucket
        return bucket is not None and bucket.entries.pop(("fragment", key), None) is not None

    def clear(self) -> None:
        global _bucket
        _bucket = None


def directory_changed() -> None:
    """A directory row changed: a new generation now (this transaction's own later reads,
    tests) and again when the transaction commits (every other process)."""
    _bump()
    transaction.on_commit(_bump)


def _bump() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    _state.generation = None


def model_changed(**kwargs: Any) -> None:
    """post_save / post_delete of a directory model (connected in apps.py)."""
    directory_changed()


def directory_forget() -> None:
    """Drop what this process keeps and knows of the generation (a test's fresh start)."""
    global _bucket
    _bucket = None
    _state.generation, _state.in_request, _state.bucket = None, False, None


@contextmanager
def as_one_request() -> Iterator[None]:
    """Work outside a served request read as one would be: the generation once, not on
    every call (`bench.search` times the slot search so, as a page would spend it)."""
    _request_started()
    try:
        yield
    finally:
        _request_finished()


def _request_started(**kwargs: Any) -> None:
    _state.generation, _state.in_request, _state.bucket = None, True, None


def _request_finished(**kwargs: Any) -> None:
    _state.generation, _state.in_request, _state.bucket = None, False, None


def _generation_read_with_session(token: Any) -> None:
    """The generation as read in the session's round trip (`core.sessions`): this
    request's, unless the request already read one."""
    if isinstance(token, str) and _state.in_request and _state.generation is None:
        _state.generation = token


read_with_session(GENERATION_KEY, _generation_read_with_session)
request_started.connect(_request_started, dispatch_uid="directory-cache-request-started")
request_finished.connect(_request_finished, dispatch_uid="directory-cache-request-finished")
