"""One table of filter keys drives the SQL filter and the numpy mask: on a generated
population they keep the same scripts for every key and any filter (R-MASS-4, R-MASS-4b,
R-UNIT-3)."""

import random
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmonie.marking.models import Script
from harmonie.marking.population import _COLUMNS, filter_mask, population_load
from harmonie.referential.models import ExamKind, Subject
from harmonie.scriptfilter import (
    FILTER_KEYS,
    LIST_TABLE,
    LISTS,
    ScriptFilter,
    scenario_filter_keys,
    scripts_filter,
)
from tests.factories import (
    AcademyFactory,
    BatchFactory,
    CandidateFactory,
    ClassGroupFactory,
    DepartmentFactory,
    ExamFactory,
    JuryFactory,
    QualificationFactory,
    SchoolFactory,
    ScriptFactory,
    UserFactory,
)

PARTS = (None, "P1", "Q1", "Q2", "P2", "NOPE")
MARKS = [Decimal(n) / 2 for n in range(0, 41)]


@pytest.fixture
def population(db):
    """One academy's scripts with every key varied: two departments, four schools, their
    class groups, three qualifications, two juries, three batches of two graders, two
    subjects; marked, partly marked, harmonised, special (CB) and unmarked scripts."""
    rng = random.Random(11)
    exam = ExamFactory(code="FRA-ECRIT")
    academy = AcademyFactory(code="NANCY-METZ")
    departments = [DepartmentFactory(academy=academy) for _ in range(2)]
    schools = [SchoolFactory(department=departments[i % 2]) for i in range(4)]
    groups = [ClassGroupFactory(school=school, code=f"1G{i}") for i, school in enumerate(schools)]
    qualifications = [QualificationFactory(code=f"Q-{i}") for i in range(3)]
    juries = [JuryFactory(academy=academy) for _ in range(2)]
    graders = [UserFactory(grader=True, academy=academy) for _ in range(2)]
    batches = [
        BatchFactory(exam=exam, academy=academy, grader=graders[i % 2], locked=i != 2)
        for i in range(3)
    ]
    subjects = list(Subject.objects.filter(exam=exam).order_by("code"))
    for index in range(60):
        school = rng.randrange(4)
        candidate = CandidateFactory(
            school=schools[school],
            class_group=groups[school] if rng.random() < 0.8 else None,
            qualification=rng.choice(qualifications),
            jury=rng.choice(juries),
        )
        kind = rng.choice(("marked", "marked", "marked", "partial", "blank", "unmarked"))
        extra: dict = {}
        if kind == "marked":
            extra["marks"] = {
                "Q1": rng.randrange(9) / 2,
                "Q2": rng.randrange(13) / 2,
                "P2": rng.randrange(21) / 2,
            }
        elif kind == "partial":
            extra["marks"] = {"Q1": rng.randrange(9) / 2}
        elif kind == "blank":
            extra["blank"] = True
        else:
            extra.update(marks={}, initial_mark=None, final_mark=None)
        if kind in ("marked", "partial") and rng.random() < 0.3:
            extra.update(delta=Decimal(rng.choice((-2, -1, 1, 3))) / 2, is_harmonised=True)
        ScriptFactory(
            batch=rng.choice(batches),
            candidate=candidate,
            subject=rng.choice(subjects),
            public_id=f"T-{index:04d}",
            **extra,
        )
    scripts = Script.objects.filter(exam=exam, academy=academy)
    values = {
        row.name: sorted(
            set(scripts.exclude(**{row.lookup: None}).values_list(row.lookup, flat=True))
        )
        for row in LIST_TABLE
    }
    return {"exam": exam, "academy": academy, "scripts": scripts, "values": values}


def _sql_ids(population, script_filter: ScriptFilter) -> set[int]:
    kept = scripts_filter(scripts=population["scripts"], script_filter=script_filter)
    return set(kept.values_list("pk", flat=True))


def _mask_ids(population, script_filter: ScriptFilter) -> set[int]:
    loaded = population_load(exam=population["exam"], academy_id=population["academy"].pk)
    return set(loaded.ids[filter_mask(loaded=loaded, script_filter=script_filter)].tolist())


