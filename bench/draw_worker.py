"""The fair rush's draw in a process of its own, as a task worker runs it (bench/rush.py).

In production the draw runs in `manage.py tasks_worker`: a process of its own that set
Django up and imported the URLconf at start (its system checks). The rush's load
generator is an asyncio loop in the bench's process; drawing in a thread of that process
would make the draw share one interpreter lock with the load generator at the moment it
is busiest, a cost no worker pays. So the rush starts this process before the opening:
it prepares, says ``ready``, waits for ``go`` on stdin, runs `draws_due()` and prints
one JSON line with the wall and CPU seconds the draws took. Then, as the task worker
would next, it runs the tasks the draws asked for — their follow-up (the losers on the
waitlist, what is free offered) and the losers' messages — each when it is due (the
follow-up waits RELEASE_FOLLOW_UP_DELAY_SECONDS after the results, as a worker takes no
task before its ``run_after``), while the rush goes on, and prints a second line with
the seconds they ran and how long the worker waited for them.
"""

import json
import sys
import time


def main() -> int:
    import django

    django.setup()
    from django.db import connection
    from django.urls import reverse

    from portal.release.draws import draws_due

    reverse("release:home")  # a worker's start-up checks imported every URLconf
    connection.ensure_connection()  # a worker holds its connection between tasks
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 1
    wall, cpu = time.perf_counter(), time.process_time()
    drawn = draws_due()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"seconds": wall, "cpu": cpu, "draws": len(drawn)}), flush=True)
    wall, cpu = time.perf_counter(), time.process_time()
    ran, waited = release_tasks_run()
    wall, cpu = time.perf_counter() - wall - waited, time.process_time() - cpu
    print(json.dumps({"seconds": wall, "cpu": cpu, "tasks": ran, "waited": waited}), flush=True)
    return 0


# The release's tasks, in the order they ask for each other.
RELEASE_TASKS = ("portal.release.follow_up.draws_follow_up", "portal.release.losers.losers_tell")


def release_tasks_run() -> tuple[int, float]:
    """Run the queued release tasks with their own arguments, each once it is due, as
    `db_worker` would take them (the bench runs no task worker of its own: the outbox's
    would send mail). Returns how many ran and the seconds spent waiting for them."""
    from django.utils import timezone
    from django_tasks_db.models import (
        DBTaskResult,
        get_date_max,  # the library's «no run_after»
    )

    ran, waited = 0, 0.0
    for path in RELEASE_TASKS:
        for row in DBTaskResult.objects.filter(task_path=path, status="READY").order_by(
            "enqueued_at"
        ):
            if row.run_after != get_date_max():
                due = (row.run_after - timezone.now()).total_seconds()
                if due > 0:
                    time.sleep(due)
                    waited += due
            row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
            row.delete()
            ran += 1
    return ran, waited


if __name__ == "__main__":
    sys.exit(main())
