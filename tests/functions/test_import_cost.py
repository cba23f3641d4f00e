"""Cold start: the handler modules must not import boto3 (or Powertools Parameters) at import time.

(Powertools itself imports the bare `botocore` package for its user agent: under a millisecond.) How long imports
take is a speed claim: `make bench` measures it, not this test.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from functions_testkit import FUNCTIONS_DIR

PROBE = """
import json, sys
sys.path.insert(0, {functions!r})
import airbyte_handlers.{module}
heavy = [m for m in ("boto3", "botocore.client", "botocore.session", "aws_lambda_powertools.utilities.parameters") if m in sys.modules]
print(json.dumps({{"heavy": heavy}}))
"""


@pytest.mark.parametrize("module", ["create_job", "get_job", "cancel_job", "execution_stopped", "start_sync"])
def test_handler_import_is_light(module):
    out = subprocess.run([sys.executable, "-c", PROBE.format(functions=str(FUNCTIONS_DIR), module=module)],
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    assert result["heavy"] == []
