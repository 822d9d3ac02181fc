"""Coordinators of one academy browsing Harmonie (run by bench/load/run.py).

Each simulated coordinator uses a session opened by the runner through the login form
(`LOAD_CONFIG` names a JSON file with the sessions, the exam and filter values of the
academy). Requests carry `X-Forwarded-Proto: https`, as they would behind the TLS proxy
of a production deployment (HARMONIE_PRODUCTION=1: secure cookies, HTTPS CSRF checks).
"""

import itertools
import random
from urllib.parse import urlencode

from locust import FastHttpUser, between, task
from mix import CONFIG, EXAM, SORTS, _filter, _query, _scenarios

SESSIONS = itertools.cycle(CONFIG["sessions"])
WAIT = CONFIG.get("wait", [1.0, 3.0])


class Coordinator(FastHttpUser):
    wait_time = between(*WAIT)
    connection_timeout = 30
    network_timeout = 60

    def on_start(self) -> None:
        session = next(SESSIONS)
        origin = "https://" + self.host.split("://", 1)[1].rstrip("/")
        self.headers = {
            "Cookie": f"sessionid={session['sessionid']}; csrftoken={session['csrftoken']}",
            "X-Forwarded-Proto": "https",
            "X-CSRFToken": session["csrftoken"],
            "Origin": origin,
            "Referer": origin + "/",
        }

    def _get(self, path: str, name: str, params: list[tuple[str, str]] | None = None):
        url = f"{path}?{urlencode(params)}" if params else path
        with self.client.get(url, headers=self.headers, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            return response

    def _post(self, path: str, name: str, body: dict, expected: int):
        with self.client.post(
            path, json=body, headers=self.headers, name=name, catch_response=True
        ) as response:
            if response.status_code != expected:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
            return response

    @task(4)
    def script_list_page(self) -> None:
        params = [*_query(_filter()), ("sort", random.choice(SORTS))]
        self._get(f"/copies/epreuve/{EXAM}/", "page liste des copies", params)

    @task(3)
    def script_list_deep(self) -> None:
        """An API client (or the page's "suivant") walking 5 pages down with the cursor."""
        params = [*_query(_filter()), ("sort", random.choice(SORTS)), ("limit", "50")]
        path = f"/api/v1/exams/{EXAM}/scripts"
        response = self._get(path, "API copies, 1re page", params)
        for _ in range(5):
            if response.status_code != 200:
                return
            cursor = response.json().get("next_cursor")
            if not cursor:
                return
            response = self._get(
                path, "API copies, page suivante (curseur)", [*params, ("cursor", cursor)]
            )

    @task(2)
    def statistics_page(self) -> None:
        self._get(f"/statistiques/{EXAM}/", "page statistiques", _query(_filter()))

    @task(2)
    def statistics_api(self) -> None:
        self._get(f"/api/v1/exams/{EXAM}/statistics", "API statistiques", _query(_filter()))

    @task(1)
    def filter_options(self) -> None:
        params = [*_query(_filter()), ("locked_only", "true")]
        self._get(f"/api/v1/exams/{EXAM}/filter-options", "API choix liés", params)

    @task(2)
    def population(self) -> None:
        self._post(
            f"/api/v1/exams/{EXAM}/scenario-population",
            "API population des scénarios",
            {"scenarios": _scenarios()},
            200,
        )

    @task(1)
    def simulation(self) -> None:
        body = {"scenarios": _scenarios()}
        if random.random() < 0.5:
            body["display"] = _filter()
        self._post(f"/api/v1/exams/{EXAM}/simulations", "API simulation (écrit)", body, 201)

    @task(1)
    def editor_page(self) -> None:
        self._get(f"/harmonisation/{EXAM}/", "page éditeur d'harmonisation")

    @task(1)
    def dashboard(self) -> None:
        self._get("/", "tableau de bord")
