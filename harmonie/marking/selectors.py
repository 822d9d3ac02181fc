"""Reads for unit harmonisation and grading: the script list with keyset pagination,
neighbours in the list order, a script's detail and history, a grader's batches.

Nothing here ever reads the candidate (R-UNIT-2): rows carry the anonymous script id.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse

from harmonie.accounts.models import User
from harmonie.accounts.permissions import batches_in_scope
from harmonie.errors import InvalidInput, NotFound
from harmonie.marking.filters import ScriptFilter, cache_key, marks_cache_head, scripts_filter
from harmonie.marking.models import Batch, Script
from harmonie.marking.pages import script_page_count
from harmonie.marking.permissions import unit_scripts
from harmonie.marking.services import editable_special_marks
from harmonie.referential.models import Exam
from harmonie.referential.selectors import exam_scheme

SORTS: dict[str, str] = {
    "mark": "final_mark",
    "school": "school__uai",
    "department": "department__code",
    "grader": "grader__username",
    "subject": "subject__code",
    "id": "public_id",
}
SORT_CHOICES = tuple(SORTS) + tuple(f"-{key}" for key in SORTS)
DEFAULT_SORT = "id"
LIMIT_DEFAULT = 50
LIMIT_MAX = 200
SEARCH_MAX = 64


@dataclass(frozen=True)
class ListParams:
    sort: str = DEFAULT_SORT
    q: str = ""
    cursor: str | None = None
    limit: int = LIMIT_DEFAULT


def list_params_parse(
    *, sort: Any = None, q: Any = None, cursor: Any = None, limit: Any = None
) -> ListParams:
    sort = sort or DEFAULT_SORT
    if sort not in SORT_CHOICES:
        raise InvalidInput(
            f"Tri « {sort} » inconnu (possibles : {', '.join(SORT_CHOICES)}).",
            details={"key": "sort"},
        )
    q = (q or "").strip()
    if len(q) > SEARCH_MAX:
        raise InvalidInput(f"Recherche trop longue (au plus {SEARCH_MAX} caractères).")
    if limit in (None, ""):
        limit = LIMIT_DEFAULT
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        raise InvalidInput("« limit » doit être un entier.", details={"key": "limit"}) from None
    if not 1 <= limit <= LIMIT_MAX:
        raise InvalidInput(
            f"« limit » doit être compris entre 1 et {LIMIT_MAX}.", details={"key": "limit"}
        )
    return ListParams(sort=sort, q=q, cursor=cursor or None, limit=limit)


def _cursor_encode(*, sort: str, value: Any, pk: int) -> str:
    if isinstance(value, Decimal):
        value = str(value)
    raw = json.dumps({"s": sort, "v": value, "k": pk}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(*, cursor: str, sort: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value, pk = data["v"], data["k"]
        if data["s"] != sort or not isinstance(pk, int):
            raise ValueError
        if SORTS[sort.lstrip("-")] == "final_mark":
            value = None if value is None else Decimal(value)
        elif value is not None and not isinstance(value, str):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, ArithmeticError):
        raise InvalidInput(
            "Curseur de pagination invalide ou d'un autre tri : repartez de la première page.",
            details={"key": "cursor"},
        ) from None
    return value, pk


def _sorted(scripts: QuerySet[Script], sort: str) -> tuple[QuerySet[Script], str, bool]:
    """Order by the sort key then the row id (a total order for the keyset).

    Marks sort as the index (exam, academy, locked, final_mark, id) reads them: special
    marks (no numeric mark) last ascending, first descending.
    """
    descending = sort.startswith("-")
    column = SORTS[sort.lstrip("-")]
    if column == "final_mark":
        order = (
            [F("final_mark").desc(nulls_first=True), "-pk"]
            if descending
            else [F("final_mark").asc(nulls_last=True), "pk"]
        )
        return scripts.order_by(*order), column, descending
    if column != "public_id":
        # Empty grader/subject sort as an empty string so that the keyset stays total.
        scripts = scripts.annotate(sort_text=Coalesce(F(column), Value("")))
        column = "sort_text"
    if column == "public_id":
        order = ["-public_id"] if descending else ["public_id"]
    else:
        order = [f"-{column}", "-pk"] if descending else [column, "pk"]
    return scripts.order_by(*order), column, descending


def _after(column: str, descending: bool, value: Any, pk: int) -> Q:
    """Rows strictly after (value, pk) in the order of `_sorted`."""
    op = "lt" if descending else "gt"
    if column == "public_id":
        return Q(**{f"public_id__{op}": value})
    if column == "final_mark":
        if value is None:
            after_nulls = Q(final_mark__isnull=True, **{f"pk__{op}": pk})
            return after_nulls | Q(final_mark__isnull=False) if descending else after_nulls
        after = Q(**{f"final_mark__{op}": value}) | Q(final_mark=value, **{f"pk__{op}": pk})
        return after if descending else after | Q(final_mark__isnull=True)
    return Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"pk__{op}": pk})


def _searched(scripts: QuerySet[Script], q: str) -> QuerySet[Script]:
    if not q:
        return scripts
    return scripts.filter(
        Q(public_id__icontains=q)
        | Q(batch__code__icontains=q)
        | Q(grader__username__icontains=q)
        | Q(grader__last_name__icontains=q)
        | Q(school__uai__icontains=q)
    )


def unit_scripts_filtered(
    *, user: User, exam: Exam, script_filter: ScriptFilter, q: str = ""
) -> QuerySet[Script]:
    scripts = unit_scripts(user=user, exam=exam)
    return _searched(scripts_filter(scripts=scripts, script_filter=script_filter), q)


@dataclass(frozen=True)
class ScriptPage:
    rows: list[dict]
    next_cursor: str | None
    count: int


_ROW_FIELDS = (
    "pk",
    "public_id",
    "final_mark",
    "initial_mark",
    "delta",
    "special_mark",
    "is_harmonised",
    "version",
    "department__code",
    "school__uai",
    "school__label",
    "grader__username",
    "grader__first_name",
    "grader__last_name",
    "subject__code",
    "batch__code",
)


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _row(values: dict) -> dict:
    grader = f"{values['grader__first_name'] or ''} {values['grader__last_name'] or ''}".strip()
    return {
        "id": values["public_id"],
        "final_mark": _num(values["final_mark"]),
        "initial_mark": _num(values["initial_mark"]),
        "delta": _num(values["delta"]),
        "special_mark": values["special_mark"],
        "is_harmonised": values["is_harmonised"],
        "version": values["version"],
        "department": values["department__code"],
        "school": values["school__uai"],
        "school_label": values["school__label"],
        "grader": values["grader__username"],
        "grader_name": grader,
        "subject": values["subject__code"],
        "batch": values["batch__code"],
    }


def script_list(
    *, user: User, exam: Exam, script_filter: ScriptFilter, params: ListParams
) -> ScriptPage:
    """A page of the unit-harmonisation list (R-UNIT-1, R-UNIT-3): locked batches only,
    filtered, searched, sorted, keyset-paginated (never OFFSET)."""
    scripts = unit_scripts_filtered(user=user, exam=exam, script_filter=script_filter, q=params.q)
    # The count is the same on every page of a list: cached under the marks version, which
    # every change of a mark or a lock bumps (a cursor page skips a count of the academy).
    count_key = cache_key(
        "script-count", *marks_cache_head(user=user, exam=exam), script_filter.as_dict(), params.q
    )
    count = cache.get(count_key)
    if count is None:
        count = scripts.count()
        cache.set(count_key, count, timeout=3600)
    ordered, column, descending = _sorted(scripts, params.sort)
    if params.cursor:
        value, pk = _cursor_decode(cursor=params.cursor, sort=params.sort)
        ordered = ordered.filter(_after(column, descending, value, pk))
    # Two steps: the page's ids from the scripts table alone (sorted, limited), then
    # their columns with the joins, for these rows only.
    keys = list(ordered.values_list("pk", column)[: params.limit + 1])
    has_more = len(keys) > params.limit
    keys = keys[: params.limit]
    by_pk = {
        values["pk"]: values
        for values in Script.objects.filter(pk__in=[pk for pk, _value in keys]).values(*_ROW_FIELDS)
    }
    next_cursor = None
    if has_more and keys:
        last_pk, last_value = keys[-1]
        next_cursor = _cursor_encode(sort=params.sort, value=last_value, pk=last_pk)
    return ScriptPage(
        rows=[_row(by_pk[pk]) for pk, _value in keys], next_cursor=next_cursor, count=count
    )


def unit_scripts_ordered(
    *, user: User, exam: Exam, script_filter: ScriptFilter, params: ListParams
) -> QuerySet[Script]:
    """The whole list in the order of `params`, never paginated (the list export)."""
    scripts = unit_scripts_filtered(user=user, exam=exam, script_filter=script_filter, q=params.q)
    ordered, _column, _descending = _sorted(scripts, params.sort)
    return ordered


def script_rows(*, scripts: QuerySet[Script]) -> list[dict]:
    """The list's rows of `scripts`, in its order, in one query (anonymous, R-UNIT-2)."""
    return [_row(values) for values in scripts.values(*_ROW_FIELDS).iterator(chunk_size=5000)]


