"""What both stand-ins share: HTTP, idempotent messages, faults on demand, test controls.

Protocol (what Harmonie's adapters speak, API.md §3):

- ``POST <records path>`` with an ``Idempotency-Key`` header and a JSON body
  ``{"exam": ..., "records": [...], ...}`` answers ``200 {"key", "replayed", "results":
  [{"ref", "outcome", "reason"}]}``, one result per record in order; ``outcome`` is
  ``written``, ``kept`` or ``refused``. A key seen before with the same body answers the
  stored result without applying anything again (``replayed: true``); with another body,
  ``422``. A body that is not such an object answers ``400`` and nothing is applied.
- ``GET /health``.
- Controls for tests and the demo, under ``/control/``: ``hand-entered`` (values typed by
  hand in the remote system), ``refuse`` (refs the system will refuse, with the reason),
  ``faults`` (fail, hang past the client's time-out always or at random, be slow, answer
  garbage, drop the answer after applying), ``state`` (what is stored, how often each record was written and
  each message applied), ``reset``.
"""

import argparse
import hashlib
import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_BODY_BYTES = 64 * 1024 * 1024
_IN_CLAUSE = 500  # SQLite's default limit on bound variables is 999

Result = tuple[str, str, str | None]  # ref, outcome, reason


class BadMessage(Exception):
    """The message as a whole is unreadable: refused with 400, nothing applied."""


