from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Development only: print a staff member's current TOTP code, standing in for the "
        "authenticator app. Refused with the ESIA emulator off."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        # A code printer on a production server would turn the second factor into none.
        # The emulator is the development marker: settings refuse it with DEBUG off unless
        # a test stand is declared in so many words.
        if not settings.ESIA_EMULATOR_ENABLED:
            raise CommandError(
                "totp_code работает только на стенде разработки (с включённым эмулятором "
                "ЕСИА). В работе код показывает приложение-аутентификатор сотрудника."
            )
        device = (
            TOTPDevice.objects.filter(user__username=username, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is None:
            raise CommandError(
                f"У пользователя «{username}» нет подключённого приложения-аутентификатора. "
                "Войдите на /workspace/login/ — страница предложит подключить его."
            )
        code = totp(
            device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
        )
        self.stdout.write(f"{code:0{device.digits}d}")
