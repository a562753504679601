"""`manage.py waitlist_sweep [--every SECONDS]`: expire lapsed offers and pass their
slots on to the next in line (docs/waitlist.md). Correctness never waits for it: readers
treat an offer past its expiry as expired. Without --every it runs once (cron, timer)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.core.resilience import repeat
from portal.waitlist.services import offers_expire


class Command(BaseCommand):
    help = "Expire lapsed offers of held times (once, or every N seconds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="loop with this pause")

    def handle(self, *args: Any, every: float, **options: Any) -> None:
        def step() -> None:
            expired = offers_expire()
            if expired:
                self.stdout.write(f"waitlist sweep: {expired} offers expired")

        # A database blip costs a log line and a pause, never the loop (core.resilience).
        repeat(step, every=every, what="waitlist sweep")
