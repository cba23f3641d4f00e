"""Fixtures shared by the compiler tests that run compiled machines in the local engine."""
import sys
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).parent / "fixtures" / "functions"


@pytest.fixture
def pets():
    """The scripted pet-store handler module (compiler_fixture_handlers.pets), its calls and script cleared."""
    sys.path.insert(0, str(FUNCTIONS))
    from compiler_fixture_handlers import pets as module
    module.CALLS.clear()
    module.SCRIPT.clear()
    yield module
    sys.path.remove(str(FUNCTIONS))
