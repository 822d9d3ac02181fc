"""Grader effects of an exam in the user's academy (R-FAIR-1) and the draft harmonisation
they propose (R-FAIR-2). Reads only.

The scripts are the statistics' (`statistics_scripts`: the user's academy, the same
filter in SQL and « lots verrouillés seulement »), read as four integer columns and
fitted by `harmonie.fairness.rules.grader_effects_fit`. Answers are cached under the academy's
marks version, like the statistics.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db import connection
from django.db.models import F, IntegerField, Value
from django.db.models.functions import Cast, Coalesce, Round

from harmonie.accounts.models import User
from harmonie.errors import InvalidInput
from harmonie.fairness.rules import LENIENT, grader_effects_fit, proposal_action
from harmonie.referential.models import Exam, Part
from harmonie.referential.scheme import exam_part_leaves
from harmonie.scriptfilter import (
    ScriptFilter,
    cache_key,
    marks_cache_head,
    part_mark_expression,
)
from harmonie.statistics.selectors import statistics_filter_parse, statistics_scripts

PART_KEY = "part"
BASIS_KEY = "basis"
INITIAL = "initial"
FINAL = "final"
BASES = (INITIAL, FINAL)
FLAG_LABELS = {"lenient": "indulgent", "severe": "sévère", "to_review": "à examiner"}
METHOD = (
    "Moindres carrés ordinaires : note = effet du correcteur + effet de la qualification "
    "+ effet du sujet + résidu ; effets des correcteurs de somme nulle pondérée par leurs "
    "copies (écart au correcteur moyen de l'académie, à copies comparables) ; intervalle "
    "à 95 % de Student sur la variance résiduelle commune."
)


@dataclass(frozen=True)
class SeverityQuery:
    script_filter: ScriptFilter
    locked_only: bool
    part: str | None
    basis: str


@dataclass(frozen=True)
class GraderRow:
    grader: str
    name: str
    scripts: int
    mean: float
    naive_effect: float
    effect: float
    ci_low: float | None
    ci_high: float | None
    flag: str | None

    @property
    def flag_label(self) -> str:
        return FLAG_LABELS.get(self.flag or "", "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "grader": self.grader,
            "name": self.name,
            "scripts": self.scripts,
            "mean": self.mean,
            "naive_effect": self.naive_effect,
            "effect": self.effect,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "flag": self.flag,
        }


@dataclass(frozen=True)
class GraderSeverity:
    exam: Exam
    query: SeverityQuery
    tolerance: float
    maximum: float
    count: int
    mean: float | None
    sigma: float | None
    df: int
    graders: list[GraderRow]

    @property
    def flagged(self) -> list[GraderRow]:
        return [row for row in self.graders if row.flag is not None]

    def as_dict(self) -> dict[str, Any]:
        """The API.md grader-severity object, with its added fields."""
        return {
            "exam": self.exam.code,
            "filter": self.query.script_filter.as_dict(),
            "locked_only": self.query.locked_only,
            "part": self.query.part,
            "basis": self.query.basis,
            "tolerance": self.tolerance,
            "max_mark": self.maximum,
            "method": METHOD,
            "count": self.count,
            "mean": self.mean,
            "sigma": self.sigma,
            "df": self.df,
            "graders": [row.as_dict() for row in self.graders],
        }


# The form's labels (fairness/graders.html), named in the messages; `details.key` keeps the
# parameter's name for the API.
_PARAM_LABELS = {"part": "Estimer l'effet sur", "basis": "Notes lues"}


def _single(data: Mapping[str, Any], key: str) -> str | None:
    if hasattr(data, "getlist"):
        values = [v for v in data.getlist(key) if v.strip()]
    else:
        value = data.get(key)
        values = [] if value in (None, "") else [value]
    if len(values) > 1 or (values and not isinstance(values[0], str)):
        raise InvalidInput(
            f"Paramètre « {_PARAM_LABELS.get(key, key)} » : une seule valeur (texte) est attendue."
        )
    return values[0].strip() if values else None


def severity_query_parse(*, data: Mapping[str, Any], exam: Exam, user: User) -> SeverityQuery:
    """The statistics' filter and toggle, plus `part` (a scheme code: the estimate on
    that part's mark) and `basis` (`initial`: the graders' marking, by default; `final`:
    the marks after harmonisation)."""
    part = _single(data, PART_KEY)
    basis = _single(data, BASIS_KEY) or INITIAL
    if basis not in BASES:
        raise InvalidInput(
            f"Paramètre « Notes lues » : « {basis} » inconnu (initial ou final).",
            details={"key": BASIS_KEY},
        )
    if part is not None:
        if not Part.objects.filter(exam=exam, code=part).exists():
            raise InvalidInput(
                f"Paramètre « Estimer l'effet sur » : partie « {part} » inconnue pour cette épreuve.",
                details={"key": PART_KEY},
            )
        if basis == FINAL:
            raise InvalidInput(
                "Paramètre « Notes lues » : l'estimation par partie porte sur les notes de "
                "la correction (initial) ; la note finale n'existe que pour la note globale.",
                details={"key": BASIS_KEY},
            )
    if hasattr(data, "copy") and hasattr(data, "getlist"):
        rest: Any = data.copy()
        rest.pop(PART_KEY, None)
        rest.pop(BASIS_KEY, None)
    else:
        rest = {key: value for key, value in data.items() if key not in (PART_KEY, BASIS_KEY)}
    script_filter, locked_only = statistics_filter_parse(data=rest, exam=exam, user=user)
    return SeverityQuery(
        script_filter=script_filter, locked_only=locked_only, part=part, basis=basis
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _grader_names(ids: list[int]) -> dict[int, tuple[str, str]]:
    return {
        pk: (username, f"{first} {last}".strip() or username)
        for pk, username, first, last in User.objects.filter(pk__in=ids).values_list(
            "pk", "username", "first_name", "last_name"
        )
    }


def grader_severity(
    *, user: User, exam: Exam, query: SeverityQuery | None = None
) -> GraderSeverity:
    """Every grader's effect on the user's academy's scripts of the exam (R-FAIR-1)."""
    query = query or SeverityQuery(
        script_filter=ScriptFilter(), locked_only=False, part=None, basis=INITIAL
    )
    key = cache_key(
        "grader-severity",
        *marks_cache_head(user=user, exam=exam),
        query.script_filter.as_dict(),
        query.locked_only,
        query.part,
        query.basis,
        str(exam.tolerance),
    )
    computed = cache.get(key)
    if computed is None:
        computed = _severity_compute(user=user, exam=exam, query=query)
        cache.set(key, computed, timeout=3600)
    return GraderSeverity(exam=exam, query=query, **computed)


