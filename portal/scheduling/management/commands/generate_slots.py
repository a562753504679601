import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from portal.scheduling.slot_generation import slots_generate


class Command(BaseCommand):
    help = (
        "Generate slots from the schedule rules (idempotent; skips RU public holidays; "
        "absences block the slots they cover). Run daily, e.g. from cron before 07:00."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=settings.SCHEDULING_HORIZON_DAYS + 2)
        parser.add_argument("--start", help="first day, YYYY-MM-DD (default: today, local)")
        parser.add_argument("--doctor", type=int, action="append", help="only these doctor ids")

    def handle(
        self, *args: Any, days: int, start: str | None, doctor: list[int] | None, **options: Any
    ) -> None:
        if days < 1:
            raise CommandError("--days must be 1 or more")
        try:
            first = datetime.date.fromisoformat(start) if start else timezone.localdate()
        except ValueError as exc:
            raise CommandError("--start must be a date YYYY-MM-DD") from exc
        total = slots_generate(start=first, days=days, doctor_ids=doctor, log=self.stdout.write)
        self.stdout.write(f"Проверено слотов: {total} (уже существующие не изменены)")
