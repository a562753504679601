"""The outbox's cost phase (`bench.notify.booking_cost`) interleaves its three ways of
booking so that none of them always follows the same one.

In a fixed order, «with the outbox row» always came right after «messages and a task
row in the booking», and a booking after that one took 0.3 ms more whichever way it
wrote: the outbox's cost read 12–13 % instead of 4–6 % (docs/performance.md, «The
outbox's cost, measured in rounds»).
"""

from collections import Counter
from itertools import pairwise

from bench.notify import _rotated

MODES = ["with", "without", "task"]


def test_every_way_books_as_often_as_the_others():
    order = _rotated(MODES, 600)
    assert Counter(order) == {"with": 200, "without": 200, "task": 200}
    for start in range(0, 600, 3):  # every round of three has each way once
        assert sorted(order[start : start + 3]) == sorted(MODES)


def test_no_way_always_follows_the_same_one():
    order = _rotated(MODES, 600)
    before: dict[str, Counter[str]] = {mode: Counter() for mode in MODES}
    for previous, current in pairwise(order):
        before[current][previous] += 1
    for mode in MODES:
        assert len(before[mode]) == len(MODES)  # each way follows each of the three
        assert max(before[mode].values()) < 0.6 * sum(before[mode].values())


def test_the_order_is_the_same_in_every_run():
    assert _rotated(MODES, 30) == _rotated(MODES, 30)
