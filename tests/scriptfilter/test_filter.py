"""The shared script filter (API.md filter object; R-UNIT-3, R-MASS-4, R-MASS-5)."""

from decimal import Decimal

import pytest
from django.http import QueryDict

from harmonie import scriptfilter
from harmonie.errors import InvalidInput
from harmonie.marking.permissions import scripts_in_scope
from harmonie.scriptfilter import LISTS, ScriptFilter, script_filter_describe, scripts_filter
from tests.factories import ExamFactory, ScriptFactory, UserFactory

pytestmark = pytest.mark.django_db


def script_filter_parse(*, data, exam, user):
    """The parse with the user's scope, as every caller passes it."""
    return scriptfilter.script_filter_parse(
        data=data, exam=exam, user=user, scripts=scripts_in_scope(user=user, exam=exam)
    )


def filter_options(*, user, exam, **kwargs):
    """The linked options over the user's scope, as every caller passes it."""
    return scriptfilter.filter_options(
        user=user, exam=exam, scripts=scripts_in_scope(user=user, exam=exam), **kwargs
    )


def _ids(queryset) -> set[str]:
    return set(queryset.values_list("public_id", flat=True))


def _scope(world):
    return scripts_in_scope(user=world["coordinator"], exam=world["exam"])


def test_empty_filter_keeps_everything(academy_world):
    """R-MASS-4: an empty filter is everyone."""
    script_filter = script_filter_parse(
        data={}, exam=academy_world["exam"], user=academy_world["coordinator"]
    )
    assert script_filter.is_empty()
    assert script_filter.as_dict() == {}
    assert scripts_filter(scripts=_scope(academy_world), script_filter=script_filter).count() == 4


def test_parse_json_and_querydict_give_the_same_filter(academy_world):
    """API.md: the filter object from JSON or from a query string."""
    world = academy_world
    school = world["scripts"][0].school.uai
    department = world["scripts"][0].department.code
    from_json = script_filter_parse(
        data={"schools": [school], "departments": [department], "mark_min": 8, "mark_max": "12.5"},
        exam=world["exam"],
        user=world["coordinator"],
    )
    query = QueryDict(mutable=True)
    query.setlist("schools", [school])
    query.setlist("departments", [department])
    query["mark_min"] = "8"
    query["mark_max"] = "12,5"
    from_query = script_filter_parse(data=query, exam=world["exam"], user=world["coordinator"])
    assert from_json == from_query
    assert from_json.as_dict() == {
        "departments": [department],
        "schools": [school],
        "mark_min": 8.0,
        "mark_max": 12.5,
    }


def test_lists_are_or_inside_a_key_and_and_across_keys(academy_world):
    """R-MASS-4 / API.md: OR inside a key, AND across keys."""
    world = academy_world
    first, second, _blank, unlocked = world["scripts"]
    both = ScriptFilter(schools=(first.school.uai, second.school.uai))
    assert _ids(scripts_filter(scripts=_scope(world), script_filter=both)) == {
        first.public_id,
        second.public_id,
    }
    narrowed = ScriptFilter(
        schools=(first.school.uai, second.school.uai),
        batches=(world["locked_batch"].code,),
        departments=(first.department.code,),
    )
    assert _ids(scripts_filter(scripts=_scope(world), script_filter=narrowed)) == {first.public_id}
    by_grader = ScriptFilter(graders=(world["unlocked_batch"].grader.username,))
    assert _ids(scripts_filter(scripts=_scope(world), script_filter=by_grader)) == {
        unlocked.public_id
    }


def test_global_mark_bounds_are_inclusive(academy_world):
    """R-MASS-4: min and max inclusive on the final mark; special marks never match."""
    world = academy_world
    first, second, _blank, unlocked = world["scripts"]  # 14.5, 19, CB, 6
    exact = ScriptFilter(mark_min=Decimal("14.5"), mark_max=Decimal(19))
    assert _ids(scripts_filter(scripts=_scope(world), script_filter=exact)) == {
        first.public_id,
        second.public_id,
    }
    low = ScriptFilter(mark_max=Decimal("14"))
    assert _ids(scripts_filter(scripts=_scope(world), script_filter=low)) == {unlocked.public_id}


