"""Browser (issue 13, item 5): a school's download is a labelled button; a big school's zip
shows a progress state that asks again by itself and starts the download when the zip is
ready, with polite live announcements (R-VAL-7; R-VAL-8: the fraud's script is not in it)."""

import io
import os
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from PIL import Image

from harmonie.marking.models import Script
from harmonie.validation.archives import school_archive_build
from harmonie.validation.models import ArchiveState, SchoolArchive
from harmonie.validation.services import validation_execute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def validated_world(world, no_delivery, settings, tmp_path):
    settings.SCANS_ROOT = tmp_path / "scans"
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "scans").mkdir()
    Image.new("L", (400, 560), 255).save(tmp_path / "scans" / "page.png")
    Script.objects.update(pages=["page.png"])
    validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    return world


def _shots(tmp_path) -> Path:
    """Screenshots go to HARMONIE_SCREENSHOTS when set (to look at them), else tmp_path."""
    folder = Path(os.environ.get("HARMONIE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _phone_or_desktop(browser, live_server, width):
    context = browser.new_context(
        base_url=live_server.url,
        locale="fr-FR",
        viewport={"width": width, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(15000)
    return context


def _login(page, user):
    page.goto("/compte/connexion/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "harmonie2026")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_small_school_gets_a_labelled_download_button(
    browser, live_server, validated_world, tmp_path
):
    context = _phone_or_desktop(browser, live_server, 390)
    page = context.new_page()
    _login(page, validated_world["school_a"])
    page.goto("/validation/etablissement/FRA-ECRIT/")
    button = page.get_by_role("link", name="Télécharger le zip (2 copies)")
    box = button.bounding_box()
    assert box is not None
    assert box["width"] > 120  # a labelled button, not a 40×40 icon
    assert button.inner_text().strip() == "Télécharger le zip (2 copies)"
    page.screenshot(path=str(_shots(tmp_path) / "school-small-390.png"), full_page=True)
    with page.expect_download() as download:
        button.click()
    names = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())).namelist()
    assert len(names) == 2  # S-000003 is a fraud's (R-VAL-8)
    context.close()


def test_big_school_zip_turns_into_the_download_by_itself(
    browser, live_server, validated_world, settings, tmp_path
):
    settings.VALIDATION = {"zip_stream_max_scripts": 1}
    context = _phone_or_desktop(browser, live_server, 1400)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, validated_world["school_a"])
    page.goto("/validation/etablissement/FRA-ECRIT/")
    region = page.get_by_test_id("archive")
    assert region.get_attribute("aria-live") == "polite"
    prepare = page.get_by_role("button", name="Préparer le fichier zip (2 copies)")
    prepare.click()
    page.wait_for_selector("[data-testid=archive-state][data-state=building]")
    assert "Préparation du fichier zip (2 copies)" in region.inner_text()
    assert page.locator("#archive progress").count() == 1
    page.screenshot(path=str(_shots(tmp_path) / "school-building-1400.png"), full_page=True)
    archive = SchoolArchive.objects.get()
    assert archive.state == ArchiveState.BUILDING
    # The worker builds the zip; the page's next poll (every 3 s) starts the download.
    with page.expect_download(timeout=12000) as download:
        assert school_archive_build(archive_id=archive.pk) == ArchiveState.READY
    assert download.value.suggested_filename.endswith(".zip")
    assert "le téléchargement commence" in region.inner_text()
    page.screenshot(path=str(_shots(tmp_path) / "school-ready-1400.png"), full_page=True)
    # One download, not one per poll: the ready state does not poll.
    page.wait_for_timeout(3500)
    assert page.locator("[data-state=ready]").count() == 1
    assert errors == []
    context.close()


def test_school_dashboard_says_what_it_can_do_and_since_when(
    browser, live_server, world, no_delivery, tmp_path
):
    """Issue 13 item 12: a school's dashboard has no batch or harmonisation count; it says
    the download is not there before the first validation, then « disponible depuis le … »
    (the first validation's date, R-VAL-7) with the way to it."""
    context = _phone_or_desktop(browser, live_server, 1400)
    page = context.new_page()
    _login(page, world["school_a"])
    card = page.get_by_test_id("exam-FRA-ECRIT")
    text = card.inner_text()
    assert "Lots verrouillés" not in text
    assert "Harmonisations" not in text
    assert "Dernière validation" not in text
    assert "pas encore disponible" in card.get_by_test_id("school-availability").inner_text()
    assert card.get_by_role("link", name="Télécharger les copies").count() == 0
    first = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    page.reload()
    card = page.get_by_test_id("exam-FRA-ECRIT")
    day = first.created_at.astimezone(timezone.get_current_timezone())
    assert card.get_by_test_id("school-availability").inner_text() == (
        f"disponible depuis le {date_format(day, 'j F Y')}"
    )
    card.get_by_role("link", name="Télécharger les copies").click()
    page.wait_for_url("**/validation/etablissement/FRA-ECRIT/")
    page.screenshot(path=str(_shots(tmp_path) / "school-dashboard-1400.png"), full_page=True)
    context.close()
