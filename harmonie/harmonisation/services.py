"""Mass harmonisation writes: simulate (R-MASS-8), compare (R-FAIR-4), undo (R-MASS-14),
execute (R-MASS-9, R-MASS-10), make conforming (R-MASS-12)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction

from harmonie.accounts.models import User
from harmonie.accounts.permissions import user_academy_id
from harmonie.audit.services import audit_log
from harmonie.errors import Conflict, InvalidInput, NotFound
from harmonie.harmonisation.conformity import conformity_spread
from harmonie.harmonisation.engine import RESET
from harmonie.harmonisation.models import REASON_CODES, Harmonisation, Scenario, Simulation
from harmonie.harmonisation.permissions import exam_for_mass_harmonisation, undo_check
from harmonie.harmonisation.scenarios import (
    ParsedScenario,
    ScenarioDraft,
    scenarios_fingerprint,
    scenarios_parse,
)
from harmonie.harmonisation.simulation import display_mask, population_simulate
from harmonie.harmonisation.undo import (
    replay_leftover,
    undo_masks,
    undo_scenarios,
    undo_summary,
    undo_targets,
    undoable_check,
)
from harmonie.harmonisation.writers import effects_write, final_marks_write, scripts_write
from harmonie.marking.population import population_after_execution, population_load
from harmonie.referential.models import Exam
from harmonie.referential.versions import academy_marks_version, marks_version_bump

__all__ = [
    "Draft",
    "ReasonDraft",
    "comparison_create",
    "conformity_apply",
    "exam_for_mass_harmonisation",
    "harmonisation_execute",
    "simulation_create",
    "undo_simulation_create",
]


# The scenarios of one harmonisation: typed drafts (the API), or API.md objects (the
# editor's form, stored simulations), read by scenarios_parse.
Scenarios = Sequence[ScenarioDraft | Mapping[str, Any]]
# A filter object (API.md keys): typed by the API's schema or read from the form.
FilterData = Mapping[str, Any]


@dataclass(frozen=True)
class ReasonDraft:
    """The reason given at execution (R-FAIR-5), not yet checked against the list."""

    code: str = "other"
    text: str = ""


@dataclass(frozen=True)
class Draft:
    """One version of a comparison (R-FAIR-4): its scenarios."""

    scenarios: Scenarios


def _harmonisation_in_academy(*, user: User, exam: Exam, harmonisation_id: Any) -> Harmonisation:
    if isinstance(harmonisation_id, bool) or not isinstance(harmonisation_id, int | str):
        raise InvalidInput("Indiquez l'harmonisation.")
    pk = int(harmonisation_id) if str(harmonisation_id).isdigit() else None
    harmonisation = (
        Harmonisation.objects.filter(pk=pk, exam=exam, academy_id=user_academy_id(user)).first()
        if pk is not None
        else None
    )
    if harmonisation is None:
        raise NotFound(f"Harmonisation « {harmonisation_id} » introuvable.")
    return harmonisation


def simulation_create(
    *,
    user: User,
    exam_code: str,
    scenarios: Scenarios,
    display: FilterData | None = None,
    replays: int | str | None = None,
) -> Simulation:
    """Simulate the scenarios on the current data of the user's academy (R-MASS-8).

    The BEFORE and AFTER histograms cover the academy, narrowed by the display filter;
    part-mark scenarios are included, and the threshold crossings are listed (R-FAIR-3).
    The simulation remembers the marks version it ran on, so that execution can refuse
    it once the data changed (R-MASS-9). `replays`, the harmonisation a cancellation was
    reloaded from: the result says how many of its candidates the replay would leave
    harmonised (`replay_leftover`), for which the exact undo is the way (R-MASS-14).
    """
    exam = exam_for_mass_harmonisation(user=user, exam_code=exam_code)
    parsed = scenarios_parse(data=scenarios, exam=exam, user=user)
    replayed = (
        _harmonisation_in_academy(user=user, exam=exam, harmonisation_id=replays)
        if replays not in (None, "")
        else None
    )
    version = academy_marks_version(exam_id=exam.pk, academy_id=user_academy_id(user))
    loaded = population_load(exam=exam, academy_id=user_academy_id(user))
    display_filter, shown = display_mask(loaded=loaded, display=display, exam=exam, user=user)
    outcome, result = population_simulate(loaded=loaded, scenarios=parsed, display=shown)
    if replayed is not None and all(s.action.type == RESET for s in parsed):
        result["replay_leftover"] = {
            "harmonisation": replayed.pk,
            "count": replay_leftover(
                loaded=loaded, harmonised_after=outcome.is_harmonised, harmonisation=replayed
            ),
        }
    return _simulation_save(
        user=user,
        exam=exam,
        parsed=parsed,
        display=display_filter.as_dict(),
        version=version,
        result=result,
    )


def _simulation_save(
    *,
    user: User,
    exam: Exam,
    parsed: list[ParsedScenario],
    display: dict,
    version: int,
    result: dict,
    undoes: Harmonisation | None = None,
) -> Simulation:
    return Simulation.objects.create(
        exam=exam,
        academy_id=user_academy_id(user),
        author=user,
        scenarios=[scenario.as_dict() for scenario in parsed],
        display=display,
        undoes=undoes,
        marks_version=version,
        fingerprint=scenarios_fingerprint(scenarios=parsed),
        result=result,
    )


@dataclass(frozen=True)
class Comparison:
    a: Simulation
    b: Simulation
    differ: int


def comparison_create(
    *,
    user: User,
    exam_code: str,
    a: Draft | Mapping[str, Any],
    b: Draft | Mapping[str, Any],
    display: FilterData | None = None,
) -> Comparison:
    """Two drafts simulated on the same data (R-FAIR-4); either can then be executed.

    `differ` counts the candidates (within the display filter) whose final mark under A
    is not the one under B.
    """
    exam = exam_for_mass_harmonisation(user=user, exam_code=exam_code)
    drafts = []
    scenarios: Any
    for label, draft in (("A", a), ("B", b)):
        if isinstance(draft, Draft):
            scenarios = draft.scenarios
        elif isinstance(draft, Mapping):
            scenarios = draft.get("scenarios")
        else:
            raise InvalidInput(f"Version {label} : un objet {{scenarios}} est attendu.")
        try:
            drafts.append(scenarios_parse(data=scenarios, exam=exam, user=user))
        except InvalidInput as error:
            raise InvalidInput(
                f"Version {label} — {error.message}", details=error.details
            ) from None
    version = academy_marks_version(exam_id=exam.pk, academy_id=user_academy_id(user))
    loaded = population_load(exam=exam, academy_id=user_academy_id(user))
    display_filter, shown = display_mask(loaded=loaded, display=display, exam=exam, user=user)
    simulations = []
    finals = []
    with transaction.atomic():
        for parsed in drafts:
            outcome, result = population_simulate(loaded=loaded, scenarios=parsed, display=shown)
            finals.append(outcome.final)
            simulations.append(
                _simulation_save(
                    user=user,
                    exam=exam,
                    parsed=parsed,
                    display=display_filter.as_dict(),
                    version=version,
                    result=result,
                )
            )
    differ = int((shown & (finals[0] != finals[1])).sum())
    return Comparison(a=simulations[0], b=simulations[1], differ=differ)


def undo_simulation_create(*, user: User, harmonisation_id: int | str) -> Simulation:
    """The simulation of the exact undo of a harmonisation (R-MASS-14).

    Its scenarios are the original's, each switched to a reset, and its population is
    the original's effects: the scripts it changed that still carry its delta, whatever
    their marks became since. Executed like any simulation (stale check, lock, audit).
    """
    undo_check(user=user)
    if isinstance(harmonisation_id, bool) or not str(harmonisation_id).isdigit():
        raise NotFound(f"Harmonisation « {harmonisation_id} » introuvable.")
    original = (
        Harmonisation.objects.filter(pk=int(harmonisation_id), academy_id=user_academy_id(user))
        .select_related("exam")
        .first()
    )
    if original is None:
        raise NotFound(f"Harmonisation « {harmonisation_id} » introuvable.")
    exam = exam_for_mass_harmonisation(user=user, exam_code=original.exam.code)
    undoable_check(original=original)
    parsed = undo_scenarios(original=original, exam=exam, user=user)
    version = academy_marks_version(exam_id=exam.pk, academy_id=user_academy_id(user))
    loaded = population_load(exam=exam, academy_id=user_academy_id(user))
    targets = undo_targets(harmonisation=original)
    masks = undo_masks(loaded=loaded, targets=targets, scenario_count=len(parsed))
    everyone = np.ones(len(loaded), dtype=bool)
    _, result = population_simulate(
        loaded=loaded, scenarios=parsed, display=everyone, matches=masks
    )
    result["undo"] = undo_summary(original=original, targets=targets)
    return _simulation_save(
        user=user,
        exam=exam,
        parsed=parsed,
        display={},
        version=version,
        result=result,
        undoes=original,
    )


def reason_parse(*, reason: ReasonDraft | Mapping[str, Any] | None) -> tuple[str, str]:
    """R-FAIR-5: `{"code", "text"}` from the fixed list; absent means `other`."""
    if isinstance(reason, ReasonDraft):
        reason = {"code": reason.code, "text": reason.text}
    if reason in (None, "", {}):
        return "other", ""
    if not isinstance(reason, Mapping):
        raise InvalidInput("Le motif doit être un objet {code, text}.")
    code = reason.get("code") or "other"
    if not isinstance(code, str) or code not in REASON_CODES:
        allowed = ", ".join(REASON_CODES)
        raise InvalidInput(f"Motif « {code} » inconnu (possibles : {allowed}).")
    text = reason.get("text") or ""
    if not isinstance(text, str):
        raise InvalidInput("La précision du motif doit être un texte.")
    text = text.strip()
    if len(text) > 1000:
        raise InvalidInput("La précision du motif ne doit pas dépasser 1 000 caractères.")
    return code, text


def harmonisation_execute(
    *,
    user: User,
    exam_code: str,
    simulation_id: int | str | None,
    name: str = "",
    scenarios: Scenarios | None = None,
    reason: ReasonDraft | Mapping[str, Any] | None = None,
) -> Harmonisation:
    """Execute a simulated harmonisation, all or nothing (R-MASS-9, R-MASS-10).

    The exam row is locked first, as by every mark-changing service: two coordinators
    executing at the same moment run one after the other, and the second finds the
    marks version moved past its simulation (409). Under the lock the scenarios are
    applied again to the current data, which is the simulated data. The simulation of
    an exact undo (R-MASS-14) applies its resets to the original's effects, and is
    refused once that harmonisation was undone. `reason` (R-FAIR-5) defaults to `other`.
    """
    exam = exam_for_mass_harmonisation(user=user, exam_code=exam_code)
    if isinstance(simulation_id, bool) or not isinstance(simulation_id, int | str):
        raise InvalidInput("Indiquez la simulation à exécuter.")
    try:
        simulation_pk = int(simulation_id)
    except ValueError:
        raise InvalidInput(f"Simulation « {simulation_id} » invalide.") from None
    name = (name or "").strip()
    if len(name) > 200:
        raise InvalidInput("Le nom de l'harmonisation ne doit pas dépasser 200 caractères.")
    reason_code, reason_text = reason_parse(reason=reason)
    with transaction.atomic():
        locked_exam = Exam.objects.select_for_update().get(pk=exam.pk)
        simulation = (
            Simulation.objects.select_for_update(of=("self",))
            .select_related("undoes")
            .filter(pk=simulation_pk, exam=exam, academy_id=user_academy_id(user), author=user)
            .first()
        )
        if simulation is None:
            raise NotFound(f"Simulation « {simulation_id} » introuvable.")
        if Harmonisation.objects.filter(simulation=simulation).exists():
            raise Conflict(
                "Cette simulation a déjà été exécutée : lancez une nouvelle simulation.",
                code="already_executed",
            )
        parsed = scenarios_parse(data=simulation.scenarios, exam=exam, user=user)
        if scenarios is not None:
            edited = scenarios_parse(data=scenarios, exam=exam, user=user)
            if scenarios_fingerprint(scenarios=edited) != simulation.fingerprint:
                raise Conflict(
                    "Les scénarios ont été modifiés depuis la simulation : relancez la simulation.",
                    code="stale_simulation",
                )
        current_version = academy_marks_version(exam_id=exam.pk, academy_id=user_academy_id(user))
        if simulation.marks_version != current_version:
            raise Conflict(
                "Les notes de l'épreuve ont changé depuis la simulation (autre harmonisation, "
                "modification d'une copie ou d'un lot) : relancez la simulation.",
                code="stale_simulation",
            )
        loaded = population_load(exam=exam, academy_id=user_academy_id(user))
        matches = None
        if simulation.undoes is not None:
            undoable_check(original=simulation.undoes)
            matches = undo_masks(
                loaded=loaded,
                targets=undo_targets(harmonisation=simulation.undoes),
                scenario_count=len(parsed),
            )
        everyone = np.ones(len(loaded), dtype=bool)
        outcome, result = population_simulate(
            loaded=loaded, scenarios=parsed, display=everyone, matches=matches, crossings=False
        )
        harmonisation = Harmonisation.objects.create(
            exam=exam,
            academy_id=user_academy_id(user),
            author=user,
            name=name,
            is_cancellation=all(s.action.type == RESET for s in parsed),
            simulation=simulation,
            reason_code=reason_code,
            reason_text=reason_text,
            cancels=simulation.undoes,
        )
        Scenario.objects.bulk_create(
            Scenario(
                harmonisation=harmonisation,
                position=position,
                filter=scenario.filter.as_dict(),
                action=scenario.action.type,
                points=scenario.action.points,
                matched=counts.matched,
                applied=counts.applied,
                skipped=counts.skipped,
            )
            for position, (scenario, counts) in enumerate(
                zip(parsed, outcome.scenarios, strict=True)
            )
        )
        # The effects first: the scripts' UPDATE reads its values from them.
        effects = effects_write(harmonisation=harmonisation, loaded=loaded, outcome=outcome)
        scripts_write(
            harmonisation=harmonisation,
            loaded=loaded,
            outcome=outcome,
            parsed=parsed,
            maximum=exam.max_mark,
        )
        marks_version_bump(exam_id=exam.pk, academy_ids=[user_academy_id(user)])
        population_after_execution(loaded=loaded, outcome=outcome)
        audit_log(
            actor=user,
            action="harmonisation.cancelled"
            if harmonisation.is_cancellation
            else "harmonisation.executed",
            target_type="harmonisation",
            target_id=str(harmonisation.pk),
            exam=exam,
            academy=user.academy,
            before={
                "marks_version": locked_exam.marks_version,
                "academy_marks_version": current_version,
            },
            after={
                "name": name,
                "reason": {"code": reason_code, "text": reason_text},
                "cancels": simulation.undoes_id,
                "scenarios": simulation.scenarios,
                "counts": result["scenarios"],
                "scripts": effects,
            },
        )
    return harmonisation


def conformity_apply(*, user: User, exam_code: str) -> int:
    """Make every script of the academy conforming (R-MASS-12); returns how many changed.

    Final marks do not change, so the marks version is not bumped and simulations stay
    valid; the exam row is still locked so that no harmonisation runs meanwhile.
    """
    exam = exam_for_mass_harmonisation(user=user, exam_code=exam_code)
    with transaction.atomic():
        Exam.objects.select_for_update().get(pk=exam.pk)
        pending = conformity_spread(exam=exam, academy_id=user_academy_id(user))
        count = int(pending.ids.size)
        if not count:
            return 0
        final_marks_write(ids=pending.ids, codes=pending.codes, spread=pending.spread)
        audit_log(
            actor=user,
            action="harmonisation.conformity",
            target_type="exam",
            target_id=exam.code,
            exam=exam,
            academy=user.academy,
            before={"not_conforming": count},
            after={"not_conforming": 0},
        )
    return count
