"""Seams 10b-18 (local_tools/engine/seams/): installed, in effect, undone. The loud failure of each when moto moves
it is in test_moto_seams.py (test_a_moved_seam_fails_loudly); behaviour through the engine in test_engine_limits.py
and test_engine_quotas.py."""
import json
from types import SimpleNamespace

import pytest

from local_tools.clock import VirtualClock
from local_tools.engine import seams as moto_seams


@pytest.fixture
def undo_all():
    undos = []
    yield undos
    for undo in reversed(undos):
        undo()


def test_integration_casing_seam_gives_aws_sdk_its_own_hooks(undo_all):
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
        StateTaskServiceAwsSdk,
    )

    undo = moto_seams.install_service_integration_casing()
    assert {"_normalise_parameters", "_normalise_response"} <= set(StateTaskServiceAwsSdk.__dict__)
    undo()
    assert not {"_normalise_parameters", "_normalise_response"} & set(StateTaskServiceAwsSdk.__dict__)


@pytest.mark.parametrize("install, owner, attribute", [
    (lambda: moto_seams.install_task_timeout_on_clock(VirtualClock()),
     "moto.stepfunctions.parser.asl.component.state.exec.execute_state:ExecutionState", "_evaluate_with_timeout"),
    (moto_seams.install_history_limit, "moto.stepfunctions.parser.asl.eval.event.event_manager:EventManager",
     "add_event"),
    (moto_seams.install_execution_history_paging, "moto.stepfunctions.responses:StepFunctionResponse",
     "get_execution_history"),
    (moto_seams.install_definition_checks, "moto.stepfunctions.parser.models:StepFunctionsParserBackend",
     "_validate_definition"),
    (moto_seams.install_start_execution_checks, "moto.stepfunctions.parser.models:StepFunctionsParserBackend",
     "start_execution"),
    (moto_seams.install_states_all_exclusions,
     "moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl:ErrorEqualsDecl", "_eval_body"),
], ids=["task-timeout", "history-limit", "history-pages", "definition", "start-execution", "states-all"])
def test_limit_seams_install_and_undo(install, owner, attribute):
    import importlib

    module_name, class_name = owner.split(":")
    owner_class = getattr(importlib.import_module(module_name), class_name)
    before = owner_class.__dict__[attribute]
    undo = install()
    assert owner_class.__dict__[attribute] is not before
    undo()
    assert owner_class.__dict__[attribute] is before


def test_definition_check_seam_refuses_as_invalid_definition(undo_all):
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    undo_all.append(moto_seams.install_definition_checks())
    for definition in ({"StartAt": "S" * 81, "States": {"S" * 81: {"Type": "Pass", "End": True}}},
                       {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": -1, "End": True}}}):
        with pytest.raises(Exception) as refused:
            StepFunctionsParserBackend._validate_definition(json.dumps(definition))
        assert getattr(refused.value, "error_type", None) == "InvalidDefinition", (
            "seam StepFunctionsParserBackend._validate_definition: " + repr(refused.value))


def test_query_evaluation_seam_turns_jsonata_errors_into_query_evaluation_errors(undo_all):
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringJSONata
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.seconds import SecondsJSONata

    before = SecondsJSONata.__dict__["_get_wait_seconds"]
    undo = moto_seams.install_query_evaluation_errors()
    assert "eval" in StringJSONata.__dict__ and SecondsJSONata.__dict__["_get_wait_seconds"] is not before
    undo()
    assert "eval" not in StringJSONata.__dict__ and SecondsJSONata.__dict__["_get_wait_seconds"] is before


def test_payload_seam_lets_exactly_256_kib_pass(undo_all):
    from moto.stepfunctions.parser.asl.component.state import state as state_module

    exactly = "x" * (256 * 1024)
    assert not state_module.is_within_size_quota(exactly), "moto 5.2.5 refuses exactly 256 KiB"
    undo_all.append(moto_seams.install_payload_limits())
    assert state_module.is_within_size_quota(exactly), "seam quotas.is_within_size_quota not in effect"
    assert not state_module.is_within_size_quota(exactly + "x")


def test_states_all_seam_does_not_match_runtime_errors(undo_all):
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType as Type,
    )

    undo_all.append(moto_seams.install_states_all_exclusions())
    states_all = ErrorEqualsDecl([StatesErrorName(typ=Type.StatesALL)])
    for error, matched in ((StatesErrorName(typ=Type.StatesRuntime), False),
                           (StatesErrorName(typ=Type.StatesStatesDataLimitExceeded), False),
                           (StatesErrorName(typ=Type.StatesTimeout), True), (CustomErrorName("Fixture.X"), True)):
        env = SimpleNamespace(stack=[error])
        states_all._eval_body(env)
        assert env.stack == [matched], f"seam ErrorEqualsDecl._eval_body: States.ALL vs {error.error_name}"
