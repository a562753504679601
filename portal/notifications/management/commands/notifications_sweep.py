"""`manage.py notifications_sweep [--every SECONDS]`: the outbox's safety net.

One round (`sweep.outbox_sweep`): writes the messages of bookings no polling worker
took yet and the reminders that fell due (issue 25), enqueues the due messages no worker
took, returns rows of dead workers to the queue; once a day it writes the «turns 14 soon»
notices and the reminders of referrals about to expire.
Without --every it runs once (for cron or a systemd timer).
"""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from portal.core.resilience import repeat
from portal.notifications.referrals import referral_expiring_notify
from portal.notifications.services import coming_of_age_notify
from portal.notifications.sweep import outbox_sweep


class Command(BaseCommand):
    help = "Sweep the notifications outbox (once, or every N seconds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="loop with this pause")

    def handle(self, *args: Any, every: float, **options: Any) -> None:
        last_day: list[datetime.date] = []

        def step() -> None:
            today = timezone.localdate()
            if today not in last_day:
                written = coming_of_age_notify(today)
                if written:
                    self.stdout.write(f"coming of age: {written} messages")
                reminded = referral_expiring_notify(today)
                if reminded:
                    self.stdout.write(f"referrals expiring: {reminded} messages")
                last_day[:] = [today]
            result = outbox_sweep()
            if result.told or result.reminded or result.reclaimed or result.enqueued:
                self.stdout.write(
                    f"sweep: {result.told} events told, {result.reminded} reminders written, "
                    f"{result.reclaimed} reclaimed, {result.enqueued} enqueued"
                )

        # A database blip costs a log line and a pause, never the loop (core.resilience).
        repeat(step, every=every, what="notifications sweep")