def test_every_list_key_is_loaded_and_refers_to_a_script_column():
    """The population loads one id column per key of the table, each a Script field."""
    assert tuple(row.column for row in LIST_TABLE) == _COLUMNS
    concrete = {field.attname for field in Script._meta.concrete_fields}
    for row in LIST_TABLE:
        assert row.column in concrete, row.name
        assert row.related()._meta.get_field(row.natural), row.name
        model, field = row.known_table()
        assert model._meta.get_field(field.split("__")[0]), row.name


def test_scenario_keys_of_each_kind_come_from_the_table():
    """R-MASS-4: the blocks a scenario may use per kind of exam."""
    assert scenario_filter_keys(kind=ExamKind.MARKED) == (
        "qualifications",
        "juries",
        "graders",
        "batches",
        "mark_min",
        "mark_max",
        "mark_part",
    )
    assert scenario_filter_keys(kind=ExamKind.HARMONISATION_ONLY) == (
        "departments",
        "schools",
        "class_groups",
        "qualifications",
        "juries",
        "mark_min",
        "mark_max",
    )
    assert set(scenario_filter_keys(kind=ExamKind.MARKED)) <= set(FILTER_KEYS)


def test_each_key_alone_sql_and_mask_agree(population):
    """R-MASS-4, R-UNIT-3: for every key of the table and every value it takes (one value,
    then two), the SQL filter and the numpy mask keep the same scripts."""
    for row in LIST_TABLE:
        values = population["values"][row.name]
        assert values, row.name
        choices = [(value,) for value in values] + [tuple(values[:2]), ("inconnu",)]
        for chosen in choices:
            script_filter = ScriptFilter(**{row.name: chosen})
            assert _sql_ids(population, script_filter) == _mask_ids(population, script_filter), (
                row.name,
                chosen,
            )


def test_mark_bounds_on_a_part_leave_unmarked_scripts_out(population):
    """R-MASS-4b: a part's mark is the sum of its leaves as marked; a script with no mark
    (special or not marked yet) has none, in SQL as in the mask."""
    script_filter = ScriptFilter(mark_part="P1", mark_max=Decimal(5))
    unmarked = set(
        population["scripts"].filter(initial_mark__isnull=True).values_list("pk", flat=True)
    )
    assert unmarked
    assert not _sql_ids(population, script_filter) & unmarked
    assert _sql_ids(population, script_filter) == _mask_ids(population, script_filter)


