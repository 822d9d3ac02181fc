"""The harmonisation commission's procès-verbal of an exam in the user's academy for a
date range (R-FAIR-6): a PDF in French, rendered by WeasyPrint from a Django template.

Content: exam, academy, dates; each harmonisation executed in the range (author, time,
name, reason, scenarios with their filters in French and counts, the undo links both
ways); the academy's mean and distribution before and after the range, drawn as bar
charts; the graders flagged (R-FAIR-1) with their effect after harmonisation; the
validations sent; a signature block. Counts only: no candidate and no script id.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone

from harmonie.accounts.models import User
from harmonie.errors import InvalidInput
from harmonie.fairness.selectors import FINAL, SeverityQuery, grader_severity
from harmonie.harmonisation.engine import to_cents
from harmonie.harmonisation.models import Harmonisation, HarmonisationEffect
from harmonie.harmonisation.selectors import harmonisation_as_dict
from harmonie.marking.population import population_load
from harmonie.referential.models import Academy, Exam
from harmonie.scriptfilter import ScriptFilter
from harmonie.statistics.rules import histogram_compute, summary_compute
from harmonie.validation.models import DeliveryMessage, Validation

CHART_WIDTH = 460
CHART_HEIGHT = 130


@dataclass(frozen=True)
class DateRange:
    start: dt.date
    end: dt.date

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start of the first day, start of the day after the last) in local time."""
        zone = timezone.get_current_timezone()
        low = dt.datetime.combine(self.start, dt.time.min, tzinfo=zone)
        high = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        return low, high


# The history form's labels (« Du … au … »); `details.key` keeps the parameter's name.
_DATE_LABELS = {"from": "Du", "to": "au"}


def _date(value: str, key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"Date « {_DATE_LABELS.get(key, key)} » : « {value} » n'est pas une date (AAAA-MM-JJ).",
            details={"key": key},
        ) from None


def minutes_range_parse(*, data: Mapping[str, Any], exam: Exam, user: User) -> DateRange:
    """`from` and `to` (inclusive, AAAA-MM-JJ). Absent: from the academy's first
    harmonisation of the exam (or today) to today."""
    raw = {key: (data.get(key) or "").strip() for key in ("from", "to")}
    end = _date(raw["to"], "to") if raw["to"] else None
    start = _date(raw["from"], "from") if raw["from"] else None
    return minutes_range(start=start, end=end, exam=exam, user=user)


def minutes_range(
    *, start: dt.date | None, end: dt.date | None, exam: Exam, user: User
) -> DateRange:
    """The range from `start` to `end` (inclusive). Absent: from the academy's first
    harmonisation of the exam (or today) to today."""
    end = end or timezone.localdate()
    if start is None:
        first = (
            Harmonisation.objects.filter(exam=exam, academy_id=user.academy_id)
            .order_by("executed_at")
            .values_list("executed_at", flat=True)
            .first()
        )
        start = min(timezone.localtime(first).date(), end) if first else end
    if start > end:
        raise InvalidInput(
            "Dates « Du » et « au » : la date de début suit la date de fin.",
            details={"key": "from"},
        )
    return DateRange(start=start, end=end)


def range_marks(
    *,
    ids: np.ndarray,
    current: np.ndarray,
    during: Sequence[tuple[int, int, int]],
    after: Sequence[tuple[int, int, int]],
) -> tuple[np.ndarray, np.ndarray]:
    """Final marks (cents, -1 = none) before and after a range of harmonisations.

    `during` and `after` hold (script id, final mark before, final mark after) of each
    effect, oldest first: of the range's harmonisations and of the later ones. A script's
    mark after the range is its last effect's in the range, else, when a later
    harmonisation changed it, that one's mark before; else its current mark. Before the
    range: its first effect's mark before in the range, else its mark after the range.
    """
    position = {int(script): index for index, script in enumerate(ids)}
    closing = current.copy()
    for script, before, _ in reversed(after):
        if script in position:
            closing[position[script]] = before
    for script, _, final in during:
        if script in position:
            closing[position[script]] = final
    opening = closing.copy()
    for script, before, _ in reversed(during):
        if script in position:
            opening[position[script]] = before
    return opening, closing


def _action_text(action: dict) -> str:
    """« Majoration de 1,5 point(s) », « Minoration de 2 point(s) », « Réinitialisation »."""
    if action["type"] not in ("raise", "lower") or action.get("points") is None:
        return "Réinitialisation"
    points = format(Decimal(str(action["points"])).normalize(), "f").replace(".", ",")
    verb = "Majoration" if action["type"] == "raise" else "Minoration"
    return f"{verb} de {points} point(s)"


def _chart(histogram: list, top: int) -> dict[str, Any]:
    """Bars of a histogram as SVG geometry (the template draws them)."""
    width = CHART_WIDTH / max(len(histogram), 1)
    bars = []
    for index, item in enumerate(histogram):
        height = 0 if not top else item.count / top * CHART_HEIGHT
        bars.append(
            {
                "x": round(index * width + 0.5, 2),
                "y": round(CHART_HEIGHT - height, 2),
                "w": round(max(width - 1, 0.5), 2),
                "h": round(height, 2),
            }
        )
    ticks = [
        {"x": round(index * width + width / 2, 2), "label": f"{float(item.mark):g}"}
        for index, item in enumerate(histogram)
        if float(item.mark) % 2 == 0
    ]
    return {"bars": bars, "ticks": ticks, "top": top}


