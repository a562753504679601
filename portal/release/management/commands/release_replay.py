from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.release.models import Draw
from portal.release.selectors import draw_replay


class Command(BaseCommand):
    help = "Recompute a draw from its stored seed, inputs and refusals; compare (exit 1 if not)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ballot", type=int, help="The ballot's id.")

    def handle(self, *args: Any, ballot: int, **options: Any) -> None:
        draw = Draw.objects.filter(ballot_id=ballot).first()
        if draw is None:
            raise CommandError(f"ballot {ballot} has no draw yet")
        replay = draw_replay(draw)
        self.stdout.write(f"seed fingerprint {draw.fingerprint}")
        self.stdout.write(f"inputs sha256 {replay.inputs_sha256}")
        if not replay.matches:
            raise CommandError(f"allocation differs for requests {replay.differences}")
        self.stdout.write(f"same allocation: {len(replay.recomputed)} requests")
