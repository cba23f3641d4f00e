"""Deploy a SAM template into moto, as `sam deploy` would into AWS, then fix what moto lacks.

Steps:
  1. Read the template (CloudFormation YAML short forms like !Ref/!GetAtt/!Sub included).
  2. Point each CodeUri / DefinitionUri that is a local path at a placeholder S3 object, remembering the path.
  3. Translate SAM -> CloudFormation with aws-sam-translator, offline (no IAM lookups).
  4. create_stack in moto CloudFormation (placeholder code zips are uploaded first: moto reads them).
  5. moto puts state machines in its non-executing backend and ignores DefinitionSubstitutions: for each state
     machine, read the local definition file, apply DefinitionSubstitutions resolved against the stack
     (Ref/GetAtt/Sub of functions, parameters, pseudo parameters) and create it, under the same name and hence
     the same ARN, in the executing backend.
  6. Register each function's local code directory with the engine, so its handler runs in-process.
"""

from __future__ import annotations

import copy
import io
import json
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from samtranslator.intrinsics.actions import GetAttAction, RefAction, SubAction
from samtranslator.intrinsics.resolver import IntrinsicsResolver
from samtranslator.yaml_helper import yaml_parse

from local_tools.engine.engine import substitute_definition

if TYPE_CHECKING:
    from local_tools.engine.engine import LocalEngine

CODE_BUCKET = "local-engine-code"


@dataclass
class DeployedStack:
    stack_name: str
    outputs: dict[str, str]  # stack Outputs, OutputKey -> OutputValue
    parameters: dict[str, str]  # effective parameter values (caller's over template defaults)
    resources: dict[str, str]  # logical id -> physical id, translated template
    functions: dict[str, str] = field(default_factory=dict)  # logical id -> function name
    function_arns: dict[str, str] = field(default_factory=dict)  # logical id -> function ARN
    state_machines: dict[str, str] = field(default_factory=dict)  # logical id -> state machine ARN
    rules: dict[str, str] = field(default_factory=dict)  # logical id -> EventBridge rule name
    definitions: dict[str, str] = field(default_factory=dict)  # logical id -> substituted definition text
    not_created: list[str] = field(default_factory=list)  # resource types moto's CloudFormation skipped


# --- 1. YAML with CloudFormation short forms ---------------------------------------------------------------------


def load_template(path: Path) -> dict[str, Any]:
    """The template as a dict; short forms (!Ref, !GetAtt A.B, !Sub...) read as aws-sam-translator reads them."""
    return yaml_parse(path.read_text())


# --- 2.-3. local paths and translation ---------------------------------------------------------------------------


def _is_local_path(value: Any) -> bool:
    return isinstance(value, str) and not value.startswith("s3://")


