"""Mass harmonisation writes: simulate, execute (R-MASS-8..10), make conforming (R-MASS-12)."""

import io
import json
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import DecimalField, F, Value
from django.db.models.functions import Greatest, Least, Now

from harmonie.accounts.models import User
from harmonie.accounts.permissions import exam_abilities, exam_get_for_user, require
from harmonie.audit.services import audit_log
from harmonie.errors import Conflict, InvalidInput, NotFound
from harmonie.harmonisation.conformity import conformity_pending
from harmonie.harmonisation.engine import RESET, from_cents, histogram, scenarios_apply
from harmonie.harmonisation.models import (
    Harmonisation,
    HarmonisationEffect,
    Scenario,
    Simulation,
)
from harmonie.harmonisation.population import LoadedPopulation, filter_mask, population_load
from harmonie.harmonisation.scenarios import (
    ParsedScenario,
    scenarios_fingerprint,
    scenarios_parse,
)
from harmonie.marking.filters import script_filter_parse
from harmonie.marking.models import Script
from harmonie.referential.models import Exam
from harmonie.referential.versions import academy_marks_version, marks_version_bump

_MARK = DecimalField(max_digits=6, decimal_places=2)
_CHUNK = 20000


def exam_for_mass_harmonisation(*, user: User, exam_code: str) -> Exam:
    """The exam in the user's scope, if their role may harmonise it (404 / 403)."""
    exam = exam_get_for_user(user=user, code=exam_code)
    require(
        allowed=exam_abilities(user=user, exam=exam).mass_harmonise and bool(user.academy_id),
        message="Votre rôle ne permet pas l'harmonisation en masse.",
    )
    return exam


def _mean(final: np.ndarray, include: np.ndarray) -> float | None:
    values = final[include & (final >= 0)]
    return round(float(values.mean()) / 100, 2) if values.size else None


def _simulate(
    *, loaded: LoadedPopulation, scenarios: list[ParsedScenario], display: np.ndarray
) -> tuple[Any, dict]:
    matches = [filter_mask(loaded=loaded, script_filter=s.filter) for s in scenarios]
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
    return outcome, result


def simulation_create(
    *, user: User, exam_code: str, scenarios: Any, display: Any = None
) -> Simulation:
    """Simulate the scenarios on the current data of the user's academy (R-MASS-8).

    The BEFORE and AFTER histograms cover the academy, narrowed by the display filter;
    part-mark scenarios are included. The simulation remembers the marks version it
    ran on, so that execution can refuse it once the data changed (R-MASS-9).
    """
    exam = exam_for_mass_harmonisation(user=user, exam_code=exam_code)
    parsed = scenarios_parse(data=scenarios, exam=exam, user=user)
    if display is not None and not hasattr(display, "keys"):
        raise InvalidInput("Le filtre d'affichage doit être un objet.")
    display_filter = script_filter_parse(data=display or {}, exam=exam, user=user)
    version = academy_marks_version(exam_id=exam.pk, academy_id=user.academy_id)
    loaded = population_load(exam=exam, academy_id=user.academy_id)
    display_mask = filter_mask(loaded=loaded, script_filter=display_filter)
    _, result = _simulate(loaded=loaded, scenarios=parsed, display=display_mask)
    return Simulation.objects.create(
        exam=exam,
        academy_id=user.academy_id,
        author=user,
        scenarios=[scenario.as_dict() for scenario in parsed],
        display=display_filter.as_dict(),
        marks_version=version,
        fingerprint=scenarios_fingerprint(scenarios=parsed),
        result=result,
    )


def _scripts_update(*, ids: np.ndarray, delta: Decimal, harmonised: bool, maximum: Decimal) -> None:
    value = Value(delta, output_field=_MARK)
    for start in range(0, ids.size, _CHUNK):
        chunk = [int(pk) for pk in ids[start : start + _CHUNK]]
        Script.objects.filter(pk__in=chunk).update(
            delta=value,
            is_harmonised=harmonised,
            final_mark=Least(
                Greatest(F("initial_mark") + value, Value(Decimal(0), output_field=_MARK)),
                Value(maximum, output_field=_MARK),
            ),
            # The conformity spread no longer matches the new final mark (R-MASS-12).
            final_marks=None,
            updated_at=Now(),
        )