def test_part_mark_is_the_sum_of_its_leaves(academy_world):
    """R-MASS-4, R-MARK-3: mark_part applies min/max to the sum of that part's leaves."""
    world = academy_world
    first, second, _blank, unlocked = world["scripts"]  # P1 = 7.5, 10, -, 3
    p1 = ScriptFilter(mark_part="P1", mark_min=Decimal("7.5"), mark_max=Decimal(10))
    assert _ids(scripts_filter(scripts=_scope(world), script_filter=p1)) == {
        first.public_id,
        second.public_id,
    }
    leaf = ScriptFilter(mark_part="Q2", mark_max=Decimal(2))
    assert _ids(scripts_filter(scripts=_scope(world), script_filter=leaf)) == {unlocked.public_id}
    p2 = ScriptFilter(mark_part="P2", mark_min=Decimal(9))
    assert _ids(scripts_filter(scripts=_scope(world), script_filter=p2)) == {second.public_id}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"colour": ["red"]}, "« colour » inconnu"),
        ({"schools": ["9999999X"]}, "Établissement « 9999999X » inconnu"),
        ({"departments": ["999"]}, "Département « 999 » inconnu"),
        ({"graders": ["nobody"]}, "Correcteur « nobody » inconnu"),
        ({"mark_min": "douze"}, "Filtre « Note min. » : « douze »"),
        ({"mark_min": 12, "mark_max": 8}, "dépasse"),
        ({"mark_max": 21}, "entre 0 et 20"),
        ({"mark_min": -1}, "entre 0 et 20"),
        ({"mark_part": "P1", "mark_max": 11}, "entre 0 et 10"),
        ({"mark_part": "P9"}, "partie « P9 » inconnue"),
        ({"mark_min": "NaN"}, "n'est pas une note"),
        ({"schools": [12]}, "Filtre « Établissements »"),
    ],
)
def test_bad_filters_are_refused_in_french(academy_world, data, fragment):
    """Bad input: unknown key or value, non-numeric or out-of-range mark, min > max."""
    with pytest.raises(InvalidInput) as error:
        script_filter_parse(
            data=data, exam=academy_world["exam"], user=academy_world["coordinator"]
        )
    assert fragment in error.value.message


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"mark_min": "douze"}, "mark_min"),
        ({"mark_max": 21}, "mark_max"),
        ({"mark_min": 12, "mark_max": 8}, "mark_min"),
        ({"mark_part": "P9"}, "mark_part"),
        ({"class_groups": [3]}, "class_groups"),
        ({"graders": ["nobody"]}, "graders"),
    ],
)
def test_messages_name_fields_by_their_labels(academy_world, data, key):
    """Issue 13 item 7: a French message names the field by its label (« Note min. »), never
    by its code (« mark_min »); the API keeps the code in `details.key` (API.md §2)."""
    with pytest.raises(InvalidInput) as error:
        script_filter_parse(
            data=data, exam=academy_world["exam"], user=academy_world["coordinator"]
        )
    assert f"« {key} »" not in error.value.message
    assert key not in error.value.message
    assert error.value.details["key"] == key


def test_values_outside_the_users_scope_are_unknown(academy_world):
    """R-ACC-1: a school of another academy does not exist for this coordinator."""
    world = academy_world
    with pytest.raises(InvalidInput, match="inconnu"):
        script_filter_parse(
            data={"schools": [world["foreign_script"].school.uai]},
            exam=world["exam"],
            user=world["coordinator"],
        )


def test_filter_options_are_linked(academy_world):
    """R-MASS-5: each list offers only values consistent with the other choices."""
    world = academy_world
    first = world["scripts"][0]
    everything = filter_options(
        user=world["coordinator"], exam=world["exam"], script_filter=ScriptFilter()
    )
    assert len(everything["schools"]) == 4
    assert sum(option["count"] for option in everything["schools"]) == 4
    assert {option["value"] for option in everything["batches"]} == {
        world["locked_batch"].code,
        world["unlocked_batch"].code,
    }
    linked = filter_options(
        user=world["coordinator"],
        exam=world["exam"],
        script_filter=ScriptFilter(departments=(first.department.code,)),
    )
    assert [option["value"] for option in linked["schools"]] == [first.school.uai]
    # The key itself is not narrowed by its own selection: other departments stay offered.
    assert len(linked["departments"]) == 4
    department = next(o for o in linked["departments"] if o["value"] == first.department.code)
    assert department["label"].startswith(first.department.code)
    locked = filter_options(
        user=world["coordinator"],
        exam=world["exam"],
        script_filter=ScriptFilter(),
        locked_only=True,
    )
    assert [option["value"] for option in locked["batches"]] == [world["locked_batch"].code]


