"""The draw as a pure function: the same seed and inputs give the same allocation; how
often or how early a request was made does not enter it; nothing is given twice."""

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.release import allocation
from portal.release.allocation import RequestIn, SlotIn


def slots(n: int) -> list[SlotIn]:
    return [
        SlotIn(
            100 + i,
            doctor=1 + i % 2,
            starts_at=f"2030-01-01T{8 + i:02d}:00",
            local_time=f"{8 + i:02d}:00",
        )
        for i in range(n)
    ]


def books_all(request: RequestIn, slot: SlotIn) -> str | None:
    return None


def test_the_same_seed_and_inputs_give_the_same_allocation():
    requests = [RequestIn(i, i, (), "any") for i in range(1, 30)]
    one = allocation.allocate("seed-a", requests, slots(10), books_all)
    two = allocation.allocate("seed-a", list(reversed(requests)), slots(10), books_all)
    assert one == two
    assert one != allocation.allocate("seed-b", requests, slots(10), books_all)


def test_each_request_takes_the_earliest_slot_it_accepts_in_draw_order():
    requests = [
        RequestIn(1, 1, (2,), "any"),
        RequestIn(2, 2, (), "afternoon"),
        RequestIn(3, 3, (), "morning"),
    ]
    result = allocation.allocate("s", requests, slots(6), books_all)
    by_slot = {o.slot: rid for rid, o in result.items() if o.slot}
    assert len(by_slot) == 3
    assert result[2].slot == 104  # the first slot at 12:00 or later
    assert all(o.outcome == allocation.WON for o in result.values())


def test_a_patient_level_refusal_ends_the_turn_and_a_slot_level_one_tries_the_next():
    requests = [RequestIn(1, 1, (), "any"), RequestIn(2, 2, (), "any")]

    def book(request: RequestIn, slot: SlotIn) -> str | None:
        if request.id == 1:
            return "same_specialty"
        return "slot_blocked" if slot.id == 100 else None

    result = allocation.allocate("s", requests, slots(3), book)
    assert result[1].outcome == allocation.REFUSED and result[1].refusal == "same_specialty"
    assert result[2].slot == 101


def test_the_replay_from_recorded_refusals_matches_the_live_draw():
    requests = [RequestIn(i, i, (), "any") for i in range(1, 8)]
    refusals: list[list[object]] = []

    def live(request: RequestIn, slot: SlotIn) -> str | None:
        if request.id == 3:
            refusals.append([request.id, slot.id, "overlap"])
            return "overlap"
        return None

    made = allocation.allocation_dump(allocation.allocate("k", requests, slots(4), live))
    inputs = {
        "requests": [
            {"id": r.id, "patient": r.patient, "doctors": [], "times": r.times} for r in requests
        ],
        "slots": [s.__dict__ for s in slots(4)],
    }
    assert allocation.replay("k", inputs, refusals) == made


def test_asking_early_or_often_does_not_change_the_chance():
    """Over many seeds each of 10 requests wins 3 slots about equally often: the
    order depends on the seed and the request's id only."""
    requests = [RequestIn(i, i, (), "any") for i in range(1, 11)]
    wins: Counter[int] = Counter()
    rng = random.Random(7)
    for _ in range(3000):
        seed = f"{rng.getrandbits(128):032x}"
        for rid, o in allocation.allocate(seed, requests, slots(3), books_all).items():
            wins[rid] += o.outcome == allocation.WON
    # Expected 900 each; a binomial(3000, 0.3) stays within ±100 with overwhelming odds.
    assert all(800 < wins[i] < 1000 for i in range(1, 11)), wins


@settings(max_examples=200, deadline=None)
@given(
    seed=st.text(min_size=1, max_size=20),
    wanted=st.lists(
        st.tuples(
            st.sets(st.integers(1, 2), max_size=2), st.sampled_from(["any", "morning", "afternoon"])
        ),
        max_size=15,
    ),
    n_slots=st.integers(0, 8),
)
def test_nothing_is_given_twice_and_no_accepted_slot_stays_empty_while_a_request_waits(
    seed, wanted, n_slots
):
    requests = [RequestIn(i, i, tuple(sorted(d)), t) for i, (d, t) in enumerate(wanted, start=1)]
    free = slots(n_slots)
    result = allocation.allocate(seed, requests, free, books_all)
    given_slots = [o.slot for o in result.values() if o.slot is not None]
    assert len(given_slots) == len(set(given_slots))
    left = [s for s in free if s.id not in given_slots]
    for request in requests:
        if result[request.id].outcome == allocation.LOST:
            assert not any(allocation.accepts(request, s) for s in left)
