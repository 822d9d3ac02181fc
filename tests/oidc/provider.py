"""Starts tests/oidc/provider.mjs (oidc-provider, a certified OpenID provider) on a free
loopback port, waits for its discovery document, stops it afterwards."""

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCRIPT = HERE / "provider.mjs"
CLIENT_ID = "harmonie"
CLIENT_SECRET = "secret-de-test-harmonie-oidc-0123456789"
ACCOUNTS = {
    account["login"]: account for account in json.loads((HERE / "accounts.json").read_text())
}
PASSWORD = "mot-de-passe-du-fournisseur"
# Harmonie addresses the test client uses (Django's test client is http://testserver).
TEST_CLIENT = "http://testserver"


@dataclass
class Provider:
    url: str
    log: Path

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


@contextmanager
def provider_running(
    *,
    harmonie_urls: list[str],
    log_dir: Path,
    id_token_ttl: int = 600,
    session_ttl: int = 3600,
    clock_skew: int = 0,
) -> Iterator[Provider]:
    """The provider, with Harmonie's callback and post-logout URIs for each base URL."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").exists():
        pytest.skip("Node.js ou oidc-provider absent : `make assets` (npm ci) l'installe")
    port = _free_port()
    command = [node, str(SCRIPT), "--port", str(port), "--client-id", CLIENT_ID]
    command += ["--client-secret", CLIENT_SECRET, "--id-token-ttl", str(id_token_ttl)]
    command += ["--session-ttl", str(session_ttl), "--clock-skew", str(clock_skew)]
    for base in harmonie_urls:
        command += ["--redirect-uri", urljoin(base, "/oidc/callback/")]
        command += ["--post-logout-redirect-uri", urljoin(base, "/compte/connexion/")]
    log = log_dir / f"oidc-provider-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    provider = Provider(url=f"http://127.0.0.1:{port}", log=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(f"le fournisseur OIDC s'est arrêté :\n{_log_tail(log)}")
            try:
                if requests.get(provider.discovery_url, timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"le fournisseur OIDC ne répond pas :\n{_log_tail(log)}")
            time.sleep(0.1)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def harmonie_configure(settings, provider: Provider) -> None:
    """Point Harmonie at the provider through its discovery document (HARMONIE_OIDC_*)."""
    from harmonie.accounts.oidc import provider_metadata_forget

    provider_metadata_forget()
    settings.OIDC_DISCOVERY_URL = provider.discovery_url
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_USER_CLAIM = "email"
    settings.OIDC_USER_FIELD = "email"


def provider_sign_in(authorize_url: str, *, login: str, password: str = PASSWORD) -> str:
    """What a browser does at the provider, with `requests`: follow the authorisation
    request to the login form, submit it, and return the redirect to Harmonie's callback."""
    browser = requests.Session()
    response = browser.get(authorize_url, allow_redirects=True, timeout=10)
    assert response.status_code == 200, response.text
    form_action = urlparse(response.url).path + "/login"
    response = browser.post(
        urljoin(response.url, form_action),
        data={"login": login, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    for _ in range(5):
        assert response.status_code in (302, 303), response.text
        location = urljoin(response.url, response.headers["Location"])
        if "/oidc/callback/" in location:
            return location
        response = browser.get(location, allow_redirects=False, timeout=10)
    pytest.fail("le fournisseur n'a pas renvoyé vers Harmonie")
