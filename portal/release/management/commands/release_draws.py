from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.core.resilience import repeat
from portal.release.draws import draws_due
from portal.release.follow_up import follow_ups_missing


class Command(BaseCommand):
    help = (
        "Run every fair-release draw whose opening moment has come, and any draw's follow-up "
        "still missing long after (docs/fair-release.md). "
        "Safe to run as often as you like, e.g. every minute from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds.")

    def handle(self, *args: Any, every: float, **options: Any) -> None:
        def step() -> None:
            for draw in draws_due():
                self.stdout.write(f"draw {draw.pk} of ballot {draw.ballot_id}: {draw.fingerprint}")
            if followed := follow_ups_missing():
                self.stdout.write(f"followed up {followed} draw(s) whose task was missing")

        # A database blip costs a log line and a pause, never the loop (core.resilience).
        repeat(step, every=every, what="release draws")
