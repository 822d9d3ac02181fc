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
from django.db.models import Case, Count, DecimalField, F, Max, Min, Q, QuerySet, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Abs, Cast, Coalesce
from django.urls import reverse

from harmonie.accounts.models import User
from harmonie.errors import InvalidInput, NotFound
from harmonie.marking.list_rows import OWN_COLUMNS, page_values
from harmonie.marking.models import Batch, Script
from harmonie.marking.pages import script_page_count
from harmonie.marking.permissions import batches_in_scope, scripts_in_scope, unit_scripts
from harmonie.marking.services import editable_special_marks
from harmonie.marking.sort_groups import GROUPED, Group, group_keys, groups_from_cache, sort_groups
from harmonie.referential.models import Exam, Part
from harmonie.referential.selectors import exam_scheme
from harmonie.scriptfilter import (
    ScriptFilter,
    cache_key,
    filter_query_data,
    marks_cache_head,
    script_filter_parse,
    scripts_filter,
)

_MARK: DecimalField = DecimalField(max_digits=8, decimal_places=2)

SORTS: dict[str, str] = {
    "mark": "final_mark",
    "initial_mark": "initial_mark",
    "delta": "delta",
    "school": "school__uai",
    "department": "department__code",
    "grader": "grader__username",
    "subject": "subject__code",
    "batch": "batch__code",
    "id": "public_id",
}
SORT_CHOICES = tuple(SORTS) + tuple(f"-{key}" for key in SORTS)
# Numeric sorts: a script with a special mark has no such number and comes last, in both
# directions (issue 13 item 8).
_NUMERIC = ("final_mark", "initial_mark", "delta")
DEFAULT_SORT = "id"
LIMIT_DEFAULT = 50
LIMIT_MAX = 200
SEARCH_MAX = 64
_YES = ("1", "true", "oui")
_NO = ("0", "false", "non")


@dataclass(frozen=True)
class ListParams:
    sort: str = DEFAULT_SORT
    q: str = ""
    cursor: str | None = None
    limit: int = LIMIT_DEFAULT
    # « harmonisé / non harmonisé », « conforme / non conforme »; None: both.
    harmonised: bool | None = None
    conforming: bool | None = None

    def as_query(self) -> list[tuple[str, str]]:
        """Query-string pairs of the search, yes/no filters, sort and page size (no cursor)."""
        pairs: list[tuple[str, str]] = []
        if self.q:
            pairs.append(("q", self.q))
        for key in ("harmonised", "conforming"):
            value = getattr(self, key)
            if value is not None:
                pairs.append((key, "oui" if value else "non"))
        if self.sort != DEFAULT_SORT:
            pairs.append(("sort", self.sort))
        if self.limit != LIMIT_DEFAULT:
            pairs.append(("limit", str(self.limit)))
        return pairs


def _yes_no(value: Any, *, key: str, label: str) -> bool | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InvalidInput(
        f"{label} : « {value} » n'est pas une réponse attendue (oui ou non).",
        details={"key": key},
    )


