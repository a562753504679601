import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

# Each area contributes its part of the demo region in this order; a module that
# does not exist yet is skipped so areas can be added one at a time.
DEMO_STEPS = [
    "portal.directory.demo",
    "portal.patients.demo",
    "portal.scheduling.demo",
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
        for module_name in DEMO_STEPS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name and not module_name.startswith(str(exc.name)):
                    raise
                continue
            module.load(scale=scale, log=self.stdout.write)
