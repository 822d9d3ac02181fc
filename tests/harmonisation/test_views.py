"""Pages of mass harmonisation: editor fragments, history, conformity (R-MASS-5..12)."""

import pytest

from harmonie.harmonisation.models import Harmonisation
from harmonie.harmonisation.services import harmonisation_execute, simulation_create
from tests.conftest import login_client
from tests.factories import ExamFactory, ScriptFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/harmonisation/FRA-ECRIT/"


@pytest.fixture
def coordinator_client(academy_world):
    return login_client(academy_world["coordinator"])


def test_editor_shows_blocks_of_a_marked_exam(coordinator_client):
    """R-MASS-4, R-MASS-7, R-ACC-2: candidates, grader and marks blocks; way back."""
    page = coordinator_client.get(URL).content.decode()
    for text in (
        "Candidats",
        "Correcteur",
        "Notes",
        "Scénario n°",
        "Majoration",
        "Minoration",
        "Réinitialisation",
        "Informations sur les candidats de ce scénario",
        "Copier les filtres vers les statistiques",
        "Tableau de bord",
    ):
        assert text in page
    assert "Départements" not in page.split("<template")[0]


def test_linked_choices(coordinator_client, academy_world):
    """R-MASS-5: choosing a batch narrows the graders offered to that batch's grader."""
    batch = academy_world["locked_batch"]
    response = coordinator_client.post(
        URL + "filtres/", {"scenario": "0", "s0-batches": [batch.code], "s0-action": "raise"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert batch.grader.username in html
    assert academy_world["unlocked_batch"].grader.username not in html
    assert 'name="s0-batches"' in html


def test_population_fragment(coordinator_client):
    """R-MASS-6: totals and reasons in French."""
    response = coordinator_client.post(
        URL + "population/", {"scenario": "0", "s0-action": "raise", "s0-points": "1"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "4</strong> candidat(s)" in html
    assert "note particulière" in html
    assert "lot non verrouillé" in html


def test_simulate_and_execute_fragments(coordinator_client):
    """R-MASS-8, R-MASS-9: charts with their table; execution message; edited -> 409."""
    form = {"s0-action": "raise", "s0-points": "2", "s1-action": "reset", "s1-mark_min": "5"}
    response = coordinator_client.post(URL + "simulation/", form)
    assert response.status_code == 200
    html = response.content.decode()
    assert "AVANT" in html
    assert "APRÈS" in html
    assert "simulation-rows" in html
    simulation = response.context["simulation"].pk
    edited = coordinator_client.post(
        URL + "execution/", {**form, "s0-points": "3", "simulation": simulation}
    )
    assert edited.status_code == 409
    assert "relancez la simulation" in edited.content.decode()
    done = coordinator_client.post(
        URL + "execution/", {**form, "simulation": simulation, "name": "Test"}
    )
    assert "L'harmonisation s'est effectuée avec succès" in done.content.decode()
    assert "Nouvelle harmonisation" in done.content.decode()
    assert Harmonisation.objects.get().name == "Test"


def test_bad_points_fragment(coordinator_client):
    """R-MASS-1: points off the step -> French message, 400."""
    response = coordinator_client.post(
        URL + "simulation/", {"s0-action": "raise", "s0-points": "0.3"}
    )
    assert response.status_code == 400
    assert "pas de l&#x27;épreuve" in response.content.decode()


def test_history_and_replay(coordinator_client, academy_world):
    """R-MASS-11, R-MASS-2: history lists author and filters; replay reloads the editor."""
    user = academy_world["coordinator"]
    scenarios = [{"filter": {"mark_min": 10}, "action": {"type": "raise", "points": 1}}]
    simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=scenarios)
    harmonisation = harmonisation_execute(
        user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk
    )
    page = coordinator_client.get(URL + "historique/").content.decode()
    assert f"Par {user.first_name} {user.last_name}" in page  # names one way (issue 13 item 11)
    assert "Note min. : 10" in page
    assert "+ 1" in page
    assert f"?replay={harmonisation.pk}" in page
    editor = coordinator_client.get(f"{URL}?replay={harmonisation.pk}").content.decode()
    assert 'value="10"' in editor
    assert coordinator_client.get(f"{URL}?replay=99999").status_code == 404


def test_history_names_graders_in_the_filters(coordinator_client, academy_world):
    """R-MASS-11, issue 13 item 11: a scenario filtered on graders shows them in the history
    by name (« Élodie Lambert »), not by username; the stored filter keeps the username."""
    user = academy_world["coordinator"]
    grader = academy_world["locked_batch"].grader
    grader.first_name, grader.last_name = "Élodie", "Lambert"
    grader.save(update_fields=["first_name", "last_name"])
    scenarios = [
        {"filter": {"graders": [grader.username]}, "action": {"type": "raise", "points": 1}}
    ]
    simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=scenarios)
    harmonisation = harmonisation_execute(
        user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk
    )
    page = coordinator_client.get(URL + "historique/").content.decode()
    table = page[page.index("<table") : page.index("</table>")]
    assert "Correcteurs : Élodie Lambert" in table
    assert grader.username not in table
    assert harmonisation.scenarios.get().filter["graders"] == [grader.username]


def test_conformity_page(coordinator_client, academy_world):
    """R-MASS-12: state, then « Rendre conforme »."""
    user = academy_world["coordinator"]
    simulation = simulation_create(
        user=user, exam_code="FRA-ECRIT", scenarios=[{"action": {"type": "raise", "points": 1}}]
    )
    harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
    page = coordinator_client.get(URL + "conformite/").content.decode()
    assert "non conforme" in page
    # The scripts not conforming are listed by anonymous id, with a link to the viewer.
    raised = academy_world["scripts"][:2]
    for script in raised:
        assert f'href="/copies/{script.public_id}/"' in page
        assert script.candidate.number not in page  # R-UNIT-2
    assert 'data-testid="make-conforming"' in page
    # Without the confirmation step nothing is written.
    response = coordinator_client.post(URL + "conformite/")
    assert response.status_code == 302
    assert response["Location"].endswith("?confirmer=1")
    assert "non conforme" in coordinator_client.get(URL + "conformite/").content.decode()
    confirm = coordinator_client.get(URL + "conformite/?confirmer=1").content.decode()
    assert "Confirmer : rendre conformes 2 copie(s)" in confirm
    response = coordinator_client.post(URL + "conformite/", {"confirm": "1"}, follow=True)
    html = response.content.decode()
    assert "<strong>conforme</strong>" in html
    assert "2 copie(s) rendue(s) conforme(s)" in html
    # Nothing left to do: no button.
    assert 'data-testid="make-conforming"' not in html
    assert 'data-testid="conformity-list"' not in html


def test_pages_out_of_scope(academy_world):
    """R-ACC-1: a grader gets 403 or 404; an unknown exam 404."""
    grader = login_client(academy_world["locked_batch"].grader)
    assert grader.get(URL).status_code in (403, 404)
    other = login_client(UserFactory(coordinator=True, academy=academy_world["other_academy"]))
    assert other.get("/harmonisation/NOPE/").status_code == 404


def test_editor_of_a_harmonisation_only_exam(db):
    """R-MASS-4, R-MASS-12: context block with departments and schools; no parts."""

    exam = ExamFactory(code="PHILO-HO", harmonisation_only=True)
    script = ScriptFactory(batch=None, exam=exam, marks={"global": 12})
    client = login_client(UserFactory(coordinator=True, academy=script.academy))
    page = client.get("/harmonisation/PHILO-HO/").content.decode()
    assert "Contexte" in page
    assert "Établissements d&#x27;inscription" in page or "Établissements d'inscription" in page
    assert "Correcteurs" not in page
    conformity = client.get("/harmonisation/PHILO-HO/conformite/").content.decode()
    assert "pas de parties" in conformity


def test_htmx_request_without_session_redirects_the_browser(academy_world, client):
    """Issue 13 item 2: an htmx fragment that needs a login answers HX-Redirect to the login
    page with `next` = the screen the browser is on; a plain request keeps Django's 302."""
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/harmonisation/FRA-ECRIT/"}
    response = client.post(URL + "filtres/", {"scenario": "0"}, headers=headers)
    assert response.status_code == 200  # django-htmx HttpResponseClientRedirect
    assert response["HX-Redirect"] == "/compte/connexion/?next=%2Fharmonisation%2FFRA-ECRIT%2F"
    # Another site's page is never a `next`.
    foreign = {"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    response = client.post(URL + "execution/", {}, headers=foreign)
    assert response["HX-Redirect"] == "/compte/connexion/"
    plain = client.post(URL + "filtres/", {"scenario": "0"})
    assert plain.status_code == 302
    assert plain["Location"].startswith("/compte/connexion/?next=")
