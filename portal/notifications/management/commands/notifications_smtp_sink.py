"""`manage.py notifications_smtp_sink`: a local SMTP server that keeps mail in a folder.

Development only (`make run`): it accepts mail for anyone and delivers it nowhere.
"""

import logging
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run a local SMTP sink that writes every accepted e-mail to a folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--mailbox", default=str(settings.NOTIFICATIONS_DEV_MAILBOX))

    def handle(self, *args: Any, host: str, port: int, mailbox: str, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("The SMTP sink is for development: it is refused with DEBUG off.")
        from portal.notifications.devsink import LocalController, MailboxHandler

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command

        controller = LocalController(MailboxHandler(directory=Path(mailbox)), host, port)
        controller.start()
        self.stdout.write(f"SMTP sink on {host}:{controller.port}, mailbox {mailbox}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
