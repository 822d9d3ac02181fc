"""The stand-ins apply the receiving rules and are idempotent (R-VAL-4, R-VAL-5, R-VAL-6).

No database of Harmonie here: the stand-ins are foreign systems reached over HTTP.
"""

import httpx
import pytest

from standins.base import serve_in_thread
from standins.payroll import PayrollStandIn
from standins.results import ResultsStandIn, mark_text


@pytest.fixture
def results(tmp_path):
    server = serve_in_thread(ResultsStandIn, tmp_path / "results.sqlite3")
    with httpx.Client(base_url=server.url, timeout=5) as client:
        yield client
    server.shutdown()
    server.server_close()


@pytest.fixture
def payroll(tmp_path):
    server = serve_in_thread(PayrollStandIn, tmp_path / "payroll.sqlite3")
    with httpx.Client(base_url=server.url, timeout=5) as client:
        yield client
    server.shutdown()
    server.server_close()


def _send(client, path, records, key, **envelope):
    body = {"exam": "FRA-ECRIT", "records": records, **envelope}
    return client.post(path, json=body, headers={"Idempotency-Key": key})


def _outcomes(response):
    return [(r["ref"], r["outcome"], r["reason"]) for r in response.json()["results"]]


def test_results_rules(results):
    """R-VAL-4: DI by hand never overwritten; 0 by hand kept when AB is sent; else overwritten."""
    results.post(
        "/control/hand-entered",
        json={
            "exam": "FRA-ECRIT",
            "records": [
                {"candidate": "1", "mark": "DI"},
                {"candidate": "2", "mark": 0},
                {"candidate": "3", "mark": 0},
                {"candidate": "4", "mark": 11},
            ],
        },
    )
    response = _send(
        results,
        "/marks",
        [
            {"candidate": "1", "mark": 15},
            {"candidate": "2", "mark": "AB"},
            {"candidate": "3", "mark": 12.5},
            {"candidate": "4", "mark": "AB"},
            {"candidate": "5", "mark": 20},
        ],
        "k1",
        max_mark=20,
    )
    assert _outcomes(response) == [
        ("1", "kept", "hand_entered_di"),
        ("2", "kept", "hand_entered_zero_absent"),
        ("3", "written", None),
        ("4", "written", None),
        ("5", "written", None),
    ]
    rows = {
        r["candidate"]: (r["mark"], r["source"])
        for r in results.get("/control/state").json()["records"]
    }
    assert rows == {
        "1": ("DI", "hand"),
        "2": ("0", "hand"),
        "3": ("12.5", "platform"),
        "4": ("AB", "platform"),
        "5": ("20", "platform"),
    }


def test_results_refuses_bad_records(results):
    results.post("/control/refuse", json={"refs": {"9": "unknown_candidate"}})
    response = _send(
        results,
        "/marks",
        [
            {"candidate": "7", "mark": 21},
            {"candidate": "8", "mark": "absent"},
            {"candidate": "9", "mark": 3},
            {"mark": 3},
        ],
        "k1",
        max_mark=20,
    )
    assert _outcomes(response) == [
        ("7", "refused", "invalid_mark"),
        ("8", "refused", "invalid_mark"),
        ("9", "refused", "unknown_candidate"),
        ("", "refused", "invalid_record"),
    ]


def test_payroll_keeps_hand_entered_apart(payroll):
    """R-VAL-5: platform work done overwrites its own row; the hand-entered row is untouched."""
    payroll.post(
        "/control/hand-entered",
        json={"exam": "FRA-ECRIT", "records": [{"grader": "corr.dupont", "scripts": 12}]},
    )
    first = _send(payroll, "/work-done", [{"grader": "corr.dupont", "scripts": 100}], "a")
    assert _outcomes(first) == [("corr.dupont", "written", "hand_entered_kept_apart")]
    _send(payroll, "/work-done", [{"grader": "corr.dupont", "scripts": 98}], "b")
    rows = {
        (r["grader"], r["source"]): (r["scripts"], r["writes"])
        for r in payroll.get("/control/state").json()["records"]
    }
    assert rows == {("corr.dupont", "hand"): (12, 0), ("corr.dupont", "platform"): (98, 2)}
    bad = _send(
        payroll,
        "/work-done",
        [{"grader": "x", "scripts": -1}, {"grader": "y", "scripts": True}],
        "c",
    )
    assert [o[2] for o in _outcomes(bad)] == ["invalid_count", "invalid_count"]


