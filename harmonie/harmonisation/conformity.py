"""Conformity reads (R-MASS-12): which scripts' leaf marks do not add up to the final mark.

A script is conforming when its `final_marks` (or, while null, its `marks` as marked)
add up to its final mark. Special marks and exams without a scheme always conform.
Only scripts with a delta or a stored spread can fail, so only those are read.

Marks are read as integer cents into one matrix (on PostgreSQL packed into one binary
string, as the population is: no Python object per value), the test and the spread
(`engine.delta_spread_many`) run in numpy. Marks of the platform have at most two
decimals, so the sums in cents are the sums `delta_spread` makes in Decimal.
"""

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import psycopg
from django.db import connection
from django.db.models import Q

from harmonie.harmonisation.engine import delta_spread_many, to_cents
from harmonie.marking.models import Script
from harmonie.referential.models import Exam
from harmonie.referential.scheme import exam_leaves as scheme_leaves


def exam_leaves(*, exam: Exam) -> list[tuple[str, Decimal]]:
    """The scheme's leaves and their maximum, in scheme order (`referential.scheme`)."""
    return list(scheme_leaves(exam_id=exam.pk).items())


@dataclass(frozen=True)
class ConformitySpread:
    """The not-conforming scripts of an academy, by id, with their conforming leaf marks
    in cents: one row per script, one column per leaf of `codes`, in scheme order."""

    ids: np.ndarray
    codes: list[str]
    spread: np.ndarray


def _candidates_packed(
    *, exam: Exam, academy_id: int, codes: list[str], spread: bool
) -> tuple[np.ndarray, np.ndarray]:
    """PostgreSQL: per candidate row its id (8 bytes), then as 4-byte words its final
    mark, its leaves as they stand (`final_marks`, or `marks` while null) and, for the
    spread, its leaves as marked, all in cents; aggregated into one bytea."""
    standing = "COALESCE(NULLIF(final_marks, 'null'::jsonb), marks)"
    leaf = "COALESCE((({column} ->> %s)::float8 * 100)::int, 0)"
    expressions = [
        "(final_mark * 100)::int",
        *(leaf.format(column=standing) for _ in codes),
        *(leaf.format(column="marks") for _ in (codes if spread else [])),
    ]
    packed = " || ".join(f"int4send({expression})" for expression in expressions)
    connection.ensure_connection()
    # A plain psycopg cursor for the binary result format (see population._packed_table).
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"SELECT string_agg(int8send(id) || {packed}, ''::bytea), count(*) "  # noqa: S608
            f"FROM {Script._meta.db_table} WHERE exam_id = %s AND academy_id = %s "
            "AND final_mark IS NOT NULL AND (delta <> 0 OR final_marks IS NOT NULL)",
            [*codes, *(codes if spread else []), exam.pk, academy_id],
            binary=True,
        )
        data, count = cursor.fetchone()
    row = np.dtype([("id", ">i8"), ("cents", ">i4", (len(expressions),))])
    rows = np.frombuffer(bytes(data or b""), dtype=row, count=count)
    return rows["id"].astype(np.int64), rows["cents"].astype(np.int64)


def _candidates_rows(
    *, exam: Exam, academy_id: int, codes: list[str], spread: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Any database: the same matrix built from the rows the ORM decodes."""
    rows = (
        Script.objects.filter(exam=exam, academy_id=academy_id, final_mark__isnull=False)
        .filter(~Q(delta=0) | Q(final_marks__isnull=False))
        .values_list("pk", "marks", "final_marks", "final_mark")
    )
    ids: list[int] = []
    table: list[list[int]] = []
    for pk, marks, final_marks, final_mark in rows.iterator(chunk_size=5000):
        standing = final_marks if final_marks is not None else marks
        sources = [standing, marks] if spread else [standing]
        ids.append(pk)
        table.append(
            [
                to_cents(final_mark),
                *(to_cents(source.get(code) or 0) for source in sources for code in codes),
            ]
        )
    width = 1 + len(codes) * (2 if spread else 1)
    return np.array(ids, dtype=np.int64), np.array(table, dtype=np.int64).reshape(-1, width)


def _not_conforming(
    *, exam: Exam, academy_id: int, leaves: list[tuple[str, Decimal]], spread: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Ids of the not-conforming scripts, ordered, and their rows of the read's matrix."""
    codes = [code for code, _ in leaves]
    read = _candidates_packed if connection.vendor == "postgresql" else _candidates_rows
    ids, table = read(exam=exam, academy_id=academy_id, codes=codes, spread=spread)
    order = np.argsort(ids, kind="stable")
    ids, table = ids[order], table[order]
    pending = table[:, 1 : 1 + len(codes)].sum(axis=1) != table[:, 0]
    return ids[pending], table[pending]


def not_conforming_ids(*, exam: Exam, academy_id: int) -> np.ndarray:
    """Ids of the academy's not-conforming scripts, ordered (none without a scheme)."""
    leaves = exam_leaves(exam=exam)
    if not leaves:
        return np.zeros(0, dtype=np.int64)
    ids, _ = _not_conforming(exam=exam, academy_id=academy_id, leaves=leaves, spread=False)
    return ids


def conformity_spread(*, exam: Exam, academy_id: int) -> ConformitySpread:
    """The academy's not-conforming scripts with their conforming leaf marks: the spread
    of each one's marks as marked over its final mark (`engine.delta_spread_many`)."""
    leaves = exam_leaves(exam=exam)
    codes = [code for code, _ in leaves]
    if not leaves:
        return ConformitySpread(
            ids=np.zeros(0, dtype=np.int64), codes=codes, spread=np.zeros((0, 0), np.int64)
        )
    ids, table = _not_conforming(exam=exam, academy_id=academy_id, leaves=leaves, spread=True)
    spread = delta_spread_many(
        leaf_marks=table[:, 1 + len(codes) :],
        leaf_maxima=np.array([to_cents(maximum) for _, maximum in leaves], dtype=np.int64),
        final=table[:, 0],
        step=to_cents(exam.step),
    )
    return ConformitySpread(ids=ids, codes=codes, spread=spread)


def conformity_pending(
    *, exam: Exam, academy_id: int, spread: bool = True
) -> dict[int, dict[str, float]]:
    """Not-conforming scripts of the academy, each with its conforming leaf marks
    (an empty dict when `spread` is false: counting only)."""
    if not spread:
        return {pk: {} for pk in not_conforming_ids(exam=exam, academy_id=academy_id).tolist()}
    found = conformity_spread(exam=exam, academy_id=academy_id)
    return {
        pk: dict(zip(found.codes, row, strict=True))
        for pk, row in zip(found.ids.tolist(), (found.spread / 100).tolist(), strict=True)
    }
