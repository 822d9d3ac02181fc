"""Pages of the exact undo (R-MASS-14), reasons (R-FAIR-5), crossings (R-FAIR-3), the
A/B comparison (R-FAIR-4) and drafts loaded into the editor (R-FAIR-2)."""

import pytest

from harmonie.harmonisation.forms import draft_encode
from harmonie.harmonisation.models import Harmonisation
from harmonie.harmonisation.selectors import harmonisation_get
from harmonie.harmonisation.services import harmonisation_execute, simulation_create
from harmonie.marking.models import Script
from tests.conftest import login_client

pytestmark = pytest.mark.django_db

URL = "/harmonisation/FRA-ECRIT/"
RAISE_2 = {"filter": {}, "action": {"type": "raise", "points": 2}}


@pytest.fixture
def executed(academy_world):
    user = academy_world["coordinator"]
    simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=[RAISE_2])
    return harmonisation_execute(
        user=user,
        exam_code="FRA-ECRIT",
        simulation_id=simulation.pk,
        name="Essai",
        reason={"code": "scheme_error", "text": "Barème Q2"},
    )


def test_history_offers_the_exact_undo_and_links_both_ways(academy_world, executed):
    """R-MASS-14, R-MASS-11, R-FAIR-5: « Annuler cette harmonisation », the reason; after the
    undo, « annule l'harmonisation … » and « Annulée par … », no second undo offered."""
    client = login_client(academy_world["coordinator"])
    history = client.get(URL + "historique/").content.decode()
    assert "Annuler cette harmonisation" in history
    assert "Erreur de barème — Barème Q2" in history
    page = client.get(f"{URL}historique/{executed.pk}/annulation/")
    assert page.status_code == 200
    assert "Simuler l'annulation" in page.content.decode()
    fragment = client.post(f"{URL}historique/{executed.pk}/annulation/")
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert "Simulation de l'annulation" in html
    assert "2 copie(s), - 2 point(s)" in html
    simulation = fragment.content.decode().split('data-simulation="')[1].split('"')[0]
    done = client.post(
        URL + "execution/",
        {"simulation": simulation, "reason_code": "other", "reason_text": "Erreur"},
    )
    assert done.status_code == 200
    assert "L'harmonisation s'est effectuée avec succès" in done.content.decode()
    cancellation = Harmonisation.objects.get(cancels=executed)
    assert cancellation.reason_text == "Erreur"
    assert not Script.objects.filter(is_harmonised=True).exists()
    history = client.get(URL + "historique/").content.decode()
    assert (
        f'Annule l\'harmonisation <a href="#harmonisation-{executed.pk}">n°{executed.pk}' in history
    )
    assert "Annulée</span> par l'harmonisation" in history
    assert "Annuler cette harmonisation" not in history
    again = client.post(f"{URL}historique/{executed.pk}/annulation/")
    assert again.status_code == 409
    assert "déjà été annulée" in again.content.decode()


def test_undo_page_of_another_exam_or_academy_is_404(academy_world, executed):
    """R-ACC-1, R-MASS-14."""
    client = login_client(academy_world["coordinator"])
    assert client.get(f"{URL}historique/999999/annulation/").status_code == 404


def test_simulation_fragment_shows_crossings_and_asks_for_a_reason(academy_world):
    """R-FAIR-3, R-FAIR-5: thresholds crossed, the copies behind a disclosure, a reason."""
    client = login_client(academy_world["coordinator"])
    html = client.post(
        URL + "simulation/", {"s0-action": "raise", "s0-points": "2"}
    ).content.decode()
    assert "Franchissements de seuils" in html
    # Issue 13 item 11: means written one way, two decimals with a comma.
    assert "Moyenne : 13,17 avant, 14,17 après." in html
    assert 'data-threshold="16"' in html
    assert "Motif de l'harmonisation" in html
    assert "Difficulté du sujet" in html


def test_replayed_cancellation_fragment_offers_the_exact_undo(academy_world, executed):
    """R-MASS-14: the editor sends the harmonisation it replays; a leftover is announced."""
    client = login_client(academy_world["coordinator"])
    script = academy_world["scripts"][0]
    Script.objects.filter(pk=script.pk).update(initial_mark=10)  # out of the replayed filter
    html = client.post(
        URL + "simulation/",
        {"replays": str(executed.pk), "s0-action": "reset", "s0-mark_min": "14"},
    ).content.decode()
    assert "resteraient harmonisé(s)" in html
    assert f"historique/{executed.pk}/annulation/" in html


def test_comparison_fragment(academy_world):
    """R-FAIR-4: A kept in the form, B edited; one view with BEFORE, A, B and `differ`."""
    client = login_client(academy_world["coordinator"])
    response = client.post(
        URL + "comparaison/",
        {"draft_a": "s0-action=raise&s0-points=1", "s0-action": "raise", "s0-points": "2"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Comparaison des versions A et B" in html
    # 14.5 → 15.5 or 16.5; 19 → 20 under both (clamped): one differs.
    assert "<strong>1</strong> candidat(s) auraient une note finale différente" in html
    assert "Exécuter la version A" in html
    assert "Exécuter la version B" in html
    bad = client.post(URL + "comparaison/", {"draft_a": "", "s0-action": "raise", "s0-points": "2"})
    assert bad.status_code == 400
    assert "Version A" in bad.content.decode()


def test_draft_in_the_address_loads_the_editor(academy_world):
    """R-FAIR-2: a proposed harmonisation is loaded, with its reason, nothing executed."""
    client = login_client(academy_world["coordinator"])
    grader = academy_world["locked_batch"].grader.username
    draft = draft_encode(
        scenarios=[{"filter": {"graders": [grader]}, "action": {"type": "lower", "points": 1}}],
        reason={"code": "grader_leniency", "text": ""},
    )
    html = client.get(f"{URL}?draft={draft}").content.decode()
    assert "Harmonisation proposée chargée" in html
    assert 'name="proposed_reason_code" value="grader_leniency"' in html
    assert f'value="{grader}" selected' in html or f'value="{grader}"  selected' in html
    assert not Harmonisation.objects.exists()
    assert client.get(f"{URL}?draft=%%%").status_code == 400


def test_history_offers_no_undo_once_nothing_carries_the_harmonisation(academy_world, executed):
    """R-MASS-14: after the seed's replayed cancellation brought every script back, the
    history no longer offers an exact undo that would have nothing to do."""
    user = academy_world["coordinator"]
    client = login_client(user)
    assert harmonisation_get(user=user, harmonisation_id=executed.pk)["undoable"] is True
    simulation = simulation_create(
        user=user, exam_code="FRA-ECRIT", scenarios=[{"filter": {}, "action": {"type": "reset"}}]
    )
    harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
    history = client.get(URL + "historique/").content.decode()
    assert "Annuler cette harmonisation" not in history
    assert harmonisation_get(user=user, harmonisation_id=executed.pk)["undoable"] is False
