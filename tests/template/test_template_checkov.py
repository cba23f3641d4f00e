"""checkov on the translated template: every finding is listed, with its reason, in docs/checkov.md, and every
entry there is still a finding (the doc's table is the allow-list, so the two cannot drift apart)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from sam_template_support import ROOT, resources_of_type

DOC = ROOT / "docs" / "checkov.md"
PIN = ROOT / "requirements" / "checkov.txt"
# A row of the allow-list: | `CKV_AWS_116` name | `LogicalId`, `LogicalId` | reason |
ROW = re.compile(r"^\|\s*`(?P<check>CKV2?_[A-Z0-9]+_\d+)`[^|]*\|(?P<resources>[^|]+)\|(?P<reason>[^|]+)\|\s*$")
RESOURCE = re.compile(r"`([A-Za-z0-9]+)`")
# Where a network request checkov might still try goes: a closed port on this machine, so it fails at once.
NOWHERE = "http://127.0.0.1:9"


def _allowed() -> dict[tuple[str, str], str]:
    """(check id, logical ID) -> reason, from the table of docs/checkov.md."""
    allowed: dict[tuple[str, str], str] = {}
    for number, line in enumerate(DOC.read_text().splitlines(), 1):
        if not line.startswith("| `CKV"):
            continue
        row = ROW.match(line)
        assert row, f"docs/checkov.md:{number} is not `| \\`CKV_...\\` name | \\`LogicalId\\`, ... | reason |`"
        resources, reason = RESOURCE.findall(row["resources"]), row["reason"].strip()
        assert resources and reason, f"docs/checkov.md:{number} names no resource or gives no reason"
        for resource in resources:
            key = (row["check"], resource)
            assert key not in allowed, f"docs/checkov.md:{number} lists {key} twice"
            allowed[key] = reason
    return allowed


def _offline_env(cache: Path) -> dict[str, str]:
    """The caller's environment without checkov/platform settings, offline, no update check, no API key."""
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("BC_", "CKV_", "CHECKOV_", "PRISMA_")) and "PROXY" not in k.upper()}
    env.update(CKV_SKIP_PACKAGE_UPDATE_CHECK="True", BC_SKIP_MAPPING="TRUE", CKV_CACHE_DIR=str(cache),
               LOG_LEVEL="WARNING", HTTPS_PROXY=NOWHERE, HTTP_PROXY=NOWHERE, https_proxy=NOWHERE, http_proxy=NOWHERE)
    return env


@pytest.fixture(scope="module")
def report(checkov, translated, tmp_path_factory) -> dict:
    """checkov's JSON report on the translated template (CloudFormation framework only)."""
    work = tmp_path_factory.mktemp("checkov")
    template = work / "template.json"
    template.write_text(json.dumps(translated, indent=1))
    result = subprocess.run(
        [str(checkov), "--file", str(template), "--framework", "cloudformation", "--output", "json", "--quiet",
         "--skip-download"],
        cwd=work, capture_output=True, text=True, timeout=300, env=_offline_env(work / "cache"),
    )
    # 0: no finding, 1: findings; anything else is checkov failing.
    assert result.returncode in (0, 1), f"checkov exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert [r.get("check_type") for r in reports] == ["cloudformation"], result.stdout[:2000]
    return reports[0]


def _findings(report: dict) -> dict[tuple[str, str], str]:
    """(check id, logical ID) -> checkov's name for the check."""
    failed = report["results"]["failed_checks"]
    return {(f["check_id"], f["resource"].rsplit(".", 1)[1]): f["check_name"] for f in failed}


def test_checkov_scanned_the_whole_template_with_the_pinned_version(report, translated):
    summary = report["summary"]
    assert summary["parsing_errors"] == 0, summary
    # Every resource of the translation is in checkov's graph: a finding cannot hide in a resource it skipped.
    assert summary["resource_count"] == len(translated["Resources"]), summary
    pinned = re.search(r"^checkov==(\S+)$", PIN.read_text(), re.M)
    assert pinned and summary["checkov_version"] == pinned[1], f"ran {summary['checkov_version']}, pinned {PIN}"


def test_every_finding_is_documented(report):
    unexplained = {key: name for key, name in _findings(report).items() if key not in _allowed()}
    assert not unexplained, (
        "checkov findings not in docs/checkov.md: fix each in template.yaml, or add it with the reason it does not "
        "apply\n" + "\n".join(f"  {check} on {resource}: {name}" for (check, resource), name in sorted(unexplained.items())))


def test_every_documented_finding_still_occurs(report):
    stale = sorted(set(_allowed()) - set(_findings(report)))
    assert not stale, "docs/checkov.md lists findings checkov no longer reports (remove them):\n" + "\n".join(
        f"  {check} on {resource}" for check, resource in stale)


def test_the_environment_variables_hold_what_the_doc_says(translated):
    """CKV_AWS_173 is allowed because the variables hold no secret: the doc names every one of them."""
    reasons = {reason for (check, _), reason in _allowed().items() if check == "CKV_AWS_173"}
    documented = {name for reason in reasons for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", reason)}
    for name, function in resources_of_type(translated, "AWS::Lambda::Function").items():
        props = function["Properties"]
        if "KmsKeyArn" in props:  # under a customer managed key: nothing to explain
            continue
        undocumented = set(props.get("Environment", {}).get("Variables", {})) - documented
        assert not undocumented, (
            f"{name}: environment variables that docs/checkov.md does not name under CKV_AWS_173: "
            f"{sorted(undocumented)} (a secret belongs in Secrets Manager; otherwise name the variable there)")
