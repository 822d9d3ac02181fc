"""End to end, real processes: web server (gunicorn), task worker (db_worker), both
stand-ins, one file SQLite database shared by the web server and the worker.

The results stand-in holds a hand-entered DI and a hand-entered 0 (for an absent
candidate), the payroll stand-in a hand-entered work done. The worker is killed (SIGKILL)
after the results system applied a message and before Harmonie recorded its answer; a
new worker finishes the delivery, and every record is found delivered exactly once
(R-VAL-1, R-VAL-2, R-VAL-4, R-VAL-5, R-VAL-6).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "harmonie2026"
PRESENT = [f"00000000{n:02d}" for n in range(1, 8)]  # 7 candidates with a script
ABSENT = ["0000000098", "0000000099"]
HAND_DI = PRESENT[0]
HAND_ZERO = ABSENT[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _session() -> dict:
    """Seven candidates in two locked batches (one a fraud), two absents: full transmission."""
    candidates = [
        {"number": number, "school": "0570001A", "class_group": f"1STMG{1 + i % 2}",
         "qualification": "STMG", "jury": "J057-01", "fraud": i == 6}
        for i, number in enumerate(PRESENT + ABSENT)
    ]  # fmt: skip
    scripts = [
        {"id": f"S-{i + 1:06d}", "candidate": number, "exam": "FRA-ECRIT", "subject": "SUJET-A",
         "batch": "L-0001" if i < 4 else "L-0002", "special_mark": None,
         "marks": {"Q1": 2 + i % 3, "Q2": 3.5, "P2": 3 + i}}
        for i, number in enumerate(PRESENT)
    ]  # fmt: skip
    user = {"academy": "NANCY-METZ", "school": None, "missions": [], "password": PASSWORD}
    return {
        "format": "harmonie-session/1",
        "session": {"code": "BAC2026", "label": "Baccalauréat 2026"},
        "academies": [{"code": "NANCY-METZ", "label": "Nancy-Metz"}],
        "departments": [{"code": "057", "label": "Moselle", "academy": "NANCY-METZ"}],
        "schools": [{"uai": "0570001A", "label": "Lycée Fabert", "department": "057"}],
        "qualifications": [{"code": "STMG", "label": "STMG"}],
        "juries": [{"code": "J057-01", "academy": "NANCY-METZ"}],
        "users": [
            {
                **user,
                "username": "coord.nm",
                "first_name": "Sabrina",
                "last_name": "Antonioli",
                "role": "academic_coordinator",
            },
            {
                **user,
                "username": "corr.dupont",
                "first_name": "Jean",
                "last_name": "Dupont",
                "role": "grader",
            },
            {
                **user,
                "username": "corr.martin",
                "first_name": "Léa",
                "last_name": "Martin",
                "role": "grader",
            },
        ],
        "exams": [
            {
                "code": "FRA-ECRIT",
                "label": "Écrit de français",
                "kind": "marked",
                "max_mark": 20,
                "step": 0.5,
                "special_marks": ["AB", "CB"],
                "scheme": [
                    {
                        "code": "P1",
                        "label": "Commentaire",
                        "max": 10,
                        "children": [{"code": "Q1", "max": 4}, {"code": "Q2", "max": 6}],
                    },
                    {"code": "P2", "label": "Dissertation", "max": 10},
                ],
                "subjects": ["SUJET-A"],
            }
        ],
        "candidates": candidates,
        "registrations": [
            {
                "candidate": number,
                "exam": "FRA-ECRIT",
                "attendance": "absent" if number in ABSENT else "present",
            }
            for number in PRESENT + ABSENT
        ],
        "batches": [
            {"code": "L-0001", "exam": "FRA-ECRIT", "grader": "corr.dupont", "locked": True},
            {"code": "L-0002", "exam": "FRA-ECRIT", "grader": "corr.martin", "locked": True},
        ],
        "scripts": scripts,
    }


class Stack:
    """The processes of one run; each is stopped by its own handle, never by name."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.logs = tmp_path / "logs"
        self.logs.mkdir()
        self.ports = {name: _free_port() for name in ("web", "results", "payroll")}
        self.url = f"http://127.0.0.1:{self.ports['web']}"
        self.results = httpx.Client(base_url=f"http://127.0.0.1:{self.ports['results']}", timeout=5)
        self.payroll = httpx.Client(base_url=f"http://127.0.0.1:{self.ports['payroll']}", timeout=5)
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'harmonie.sqlite3'}",
            "HARMONIE_VAR_DIR": str(tmp_path / "var"),
            "HARMONIE_RESULTS_URL": str(self.results.base_url),
            "HARMONIE_PAYROLL_URL": str(self.payroll.base_url),
            "HARMONIE_VALIDATION_CHUNK_SIZE": "2",
            "HARMONIE_VALIDATION_TIMEOUT": "3",
            "HARMONIE_VALIDATION_CONNECT_TIMEOUT": "1",
            "HARMONIE_VALIDATION_ADAPTER_ATTEMPTS": "1",
            "HARMONIE_VALIDATION_RETRY_BACKOFF": "1",
            "HARMONIE_VALIDATION_SUPERVISE_EVERY": "1",
            "HARMONIE_LOG_LEVEL": "WARNING",
        }

    def manage(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"manage.py {args[0]}: {done.stdout}{done.stderr}"

    def start(self, name: str, *command: str) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, *command], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )

    def start_worker(self) -> None:
        self.start(
            "worker", "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.2",
            "--no-startup-delay",
        )  # fmt: skip

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.results.close()
        self.payroll.close()

    def wait_until(self, check, *, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.1)
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.logs.iterdir())
        raise AssertionError(f"timed out waiting for {what}\n{logs}")

    def answers(self, client: httpx.Client, path: str) -> bool:
        try:
            return client.get(path).status_code < 500
        except httpx.TransportError:
            return False


