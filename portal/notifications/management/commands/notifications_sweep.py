"""`manage.py notifications_sweep [--every SECONDS]`: the outbox's safety net.

Re-enqueues due messages whose task never came (a lost enqueue, reminders that fell
due), returns rows of dead workers to the queue, and once a day writes the «turns 14
soon» notices. Without --every it runs once (for cron or a systemd timer).
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from portal.notifications.services import coming_of_age_notify, outbox_sweep


class Command(BaseCommand):
    help = "Sweep the notifications outbox (once, or every N seconds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="loop with this pause")

    def handle(self, *args: Any, every: float, **options: Any) -> None:
        last_day = None
        while True:
            close_old_connections()
            today = timezone.localdate()
            if today != last_day:
                written = coming_of_age_notify(today)
                if written:
                    self.stdout.write(f"coming of age: {written} messages")
                last_day = today
            result = outbox_sweep()
            if result.reclaimed or result.enqueued:
                self.stdout.write(
                    f"sweep: {result.reclaimed} reclaimed, {result.enqueued} enqueued"
                )
            if not every:
                return
            time.sleep(every)
