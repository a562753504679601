import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.demo import desk, home_visits, referrals, staff
from portal.demo.personas import load_personas


class Command(BaseCommand):
    help = "Print the ESIA emulator's test persons and the children to add by hand."

    def add_arguments(self, parser: CommandParser) -> None:
        port = os.environ.get("PORTAL_PORT", "8000")
        parser.add_argument(
            "--portal-url",
            default=f"http://127.0.0.1:{port}",
            help="where the portal is served (default: 127.0.0.1 and PORTAL_PORT)",
        )

    def handle(self, *args: Any, portal_url: str, **options: Any) -> None:
        people = load_personas()
        allowed = [p for p in people["personas"] if p["level"] == "confirmed"]
        refused = [p for p in people["personas"] if p["level"] != "confirmed"]
        self.stdout.write("  Подтверждённые (вход разрешён):")
        for persona in allowed:
            self.stdout.write(f"    {_name(persona)} — {persona['title']}")
        self.stdout.write("  Вход не разрешён:")
        for persona in refused:
            self.stdout.write(f"    {_name(persona)} — {persona['title']}")
        self.stdout.write(
            "  Дети только в регистре ОМС («Добавить родственника», данные ввести вручную):"
        )
        for kid in people["registry_kids"]:
            policy = next(d for d in kid["documents"] if d["type"] == "MDCL_PLCY")
            typed = f"номер {policy['number']}"
            if policy.get("series"):
                typed = f"серия {policy['series']}, {typed}"
            self.stdout.write(
                f"    {_name(kid)} {kid['middleName']}, {kid['birthDate']}, полис: {typed} — "
                f"{kid['title']}"
            )
        for line in staff.describe(portal_url) + desk.describe(portal_url):
            self.stdout.write(line)
        for line in referrals.describe():
            self.stdout.write(line)
        for line in home_visits.describe():
            self.stdout.write(line)


def _name(person: dict[str, Any]) -> str:
    return f"{person['lastName']} {person['firstName']}"
