"""The data behind each final mark (R-TRUST-1), gathered in bulk: the marking and its
last unit edit (script versions), every harmonisation that changed it (its effects,
joined to the harmonisation and the scenario that took it), the clamp and the spread.

A fixed number of queries whatever the number of scripts (the list export reads 60,000):
scripts, exams and their leaves, versions, effects, harmonisations, scenarios. Nothing
reads the candidate (R-UNIT-2).
"""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet

from harmonie.accounts.models import User
from harmonie.explanation.exports import ListExport, export_row, sort_label
from harmonie.explanation.rules import (
    CancelledRef,
    Explanation,
    HarmonisationChange,
    Person,
    ScenarioRef,
    ScriptFacts,
    UnitEdit,
    explanation_build,
)
from harmonie.harmonisation.models import Harmonisation, HarmonisationEffect, Scenario
from harmonie.marking.models import Script, ScriptVersion
from harmonie.marking.selectors import ListParams, script_rows, unit_scripts_ordered
from harmonie.referential.models import Exam, ExamKind, Part
from harmonie.scriptfilter import ScriptFilter, script_filter_describe

_SCRIPT_FIELDS = (
    "pk",
    "public_id",
    "exam_id",
    "academy_id",
    "marks",
    "final_marks",
    "special_mark",
    "initial_mark",
    "delta",
    "final_mark",
    "grader_id",
    "grader__first_name",
    "grader__last_name",
    "grader__username",
    "batch__grader_id",
    "batch__grader__first_name",
    "batch__grader__last_name",
    "batch__grader__username",
)


def _exams(exam_ids: set[int]) -> dict[int, tuple[Decimal, tuple[str, ...]]]:
    """Per exam: its maximum and its leaf codes in scheme order (none: global mark only)."""
    exams = {
        pk: (max_mark, kind)
        for pk, max_mark, kind in Exam.objects.filter(pk__in=exam_ids).values_list(
            "pk", "max_mark", "kind"
        )
    }
    leaves: dict[int, list[str]] = defaultdict(list)
    for exam_id, code in (
        Part.objects.filter(exam_id__in=exam_ids, is_leaf=True)
        .order_by("exam_id", "position")
        .values_list("exam_id", "code")
    ):
        leaves[exam_id].append(code)
    return {
        pk: (max_mark, tuple(leaves[pk]) if kind == ExamKind.MARKED else ())
        for pk, (max_mark, kind) in exams.items()
    }


def _grader(row: dict) -> tuple[int | None, Person | None]:
    """The grader of the script's batch, else the one copied on the script."""
    prefix = "batch__grader" if row["batch__grader_id"] else "grader"
    grader_id = row[f"{prefix}_id"]
    if grader_id is None:
        return None, None
    return grader_id, Person(
        first_name=row[f"{prefix}__first_name"] or "",
        last_name=row[f"{prefix}__last_name"] or "",
        username=row[f"{prefix}__username"] or "",
    )


def _last_edits(ids: QuerySet, graders: dict[int, int | None]) -> dict[int, UnitEdit]:
    """Per script, its last version saved by someone other than its grader, with the
    mark of the version before it. A later replacement by an import (`--replace-edited`,
    R-TRUST-2) ends it: the marking then comes from the file."""
    edits: dict[int, UnitEdit] = {}
    previous: dict[int, tuple[Decimal | None, str | None]] = {}
    versions = (
        ScriptVersion.objects.filter(script_id__in=ids)
        .order_by("script_id", "number")
        .values_list(
            "script_id",
            "author_id",
            "author__first_name",
            "author__last_name",
            "author__username",
            "created_at",
            "initial_mark",
            "special_mark",
            "from_import",
        )
    )
    rows = versions.iterator(chunk_size=5000)
    for script_id, author_id, first, last, username, at, mark, special, imported in rows:
        if imported:
            edits.pop(script_id, None)
        elif author_id is not None and author_id != graders.get(script_id):
            before_mark, before_special = previous.get(script_id, (None, None))
            edits[script_id] = UnitEdit(
                author=Person(first_name=first or "", last_name=last or "", username=username),
                at=at,
                mark_before=before_mark,
                special_before=before_special,
            )
        previous[script_id] = (mark, special)
    return edits


def _harmonisations(exam_ids: set[int], academy_ids: set[int]) -> dict[int, dict[str, Any]]:
    """Every harmonisation of the scripts' exams and academies (a few dozen at most): the
    effects are looked up through them."""
    rows = Harmonisation.objects.filter(exam_id__in=exam_ids, academy_id__in=academy_ids).values(
        "pk",
        "name",
        "executed_at",
        "author__first_name",
        "author__last_name",
        "author__username",
        "reason_code",
        "reason_text",
        "is_cancellation",
        "cancels_id",
        "cancels__name",
        "cancels__executed_at",
    )
    return {row["pk"]: dict(row) for row in rows}


def _scenarios(ids: set[int]) -> dict[tuple[int, int], tuple[dict, str, Decimal | None]]:
    return {
        (harmonisation_id, position): (scenario_filter, action, points)
        for harmonisation_id, position, scenario_filter, action, points in Scenario.objects.filter(
            harmonisation_id__in=ids
        ).values_list("harmonisation_id", "position", "filter", "action", "points")
    }