def script_neighbours(
    *, user: User, script: Script, script_filter: ScriptFilter, params: ListParams
) -> tuple[str | None, str | None]:
    """Previous and next script ids in the list order of `params` (viewer keyboard nav)."""
    scripts = unit_scripts_filtered(
        user=user, exam=script.exam, script_filter=script_filter, q=params.q
    )
    ordered, column, descending = _sorted(scripts, params.sort)
    current = ordered.filter(pk=script.pk).values("pk", column).first()
    if current is None:
        return None, None
    value = current[column]
    following = (
        ordered.filter(_after(column, descending, value, script.pk))
        .values_list("public_id", flat=True)
        .first()
    )
    reverse_sort = params.sort[1:] if params.sort.startswith("-") else f"-{params.sort}"
    backwards, _column, back_desc = _sorted(scripts, reverse_sort)
    preceding = (
        backwards.filter(_after(column, back_desc, value, script.pk))
        .values_list("public_id", flat=True)
        .first()
    )
    return preceding, following


def script_history(*, script: Script) -> list[dict]:
    """Saved versions, newest first (R-UNIT-4): number, author, date, marks."""
    history = []
    for version in script.versions.select_related("author").order_by("-number"):
        author = version.author
        history.append(
            {
                "number": version.number,
                "author": (author.get_full_name() or author.username) if author else None,
                "label": "Modification"
                if author is not None
                # R-TRUST-2: a marking an import brought over an edited script.
                else ("Import du fichier" if version.from_import else "Correction initiale"),
                "at": version.created_at.isoformat(timespec="seconds"),
                "marks": version.marks,
                "special_mark": version.special_mark,
                "initial_mark": _num(version.initial_mark),
                "annotations": len(version.annotations),
            }
        )
    return history


