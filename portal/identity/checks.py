"""Deploy checks (`manage.py check --deploy`) for the ESIA configuration."""

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def esia_configuration(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    if settings.ESIA_SIGNER not in ("gost-file", "command"):
        problems.append(
            checks.Error("ESIA_SIGNER must be gost-file or command", id="identity.E001")
        )
    if settings.ESIA_SIGNER == "command" and not settings.ESIA_SIGNER_COMMAND:
        problems.append(
            checks.Error("ESIA_SIGNER=command needs ESIA_SIGNER_COMMAND", id="identity.E002")
        )
    if settings.ESIA_EMULATOR_ENABLED:
        problems.append(
            checks.Warning(
                "The ESIA emulator is enabled: anyone can log in as anyone.",
                hint="Only on a test stand. Set ESIA_EMULATOR_ENABLED=0 in production.",
                id="identity.W001",
            )
        )
    return problems