@pytest.fixture
def stack(tmp_path):
    running = Stack(tmp_path)
    try:
        running.manage("migrate", "--no-input")
        session = tmp_path / "session.json"
        session.write_text(json.dumps(_session(), ensure_ascii=False), encoding="utf-8")
        running.manage("import_session", str(session))
        for system in ("results", "payroll"):
            running.start(
                system, "-m", f"standins.{system}", "--port", str(running.ports[system]),
                "--db", str(tmp_path / f"standin-{system}.sqlite3"), "--quiet",
            )  # fmt: skip
        running.start(
            "web", "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{running.ports['web']}",
            "--workers", "2", "--timeout", "60",
        )  # fmt: skip
        running.start_worker()
        for name, client in (("results", running.results), ("payroll", running.payroll)):
            running.wait_until(
                lambda c=client: running.answers(c, "/health"), timeout=20, what=name
            )
        web = httpx.Client(base_url=running.url, timeout=10)
        running.wait_until(lambda: running.answers(web, "/api/v1/docs"), timeout=30, what="web")
        web.close()
        yield running
    finally:
        running.stop()


def test_validation_survives_a_killed_worker(stack):
    results, payroll = stack.results, stack.payroll
    results.post(
        "/control/hand-entered",
        json={"exam": "FRA-ECRIT", "records": [
            {"candidate": HAND_DI, "mark": "DI"}, {"candidate": HAND_ZERO, "mark": 0}]},
    )  # fmt: skip
    payroll.post(
        "/control/hand-entered",
        json={"exam": "FRA-ECRIT", "records": [{"grader": "corr.dupont", "scripts": 5}]},
    )
    # Slow answers: the kill lands after the results system applied a message, before
    # Harmonie recorded its answer.
    results.post("/control/faults", json={"delay_after_apply": 2})

    web = httpx.Client(base_url=f"{stack.url}/api/v1", timeout=30)
    token = web.post("/auth/token", json={"username": "coord.nm", "password": PASSWORD})
    web.headers["Authorization"] = f"Bearer {token.json()['token']}"
    preview = web.get("/exams/FRA-ECRIT/validation-preview").json()
    assert (preview["mode"], preview["marks"], preview["work_done"]) == ("full", 9, 2)
    created = web.post("/exams/FRA-ECRIT/validations")
    assert created.status_code == 201, created.text
    validation_id = created.json()["id"]

    def applied() -> int:
        return results.get("/control/state").json()["messages"]["applied"]

    stack.wait_until(lambda: applied() >= 2, timeout=60, what="two results messages applied")
    stack.kill("worker")
    report = web.get(f"/validations/{validation_id}").json()
    assert report["status"] == "in_progress"
    assert report["systems"]["results"]["messages_done"] < report["systems"]["results"]["messages"]

    results.post("/control/faults", json={"delay_after_apply": 0})
    stack.start_worker()

    def finished() -> bool:
        return web.get(f"/validations/{validation_id}").json()["status"] != "in_progress"

    stack.wait_until(finished, timeout=90, what="the delivery to finish after the restart")
    report = web.get(f"/validations/{validation_id}").json()
    assert report["status"] == "delivered"
    marks = report["systems"]["results"]
    assert (marks["sent"], marks["delivered"], marks["kept"], marks["refused"]) == (9, 7, 2, 0)
    assert (marks["retrying"], marks["waiting"], marks["failed"]) == (0, 0, 0)
    assert {r["code"]: r["count"] for r in marks["reasons"]["kept"]} == {
        "hand_entered_di": 1,
        "hand_entered_zero_absent": 1,
    }
    work = report["systems"]["payroll"]
    assert (work["sent"], work["delivered"], work["failed"]) == (2, 2, 0)
    assert work["reasons"]["written"][0]["code"] == "hand_entered_kept_apart"

    # Exactly once: every key applied once; the interrupted one answered again from storage.
    state = results.get("/control/state", params={"exam": "FRA-ECRIT"}).json()
    assert len(state["keys"]) == 5
    assert all(key["applications"] == 1 for key in state["keys"])
    assert sum(key["replays"] for key in state["keys"]) >= 1
    rows = {row["candidate"]: row for row in state["records"]}
    assert (rows[HAND_DI]["mark"], rows[HAND_DI]["source"]) == ("DI", "hand")
    assert (rows[HAND_ZERO]["mark"], rows[HAND_ZERO]["source"]) == ("0", "hand")
    assert rows[ABSENT[1]]["mark"] == "AB"
    written = [row for row in rows.values() if row["source"] == "platform"]
    assert len(written) == 7
    assert all(row["writes"] == 1 for row in written)
    work_rows = payroll.get("/control/state", params={"exam": "FRA-ECRIT"}).json()["records"]
    assert {(r["grader"], r["source"], r["scripts"], r["writes"]) for r in work_rows} == {
        ("corr.dupont", "hand", 5, 0),
        ("corr.dupont", "platform", 4, 1),
        ("corr.martin", "platform", 3, 1),
    }
    web.close()
