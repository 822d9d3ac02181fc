"""Production settings: `check --deploy` is clean, secrets come only from the environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HARMONIE_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "HARMONIE_PRODUCTION": "1",
            "HARMONIE_SECRET_KEY": "k" * 20 + "x9Q!z" * 10,
            "HARMONIE_ALLOWED_HOSTS": "harmonie.ac-nancy-metz.fr",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = manage(
        "check",
        env={"HARMONIE_PRODUCTION": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
    )
    assert result.returncode != 0
    assert "HARMONIE_SECRET_KEY doit être défini en production." in result.stderr


def test_collectstatic_passes_with_production_storage(tmp_path):
    """Production serves hashed, compressed files: every referenced file must exist
    (Chart.js points at its source map, which `make assets` must copy)."""
    result = manage(
        "collectstatic",
        "--no-input",
        env={
            "HARMONIE_PRODUCTION": "1",
            "HARMONIE_SECRET_KEY": "k" * 20 + "x9Q!z" * 10,
            "HARMONIE_STATIC_ROOT": str(tmp_path / "static"),
            # Hashing checks every reference; compressing thousands of icons only costs time.
            "HARMONIE_STATIC_COMPRESS": "0",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert list((tmp_path / "static" / "vendor").glob("chart.umd.min.*.js"))
