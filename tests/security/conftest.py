"""Two academies with one account of every role and one object of every kind in each, for
the access matrix, the CSRF check, the anonymity scan and the API fuzzer (R-ACC-1)."""

from dataclasses import dataclass, field

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from PIL import Image

from harmonie.accounts.models import User
from harmonie.accounts.services import api_token_create
from harmonie.harmonisation.services import harmonisation_execute, simulation_create
from harmonie.marking.models import Batch, Script
from harmonie.referential.models import Exam, School
from harmonie.validation.services import validation_execute
from tests.factories import (
    AcademyFactory,
    BatchFactory,
    CandidateFactory,
    ClassGroupFactory,
    DepartmentFactory,
    ExamFactory,
    RegistrationFactory,
    SchoolFactory,
    ScriptFactory,
    UserFactory,
)

ROLES = (
    "coordinator",
    "member",
    "member_no_mission",
    "exam_officer",
    "grader",
    "school",
    "anonymous",
)


@dataclass
class Side:
    """One academy's objects: what is « own » for its users and « other » for the rest."""

    exam: Exam  # an exam with candidates in this academy only
    school: School
    locked_batch: Batch
    unlocked_batch: Batch
    script: Script  # in the locked batch
    unlocked_script: Script
    harmonisation_id: int
    validation_id: int
    users: dict[str, User] = field(default_factory=dict)


@dataclass
class World:
    shared_exam: Exam  # the national paper, with candidates in both academies
    own: Side
    other: Side

    def user(self, role: str) -> User | None:
        return self.own.users.get(role)


def _candidate(number: str, school: School, division: str = "1STMG1"):
    return CandidateFactory(
        number=number, school=school, class_group=ClassGroupFactory(school=school, code=division)
    )


def _side(*, code: str, label: str, dept: str, uai: str, shared: Exam, prefix: str) -> Side:
    academy = AcademyFactory(code=code, label=label)
    department = DepartmentFactory(code=dept, label=f"Département {dept}", academy=academy)
    school = SchoolFactory(uai=uai, label=f"Lycée {label}", department=department)
    grader = UserFactory(username=f"corr.{prefix}", grader=True, academy=academy, first_name="Jean")
    own_exam = ExamFactory(code=f"ANG-{prefix.upper()}", label=f"Anglais {label}")
    locked = BatchFactory(code=f"L-{prefix}-1", exam=shared, academy=academy, grader=grader)
    unlocked = BatchFactory(
        code=f"L-{prefix}-2", exam=shared, academy=academy, grader=grader, unlocked=True
    )
    scripts = [
        ScriptFactory(
            public_id=f"S-{prefix}-{n}",
            batch=locked,
            candidate=_candidate(f"77{prefix_digits(prefix)}00000{n}", school, f"1STMG{n % 2}"),
            marks={"Q1": 1 + n % 3, "Q2": 2 + n % 4, "P2": 3 + n},
        )
        for n in range(1, 5)
    ]
    ScriptFactory(
        public_id=f"S-{prefix}-9",
        batch=locked,
        candidate=_candidate(f"77{prefix_digits(prefix)}000009", school),
        blank=True,
    )
    unlocked_script = ScriptFactory(
        public_id=f"S-{prefix}-5",
        batch=unlocked,
        candidate=_candidate(f"77{prefix_digits(prefix)}000005", school),
        marks={"Q1": 2, "Q2": 2, "P2": 2},
    )
    RegistrationFactory(
        candidate=_candidate(f"77{prefix_digits(prefix)}000006", school),
        exam=shared,
        attendance="absent",
    )
    own_batch = BatchFactory(code=f"L-{prefix}-3", exam=own_exam, academy=academy, grader=grader)
    ScriptFactory(
        public_id=f"S-{prefix}-7",
        batch=own_batch,
        candidate=_candidate(f"77{prefix_digits(prefix)}000007", school),
    )
    users = {
        "coordinator": UserFactory(
            username=f"coord.{prefix}", coordinator=True, academy=academy, first_name="Claire"
        ),
        "member": UserFactory(
            username=f"membre.{prefix}",
            member=True,
            academy=academy,
            missions=[shared, own_exam],
        ),
        "member_no_mission": UserFactory(
            username=f"membre2.{prefix}", member=True, academy=academy
        ),
        "exam_officer": UserFactory(username=f"dec.{prefix}", exam_officer=True, academy=academy),
        "grader": grader,
        "school": UserFactory(username=f"etab.{prefix}", school_head=True, school=school),
    }
    coordinator = users["coordinator"]
    simulation = simulation_create(
        user=coordinator,
        exam_code=shared.code,
        scenarios=[{"filter": {"mark_max": 12}, "action": {"type": "raise", "points": 1}}],
    )
    harmonisation = harmonisation_execute(
        user=coordinator, exam_code=shared.code, simulation_id=simulation.pk, name="Premier essai"
    )
    validation = validation_execute(user=coordinator, exam_code=shared.code)
    return Side(
        exam=own_exam,
        school=school,
        locked_batch=locked,
        unlocked_batch=unlocked,
        script=scripts[0],
        unlocked_script=unlocked_script,
        harmonisation_id=harmonisation.pk,
        validation_id=validation.pk,
        users=users,
    )


