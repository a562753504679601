from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.identity.devkeys import dev_keys_ensure


class Command(BaseCommand):
    help = "Create development GOST keys for the portal and the ESIA emulator (if missing)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.ESIA_EMULATOR_ENABLED:
            raise CommandError("Development keys are for the ESIA emulator only; it is off.")
        for cert in dev_keys_ensure(settings):
            self.stdout.write(f"created {cert}")
