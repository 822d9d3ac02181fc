"""Unit-harmonisation and grading pages (R-UNIT-1..5, R-ACC-2)."""

import pytest
from django.urls import reverse

from harmonie.marking.models import Batch, Script
from tests.conftest import login_client
from tests.factories import BatchFactory, ExamFactory, ScriptFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_list_page_shows_locked_scripts_with_filters_in_url(academy_world):
    """R-UNIT-1, R-UNIT-3: list of locked batches; filters kept in the URL."""
    world = academy_world
    first = world["scripts"][0]
    client = login_client(world["coordinator"])
    url = reverse("marking:script_list", args=["FRA-ECRIT"])
    html = client.get(url).content.decode()
    for script in world["scripts"][:3]:
        assert script.public_id in html
    assert world["scripts"][3].public_id not in html
    filtered = client.get(url, {"schools": first.school.uai, "sort": "-mark"}).content.decode()
    assert first.public_id in filtered
    assert world["scripts"][1].public_id not in filtered
    # The viewer link carries the list state, for next/previous in the same order.
    assert f"?schools={first.school.uai}&amp;sort=-mark" in filtered


def test_list_page_htmx_renders_the_fragment(academy_world):
    """R-UNIT-3: live filter/sort/pagination swap only the results fragment (htmx)."""
    client = login_client(academy_world["coordinator"])
    response = client.get(
        reverse("marking:script_list", args=["FRA-ECRIT"]), {"sort": "mark"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="script-results"')
    table = client.get(
        reverse("marking:script_list", args=["FRA-ECRIT"]),
        {"sort": "-mark"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="script-table-region",
    ).content.decode()
    assert table.lstrip().startswith('<div id="script-table-region"')
    assert 'data-testid="linked-filters"' not in table
    assert 'name="sort" value="-mark"' in table


def test_list_page_links_to_statistics_and_dashboard(academy_world):
    """R-UNIT-5, R-ACC-2: the statistics page is one click away; way back to dashboard."""
    html = (
        login_client(academy_world["coordinator"])
        .get(reverse("marking:script_list", args=["FRA-ECRIT"]))
        .content.decode()
    )
    assert "Tableau de bord" in html
    try:
        statistics = reverse("statistics:exam", args=["FRA-ECRIT"])
    except Exception:
        pytest.skip("statistics:exam pas encore disponible")
    assert statistics in html


def test_list_page_without_locked_batch_explains(academy_world):
    """R-UNIT-5: no locked batch, a French explanation instead of the list."""
    world = academy_world
    Batch.objects.update(locked=False)
    Script.objects.update(locked=False)
    html = (
        login_client(world["coordinator"])
        .get(reverse("marking:script_list", args=["FRA-ECRIT"]))
        .content.decode()
    )
    assert "Aucun lot verrouillé" in html
    assert 'data-testid="script-table"' not in html


def test_list_page_bad_filter_is_a_french_400(academy_world):
    """Bad input (R-UNIT-3): an unknown filter value is a French message and a 400."""
    response = login_client(academy_world["coordinator"]).get(
        reverse("marking:script_list", args=["FRA-ECRIT"]), {"schools": "9999999X"}
    )
    assert response.status_code == 400
    assert "Établissement « 9999999X » inconnu" in response.content.decode()


def test_list_page_refused_to_other_roles(academy_world):
    member = UserFactory(
        member=True, academy=academy_world["academy"], missions=[academy_world["exam"]]
    )
    response = login_client(member).get(reverse("marking:script_list", args=["FRA-ECRIT"]))
    assert response.status_code == 403


def test_viewer_shows_editor_and_neighbours(academy_world):
    """R-UNIT-4: the viewer with the editor; next/previous follow the list order."""
    world = academy_world
    first, second, blank, _unlocked = world["scripts"]
    client = login_client(world["coordinator"])
    html = client.get(
        reverse("marking:script_viewer", args=[first.public_id]) + "?sort=-mark"
    ).content.decode()
    assert 'data-testid="leaf-Q1"' in html
    assert 'data-testid="save"' in html
    # -mark order: second (19), first (14.5), then blank (CB: special marks last, both
    # directions, issue 13 item 8)
    assert reverse("marking:script_viewer", args=[second.public_id]) + "?sort=-mark" in html
    assert reverse("marking:script_viewer", args=[blank.public_id]) + "?sort=-mark" in html


def test_viewer_refuses_unlocked_batch(academy_world):
    """R-UNIT-1: a script of an unlocked batch cannot be harmonised (clear error)."""
    response = login_client(academy_world["coordinator"]).get(
        reverse("marking:script_viewer", args=[academy_world["scripts"][3].public_id])
    )
    assert response.status_code == 409
    assert "n&#x27;est pas verrouillé" in response.content.decode()


def test_page_image_rendered_from_pdf_and_cached(academy_world, settings, tmp_path):
    """Viewer: PDF pages rendered server-side to PNG, cached on disk, access checked."""
    from harmonie.referential.scans import scan_render

    settings.SCANS_ROOT = tmp_path / "scans"
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "s.pdf").write_bytes(scan_render(name="S-1", exam="FRA-ECRIT", seed=1))
    world = academy_world
    script = world["scripts"][0]
    Script.objects.filter(pk=script.pk).update(pages=["s.pdf"])
    client = login_client(world["coordinator"])
    url = reverse("marking:page_image", args=[script.public_id, 1])
    response = client.get(url, {"width": 300})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\x89PNG")
    assert list((tmp_path / "media" / "page-cache").rglob("*.png"))
    assert client.get(reverse("marking:page_image", args=[script.public_id, 9])).status_code == 404
    assert client.get(url, {"width": "large"}).status_code == 400
    other = UserFactory(coordinator=True, academy__code="OTHER-ACAD")
    assert login_client(other).get(url).status_code == 404


def test_grader_marks_and_locks_batch(academy_world):
    """Issue 3 part 5: a grader opens his batch, marks with the same editor, locks it."""
    world = academy_world
    batch = world["unlocked_batch"]
    grader = batch.grader
    client = login_client(grader)
    html = client.get(reverse("marking:grader_batches")).content.decode()
    assert batch.code in html
    html = client.get(reverse("marking:grader_batch", args=[batch.code])).content.decode()
    script = world["scripts"][3]
    assert script.public_id in html
    viewer = client.get(reverse("marking:script_viewer", args=[script.public_id])).content.decode()
    assert 'data-testid="save"' in viewer
    response = client.put(
        f"/api/v1/scripts/{script.public_id}/marking",
        {"marks": {"Q1": 2, "Q2": 2, "P2": 3}, "annotations": []},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    response = client.post(reverse("marking:grader_batch_lock", args=[batch.code]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.locked
    assert Script.objects.get(pk=script.pk).locked
    viewer = client.get(reverse("marking:script_viewer", args=[script.public_id])).content.decode()
    assert 'data-testid="read-only"' in viewer


def test_grader_cannot_lock_someone_elses_batch(academy_world):
    """R-ACC-1: a grader locks only his own batch (another one is absent, 404)."""
    world = academy_world
    stranger = BatchFactory(exam=world["exam"], academy=world["academy"], unlocked=True).grader
    response = login_client(stranger).post(
        reverse("marking:grader_batch_lock", args=[world["unlocked_batch"].code])
    )
    assert response.status_code == 404
    assert not Batch.objects.get(pk=world["unlocked_batch"].pk).locked


def test_harmonisation_only_scripts_are_listed(db):
    """Harmonisation-only exams have no batches; their scripts count as locked."""
    exam = ExamFactory(code="PHILO-HO", harmonisation_only=True)
    script = ScriptFactory(batch=None, exam=exam)
    coordinator = UserFactory(coordinator=True, academy=script.academy)
    html = (
        login_client(coordinator)
        .get(reverse("marking:script_list", args=["PHILO-HO"]))
        .content.decode()
    )
    assert script.public_id in html


def test_page_image_from_an_image_scan(academy_world, settings, tmp_path):
    """Viewer: image scans are re-encoded with Pillow at the asked width."""
    from io import BytesIO

    from PIL import Image

    settings.SCANS_ROOT = tmp_path / "scans"
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "scans").mkdir()
    Image.new("L", (400, 600), 255).save(tmp_path / "scans" / "p1.png")
    world = academy_world
    script = world["scripts"][0]
    Script.objects.filter(pk=script.pk).update(pages=["p1.png", "../outside.png"])
    response = login_client(world["coordinator"]).get(
        reverse("marking:page_image", args=[script.public_id, 1]), {"width": 150}
    )
    assert response.status_code == 200
    image = Image.open(BytesIO(b"".join(response.streaming_content)))
    assert image.width == 160  # rounded up to the nearest cached width
    # A path leaving the scans folder is never served.
    assert (
        login_client(world["coordinator"])
        .get(reverse("marking:page_image", args=[script.public_id, 2]))
        .status_code
        == 404
    )
