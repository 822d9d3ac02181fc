"""Pages: preview and confirmation, delivery report with live progress (R-VAL-1..6)."""

import pytest
from django.urls import reverse

from harmonie.marking.batches import batch_unlock
from harmonie.validation.models import Validation
from tests.conftest import login_client

pytestmark = pytest.mark.django_db


def test_preview_page_full(world, coordinator_client):
    """R-VAL-2: the coordinator sees the mode before confirming; frauds as information."""
    response = coordinator_client.get(reverse("validation:preview", args=["FRA-ECRIT"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Transmission totale" in html
    assert 'data-testid="confirm"' in html
    assert "1 candidat signalé fraudeur" in html
    assert reverse("dashboard:home") in html  # R-ACC-2: the way back


def test_preview_work_done_names_graders(world, coordinator_client):
    """R-VAL-1, issue 13 item 11: the work done lists each grader by name, first then last
    (« Élodie Lambert »), not by username; the payroll records keep the username."""
    from harmonie.validation.selectors import validation_preview

    dupont, martin = world["graders"]
    dupont.first_name, dupont.last_name = "Élodie", "Lambert"
    dupont.save(update_fields=["first_name", "last_name"])
    response = coordinator_client.get(reverse("validation:preview", args=["FRA-ECRIT"]))
    html = response.content.decode()
    table = html[html.index('data-testid="work-done"') :]
    table = table[: table.index("</table>")]
    assert "<td>Élodie Lambert</td>" in table
    assert "corr.dupont" not in table
    assert f"<td>{martin.first_name} {martin.last_name}</td>" in table
    assert "corr.martin" not in table
    preview = validation_preview(exam=world["exam"], academy_id=world["academy"].pk)
    assert {row["grader"] for row in preview.work_done} == {"corr.dupont", "corr.martin"}


def test_preview_page_partial_lists_reasons(world, coordinator_client):
    """R-VAL-3."""
    batch_unlock(user=world["officer"], code="L-0002")
    html = coordinator_client.get(
        reverse("validation:preview", args=["FRA-ECRIT"])
    ).content.decode()
    assert "Transmission partielle" in html
    assert 'data-reason="unlocked_batch"' in html
    assert "Candidats dont la copie est dans un lot non verrouillé" in html


@pytest.mark.django_db(transaction=True)
def test_confirm_redirects_to_report(world, coordinator_client, standins, worker):
    response = coordinator_client.post(reverse("validation:execute", args=["FRA-ECRIT"]))
    worker.run()
    validation = Validation.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("validation:report", args=[validation.pk])
    html = coordinator_client.get(response.url).content.decode()
    assert "Transmission terminée" in html
    assert 'data-count="delivered">5<' in html
    assert "hx-trigger" not in html  # finished: no more polling


def test_report_polls_while_in_progress(world, coordinator_client, no_delivery):
    coordinator_client.post(reverse("validation:execute", args=["FRA-ECRIT"]))
    validation = Validation.objects.get()
    url = reverse("validation:report", args=[validation.pk])
    html = coordinator_client.get(url).content.decode()
    assert "Transmission en cours" in html
    assert 'hx-trigger="every 2s"' in html
    fragment = coordinator_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="report"')
    again = coordinator_client.post(reverse("validation:execute", args=["FRA-ECRIT"]), follow=True)
    assert "encore en cours de transmission" in again.content.decode()


@pytest.mark.django_db(transaction=True)
def test_retry_button(world, coordinator_client, standins, worker):
    standins.faults("results", fail_next=10)
    coordinator_client.post(reverse("validation:execute", args=["FRA-ECRIT"]))
    worker.run()
    validation = Validation.objects.get()
    html = coordinator_client.get(
        reverse("validation:report", args=[validation.pk])
    ).content.decode()
    assert 'data-testid="retry"' in html
    assert "503" in html
    standins.faults("results", fail_next=0)
    coordinator_client.post(reverse("validation:retry", args=[validation.pk]))
    worker.run()
    html = coordinator_client.get(reverse("validation:report", args=[validation.pk])).content
    assert "1 message(s) relancé(s)." in html.decode()
    assert "Transmission terminée" in html.decode()


def test_preview_out_of_scope_is_a_french_404(world):
    client = login_client(world["coordinator"])
    response = client.get(reverse("validation:preview", args=["INCONNUE"]))
    assert response.status_code == 404
    assert "introuvable ou hors de votre périmètre" in response.content.decode()


def test_preview_wrong_role_is_403(world):
    response = login_client(world["officer"]).get(reverse("validation:preview", args=["FRA-ECRIT"]))
    assert response.status_code == 403
    assert "coordinateur académique" in response.content.decode()


def test_report_of_another_academy_is_404(world, coordinator_client, no_delivery):
    coordinator_client.post(reverse("validation:execute", args=["FRA-ECRIT"]))
    validation = Validation.objects.get()
    client = login_client(world["foreign_coordinator"])
    assert client.get(reverse("validation:report", args=[validation.pk])).status_code == 404


def test_dashboard_shows_last_validation(world, coordinator_client, no_delivery):
    """The dashboard's "last validation" comes from `validation_last`."""
    html = coordinator_client.get(reverse("dashboard:home")).content.decode()
    assert "jamais" in html
    coordinator_client.post(reverse("validation:execute", args=["FRA-ECRIT"]))
    html = coordinator_client.get(reverse("dashboard:home")).content.decode()
    assert "jamais" not in html
    assert reverse("validation:preview", args=["FRA-ECRIT"]) in html
