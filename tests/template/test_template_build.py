"""SLOW: `sam build` of the whole template (about a minute). It installs functions/requirements.txt for
python3.13/arm64 from the package registry, so it needs network access and the python3.13 interpreter."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sam_template_support import REGION, ROOT, TEMPLATE


def _python313_dir() -> str | None:
    """A directory holding a python3.13 that runs (a pyenv shim for an unselected version does not)."""
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    candidates += [shutil.which("python3.13")] if shutil.which("python3.13") else []
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 13)":
            return str(Path(candidate).parent)
    return None


@pytest.mark.slow
def test_sam_build(sam_cli, tmp_path):
    py313 = _python313_dir()
    if py313 is None:
        pytest.skip("python3.13 not found: sam build checks the runtime's interpreter is on PATH")
    build_dir = tmp_path / "build"
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": f"{py313}{os.pathsep}{os.environ['PATH']}"}
    # A temp build and cache dir keep the working tree (.aws-sam) untouched.
    result = subprocess.run(
        [str(sam_cli), "build", "--template-file", str(TEMPLATE), "--build-dir", str(build_dir),
         "--cache-dir", str(tmp_path / "cache"), "--region", REGION],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for function in ("CreateJobFunction", "GetJobFunction", "CancelJobFunction", "ExecutionStoppedFunction"):
        artifact = build_dir / function
        assert (artifact / "airbyte_handlers").is_dir(), function
        assert (artifact / "requests").is_dir() and (artifact / "aws_lambda_powertools").is_dir(), function
    built_template = (build_dir / "template.yaml").read_text()
    assert "airbyte-trigger-sync-and-poll.asl.json" in built_template
