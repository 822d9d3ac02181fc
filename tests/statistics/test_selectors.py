"""exam_statistics: which scripts count, filters, groups (R-MASS-13, R-ACC-1)."""

from decimal import Decimal

import pytest
from django.http import QueryDict

from harmonie.errors import InvalidInput
from harmonie.scriptfilter import ScriptFilter
from harmonie.statistics.selectors import exam_statistics, statistics_filter_parse
from tests.factories import (
    AcademyFactory,
    BatchFactory,
    CandidateFactory,
    QualificationFactory,
    SchoolFactory,
    ScriptFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _counts(stats) -> dict[Decimal, int]:
    return {item.mark: item.count for item in stats.histogram if item.count}


def test_counts_the_academy_scripts_locked_or_not(academy_world):
    """R-MASS-13, R-ACC-1: every numeric final mark of the user's academy; CB apart."""
    stats = exam_statistics(
        user=academy_world["coordinator"], exam=academy_world["exam"], script_filter=ScriptFilter()
    )
    # 14.5 and 19 (locked batch), 6 (unlocked batch); the other academy's script is out.
    assert stats.summary.count == 3
    assert _counts(stats) == {Decimal("14.5"): 1, Decimal(19): 1, Decimal(6): 1}
    assert stats.summary.mean == pytest.approx((14.5 + 19 + 6) / 3)
    assert stats.summary.median == pytest.approx(14.5)
    assert stats.special_marks == [("CB", 1)]
    assert len(stats.histogram) == 41


def test_locked_only_leaves_out_unlocked_batches(academy_world):
    """R-MASS-13: the « lots verrouillés seulement » toggle."""
    stats = exam_statistics(
        user=academy_world["coordinator"],
        exam=academy_world["exam"],
        script_filter=ScriptFilter(),
        locked_only=True,
    )
    assert stats.summary.count == 2
    assert _counts(stats) == {Decimal("14.5"): 1, Decimal(19): 1}


def test_means_by_school_qualification_and_grader(exam):
    """R-MASS-13: mean by school, by qualification, and mean, spread, count by grader."""
    academy = AcademyFactory()
    alpha = UserFactory(grader=True, username="corr.a", last_name="Alpha", academy=academy)
    bravo = UserFactory(grader=True, username="corr.b", last_name="Bravo", academy=academy)
    batch = BatchFactory(exam=exam, academy=academy, grader=alpha)
    other_batch = BatchFactory(exam=exam, academy=academy, grader=bravo)
    coordinator = UserFactory(coordinator=True, academy=batch.academy)
    first = ScriptFactory(batch=batch, marks={"Q1": 4, "Q2": 6, "P2": 10})
    ScriptFactory(
        batch=batch,
        candidate=CandidateFactory(school=first.school),
        marks={"Q1": 0, "Q2": 0, "P2": 10},
    )
    general = QualificationFactory(code="GEN", label="Générale")
    ScriptFactory(
        batch=other_batch,
        candidate=CandidateFactory(
            school=SchoolFactory(department=first.department), qualification=general
        ),
        marks={"Q1": 1, "Q2": 1, "P2": 2},
    )

    stats = exam_statistics(user=coordinator, exam=exam, script_filter=ScriptFilter())

    schools = {row.code: row.summary for row in stats.by_school}
    assert schools[first.school.uai].count == 2
    assert schools[first.school.uai].mean == pytest.approx(15)
    assert schools[first.school.uai].std == pytest.approx(5)
    qualifications = {row.code: row.summary for row in stats.by_qualification}
    assert qualifications["GEN"].mean == pytest.approx(4)
    assert qualifications["STMG"].count == 2
    graders = [(row.code, row.summary.count, row.summary.mean) for row in stats.by_grader]
    assert graders == [("corr.a", 2, pytest.approx(15)), ("corr.b", 1, pytest.approx(4))]
    assert stats.by_grader[0].as_dict() == {
        "code": "corr.a",
        "label": "Sabrina Alpha",  # first then last name (issue 13 item 11)
        "count": 2,
        "mean": 15.0,
        "std": 5.0,
    }


def test_filter_narrows_every_table(academy_world):
    """R-MASS-13: the same filters as the list apply to all tables."""
    coordinator = academy_world["coordinator"]
    school = academy_world["scripts"][0].school.uai
    script_filter, locked_only = statistics_filter_parse(
        data=QueryDict(f"schools={school}&mark_min=10"),
        exam=academy_world["exam"],
        user=coordinator,
    )
    assert locked_only is False
    stats = exam_statistics(
        user=coordinator, exam=academy_world["exam"], script_filter=script_filter
    )
    assert stats.summary.count == 1
    assert [row.code for row in stats.by_school] == [school]
    assert stats.special_marks == []


def test_part_mark_filter(academy_world):
    """R-MASS-13: mark_part applies min/max to one part (P1 = Q1 + Q2)."""
    script_filter = ScriptFilter(mark_part="P1", mark_min=Decimal(9))
    stats = exam_statistics(
        user=academy_world["coordinator"], exam=academy_world["exam"], script_filter=script_filter
    )
    # Only the script with Q1 4 + Q2 6 = 10 has P1 >= 9.
    assert _counts(stats) == {Decimal(19): 1}


def test_filter_parse_reads_the_toggle_and_refuses_bad_values(academy_world):
    """R-MASS-7: filter keys as API.md; `locked_only` beside them; bad input in French."""
    user, exam = academy_world["coordinator"], academy_world["exam"]
    script_filter, locked_only = statistics_filter_parse(
        data=QueryDict("locked_only=1&mark_max=12"), exam=exam, user=user
    )
    assert locked_only is True
    assert script_filter.as_dict() == {"mark_max": 12.0}
    with pytest.raises(InvalidInput, match="Lots verrouillés seulement"):
        statistics_filter_parse(data=QueryDict("locked_only=peut-etre"), exam=exam, user=user)
    with pytest.raises(InvalidInput, match="inconnu"):
        statistics_filter_parse(data=QueryDict("schools=9999999X"), exam=exam, user=user)
    with pytest.raises(InvalidInput, match="inconnu"):
        statistics_filter_parse(data=QueryDict("colour=red"), exam=exam, user=user)
    _, from_json = statistics_filter_parse(data={"locked_only": True}, exam=exam, user=user)
    assert from_json is True


def test_empty_selection_has_no_mean(academy_world):
    """R-MASS-13: nothing matches: zeros, no mean, no 500."""
    stats = exam_statistics(
        user=academy_world["coordinator"],
        exam=academy_world["exam"],
        script_filter=ScriptFilter(mark_min=Decimal(20)),
    )
    assert stats.summary.count == 0
    assert stats.as_dict()["mean"] is None
    assert stats.by_school == []


@pytest.mark.postgres
def test_grouping_sets_equal_one_query_per_table(academy_world):
    """R-MASS-13: PostgreSQL's one-scan GROUPING SETS gives what the portable path gives."""
    from django.db import connection

    from harmonie.statistics.selectors import (
        aggregates_grouping_sets,
        aggregates_per_table,
        statistics_scripts,
    )

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL seulement")
    ScriptFactory(batch=academy_world["unlocked_batch"], special_mark="AB", marks={})
    for script_filter in (ScriptFilter(), ScriptFilter(mark_part="P1", mark_min=Decimal(5))):
        scripts = statistics_scripts(
            user=academy_world["coordinator"],
            exam=academy_world["exam"],
            script_filter=script_filter,
        )
        one_scan = aggregates_grouping_sets(scripts)
        per_table = aggregates_per_table(scripts)
        assert sorted(one_scan.by_value) == sorted(per_table.by_value)
        assert one_scan.special_marks == per_table.special_marks
        assert one_scan.unmarked == per_table.unmarked
        for column, rows in per_table.groups.items():
            assert sorted(one_scan.groups[column]) == sorted(rows)


def test_harmonisation_only_exam_has_no_grader_rows():
    """R-MASS-13: imported marks (no batch, no grader) still give distribution and means."""
    from tests.factories import ExamFactory

    exam = ExamFactory(code="PHILO-HO", harmonisation_only=True)
    first = ScriptFactory(exam=exam, batch=None, marks={"global": 12.5})
    academy = first.academy
    ScriptFactory(
        exam=exam,
        batch=None,
        candidate=CandidateFactory(school=first.school),
        marks={"global": 7},
    )
    coordinator = UserFactory(coordinator=True, academy=academy)
    stats = exam_statistics(user=coordinator, exam=exam, script_filter=ScriptFilter())
    assert stats.summary.count == 2
    assert stats.summary.mean == pytest.approx(9.75)
    assert stats.by_grader == []
    assert [row.summary.count for row in stats.by_school] == [2]


def test_cached_statistics_follow_a_unit_harmonisation(academy_world):
    """R-MASS-13, R-UNIT-4: statistics are cached under the academy's marks version; a
    coordinator's correction of one script shows at once."""
    from harmonie.marking.services import script_marking_update

    world = academy_world
    user, exam = world["coordinator"], world["exam"]
    before = exam_statistics(user=user, exam=exam, script_filter=ScriptFilter())
    assert exam_statistics(user=user, exam=exam, script_filter=ScriptFilter()) == before
    script = world["scripts"][0]
    updated = script_marking_update(
        user=user,
        public_id=script.public_id,
        marks={"Q1": 0, "Q2": 0, "P2": 0},
        special_mark=None,
        annotations=[],
    )
    after = exam_statistics(user=user, exam=exam, script_filter=ScriptFilter())
    assert after != before
    assert (
        _counts(after).get(updated.final_mark, 0) == _counts(before).get(updated.final_mark, 0) + 1
    )
    assert sum(_counts(after).values()) == sum(_counts(before).values())
