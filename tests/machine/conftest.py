"""The product as a user runs it: the compiled state machine deployed from template.yaml into the local engine,
the real handlers, and the Airbyte emulator over real HTTP, on virtual time.

Fixtures
- ``airbyte`` (module scope): one emulator + engine + deployed stack shared by a module's tests. Each test makes
  its own connection (``h.connection(script)``), so jobs never mix; faults and recorded requests are reset per test.
- ``h`` (per test): the shared harness, reset, with a sentinel check at teardown: the client secret must appear in
  no handler log, no captured stdout/stderr, no execution history, output or cause.
- ``make_harness(...)``: a context manager for a harness of its own (other base path, auth, template parameters),
  for tests that cannot share (only one LocalEngine may run per process: do not mix it with ``h`` in a module).
"""
from __future__ import annotations

import pytest

from machine_harness import make_harness


@pytest.fixture(scope="module")
def airbyte():
    with make_harness() as harness:
        yield harness


@pytest.fixture
def h(airbyte, capfd, caplog):
    """The module's shared harness, reset; at teardown, the secret must be nowhere."""
    airbyte.reset()
    yield airbyte
    captured = capfd.readouterr()
    airbyte.assert_no_sentinel(captured.out + captured.err + caplog.text)


@pytest.fixture
def fresh(capfd, caplog):
    """make(**options) -> a harness of its own (see machine_harness.make_harness); the same sentinel check at
    teardown. Only in modules that do not use ``h``: one LocalEngine at a time."""
    import contextlib

    stack = contextlib.ExitStack()
    made = []

    def make(**options):
        harness = stack.enter_context(make_harness(**options))
        made.append(harness)
        return harness

    with stack:
        yield make
        captured = capfd.readouterr()
        for harness in made:
            harness.assert_no_sentinel(captured.out + captured.err + caplog.text)
