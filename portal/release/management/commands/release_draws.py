from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.core.resilience import repeat
from portal.release.draws import draws_due


class Command(BaseCommand):
    help = (
        "Run every fair-release draw whose opening moment has come (docs/fair-release.md). "
        "Safe to run as often as you like, e.g. every minute from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds.")

    def handle(self, *args: Any, every: float, **options: Any) -> None:
        def step() -> None:
            for draw in draws_due():
                self.stdout.write(f"draw {draw.pk} of ballot {draw.ballot_id}: {draw.fingerprint}")

        # A database blip costs a log line and a pause, never the loop (core.resilience).
        repeat(step, every=every, what="release draws")
