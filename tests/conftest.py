import pytest
from django.test import Client

from tests.factories import PASSWORD, BatchFactory, ExamFactory, ScriptFactory, UserFactory


@pytest.fixture
def exam(db):
    return ExamFactory(code="FRA-ECRIT")


@pytest.fixture
def academy_world(exam):
    """One academy with a coordinator, a locked and an unlocked batch; another academy."""
    locked = BatchFactory(exam=exam, academy__code="NANCY-METZ", academy__label="Nancy-Metz")
    unlocked = BatchFactory(exam=exam, academy=locked.academy, unlocked=True)
    scripts = [
        ScriptFactory(batch=locked, marks={"Q1": 3, "Q2": 4.5, "P2": 7}),
        ScriptFactory(batch=locked, marks={"Q1": 4, "Q2": 6, "P2": 9}),
        ScriptFactory(batch=locked, blank=True),
        ScriptFactory(batch=unlocked, marks={"Q1": 1, "Q2": 2, "P2": 3}),
    ]
    other = BatchFactory(exam=exam, academy__code="STRASBOURG", academy__label="Strasbourg")
    foreign = ScriptFactory(batch=other)
    coordinator = UserFactory(username="coord.nm", coordinator=True, academy=locked.academy)
    return {
        "exam": exam,
        "academy": locked.academy,
        "locked_batch": locked,
        "unlocked_batch": unlocked,
        "scripts": scripts,
        "other_academy": other.academy,
        "foreign_script": foreign,
        "coordinator": coordinator,
    }


def login_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def api_token(client):
    def make(user) -> str:
        response = client.post(
            "/api/v1/auth/token",
            {"username": user.username, "password": PASSWORD},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        return response.json()["token"]

    return make