def _marks_table(*, user: User, exam: Exam, query: SeverityQuery) -> np.ndarray:
    """(mark in cents, grader, qualification, subject) of every numeric mark the estimate
    reads: the statistics' scripts (scope, filter, « lots verrouillés seulement »), in one
    query of four integer columns."""
    scripts = statistics_scripts(
        user=user,
        exam=exam,
        script_filter=query.script_filter,
        locked_only=query.locked_only,
    ).filter(grader_id__isnull=False, special_mark__isnull=True, initial_mark__isnull=False)
    if query.part is not None:
        _leaves, under = exam_part_leaves(exam_id=exam.pk)
        mark: Any = part_mark_expression(leaf_codes=under[query.part])
    else:
        mark = F("final_mark" if query.basis == FINAL else "initial_mark")
    rows = (
        scripts.annotate(severity_mark=Cast(Round(mark * 100), IntegerField()))
        .order_by()
        .values_list(
            "severity_mark", "grader_id", "qualification_id", Coalesce("subject_id", Value(-1))
        )
    )
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    return np.array(fetched, dtype=np.int64).reshape(len(fetched), 4)


def _severity_compute(*, user: User, exam: Exam, query: SeverityQuery) -> dict[str, Any]:
    maximum = Decimal(exam.max_mark)
    if query.part is not None:
        maximum = Part.objects.get(exam=exam, code=query.part).max_mark
    # A part's tolerance is the exam's in proportion to its maximum (2 points on 20 are
    # 1 point on a part of 10).
    tolerance = float(Decimal(exam.tolerance) * maximum / Decimal(exam.max_mark))
    empty: dict[str, Any] = dict(
        tolerance=tolerance, maximum=float(maximum), count=0, mean=None, sigma=None, df=0,
        graders=[],
    )  # fmt: skip
    if not exam.is_marked or not user.academy_id:
        return empty
    table = _marks_table(user=user, exam=exam, query=query)
    if table.shape[0] == 0:
        return empty
    fit = grader_effects_fit(
        marks=table[:, 0] / 100.0,
        graders=table[:, 1],
        covariates=[table[:, 2], table[:, 3]],
        tolerance=tolerance,
    )
    names = _grader_names([effect.grader for effect in fit.effects])
    rows = [
        GraderRow(
            grader=names[effect.grader][0],
            name=names[effect.grader][1],
            scripts=effect.scripts,
            mean=round(effect.mean, 2),
            naive_effect=round(effect.naive, 2),
            effect=round(effect.effect, 2),
            ci_low=_round(effect.ci_low),
            ci_high=_round(effect.ci_high),
            flag=effect.flag,
        )
        for effect in fit.effects
    ]
    rows.sort(key=lambda row: (-row.effect, row.name.casefold(), row.grader))
    return dict(
        tolerance=tolerance,
        maximum=float(maximum),
        count=fit.count,
        mean=_round(fit.mean),
        sigma=_round(fit.sigma),
        df=fit.df,
        graders=rows,
    )