@dataclass
class Faults:
    """What the stand-in has been told to do wrong. Counters are used up one request each."""

    fail_next: int = 0  # answer 503 before applying
    fail_rate: float = 0.0  # probability of a 503 before applying
    delay: float = 0.0  # seconds to wait before handling a message (slow system)
    hang: float = 0.0  # seconds to wait before answering anything (past the client's time-out)
    garbage_next: int = 0  # apply, then answer 200 with a body that is not the protocol
    drop_next: int = 0  # apply, then close the connection without answering
    delay_after_apply: float = 0.0  # apply, then wait this long before answering
    # Occasional time-outs: with these probabilities, wait `hang_for` seconds before
    # applying (nothing applied) or after applying (applied, the answer comes too late).
    hang_rate: float = 0.0
    late_rate: float = 0.0
    hang_for: float = 0.0
    # The same two time-outs for the next requests, for certain (a test that must see them).
    hang_next: int = 0
    late_next: int = 0

    def update(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise BadMessage(f"réglage inconnu : {name}")
            kind = type(getattr(self, name))
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise BadMessage(f"{name} : un nombre positif est attendu")
            setattr(self, name, kind(value))


def body_hash(body: bytes) -> str:
    """Hash of the canonical JSON body: the same message re-serialised is the same message."""
    canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class StandIn:
    """A remote system: its database, its rules for applying records, its faults."""

    name = ""
    records_path = ""
    ref_field = ""
    schema = ""

    def __init__(self, db_path: str | Path) -> None:
        self.lock = threading.Lock()
        self.faults = Faults()
        self.random = random.Random()
        self.counters = {"received": 0, "applied": 0, "replayed": 0, "failed": 0, "slowed": 0}
        self.db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS messages (
                key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, response TEXT NOT NULL,
                applications INTEGER NOT NULL DEFAULT 1, replays INTEGER NOT NULL DEFAULT 0,
                received_at REAL NOT NULL
            );
            CREATE TABLE IF NOT EXISTS refusals (ref TEXT PRIMARY KEY, reason TEXT NOT NULL);
            """
            + self.schema
        )

    # --- what each system defines -------------------------------------------------------

    def records_apply(self, exam: str, envelope: dict, records: list) -> list[Result]:
        raise NotImplementedError

    def hand_enter(self, exam: str, records: list) -> int:
        raise NotImplementedError

    # The system's stored rows, as `state` shows them: table, columns, order.
    row_table = ""
    row_columns: tuple[str, ...] = ()
    row_order = ""

    def tables(self) -> Iterable[str]:
        raise NotImplementedError

    # --- shared behaviour ----------------------------------------------------------------

    def rows(self, exam: str | None) -> list[dict]:
        # Table and column names are the class's constants; the exam is bound.
        query = f"SELECT {', '.join(self.row_columns)} FROM {self.row_table}"  # noqa: S608
        params: tuple = ()
        if exam:
            query += " WHERE exam = ?"
            params = (exam,)
        rows = self.db.execute(f"{query} ORDER BY {self.row_order}", params)
        return [dict(zip(self.row_columns, row, strict=True)) for row in rows]

    def refusals(self, refs: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(refs), _IN_CLAUSE):
            part = refs[start : start + _IN_CLAUSE]
            marks = ",".join("?" * len(part))
            found.update(
                self.db.execute(
                    f"SELECT ref, reason FROM refusals WHERE ref IN ({marks})",  # noqa: S608
                    part,
                ).fetchall()
            )
        return found

    def message_apply(self, key: str, body: bytes) -> tuple[int, dict, bool]:
        """Apply a message once: (status, answer, replayed). Runs under the lock."""
        try:
            envelope = json.loads(body)
        except ValueError as error:
            raise BadMessage("corps JSON illisible") from error
        if not isinstance(envelope, dict):
            raise BadMessage("un objet JSON est attendu")
        exam = envelope.get("exam")
        records = envelope.get("records")
        if not isinstance(exam, str) or not exam:
            raise BadMessage("« exam » manquant")
        if not isinstance(records, list):
            raise BadMessage("« records » doit être une liste")
        digest = body_hash(body)
        stored = self.db.execute(
            "SELECT body_hash, response FROM messages WHERE key = ?", (key,)
        ).fetchone()
        if stored is not None:
            if stored[0] != digest:
                return (
                    422,
                    {
                        "error": {
                            "code": "idempotency_key_reused",
                            "message": "clé d'idempotence déjà utilisée pour un autre message",
                        }
                    },
                    False,
                )
            self.db.execute("UPDATE messages SET replays = replays + 1 WHERE key = ?", (key,))
            self.counters["replayed"] += 1
            answer = json.loads(stored[1])
            answer["replayed"] = True
            return 200, answer, True
        self.db.execute("BEGIN IMMEDIATE")
        try:
            results = self.records_apply(exam, envelope, records)
            answer = {
                "key": key,
                "replayed": False,
                "results": [
                    {"ref": ref, "outcome": outcome, "reason": reason}
                    for ref, outcome, reason in results
                ],
            }
            self.db.execute(
                "INSERT INTO messages (key, body_hash, response, received_at) VALUES (?, ?, ?, ?)",
                (key, digest, json.dumps(answer), time.time()),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.counters["applied"] += 1
        return 200, answer, False

    def state(self, exam: str | None) -> dict:
        keys = [
            {"key": key, "applications": applications, "replays": replays}
            for key, applications, replays in self.db.execute(
                "SELECT key, applications, replays FROM messages ORDER BY received_at"
            )
        ]
        return {
            "system": self.name,
            "records": self.rows(exam),
            "messages": dict(self.counters),
            "keys": keys,
            "faults": asdict(self.faults),
        }

    def reset(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        for table in ("messages", "refusals", *self.tables()):
            self.db.execute(f"DELETE FROM {table}")  # noqa: S608
        self.db.execute("COMMIT")
        self.faults = Faults()
        self.counters = dict.fromkeys(self.counters, 0)


def record_refs(records: list, field: str) -> list[str]:
    return [r[field] for r in records if isinstance(r, dict) and isinstance(r.get(field), str)]


def existing_rows(db: sqlite3.Connection, sql: str, exam: str, refs: list[str]) -> dict[str, tuple]:
    """Rows of `exam` for these refs, by ref: one query per 500 refs, not one per record."""
    found: dict[str, tuple] = {}
    for start in range(0, len(refs), _IN_CLAUSE):
        part = refs[start : start + _IN_CLAUSE]
        query = sql.format(marks=",".join("?" * len(part)))
        for row in db.execute(query, [exam, *part]):
            found[row[0]] = row[1:]
    return found


class Handler(BaseHTTPRequestHandler):
    server: "StandInServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)

    def _answer(self, status: int, payload: Any, *, raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if raw is None else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting (its time-out): what was applied stays applied.
            self.close_connection = True

    def _error(self, status: int, code: str, message: str) -> None:
        self._answer(status, {"error": {"code": code, "message": message}})

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self._error(413, "too_large", "message trop volumineux")
            return None
        return self.rfile.read(length)

    def do_GET(self) -> None:
        standin = self.server.standin
        url = urlsplit(self.path)
        if url.path == "/health":
            self._answer(200, {"ok": True, "system": standin.name})
        elif url.path == "/control/state":
            exam = parse_qs(url.query).get("exam", [None])[0]
            with standin.lock:
                self._answer(200, standin.state(exam))
        elif url.path == "/control/faults":
            self._answer(200, asdict(standin.faults))
        else:
            self._error(404, "not_found", "adresse inconnue")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        standin = self.server.standin
        body = self._body()
        if body is None:
            return
        if url.path == standin.records_path:
            self._message(body)
            return
        controls: dict[str, Callable[[Any], Any]] = {
            "/control/hand-entered": self._hand_entered,
            "/control/refuse": self._refuse,
            "/control/faults": self._faults,
            "/control/reset": lambda _: standin.reset() or {"ok": True},
        }
        control = controls.get(url.path)
        if control is None:
            self._error(404, "not_found", "adresse inconnue")
            return
        try:
            data = json.loads(body or b"{}")
            with standin.lock:
                self._answer(200, control(data))
        except (BadMessage, ValueError, TypeError, KeyError) as error:
            self._error(400, "bad_request", str(error))

    def _hand_entered(self, data: dict) -> dict:
        standin = self.server.standin
        return {"entered": standin.hand_enter(data["exam"], data["records"])}

    def _refuse(self, data: dict) -> dict:
        standin = self.server.standin
        refs = data["refs"]
        if not isinstance(refs, dict):
            raise BadMessage("refs : un objet {ref: motif} est attendu")
        standin.db.executemany(
            "INSERT OR REPLACE INTO refusals (ref, reason) VALUES (?, ?)", refs.items()
        )
        return {"refused": len(refs)}

    def _faults(self, data: dict) -> dict:
        standin = self.server.standin
        standin.faults.update(data)
        return asdict(standin.faults)

    def _message(self, body: bytes) -> None:
        standin = self.server.standin
        faults = standin.faults
        with standin.lock:
            standin.counters["received"] += 1
            # One request takes one of the certain time-outs, the first asked for first.
            hang_now, late_now = faults.hang_next > 0, False
            if hang_now:
                faults.hang_next -= 1
            elif faults.late_next > 0:
                faults.late_next -= 1
                late_now = True
            hang_now = hang_now or (
                faults.hang_rate > 0 and standin.random.random() < faults.hang_rate
            )
            late_now = late_now or (
                faults.late_rate > 0 and standin.random.random() < faults.late_rate
            )
            standin.counters["slowed"] += int(hang_now) + int(late_now)
        if faults.hang:
            time.sleep(faults.hang)
        if hang_now:
            time.sleep(faults.hang_for)
        if faults.delay:
            time.sleep(faults.delay)
        key = self.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 200:
            self._error(400, "idempotency_key_missing", "en-tête Idempotency-Key manquant")
            return
        with standin.lock:
            if faults.fail_next or standin.random.random() < faults.fail_rate:
                faults.fail_next = max(0, faults.fail_next - 1)
                standin.counters["failed"] += 1
                self._error(503, "unavailable", "service momentanément indisponible")
                return
            try:
                status, answer, _ = standin.message_apply(key, body)
            except BadMessage as error:
                status, answer = 400, {"error": {"code": "bad_request", "message": str(error)}}
            garbage = status == 200 and faults.garbage_next > 0
            drop = status == 200 and not garbage and faults.drop_next > 0
            if garbage:
                faults.garbage_next -= 1
            if drop:
                faults.drop_next -= 1
        if status == 200 and faults.delay_after_apply:
            time.sleep(faults.delay_after_apply)
        if status == 200 and late_now:
            time.sleep(faults.hang_for)
        if garbage:
            self._answer(200, None, raw=b"<html><body>Erreur interne</body></html>")
        elif drop:
            self.close_connection = True
            self.connection.close()
        else:
            self._answer(status, answer)


class StandInServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many messages arrive back to back from several workers.
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], standin: StandIn, *, quiet: bool) -> None:
        self.standin = standin
        self.quiet = quiet
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def serve_in_thread(
    factory: type[StandIn], db_path: str | Path, *, host: str = "127.0.0.1", port: int = 0
) -> StandInServer:
    """Start a stand-in on a free port in a background thread (tests); `.shutdown()` stops it."""
    server = StandInServer((host, port), factory(db_path), quiet=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=factory.name, daemon=True
    ).start()
    return server


def main(factory: type[StandIn], *, default_port: int, argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=f"Stand-in: {factory.name}")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--db", default=f"var/standin-{factory.name}.sqlite3")
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    args = parser.parse_args(argv)
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    server = StandInServer((args.host, args.port), factory(args.db), quiet=args.quiet)
    print(f"{factory.name} stand-in on {server.url} (database {args.db})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