@st.composite
def _filters(draw, values: dict[str, list[str]]) -> ScriptFilter:
    lists = {}
    for row in LIST_TABLE:
        if draw(st.booleans()):
            pool = values[row.name] + ["inconnu"]
            lists[row.name] = tuple(draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)))
    low = draw(st.none() | st.sampled_from(MARKS))
    high = draw(st.none() | st.sampled_from(MARKS))
    return ScriptFilter(
        **lists, mark_min=low, mark_max=high, mark_part=draw(st.sampled_from(PARTS))
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_sql_filter_and_numpy_mask_agree(population, data):
    """R-MASS-4, R-MASS-4b, R-UNIT-3: any filter built from the table's keys (lists, mark
    bounds, a part) keeps the same scripts in SQL and in the numpy mask."""
    script_filter = data.draw(_filters(population["values"]))
    assert _sql_ids(population, script_filter) == _mask_ids(population, script_filter)


def test_mask_of_an_empty_filter_is_everyone(population):
    loaded = population_load(exam=population["exam"], academy_id=population["academy"].pk)
    assert filter_mask(loaded=loaded, script_filter=ScriptFilter()).all()
    assert np.array_equal(np.sort(loaded.ids), loaded.ids)
    assert set(LISTS) == {row.name for row in LIST_TABLE}


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_linked_choices_counted_from_the_arrays_equal_the_database(population, data):
    """R-MASS-5 (issue 16): the linked choices counted from the academy's arrays are the
    database's counts, per key, for any filter, over all scripts or the locked ones."""
    from harmonie.marking.options import population_counter
    from harmonie.scriptfilter.options import _option_counts

    script_filter = data.draw(_filters(population["values"]))
    locked_only = data.draw(st.booleans())
    population_load(exam=population["exam"], academy_id=population["academy"].pk)
    counter = population_counter(exam=population["exam"], academy_id=population["academy"].pk)
    keys = [row.name for row in LIST_TABLE]
    counted = counter({key: script_filter for key in keys}, locked_only)
    base = population["scripts"].filter(locked=True) if locked_only else population["scripts"]
    expected = _option_counts(scripts_filter(scripts=base, script_filter=script_filter), keys)
    assert counted == expected


def _aggregates_normalised(aggregates) -> tuple:
    return (
        sorted(aggregates.by_value),
        sorted(aggregates.special_marks),
        aggregates.unmarked,
        {column: sorted(rows) for column, rows in aggregates.groups.items()},
    )


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_statistics_from_the_arrays_equal_the_database(population, data):
    """R-MASS-13 (issue 16): the statistics' aggregates counted from the academy's arrays
    (marks per value, special marks, unmarked, count/sum/squares per school,
    qualification and grader) are the database's, for any filter, all or locked scripts."""
    from django.db import connection

    from harmonie.statistics.selectors import (
        aggregates_from_population,
        aggregates_grouping_sets,
        aggregates_per_table,
    )

    script_filter = data.draw(_filters(population["values"]))
    locked_only = data.draw(st.booleans())
    loaded = population_load(exam=population["exam"], academy_id=population["academy"].pk)
    mask = filter_mask(loaded=loaded, script_filter=script_filter)
    if locked_only:
        mask &= loaded.population.locked
    base = population["scripts"].filter(locked=True) if locked_only else population["scripts"]
    scripts = scripts_filter(scripts=base, script_filter=script_filter)
    assert _aggregates_normalised(
        aggregates_from_population(loaded=loaded, mask=mask)
    ) == _aggregates_normalised(aggregates_per_table(scripts))
    if connection.vendor == "postgresql":
        assert _aggregates_normalised(
            aggregates_from_population(loaded=loaded, mask=mask)
        ) == _aggregates_normalised(aggregates_grouping_sets(scripts))


def test_choices_and_statistics_kept_nowhere_are_counted_by_the_database(population, monkeypatch):
    """R-MASS-5, R-MASS-13: with the academy's arrays kept nowhere (after an import, a
    restarted cache) the linked choices and the statistics are counted by the database,
    not after a read of every script (2.6 s at 600,000); once a simulation has loaded the
    arrays they are counted from them, with the same answer."""
    from django.core.cache import cache

    from harmonie.marking import population as sources
    from harmonie.marking.options import population_counter, scope_filter_options
    from harmonie.marking.population import population_cache_clear
    from harmonie.statistics.selectors import exam_statistics

    exam, academy = population["exam"], population["academy"]
    user = UserFactory(coordinator=True, academy=academy)
    population_cache_clear()
    cache.clear()
    reads = []
    read = sources._table
    monkeypatch.setattr(sources, "_table", lambda **kwargs: reads.append(kwargs) or read(**kwargs))
    assert population_counter(exam=exam, academy_id=academy.pk)({}, False) is None
    by_sql = scope_filter_options(user=user, exam=exam, script_filter=ScriptFilter())
    stats_sql = exam_statistics(user=user, exam=exam, script_filter=ScriptFilter()).as_dict()
    assert reads == []
    population_load(exam=exam, academy_id=academy.pk)
    cache.clear()  # the answers, not the arrays: population_load shared them again
    population_load(exam=exam, academy_id=academy.pk)
    from harmonie.statistics import selectors as statistics_selectors

    from_arrays = []
    aggregate = statistics_selectors.aggregates_from_population
    monkeypatch.setattr(
        statistics_selectors,
        "aggregates_from_population",
        lambda **kwargs: from_arrays.append(1) or aggregate(**kwargs),
    )
    assert population_counter(exam=exam, academy_id=academy.pk)({}, False) == {}
    by_arrays = scope_filter_options(user=user, exam=exam, script_filter=ScriptFilter())
    stats_arrays = exam_statistics(user=user, exam=exam, script_filter=ScriptFilter()).as_dict()
    assert from_arrays == [1]
    assert by_arrays == by_sql
    assert stats_arrays == stats_sql
    assert len(reads) == 1