def _changes(
    ids: QuerySet, harmonisations: dict[int, dict[str, Any]]
) -> dict[int, list[HarmonisationChange]]:
    """Per script, the harmonisations that changed its delta, in execution order.

    The effects are found through their (harmonisation, script) index, the harmonisations
    read first leading the lookup (there is no index by script alone,
    `HarmonisationEffect`)."""
    if not harmonisations:
        return {}
    effects = list(
        HarmonisationEffect.objects.filter(
            harmonisation_id__in=list(harmonisations), script_id__in=ids
        )
        .exclude(delta=F("delta_before"))
        .values_list("script_id", "harmonisation_id", "scenario_position", "delta_before", "delta")
        .iterator(chunk_size=10000)
    )
    scenarios = _scenarios({effect[1] for effect in effects})
    # One reference per (harmonisation, scenario), shared by the scripts it took: its
    # sentence is written once.
    refs: dict[tuple[int, int], ScenarioRef] = {}
    for harmonisation_id, position in {(effect[1], effect[2]) for effect in effects}:
        row = harmonisations[harmonisation_id]
        scenario_filter, action, points = scenarios.get(
            (harmonisation_id, position), ({}, "", None)
        )
        cancels = None
        if row["cancels_id"] is not None:
            cancels = CancelledRef(
                harmonisation_id=row["cancels_id"],
                name=row["cancels__name"],
                executed_at=row["cancels__executed_at"],
            )
        refs[(harmonisation_id, position)] = ScenarioRef(
            harmonisation_id=harmonisation_id,
            name=row["name"],
            executed_at=row["executed_at"],
            author=Person(
                first_name=row["author__first_name"] or "",
                last_name=row["author__last_name"] or "",
                username=row["author__username"] or "",
            ),
            scenario=position + 1,
            filter=scenario_filter,
            action=action,
            points=points,
            reason_code=row["reason_code"],
            reason_text=row["reason_text"],
            is_cancellation=row["is_cancellation"],
            cancels=cancels,
        )
    changes: dict[int, list[HarmonisationChange]] = defaultdict(list)
    for script_id, harmonisation_id, position, delta_before, delta in effects:
        changes[script_id].append(
            HarmonisationChange(
                ref=refs[(harmonisation_id, position)], delta_before=delta_before, delta=delta
            )
        )
    for script_changes in changes.values():
        script_changes.sort(
            key=lambda change: (change.ref.executed_at, change.ref.harmonisation_id)
        )
    return changes


def scripts_explained(*, scripts: QuerySet[Script]) -> dict[str, Explanation]:
    """The explanation of every script of `scripts` (a queryset the caller has already
    narrowed to what the user may see), by anonymous script id."""
    ids = scripts.order_by().values("pk")
    rows = list(scripts.order_by().values(*_SCRIPT_FIELDS).iterator(chunk_size=5000))
    if not rows:
        return {}
    exams = _exams({row["exam_id"] for row in rows})
    graders = {}
    people = {}
    for row in rows:
        graders[row["pk"]], people[row["pk"]] = _grader(row)
    edits = _last_edits(ids, graders)
    harmonisations = _harmonisations(set(exams), {row["academy_id"] for row in rows})
    changes = _changes(ids, harmonisations)
    explained: dict[str, Explanation] = {}
    for row in rows:
        maximum, leaves = exams[row["exam_id"]]
        facts = ScriptFacts(
            maximum=maximum,
            initial_mark=row["initial_mark"],
            delta=row["delta"],
            final_mark=row["final_mark"],
            special_mark=row["special_mark"],
            grader=people[row["pk"]],
            last_edit=edits.get(row["pk"]),
            changes=changes.get(row["pk"], ()),
            leaves=leaves,
            marks=row["marks"] or {},
            final_marks=row["final_marks"],
        )
        explained[row["public_id"]] = explanation_build(facts=facts)
    return explained


def script_explanation(*, script: Script) -> Explanation:
    """One script's explanation (the caller checked the user may open it)."""
    return scripts_explained(scripts=Script.objects.filter(pk=script.pk))[script.public_id]


def script_list_export_rows(
    *, user: User, exam: Exam, script_filter: ScriptFilter, params: ListParams
) -> ListExport:
    """Every script of the unit-harmonisation list as the page filters and sorts it, each
    with its explanation (R-UNIT-3, R-TRUST-1); `unit_scripts` refuses other roles."""
    scripts = unit_scripts_ordered(user=user, exam=exam, script_filter=script_filter, params=params)
    rows = script_rows(scripts=scripts)
    explained = scripts_explained(scripts=scripts)
    about = [("Épreuve", f"{exam.code} — {exam.label}"), ("Copies", str(len(rows)))]
    about += script_filter_describe(script_filter=script_filter)
    if params.q:
        about.append(("Recherche", params.q))
    for key, label, yes, no in (
        ("harmonised", "Harmonisation", "harmonisées", "non harmonisées"),
        ("conforming", "Conformité", "conformes", "non conformes"),
    ):
        if getattr(params, key) is not None:
            about.append((label, yes if getattr(params, key) else no))
    about.append(("Tri", sort_label(params.sort)))
    return ListExport(
        rows=[export_row(row=row, explanation_text=explained[row["id"]].text) for row in rows],
        about=about,
    )