def script_detail(*, script: Script, can_edit: bool, mode: str) -> dict:
    """GET /scripts/{id}: the marking of a script, never its candidate (R-UNIT-2)."""
    exam = script.exam
    return {
        "id": script.public_id,
        "exam": exam.code,
        "max_mark": float(exam.max_mark),
        "step": float(exam.step),
        "scheme": [node.as_dict() for node in exam_scheme(exam=exam)]
        if exam.is_marked
        else [
            {"code": "global", "label": "Note globale", "max": float(exam.max_mark), "children": []}
        ],
        "special_marks": editable_special_marks(exam=exam),
        "marks": script.marks,
        "final_marks": script.final_marks if script.final_marks is not None else script.marks,
        "initial_mark": _num(script.initial_mark),
        "delta": _num(script.delta),
        "is_harmonised": script.is_harmonised,
        "final_mark": _num(script.final_mark),
        "special_mark": script.special_mark,
        "annotations": script.annotations,
        "pages": [
            reverse("marking:page_image", args=[script.public_id, index + 1])
            for index in range(script_page_count(script=script))
        ],
        "version": script.version,
        "locked": script.locked,
        "batch": script.batch.code if script.batch_id else None,
        "subject": script.subject.code if script.subject_id else None,
        "editable": can_edit,
        "mode": mode,
        "history": script_history(script=script),
    }


@dataclass(frozen=True)
class BatchProgress:
    batch: Batch
    scripts: int
    marked: int


def grader_batches(*, user: User, exam: Exam | None = None) -> list[BatchProgress]:
    """A grader's batches with their progress: scripts saved at least once by him."""
    batches = (
        batches_in_scope(user=user, exam=exam)
        .select_related("exam")
        .annotate(
            script_count=Count("scripts", distinct=True),
            marked_count=Count("scripts", filter=Q(scripts__versions__author=user), distinct=True),
        )
        .order_by("exam__code", "code")
    )
    return [
        BatchProgress(batch=batch, scripts=batch.script_count, marked=batch.marked_count)
        for batch in batches
    ]


def batch_scripts(*, user: User, code: str) -> tuple[Batch, list[dict]]:
    batch = batches_in_scope(user=user).select_related("exam").filter(code=code).first()
    if batch is None:
        raise NotFound(f"Lot « {code} » introuvable ou hors de votre périmètre.")
    rows = [
        _row(values)
        for values in Script.objects.filter(batch=batch).order_by("public_id").values(*_ROW_FIELDS)
    ]
    return batch, rows
