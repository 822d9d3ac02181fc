"""Shared by every benchmark: describe the machine and wait for it to be quiet, run a
command, generate a session file, write results under bench/results/."""

import datetime as dt
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
PY = sys.executable


def run(args: list[str], env: dict[str, str]) -> float:
    """Run a command from the repository root (its output dropped); its wall time in s."""
    started = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def session_file(candidates: int) -> Path:
    """bench/work/session-N.json, generated once (seed 1, a pool of page scans)."""
    path = WORK / f"session-{candidates}.json"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        command = [PY, "manage.py", "generate_session", "--candidates", str(candidates)]
        run([*command, "--seed", "1", "-o", str(path), "--scans", "pool"], dict(os.environ))
    return path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "inconnu"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) // 1024 // 1024} GiB"
    except OSError:
        pass
    return "inconnue"


def _postgres_version(url: str | None) -> str:
    if not url:
        return "—"
    try:
        out = subprocess.run(
            ["psql", url, "-Atc", "show server_version"], capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip() or "—"
    except (OSError, subprocess.SubprocessError):
        return "—"


def machine_describe(pg_url: str | None = None) -> str:
    return "\n".join(
        [
            f"- date: {dt.datetime.now().isoformat(timespec='seconds')}",
            f"- host: {socket.gethostname()}",
            f"- CPU: {_cpu_model()}, {os.cpu_count()} cores",
            f"- memory: {_memory()}",
            f"- Python {platform.python_version()}, {platform.system()} {platform.release()}",
            f"- PostgreSQL: {_postgres_version(pg_url)}",
        ]
    )


def results_write(name: str, body: str, pg_url: str | None = None) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{dt.date.today().isoformat()}-{socket.gethostname()}-{name}.md"
    path.write_text(
        f"# {name}\n\n## Machine\n{machine_describe(pg_url)}\n\n{body}\n", encoding="utf-8"
    )
    return path


def machine_settle(limit: float = 1.0, timeout: int = 300) -> float:
    """Wait (up to `timeout` s) for the 1-minute load average to fall under `limit`: an
    import, a previous run or another job would otherwise share the CPU being measured."""
    deadline = time.monotonic() + timeout
    while os.getloadavg()[0] > limit and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def load_note() -> str:
    """The load averages now, flagged when other work shared the machine."""
    loads = os.getloadavg()
    text = "Load average (1, 5, 15 min) at the end of the run: " + ", ".join(
        f"{load:.1f}" for load in loads
    )
    return text + (" — OTHER PROCESSES WERE COMPETING FOR THE CPU." if loads[0] > 1.5 else ".")