def list_params_parse(
    *,
    sort: Any = None,
    q: Any = None,
    cursor: Any = None,
    limit: Any = None,
    harmonised: Any = None,
    conforming: Any = None,
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
        raise InvalidInput(
            "Nombre de copies par page (« limit ») : un entier est attendu.",
            details={"key": "limit"},
        ) from None
    if not 1 <= limit <= LIMIT_MAX:
        raise InvalidInput(
            f"Nombre de copies par page (« limit ») : entre 1 et {LIMIT_MAX}.",
            details={"key": "limit"},
        )
    return ListParams(
        sort=sort,
        q=q,
        cursor=cursor or None,
        limit=limit,
        harmonised=_yes_no(harmonised, key="harmonised", label="Harmonisation"),
        conforming=_yes_no(conforming, key="conforming", label="Conformité"),
    )


def list_state_from_query(
    *, user: User, exam: Exam, query: Any, paged: bool = True
) -> tuple[ScriptFilter, ListParams]:
    """The list's filter and parameters from a page's query string, as the list, the
    viewer (its neighbours) and the list export read them; French refusals."""
    script_filter = script_filter_parse(
        data=filter_query_data(query=query),
        exam=exam,
        user=user,
        scripts=scripts_in_scope(user=user, exam=exam),
    )
    return script_filter, list_params_from_query(query=query, paged=paged)


def list_params_from_query(*, query: Any, paged: bool = True) -> ListParams:
    """ListParams from a page's query string (the list, the viewer, the list export)."""
    return list_params_parse(
        sort=query.get("sort"),
        q=query.get("q"),
        cursor=query.get("cursor") if paged else None,
        limit=query.get("limit") if paged else None,
        harmonised=query.get("harmonised"),
        conforming=query.get("conforming"),
    )


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after (value, pk) going forward, or before it going back;
    `page` is the number of the page it leads to (« page n sur m »), None if unknown."""

    value: Any
    pk: int
    backward: bool = False
    page: int | None = None


def _cursor_encode(
    *, sort: str, value: Any, pk: int, page: int | None, backward: bool = False
) -> str:
    if isinstance(value, Decimal):
        value = str(value)
    data: dict[str, Any] = {"s": sort, "v": value, "k": pk}
    if page is not None:
        data["n"] = page
    if backward:
        data["d"] = "b"
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(*, cursor: str, sort: str) -> Cursor:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value, pk = data["v"], data["k"]
        page = data.get("n")
        if data["s"] != sort or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
        if page is not None and (not isinstance(page, int) or page < 1):
            raise ValueError
        if data.get("d") not in (None, "b"):
            raise ValueError
        if SORTS[sort.lstrip("-")] in _NUMERIC:
            value = None if value is None else Decimal(value)
            if value is not None and not value.is_finite():
                raise ValueError
        elif value is not None and not isinstance(value, str):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, ArithmeticError):
        raise InvalidInput(
            "Curseur de pagination invalide ou d'un autre tri : repartez de la première page.",
            details={"key": "cursor"},
        ) from None
    return Cursor(value=value, pk=pk, backward=data.get("d") == "b", page=page)


def _sort_column(scripts: QuerySet[Script], sort: str) -> tuple[QuerySet[Script], str, bool]:
    """The queryset with the column the keyset reads, that column, and the direction."""
    descending = sort.startswith("-")
    column = SORTS[sort.lstrip("-")]
    if column == "delta":
        # A special mark's delta means nothing: it sorts with the special marks, last.
        scripts = scripts.annotate(
            sort_num=Case(When(special_mark__isnull=False, then=Value(None)), default=F("delta"))
        )
        column = "sort_num"
    elif column not in _NUMERIC and column != "public_id":
        # Empty grader/subject sort as an empty string so that the keyset stays total.
        scripts = scripts.annotate(sort_text=Coalesce(F(column), Value("")))
        column = "sort_text"
    return scripts, column, descending


def _nullable(column: str) -> bool:
    return column in _NUMERIC or column == "sort_num"


def _sorted(scripts: QuerySet[Script], sort: str) -> tuple[QuerySet[Script], str, bool]:
    """Order by the sort key then the row id (a total order for the keyset); numbers
    without a value (special marks) last in both directions."""
    scripts, column, descending = _sort_column(scripts, sort)
    if column == "public_id":
        return scripts.order_by("-public_id" if descending else "public_id"), column, descending
    if _nullable(column):
        key = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    else:
        key = F(column).desc() if descending else F(column).asc()
    return scripts.order_by(key, "-pk" if descending else "pk"), column, descending


def _segments(
    scripts: QuerySet[Script], column: str, descending: bool
) -> list[tuple[QuerySet[Script], bool]]:
    """The list as consecutive ordered pieces, each (queryset, holds the NULLs): a
    numeric sort reads its numbers first, then the special marks by id. Each piece has an
    ORDER BY an index can serve (no NULLS LAST on a descending scan)."""
    pk_order = "-pk" if descending else "pk"
    if column == "public_id":
        return [(scripts.order_by("-public_id" if descending else "public_id"), False)]
    if not _nullable(column):
        return [(scripts.order_by(f"-{column}" if descending else column, pk_order), False)]
    # Filtered on NOT NULL, the index's own NULLS placement gives the same order.
    numbers = scripts.filter(**{f"{column}__isnull": False}).order_by(
        F(column).desc(nulls_first=True) if descending else F(column).asc(nulls_last=True),
        pk_order,
    )
    empty = scripts.filter(**{f"{column}__isnull": True}).order_by(pk_order)
    return [(numbers, False), (empty, True)]


def _reversed(queryset: QuerySet[Script]) -> QuerySet[Script]:
    return queryset.reverse()


def _strictly_after(column: str, descending: bool, value: Any, pk: int) -> Q:
    op = "lt" if descending else "gt"
    if column == "public_id":
        return Q(**{f"public_id__{op}": value})
    return Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"pk__{op}": pk})


def _keys_from(
    scripts: QuerySet[Script], sort: str, *, cursor: Cursor | None, count: int
) -> list[tuple[int, Any]]:
    """Up to `count` (pk, sort value) pairs after the cursor (or before it, nearest
    first, when the cursor goes backward), each piece read through its index."""
    scripts, column, descending = _sort_column(scripts, sort)
    segments = _segments(scripts, column, descending)
    backward = cursor is not None and cursor.backward
    if backward:
        segments = [(_reversed(queryset), nulls) for queryset, nulls in reversed(segments)]
    # The piece that holds the cursor, and the condition inside it.
    started = cursor is None
    keys: list[tuple[int, Any]] = []
    for queryset, nulls in segments:
        if not started and cursor is not None:
            holds = (cursor.value is None) == nulls if _nullable(column) else True
            if not holds:
                continue
            started = True
            direction = descending != backward
            if nulls:
                queryset = queryset.filter(**{f"pk__{'lt' if direction else 'gt'}": cursor.pk})
            else:
                queryset = queryset.filter(
                    _strictly_after(column, direction, cursor.value, cursor.pk)
                )
        keys.extend(queryset.values_list("pk", column)[: count - len(keys)])
        if len(keys) >= count:
            break
    return keys


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


def _leaf_sum(*, field: str, codes: list[str]) -> Any:
    """SQL sum of the leaves `codes` of the JSON column `field` (a missing leaf is 0)."""
    total: Any = Value(Decimal(0), output_field=_MARK)
    for code in codes:
        total = total + Coalesce(
            Cast(KT(f"{field}__{code}"), _MARK), Value(Decimal(0), output_field=_MARK)
        )
    return total


def _not_conforming(*, scripts: QuerySet[Script], exam: Exam) -> tuple[QuerySet[Script], Q]:
    """R-MASS-12 in SQL: a script does not conform when its leaf marks (`final_marks`, or
    `marks` while never spread) do not add up to its final mark. Same rule as
    harmonisation/conformity.py, evaluated by the database on the filtered rows only:
    only scripts with a delta or a stored spread can fail, the sum is read for those."""
    codes = list(
        Part.objects.filter(exam=exam, is_leaf=True)
        .order_by("position")
        .values_list("code", flat=True)
    )
    if not codes:
        return scripts, Q(pk__in=[])
    scripts = scripts.annotate(
        conformity_gap=Abs(
            Case(
                When(final_marks__isnull=True, then=_leaf_sum(field="marks", codes=codes)),
                default=_leaf_sum(field="final_marks", codes=codes),
                output_field=_MARK,
            )
            - F("final_mark")
        )
    )
    condition = (
        Q(final_mark__isnull=False)
        & (~Q(delta=0) | Q(final_marks__isnull=False))
        & Q(conformity_gap__gte=Decimal("0.005"))
    )
    return scripts, condition


def unit_scripts_filtered(
    *, user: User, exam: Exam, script_filter: ScriptFilter, params: ListParams | None = None
) -> QuerySet[Script]:
    """The list's scripts (R-UNIT-1): locked batches of the user's scope, the filter, the
    search and the « harmonisé » / « conforme » choices of `params`, all in SQL."""
    params = params or ListParams()
    scripts = unit_scripts(user=user, exam=exam)
    scripts = _searched(scripts_filter(scripts=scripts, script_filter=script_filter), params.q)
    if params.harmonised is not None:
        scripts = scripts.filter(is_harmonised=params.harmonised)
    if params.conforming is not None:
        scripts, failing = _not_conforming(scripts=scripts, exam=exam)
        scripts = scripts.exclude(failing) if params.conforming else scripts.filter(failing)
    return scripts


@dataclass(frozen=True)
class ScriptPage:
    rows: list[dict]
    next_cursor: str | None
    count: int
    previous_cursor: str | None = None
    # « page n sur m »: n from the cursor (None when an old cursor does not say it).
    number: int | None = 1
    pages: int = 1


_ROW_FIELDS = (
    *OWN_COLUMNS,
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


def _count_and_groups(
    *,
    user: User,
    exam: Exam,
    scripts: QuerySet[Script],
    script_filter: ScriptFilter,
    params: ListParams,
) -> tuple[int, list[Group] | None, tuple[str, str] | None]:
    """The list's count, the same on every page, and for a sort on a related key its
    groups (sort_groups.py; the count is their sum), else the range of its script ids
    (an index scan by id starts there, whichever end of the table the academy's scripts
    lie at): cached under the marks version,
    which every change of a mark or a lock bumps (a cursor page counts nothing).
    Not with « conforme / non conforme »: « Rendre conforme » rewrites the leaves without
    bumping the version (simulations stay valid), so that list is read each time."""
    if params.conforming is not None:
        return scripts.count(), None, None
    head = [
        *marks_cache_head(user=user, exam=exam),
        script_filter.as_dict(),
        params.q,
        params.harmonised,
    ]
    column = SORTS[params.sort.lstrip("-")]
    if column in GROUPED:
        groups_key = cache_key("script-groups", *head, column)
        stored = cache.get(groups_key)
        if stored is None:
            groups = sort_groups(scripts=scripts, column=column)
            cache.set(groups_key, [group.as_tuple() for group in groups], timeout=3600)
        else:
            groups = groups_from_cache(stored)
        return sum(group.count for group in groups), groups, None
    count_key = cache_key("script-shape", *head)
    shape = cache.get(count_key)
    if shape is None:
        shape = scripts.aggregate(n=Count("pk"), low=Min("public_id"), high=Max("public_id"))
        cache.set(count_key, shape, timeout=3600)
    return shape["n"], None, (shape["low"], shape["high"])


def _page_keys(
    *,
    scripts: QuerySet[Script],
    params: ListParams,
    cursor: Cursor | None,
    groups: list[Group] | None,
    id_range: tuple[str, str] | None,
) -> list[tuple[int, Any]]:
    """The page's (pk, sort value) pairs and the one after it: group by group for a sort
    on a related key whose groups are known, else one keyset query per ordered piece."""
    count = params.limit + 1
    if groups is not None:
        keys = group_keys(
            scripts=scripts,
            column=SORTS[params.sort.lstrip("-")],
            groups=groups,
            descending=params.sort.startswith("-"),
            after=None if cursor is None else (cursor.value, cursor.pk),
            backward=cursor is not None and cursor.backward,
            count=count,
        )
        if keys is not None:
            return keys
    if id_range is not None and id_range[0] is not None and params.sort.lstrip("-") == "id":
        scripts = scripts.filter(public_id__gte=id_range[0], public_id__lte=id_range[1])
    return _keys_from(scripts, params.sort, cursor=cursor, count=count)


def script_list(
    *, user: User, exam: Exam, script_filter: ScriptFilter, params: ListParams
) -> ScriptPage:
    """A page of the unit-harmonisation list (R-UNIT-1, R-UNIT-3): locked batches only,
    filtered, searched, sorted, keyset-paginated both ways (never OFFSET)."""
    scripts = unit_scripts_filtered(
        user=user, exam=exam, script_filter=script_filter, params=params
    )
    count, groups, id_range = _count_and_groups(
        user=user, exam=exam, scripts=scripts, script_filter=script_filter, params=params
    )
    pages = max(1, -(-count // params.limit))
    cursor = _cursor_decode(cursor=params.cursor, sort=params.sort) if params.cursor else None
    number = 1 if cursor is None else cursor.page
    if number is not None:
        number = min(number, pages)
    # Two steps: the page's ids from the scripts table alone (sorted, limited), then
    # their columns with the joins, for these rows only.
    keys = _page_keys(
        scripts=scripts, params=params, cursor=cursor, groups=groups, id_range=id_range
    )
    more = len(keys) > params.limit
    keys = keys[: params.limit]
    backward = cursor is not None and cursor.backward
    if backward:
        keys.reverse()
    by_pk = page_values(exam=exam, pks=[pk for pk, _value in keys])
    has_next = (more and not backward) or (backward and bool(keys))
    has_previous = (more and backward) or (cursor is not None and not backward and bool(keys))
    next_cursor = previous_cursor = None
    if has_next and keys:
        last_pk, last_value = keys[-1]
        next_cursor = _cursor_encode(
            sort=params.sort, value=last_value, pk=last_pk, page=number + 1 if number else None
        )
    if has_previous and keys:
        first_pk, first_value = keys[0]
        previous_cursor = _cursor_encode(
            sort=params.sort,
            value=first_value,
            pk=first_pk,
            page=max(1, number - 1) if number else None,
            backward=True,
        )
    return ScriptPage(
        rows=[_row(by_pk[pk]) for pk, _value in keys],
        next_cursor=next_cursor,
        count=count,
        previous_cursor=previous_cursor,
        number=number,
        pages=pages,
    )


def unit_scripts_ordered(
    *, user: User, exam: Exam, script_filter: ScriptFilter, params: ListParams
) -> QuerySet[Script]:
    """The whole list in the order of `params`, never paginated (the list export)."""
    scripts = unit_scripts_filtered(
        user=user, exam=exam, script_filter=script_filter, params=params
    )
    ordered, _column, _descending = _sorted(scripts, params.sort)
    return ordered


def script_rows(*, scripts: QuerySet[Script]) -> list[dict]:
    """The list's rows of `scripts`, in its order, in one query (anonymous, R-UNIT-2)."""
    return [_row(values) for values in scripts.values(*_ROW_FIELDS).iterator(chunk_size=5000)]


def script_neighbours(
    *, user: User, script: Script, script_filter: ScriptFilter, params: ListParams
) -> tuple[str | None, str | None]:
    """Previous and next script ids in the list order of `params` (viewer navigation)."""
    scripts = unit_scripts_filtered(
        user=user, exam=script.exam, script_filter=script_filter, params=params
    )
    annotated, column, _descending = _sort_column(scripts, params.sort)
    current = annotated.filter(pk=script.pk).values("pk", column).first()
    if current is None:
        return None, None
    value = current[column]
    ids = {}
    for backward in (True, False):
        keys = _keys_from(
            scripts,
            params.sort,
            cursor=Cursor(value=value, pk=script.pk, backward=backward),
            count=1,
        )
        ids[backward] = (
            Script.objects.filter(pk=keys[0][0]).values_list("public_id", flat=True).first()
            if keys
            else None
        )
    return ids[True], ids[False]


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
        "batch": script.batch.code if script.batch else None,
        "subject": script.subject.code if script.subject else None,
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
