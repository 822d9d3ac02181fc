"""script_marking_update: unit harmonisation and grading (R-UNIT-1, R-UNIT-4, R-MARK-1..4)."""

from decimal import Decimal

import pytest

from harmonie.audit.models import AuditEntry
from harmonie.errors import Conflict, Forbidden, InvalidInput, NotFound
from harmonie.marking.models import Script, ScriptVersion
from harmonie.marking.services import script_marking_update
from tests.factories import BatchFactory, ExamFactory, ScriptFactory, UserFactory

pytestmark = pytest.mark.django_db

MARKS = {"Q1": 3, "Q2": 4.5, "P2": 8}


def _update(user, script, **kwargs):
    payload = {"marks": MARKS, "special_mark": None, "annotations": []}
    payload.update(kwargs)
    return script_marking_update(user=user, public_id=script.public_id, **payload)


def test_unit_edit_recomputes_marks_and_keeps_delta(academy_world):
    """R-UNIT-4, R-MARK-3, R-MARK-4: initial = sum of leaves, final = clamp(initial + delta)."""
    world = academy_world
    script = world["scripts"][0]
    Script.objects.filter(pk=script.pk).update(
        delta=Decimal(2), is_harmonised=True, final_mark=Decimal("16.5"), final_marks={"Q1": 4}
    )
    exam = world["exam"]
    before_version = exam.marks_version
    updated = _update(world["coordinator"], script, marks={"Q1": 4, "Q2": 6, "P2": 9.5}, version=1)
    updated.refresh_from_db()
    assert updated.initial_mark == Decimal("19.5")
    assert updated.final_mark == Decimal(20)  # clamped
    assert updated.delta == Decimal(2)
    assert updated.is_harmonised
    assert updated.final_marks is None  # conformity to be redone
    assert updated.version == 2
    exam.refresh_from_db()
    assert exam.marks_version == before_version + 1


def test_every_edit_is_versioned_and_audited(academy_world):
    """R-UNIT-4: every edit is recorded (who, when, before, after)."""
    world = academy_world
    script = world["scripts"][0]
    coordinator = world["coordinator"]
    _update(coordinator, script)
    versions = list(ScriptVersion.objects.filter(script=script).order_by("number"))
    assert [(v.number, v.author) for v in versions] == [(1, None), (2, coordinator)]
    assert versions[0].marks == {"Q1": 3, "Q2": 4.5, "P2": 7}
    assert versions[0].initial_mark == Decimal("14.5")
    assert versions[1].marks == MARKS
    entry = AuditEntry.objects.get(action="script.marking_updated")
    assert entry.actor == coordinator
    assert entry.target_id == script.public_id
    assert entry.before["initial_mark"] == 14.5
    assert entry.after["initial_mark"] == 15.5
    _update(coordinator, script, marks={"Q1": 4, "Q2": 4.5, "P2": 8})
    assert ScriptVersion.objects.filter(script=script).count() == 3


def test_audit_never_names_the_candidate(academy_world):
    """R-UNIT-2: logs carry the script id, never the candidate number."""
    world = academy_world
    script = world["scripts"][0]
    _update(world["coordinator"], script)
    entry = AuditEntry.objects.get(action="script.marking_updated")
    assert script.candidate.number not in str(entry.before) + str(entry.after) + entry.target_id


def test_saving_the_same_marking_changes_nothing(academy_world):
    world = academy_world
    script = world["scripts"][0]
    _update(world["coordinator"], script, marks={"Q1": 3, "Q2": 4.5, "P2": 7})
    assert not ScriptVersion.objects.exists()
    assert not AuditEntry.objects.exists()


def test_unlocked_batch_is_refused_with_409(academy_world):
    """R-UNIT-1: a script of an unlocked batch cannot be harmonised; nothing written."""
    world = academy_world
    script = world["scripts"][3]
    with pytest.raises(Conflict, match="n'est pas verrouillé"):
        _update(world["coordinator"], script)
    script.refresh_from_db()
    assert script.marks == {"Q1": 1, "Q2": 2, "P2": 3}
    assert not AuditEntry.objects.exists()


def test_stale_version_is_refused_with_409(academy_world):
    """R-UNIT-4: optimistic check, the script changed since it was opened."""
    world = academy_world
    script = world["scripts"][0]
    _update(world["coordinator"], script, version=1)
    with pytest.raises(Conflict, match="modifiée depuis son ouverture"):
        _update(world["coordinator"], script, marks={"Q1": 0, "Q2": 0, "P2": 0}, version=1)
    script.refresh_from_db()
    assert script.marks == MARKS


@pytest.mark.parametrize(
    ("marks", "fragment"),
    [
        ({"Q1": 3.3, "Q2": 4.5, "P2": 8}, "pas 0.5"),
        ({"Q1": 5, "Q2": 4.5, "P2": 8}, "dépasse le maximum"),
        ({"Q1": -1, "Q2": 4.5, "P2": 8}, "négative"),
        ({"Q1": "trois", "Q2": 4.5, "P2": 8}, "n'est pas une note"),
        ({"Q1": 3, "Q2": 4.5}, "Note manquante pour « P2 »"),
        ({"Q1": 3, "Q2": 4.5, "P2": 8, "P9": 1}, "« P9 » inconnue"),
        ({"Q1": True, "Q2": 4.5, "P2": 8}, "n'est pas une note"),
        ("12", "doivent être un objet"),
    ],
)
def test_bad_marks_are_refused_in_french(academy_world, marks, fragment):
    """R-MARK-1: bounds, step and leaf maximum; nothing written."""
    world = academy_world
    script = world["scripts"][0]
    with pytest.raises(InvalidInput) as error:
        _update(world["coordinator"], script, marks=marks)
    assert fragment in error.value.message
    assert not AuditEntry.objects.exists()


