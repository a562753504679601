"""`manage.py referrals_import FILE --clinic ID`: referrals from a clinic's information
system (docs/referrals.md, «Import»). All or nothing; every bad row is listed."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.directory.models import Clinic
from portal.referrals.imports import referrals_import


class Command(BaseCommand):
    help = "Import referrals issued by one clinic from a CSV file (';'-separated, UTF-8)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--clinic", type=int, required=True, help="the issuing clinic's id")

    def handle(self, *args: Any, path: str, clinic: int, **options: Any) -> None:
        issuer = Clinic.objects.filter(pk=clinic).first()
        if issuer is None:
            raise CommandError(f"Нет поликлиники с id {clinic}")
        try:
            with open(path, encoding="utf-8-sig", newline="") as stream:
                result = referrals_import(stream, issuer)
        except OSError as exc:
            raise CommandError(f"Не удалось прочитать файл: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError("Файл не в кодировке UTF-8") from None
        if result.errors:
            for line in result.errors:
                self.stderr.write(line)
            raise CommandError("Ничего не записано: исправьте строки выше и повторите.")
        self.stdout.write(f"Направлений добавлено: {result.created}, уже были: {result.skipped}")
