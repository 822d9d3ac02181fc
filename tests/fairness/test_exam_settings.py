"""Per-exam tolerance (R-FAIR-1) and thresholds (R-FAIR-3) from the session file."""

from decimal import Decimal

import pytest

from harmonie.marking.session_import import session_import
from harmonie.referential.models import Exam
from harmonie.referential.session_file import SessionFileError
from tests.referential.session_data import session_data, session_write

pytestmark = pytest.mark.django_db


def test_defaults_are_2_points_and_8_to_16(tmp_path):
    """R-FAIR-1, R-FAIR-3: without the keys, tolerance 2 and thresholds 8/10/12/14/16."""
    session_import(path=session_write(tmp_path, session_data()))
    exam = Exam.objects.get(code="FRA-ECRIT")
    assert exam.tolerance == Decimal(2)
    assert exam.thresholds == [8, 10, 12, 14, 16]


def test_session_file_sets_them_and_a_second_import_changes_nothing(tmp_path):
    data = session_data()
    data["exams"][0]["tolerance"] = 1.5
    data["exams"][0]["thresholds"] = [5, 10, 12.5]
    path = session_write(tmp_path, data)
    session_import(path=path)
    exam = Exam.objects.get(code="FRA-ECRIT")
    assert (exam.tolerance, exam.thresholds) == (Decimal("1.5"), [5, 10, 12.5])
    report = session_import(path=path)
    assert not report.updated.get("épreuves")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("tolerance", 0, "tolérance 0 hors de ]0, 20]"),
        ("tolerance", "2", "nombre attendu"),
        ("thresholds", [10, 8], "seuils croissants"),
        ("thresholds", [25], "seuils croissants dans ]0, 20]"),
        ("thresholds", "10", "liste de notes attendue"),
    ],
)
def test_bad_values_are_refused_naming_the_path(tmp_path, key, value, message):
    data = session_data()
    data["exams"][0][key] = value
    with pytest.raises(SessionFileError, match=r"exams\[0\]\." + key) as refused:
        session_import(path=session_write(tmp_path, data))
    assert message in refused.value.message
    assert not Exam.objects.exists()