def _replace_local_uris(template: dict[str, Any], base_dir: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """Swap local CodeUri/DefinitionUri for placeholder S3 URIs; return {logical id: local path} for each."""
    code_dirs, definition_files = {}, {}
    global_code_uri = template.get("Globals", {}).get("Function", {}).get("CodeUri")
    if _is_local_path(global_code_uri):
        template["Globals"]["Function"]["CodeUri"] = f"s3://{CODE_BUCKET}/globals.zip"
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.setdefault("Properties", {}) if isinstance(resource, dict) else {}
        if resource.get("Type") == "AWS::Serverless::Function":
            code_uri = properties.get("CodeUri", global_code_uri)
            if _is_local_path(code_uri):
                code_dirs[logical_id] = (base_dir / code_uri).resolve()
                properties["CodeUri"] = f"s3://{CODE_BUCKET}/{logical_id}.zip"
        elif resource.get("Type") == "AWS::Serverless::StateMachine":
            if _is_local_path(properties.get("DefinitionUri")):
                definition_files[logical_id] = (base_dir / properties["DefinitionUri"]).resolve()
                properties["DefinitionUri"] = f"s3://{CODE_BUCKET}/{logical_id}.asl.json"
    return code_dirs, definition_files


class _OfflineManagedPolicies:
    """aws-sam-translator asks IAM for managed policy ARNs by name; offline, AWS-managed ARNs follow a pattern."""

    def load(self) -> dict[str, str]:
        class _Policies(dict):
            def __contains__(self, name: object) -> bool:
                return isinstance(name, str)

            def __getitem__(self, name: str) -> str:
                return f"arn:aws:iam::aws:policy/{name}"

            def get(self, name: str, default: Any = None) -> str:
                return self[name]

        return _Policies()


def translate(template: dict[str, Any], parameters: Mapping[str, str], region: str, account_id: str) -> dict[str, Any]:
    import os

    from samtranslator.translator.transform import transform

    saved = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region  # the translator builds ARNs from the session region
    try:
        values = {"AWS::Region": region, "AWS::AccountId": account_id, "AWS::Partition": "aws", **parameters}
        return transform(copy.deepcopy(template), values, _OfflineManagedPolicies())
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved


# --- 4.-6. deploy ------------------------------------------------------------------------------------------------


def deploy_sam_template(
    engine: LocalEngine,
    template_path: Path,
    parameters: Mapping[str, Any] | None = None,
    stack_name: str = "local-stack",
) -> DeployedStack:
    import logging

    # moto warns and logs once per resource type its CloudFormation skips (it re-parses the template on
    # later calls too); DeployedStack.not_created reports them instead.
    cfn_logger = logging.getLogger("moto.cloudformation.parsing")
    level = cfn_logger.level
    cfn_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*not supported by moto's CloudFormation.*")
            return _deploy(engine, template_path, parameters or {}, stack_name)
    finally:
        cfn_logger.setLevel(level)


def _deploy(engine: LocalEngine, template_path: Path, parameters: Mapping[str, Any], stack_name: str) -> DeployedStack:
    template_path = Path(template_path).resolve()
    template = load_template(template_path)
    code_dirs, definition_files = _replace_local_uris(template, template_path.parent)
    effective = {
        name: str(spec["Default"]) for name, spec in template.get("Parameters", {}).items() if "Default" in spec
    }
    effective.update({name: _parameter_text(value) for name, value in parameters.items()})
    unknown = set(parameters) - set(template.get("Parameters", {}))
    if unknown:
        raise ValueError(f"parameters not declared by {template_path.name}: {sorted(unknown)}")

    translated = translate(template, effective, engine.region, engine.account_id)
    _upload_placeholders(engine, translated)
    _create_stack(engine, stack_name, translated, effective)
    stack = engine.cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {stack_name} ended {stack['StackStatus']}: {stack.get('StackStatusReason')}")
    physical = {
        resource["LogicalResourceId"]: resource["PhysicalResourceId"]
        for resource in engine.cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
        if resource["LogicalResourceId"]
    }  # skipped resource types show up with an empty id
    deployed = DeployedStack(
        stack_name=stack_name,
        parameters=effective,
        resources=physical,
        outputs={output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])},
    )
    deployed.not_created = sorted(
        {resource["Type"] for logical_id, resource in translated["Resources"].items() if logical_id not in physical}
    )
    resolver = _Resolver(engine, translated, physical, effective, stack_name)

    for logical_id, resource in translated["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function" and logical_id in physical:
            name = physical[logical_id]
            deployed.functions[logical_id] = name
            deployed.function_arns[logical_id] = resolver.values[f"{logical_id}.Arn"]
            if logical_id in code_dirs:
                engine.runner.register(name, code_dirs[logical_id])
        elif resource["Type"] == "AWS::Events::Rule" and logical_id in physical:
            deployed.rules[logical_id] = physical[logical_id].split("|")[-1].split("/")[-1]

    for logical_id, resource in translated["Resources"].items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine" or logical_id not in physical:
            continue
        properties = resource["Properties"]
        if logical_id in definition_files:
            text = definition_files[logical_id].read_text()
        elif isinstance(properties.get("Definition"), dict):  # written inline in the template
            text = json.dumps(properties["Definition"])
        elif "DefinitionString" in properties:  # inline, as SAM translates it (an Fn::Join of JSON lines)
            text = resolver.text(properties["DefinitionString"])
        else:
            continue
        substitutions = {
            key: resolver.text(value) for key, value in (properties.get("DefinitionSubstitutions") or {}).items()
        }
        definition = substitute_definition(text, substitutions)
        left = sorted(set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", definition)))
        if left:
            raise ValueError(f"{logical_id}: definition placeholders without a DefinitionSubstitutions value: {left}")
        arn = physical[logical_id]  # moto's CloudFormation names the machine; its physical id is the ARN
        name = arn.split(":")[-1]
        role_arn = resolver.text(properties["RoleArn"]) if "RoleArn" in properties else engine._local_role()
        created = engine.sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn)
        if created["stateMachineArn"] != arn:
            raise RuntimeError(f"{logical_id}: executable machine got ARN {created['stateMachineArn']}, not {arn}")
        deployed.state_machines[logical_id] = arn
        deployed.definitions[logical_id] = definition
    return deployed


def _create_stack(engine: LocalEngine, stack_name: str, translated: dict[str, Any], parameters: dict[str, str]) -> None:
    engine.cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(translated),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )


