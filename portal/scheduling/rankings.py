"""The nearest-time ranking, kept by each process as well as shared (docs/performance.md,
«The nearest-time ranking kept per process»).

At 07:00 thousands ask «Ближайшее свободное время» the same question at once. The
ranking (which doctors' first free times come first) is the expensive part: it is shared
through the cache for NEAREST_CACHE_SECONDS, and each process keeps the rankings it used
so that the same question does not cost a round trip to the shared cache either. Both
copies carry when they were ranked and are used only while younger than that lifetime.
The slots themselves are re-read on every request (`selectors.slots_list_nearest`).
"""

import time
from collections.abc import Callable
from typing import Any, TypeGuard

from django.conf import settings
from django.core.cache import cache

# The rankings this process has used: key -> (when ranked, the slot ids).
_rankings: dict[str, tuple[float, list[int]]] = {}
_RANKINGS_KEPT = 4096  # keys are specialty × place × clinic kinds: a few thousand at most


def ranking_kept(key: str, rank: Callable[[], list[int]]) -> list[int]:
    """The slot ids of the ranking ``key``, at most NEAREST_CACHE_SECONDS old: this
    process's copy, else the shared cache's (it carries when it was ranked), else ``rank()``
    now, shared."""
    lifetime = settings.NEAREST_CACHE_SECONDS
    if lifetime <= 0:
        return rank()
    now = time.time()
    kept = _rankings.get(key)
    if kept is None or now - kept[0] >= lifetime:
        shared = cache.get(key)
        if _young(shared, now, lifetime):
            kept = shared
        else:
            kept = (now, rank())
            cache.set(key, kept, lifetime)
        if len(_rankings) >= _RANKINGS_KEPT:
            _rankings.clear()
        _rankings[key] = kept
    return kept[1]


def _young(shared: Any, now: float, lifetime: float) -> TypeGuard[tuple[float, list[int]]]:
    """A ranking as `ranking_kept` shares it, ranked less than ``lifetime`` seconds ago. A value
    of another shape (an older release's bare list) is no ranking, and one stamped in the
    future by a node whose clock runs ahead is not trusted to be young."""
    return (
        isinstance(shared, tuple)
        and len(shared) == 2
        and isinstance(shared[0], float)
        and isinstance(shared[1], list)
        and 0 <= now - shared[0] < lifetime
    )


def rankings_forget() -> None:
    """Drop this process's rankings (tests: each starts with empty caches)."""
    _rankings.clear()
