"""`manage.py smsc_emulator --port 2775`: the test SMSC (docs/notifications.md)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.smsc_emulator.runner import SmscEmulatorThread
from portal.smsc_emulator.server import SmscEmulator


def refuse_outside_development() -> None:
    """The app is only installed when enabled (settings refuse it with DEBUG off), but a
    settings module that installs it by hand must still not start a fake SMSC in production."""
    if not settings.SMSC_EMULATOR_ENABLED or not (
        settings.DEBUG or settings.SMSC_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION
    ):
        raise CommandError(
            "The SMSC emulator accepts every SMS and sends none: it runs with DEBUG on, or on a "
            "test stand with SMSC_EMULATOR_ENABLED=1 SMSC_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION=1."
        )


class Command(BaseCommand):
    help = "Run the SMPP 3.4 SMSC emulator (development and test stands only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.SMPP_PORT)
        parser.add_argument("--control-port", type=int, default=settings.SMSC_EMULATOR_CONTROL_PORT)
        parser.add_argument("--system-id", default=settings.SMPP_SYSTEM_ID)
        parser.add_argument("--password", default=settings.SMPP_PASSWORD)

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_outside_development()
        emulator = SmscEmulator(
            system_id=options["system_id"],
            password=options["password"],
            messages_file=settings.SMSC_EMULATOR_MESSAGES_FILE,
        )
        runner = SmscEmulatorThread(
            emulator, options["host"], options["port"], options["control_port"]
        )
        try:
            runner.start()
        except OSError as error:
            raise CommandError(f"Cannot listen: {error}") from error
        self.stdout.write(
            f"SMSC emulator: smpp://{options['host']}:{runner.port} "
            f"(system_id {options['system_id']}), control http://127.0.0.1:{runner.control_port}, "
            f"messages in {settings.SMSC_EMULATOR_MESSAGES_FILE}"
        )
        self.stdout.flush()  # the banner says which ports were taken (`--port 0`)
        try:
            runner.wait()
        except KeyboardInterrupt:
            runner.stop()
