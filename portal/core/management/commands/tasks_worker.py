"""`manage.py tasks_worker`: the task queue's worker (django-tasks-db's `db_worker`) that
outlives a database blip (docs/operations.md, «Supervision») and, when its queue is
empty, does the work the apps registered (`core.tasks_idle`: the outbox's due messages).

The library's worker exits at the first database error other than a locked SQLite file;
this one logs it, drops its connections, waits (1, 2, 4 … 30 s) and claims again. The
options are the library's but `--reload` (a reload mid-task is what production must never
do; `make run` starts it without).
"""

import random
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django.db import OperationalError, close_old_connections
from django_tasks_db.management.commands.db_worker import Command as LibraryCommand
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.management.commands.db_worker import logger as library_logger
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from portal.core.resilience import DATABASE_DOWN, backoff, connections_drop, logger
from portal.core.tasks_idle import idle_work_run


class SurvivingWorker(Worker):
    def run(self) -> None:
        failures = 0
        while self.running:
            try:
                self._work()
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

    def _work(self) -> None:
        """The library's loop (`db_worker.Worker.run`, django-tasks-db 0.13) with one
        addition: a round that finds no task runs the apps' idle work, and sleeps only if
        that found nothing either (in --batch mode: exits only then)."""
        library_logger.info(
            "Starting worker worker_id=%s queues=%s", self.worker_id, self.queue_names
        )
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # spreads a herd of workers starting together
        while self.running:
            close_old_connections()
            task_result, retrieved = self._claim()
            idle_done = 0
            if task_result is not None:
                self.run_task(task_result)
            elif retrieved:
                # Like a task: a SIGTERM lets it finish (a message being sent, acknowledged).
                self.running_task = True
                try:
                    idle_done = idle_work_run(self.queue_names, self.excluded_queue_names)
                finally:
                    self.running_task = False
            if self.batch and retrieved and task_result is None and not idle_done:
                library_logger.info("No more tasks to run for worker_id=%s", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                library_logger.info("Ran the maximum of %d tasks", self._run_tasks)
                return
            close_old_connections()
            if self.running and task_result is None and not idle_done:
                time.sleep(self.interval)

    def _claim(self) -> tuple[DBTaskResult[Any, Any] | None, bool]:
        """The next ready task of this worker's queues, claimed; and whether the queue
        could be read at all (a locked SQLite file: try again)."""
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
            except OperationalError as exc:
                if is_locked_database_exception(exc):
                    return None, False
                raise
        return task_result, True


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
