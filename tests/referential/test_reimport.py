"""R-TRUST-2: an import never loses work done in Harmonie.

A re-import leaves alone the scripts edited in Harmonie whose file marking has not changed
since the last import; a file that changes the marking of such a script is refused whole
(nothing written) unless `--replace-edited`, each replacement then kept as a version of
the script with its audit row. The import takes the exam row lock and bumps the marks
version of what it changes; `import_session --if-absent` (make demo) never re-imports.
"""

from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from harmonie.accounts.models import User
from harmonie.audit.models import AuditEntry
from harmonie.explanation.selectors import script_explanation
from harmonie.marking.fingerprint import marking_fingerprint
from harmonie.marking.models import Script, ScriptVersion
from harmonie.marking.selectors import script_history
from harmonie.marking.services import script_marking_update
from harmonie.marking.session_import import ImportConflict, session_import
from harmonie.referential.models import AcademyMarksVersion, Exam, School
from tests.referential.session_data import session_data, session_write

pytestmark = pytest.mark.django_db

NOTE = {
    "id": "a-file-1",
    "page": 0,
    "kind": "comment",
    "x": 0.1,
    "y": 0.1,
    "w": 0.2,
    "h": 0.1,
    "text": "Bonne introduction",
}


def _data() -> dict:
    data = session_data()
    data["scripts"][0]["annotations"] = [NOTE]
    return data


def _import(tmp_path: Path, data: dict, **options):
    return session_import(path=session_write(tmp_path, data), **options)


def _every_table() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def _scripts() -> dict[str, tuple]:
    return {
        row[0]: row[1:]
        for row in Script.objects.values_list(
            "public_id",
            "marks",
            "special_mark",
            "annotations",
            "initial_mark",
            "delta",
            "is_harmonised",
            "final_mark",
            "final_marks",
            "version",
            "imported_fingerprint",
            "updated_at",
        )
    }


def _versions() -> dict:
    return {
        "exams": dict(Exam.objects.values_list("code", "marks_version")),
        "labels": dict(Exam.objects.values_list("code", "labels_version")),
        "academies": {
            (exam, academy): version
            for exam, academy, version in AcademyMarksVersion.objects.values_list(
                "exam__code", "academy__code", "marks_version"
            )
        },
    }


def _unit_edit(script_id: str = "S-000001"):
    """A coordinator's unit harmonisation: one leaf raised, an annotation added (R-UNIT-4)."""
    script = Script.objects.get(public_id=script_id)
    return script_marking_update(
        user=User.objects.get(username="coord.nm"),
        public_id=script_id,
        marks={**script.marks, "Q1": 4},
        special_mark=None,
        annotations=[
            *script.annotations,
            {"page": 0, "kind": "appreciation", "text": "Copie revue en commission"},
        ],
        version=script.version,
    )


def _grader_edit():
    """A grader's marking in Harmonie on an unlocked batch."""
    return script_marking_update(
        user=User.objects.get(username="corr.klein"),
        public_id="S-000003",
        marks={"Q1": 3, "Q2": 6, "P2": 9},
        special_mark=None,
        annotations=[{"page": 0, "kind": "tick", "x": 0.5, "y": 0.5}],
    )


def test_reimport_after_unit_edits_changes_nothing(tmp_path):
    """R-TRUST-2: the demo's second `make demo` reverted a unit edit and deleted
    annotations; the same file re-imported now leaves edited scripts exactly as they are:
    rows, marks, annotations, version, delta, final mark, audit and marks versions."""
    _import(tmp_path, _data())
    Script.objects.filter(public_id="S-000001").update(delta=Decimal(2), is_harmonised=True)
    _unit_edit()
    _grader_edit()
    edited = Script.objects.get(public_id="S-000001")
    assert edited.marks["Q1"] == 4
    assert len(edited.annotations) == 2
    tables, scripts, versions = _every_table(), _scripts(), _versions()
    audit = AuditEntry.objects.count()

    report = _import(tmp_path, _data())

    assert not report.changed
    assert report.kept_edited == 2
    assert _every_table() == tables
    assert _scripts() == scripts
    assert _versions() == versions
    assert AuditEntry.objects.count() == audit
    edited.refresh_from_db()
    assert edited.marks == {"Q1": 4, "Q2": 4.5, "P2": 7}
    assert [a["kind"] for a in edited.annotations] == ["comment", "appreciation"]
    assert edited.version == 2
    assert edited.delta == Decimal(2)
    assert edited.final_mark == Decimal("17.5")