REASON_MAX = 1000


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace(".", ",")


def _points(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def grader_proposal_build(*, user: User, exam: Exam, part: str | None = None) -> dict[str, Any]:
    """R-FAIR-2: one scenario per grader flagged lenient or severe, largest effect first,
    `{"graders": [username]}` lowered or raised by the effect rounded towards zero to the
    step (none when that is 0), with the reason to execute it under. Nothing runs here:
    the coordinator reviews, simulates and executes it in the editor."""
    severity = grader_severity(
        user=user,
        exam=exam,
        query=SeverityQuery(
            script_filter=ScriptFilter(), locked_only=False, part=part, basis=INITIAL
        ),
    )
    proposed = []
    for row in sorted(severity.graders, key=lambda r: (-abs(r.effect), r.grader)):
        action = proposal_action(flag=row.flag, effect=row.effect, step=Decimal(exam.step))
        if action is not None:
            proposed.append((row, action))
    scenarios = [
        {"filter": {"graders": [row.grader]}, "action": action} for row, action in proposed
    ]
    lines = [
        f"{row.name} ({row.grader}) : effet {_signed(row.effect)} "
        f"[{_signed(row.ci_low or 0)} ; {_signed(row.ci_high or 0)}], "
        f"{'minoration' if action['type'] == 'lower' else 'majoration'} de "
        f"{_points(action['points'])} point(s)"
        for row, action in proposed
    ]
    where = f"partie {part}" if part else "note globale"
    text = (
        f"Proposition Harmonie d'après les effets correcteurs ({where}, tolérance ± "
        f"{_points(severity.tolerance)}) : " + " ; ".join(lines) + "."
    )
    if len(text) > REASON_MAX:
        text = text[: REASON_MAX - 1] + "…"
    first = proposed[0][0].flag if proposed else None
    return {
        "scenarios": scenarios,
        "reason": {
            "code": "grader_leniency" if first == LENIENT else "grader_severity",
            "text": text if proposed else "",
        },
        "graders": [
            {
                "grader": row.grader,
                "name": row.name,
                "flag": row.flag,
                "effect": row.effect,
                "ci_low": row.ci_low,
                "ci_high": row.ci_high,
                "action": action,
            }
            for row, action in proposed
        ],
        "part": part,
        "tolerance": severity.tolerance,
    }


def grader_proposal(*, user: User, exam: Exam, part: str | None = None) -> list[dict]:
    """The proposal's scenarios in API.md's shape, for the editor's `?proposal=1`."""
    return grader_proposal_build(user=user, exam=exam, part=part)["scenarios"]
