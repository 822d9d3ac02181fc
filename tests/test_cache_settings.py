"""The shared cache and what rides on it (docs/decisions.md, "Scale", issue 16)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setting(name: str, **environ: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(environ, DJANGO_SETTINGS_MODULE="config.settings")
    done = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_sessions_ride_on_the_cache_only_when_it_is_shared():
    """With REDIS_URL, sessions are read from Redis first (written through to the
    database); without it, one process's memory would keep a session a sign-out in
    another process ended: they stay in the database."""
    assert _setting("SESSION_ENGINE", REDIS_URL="redis://127.0.0.1:6379/9") == (
        "django.contrib.sessions.backends.cached_db"
    )
    assert _setting("SESSION_ENGINE") == "django.contrib.sessions.backends.db"
    assert "RedisCache" in _setting(
        "CACHES['default']['BACKEND']", REDIS_URL="redis://127.0.0.1:6379/9"
    )
