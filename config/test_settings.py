"""Test settings: fast hashing, throttling generous, the production task backend, and static
files looked up when asked for.

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
# WhiteNoise looks a static file up when it is asked for instead of listing every file of
# every app when the middleware is built: Django's test client builds it again for each test,
# and the listing (1,762 files, their headers) took 0.25-0.4 s of each test using the client
# (tests/marking/test_api.py 27 s -> 12 s). Production keeps the listing, built once per
# process.
WHITENOISE_AUTOREFRESH = True
