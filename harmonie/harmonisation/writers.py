"""The bulk writes of an execution and of conformity: what changes on the script table and
the effects table, computed by the engine and written in as few statements as possible.

Every script a harmonisation changes gets its optimistic `version` moved on, so that an
edit prepared on the marks read before it is refused as stale (`stale_version`).
"""

from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import DecimalField, F, Value
from django.db.models.functions import Greatest, Least, Now

from harmonie.harmonisation.engine import RESET, from_cents
from harmonie.harmonisation.models import Harmonisation, HarmonisationEffect
from harmonie.harmonisation.scenarios import ParsedScenario
from harmonie.marking.models import Script
from harmonie.marking.population import LoadedPopulation

_MARK = DecimalField(max_digits=6, decimal_places=2)
_CHUNK = 20000


def array_literal(values: np.ndarray) -> str:
    """A PostgreSQL array literal of integers or booleans (`{1,2,3}`, `{t,f}`), cast in SQL:
    psycopg would adapt a Python list value by value (100 ms for four lists of 22,474)."""
    if values.dtype == bool:
        return "{" + ",".join(np.where(values, "t", "f").tolist()) + "}"
    return "{" + ",".join(map(str, values.astype(np.int64).tolist())) + "}"


# PostgreSQL's binary COPY (https://www.postgresql.org/docs/current/sql-copy.html): a
# signature, flags and header extension, then per row the field count and each field as
# length + bytes (big-endian), then -1.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
# A numeric(6, 2) as two base-10000 digits (integer part, hundredths × 100), weight 0,
# scale 2; PostgreSQL strips the zero digits on receipt. |value| < 10,000 fits.
_NUMERIC = [
    ("length", ">i4"),
    ("ndigits", ">i2"),
    ("weight", ">i2"),
    ("sign", ">u2"),
    ("dscale", ">i2"),
    ("units", ">i2"),
    ("hundredths", ">i2"),
]
_NUMERIC_NEGATIVE = 0x4000


def _numeric_fields(row: np.ndarray, name: str, cents: np.ndarray) -> None:
    magnitude = np.abs(cents)
    if magnitude.size and int(magnitude.max()) >= 1_000_000:
        raise ValueError("numeric(6, 2) out of range")
    row[f"{name}_length"] = 12
    row[f"{name}_ndigits"] = 2
    row[f"{name}_weight"] = 0
    row[f"{name}_sign"] = np.where(cents < 0, _NUMERIC_NEGATIVE, 0)
    row[f"{name}_dscale"] = 2
    row[f"{name}_units"] = magnitude // 100
    row[f"{name}_hundredths"] = (magnitude % 100) * 100


def _effects_binary(*, harmonisation_id: int, owner, script_ids, marks: list[tuple]) -> bytes:
    """The effect rows as one binary COPY stream, built by numpy column by column."""
    fields = [
        ("count", ">i2"),
        ("harmonisation_length", ">i4"),
        ("harmonisation", ">i8"),
        ("position_length", ">i4"),
        ("position", ">i2"),
        ("script_length", ">i4"),
        ("script", ">i8"),
    ]
    for name, _ in marks:
        fields += [(f"{name}_{part}", kind) for part, kind in _NUMERIC]
    row = np.empty(script_ids.size, dtype=np.dtype(fields))
    row["count"] = 3 + len(marks)
    row["harmonisation_length"], row["harmonisation"] = 8, harmonisation_id
    row["position_length"], row["position"] = 2, owner
    row["script_length"], row["script"] = 8, script_ids
    for name, cents in marks:
        _numeric_fields(row, name, cents)
    return _COPY_HEADER + row.tobytes() + _COPY_TRAILER


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
            version=F("version") + 1,
            updated_at=Now(),
        )


def _flags_are_the_owners(*, outcome: Any, rows: np.ndarray, harmonising: list[int]) -> bool:
    """The engine's « harmonisé » flag of each taken script is its owner scenario's: any
    action but a reset (what the effects join writes)."""
    return bool(
        np.array_equal(np.isin(outcome.owner[rows], harmonising), outcome.is_harmonised[rows])
    )


