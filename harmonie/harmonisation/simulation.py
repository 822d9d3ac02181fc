"""Simulating scenarios on a loaded population (R-MASS-8): BEFORE / AFTER histograms,
means, per-scenario counts and threshold crossings (R-FAIR-3). No writes."""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection

from harmonie.accounts.models import User
from harmonie.errors import InvalidInput
from harmonie.harmonisation.engine import (
    Outcome,
    histogram,
    scenarios_apply,
    threshold_crossings,
    to_cents,
)
from harmonie.harmonisation.scenarios import ParsedScenario
from harmonie.marking.models import Script
from harmonie.marking.permissions import scripts_in_scope
from harmonie.marking.population import LoadedPopulation, filter_mask, scenario_mask
from harmonie.referential.models import Exam
from harmonie.scriptfilter import ScriptFilter, script_filter_parse

# R-FAIR-3: second-chance oral, pass, honours (out of 20) when the exam names none.
DEFAULT_THRESHOLDS = (8, 10, 12, 14, 16)
_IDS_CHUNK = 10000


def _mean(final: np.ndarray, include: np.ndarray) -> float | None:
    values = final[include & (final >= 0)]
    return round(float(values.mean()) / 100, 2) if values.size else None


def exam_thresholds(*, exam: Exam) -> list[Decimal]:
    """The exam's thresholds (R-FAIR-3), within its maximum."""
    configured = getattr(exam, "thresholds", None) or DEFAULT_THRESHOLDS
    return [Decimal(str(t)) for t in configured if 0 < Decimal(str(t)) <= exam.max_mark]


def _public_ids(*, loaded: LoadedPopulation, rows: np.ndarray) -> np.ndarray:
    """The anonymous ids of the scripts at `rows` (a mask), aligned with `loaded.ids`,
    each read once per loaded population (R-FAIR-3).

    On PostgreSQL one query with the ids as an array parameter: a list of 7,500 ids
    through `pk__in` costs more to compile and send than to run (300 ms at 60,000
    scripts, bench/results/2026-12-02-vm-mass-harmonisation.md)."""
    if loaded.public_ids is None:
        loaded.public_ids = np.full(len(loaded), "", dtype=object)
    names = loaded.public_ids
    missing = rows & (names == "")
    if not missing.any():
        return names
    wanted = [int(pk) for pk in loaded.ids[missing]]
    found: dict[int, str] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, public_id FROM {Script._meta.db_table} WHERE id = ANY(%s)",  # noqa: S608 (the model's own table name)
                [wanted],
            )
            found.update(cursor.fetchall())
    else:
        for start in range(0, len(wanted), _IDS_CHUNK):
            found.update(
                Script.objects.filter(pk__in=wanted[start : start + _IDS_CHUNK]).values_list(
                    "pk", "public_id"
                )
            )
    names[missing] = [found.get(pk, "") for pk in wanted]
    return names


def _crossings(
    *, loaded: LoadedPopulation, after: np.ndarray, display: np.ndarray, exam: Exam
) -> list[dict]:
    """R-FAIR-3: per threshold, who crosses it up and down (anonymous script ids)."""
    thresholds = exam_thresholds(exam=exam)
    crossings = threshold_crossings(
        before=loaded.population.final,
        after=after,
        include=display,
        thresholds=[to_cents(t) for t in thresholds],
    )
    moved = np.zeros(len(loaded), dtype=bool)
    for crossing in crossings:
        moved |= crossing.up | crossing.down
    names = _public_ids(loaded=loaded, rows=moved)
    return [
        {
            "threshold": float(threshold),
            "up": int(crossing.up.sum()),
            "down": int(crossing.down.sum()),
            "scripts_up": sorted(names[crossing.up].tolist()),
            "scripts_down": sorted(names[crossing.down].tolist()),
        }
        for threshold, crossing in zip(thresholds, crossings, strict=True)
    ]


def population_simulate(
    *,
    loaded: LoadedPopulation,
    scenarios: list[ParsedScenario],
    display: np.ndarray,
    matches: Sequence[np.ndarray] | None = None,
    crossings: bool = True,
) -> tuple[Outcome, dict]:
    """Apply the scenarios in memory; `matches` replaces their filters (exact undo)."""
    if matches is None:
        matches = [scenario_mask(loaded=loaded, script_filter=s.filter) for s in scenarios]
    outcome = scenarios_apply(
        population=loaded.population,
        matches=matches,
        actions=[s.action for s in scenarios],
        maximum=loaded.maximum,
    )
    before = loaded.population.final
    result = {
        "before": histogram(
            final=before, include=display, maximum=loaded.maximum, step=loaded.step
        ),
        "after": histogram(
            final=outcome.final, include=display, maximum=loaded.maximum, step=loaded.step
        ),
        "count": int((display & (before >= 0)).sum()),
        "mean_before": _mean(before, display),
        "mean_after": _mean(outcome.final, display),
        "changed": int((display & (outcome.final != before)).sum()),
        "scenarios": [scenario.as_dict() for scenario in outcome.scenarios],
    }
    if crossings:
        result["crossings"] = _crossings(
            loaded=loaded, after=outcome.final, display=display, exam=loaded.exam
        )
    return outcome, result


def display_mask(
    *, loaded: LoadedPopulation, display: Any, exam: Exam, user: User
) -> tuple[ScriptFilter, np.ndarray]:
    """The display filter (R-MASS-8) and its mask; marks read the final mark."""
    if display is not None and not isinstance(display, Mapping):
        raise InvalidInput("Le filtre d'affichage doit être un objet.")
    display_filter = script_filter_parse(
        data=display or {}, exam=exam, user=user, scripts=scripts_in_scope(user=user, exam=exam)
    )
    return display_filter, filter_mask(loaded=loaded, script_filter=display_filter)