def test_reimport_updates_never_edited_scripts_and_keeps_edited_ones(tmp_path):
    """R-TRUST-2, R-MARK-4: a script never edited whose file marking changed is updated
    (delta kept, final mark recomputed, conformity cleared, version + 1) while the edited
    script whose file marking did not change is left alone."""
    _import(tmp_path, _data())
    _unit_edit()
    Script.objects.filter(public_id="S-000004").update(
        delta=Decimal(1), is_harmonised=True, final_mark=Decimal("13.5"), final_marks={"g": 1}
    )
    edited = _scripts()["S-000001"]
    data = _data()
    data["scripts"][3]["marks"] = {"global": 14}
    report = _import(tmp_path, data)
    assert report.updated["copies"] == 1
    assert report.replaced == 0
    assert _scripts()["S-000001"] == edited
    changed = Script.objects.get(public_id="S-000004")
    assert changed.marks == {"global": 14}
    assert changed.initial_mark == Decimal(14)
    assert changed.delta == Decimal(1)
    assert changed.final_mark == Decimal(15)
    assert changed.final_marks is None
    assert changed.version == 2
    assert not ScriptVersion.objects.filter(script=changed).exists()


def test_conflicting_file_is_refused_naming_the_scripts_and_nothing_is_written(tmp_path):
    """R-TRUST-2 (Bad input): a file that changes the marking of an edited script is
    refused whole: exit code non-zero, the scripts listed in French with what differs,
    every table's rows unchanged (the other changes of the file included)."""
    _import(tmp_path, _data())
    _unit_edit()
    _grader_edit()
    tables, scripts, versions = _every_table(), _scripts(), _versions()
    data = _data()
    data["scripts"][0]["marks"]["Q2"] = 5  # edited in Harmonie: conflict
    data["scripts"][0]["annotations"] = []
    data["scripts"][2]["marks"]["P2"] = 8  # graded in Harmonie: conflict
    data["scripts"][3]["marks"] = {"global": 14}  # never edited: would be an update
    data["schools"][0]["label"] = "Lycée Fabert (Metz)"
    data["candidates"].append({**data["candidates"][1], "number": "0123456799"})
    path = session_write(tmp_path, data)

    # `manage.py` exits with the CommandError's return code (BaseCommand.run_from_argv);
    # run_from_argv itself is not called here: it closes the test's database connection.
    with pytest.raises(CommandError) as refused:
        call_command("import_session", str(path))
    assert refused.value.returncode == 1
    message = str(refused.value)
    assert "Fichier refusé, rien n'a été importé" in message
    assert "2 copie(s) modifiée(s) dans Harmonie" in message
    assert "S-000001 (FRA-ECRIT, version 2, modifiée par Sabrina Antonioli le " in message
    assert "Q1 : 4 dans Harmonie, 3 dans le fichier" in message
    assert "Q2 : 4,5 dans Harmonie, 5 dans le fichier" in message
    assert "note 15,5 dans Harmonie, 15 dans le fichier" in message
    assert "annotations : 2 dans Harmonie, 0 dans le fichier" in message
    assert "S-000003 (FRA-ECRIT, version 2, modifiée par Eva Klein le " in message
    assert "S-000004" not in message
    assert "--replace-edited" in message
    assert all(candidate["number"] not in message for candidate in data["candidates"])

    assert _every_table() == tables
    assert _scripts() == scripts
    assert _versions() == versions
    assert School.objects.get(uai="0570001A").label == "Lycée Fabert"

    with pytest.raises(ImportConflict) as conflict:
        session_import(path=path)
    assert [c.public_id for c in conflict.value.conflicts] == ["S-000001", "S-000003"]
    assert _every_table() == tables