def _scripts_write(
    *, loaded: LoadedPopulation, outcome: Any, parsed: list[ParsedScenario], maximum: Decimal
) -> None:
    """Write the new delta, flag and final mark of every script a scenario took.

    PostgreSQL: one UPDATE joined to arrays of (id, delta, flag, final) computed by the
    engine. Elsewhere: one UPDATE per scenario (its delta is the same for all), by chunks.
    """
    rows = np.nonzero(outcome.owner >= 0)[0]
    if not rows.size:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Script._meta.db_table} AS s
                SET delta = v.delta / 100.0, is_harmonised = v.harmonised,
                    final_mark = v.final / 100.0, final_marks = NULL, updated_at = now()
                FROM unnest(%s::bigint[], %s::int[], %s::bool[], %s::int[])
                    AS v(id, delta, harmonised, final)
                WHERE s.id = v.id
                """,  # noqa: S608 - table name from the model, values bound
                [
                    loaded.ids[rows].tolist(),
                    outcome.delta[rows].tolist(),
                    outcome.is_harmonised[rows].tolist(),
                    outcome.final[rows].tolist(),
                ],
            )
        return
    for position, scenario in enumerate(parsed):
        ids = loaded.ids[outcome.owner == position]
        if ids.size:
            _scripts_update(
                ids=ids,
                delta=from_cents(scenario.action.delta_cents()),
                harmonised=scenario.action.type != RESET,
                maximum=maximum,
            )


_EFFECT_COLUMNS = (
    "harmonisation_id",
    "scenario_position",
    "script_id",
    "initial_mark",
    "delta_before",
    "delta",
    "final_mark_before",
    "final_mark",
)


def _effects_write(*, harmonisation: Harmonisation, loaded: LoadedPopulation, outcome: Any) -> int:
    rows = np.nonzero(outcome.owner >= 0)[0]
    if not rows.size:
        return 0
    pop = loaded.population
    table = np.column_stack(
        [
            np.full(rows.size, harmonisation.pk, dtype=np.int64),
            outcome.owner[rows].astype(np.int64),
            loaded.ids[rows],
            pop.initial[rows],
            pop.delta[rows],
            outcome.delta[rows],
            pop.final[rows],
            outcome.final[rows],
        ]
    )
    if connection.vendor == "postgresql":
        values = table.astype(np.float64)
        values[:, 3:] /= 100
        buffer = io.StringIO()
        np.savetxt(buffer, values, fmt=["%d"] * 3 + ["%.2f"] * 5, delimiter="\t")
        columns = ", ".join(_EFFECT_COLUMNS)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {HarmonisationEffect._meta.db_table} ({columns}) FROM STDIN"
            ) as copy,
        ):
            copy.write(buffer.getvalue())
    else:
        HarmonisationEffect.objects.bulk_create(
            (
                HarmonisationEffect(
                    harmonisation=harmonisation,
                    scenario_position=int(row[1]),
                    script_id=int(row[2]),
                    initial_mark=from_cents(row[3]),
                    delta_before=from_cents(row[4]),
                    delta=from_cents(row[5]),
                    final_mark_before=from_cents(row[6]),
                    final_mark=from_cents(row[7]),
                )
                for row in table
            ),
            batch_size=2000,
        )
    return int(rows.size)


def harmonisation_execute(
    *,
    user: User,
    exam_code: str,
    simulation_id: Any,
    name: str = "",
    scenarios: Any = None,
) -> Harmonisation:
    """Execute a simulated harmonisation, all or nothing (R-MASS-9, R-MASS-10).

    The exam row is locked first, as by every mark-changing service: two coordinators
    executing at the same moment run one after the other, and the second finds the
    marks version moved past its simulation (409). Under the lock the scenarios are
    applied again to the current data, which is the simulated data.
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
    with transaction.atomic():
        locked_exam = Exam.objects.select_for_update().get(pk=exam.pk)
        simulation = (
            Simulation.objects.select_for_update()
            .filter(pk=simulation_pk, exam=exam, academy_id=user.academy_id, author=user)
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
        current_version = academy_marks_version(exam_id=exam.pk, academy_id=user.academy_id)
        if simulation.marks_version != current_version:
            raise Conflict(
                "Les notes de l'épreuve ont changé depuis la simulation (autre harmonisation, "
                "modification d'une copie ou d'un lot) : relancez la simulation.",
                code="stale_simulation",
            )
        loaded = population_load(exam=exam, academy_id=user.academy_id)
        everyone = np.ones(len(loaded), dtype=bool)
        outcome, result = _simulate(loaded=loaded, scenarios=parsed, display=everyone)
        harmonisation = Harmonisation.objects.create(
            exam=exam,
            academy_id=user.academy_id,
            author=user,
            name=name,
            is_cancellation=all(s.action.type == RESET for s in parsed),
            simulation=simulation,
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
        _scripts_write(loaded=loaded, outcome=outcome, parsed=parsed, maximum=exam.max_mark)
        effects = _effects_write(harmonisation=harmonisation, loaded=loaded, outcome=outcome)
        marks_version_bump(exam_id=exam.pk, academy_ids=[user.academy_id])
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
                "scenarios": simulation.scenarios,
                "counts": result["scenarios"],
                "scripts": effects,
            },
        )
    return harmonisation


def _final_marks_write(*, pending: dict[int, dict[str, float]]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Script._meta.db_table} AS s SET final_marks = v.spread::jsonb
                FROM unnest(%s::bigint[], %s::text[]) AS v(id, spread) WHERE s.id = v.id
                """,  # noqa: S608 - table name from the model, values bound
                [list(pending), [json.dumps(spread) for spread in pending.values()]],
            )
        return
    scripts = [Script(pk=pk, final_marks=spread) for pk, spread in pending.items()]
    Script.objects.bulk_update(scripts, ["final_marks"], batch_size=1000)


def conformity_apply(*, user: User, exam_code: str) -> int:
    """Make every script of the academy conforming (R-MASS-12); returns how many changed.

    Final marks do not change, so the marks version is not bumped and simulations stay
    valid; the exam row is still locked so that no harmonisation runs meanwhile.
    """
    exam = exam_for_mass_harmonisation(user=user, exam_code=exam_code)
    with transaction.atomic():
        Exam.objects.select_for_update().get(pk=exam.pk)
        pending = conformity_pending(exam=exam, academy_id=user.academy_id)
        if not pending:
            return 0
        _final_marks_write(pending=pending)
        audit_log(
            actor=user,
            action="harmonisation.conformity",
            target_type="exam",
            target_id=exam.code,
            exam=exam,
            academy=user.academy,
            before={"not_conforming": len(pending)},
            after={"not_conforming": 0},
        )
    return len(pending)
