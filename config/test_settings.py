"""Test settings: fast hashing, throttling generous, and the production task backend.

Tasks are recorded in the test database as in production (django-tasks-db); a test runs
them with the real worker's loop (`worker` fixture in tests/validation/conftest.py).
"""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "delivery", "zips"],
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The tests' cache is the process's memory: sessions in the database, whatever REDIS_URL says.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
