"""The shared cache and what rides on it (docs/decisions.md, "Scale", issue 16)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harmonie.cache import RedisCache

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


def _redis_or_skip() -> str:
    url = "redis://127.0.0.1:6379/9"
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("Redis ne répond pas sur 127.0.0.1:6379")
    return url


def test_redis_cache_builds_its_client_once_and_caches_like_django_s():
    """harmonie.cache.RedisCache: Django's RedisCache whose client is built once per
    connection pool; reads, writes, many and deletions behave as Django's."""
    cache = RedisCache(_redis_or_skip(), {"KEY_PREFIX": "test-harmonie-cache"})
    cache.clear()
    cache.set("a", {"n": 1}, timeout=30)
    cache.set_many({"b": [1, 2], "c": None}, timeout=30)
    assert cache.get("a") == {"n": 1}
    assert cache.get_many(["a", "b", "c", "missing"]) == {"a": {"n": 1}, "b": [1, 2], "c": None}
    assert cache.get("missing", "default") == "default"
    cache.delete("a")
    assert cache.get("a") is None
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    cache.clear()