def test_filter_options_grader_label_is_the_name(academy_world):
    """R-MASS-5, R-UNIT-3: the grader filter offers graders by name, with counts."""
    world = academy_world
    options = filter_options(
        user=world["coordinator"], exam=world["exam"], script_filter=ScriptFilter()
    )
    grader = world["locked_batch"].grader
    option = next(o for o in options["graders"] if o["value"] == grader.username)
    assert option["label"] == f"{grader.first_name} {grader.last_name}"
    assert option["count"] == 3


def test_describe_in_french():
    """R-MASS-11: filters described in French for history and headers."""
    described = script_filter_describe(
        script_filter=ScriptFilter(
            departments=("057", "088"), mark_min=Decimal("10.00"), mark_part="P1"
        )
    )
    assert described == [("Départements", "057, 088"), ("Note min.", "10"), ("Partie", "P1")]


def test_describe_names_graders_on_pages():
    """Issue 13 item 11: pages (history, statistics, script list) name graders « first
    last », in the filter's order; minutes and exports keep the username."""
    UserFactory(username="corr.lambert.1", grader=True, first_name="Élodie", last_name="Lambert")
    UserFactory(username="corr.colin.1", grader=True, first_name="Rachid", last_name="Colin")
    script_filter = ScriptFilter(graders=("corr.lambert.1", "corr.colin.1", "corr.gone"))
    assert script_filter_describe(script_filter=script_filter, grader_names=True) == [
        ("Correcteurs", "Élodie Lambert, Rachid Colin, corr.gone")
    ]
    assert script_filter_describe(script_filter=script_filter) == [
        ("Correcteurs", "corr.lambert.1, corr.colin.1, corr.gone")
    ]


def test_harmonisation_only_exam_has_no_part(db):
    """R-MASS-4: harmonisation-only exams filter on the global mark only."""
    exam = ExamFactory(code="PHILO-HO", harmonisation_only=True)
    script = ScriptFactory(batch=None, exam=exam)
    user = UserFactory(coordinator=True, academy=script.academy)
    with pytest.raises(InvalidInput, match="inconnue"):
        script_filter_parse(data={"mark_part": "P1"}, exam=exam, user=user)
    parsed = script_filter_parse(data={"mark_min": 12}, exam=exam, user=user)
    assert (
        scripts_filter(scripts=scripts_in_scope(user=user, exam=exam), script_filter=parsed).count()
        == 1
    )


def test_filter_options_cache_follows_the_marks_version(academy_world):
    """R-MASS-5: cached linked choices are recomputed after any change of the academy's marks."""
    from harmonie.marking.batches import batch_unlock
    from tests.factories import UserFactory

    user = academy_world["coordinator"]
    exam = academy_world["exam"]
    before = filter_options(user=user, exam=exam, script_filter=ScriptFilter(), locked_only=True)
    officer = UserFactory(exam_officer=True, academy=academy_world["academy"])
    batch_unlock(user=officer, code=academy_world["locked_batch"].code)
    after = filter_options(user=user, exam=exam, script_filter=ScriptFilter(), locked_only=True)
    assert sum(o["count"] for o in before["batches"]) == 3
    assert after["batches"] == []


def _script_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "marking_script" in q["sql"]]


