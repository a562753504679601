from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.patients.registry_import import COLUMNS, ImportFailed, registry_import


class Command(BaseCommand):
    help = (
        "Load or update the registry of insured persons from a CSV file (UTF-8, ';' or ','). "
        "Columns: " + ", ".join(COLUMNS) + ". All rows or none: any bad row aborts the import."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file with a header row")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            handle = file.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise CommandError(f"Не удалось открыть файл {file}: {exc.strerror}") from None
        with handle:
            try:
                result = registry_import(
                    handle,
                    progress=lambda n: self.stdout.write(f"  проверено и записано {n} строк…"),
                )
            except ImportFailed as failed:
                for line, reason in failed.errors:
                    self.stderr.write(f"строка {line}: {reason}")
                raise CommandError(
                    f"Регистр не изменён: ошибок — {len(failed.errors)}. "
                    "Исправьте строки выше и запустите загрузку снова."
                ) from None
            except UnicodeDecodeError:
                raise CommandError(
                    "Файл не в кодировке UTF-8. Сохраните его в UTF-8 и повторите."
                ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Загружено строк: {result.rows}; новых СМО: {result.insurers_created}; "
                f"обновлено пациентов: {result.patients_refreshed}."
            )
        )