def scripts_write(
    *,
    harmonisation: Harmonisation,
    loaded: LoadedPopulation,
    outcome: Any,
    parsed: list[ParsedScenario],
    maximum: Decimal,
) -> None:
    """Write the new delta, flag and final mark of every script a scenario took.

    PostgreSQL: one UPDATE joined to the harmonisation's effects, written just before by
    `effects_write` with the engine's delta and final mark of each script (its unique
    (harmonisation, script) index serves the join). Sending the same values again as
    array literals cost 45 ms of Python and 90 ms of parsing for 22,474 scripts (issue
    16). The flag is the owner scenario's (set by any action but a reset, as the engine
    sets it), checked equal to the engine's before it is trusted; else the arrays are
    sent. Elsewhere: one UPDATE per scenario (its delta is the same for all), by chunks.
    """
    rows = np.nonzero(outcome.owner >= 0)[0]
    if not rows.size:
        return
    if connection.vendor == "postgresql":
        harmonising = [
            position for position, scenario in enumerate(parsed) if scenario.action.type != RESET
        ]
        with connection.cursor() as cursor:
            if _flags_are_the_owners(outcome=outcome, rows=rows, harmonising=harmonising):
                cursor.execute(
                    f"""
                    UPDATE {Script._meta.db_table} AS s
                    SET delta = e.delta, is_harmonised = e.scenario_position = ANY(%s::int[]),
                        final_mark = e.final_mark, final_marks = NULL,
                        version = s.version + 1, updated_at = now()
                    FROM {HarmonisationEffect._meta.db_table} AS e
                    WHERE e.harmonisation_id = %s AND s.id = e.script_id
                        AND s.exam_id = %s AND s.academy_id = %s
                    """,  # noqa: S608 - table names from the models, values bound
                    [
                        array_literal(np.array(harmonising, dtype=np.int64)),
                        harmonisation.pk,
                        loaded.exam.pk,
                        loaded.academy_id,
                    ],
                )
                return
            cursor.execute(
                f"""
                UPDATE {Script._meta.db_table} AS s
                SET delta = v.delta / 100.0, is_harmonised = v.harmonised,
                    final_mark = v.final / 100.0, final_marks = NULL,
                    version = s.version + 1, updated_at = now()
                FROM unnest(%s::bigint[], %s::int[], %s::bool[], %s::int[])
                    AS v(id, delta, harmonised, final)
                WHERE s.id = v.id AND s.exam_id = %s AND s.academy_id = %s
                """,  # noqa: S608 - table name from the model, values bound
                # The exam and academy bound the join to the academy's rows (the planner
                # hashed the whole national table: 400 ms instead of 170 for 22,474), and
                # no row of another academy can be written.
                [
                    array_literal(loaded.ids[rows]),
                    array_literal(outcome.delta[rows]),
                    array_literal(outcome.is_harmonised[rows]),
                    array_literal(outcome.final[rows]),
                    loaded.exam.pk,
                    loaded.academy_id,
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


def effects_write(*, harmonisation: Harmonisation, loaded: LoadedPopulation, outcome: Any) -> int:
    """One effect row per script the harmonisation changed; returns how many."""
    rows = np.nonzero(outcome.owner >= 0)[0]
    if not rows.size:
        return 0
    pop = loaded.population
    if connection.vendor == "postgresql":
        stream = _effects_binary(
            harmonisation_id=harmonisation.pk,
            owner=outcome.owner[rows],
            script_ids=loaded.ids[rows],
            marks=[
                (column, values[rows])
                for column, values in zip(
                    _EFFECT_COLUMNS[3:],
                    (pop.initial, pop.delta, outcome.delta, pop.final, outcome.final),
                    strict=True,
                )
            ],
        )
        columns = ", ".join(_EFFECT_COLUMNS)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {HarmonisationEffect._meta.db_table} ({columns}) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.write(stream)
        return int(rows.size)
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


def final_marks_write(*, ids: np.ndarray, codes: list[str], spread: np.ndarray) -> None:
    """Store the conformity spread of each script (R-MASS-12), moving its version on.

    `spread` holds the leaf marks in cents, one row per id, one column per leaf of
    `codes`; each is stored as the JSON number `json.dumps` writes for the float
    (3.0, 3.5, 3.25), the value the ORM wrote before. PostgreSQL: one UPDATE joined to
    one integer array per leaf, sent as text literals, the JSON object built in SQL.
    """
    if not ids.size:
        return
    if connection.vendor == "postgresql":
        columns = [f"c{index}" for index in range(len(codes))]
        # A hundredth written with the digits the float's repr has: one, or two when
        # the last one is not 0 (round() sets the numeric's scale, which jsonb keeps).
        pairs = ", ".join(
            f"%s::text, round({column} / 100.0, CASE WHEN {column} %% 10 = 0 THEN 1 ELSE 2 END)"
            for column in columns
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Script._meta.db_table} AS s
                SET final_marks = jsonb_build_object({pairs}), version = s.version + 1
                FROM unnest(%s::bigint[]{", %s::int[]" * len(codes)})
                    AS v(id{"".join(f", {column}" for column in columns)})
                WHERE s.id = v.id
                """,  # noqa: S608 - table name from the model, columns numbered, values bound
                [
                    *codes,
                    array_literal(ids),
                    *(array_literal(spread[:, index]) for index in range(len(codes))),
                ],
            )
        return
    pks = ids.tolist()
    scripts = [
        Script(pk=pk, final_marks=dict(zip(codes, row, strict=True)))
        for pk, row in zip(pks, (spread / 100).tolist(), strict=True)
    ]
    Script.objects.bulk_update(scripts, ["final_marks"], batch_size=1000)
    for start in range(0, len(pks), _CHUNK):
        Script.objects.filter(pk__in=pks[start : start + _CHUNK]).update(version=F("version") + 1)
