"""pytest plugin of bench/test_instructions.py: under callgrind, counts each test's
instructions (setup, call and teardown) and dumps them, printing `DUMP <n> <test id>`.
The first test is not counted: it creates the test database (the migrations)."""

import os
import subprocess

import pytest

_dumps = []


def _control(*arguments: str) -> None:
    subprocess.run(["callgrind_control", *arguments, str(os.getpid())], capture_output=True)


_seen = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _seen.append(item.nodeid)
    if len(_seen) == 1:
        yield
        return
    _control("-i", "on")
    yield
    _control("-d")
    _control("-i", "off")
    _dumps.append(item.nodeid)


def pytest_terminal_summary(terminalreporter):
    for number, nodeid in enumerate(_dumps, start=1):
        terminalreporter.write_line(f"DUMP {number} {nodeid}")