def prefix_digits(prefix: str) -> str:
    return "1" if prefix == "nm" else "2"


@pytest.fixture
def no_delivery(settings):
    """Validations record their messages; nothing is sent (no stand-in needed)."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "delivery", "zips"],
        }
    }


@pytest.fixture
def world(db, no_delivery, settings, tmp_path) -> World:
    _SESSIONS.clear()
    _TOKENS.clear()
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SCANS_ROOT = tmp_path / "scans"
    (tmp_path / "scans").mkdir()
    Image.new("RGB", (60, 80), "white").save(tmp_path / "scans" / "page.png")
    shared = ExamFactory(code="FRA-ECRIT")
    own = _side(
        code="NANCY-METZ",
        label="Nancy-Metz",
        dept="057",
        uai="0570001A",
        shared=shared,
        prefix="nm",
    )
    other = _side(
        code="STRASBOURG",
        label="Strasbourg",
        dept="067",
        uai="0670001B",
        shared=shared,
        prefix="st",
    )
    Script.objects.update(pages=["page.png"])
    return World(shared_exam=shared, own=own, other=other)


_CLIENTS: dict[bool, Client] = {}
_SESSIONS: dict[int, str] = {}  # user id → session key, for the current test's world


def web_client(user: User | None, *, enforce_csrf: bool = False) -> Client:
    """One test client per process (and CSRF mode), logged in as `user`: a new Client loads
    the middleware again, and WhiteNoise scans every static file each time (seconds); each
    user logs in once per test."""
    client = _CLIENTS.setdefault(enforce_csrf, Client(enforce_csrf_checks=enforce_csrf))
    client.cookies.clear()
    if user is None:
        return client
    if user.pk in _SESSIONS and SessionStore().exists(_SESSIONS[user.pk]):  # not logged out
        client.cookies[django_settings.SESSION_COOKIE_NAME] = _SESSIONS[user.pk]
    else:
        client.force_login(user)
        _SESSIONS[user.pk] = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return client


def csrf_token_set(client: Client) -> str:
    """Give the client a CSRF cookie; returns the token to send in X-CSRFToken."""
    request = RequestFactory().get("/")
    token = get_token(request)
    client.cookies[django_settings.CSRF_COOKIE_NAME] = request.META["CSRF_COOKIE"]
    return token


_TOKENS: dict[int, str] = {}


def api_headers(user: User | None) -> dict[str, str]:
    if user is None:
        return {}
    if user.pk not in _TOKENS:
        _TOKENS[user.pk] = api_token_create(user=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {_TOKENS[user.pk]}"}
