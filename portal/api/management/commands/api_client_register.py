"""Register an app that may ask patients for access (the regional operator does this)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.api.services import client_register_with_secret


class Command(BaseCommand):
    help = "Зарегистрировать приложение (клиент OAuth 2.0) для FHIR API"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="название, которое увидит пациент")
        parser.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
        parser.add_argument(
            "--confidential", action="store_true", help="серверное приложение с секретом"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        registered = client_register_with_secret(
            name=options["name"],
            redirect_uris=options["redirect_uris"],
            confidential=options["confidential"],
        )
        self.stdout.write(f"client_id={registered.application.client_id}")
        if registered.secret:
            # Shown once: the library stores only its hash.
            self.stdout.write(f"client_secret={registered.secret}")