def test_filter_options_count_each_key_under_the_other_keys(academy_world):
    """R-MASS-5: with several keys chosen, each list counts the scripts matching every
    OTHER key (one grouped scan per distinct filter on PostgreSQL, one query per key on
    SQLite): the same counts as filtering and counting key by key."""
    world = academy_world
    first, second = world["scripts"][0], world["scripts"][1]
    chosen = ScriptFilter(
        departments=(first.department.code, second.department.code),
        qualifications=(first.qualification.code,),
        mark_min=Decimal("0"),
    )
    options = filter_options(user=world["coordinator"], exam=world["exam"], script_filter=chosen)
    for key, row in LISTS.items():
        matching = scripts_filter(
            scripts=_scope(world), script_filter=chosen.replace(**{key: ()})
        ).exclude(**{row.lookup: None})
        expected: dict[str, int] = {}
        for value in matching.values_list(row.lookup, flat=True):
            expected[value] = expected.get(value, 0) + 1
        assert {o["value"]: o["count"] for o in options[key]} == expected, key


def test_filter_options_keys_and_cache_per_key(academy_world):
    """R-MASS-5: a page asks only for the lists it shows; a list's counts depend only on
    the OTHER keys, so changing its own selection is answered from the cache."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world = academy_world
    user, exam = world["coordinator"], world["exam"]
    schools = sorted(script.school.uai for script in world["scripts"])
    options = filter_options(
        user=user, exam=exam, script_filter=ScriptFilter(schools=(schools[0],)), keys=("schools",)
    )
    assert list(options) == ["schools"]
    assert len(options["schools"]) == 4
    with CaptureQueriesContext(connection) as captured:
        again = filter_options(
            user=user,
            exam=exam,
            script_filter=ScriptFilter(schools=(schools[1],)),
            keys=("schools",),
        )
    assert again == options
    assert _script_queries(captured) == []
    with CaptureQueriesContext(connection) as captured:
        linked = filter_options(
            user=user,
            exam=exam,
            script_filter=ScriptFilter(schools=(schools[1],)),
            keys=("schools", "departments"),
        )
    # Only the departments were counted: the schools came from the cache.
    assert len(_script_queries(captured)) == 1
    assert len(linked["departments"]) == 1


def test_select_options_escape_and_select():
    """R-UNIT-3: the linked lists' options are escaped, counted and keep the selection."""
    from harmonie.marking.templatetags.marking_tags import select_options

    html = select_options(
        [
            {"value": "A<1>", "label": 'École "Jean" & co', "count": 3},
            {"value": "B", "label": "B", "count": 1, "selected": True},
            {"value": "C", "label": "C", "count": 2},
        ],
        {"A<1>"},
    )
    assert html == (
        '<option value="A&lt;1&gt;" selected>École &quot;Jean&quot; &amp; co (3)</option>'
        '<option value="B" selected>B (1)</option>'
        '<option value="C">C (2)</option>'
    )


def test_described_bounds_are_written_the_french_way(academy_world):
    """R-MASS-11 (history), R-MASS-13 (statistics): a half-point bound reads « 9,5 » in the
    description; the query string keeps « 9.5 »."""
    script_filter = ScriptFilter(mark_min=Decimal("8"), mark_max=Decimal("9.5"))
    described = script_filter_describe(script_filter=script_filter)
    assert described == [("Note min.", "8"), ("Note max.", "9,5")]
    assert ("mark_max", "9.5") in script_filter.as_query()


def test_known_values_are_read_once_and_a_new_row_is_still_known(
    academy_world, django_assert_num_queries
):
    """R-MASS-4: an academy's values of a list are read once per exam version (then from
    the cache); a school added since (an import that did not touch this exam) is still
    known, and another academy's school is still unknown (R-ACC-1)."""
    from django.core.cache import cache

    from tests.factories import SchoolFactory

    world = academy_world
    cache.clear()
    user, exam = world["coordinator"], world["exam"]
    school = world["scripts"][0].school
    script_filter_parse(data={"schools": [school.uai]}, exam=exam, user=user)
    with django_assert_num_queries(0):
        parsed = scriptfilter.script_filter_parse(
            data={"schools": [school.uai]}, exam=exam, user=user, scripts=_scope(world)
        )
    assert parsed.schools == (school.uai,)
    added = SchoolFactory(department=school.department)
    assert script_filter_parse(data={"schools": [added.uai]}, exam=exam, user=user).schools == (
        added.uai,
    )
    with pytest.raises(InvalidInput, match="inconnu"):
        script_filter_parse(
            data={"schools": [world["foreign_script"].school.uai]}, exam=exam, user=user
        )
