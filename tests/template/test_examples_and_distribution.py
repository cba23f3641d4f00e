"""The package is publishable to the AWS Serverless Application Repository, and the examples a user copies (a
nested application, a pipeline state machine that calls the sync machine) are valid SAM that translates."""
from __future__ import annotations

import copy
import re

import pytest

from sam_template_support import ROOT, cfn_lint, load_template, translate

EXAMPLES = ROOT / "examples"


def _load(path) -> dict:
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(path.read_text())


def test_serverless_repository_metadata():
    meta = load_template()["Metadata"]["AWS::ServerlessRepo::Application"]
    for key in ("Name", "Description", "Author", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl", "Labels",
                "SemanticVersion", "SourceCodeUrl"):
        assert meta.get(key), key
    assert (ROOT / meta["LicenseUrl"]).is_file() and (ROOT / meta["ReadmeUrl"]).is_file()
    assert "Apache License" in (ROOT / meta["LicenseUrl"]).read_text() and meta["SpdxLicenseId"] == "Apache-2.0"
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["SemanticVersion"])
    project = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert meta["SemanticVersion"] == project, "one version for the package and the application"
    assert len(meta["Description"]) <= 256 and all(len(label) <= 127 for label in meta["Labels"])
    assert re.fullmatch(r"[A-Za-z0-9-]{1,140}", meta["Name"])


def test_nested_application_example_translates_and_reads_real_outputs():
    example = _load(EXAMPLES / "nested-application" / "template.yaml")
    app = example["Resources"]["AirbyteSync"]["Properties"]
    product = load_template()
    assert app["Location"]["SemanticVersion"] == product["Metadata"]["AWS::ServerlessRepo::Application"][
        "SemanticVersion"]
    assert set(app["Parameters"]) <= set(product["Parameters"])
    required = {name for name, spec in product["Parameters"].items() if "Default" not in spec}
    assert required <= set(app["Parameters"]), "every parameter without a default is given"
    for output in example["Outputs"].values():
        [name, attribute] = output["Value"]["Fn::GetAtt"]
        assert name == "AirbyteSync" and attribute.removeprefix("Outputs.") in product["Outputs"], attribute
    # Offline, the translator cannot ask the Serverless Application Repository: point the location at a URL.
    offline = copy.deepcopy(example)
    offline["Resources"]["AirbyteSync"]["Properties"]["Location"] = "https://example-bucket.s3.amazonaws.com/t.yaml"
    translated = translate(offline)
    stack = translated["Resources"]["AirbyteSync"]
    assert stack["Type"] == "AWS::CloudFormation::Stack"
    problems = [m for m in cfn_lint(translated) if m.rule.id.startswith("E")]
    assert not problems, "\n".join(f"{m.rule.id} {m.message}" for m in problems)


def test_pipeline_example_translates_and_lints():
    example = _load(EXAMPLES / "pipeline-state-machine" / "template.yaml")
    translated = translate(example)
    assert "PipelineStateMachine" in translated["Resources"]
    problems = [m for m in cfn_lint(translated) if m.rule.id[0] in "EW"]
    assert not problems, "\n".join(f"{m.rule.id} {m.message} at {m.path}" for m in problems)


@pytest.mark.parametrize("example", ["pipeline-state-machine", "nested-application"])
def test_examples_are_named_in_the_readme(example):
    assert f"examples/{example}" in (ROOT / "README.md").read_text()
