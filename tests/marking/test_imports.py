"""R-TRUST-2, R-MASS-10: the marking part of an import (`marking/imports.py`) writes
batches and scripts under the exam row lock, like every mark-changing service.

SQLite has no row lock (select_for_update is a no-op there): these tests run on
PostgreSQL (`DATABASE_URL=postgres://...`) and are skipped elsewhere.
"""

import threading
from pathlib import Path

import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from harmonie.marking.imports import ImportReport, known_scripts_load, scripts_import
from harmonie.marking.models import Script
from harmonie.marking.session_file import session_file_check
from harmonie.marking.session_import import session_import
from harmonie.referential.importer import known_keys_load, referential_sync, session_file_read
from harmonie.referential.models import Exam
from tests.referential.session_data import session_data, session_write

pytestmark = pytest.mark.skipif(
    not connection.features.has_select_for_update, reason="SQLite has no row lock"
)


def _changed_file(tmp_path: Path) -> Path:
    """A file that changes the marking of S-000004 (PHILO-HO, never edited)."""
    data = session_data()
    data["scripts"][3]["marks"] = {"global": 15}
    return session_write(tmp_path, data)


class _ExamHolder:
    """Another transaction holding `select_for_update` on one exam until released."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.locked = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        try:
            with transaction.atomic():
                Exam.objects.select_for_update().get(code=self.code)
                self.locked.set()
                self.release.wait(10)
        finally:
            connection.close()

    def __enter__(self) -> "_ExamHolder":
        self.thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(10)


def _lock_timeout() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '300ms'")


@pytest.mark.django_db(transaction=True)
def test_import_waits_for_an_exam_locked_by_another_transaction(tmp_path):
    """R-MASS-10: while a mark-changing service holds an exam row, an import of that
    exam waits (here: gives up at lock_timeout) and writes nothing."""
    session_import(path=session_write(tmp_path, session_data()))
    path = _changed_file(tmp_path)
    with _ExamHolder("PHILO-HO"), transaction.atomic():
        _lock_timeout()
        with pytest.raises(OperationalError, match="lock"):
            session_import(path=path)
    assert Script.objects.get(public_id="S-000004").marks != {"global": 15}
    session_import(path=path)  # the lock released, the import goes through
    assert Script.objects.get(public_id="S-000004").marks == {"global": 15}


@pytest.mark.django_db(transaction=True)
def test_scripts_import_takes_the_exam_row_lock_itself(tmp_path):
    """R-MASS-10: `scripts_import` locks the exams of the file on its own (not only the
    orchestrator): after an unchanged referential sync, it waits for a held exam."""
    session_import(path=session_write(tmp_path, session_data()))
    path = _changed_file(tmp_path)
    valid = session_file_check(
        data=session_file_read(path),
        base_dir=path.parent,
        known=known_keys_load(),
        known_scripts=known_scripts_load(),
    )
    with _ExamHolder("PHILO-HO"), transaction.atomic():
        _lock_timeout()
        report = ImportReport()
        ids = referential_sync(valid=valid.session, report=report)
        assert not ids.changed  # no exam row written before scripts_import
        with pytest.raises(OperationalError, match="lock"):
            scripts_import(valid=valid, ids=ids, report=report, file_name=path.name)
    assert Script.objects.get(public_id="S-000004").marks != {"global": 15}


@pytest.mark.django_db
def test_exam_rows_are_locked_in_id_order_before_any_script_write(tmp_path):
    """R-MASS-10: `SELECT ... FOR UPDATE` on referential_exam, ordered by id (no
    deadlock between two imports), comes before the first write to marking_script."""
    session_import(path=session_write(tmp_path, session_data()))
    path = _changed_file(tmp_path)
    with CaptureQueriesContext(connection) as queries:
        session_import(path=path)
    sqls = [query["sql"] for query in queries]
    locks = [i for i, sql in enumerate(sqls) if "FOR UPDATE" in sql and "referential_exam" in sql]
    script_writes = [
        i
        for i, sql in enumerate(sqls)
        if sql.lstrip().upper().startswith(("UPDATE", "INSERT")) and '"marking_script"' in sql
    ]
    assert script_writes, "the changed script is written"
    assert len(locks) >= 2  # the orchestrator's, then scripts_import's own
    assert max(locks) < min(script_writes)
    # `.order_by("pk").values_list("pk")`: PostgreSQL orders by the selected id column.
    assert all(sqls[i].endswith("ORDER BY 1 ASC FOR UPDATE") for i in locks)