def _distribution(cents: np.ndarray, *, exam: Exam) -> dict[str, Any]:
    marks = cents[cents >= 0] / 100.0
    summary = summary_compute(marks=marks)
    histogram = histogram_compute(marks=marks, maximum=exam.max_mark, step=exam.step)
    return {"summary": summary, "histogram": histogram}


def _effects(harmonisations: list[int]) -> list[tuple[int, int, int]]:
    rows = (
        HarmonisationEffect.objects.filter(harmonisation_id__in=harmonisations)
        .order_by("harmonisation__executed_at", "harmonisation_id")
        .values_list("script_id", "final_mark_before", "final_mark")
    )
    return [(script, to_cents(before), to_cents(final)) for script, before, final in rows]


def _validations(*, exam: Exam, academy_id: int, low: dt.datetime, high: dt.datetime) -> list:
    validations = list(
        Validation.objects.filter(
            exam=exam, academy_id=academy_id, created_at__gte=low, created_at__lt=high
        )
        .select_related("author")
        .order_by("created_at", "id")
    )
    states: dict[tuple[int, str], dict[str, int]] = {}
    for validation_id, system, state, n in (
        DeliveryMessage.objects.filter(validation__in=validations)
        .values_list("validation_id", "system", "state")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        states.setdefault((validation_id, system), {})[state] = n
    out = []
    for validation in validations:
        systems = []
        for system, label in (
            ("results", "Cyclades (notes)"),
            ("payroll", "Imag'In (services faits)"),
        ):
            counts = states.get((validation.pk, system), {})
            total = sum(counts.values())
            systems.append(
                {"label": label, "delivered": counts.get("delivered", 0), "total": total}
            )
        out.append({"validation": validation, "systems": systems})
    return out


def minutes_context(*, user: User, exam: Exam, dates: DateRange) -> dict[str, Any]:
    """Everything the procès-verbal shows, read under the user's academy."""
    academy = Academy.objects.get(pk=user.academy_id)
    low, high = dates.bounds()
    in_range = list(
        Harmonisation.objects.filter(
            exam=exam, academy_id=user.academy_id, executed_at__gte=low, executed_at__lt=high
        )
        .select_related("author", "exam", "cancels")
        .prefetch_related("scenarios", "cancelled_by")
        .order_by("executed_at", "id")
    )
    later = list(
        Harmonisation.objects.filter(
            exam=exam, academy_id=user.academy_id, executed_at__gte=high
        ).values_list("pk", flat=True)
    )
    harmonisations = []
    for harmonisation in in_range:
        described = harmonisation_as_dict(harmonisation=harmonisation, user=user)
        harmonisations.append(
            {
                "object": harmonisation,
                "reason": harmonisation.get_reason_code_display(),
                "scenarios": [
                    {**scenario, "action_text": _action_text(scenario["action"])}
                    for scenario in described["scenarios"]
                ],
                "cancelled_by": list(harmonisation.cancelled_by.all()),
            }
        )
    loaded = population_load(exam=exam, academy_id=user.academy_id)
    opening, closing = range_marks(
        ids=loaded.ids,
        current=loaded.population.final,
        during=_effects([h.pk for h in in_range]),
        after=_effects(later),
    )
    before = _distribution(opening, exam=exam)
    after = _distribution(closing, exam=exam)
    top = max([b.count for b in before["histogram"]] + [b.count for b in after["histogram"]])
    before["chart"] = _chart(before["histogram"], top)
    after["chart"] = _chart(after["histogram"], top)
    changed = int(np.count_nonzero(opening != closing))

    flagged: list[dict[str, Any]] = []
    if exam.is_marked:
        severity = grader_severity(user=user, exam=exam)
        residual = {
            row.grader: row
            for row in grader_severity(
                user=user,
                exam=exam,
                query=SeverityQuery(
                    script_filter=ScriptFilter(), locked_only=False, part=None, basis=FINAL
                ),
            ).graders
        }
        flagged = [{"row": row, "after": residual.get(row.grader)} for row in severity.flagged]
        tolerance = severity.tolerance
    else:
        tolerance = float(exam.tolerance)
    return {
        "exam": exam,
        "academy": academy,
        "dates": dates,
        "generated_at": timezone.localtime(),
        "author": user,
        "harmonisations": harmonisations,
        "before": before,
        "after": after,
        "changed": changed,
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
        "flagged": flagged,
        "tolerance": tolerance,
        "validations": _validations(exam=exam, academy_id=user.academy_id, low=low, high=high),
        "step": Decimal(exam.step),
    }


def minutes_pdf(*, user: User, exam: Exam, dates: DateRange) -> bytes:
    """The procès-verbal as PDF bytes."""
    # Imported here: WeasyPrint loads Pango through cffi when imported, which only the
    # PDF needs (the rest of the app runs without it).
    from weasyprint import HTML

    html = render_to_string(
        "fairness/minutes.html", minutes_context(user=user, exam=exam, dates=dates)
    )
    return HTML(string=html).write_pdf()


def minutes_filename(*, exam: Exam, dates: DateRange) -> str:
    return f"proces-verbal-{exam.code}-{dates.start.isoformat()}-{dates.end.isoformat()}.pdf"
