"""Sign-in: the session file may give each user the e-mail the identity provider's claim
is matched on (R-ACC-1: the session file, not the provider, says who is who)."""

import re

import pytest

from harmonie.accounts.models import User
from harmonie.marking.session_import import session_import
from harmonie.referential.session_file import SessionFileError
from tests.referential.session_data import session_data, session_write

pytestmark = pytest.mark.django_db


def test_session_file_email_is_imported_and_updated(tmp_path):
    data = session_data()
    data["users"][0]["email"] = "sabrina.antonioli@ac-nancy-metz.fr"
    session_import(path=session_write(tmp_path, data))
    assert User.objects.get(username="coord.nm").email == "sabrina.antonioli@ac-nancy-metz.fr"
    assert User.objects.get(username="corr.dupont").email == ""
    data["users"][0]["email"] = "s.antonioli@ac-nancy-metz.fr"
    session_import(path=session_write(tmp_path, data))
    assert User.objects.get(username="coord.nm").email == "s.antonioli@ac-nancy-metz.fr"


@pytest.mark.parametrize(
    ("emails", "message"),
    [
        (["pas-une-adresse", None], "users[0].email : adresse électronique « pas-une-adresse »"),
        (["a b@ac-nancy-metz.fr", None], "users[0].email : adresse électronique"),
        (
            ["x@ac-nancy-metz.fr", "X@AC-NANCY-METZ.FR"],
            "users[1].email : adresse électronique « x@ac-nancy-metz.fr » en double",
        ),
    ],
)
def test_bad_or_duplicate_email_refuses_the_file(tmp_path, emails, message):
    """Two users with one e-mail could not be told apart at sign-in: refused at import."""
    data = session_data()
    for user, email in zip(data["users"], emails, strict=False):
        if email is not None:
            user["email"] = email
    with pytest.raises(SessionFileError, match=re.escape(message)):
        session_import(path=session_write(tmp_path, data))
    assert not User.objects.exists()
