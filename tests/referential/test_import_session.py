"""Import of a session file (API.md §1): validation, idempotency, updates."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from harmonie.accounts.models import User
from harmonie.audit.models import AuditEntry
from harmonie.marking.models import Batch, Script
from harmonie.marking.session_import import session_import
from harmonie.referential.models import Candidate, Exam, Part, Registration
from harmonie.referential.session_file import SessionFileError
from tests.referential.session_data import session_data, session_write

pytestmark = pytest.mark.django_db


def table_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Exam, Part, Candidate, Registration, Batch, Script, User, AuditEntry)
    }


def test_import_creates_everything_with_filter_columns(tmp_path):
    """R-MARK-3: the initial mark is the sum of the leaf marks; R-MARK-4 final = initial."""
    report = session_import(path=session_write(tmp_path, session_data()))
    assert report.created["copies"] == 4
    script = Script.objects.select_related("school", "department", "academy").get(
        public_id="S-000001"
    )
    assert script.initial_mark == Decimal("14.5")
    assert script.final_mark == Decimal("14.5")
    assert script.school.uai == "0570001A"
    assert script.department.code == "057"
    assert script.academy.code == "NANCY-METZ"
    assert script.grader.username == "corr.dupont"
    assert script.locked is True
    blank = Script.objects.get(public_id="S-000002")
    assert blank.special_mark == "CB"
    assert blank.initial_mark is None
    unlocked = Script.objects.get(public_id="S-000003")
    assert unlocked.locked is False
    ho = Script.objects.get(public_id="S-000004")
    assert ho.locked is True
    assert ho.initial_mark == Decimal("12.5")
    exam = Exam.objects.get(code="FRA-ECRIT")
    assert list(exam.parts.filter(is_leaf=True).values_list("code", flat=True)) == [
        "Q1",
        "Q2",
        "P2",
    ]
    assert exam.parts.get(code="Q1").parent.code == "P1"
    coordinator = User.objects.get(username="coord.nm")
    assert coordinator.check_password("harmonie2026")
    assert list(coordinator.missions.values_list("code", flat=True)) == ["FRA-ECRIT"]
    assert not User.objects.get(username="corr.dupont").has_usable_password()
    assert AuditEntry.objects.filter(action="session.imported").count() == 1


def test_import_twice_changes_nothing(tmp_path):
    path = session_write(tmp_path, session_data())
    session_import(path=path)
    before = table_counts()
    versions = dict(Script.objects.values_list("public_id", "updated_at"))
    marks_version = Exam.objects.get(code="FRA-ECRIT").marks_version
    report = session_import(path=path)
    assert not report.changed
    assert table_counts() == before
    assert dict(Script.objects.values_list("public_id", "updated_at")) == versions
    assert Exam.objects.get(code="FRA-ECRIT").marks_version == marks_version


def test_changed_file_updates_by_natural_key(tmp_path):
    """R-MARK-4: a new marking keeps the harmonisation delta in force."""
    session_import(path=session_write(tmp_path, session_data()))
    Script.objects.filter(public_id="S-000001").update(delta=Decimal(2), is_harmonised=True)
    data = session_data()
    data["scripts"][0]["marks"]["P2"] = 9
    data["batches"][1]["locked"] = True
    report = session_import(path=session_write(tmp_path, data))
    assert report.updated["copies"] >= 1
    script = Script.objects.get(public_id="S-000001")
    assert script.initial_mark == Decimal("16.5")
    assert script.final_mark == Decimal("18.5")
    assert script.version == 2
    assert Script.objects.get(public_id="S-000003").locked is True
    assert Script.objects.count() == 4


def test_import_command_prints_french_summary(tmp_path, capsys):
    call_command("import_session", str(session_write(tmp_path, session_data())))
    assert "Import terminé" in capsys.readouterr().out


def _break(data: dict, where: str, value) -> dict:
    target = data
    keys = where.split("/")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    last = keys[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


BAD_FILES = [
    ("scripts/0/marks/Q1", 5, "scripts[0].marks.Q1 : 5 > max 4"),
    ("scripts/0/marks/Q2", 4.25, "scripts[0].marks.Q2 : 4,25 n'est pas un multiple du pas 0,5"),
    ("scripts/0/marks/Q2", -1, "scripts[0].marks.Q2 : -1 < 0"),
    ("scripts/0/marks/Q2", "douze", "scripts[0].marks.Q2 : nombre attendu"),
    ("scripts/0/special_mark", "ZZ", "scripts[0].special_mark : note particulière « ZZ » inconnue"),
    (
        "candidates/0/school",
        "9999999X",
        "candidates[0].school : établissement « 9999999X » inconnu",
    ),
    ("scripts/1/id", "S-000001", "scripts[1].id : copie « S-000001 » en double"),
    ("scripts/1/candidate", "0123456789", "scripts[1] : le candidat a déjà une copie"),
    ("batches/0/grader", "corr.inconnu", "batches[0].grader : correcteur « corr.inconnu » inconnu"),
    ("format", "autre/1", "format : « harmonie-session/1 » attendu"),
    ("exams/0/kind", "oral", "exams[0].kind : type « oral » inconnu"),
    # Found by the import fuzz test: a step this small crashed the scheme's step check.
    ("exams/0/step", 1e-30, "exams[0].step : nombre hors limites"),
    ("exams/0/max_mark", 1e300, "exams[0].max_mark : nombre hors limites"),
    ("users/0/role", "admin", "users[0].role : rôle « admin » inconnu"),
    ("registrations/0/attendance", "peut-être", "registrations[0].attendance"),
    ("scripts/0/pages", ["../etc/passwd"], "scripts[0].pages[0] : le chemin doit être relatif"),
    (
        "scripts/0/pages",
        ["scans/absent.pdf"],
        "scripts[0].pages[0] : fichier « scans/absent.pdf » introuvable",
    ),
]


@pytest.mark.parametrize(("where", "value", "message"), BAD_FILES)
def test_bad_file_is_refused_whole_naming_the_path(tmp_path, where, value, message):
    """API.md §1: a bad file is refused whole, the first bad path named, nothing written."""
    data = _break(session_data(), where, value)
    before = table_counts()
    with pytest.raises(SessionFileError) as refused:
        session_import(path=session_write(tmp_path, data))
    assert message in str(refused.value)
    assert table_counts() == before


def test_script_of_absent_candidate_is_refused(tmp_path):
    data = session_data()
    data["scripts"].append(
        {
            "id": "S-000009",
            "candidate": "0123456792",
            "exam": "FRA-ECRIT",
            "subject": "SUJET-A",
            "batch": "L-0001",
            "marks": {"Q1": 1, "Q2": 1, "P2": 1},
            "special_mark": None,
        }
    )
    with pytest.raises(SessionFileError, match="émargé absent"):
        session_import(path=session_write(tmp_path, data))


def test_scheme_that_does_not_add_up_is_refused(tmp_path):
    data = session_data()
    data["exams"][0]["scheme"][1]["max"] = 9
    with pytest.raises(SessionFileError, match=r"exams\[0\].scheme : somme des parties 19"):
        session_import(path=session_write(tmp_path, data))


def test_invalid_json_is_refused_with_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": ', encoding="utf-8")
    with pytest.raises(SessionFileError, match="JSON invalide ligne 1"):
        session_import(path=path)


def test_command_refuses_bad_file_in_french(tmp_path):
    data = _break(session_data(), "scripts/0/marks/Q1", 21)
    with pytest.raises(CommandError, match="Fichier refusé, rien n'a été importé"):
        call_command("import_session", str(session_write(tmp_path, data)))
    assert Script.objects.count() == 0


def test_pages_are_copied_under_scans_root(tmp_path, settings):
    settings.SCANS_ROOT = tmp_path / "store"
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "S-000001.pdf").write_bytes(b"%PDF-1.4 test")
    data = session_data()
    data["scripts"][0]["pages"] = ["scans/S-000001.pdf"]
    session_import(path=session_write(tmp_path, data))
    script = Script.objects.get(public_id="S-000001")
    assert script.pages == ["BAC2026/scans/S-000001.pdf"]
    assert (
        tmp_path / "store" / "BAC2026" / "scans" / "S-000001.pdf"
    ).read_bytes() == b"%PDF-1.4 test"


@pytest.mark.parametrize("key", ["special_mark", "subject", "batch"])
def test_code_of_wrong_type_is_refused_not_crashed(tmp_path, key):
    """Found by the fuzzer: a list where a code is expected raised TypeError."""
    data = session_data()
    data["scripts"][0][key] = []
    with pytest.raises(SessionFileError, match=rf"scripts\[0\].{key} : texte non vide attendu"):
        session_import(path=session_write(tmp_path, data))


def test_attendance_of_wrong_type_is_refused(tmp_path):
    data = session_data()
    data["registrations"][0]["attendance"] = ["present"]
    with pytest.raises(SessionFileError, match=r"registrations\[0\].attendance"):
        session_import(path=session_write(tmp_path, data))