def test_replace_edited_keeps_each_replacement_as_a_version_with_its_audit_row(tmp_path):
    """R-TRUST-2: with --replace-edited, the file's marking replaces the edited one as a
    new version (the previous state kept), with a `script.import_replaced` audit row
    (before/after marks, never the candidate); delta kept, final mark recomputed,
    conformity cleared; the next import of the same file changes nothing."""
    _import(tmp_path, _data())
    Script.objects.filter(public_id="S-000001").update(delta=Decimal(2), is_harmonised=True)
    _unit_edit()
    Script.objects.filter(public_id="S-000001").update(final_marks={"Q1": 4})
    data = _data()
    data["scripts"][0]["marks"]["Q2"] = 5
    path = session_write(tmp_path, data)
    version_before = Exam.objects.get(code="FRA-ECRIT").marks_version

    call_command("import_session", str(path), "--replace-edited")

    script = Script.objects.get(public_id="S-000001")
    assert script.marks == {"Q1": 3, "Q2": 5, "P2": 7}
    assert script.annotations == [NOTE]
    assert script.initial_mark == Decimal(15)
    assert script.delta == Decimal(2)
    assert script.final_mark == Decimal(17)
    assert script.final_marks is None
    assert script.version == 3
    history = list(ScriptVersion.objects.filter(script=script).order_by("number"))
    assert [(v.number, v.author_id is None, v.from_import) for v in history] == [
        (1, True, False),
        (2, False, False),
        (3, True, True),
    ]
    assert history[1].marks == {"Q1": 4, "Q2": 4.5, "P2": 7}  # the edit is kept
    assert len(history[1].annotations) == 2
    assert history[2].marks == script.marks
    assert [v["label"] for v in script_history(script=script)] == [
        "Import du fichier",
        "Modification",
        "Correction initiale",
    ]
    entry = AuditEntry.objects.get(action="script.import_replaced")
    assert entry.target_id == "S-000001"
    assert entry.exam.code == "FRA-ECRIT"
    assert entry.academy.code == "NANCY-METZ"
    assert entry.before["marks"] == {"Q1": 4, "Q2": 4.5, "P2": 7}
    assert entry.before["version"] == 2
    assert entry.after["marks"] == {"Q1": 3, "Q2": 5, "P2": 7}
    assert entry.after["version"] == 3
    assert entry.after["file"] == "session.json"
    assert script.candidate.number not in str(entry.before) + str(entry.after)
    assert Exam.objects.get(code="FRA-ECRIT").marks_version == version_before + 1
    imported = AuditEntry.objects.filter(action="session.imported").latest("id")
    assert imported.after["replaced"] == 1

    tables, scripts = _every_table(), _scripts()
    report = session_import(path=path)
    assert not report.changed
    assert _every_table() == tables
    assert _scripts() == scripts


def test_marks_version_is_bumped_only_when_marks_change(tmp_path):
    """R-TRUST-2, R-MASS-9: cached lists, statistics and simulations key on the marks
    versions, cached names on the labels version; an import bumps those of the exams and
    academies whose scripts it changes, and nothing else."""
    _import(tmp_path, _data())
    start = _versions()
    _import(tmp_path, _data())
    assert _versions() == start  # nothing changed

    _unit_edit()  # the edit bumps NANCY-METZ once ...
    edited = _versions()
    assert edited["academies"][("FRA-ECRIT", "NANCY-METZ")] == (
        start["academies"][("FRA-ECRIT", "NANCY-METZ")] + 1
    )
    assert edited["labels"] == start["labels"]  # a mark changed, no name (issue 16)
    _import(tmp_path, _data())
    assert _versions() == edited  # ... the re-import that leaves it alone does not

    data = _data()
    data["scripts"][2]["marks"]["P2"] = 9  # STRASBOURG, never edited
    _import(tmp_path, data)
    after = _versions()
    assert after["exams"]["FRA-ECRIT"] == edited["exams"]["FRA-ECRIT"] + 1
    assert after["exams"]["PHILO-HO"] == edited["exams"]["PHILO-HO"]
    # The import is the only writer of the lists' names: it bumps the labels version of
    # the exam it touched, and only that one.
    assert after["labels"] == edited["labels"] | {"FRA-ECRIT": edited["labels"]["FRA-ECRIT"] + 1}
    assert after["academies"][("FRA-ECRIT", "STRASBOURG")] == (
        edited["academies"][("FRA-ECRIT", "STRASBOURG")] + 1
    )
    assert (
        after["academies"][("FRA-ECRIT", "NANCY-METZ")]
        == (edited["academies"][("FRA-ECRIT", "NANCY-METZ")])
    )
    assert Script.objects.get(public_id="S-000003").version == 2


@pytest.mark.skipif(
    not connection.features.has_select_for_update, reason="SQLite locks the whole database"
)
def test_import_takes_the_exam_row_lock(tmp_path):
    """R-TRUST-2, R-MASS-10: the import locks the exam rows like every mark-changing
    service (PostgreSQL: SELECT ... FOR UPDATE on referential_exam)."""
    _import(tmp_path, _data())
    data = _data()
    data["scripts"][3]["marks"] = {"global": 15}
    with CaptureQueriesContext(connection) as queries:
        _import(tmp_path, data)
    locks = [
        q["sql"] for q in queries if "FOR UPDATE" in q["sql"] and "referential_exam" in q["sql"]
    ]
    assert locks
    first_write = next(
        i for i, q in enumerate(queries) if q["sql"].lstrip().upper().startswith("UPDATE")
    )
    first_lock = next(i for i, q in enumerate(queries) if "FOR UPDATE" in q["sql"])
    assert first_lock < first_write


