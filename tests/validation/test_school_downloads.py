"""Schools download their candidates' scripts after the first validation (R-VAL-7), never
a fraud's script (R-VAL-8): one zip, a folder per class division, one PDF per script."""

import io
import zipfile

import pypdfium2 as pdfium
import pytest
from django.urls import reverse
from PIL import Image

from harmonie.marking.batches import batch_unlock
from harmonie.marking.models import Script
from harmonie.referential.scans import scan_file_write
from harmonie.validation.models import ArchiveState, SchoolArchive
from harmonie.validation.rendering import mark_lines, script_pdf
from harmonie.validation.services import validation_execute
from tests.conftest import login_client
from tests.validation.conftest import harmonise

pytestmark = pytest.mark.django_db

ZIP_A = "/api/v1/schools/0570001A/exams/FRA-ECRIT/scripts.zip"


@pytest.fixture
def scans(world, settings, tmp_path):
    """Real page scans: a generated PDF for S-000001 and S-000003, a PNG for S-000002."""
    settings.SCANS_ROOT = tmp_path / "scans"
    settings.MEDIA_ROOT = tmp_path / "media"
    folder = settings.SCANS_ROOT / "BAC2026"
    for public_id in ("S-000001", "S-000003"):
        scan_file_write(directory=_mkdir(folder), name=public_id, exam="FRA-ECRIT", seed=7)
        Script.objects.filter(public_id=public_id).update(pages=[f"BAC2026/{public_id}.pdf"])
    Image.new("L", (1654, 2338), 255).save(folder / "S-000002.png")
    Script.objects.filter(public_id="S-000002").update(
        pages=["BAC2026/S-000002.png"],
        annotations=[
            {"kind": "comment", "page": 0, "x": 0.2, "y": 0.3, "text": "Copie blanche"},
            {"kind": "tick", "page": 0, "x": 0.15, "y": 0.4},
            {"kind": "appreciation", "text": "Aucune réponse."},
        ],
    )
    return folder


def _mkdir(path):
    path.mkdir(parents=True, exist_ok=True)
    return path


def _zip(response) -> zipfile.ZipFile:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return zipfile.ZipFile(io.BytesIO(content))


@pytest.fixture
def validated(world, no_delivery):
    return validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")


@pytest.fixture
def api(client, api_token):
    def get(user, path: str):
        return client.get(path, headers={"Authorization": f"Bearer {api_token(user)}"})

    return get


def test_before_first_validation_the_download_does_not_exist(world, api):
    """R-VAL-7: 404 with a French explanation, on the API and on the page."""
    response = api(world["school_a"], ZIP_A)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_validated"
    assert "pas encore disponibles" in response.json()["error"]["message"]
    client = login_client(world["school_a"])
    page = client.get(reverse("validation:school_exam", args=["FRA-ECRIT"]))
    assert page.status_code == 404
    assert 'data-testid="not-yet"' in page.content.decode()
    assert "validé l'harmonisation au moins une fois" in page.content.decode()
    listing = client.get(reverse("validation:school_scripts")).content.decode()
    assert "pas encore disponible" in listing
    assert client.get(reverse("validation:school_zip", args=["FRA-ECRIT"])).status_code == 404


def test_zip_has_a_folder_per_division_and_no_fraud(world, scans, validated, api):
    """R-VAL-7, R-VAL-8: folder names, file count, the fraud's script left out."""
    response = api(world["school_a"], ZIP_A)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="copies-0570001A-FRA-ECRIT.zip"' in response["Content-Disposition"]
    archive = _zip(response)
    assert sorted(archive.namelist()) == [
        "FRA-ECRIT/1STMG1/S-000001.pdf",
        "FRA-ECRIT/1STMG2/S-000002.pdf",
    ]
    assert archive.testzip() is None
    for name in archive.namelist():
        document = pdfium.PdfDocument(archive.read(name))
        assert len(document) >= 1
        document.close()
    names = " ".join(archive.namelist())
    assert "S-000003" not in names  # fraud (R-VAL-8)
    assert "S-000004" not in names  # another school's candidate
    assert "0000000001" not in names  # anonymous ids in file names


def test_pdf_pages_follow_the_scan(world, scans, validated):
    script = Script.objects.get(public_id="S-000001")
    source = pdfium.PdfDocument(str(scans / "S-000001.pdf"))
    pdf = pdfium.PdfDocument(script_pdf(script=script, exam=world["exam"], scheme=_scheme(world)))
    assert len(pdf) == len(source)
    pdf.close()
    source.close()


