"""Hostile session files (issue 12, item 4; API.md §1): unsafe natural keys, unknown
top-level keys, NUL, lone surrogates, deep nesting, absurd steps and annotations that the
API would refuse are refused with a French message naming the path, nothing is written,
and never a traceback. On SQLite and PostgreSQL."""

import json

import pytest

from harmonie.marking.session_import import session_import
from harmonie.referential.session_file import SessionFileError
from tests.referential.session_data import session_data, session_write
from tests.referential.test_import_fuzz import _fingerprint

pytestmark = pytest.mark.django_db


def _refused(tmp_path, data=None, *, text: str | None = None) -> SessionFileError:
    if text is None:
        path = session_write(tmp_path, data)
    else:
        path = tmp_path / "session.json"
        path.write_text(text, encoding="utf-8")
    before = _fingerprint()
    with pytest.raises(SessionFileError) as refused:
        session_import(path=path)
    assert _fingerprint() == before
    assert refused.value.message
    return refused.value


UNSAFE_IDS = ["a/b/c", "../../x", "<b>x</b>", "S-1\u202egpj", "S 1", "S-é", ".hidden", "x..y"]


@pytest.mark.parametrize("value", UNSAFE_IDS)
def test_unsafe_script_ids_are_refused(tmp_path, value):
    """Issue 12.4: such ids imported, then the script list answered 500 (NoReverseMatch)."""
    data = session_data()
    data["scripts"][0]["id"] = value
    error = _refused(tmp_path, data)
    assert error.path == "scripts[0].id"
    assert "identifiant" in error.message
    assert "invalide" in error.message


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("academies", "code"),
        ("departments", "code"),
        ("schools", "uai"),
        ("qualifications", "code"),
        ("juries", "code"),
        ("users", "username"),
        ("exams", "code"),
        ("candidates", "number"),
        ("candidates", "class_group"),
        ("batches", "code"),
    ],
)
@pytest.mark.parametrize("value", ["a/b", "<i>x</i>", "x\u202ey", "x y"])
def test_every_natural_key_follows_the_safe_pattern(tmp_path, table, key, value):
    """Issue 12.4: natural keys (docs/decisions.md « Hardening », README « Data »)."""
    data = session_data()
    data[table][0][key] = value
    error = _refused(tmp_path, data)
    assert error.path == f"{table}[0].{key}"


def test_scheme_codes_and_subjects_follow_the_pattern(tmp_path):
    data = session_data()
    data["exams"][0]["subjects"][0] = "SUJET/A"
    assert _refused(tmp_path, data).path == "exams[0].subjects[0]"
    data = session_data()
    data["exams"][0]["scheme"][1]["code"] = "P 2"
    assert _refused(tmp_path, data).path == "exams[0].scheme[1].code"


def test_safe_keys_still_import(tmp_path):
    """The pattern admits what the generator and the academies use."""
    data = session_data()
    data["users"][0]["username"] = "sabrina.antonioli@ac-nancy-metz.fr"
    data["scripts"][0]["id"] = "S_2026-000.1"
    report = session_import(path=session_write(tmp_path, data))
    assert report.created["copies"] == 4


def test_unknown_top_level_key_is_refused(tmp_path):
    """Issue 12.4: a misspelt or foreign key is not silently ignored."""
    data = session_data()
    data["script"] = []
    error = _refused(tmp_path, data)
    assert error.path == "script"
    assert "clé inconnue" in error.message


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (lambda d: d["academies"][0].update(label="Nancy\u0000Metz"), "academies[0].label"),
        (lambda d: d["scripts"][0].update(id="S-\u00001"), "scripts[0].id"),
        (lambda d: d["scripts"][0]["marks"].update({"Q\u00001": 1}), "scripts[0].marks"),
    ],
)
def test_nul_is_refused_with_its_path(tmp_path, where, expected):
    """Issue 12.4: a NUL (PostgreSQL's DataError, a 500 later) is refused at once."""
    data = session_data()
    where(data)
    error = _refused(tmp_path, data)
    assert error.path == expected
    assert "caractère nul" in error.message


def test_lone_surrogate_is_refused_with_its_path(tmp_path):
    text = json.dumps(session_data()).replace('"Lyc\\u00e9e Fabert"', '"Lyc\\ud800e"')
    assert "\\ud800" in text
    error = _refused(tmp_path, text=text)
    assert error.path == "schools[0].label"
    assert "demi-codet" in error.message


def test_nesting_deeper_than_the_format_is_refused(tmp_path):
    data = session_data()
    nested: list = []
    for _ in range(30):
        nested = [nested]
    data["scripts"][0]["pages"] = nested
    error = _refused(tmp_path, data)
    assert error.path.startswith("scripts[0].pages")
    assert "imbrication trop profonde" in error.message


def test_nesting_past_the_recursion_limit_is_refused(tmp_path):
    """Python's json raised RecursionError, a traceback."""
    error = _refused(tmp_path, text="[" * 200_000 + "]" * 200_000)
    assert error.path == "fichier"
    assert "imbrication trop profonde" in error.message


@pytest.mark.parametrize("step", [1e-30, 0.001, 0.125])
def test_absurd_steps_are_refused(tmp_path, step):
    """Issue 12.4 (R-MARK-1): a step must be at least 0.01, in hundredths."""
    data = session_data()
    data["exams"][0]["step"] = step
    error = _refused(tmp_path, data)
    assert error.path == "exams[0].step"


@pytest.mark.parametrize(
    ("annotations", "message"),
    [
        ([{"kind": "tick", "page": 0}] * 501, "Trop d'annotations (au plus 500)."),
        ([{"kind": "virus", "page": 0}], "type « virus » inconnu"),
        ([{"kind": "comment", "page": 0, "text": ""}], "doit avoir un texte"),
        ([{"kind": "tick", "page": 0, "x": 5}], "« x » doit être compris entre 0 et 1"),
        ([{"kind": "comment", "text": "x" * 2001}], "texte trop long"),
        ("pas une liste", "une liste d'annotations est attendue"),
    ],
)
def test_annotations_go_through_the_api_validator(tmp_path, annotations, message):
    """Issue 12.4 (R-UNIT-4): 200,000 annotations were accepted (a 26.6 MB page)."""
    data = session_data()
    data["scripts"][0]["annotations"] = annotations
    error = _refused(tmp_path, data)
    assert error.path == "scripts[0].annotations"
    assert message in error.message


def test_valid_annotations_import(tmp_path):
    data = session_data()
    data["scripts"][0]["annotations"] = [
        {"id": "a1", "kind": "comment", "page": 0, "x": 0.1, "y": 0.1, "text": "Bien vu."}
    ]
    report = session_import(path=session_write(tmp_path, data))
    assert report.created["copies"] == 4


def test_exam_tolerance_and_thresholds_stay_optional_keys(tmp_path):
    data = session_data()
    data["exams"][0]["tolerance"] = 1.5
    data["exams"][0]["thresholds"] = [8, 10, 12]
    assert session_import(path=session_write(tmp_path, data)).created["copies"] == 4
