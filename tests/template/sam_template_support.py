"""Helpers for tests/template (a uniquely named module, so other test folders' helpers cannot shadow it)."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
WORKFLOW = ROOT / "arazzo" / "airbyte-trigger-sync-and-poll-workflow.yml"
EVENTS = ROOT / "events"
REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "airbyte-sync"
# S3 placeholders for local artifacts: the translator only needs a well-formed location.
PLACEHOLDER_BUCKET = "placeholder-artifacts-bucket"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:]+)\}")

# The translator reads the region (for ARNs and partitions) from the environment; set it before translating.
os.environ.setdefault("AWS_DEFAULT_REGION", REGION)


def load_template() -> dict:
    from samtranslator.yaml_helper import yaml_parse  # understands !Ref, !Sub, !GetAtt, !If ...

    return yaml_parse(TEMPLATE.read_text())


class _NoManagedPolicies:
    """Offline stand-in for the translator's IAM lookup: the template names no managed policies by name."""

    def load(self) -> dict:
        return {}


def translate(template: dict) -> dict:
    """The SAM template as CloudFormation, translated offline, local CodeUri/DefinitionUri swapped for S3."""
    from samtranslator.translator.transform import transform

    sam = copy.deepcopy(template)
    code = {"Bucket": PLACEHOLDER_BUCKET, "Key": "functions.zip"}
    if isinstance(sam.get("Globals", {}).get("Function", {}).get("CodeUri"), str):
        sam["Globals"]["Function"]["CodeUri"] = code
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = code
        if resource["Type"] == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            props["DefinitionUri"] = {"Bucket": PLACEHOLDER_BUCKET, "Key": "statemachine.asl.json"}
    return transform(sam, {}, _NoManagedPolicies())


def cfn_lint(template: dict) -> list:
    """cfn-lint matches for a CloudFormation template given as a dict."""
    from cfnlint.api import ManualArgs, lint

    return lint(json.dumps(template), config=ManualArgs(regions=[REGION]))


def resources_of_type(template: dict, type_: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


def policy_statements(role: dict) -> list[dict]:
    """Every inline statement of an AWS::IAM::Role."""
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def load_json(name: str):
    return json.loads((EVENTS / name).read_text())
