"""`python -m bench.draw_profile`: the fair rush's draw, in-process (issue 25).

Sets up exactly what `bench/rush.py` draws — the 50 rush slots under their ballots (one per
clinic and day), 500 bench patients each asking the ballot of slot n % 50 — but files the
requests through `release.services.request_make` instead of HTTP, moves the opening moment
into the past and times `draws_due()`: statements, wall and CPU milliseconds, and with
``--profile`` the pyinstrument tree; then the same for the tasks the draws asked for (their
follow-up and the losers' messages). Runs on the benchmark database (`BENCH_DATABASE_URL`,
built by `make bench` or `load_demo --scale 3`); ``--contacts`` gives the patients an
e-mail and a phone, so every result is also an outbox row. docs/performance.md quotes it.
"""

import argparse
import datetime
import os
import sys
import time
from collections import Counter

from bench import run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=run.RUSH_PATIENTS)
    parser.add_argument("--slots", type=int, default=run.RUSH_SLOTS)
    parser.add_argument("--contacts", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    run._environment()
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from bench import dataset
    from bench.draw_worker import release_tasks_run
    from portal.notifications.models import Message
    from portal.patients.models import Patient
    from portal.release import services
    from portal.release.draws import draws_due
    from portal.release.models import Ballot, BallotRequest
    from portal.scheduling.models import Slot

    # A draw's messages PROTECT its appointments: the bench's own go first.
    Message.objects.filter(patient__user__username__startswith=dataset.BENCH_PREFIX).delete()
    dataset.bench_reset()
    patients = dataset.bench_patients(args.patients)
    for n, bench_patient in enumerate(patients):
        contacts = (f"bench{n}@example.ru", f"+7(999){n:07d}") if args.contacts else ("", "")
        Patient.objects.filter(pk=bench_patient.patient_id).update(
            email=contacts[0], phone=contacts[1]
        )
    rush = dataset.rush_prepare(args.slots, opens_in=3600)
    slot_ballot = dataset.release_prepare(rush)
    order = sorted(rush.slot_ids)
    ballots = Ballot.objects.in_bulk(set(slot_ballot.values()))
    people = Patient.objects.select_related("user").in_bulk([p.patient_id for p in patients])
    for n, bench_patient in enumerate(patients):
        patient = people[bench_patient.patient_id]
        assert patient.user is not None  # bench patients are adults with an account
        services.request_make(
            actor=patient.user,
            patient=patient,
            ballot=ballots[slot_ballot[order[n % len(order)]]],
            doctor_ids=[],
            times="any",
        )
    past = timezone.now() - datetime.timedelta(seconds=1)
    Slot.objects.filter(pk__in=rush.slot_ids).update(opens_at=past)
    Ballot.objects.filter(pk__in=ballots).update(opens_at=past)
    reverse("release:home")  # as a worker has it from its start-up checks (bench/rush.py)

    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    with CaptureQueriesContext(connection) as statements:
        wall, cpu = time.perf_counter(), time.process_time()
        drawn = draws_due()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiler is not None:
        profiler.stop()
    load = [f"{x:.2f}" for x in os.getloadavg()]
    results = Counter(
        BallotRequest.objects.filter(ballot__in=ballots).values_list("status", flat=True)
    )
    print(
        f"{len(drawn)} draws, {sum(results.values())} requests ({dict(results)}), "
        f"{len(rush.slot_ids)} slots: {len(statements.captured_queries)} "
        f"statements, {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU, "
        f"load average {' '.join(load)}"
    )
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False))
    # What the task worker does next: the follow-up the results asked for, the messages.
    with CaptureQueriesContext(connection) as statements:
        wall, cpu = time.perf_counter(), time.process_time()
        ran = release_tasks_run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"then {ran} tasks (follow-up, losers' messages): {len(statements.captured_queries)} "
        f"statements, {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU"
    )
    Message.objects.filter(patient__user__username__startswith=dataset.BENCH_PREFIX).delete()
    dataset.bench_reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
