import os
import time
from pathlib import Path
from typing import cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from harmonie.referential.generator import (
    MARKED_EXAM,
    SCAN_POOL_SIZE,
    SCANS_FOLDER,
    ScanMode,
    session_write,
)
from harmonie.referential.scans import scans_write

# Beyond this many candidates one scan per script would take longer than the session itself.
ALL_SCANS_UP_TO = 5000
_WRITE_BUFFER = 1 << 20


class Command(BaseCommand):
    help = (
        "Génère une session d'examen synthétique et reproductible "
        "(format harmonie-session/1, API.md §1), avec les scans des copies."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--candidates", type=int, required=True, help="nombre de candidats")
        parser.add_argument(
            "--seed", type=int, required=True, help="graine : même graine, même fichier"
        )
        parser.add_argument(
            "-o", "--output", type=Path, required=True, help="fichier JSON à écrire"
        )
        parser.add_argument(
            "--scans",
            choices=("all", "pool", "none"),
            help=(
                "all : un scan par copie ; pool : une réserve de scans partagés entre les "
                f"copies ; none : aucun scan (défaut : all jusqu'à {ALL_SCANS_UP_TO} "
                "candidats, pool au-delà)"
            ),
        )
        parser.add_argument(
            "--scan-pool",
            type=int,
            default=SCAN_POOL_SIZE,
            help=f"taille de la réserve de scans en mode pool (défaut : {SCAN_POOL_SIZE})",
        )

    def handle(
        self,
        *args: object,
        candidates: int,
        seed: int,
        output: Path,
        scans: str | None,
        scan_pool: int,
        **options: object,
    ) -> None:
        if candidates < 1:
            raise CommandError("Il faut au moins un candidat (--candidates).")
        if scan_pool < 1:
            raise CommandError(
                "La réserve de scans doit compter au moins un fichier (--scan-pool)."
            )
        mode = cast(ScanMode, scans or ("all" if candidates <= ALL_SCANS_UP_TO else "pool"))
        output = output.resolve()
        output.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()

        # Written beside the target then renamed, so that an interrupted run never leaves
        # a truncated session file behind.
        partial = output.with_name(f".{output.name}.partial")
        try:
            with partial.open("w", encoding="utf-8", buffering=_WRITE_BUFFER) as stream:
                summary = session_write(
                    stream=stream,
                    candidates=candidates,
                    seed=seed,
                    scans=mode,
                    scan_pool=scan_pool,
                )
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)

        scan_count = scans_write(
            directory=output.parent / SCANS_FOLDER,
            names=summary.scan_names,
            exam=MARKED_EXAM,
            seed=seed,
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Session générée : {summary.candidates} candidats, {summary.scripts} copies, "
            f"{summary.batches} lots, {summary.graders} correcteurs, "
            f"{summary.schools} établissements, {summary.academies} académies, "
            f"{scan_count} scans, en {elapsed:.1f} s → {output}"
        )
