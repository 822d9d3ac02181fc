"""Adapters: idempotency key, time-outs, quick retries with back-off, answers checked
record by record; transient versus permanent failures (R-VAL-6)."""

import json

import httpx
import pytest

from harmonie.validation.adapters import (
    PayrollSystemAdapter,
    PermanentDeliveryError,
    ResultsSystemAdapter,
    TransientDeliveryError,
)
from harmonie.validation.conf import ValidationConfig

PAYLOAD = {
    "exam": "FRA-ECRIT",
    "records": [{"candidate": "1", "mark": 12}, {"candidate": "2", "mark": "AB"}],
}
GOOD = {
    "results": [
        {"ref": "1", "outcome": "written", "reason": None},
        {"ref": "2", "outcome": "kept", "reason": "hand_entered_zero_absent"},
    ]
}


def _adapter(handler, *, attempts: int = 3, cls=ResultsSystemAdapter):
    sleeps: list[float] = []
    adapter = cls(
        base_url="http://results",
        config=ValidationConfig(adapter_attempts=attempts, adapter_backoff=0.5),
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
    )
    return adapter, sleeps


def test_sends_key_and_reads_outcomes():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json=GOOD)

    adapter, _ = _adapter(handler)
    outcomes = adapter.send_marks(key="harmonie:x:results:1", payload=PAYLOAD)
    assert [(o.ref, o.outcome, o.reason) for o in outcomes] == [
        ("1", "written", None),
        ("2", "kept", "hand_entered_zero_absent"),
    ]
    assert seen[0].headers["Idempotency-Key"] == "harmonie:x:results:1"
    assert seen[0].url.path == "/marks"
    assert json.loads(seen[0].content) == PAYLOAD


def test_payroll_path():
    def handler(request):
        assert request.url.path == "/work-done"
        return httpx.Response(200, json={"results": [{"ref": "g", "outcome": "written"}]})

    adapter, _ = _adapter(handler, cls=PayrollSystemAdapter)
    payload = {"exam": "E", "records": [{"grader": "g", "scripts": 3}]}
    assert adapter.send_work_done(key="k", payload=payload)[0].outcome == "written"


def test_retries_with_backoff_then_succeeds():
    answers = iter([httpx.Response(503), httpx.Response(502), httpx.Response(200, json=GOOD)])
    adapter, sleeps = _adapter(lambda request: next(answers))
    assert len(adapter.send(key="k", payload=PAYLOAD)) == 2
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize("status", [408, 429, 500, 503, 504])
def test_transient_statuses(status):
    adapter, sleeps = _adapter(lambda request: httpx.Response(status))
    with pytest.raises(TransientDeliveryError) as error:
        adapter.send(key="k", payload=PAYLOAD)
    assert str(status) in error.value.message
    assert len(sleeps) == 2  # three tries


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_permanent_statuses_are_not_retried(status):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(status, json={"error": {"message": "refusé"}})

    adapter, _ = _adapter(handler)
    with pytest.raises(PermanentDeliveryError) as error:
        adapter.send(key="k", payload=PAYLOAD)
    assert len(calls) == 1
    assert "refusé" in error.value.message


@pytest.mark.parametrize(
    "answer",
    [
        b"<html>oops</html>",
        json.dumps({"nothing": []}).encode(),
        json.dumps({"results": GOOD["results"][:1]}).encode(),
        json.dumps({"results": list(reversed(GOOD["results"]))}).encode(),
        json.dumps({"results": [GOOD["results"][0], {"ref": "2", "outcome": "maybe"}]}).encode(),
        json.dumps({"results": "all good"}).encode(),
        json.dumps([1, 2]).encode(),
    ],
)
def test_garbage_answers_are_transient(answer):
    """A system answering garbage: the message will be sent again with the same key."""
    adapter, _ = _adapter(lambda request: httpx.Response(200, content=answer), attempts=1)
    with pytest.raises(TransientDeliveryError) as error:
        adapter.send(key="k", payload=PAYLOAD)
    assert "illisible" in error.value.message


def test_timeouts_and_connection_errors_are_transient():
    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TransientDeliveryError, match="à temps"):
        _adapter(timeout, attempts=1)[0].send(key="k", payload=PAYLOAD)
    with pytest.raises(TransientDeliveryError, match="injoignable"):
        _adapter(refused, attempts=1)[0].send(key="k", payload=PAYLOAD)


def test_lease_covers_the_longest_attempt():
    config = ValidationConfig(
        timeout=30, connect_timeout=5, adapter_attempts=3, adapter_backoff=0.5
    )
    assert config.lease_seconds > 3 * 35 + 0.5 + 1