def _upload_placeholders(engine: LocalEngine, translated: dict[str, Any]) -> None:
    """moto's CloudFormation reads each function's S3 code and each DefinitionS3Location: give it something."""
    engine.s3.create_bucket(Bucket=CODE_BUCKET)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("README.txt", "code runs in-process from the local code directory\n")
    for resource in translated["Resources"].values():
        properties = resource.get("Properties", {})
        location = (
            properties.get("Code")
            if resource["Type"] == "AWS::Lambda::Function"
            else properties.get("DefinitionS3Location")
        )
        if isinstance(location, dict):
            key = location.get("S3Key") or location.get("Key")
            if key:
                body = archive.getvalue() if resource["Type"] == "AWS::Lambda::Function" else b"{}"
                engine.s3.put_object(Bucket=CODE_BUCKET, Key=key, Body=body)


def _parameter_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


class _Resolver:
    """Resolves the intrinsics a DefinitionSubstitutions value may use, against the created stack.

    aws-sam-translator's IntrinsicsResolver does the walking and the Ref / Fn::Sub substitution from a table of
    values: the parameters, pseudo parameters, each resource's Ref (its physical id) and, under "LogicalId.Attribute",
    the attributes read from the created resources (its GetAtt resolves nothing by itself, so a small Action reads that
    table). What it does not do is done here: Fn::Join and Fn::Split (not among its intrinsics), Fn::If with the
    template's Conditions, and a Fn::Sub variable map (it substitutes only its table).
    """

    def __init__(
        self,
        engine: LocalEngine,
        template: dict[str, Any],
        physical: dict[str, str],
        parameters: dict[str, str],
        stack_name: str,
    ):
        self.engine = engine
        self.conditions: dict[str, Any] = template.get("Conditions") or {}
        self.values: dict[str, Any] = {
            **parameters,
            "AWS::Region": engine.region,
            "AWS::AccountId": engine.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
            "AWS::StackName": stack_name,
            **physical,
        }
        for logical_id, resource in template["Resources"].items():
            if logical_id in physical:
                self.values.update(self._attributes(logical_id, resource["Type"], physical[logical_id]))

    def _attributes(self, logical_id: str, resource_type: str, physical_id: str) -> dict[str, str]:
        if resource_type == "AWS::Lambda::Function":
            configuration = self.engine.lambda_.get_function(FunctionName=physical_id)["Configuration"]
            return {f"{logical_id}.Arn": configuration["FunctionArn"]}
        if resource_type == "AWS::IAM::Role":
            return {f"{logical_id}.Arn": self.engine.iam.get_role(RoleName=physical_id)["Role"]["Arn"]}
        if resource_type == "AWS::StepFunctions::StateMachine":
            return {f"{logical_id}.Arn": physical_id, f"{logical_id}.Name": physical_id.split(":")[-1]}
        return {f"{logical_id}.Arn": physical_id} if physical_id.startswith("arn:") else {}

    def text(self, value: Any) -> str:
        resolved = self._resolve(copy.deepcopy(value), self.values)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, (str, int, float)):
            return str(resolved)
        raise ValueError(
            f"cannot resolve {_first_intrinsic(resolved) or value!r} locally "
            "(not a parameter, a pseudo parameter or an attribute of a created resource)"
        )

    def _resolve(self, value: Any, values: dict[str, Any]) -> Any:
        if isinstance(value, dict) and list(value) == ["Fn::If"]:
            condition, when_true, when_false = value["Fn::If"]
            return self._resolve(when_true if self.condition(condition) else when_false, values)
        if isinstance(value, dict) and len(value) == 1 and "Fn::Sub" in value and isinstance(value["Fn::Sub"], list):
            template, variables = value["Fn::Sub"]
            values = {**values, **{name: self.text(variable) for name, variable in variables.items()}}
            value = {"Fn::Sub": template}
        resolver = IntrinsicsResolver(
            values, {"Ref": RefAction(), "Fn::Sub": SubAction(), "Fn::GetAtt": _GetAttFromValues()}
        )
        resolved = resolver.resolve_parameter_refs(value)
        if isinstance(resolved, dict) and len(resolved) == 1:
            ((function, argument),) = resolved.items()
            if function == "Fn::Sub" and isinstance(argument, str) and "${" not in argument:
                return argument
            if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
                separator, items = argument
                return separator.join(self.list(items))
        return resolved

    def list(self, value: Any) -> list[str]:
        """A list value: literal items, or Fn::Split of a text (a CommaDelimitedList's Ref is its text, split)."""
        if isinstance(value, dict) and list(value) == ["Fn::Split"]:
            separator, text = value["Fn::Split"]
            return self.text(text).split(separator)
        if isinstance(value, dict) and list(value) == ["Ref"]:
            return self.text(value).split(",")
        return [self.text(item) for item in value]

    def condition(self, name_or_expression: Any) -> bool:
        """A template Condition, evaluated against the parameters (Fn::Equals/Not/And/Or, Condition)."""
        expression = self.conditions[name_or_expression] if isinstance(name_or_expression, str) else name_or_expression
        ((function, argument),) = expression.items()
        if function == "Fn::Equals":
            return self.text(argument[0]) == self.text(argument[1])
        if function == "Fn::Not":
            return not self.condition(argument[0])
        if function == "Fn::And":
            return all(self.condition(item) for item in argument)
        if function == "Fn::Or":
            return any(self.condition(item) for item in argument)
        if function == "Condition":
            return self.condition(argument)
        raise ValueError(f"cannot evaluate condition {expression!r} locally")


class _GetAttFromValues(GetAttAction):
    """Fn::GetAtt [LogicalId, Attribute] read from the resolver's table, under "LogicalId.Attribute"."""

    def resolve_parameter_refs(self, input_dict: Any, parameters: dict[str, Any]) -> Any:
        if input_dict is None or not self.can_handle(input_dict):
            return input_dict
        target = input_dict[self.intrinsic_name]
        key = ".".join(target) if isinstance(target, list) else str(target)
        return parameters.get(key, input_dict)


def _first_intrinsic(value: Any) -> Any:
    """The first intrinsic function (a one-key dict: Ref or Fn::...) left in `value`, if any."""
    values: Iterable[Any]
    if isinstance(value, dict):
        if len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::")):
            return value
        values = value.values()
    elif isinstance(value, list):
        values = value
    else:
        return None
    for item in values:
        found = _first_intrinsic(item)
        if found is not None:
            return found
    return None
