"""Fuzzing the import: a malformed session file is refused with a French message naming a
path, and the database is left unchanged; it never fails any other way (API.md §1)."""

import json
import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmonie.marking.session_import import session_import
from harmonie.referential.session_file import SessionFileError
from tests.referential.session_data import session_data, session_write
from tests.referential.test_import_session import table_counts

pytestmark = pytest.mark.django_db

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


PATHS = [path for path in _paths(session_data()) if path]


def _replace(data, path, value):
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


class Rollback(Exception):
    pass


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), JUNK), min_size=1, max_size=3))
def test_malformed_file_is_refused_or_imported_never_crashes(tmp_path, mutations):
    data = session_data()
    for path, value in mutations:
        try:
            _replace(data, path, value)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        text = json.dumps(data, ensure_ascii=False)
    except ValueError:
        return
    path = session_write(tmp_path, json.loads(text) if "NaN" not in text else data)
    before = table_counts()
    refused: SessionFileError | None = None
    try:
        with transaction.atomic():
            session_import(path=path)
            raise Rollback
    except SessionFileError as error:
        refused = error
    except Rollback:
        return
    assert refused.path
    assert refused.message
    assert table_counts() == before


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xfe\x00garbage", b"[]", b"null", b'{"format": "harmonie-session/1"}', b"NaN"],
)
def test_garbage_bytes_are_refused(tmp_path, content):
    path = tmp_path / "garbage.json"
    path.write_bytes(content)
    before = table_counts()
    with pytest.raises(SessionFileError):
        session_import(path=path)
    assert table_counts() == before


def _fingerprint() -> list:
    """Every row of the imported tables, every column: « unchanged » means unchanged."""
    from django.apps import apps

    return [
        list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.app_label in ("referential", "marking", "accounts", "audit")
    ]


def _delete(data, path, _value=None):
    target = data
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]


def _duplicate(data, path, _value=None):
    target = data
    for key in path[:-1]:
        target = target[key]
    if isinstance(target, list):
        target.append(json.loads(json.dumps(target[path[-1]])))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    mutations=st.lists(
        st.tuples(
            st.sampled_from(PATHS), st.sampled_from(["replace", "delete", "duplicate"]), JUNK
        ),
        min_size=1,
        max_size=3,
    )
)
def test_malformed_reimport_leaves_an_imported_session_unchanged(tmp_path, mutations):
    """API.md §1: over an imported session, a malformed file (junk values, missing keys,
    duplicated entries) is refused whole and no row changes, not only no row count."""
    session_import(path=session_write(tmp_path, session_data()))
    data = session_data()
    operations = {"replace": _replace, "delete": _delete, "duplicate": _duplicate}
    for path, operation, value in mutations:
        try:
            operations[operation](data, path, value)
        except (KeyError, IndexError, TypeError):
            continue
    mutated = tmp_path / "mutated.json"
    mutated.write_text(json.dumps(data, ensure_ascii=False, allow_nan=True), encoding="utf-8")
    before = _fingerprint()
    refused: SessionFileError | None = None
    try:
        with transaction.atomic():
            session_import(path=mutated)
            raise Rollback
    except SessionFileError as error:
        refused = error
    except Rollback:
        return
    assert refused.path
    assert refused.message
    assert _fingerprint() == before


HOSTILE = st.sampled_from(
    [
        "a/b/c",
        "../../x",
        "<b>x</b>",
        "S-1\u202egpj",
        "x\u0000y",
        "\ud800",
        '=HYPERLINK("http://x")',
        "x y",
        "",
        1e-30,
        10**40,
        [[[[[[[[[[[[[[[[[[[["profond"]]]]]]]]]]]]]]]]]]]],
        {"inconnu": "\u0000"},
    ]
)


@settings(
    # `make test-attack` (CI) raises it for the bounded attack pass.
    max_examples=int(os.environ.get("HARMONIE_FUZZ_IMPORT_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), HOSTILE), min_size=1, max_size=3))
def test_hostile_values_anywhere_are_refused_by_path_or_stored_safe(tmp_path, mutations):
    """Issue 12.4 (API.md §1): unsafe ids, NUL, lone surrogates, deep nesting and absurd
    numbers anywhere in the file: refused with a French message naming a path and nothing
    written, or imported with every natural key on the safe pattern and no NUL stored."""
    from harmonie.marking.models import Batch, Script
    from harmonie.referential.models import Exam
    from harmonie.referential.session_file import KEY_PATTERN

    data = session_data()
    for path, value in mutations:
        try:
            _replace(data, path, value)
        except (KeyError, IndexError, TypeError):
            continue
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(data, ensure_ascii=True), encoding="ascii")
    before = _fingerprint()
    refused: SessionFileError | None = None
    try:
        with transaction.atomic():
            session_import(path=hostile)
            keys = [
                *Script.objects.values_list("public_id", flat=True),
                *Batch.objects.values_list("code", flat=True),
                *Exam.objects.values_list("code", flat=True),
            ]
            assert all(KEY_PATTERN.fullmatch(key) for key in keys), keys
            assert "\\u0000" not in json.dumps(_fingerprint(), default=str)
            raise Rollback
    except SessionFileError as error:
        refused = error
    except Rollback:
        return
    assert refused.path
    assert refused.message
    assert _fingerprint() == before
