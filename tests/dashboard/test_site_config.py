"""The DSFR's site configuration on every page, read from the cache (issue 16): a saved
or deleted configuration shows at once."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from dsfr.models import DsfrConfig

from tests.conftest import login_client

pytestmark = pytest.mark.django_db


def _home(client: Client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_notice_follows_the_configuration_and_is_read_once(academy_world):
    client = login_client(academy_world["coordinator"])
    assert "fr-notice" not in _home(client)
    with CaptureQueriesContext(connection) as queries:
        _home(client)
    assert not [q for q in queries.captured_queries if "dsfr_dsfrconfig" in q["sql"]]
    config = DsfrConfig.objects.create(language="fr", notice_title="Maintenance ce soir")
    assert "Maintenance ce soir" in _home(client)
    config.notice_title = "Maintenance demain"
    config.save()
    assert "Maintenance demain" in _home(client)
    config.delete()
    assert "fr-notice" not in _home(client)
