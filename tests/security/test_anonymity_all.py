"""R-UNIT-2 across the whole app: no candidate number (the model stores no candidate name)
in any page, fragment, API response, export, download or log line — statistics, mass
harmonisation, history, validation and its reports, batches, the journal, the school's own
zip — for every role. The school's downloads are the school's, but name scripts by their
anonymous id too."""

import io
import logging
import re
import zipfile
import zlib

import pytest

from harmonie.referential.models import Candidate
from harmonie.statistics.exports import FORMATS, TABLES
from harmonie.validation.models import DeliveryMessage, MessageState
from tests.security.conftest import ROLES, World, api_headers, web_client
from tests.security.test_access_matrix import API, PAGES, Endpoint

pytestmark = pytest.mark.django_db

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def _texts(blob: bytes, name: str = "") -> list[str]:
    """The body as text, with zip members (xlsx, school zips) and deflated PDF streams."""
    texts = [name, blob.decode("utf-8", errors="replace")]
    if blob[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for member in archive.namelist():
                texts.extend(_texts(archive.read(member), member))
    for stream in _STREAM.findall(blob):
        try:
            texts.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return texts


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _identities() -> list[str]:
    field_names = {field.name for field in Candidate._meta.get_fields()}
    assert not field_names & {"first_name", "last_name", "name", "birth_date"}, (
        "a candidate name appeared in the model: add it to this scan"
    )
    return list(Candidate.objects.values_list("number", flat=True))


def _deliver_with_exceptions(world: World) -> None:
    """The results system kept or refused some marks: the report lists them (by script)."""
    for side in (world.own, world.other):
        messages = DeliveryMessage.objects.filter(validation_id=side.validation_id)
        for message in messages:
            refs = [
                record.get("candidate") or record.get("grader")
                for record in message.payload["records"]
            ]
            message.state = MessageState.DELIVERED
            message.written = max(len(refs) - 2, 0)
            message.kept, message.refused = 1, 1
            message.exceptions = [
                [refs[0], "kept", "hand_entered_di"],
                [refs[-1], "refused", "unknown_candidate"],
            ]
            message.save()


def _extra_urls(world: World) -> list[str]:
    exam = world.shared_exam.code
    urls = [f"/statistiques/{exam}/export/{table}.{fmt}" for table in TABLES for fmt in FORMATS]
    urls += [
        f"/copies/epreuve/{exam}/?sort={sort}" for sort in ("-mark", "school", "grader", "subject")
    ]
    urls += [
        f"/harmonisation/{exam}/?replay={world.own.harmonisation_id}",
        f"/statistiques/{exam}/?locked_only=1",
        f"/copies/{world.own.unlocked_script.public_id}/",
        f"/api/v1/scripts/{world.own.unlocked_script.public_id}",
        f"/api/v1/exams/{exam}/scripts?sort=-mark",
        # R-TRUST-1: the list export with its explanation column, both formats.
        f"/copies/epreuve/{exam}/export.xlsx",
        f"/copies/epreuve/{exam}/export.csv?sort=-mark",
        f"/copies/{world.own.script.public_id}/explication/",
    ]
    return urls


def test_no_candidate_number_in_any_response_or_log(world, caplog):
    """R-UNIT-2: every page and API endpoint, every role, both academies; then the logs."""
    _deliver_with_exceptions(world)
    caplog.set_level(logging.DEBUG)
    numbers = _identities()
    assert len(numbers) >= 10
    scanned: list[tuple[str, str, list[str]]] = []
    ok = 0

    def scan(role: str, endpoint: Endpoint, url: str, *, api_call: bool) -> None:
        nonlocal ok
        user = world.user(role)
        if api_call:
            client, headers = web_client(None), api_headers(user)
        else:
            client, headers = web_client(user), {}
        if endpoint.method == "get":
            response = client.get(url, **headers)
        elif api_call:
            response = getattr(client, endpoint.method)(
                url, endpoint.data or {}, content_type="application/json", **headers
            )
        else:
            response = client.post(url, endpoint.data or {}, **headers)
        ok += response.status_code < 300
        scanned.append((role, url, _texts(_body(response))))

    for role in ROLES:
        for table, api_call in ((PAGES, False), (API, True)):
            for endpoint in table.values():
                for side in (world.own, world.other):
                    scan(role, endpoint, endpoint.url(world, side), api_call=api_call)
        for url in _extra_urls(world):
            get = Endpoint("get", lambda w, s, url=url: url, {})
            scan(role, get, url, api_call=url.startswith("/api/"))
    assert ok > 150, "too few successful responses: the scan would prove nothing"
    scanned.append(("logs", "caplog", [caplog.text]))
    leaks = [
        f"{role} {url}: {number}"
        for role, url, texts in scanned
        for text in texts
        for number in numbers
        if number in text
    ]
    assert not leaks, "\n".join(sorted(set(leaks)))


def test_the_scan_sees_a_number_when_one_is_shown(world):
    """The scan itself: a body holding a candidate number inside a zip or a deflated PDF
    stream is caught (so a clean result means something)."""
    number = _identities()[0]
    pdf = b"%PDF\nstream\n" + zlib.compress(f"BT ({number}) Tj ET".encode()) + b"\nendstream\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("copie.pdf", pdf)
    assert any(number in text for text in _texts(buffer.getvalue()))