def _scheme(world):
    from harmonie.referential.selectors import exam_scheme

    return exam_scheme(exam=world["exam"])


def test_marks_stamped_are_the_final_ones(world):
    harmonise(world["scripts"][0], "1.5")
    script = Script.objects.get(public_id="S-000001")
    lines = mark_lines(script, world["exam"], _scheme(world))
    assert lines == [
        "Note finale : 16 / 20",
        "Commentaire : 7,5 / 10 (Q1 3, Q2 4,5)",
        "Dissertation : 7 / 10",
        "Harmonisation : +1,5",
    ]
    blank = Script.objects.get(public_id="S-000002")
    assert mark_lines(blank, world["exam"], _scheme(world)) == ["Note : CB"]


def test_another_schools_zip_is_404(world, validated, api):
    response = api(world["school_a"], "/api/v1/schools/0570002B/exams/FRA-ECRIT/scripts.zip")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("user", ["coordinator", "officer"])
def test_only_school_accounts_download(world, validated, api, user):
    assert api(world[user], ZIP_A).status_code == 403


def test_scripts_of_unlocked_batches_wait(world, scans, validated, api):
    """A batch unlocked for re-marking: its scripts leave the zip until locked again."""
    batch_unlock(user=world["officer"], code="L-0001")
    assert _zip(api(world["school_a"], ZIP_A)).namelist() == []


@pytest.mark.django_db(transaction=True)
def test_big_school_zip_is_built_in_the_background(world, scans, api, settings, worker):
    """R-VAL-7: above `zip_stream_max_scripts`, the worker builds the zip (queue `zips`)."""
    settings.VALIDATION = {"zip_stream_max_scripts": 1}
    # The deliveries wait in their queue: only the zips queue is run here.
    validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    first = api(world["school_a"], ZIP_A)
    assert first.status_code == 202
    assert first["Retry-After"] == "10"
    archive = SchoolArchive.objects.get()
    assert archive.state == ArchiveState.BUILDING
    assert worker.run(queues=("zips",)) == 1
    archive.refresh_from_db()
    assert archive.state == ArchiveState.READY
    assert archive.script_count == 2
    second = api(world["school_a"], ZIP_A)
    assert second.status_code == 200
    assert sorted(_zip(second).namelist()) == [
        "FRA-ECRIT/1STMG1/S-000001.pdf",
        "FRA-ECRIT/1STMG2/S-000002.pdf",
    ]
    client = login_client(world["school_a"])
    page = client.get(reverse("validation:school_exam", args=["FRA-ECRIT"])).content.decode()
    assert 'data-state="ready"' in page
    assert "1STMG2" in page


def test_school_pages_after_validation(world, scans, validated):
    client = login_client(world["school_a"])
    listing = client.get(reverse("validation:school_scripts")).content.decode()
    assert 'data-testid="download-FRA-ECRIT"' in listing
    response = client.get(reverse("validation:school_zip", args=["FRA-ECRIT"]))
    assert response.status_code == 200
    assert len(_zip(response).namelist()) == 2
    other = login_client(world["school_b"]).get(
        reverse("validation:school_zip", args=["FRA-ECRIT"])
    )
    assert [n.split("/")[-1] for n in _zip(other).namelist()] == ["S-000004.pdf"]


def test_school_pages_are_for_school_accounts(world):
    response = login_client(world["coordinator"]).get(reverse("validation:school_scripts"))
    assert response.status_code == 403


def test_annotations_and_marks_are_drawn_in_red(world, scans):
    """The grader's final annotations and the marks are on the pages the school gets."""
    script = Script.objects.get(public_id="S-000002")
    annotations = script.annotations

    def red_pixels(annotations) -> int:
        script.annotations = annotations
        document = pdfium.PdfDocument(script_pdf(script=script, exam=world["exam"], scheme=[]))
        image = document[0].render(scale=1).to_pil().convert("RGB")
        document.close()
        return sum(1 for r, g, b in image.get_flattened_data() if r > 150 and g < 90 and b < 90)

    marks_only = red_pixels([])
    assert marks_only > 0  # the mark box
    assert red_pixels(annotations) > marks_only
