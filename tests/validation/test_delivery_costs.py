"""What a worker does again for every message it delivers (issue 16, item 5): neither the
recorded payload read back and written again with the acknowledgement, nor a TLS context
built for each new client. Both were most of a worker's CPU beside the send itself."""

import ssl

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from harmonie.validation import adapters
from harmonie.validation.adapters import ResultsSystemAdapter
from harmonie.validation.conf import validation_config
from harmonie.validation.delivery import message_deliver
from harmonie.validation.models import MessageState
from harmonie.validation.services import validation_execute

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_acknowledgement_leaves_the_payload_alone(standins, world, worker):
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    message = validation.messages.get(system="results")
    with CaptureQueriesContext(connection) as queries:
        assert message_deliver(message_id=message.pk) == MessageState.DELIVERED
    touching = [q["sql"] for q in queries if '"payload"' in q["sql"]]
    assert len(touching) == 1, touching  # the claim reads it, to send it
    assert touching[0].startswith("SELECT")
    message.refresh_from_db()
    assert message.written == 5  # four scripts and the absent candidate
    assert message.payload["records"][0] == {"candidate": "0000000001", "mark": 14.5}


def test_one_tls_context_for_every_message(standins, monkeypatch):
    """Each message opens its own client; the context (the CA bundle loaded) is shared."""
    built: list[str] = []
    create = ssl.create_default_context
    monkeypatch.setattr(
        ssl, "create_default_context", lambda *a, **k: built.append("context") or create(*a, **k)
    )
    adapters._tls_context.cache_clear()
    adapter = ResultsSystemAdapter(base_url=standins.results_server.url, config=validation_config())
    for number in range(3):
        records = [{"candidate": f"000000000{number}", "mark": 12}]
        [outcome] = adapter.send(key=f"k{number}", payload={"exam": "E", "records": records})
        assert outcome.outcome == "written"
    assert built == ["context"]