def test_if_absent_never_reimports_over_the_session(tmp_path, capsys):
    """R-TRUST-2: `make demo` imports with --if-absent; a second `make demo` keeps all
    the work done (even when the file would conflict) and says so in French."""
    path = session_write(tmp_path, _data())
    call_command("import_session", str(path), "--if-absent")
    assert "Import terminé" in capsys.readouterr().out
    _unit_edit()
    tables, scripts = _every_table(), _scripts()
    data = _data()
    data["scripts"][0]["marks"]["Q2"] = 5
    call_command("import_session", str(session_write(tmp_path, data)), "--if-absent")
    out = capsys.readouterr().out
    assert "La session « BAC2026 » est déjà importée : rien n'a été importé" in out
    assert _every_table() == tables
    assert _scripts() == scripts
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "import_session --if-absent $(DEMO_DIR)/session.json" in makefile


def test_migration_takes_todays_marking_as_imported_unless_edited(tmp_path):
    """R-TRUST-2: upgrading creates no false conflict: a script never edited counts as
    imported with its stored marking; an edited one with its correction as imported; one
    whose edit the old import overwrote, with its stored marking."""
    from importlib import import_module

    migration = import_module("harmonie.marking.migrations.0004_script_imported_fingerprint")
    _import(tmp_path, _data())
    _unit_edit("S-000001")
    _grader_edit()
    # S-000003 overwritten by the old import after the grader's edit (the demo's bug).
    Script.objects.filter(public_id="S-000003").update(
        marks={"Q1": 4, "Q2": 6, "P2": 10}, annotations=[], initial_mark=20, final_mark=20
    )
    Script.objects.update(imported_fingerprint=None)
    migration.fingerprints_fill(apps, None)

    def fingerprint(state) -> str:
        return marking_fingerprint(
            marks=state.marks, special_mark=state.special_mark, annotations=state.annotations
        )

    scripts = {s.public_id: s for s in Script.objects.all()}
    for never_edited in ("S-000002", "S-000004"):
        assert scripts[never_edited].imported_fingerprint == fingerprint(scripts[never_edited])
    correction = ScriptVersion.objects.get(script=scripts["S-000001"], number=1)
    assert scripts["S-000001"].imported_fingerprint == fingerprint(correction)
    assert scripts["S-000003"].imported_fingerprint == fingerprint(scripts["S-000003"])
    tables = _every_table()
    report = _import(tmp_path, _data())
    assert not report.changed
    assert _every_table() == tables


def test_conflict_lines_say_what_differs_in_french():
    """R-TRUST-2: each refused script says what Harmonie holds and what the file brings:
    the note (or special mark), each leaf that differs, the annotations."""
    from harmonie.marking.import_guard import marking_differences_describe

    def state(marks, special=None, initial=None, annotations=()):
        return {
            "marks": marks,
            "special_mark": special,
            "initial_mark": initial,
            "annotations": list(annotations),
        }

    blank = marking_differences_describe(
        row=state({}, special="CB"),
        record=state({"Q1": 3, "P2": 7}, initial=Decimal(10)),
        leaves=["Q1", "P2"],
    )
    assert blank == ["note CB dans Harmonie, 10 dans le fichier"]
    global_only = marking_differences_describe(
        row=state({"global": 12.5}, initial=Decimal("12.5")),
        record=state({"global": 13}, initial=Decimal(13)),
        leaves=[],
    )
    assert global_only == ["note 12,5 dans Harmonie, 13 dans le fichier"]
    notes = marking_differences_describe(
        row=state({"Q1": 3}, initial=Decimal(3), annotations=[NOTE]),
        record=state({"Q1": 3.0}, initial=Decimal(3), annotations=[{**NOTE, "text": "Autre"}]),
        leaves=["Q1"],
    )
    assert notes == ["annotations : 1 dans Harmonie, 1 autre(s) dans le fichier"]


def test_explanation_after_a_replacement_names_the_file_not_the_old_edit(tmp_path):
    """R-TRUST-2, R-TRUST-1: once an import replaced an edited marking, « D'où vient cette
    note ? » no longer names the earlier unit edit; the steps still add up."""
    _import(tmp_path, _data())
    _unit_edit()
    script = Script.objects.get(public_id="S-000001")
    assert "modifiée par" in script_explanation(script=script).text
    data = _data()
    data["scripts"][0]["marks"]["Q2"] = 5
    call_command("import_session", str(session_write(tmp_path, data)), "--replace-edited")
    script = Script.objects.get(public_id="S-000001")
    explanation = script_explanation(script=script)
    assert "modifiée par" not in explanation.text
    assert explanation.total() == script.final_mark
