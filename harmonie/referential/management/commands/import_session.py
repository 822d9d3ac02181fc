import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from harmonie.referential.importer import session_import
from harmonie.referential.session_file import SessionFileError


class Command(BaseCommand):
    help = "Importe un fichier de session (format harmonie-session/1, API.md §1)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="fichier JSON de session")

    def handle(self, *args: object, file: Path, **options: object) -> None:
        started = time.perf_counter()
        try:
            report = session_import(path=file.resolve())
        except SessionFileError as error:
            raise CommandError(f"Fichier refusé, rien n'a été importé. {error}") from None
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Import terminé en {elapsed:.1f} s : {report.summary()}.")
