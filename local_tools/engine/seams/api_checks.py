"""Seams 14-15: CreateStateMachine and StartExecution refuse what AWS refuses (moto's executing backend does not)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from .base import SeamMoved, Undo, patch, require_attr, require_params, require_source

MAX_STATE_NAME_LENGTH = 80
MAX_WAIT_SECONDS = 99_999_999
MAX_PAYLOAD_BYTES = 256 * 1024  # 262,144: StartExecution `input`, as UTF-8 bytes


# --- 14. CreateStateMachine / UpdateStateMachine -----------------------------------------------------------------


def _states(definition: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(location, state name, state) for every state, nested Parallel branches and Map processors included."""
    states = definition.get("States") if isinstance(definition, dict) else None
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        location = f"{path}/States/{name}"
        yield location, name, state
        if not isinstance(state, dict):
            continue
        for index, branch in enumerate(state.get("Branches") or []):
            yield from _states(branch, f"{location}/Branches[{index}]")
        for key in ("ItemProcessor", "Iterator"):
            yield from _states(state.get(key), f"{location}/{key}")


def definition_problems(definition_text: str) -> list[str]:
    """What AWS's definition check refuses and moto's parser accepts: state names over 80 characters (Amazon States
    Language: a state name is at most 80 Unicode characters) and a literal Wait `Seconds` over 99999999."""
    try:
        definition = json.loads(definition_text)
    except ValueError:
        return []  # moto's parser reports unreadable JSON itself
    problems = []
    for location, name, state in _states(definition):
        if len(name) > MAX_STATE_NAME_LENGTH:
            problems.append(
                f"State name is longer than {MAX_STATE_NAME_LENGTH} characters "
                f"({len(name)}): '{name}' at {location.rsplit('/States/', 1)[0] or '/'}States"
            )
        seconds = state.get("Seconds") if isinstance(state, dict) and state.get("Type") == "Wait" else None
        if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > MAX_WAIT_SECONDS:
            problems.append(
                f"Wait Seconds must be an integer from 0 to {MAX_WAIT_SECONDS}, got {seconds} at {location}/Seconds"
            )
    return problems


def install_definition_checks() -> Undo:
    """CreateStateMachine (and UpdateStateMachine) answer InvalidDefinition where AWS does.

    moto's executing backend validates a definition by parsing it (StepFunctionsParserBackend._validate_definition),
    which accepts state names of any length and any integer Wait Seconds, and its InvalidDefinition (from
    parser.api) reaches the client without an error code (botocore shows "An error occurred ()"). The replacement
    adds the two checks and answers every refusal as `InvalidDefinition`, with AWS's message prefix
    "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ...'" for ours (the detail is our wording).
    """
    seam = "StepFunctionsParserBackend._validate_definition"
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser import models as parser_models

    backend_class = require_attr(seam, parser_models, "StepFunctionsParserBackend")
    original = backend_class.__dict__.get("_validate_definition")
    if not isinstance(original, staticmethod):
        raise SeamMoved(seam, "StepFunctionsParserBackend._validate_definition is no longer a staticmethod")
    original_function = original.__func__
    require_params(seam, original_function, ["definition"])
    require_source(seam, original_function, ("AmazonStateLanguageParser.parse(definition)", "raise InvalidDefinition("))
    for caller in ("create_state_machine", "update_state_machine"):
        require_source(seam, require_attr(seam, backend_class, caller), ("_validate_definition(definition",))
    parser_invalid_definition = require_attr(seam, parser_models, "InvalidDefinition")

    class InvalidDefinition(AWSError):
        TYPE = "InvalidDefinition"
        STATUS = 400

    def _validate_definition(definition: str) -> None:
        problems = definition_problems(definition)
        if problems:
            raise InvalidDefinition(
                "Invalid State Machine Definition: '"
                + "; ".join(f"SCHEMA_VALIDATION_FAILED: {problem}" for problem in problems)
                + "'"
            )
        try:
            original_function(definition)
        except parser_invalid_definition as refused:
            raise InvalidDefinition(str(getattr(refused, "message", None) or refused)) from refused

    return patch(backend_class, "_validate_definition", staticmethod(_validate_definition))


# --- 15. StartExecution ------------------------------------------------------------------------------------------


def install_start_execution_checks() -> Undo:
    """StartExecution checks the name and the input size as AWS does; an unnamed execution gets a UUID name.

    moto's executing backend (StepFunctionsParserBackend.start_execution) skips the name check its own base
    backend has (`_validate_name`: at most 80 characters -> ValidationException; whitespace, brackets, wildcards,
    `"#%\\^|~`$&,;:/` and control characters -> InvalidName), accepts an input of any size (AWS: at most 262,144
    bytes of UTF-8 -> ValidationException) and names an unnamed execution "None", so a second unnamed start is
    ExecutionAlreadyExists (AWS generates a UUID). Its idempotency already is AWS's: the same name and input while
    that execution runs answers the same execution; a different input, or a closed execution, ExecutionAlreadyExists.
    """
    seam = "StepFunctionsParserBackend.start_execution"
    from moto.stepfunctions import exceptions as sfn_exceptions
    from moto.stepfunctions.parser import models as parser_models

    backend_class = require_attr(seam, parser_models, "StepFunctionsParserBackend")
    original = require_attr(seam, backend_class, "start_execution")
    require_params(seam, original, ["self", "state_machine_arn", "name", "execution_input", "trace_header"])
    require_source(seam, original, ("_handle_name_input_idempotency(", "exec_name = name"))
    require_attr(seam, backend_class, "_validate_name")
    validation_exception = require_attr(seam, sfn_exceptions, "ValidationException")

    def start_execution(
        self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None, trace_header: Any = None
    ) -> Any:
        name = name or str(uuid.uuid4())
        self._validate_name(name)
        if execution_input is not None and len(execution_input.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            raise validation_exception(
                "1 validation error detected: Value at 'input' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_PAYLOAD_BYTES}"
            )
        return original(self, state_machine_arn, name, execution_input, trace_header)

    return patch(backend_class, "start_execution", start_execution)
