"""Static files in the tests: served by WhiteNoise from the apps, looked up when asked for
(config/test_settings.py), as the embedded mode serves them."""

from pathlib import Path

from django.test import Client

APP_JS = Path(__file__).resolve().parents[1] / "harmonie/static/harmonie/app.js"


def test_static_files_served_by_whitenoise_without_listing_them(db):
    client = Client()
    response = client.get("/static/harmonie/app.js")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == APP_JS.read_bytes()
    assert response.headers["Content-Type"].startswith("text/javascript")
    # The middleware built for this client has listed nothing: it finds the file on demand.
    whitenoise = client.handler._middleware_chain
    while not hasattr(whitenoise, "files"):
        whitenoise = whitenoise.get_response
    assert whitenoise.autorefresh
    assert whitenoise.files == {}
    assert client.get("/static/harmonie/absent.js").status_code == 404
