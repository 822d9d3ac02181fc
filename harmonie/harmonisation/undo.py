"""Exact undo of a harmonisation (R-MASS-14): which scripts still carry its delta.

A script still carries a harmonisation's delta when that harmonisation raised or lowered
it and no later harmonisation touched it since (every harmonisation that changes a
script writes an effect row). Unit edits change the initial mark, never the delta, so a
script edited after the harmonisation is still undone exactly.
"""

import numpy as np
from django.db.models import Exists, F, OuterRef

from harmonie.accounts.models import User
from harmonie.errors import Conflict
from harmonie.harmonisation.engine import RESET
from harmonie.harmonisation.models import Harmonisation, HarmonisationEffect
from harmonie.harmonisation.scenarios import ParsedScenario, scenarios_parse
from harmonie.marking.population import LoadedPopulation
from harmonie.referential.models import Exam


def _carried(*, harmonisation: Harmonisation):
    carried = (
        HarmonisationEffect.objects.filter(harmonisation=harmonisation)
        .exclude(delta=0)
        .filter(script__is_harmonised=True, script__delta=F("delta"))
    )
    # Only the same exam and academy's later harmonisations can touch its scripts: listed,
    # they lead the (harmonisation, script) index (there is none by script alone).
    later_ids = list(
        Harmonisation.objects.filter(
            exam_id=harmonisation.exam_id,
            academy_id=harmonisation.academy_id,
            pk__gt=harmonisation.pk,
        ).values_list("pk", flat=True)
    )
    if not later_ids:
        return carried
    later = HarmonisationEffect.objects.filter(
        harmonisation_id__in=later_ids, script=OuterRef("script")
    )
    return carried.filter(~Exists(later))


def undo_possible(*, harmonisation: Harmonisation) -> bool:
    """Whether an exact undo has anything to do: not a cancellation, not undone yet, and
    some script still carries the harmonisation's delta (the history offers it then)."""
    if harmonisation.is_cancellation:
        return False
    if Harmonisation.objects.filter(cancels=harmonisation).exists():
        return False
    return _carried(harmonisation=harmonisation).exists()


def undo_targets(*, harmonisation: Harmonisation) -> dict[int, list[int]]:
    """Script ids still carrying the harmonisation's delta, by scenario position."""
    rows = _carried(harmonisation=harmonisation).values_list("scenario_position", "script_id")
    targets: dict[int, list[int]] = {}
    for position, script_id in rows:
        targets.setdefault(position, []).append(script_id)
    return targets


def undo_masks(
    *, loaded: LoadedPopulation, targets: dict[int, list[int]], scenario_count: int
) -> list[np.ndarray]:
    """One mask per scenario of the original: the scripts it took that still carry it."""
    return [
        np.isin(loaded.ids, np.array(targets.get(position, []), dtype=np.int64))
        for position in range(scenario_count)
    ]


def replay_leftover(
    *, loaded: LoadedPopulation, harmonised_after: np.ndarray, harmonisation: Harmonisation
) -> int:
    """How many of the original's scripts would still carry its delta after a replayed
    cancellation (possible when unit edits moved them out of its mark filters)."""
    ids = [pk for pks in undo_targets(harmonisation=harmonisation).values() for pk in pks]
    if not ids:
        return 0
    carrying = np.isin(loaded.ids, np.array(ids, dtype=np.int64))
    return int((carrying & harmonised_after).sum())


def undoable_check(*, original: Harmonisation) -> None:
    if original.is_cancellation:
        raise Conflict(
            "Cette harmonisation est une annulation : elle ne peut pas être annulée. "
            "Rejouez l'harmonisation d'origine pour la rétablir.",
            code="not_undoable",
        )
    undone = Harmonisation.objects.filter(cancels=original).first()
    if undone is not None:
        raise Conflict(
            f"Cette harmonisation a déjà été annulée (annulation n°{undone.pk} du "
            f"{undone.executed_at:%d/%m/%Y}).",
            code="already_undone",
        )
    if not undo_targets(harmonisation=original):
        raise Conflict(
            "Aucune copie ne porte plus cette harmonisation (déjà réinitialisée ou "
            "reprise par une harmonisation suivante) : il n'y a rien à annuler.",
            code="nothing_to_undo",
        )


def undo_scenarios(*, original: Harmonisation, exam: Exam, user: User) -> list[ParsedScenario]:
    return scenarios_parse(
        data=[
            {"filter": scenario.filter, "action": {"type": RESET}}
            for scenario in original.scenarios.order_by("position")
        ],
        exam=exam,
        user=user,
    )


def undo_summary(*, original: Harmonisation, targets: dict[int, list[int]]) -> dict:
    """What goes back, by how much: per scenario of the original, the scripts and points."""
    return {
        "harmonisation": original.pk,
        "scenarios": [
            {
                "scenario": scenario.position + 1,
                "scripts": len(targets.get(scenario.position, [])),
                "points": float(-(scenario.points or 0))
                if scenario.action == "raise"
                else float(scenario.points or 0),
            }
            for scenario in original.scenarios.order_by("position")
        ],
    }
