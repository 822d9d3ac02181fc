"""Sync rows by natural key, the way a session import writes: new records bulk-inserted,
changed ones bulk-updated, unchanged ones left alone, each model's counts reported.

Generic (no model of its own): the referential part of an import and the marking part
(`harmonie.marking.imports`) both write through `RecordSync`.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.utils import timezone

BULK_SIZE = 5000


@dataclass
class SyncReport:
    """Rows created and updated per model, under their French plural name."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())


def rows_insert(model: type[models.Model], records: list[dict]) -> None:
    """Insert new rows fast: COPY on PostgreSQL, executemany elsewhere.

    Django's bulk_create builds a model instance per row and compiles each batch; at
    600,000 scripts that is most of an import. Columns the records leave out take the
    field's default (auto_now fields: now).
    """
    if not records:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = set(records[0])
    now = timezone.now()
    fillers: dict[str, Any] = {}
    for column in fields:
        if column.attname in given:
            continue
        if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
            fillers[column.attname] = now
        else:
            fillers[column.attname] = column.get_default()
    json_columns = {f.attname for f in fields if isinstance(f, models.JSONField)}
    columns = [f.attname for f in fields]

    def prepared(record: dict) -> tuple:
        values = []
        for column in columns:
            value = record[column] if column in record else fillers[column]
            if column in json_columns and value is not None:
                value = json.dumps(value, ensure_ascii=False)
            values.append(value)
        return tuple(values)

    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for record in records:
                    copy.write_row(prepared(record))
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})"  # noqa: S608
            for start in range(0, len(records), BULK_SIZE):
                cursor.executemany(sql, [prepared(r) for r in records[start : start + BULK_SIZE]])


class RecordSync:
    """Create or update rows of one model by natural key; count what changed."""

    def __init__(self, report: SyncReport) -> None:
        self.report = report

    def run(
        self,
        model: type[models.Model],
        *,
        name: str,
        key: Callable[[dict], Any],
        key_fields: list[str],
        records: Iterable[dict],
        fields: list[str],
        on_update: Callable[[dict, dict], None] | None = None,
        extra_fields: tuple[str, ...] = (),
        create_only: tuple[str, ...] = (),
        read_only: tuple[str, ...] = (),
        on_existing: Callable[[dict, dict], None] | None = None,
        on_create: Callable[[dict], None] | None = None,
        before_write: Callable[[], None] | None = None,
    ) -> dict[Any, int]:
        """`on_existing(row, record)` may change a record before it is compared with its
        row; `on_update(row, record)` may set `extra_fields` on a changed record;
        `create_only` fields are written for new rows and never compared; `read_only`
        fields are read with the rows, never written; `before_write()` runs once every
        record is compared, before anything of this model is written (it may refuse)."""
        existing = {
            key(row): row
            for row in model._default_manager.values(
                "id", *key_fields, *fields, *extra_fields, *read_only
            ).iterator()
        }
        to_create: list[dict] = []
        to_update: list[models.Model] = []
        for record in records:
            row = existing.get(key(record))
            if row is None:
                if on_create is not None:
                    on_create(record)
                to_create.append({f: record[f] for f in (*key_fields, *fields, *create_only)})
                continue
            if on_existing is not None:
                on_existing(row, record)
            if any(row[f] != record[f] for f in fields):
                if on_update is not None:
                    on_update(row, record)
                to_update.append(
                    model(id=row["id"], **{f: record[f] for f in (*fields, *extra_fields)})
                )
        if before_write is not None:
            before_write()
        update_fields = [f for f in (*fields, *extra_fields) if f not in key_fields]
        for start in range(0, len(to_update), BULK_SIZE):
            model._default_manager.bulk_update(to_update[start : start + BULK_SIZE], update_fields)
        rows_insert(model, to_create)
        self.report.created[name] = len(to_create)
        self.report.updated[name] = len(to_update)
        if to_create:
            existing = {
                key(row): row for row in model._default_manager.values("id", *key_fields).iterator()
            }
        return {natural: row["id"] for natural, row in existing.items()}
