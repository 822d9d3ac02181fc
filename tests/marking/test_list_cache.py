"""The script list's cached answers follow every change they depend on (docs/decisions.md,
"Scale"): a cached count or row never outlives the marks it was read from."""

from decimal import Decimal

import pytest

from harmonie.harmonisation.services import (
    conformity_apply,
    harmonisation_execute,
    simulation_create,
)
from harmonie.marking import selectors
from harmonie.marking.batches import batch_lock, batch_unlock
from harmonie.marking.exams import exam_summaries
from harmonie.marking.models import Script
from harmonie.marking.selectors import (
    SORT_CHOICES,
    SORTS,
    ListParams,
    script_list,
    unit_scripts_ordered,
)
from harmonie.marking.sort_groups import GROUPED, sort_groups
from harmonie.referential.versions import labels_version_bump, marks_version_bump
from harmonie.scriptfilter import ScriptFilter
from tests.factories import (
    BatchFactory,
    CandidateFactory,
    SchoolFactory,
    ScriptFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

RAISE_2 = {"filter": {}, "action": {"type": "raise", "points": 2}}


def _count(world, **params) -> int:
    page = script_list(
        user=world["coordinator"],
        exam=world["exam"],
        script_filter=ScriptFilter(),
        params=ListParams(**params),
    )
    return page.count


def test_not_conforming_count_follows_make_conforming(academy_world):
    """R-MASS-12: « Rendre conforme » spreads the leaves without bumping the marks version
    (simulations stay valid); the count of « non conformes » must drop to 0 all the same."""
    world = academy_world
    user = world["coordinator"]
    simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=[RAISE_2])
    harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
    assert _count(world, conforming=False) == 2
    assert _count(world, conforming=True) == 1
    assert conformity_apply(user=user, exam_code="FRA-ECRIT") == 2
    assert _count(world, conforming=False) == 0
    assert _count(world, conforming=True) == 3


def _sorted_world(world) -> None:
    """Scripts sharing schools, graders and subjects, some without a grader or subject."""
    schools = [SchoolFactory(department__academy=world["academy"]) for _ in range(3)]
    batches = [BatchFactory(exam=world["exam"], academy=world["academy"]) for _ in range(4)]
    for number in range(30):
        script = ScriptFactory(
            batch=batches[number % 4],
            candidate=CandidateFactory(school=schools[number % 3]),
            marks={"Q1": number % 4, "Q2": number % 5, "P2": number % 7},
        )
        if number % 5 == 0:
            Script.objects.filter(pk=script.pk).update(grader=None, subject=None)


GROUPED_SORTS = [sort for sort in SORT_CHOICES if SORTS[sort.lstrip("-")] in GROUPED]


@pytest.mark.parametrize("sort", GROUPED_SORTS)
@pytest.mark.parametrize("bounds", [{}, {"mark_min": Decimal(8)}])
def test_related_key_sorts_page_group_by_group_in_the_list_order(
    academy_world, monkeypatch, sort, bounds
):
    """R-UNIT-3 (issue 16): a sort on a related key reads its pages group by group; the
    pages, forward then back, are exactly the list in its `ORDER BY key, id` order."""
    world = academy_world
    _sorted_world(world)
    user, exam = world["coordinator"], world["exam"]
    script_filter = ScriptFilter(**bounds)
    expected = list(
        unit_scripts_ordered(
            user=user, exam=exam, script_filter=script_filter, params=ListParams(sort=sort)
        ).values_list("public_id", flat=True)
    )
    assert len(expected) > 10
    # The one-query keyset is not read: every page comes from the groups.
    monkeypatch.setattr(selectors, "_keys_from", None)
    pages, cursor = [], None
    while True:
        page = script_list(
            user=user,
            exam=exam,
            script_filter=script_filter,
            params=ListParams(sort=sort, limit=3, cursor=cursor),
        )
        assert page.count == len(expected)
        pages.append([row["id"] for row in page.rows])
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [script_id for ids in pages for script_id in ids] == expected
    back = page.previous_cursor
    for ids in reversed(pages[:-1]):
        page = script_list(
            user=user,
            exam=exam,
            script_filter=script_filter,
            params=ListParams(sort=sort, limit=3, cursor=back),
        )
        assert [row["id"] for row in page.rows] == ids
        back = page.previous_cursor
    assert back is None