def test_same_key_is_applied_once(results):
    """R-VAL-6: a repeated key answers the stored result without applying again."""
    records = [{"candidate": "1", "mark": 10}]
    first = _send(results, "/marks", records, "k")
    second = _send(results, "/marks", records, "k")
    assert second.json()["replayed"] is True
    assert second.json()["results"] == first.json()["results"]
    state = results.get("/control/state").json()
    assert state["records"][0]["writes"] == 1
    assert state["keys"] == [{"key": "k", "applications": 1, "replays": 1}]


def test_same_key_other_body_is_422(results):
    _send(results, "/marks", [{"candidate": "1", "mark": 10}], "k")
    response = _send(results, "/marks", [{"candidate": "1", "mark": 11}], "k")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"not json", {"Idempotency-Key": "k"}),
        (b"[1, 2]", {"Idempotency-Key": "k"}),
        (b'{"exam": "X", "records": 3}', {"Idempotency-Key": "k"}),
        (b'{"exam": "X", "records": []}', {}),
    ],
)
def test_unreadable_messages_are_400_and_apply_nothing(results, body, headers):
    response = results.post("/marks", content=body, headers=headers)
    assert response.status_code == 400
    assert results.get("/control/state").json()["messages"]["applied"] == 0


def test_faults(results):
    results.post("/control/faults", json={"fail_next": 1})
    assert _send(results, "/marks", [], "a").status_code == 503
    assert _send(results, "/marks", [], "a").status_code == 200
    results.post("/control/faults", json={"garbage_next": 1})
    garbage = _send(results, "/marks", [{"candidate": "1", "mark": 1}], "b")
    assert garbage.status_code == 200
    assert garbage.text.startswith("<html>")
    assert _send(results, "/marks", [{"candidate": "1", "mark": 1}], "b").json()["replayed"]
    results.post("/control/faults", json={"hang": 1.0})
    with pytest.raises(httpx.ReadTimeout):
        results.post(
            "/marks",
            json={"exam": "E", "records": []},
            headers={"Idempotency-Key": "c"},
            timeout=0.3,
        )
    assert results.post("/control/faults", json={"nope": 1}).status_code == 400
    assert results.post("/control/faults", json={"delay": -1}).status_code == 400


def test_certain_time_outs(results):
    """R-VAL-6: `hang_next` makes the next request wait before applying (the client has given
    up before anything is applied), `late_next` applies it and answers too late; each is used
    up by one request."""
    results.post("/control/faults", json={"hang_next": 1, "late_next": 1, "hang_for": 1.0})
    with pytest.raises(httpx.ReadTimeout):
        _send_slow(results, [{"candidate": "1", "mark": 1}], "a")
    assert _keys(results) == set()  # timed out before applying
    with pytest.raises(httpx.ReadTimeout):
        _send_slow(results, [{"candidate": "2", "mark": 2}], "b")
    assert "b" in _keys(results)  # applied, the answer comes too late
    assert _send(results, "/marks", [], "c").status_code == 200  # both used up
    assert results.get("/control/state").json()["messages"]["slowed"] == 2


def _send_slow(client, records, key):
    body = {"exam": "FRA-ECRIT", "records": records}
    return client.post("/marks", json=body, headers={"Idempotency-Key": key}, timeout=0.3)


def _keys(client) -> set[str]:
    return {k["key"] for k in client.get("/control/state").json()["keys"]}


def test_reset(results):
    _send(results, "/marks", [{"candidate": "1", "mark": 1}], "a")
    results.post("/control/reset")
    state = results.get("/control/state").json()
    assert state["records"] == []
    assert state["keys"] == []


def test_mark_text():
    assert mark_text(12.0, max_mark=20) == "12"
    assert mark_text(12.25, max_mark=20) == "12.25"
    assert mark_text(0, max_mark=20) == "0"
    assert mark_text(True, max_mark=20) is None
    assert mark_text(float("nan"), max_mark=20) is None
    assert mark_text("ab", max_mark=20) is None
