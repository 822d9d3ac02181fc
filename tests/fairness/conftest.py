"""A generated session imported once per test (2,000 candidates, 2 academies) whose
graders have the generator's documented offsets (R-FAIR-1's known truth)."""

import json

import pytest

from harmonie.accounts.models import User
from harmonie.marking.session_import import session_import
from harmonie.referential.generator import grader_offsets, session_generate

CANDIDATES = 2000
SEED = 14


@pytest.fixture
def generated(db, tmp_path):
    path = tmp_path / "session.json"
    path.write_text(
        json.dumps(session_generate(candidates=CANDIDATES, seed=SEED)), encoding="utf-8"
    )
    session_import(path=path)
    return {
        "coordinator": User.objects.get(username="coord.nancy-metz"),
        "member": User.objects.get(username="membre.nancy-metz"),
        "offsets": grader_offsets(candidates=CANDIDATES, seed=SEED),
        "academy_graders": set(
            User.objects.filter(role="grader", academy__code="NANCY-METZ").values_list(
                "username", flat=True
            )
        ),
    }