def test_special_mark_empties_the_marks(academy_world):
    """R-MARK-2: a special mark replaces the marks; never numeric."""
    world = academy_world
    script = world["scripts"][0]
    updated = _update(world["coordinator"], script, special_mark="CB", marks={"Q1": 1})
    updated.refresh_from_db()
    assert updated.marks == {}
    assert updated.initial_mark is None
    assert updated.final_mark is None
    back = _update(world["coordinator"], script)
    assert back.initial_mark == Decimal("15.5")
    assert back.special_mark is None


@pytest.mark.parametrize("code", ["AB", "XX", 3])
def test_absent_and_unknown_special_marks_are_refused(academy_world, code):
    """R-MARK-2: AB is an attendance record, not an editable mark; unknown codes refused."""
    world = academy_world
    with pytest.raises(InvalidInput, match="non autorisée"):
        _update(world["coordinator"], world["scripts"][0], special_mark=code)


def test_annotations_are_validated_and_stamped(academy_world):
    """R-UNIT-4: annotations as the grader's tools, with author and date."""
    world = academy_world
    script = world["scripts"][0]
    Script.objects.filter(pk=script.pk).update(pages=["a.pdf"])
    annotations = [
        {"page": 0, "kind": "tick", "x": 0.1, "y": 0.2, "w": 0.05, "h": 0.05},
        {"page": 0, "kind": "comment", "x": 0.5, "y": 0.5, "text": "Bonne idée"},
        {"page": 0, "kind": "appreciation", "text": "Copie solide."},
    ]
    updated = _update(world["coordinator"], script, annotations=annotations)
    assert [a["kind"] for a in updated.annotations] == ["tick", "comment", "appreciation"]
    assert all(a["id"] and a["at"] for a in updated.annotations)
    assert updated.annotations[0]["author"] == world["coordinator"].get_full_name()


@pytest.mark.parametrize(
    ("annotation", "fragment"),
    [
        ({"page": 0, "kind": "smiley"}, "type « smiley » inconnu"),
        ({"page": 3, "kind": "tick"}, "page 3 inexistante"),
        ({"page": 0, "kind": "tick", "x": 1.5}, "entre 0 et 1"),
        ({"page": 0, "kind": "tick", "x": "a"}, "doit être un nombre"),
        ({"page": 0, "kind": "comment", "text": ""}, "doit avoir un texte"),
        ({"page": 0, "kind": "highlight", "x": 0.9, "w": 0.5}, "déborde"),
    ],
)
def test_bad_annotations_are_refused(academy_world, annotation, fragment):
    """R-UNIT-4: annotations checked (kind, page, position, text); nothing written."""
    world = academy_world
    with pytest.raises(InvalidInput) as error:
        _update(world["coordinator"], world["scripts"][0], annotations=[annotation])
    assert fragment in error.value.message


def test_out_of_scope_script_is_not_found(academy_world):
    """R-ACC-1: another academy's script is absent (404)."""
    world = academy_world
    with pytest.raises(NotFound):
        _update(world["coordinator"], world["foreign_script"])


@pytest.mark.parametrize("role", ["member", "exam_officer"])
def test_other_roles_cannot_edit(academy_world, role):
    """R-ACC-1: only coordinators harmonise one script at a time."""
    user = UserFactory(academy=academy_world["academy"], **{role: True})
    with pytest.raises(Forbidden):
        _update(user, academy_world["scripts"][0])


def test_grader_marks_own_unlocked_batch_only(academy_world):
    """Issue 3 part 5: a grader marks his unlocked batch with the same editor."""
    world = academy_world
    unlocked = world["scripts"][3]
    grader = world["unlocked_batch"].grader
    updated = _update(grader, unlocked)
    assert updated.initial_mark == Decimal("15.5")
    assert AuditEntry.objects.filter(action="script.graded").count() == 1
    with pytest.raises(Conflict, match="est verrouillé"):
        _update(world["locked_batch"].grader, world["scripts"][0])
    stranger = BatchFactory(exam=world["exam"], academy=world["academy"], unlocked=True).grader
    with pytest.raises(NotFound):
        _update(stranger, unlocked)


def test_harmonisation_only_exam_has_a_global_mark(db):
    """R-MARK-3: harmonisation-only exams have a global mark only."""
    exam = ExamFactory(code="PHILO-HO", harmonisation_only=True)
    script = ScriptFactory(batch=None, exam=exam)
    coordinator = UserFactory(coordinator=True, academy=script.academy)
    updated = script_marking_update(
        user=coordinator,
        public_id=script.public_id,
        marks={"global": 13},
        special_mark=None,
        annotations=[],
    )
    assert updated.initial_mark == Decimal(13)


def test_batch_unlocked_after_opening_refuses_the_save(academy_world):
    """R-UNIT-1: the exam office unlocks the batch while the coordinator edits: 409."""
    from harmonie.marking.batches import batch_unlock

    world = academy_world
    script = world["scripts"][0]
    officer = UserFactory(exam_officer=True, academy=world["academy"])
    batch_unlock(user=officer, code=world["locked_batch"].code)
    with pytest.raises(Conflict, match="n'est pas verrouillé"):
        _update(world["coordinator"], script, version=1)
    assert not ScriptVersion.objects.exists()
