import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from harmonie.marking.import_guard import ImportConflict
from harmonie.marking.session_import import session_import
from harmonie.referential.importer import session_exists, session_file_code
from harmonie.referential.session_file import SessionFileError


class Command(BaseCommand):
    help = (
        "Importe un fichier de session (format harmonie-session/1, API.md §1). "
        "Une copie modifiée dans Harmonie depuis le dernier import n'est jamais écrasée "
        "sans --replace-edited (R-TRUST-2)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="fichier JSON de session")
        parser.add_argument(
            "--replace-edited",
            action="store_true",
            help=(
                "remplacer par celle du fichier la notation des copies modifiées dans Harmonie "
                "depuis le dernier import (chaque remplacement gardé comme une version de la "
                "copie, avec sa trace dans le journal)"
            ),
        )
        parser.add_argument(
            "--if-absent",
            action="store_true",
            help="ne rien faire si la session du fichier est déjà importée (make demo)",
        )

    def handle(
        self,
        *args: object,
        file: Path,
        replace_edited: bool = False,
        if_absent: bool = False,
        **options: object,
    ) -> None:
        started = time.perf_counter()
        path = file.resolve()
        try:
            if if_absent:
                code = session_file_code(path=path)
                if code is not None and session_exists(code=code):
                    self.stdout.write(
                        f"La session « {code} » est déjà importée : rien n'a été importé, "
                        "le travail fait dans Harmonie est gardé."
                    )
                    return
            report = session_import(path=path, replace_edited=replace_edited)
        except SessionFileError as error:
            raise CommandError(f"Fichier refusé, rien n'a été importé. {error}") from None
        except ImportConflict as conflict:
            raise CommandError(f"Fichier refusé, rien n'a été importé. {conflict}") from None
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Import terminé en {elapsed:.1f} s : {report.summary()}.")
