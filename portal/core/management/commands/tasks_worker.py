"""`manage.py tasks_worker`: the task queue's worker (django-tasks-db's `db_worker`) that
outlives a database blip (docs/operations.md, «Supervision»).

The library's worker exits at the first database error other than a locked SQLite file;
this one logs it, drops its connections, waits (1, 2, 4 … 30 s) and claims again. The
options are the library's but `--reload` (a reload mid-task is what production must never
do; `make run` starts it without).
"""

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django_tasks_db.management.commands.db_worker import Command as LibraryCommand
from django_tasks_db.management.commands.db_worker import Worker

from portal.core.resilience import DATABASE_DOWN, backoff, connections_drop, logger


class SurvivingWorker(Worker):
    def run(self) -> None:
        failures = 0
        while self.running:
            try:
                super().run()
                return
            except DATABASE_DOWN as exc:
                failures += 1
                pause = backoff(failures)
                logger.warning(
                    "tasks worker: the database is unavailable (%s); next try in %.0f s",
                    type(exc).__name__,
                    pause,
                )
                connections_drop()
                time.sleep(pause)


class Command(LibraryCommand):
    help = "Run the task queue's worker, outliving database outages."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(reload=False)  # the library reloads by default with DEBUG on

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: Any,
    ) -> None:
        if options.get("reload"):
            raise CommandError(
                "tasks_worker не перезапускается при изменении кода: запустите его без --reload."
            )
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = SurvivingWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.run()
