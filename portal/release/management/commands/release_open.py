import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.release.errors import ReleaseRefused
from portal.release.services import ballot_open


class Command(BaseCommand):
    help = "Open a fair-release ballot for a clinic, specialty and day (docs/fair-release.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("clinic", type=int)
        parser.add_argument("specialty", type=int)
        parser.add_argument("day", type=datetime.date.fromisoformat, help="YYYY-MM-DD")

    def handle(self, *args: Any, clinic: int, specialty: int, day: datetime.date, **o: Any) -> None:
        try:
            ballot = ballot_open(clinic_id=clinic, specialty_id=specialty, day=day)
        except ReleaseRefused as refused:
            raise CommandError(refused.message) from refused
        self.stdout.write(f"ballot {ballot.pk}: draw at {ballot.opens_at:%Y-%m-%d %H:%M %Z}")