def test_related_key_sort_with_a_vanished_cursor_key_reads_the_list_the_other_way(
    academy_world,
):
    """A cursor whose school no longer holds any script of the list (they moved since, the
    marks version bumped) goes on after its key, as the one-query keyset does."""
    world = academy_world
    _sorted_world(world)
    user, exam = world["coordinator"], world["exam"]
    params = ListParams(sort="school", limit=3)
    first = script_list(user=user, exam=exam, script_filter=ScriptFilter(), params=params)
    last = Script.objects.select_related("school").get(public_id=first.rows[-1]["id"])
    moved = SchoolFactory(uai="9999999Z", department=last.school.department)
    Script.objects.filter(school=last.school).update(school=moved)
    marks_version_bump(exam_id=exam.pk, academy_ids=[world["academy"].pk])
    groups = sort_groups(scripts=selectors.unit_scripts(user=user, exam=exam), column="school__uai")
    assert last.school.uai not in {group.value for group in groups}
    after = [
        public_id
        for uai, pk, public_id in unit_scripts_ordered(
            user=user, exam=exam, script_filter=ScriptFilter(), params=params
        ).values_list("school__uai", "pk", "public_id")
        if (uai, pk) > (last.school.uai, last.pk)
    ]
    second = script_list(
        user=user,
        exam=exam,
        script_filter=ScriptFilter(),
        params=ListParams(sort="school", limit=3, cursor=first.next_cursor),
    )
    assert [row["id"] for row in second.rows] == after[:3]


def test_exam_summaries_follow_a_batch_lock(academy_world):
    """The dashboard's and GET /exams' counts (cached under the marks version) show a
    batch locked or unlocked at once (R-VAL-9)."""
    world = academy_world
    officer = UserFactory(exam_officer=True, academy=world["academy"])

    def counts(user) -> tuple[int, int, int]:
        summary = next(s for s in exam_summaries(user=user) if s.exam == world["exam"])
        return summary.scripts, summary.batches, summary.locked_batches

    assert counts(world["coordinator"]) == (4, 2, 1)
    batch_lock(user=officer, code=world["unlocked_batch"].code)
    assert counts(world["coordinator"]) == (4, 2, 2)
    batch_unlock(user=officer, code=world["locked_batch"].code)
    assert counts(world["coordinator"]) == (4, 2, 1)


def test_list_rows_show_the_related_names_an_import_changed(academy_world):
    """The rows' school, grader and batch names are kept under the exam's labels version:
    an import that changes them bumps it (R-TRUST-2's referential sync), the rows follow."""
    world = academy_world
    user, exam = world["coordinator"], world["exam"]

    def rows() -> dict[str, dict]:
        exam.refresh_from_db()  # as each request reads it
        page = script_list(user=user, exam=exam, script_filter=ScriptFilter(), params=ListParams())
        return {row["id"]: row for row in page.rows}

    first = world["scripts"][0]
    assert rows()[first.public_id]["school_label"] == first.school.label
    School = type(first.school)
    School.objects.filter(pk=first.school_id).update(label="Lycée renommé")
    User = type(first.grader)
    User.objects.filter(pk=first.grader_id).update(first_name="Camille", last_name="Durand")
    labels_version_bump(exam_ids=[exam.pk])  # what the import does (tests/referential)
    row = rows()[first.public_id]
    assert (row["school_label"], row["grader_name"]) == ("Lycée renommé", "Camille Durand")
    assert row["batch"] == world["locked_batch"].code


def test_a_mark_changed_in_another_academy_leaves_the_names_cached(academy_world):
    """R-MASS-5, R-UNIT-3 (issue 16): the lists' names, the academy's known values and the
    linked choices as answered are kept under the labels version. A unit edit in
    Strasbourg bumps the exam's marks version, not its labels: Nancy-Metz's next list page
    and linked choices read no department, school, grader, subject nor batch again
    (before, every mark changed in any academy sent every academy back to those tables)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from harmonie.marking.options import scope_filter_options
    from harmonie.marking.permissions import scripts_in_scope
    from harmonie.marking.services import script_marking_update
    from harmonie.scriptfilter import script_filter_parse

    world = academy_world
    user, exam = world["coordinator"], world["exam"]
    school = world["scripts"][0].school.uai

    def visit() -> tuple[list[str], list[dict], dict]:
        exam.refresh_from_db()  # as each request reads it
        with CaptureQueriesContext(connection) as captured:
            script_filter = script_filter_parse(
                data={"schools": [school]},
                user=user,
                exam=exam,
                scripts=scripts_in_scope(user=user, exam=exam),
            )
            page = script_list(
                user=user, exam=exam, script_filter=script_filter, params=ListParams()
            )
            options = scope_filter_options(
                user=user, exam=exam, script_filter=script_filter, locked_only=True
            )
        tables = ("referential_department", "referential_school", "accounts_user",
                  "referential_subject", "marking_batch")  # fmt: skip
        read = [
            q["sql"]
            for q in captured.captured_queries
            if any(f'FROM "{table}"' in q["sql"] for table in tables)
            and "marking_script" not in q["sql"]  # the scripts' own query filters by them
        ]
        return read, page.rows, options

    first_read, rows, options = visit()
    assert first_read  # filled once
    foreign = world["foreign_script"]
    coordinator = UserFactory(coordinator=True, academy=world["other_academy"])
    version = exam.marks_version
    script_marking_update(
        user=coordinator,
        public_id=foreign.public_id,
        marks={},
        special_mark="CB",
        annotations=[],
        version=foreign.version,
    )
    exam.refresh_from_db()
    assert exam.marks_version == version + 1
    read, rows_again, options_again = visit()
    assert read == []
    assert (rows_again, options_again) == (rows, options)
