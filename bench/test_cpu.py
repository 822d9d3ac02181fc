"""pytest plugin of bench/test_durations.py: each test's CPU time in the pytest process
(setup, call and teardown) and its number of SQL statements, printed at the end of the
run as `CPU <seconds> <test id>` and `SQL <statements> <test id>`.

A VM's wall clock counts what the hypervisor gives to others (steal) and every hiccup of
the machine; the process's own CPU time counts the test's work, and the number of SQL
statements the database work, the same from one run to the next. Loaded with
`-p test_cpu` (bench/ on PYTHONPATH).
"""

import time
from contextlib import ExitStack

import pytest

_spent: dict[str, float] = {}
_statements: dict[str, int] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    from django.db import connections

    count = [0]

    def counted(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with ExitStack() as stack:
        for connection in connections.all():
            stack.enter_context(connection.execute_wrapper(counted))
        start = time.process_time()
        yield
        _spent[item.nodeid] = _spent.get(item.nodeid, 0.0) + time.process_time() - start
    _statements[item.nodeid] = _statements.get(item.nodeid, 0) + count[0]


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_sep("=", "CPU and SQL statements per test")
    for nodeid, seconds in sorted(_spent.items()):
        terminalreporter.write_line(f"CPU {seconds:.4f} {nodeid}")
    for nodeid, statements in sorted(_statements.items()):
        terminalreporter.write_line(f"SQL {statements} {nodeid}")
