from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.demo import (
    clinic_hours,
    desk,
    directory,
    home_visits,
    referrals,
    registry,
    release,
    schedules,
    staff,
    waitlist,
)

# In this order: the registry attaches people to the clinics, schedules need the doctors,
# staff need the clinics, the waitlist demo (docs/waitlist.md) and the fair-release ballot
# (docs/fair-release.md) need the slots.
DEMO_STEPS = [
    directory,
    clinic_hours,
    registry,
    schedules,
    staff,
    waitlist,
    release,
    desk,
    referrals,
    home_visits,
]


class Command(BaseCommand):
    help = "Load (or top up) the demo region: Irkutsk oblast, clinics, doctors, registry, slots."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Multiply clinics, doctors, insured persons and slots (benchmarks use 10+).",
        )

    def handle(self, *args: Any, scale: int, **options: Any) -> None:
        if scale < 1:
            self.stderr.write("--scale must be 1 or more")
            return
        for step in DEMO_STEPS:
            step.load(scale=scale, log=self.stdout.write)
