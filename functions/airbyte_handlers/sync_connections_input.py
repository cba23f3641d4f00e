"""The documented fields of a many-sync request ("Airbyte Syncs Requested", the many-sync schedule), and the checks
that refuse a bad one by name before anything starts.

FIELDS is the part of the sync-connections workflow's input schema a request may set
(arazzo/airbyte-sync-connections-workflow.yml; a test holds the two equal). The checks cover what that schema says
about these fields and the rule "exactly one of connectionIds, connectionNames, tag"; the machine checks its input
again (Arazzo.InvalidInput), so this is a first, clear refusal, not the only one.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

UUID_STRING: dict[str, Any] = {"type": "string", "format": "uuid"}
FIELDS: dict[str, dict[str, Any]] = {
    "connectionIds": {"type": "array", "maxItems": 100, "items": UUID_STRING},
    "connectionNames": {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1}},
    "tag": {"type": "string"},
    "workspaceIds": {"type": "array", "items": UUID_STRING},
    "maxConcurrency": {"type": "integer", "minimum": 1, "maximum": 40},
    "failOnUnsuccessfulSync": {"type": "boolean"},
    "jobType": {"type": "string", "enum": ["sync", "reset", "refresh", "clear"]},
    "deadlineSeconds": {"type": "integer", "minimum": 60, "maximum": 31449600},
    "pollInitialSeconds": {"type": "integer", "minimum": 1, "maximum": 3600},
    "pollElapsedFraction": {"type": "number", "minimum": 0, "maximum": 1},
    "pollMaxSeconds": {"type": "integer", "minimum": 1, "maximum": 3600},
    "pollPolicy": {"type": "string", "enum": ["adaptive", "predictive"]},
}
SELECTORS = ("connectionIds", "connectionNames", "tag")
DEFAULT_JOB_TYPE = "sync"  # what each connection's sync runs when the request names no jobType
_KIND_WORDS = {"array": "a list", "string": "a string", "integer": "an integer", "number": "a number",
               "boolean": "true or false"}  # fmt: skip


class InvalidSyncRequest(ValueError):
    """A request the admission function refuses; nothing starts. The message names fields, not their values."""


def _is_kind(kind: str, value: Any) -> bool:
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return False
        return kind == "number" or float(value).is_integer()
    return isinstance(value, {"array": list, "string": str, "boolean": bool}[kind])


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def field_problems(name: str, value: Any, schema: dict[str, Any]) -> list[str]:
    """What is wrong with one field's value under its schema, in words (empty when nothing)."""
    kind = schema["type"]
    if not _is_kind(kind, value):
        return [f"{name}: must be {_KIND_WORDS[kind]}"]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{name}: must be one of {', '.join(schema['enum'])}")
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{name}: must be at least {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        problems.append(f"{name}: must be at most {schema['maximum']}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        problems.append(f"{name}: must not be empty")
    if schema.get("format") == "uuid" and not _is_uuid(value):
        problems.append(f"{name}: must be a UUID")
    if kind == "array":
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{name}: must have at most {schema['maxItems']} items")
        for index, item in enumerate(value):
            wrong = field_problems(f"{name}[{index}]", item, schema["items"])
            if wrong:
                problems.extend(wrong)
                break  # the first wrong item says enough
    return problems


def checked_sync_connections_input(detail: Any, event_job_types: list[str] | None) -> tuple[dict[str, Any], list[str]]:
    """The sync-connections input made of the request's documented fields, and the names of the fields it left out.

    event_job_types: the job types the deployment lets events ask for (None for the schedule, whose input the
    template writes). Raises InvalidSyncRequest naming every problem.
    """
    if not isinstance(detail, dict):
        raise InvalidSyncRequest("the request must be a JSON object of the sync-connections inputs")
    execution_input = {key: detail[key] for key in FIELDS if key in detail}
    ignored = sorted(str(key) for key in detail if key not in FIELDS)
    problems = [
        problem for key, value in execution_input.items() for problem in field_problems(key, value, FIELDS[key])
    ]
    if sum(execution_input.get(key) not in (None, [], "") for key in SELECTORS) != 1:
        problems.append("connectionIds, connectionNames, tag: give exactly one of them")
    job_type = execution_input.get("jobType", DEFAULT_JOB_TYPE)
    if event_job_types is not None and job_type in FIELDS["jobType"]["enum"] and job_type not in event_job_types:
        problems.append(
            f"jobType: {job_type} is not allowed for events "
            f"(the deployment's EventJobTypes: {', '.join(event_job_types)})"
        )
    if problems:
        raise InvalidSyncRequest("; ".join(problems))
    return execution_input, ignored
