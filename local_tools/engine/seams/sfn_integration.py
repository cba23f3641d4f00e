"""Seams 10 and 24: the service integrations speak AWS's casing (startExecution and every
`aws-sdk:<service>:<action>`), and a `.sync` Task notices its child's end when it happens."""

from __future__ import annotations

import threading
from typing import Any

from .base import (
    SeamMoved,
    Undo,
    patch,
    patch_new,
    require_attr,
    require_inherited,
    require_params,
    require_source,
    undo_all,
)

# --- 10. Integration casing --------------------------------------------------------------------------------------


def install_service_integration_casing() -> Undo:
    """Arguments in the API's PascalCase member names go to boto under boto's names; results come back PascalCase.

    `arn:aws:states:::states:startExecution[.sync[:2]]`: a Task writes `{"StateMachineArn", "Input", "Name"}` and
    reads `$states.result.Output`. `arn:aws:states:::aws-sdk:sfn:getExecutionHistory`: a Task writes
    `{"ExecutionArn", "ReverseOrder", "MaxResults", "IncludeExecutionData"}` and reads `Events[].Type`,
    `Events[].TaskScheduledEventDetails.Parameters`. boto3 wants `stateMachineArn`/`executionArn`... and answers
    `executionArn`/`events[].type`. moto 5.2.5 keeps the mapping helpers (StateTaskService._to_boto_request /
    _from_boto_response, from LocalStack) but its _normalise_parameters/_normalise_response are `pass`, so boto3
    rejects the call (a KeyError reported as States.Runtime) or the result keeps boto's names. For these two
    integrations (StateTaskServiceSfn, StateTaskServiceAwsSdk) the hooks map names through the botocore
    operation model, as LocalStack does.
    """
    seam = "StateTaskServiceSfn/StateTaskServiceAwsSdk._normalise_parameters/_normalise_response"
    import botocore.session
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service as service_module,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as aws_sdk_module,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn_module,
    )

    base_class = require_attr(seam, service_module, "StateTaskService")
    sfn_class = require_attr(seam, sfn_module, "StateTaskServiceSfn")
    aws_sdk_class = require_attr(seam, aws_sdk_module, "StateTaskServiceAwsSdk")
    camel_to_snake_case = require_attr(seam, service_module, "camel_to_snake_case")
    for name in ("_to_boto_request", "_from_boto_response", "_get_boto_service_name", "_get_boto_service_action"):
        require_attr(seam, base_class, name)
    base_parameters = require_attr(seam, base_class, "_normalise_parameters")
    base_response = require_attr(seam, base_class, "_normalise_response")
    require_params(seam, base_parameters, ["self", "parameters", "boto_service_name", "service_action_name"])
    require_params(seam, base_response, ["self", "response", "boto_service_name", "service_action_name"])
    require_source(
        seam,
        base_class._eval_execution,
        ("self._normalise_parameters(normalised_parameters)", "self._normalise_response(output_value)"),
    )
    own_sfn_parameters = require_attr(seam, sfn_class, "_normalise_parameters")
    require_source(seam, own_sfn_parameters, ("super()._normalise_parameters(",))
    for owner, name in (
        (sfn_class, "_normalise_response"),
        (aws_sdk_class, "_normalise_parameters"),
        (aws_sdk_class, "_normalise_response"),
    ):
        require_inherited(seam, owner, name)
    require_source(
        seam,
        require_attr(seam, sfn_class, "_build_sync2_resolver"),
        ('submission_output["ExecutionArn"]', 'service_action_name="describe_execution"'),
    )
    require_source(
        seam,
        aws_sdk_class._eval_service_task,
        ("getattr(api_client, api_action)(**normalised_parameters)", 'response.pop("ResponseMetadata", None)'),
    )

    service_models: dict[str, Any] = {}
    models_lock = threading.Lock()

    def operation_model(task: Any, boto_service_name: str | None, service_action_name: str | None) -> Any:
        service = task._get_boto_service_name(boto_service_name=boto_service_name)
        action = task._get_boto_service_action(service_action_name=service_action_name)
        with models_lock:
            model = service_models.get(service)
            if model is None:
                model = service_models[service] = botocore.session.get_session().get_service_model(service)
        for name in model.operation_names:
            if camel_to_snake_case(name) == action:
                return model.operation_model(name)
        return None

    def to_boto(
        self: Any, parameters: dict, boto_service_name: str | None = None, service_action_name: str | None = None
    ) -> None:
        operation = operation_model(self, boto_service_name, service_action_name)
        if operation is not None and operation.input_shape is not None:
            self._to_boto_request(parameters, operation.input_shape)

    def sfn_parameters(
        self: Any, parameters: dict, boto_service_name: str | None = None, service_action_name: str | None = None
    ) -> None:
        own_sfn_parameters(
            self, parameters, boto_service_name=boto_service_name, service_action_name=service_action_name
        )
        to_boto(self, parameters, boto_service_name, service_action_name)

    def from_boto(
        self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
    ) -> None:
        operation = operation_model(self, boto_service_name, service_action_name)
        if operation is not None and operation.output_shape is not None:
            self._from_boto_response(response, operation.output_shape)

    # moto's classes inherit the no-op hooks: each gets its own
    undos = [
        patch(sfn_class, "_normalise_parameters", sfn_parameters),
        patch_new(sfn_class, "_normalise_response", from_boto),
        patch_new(aws_sdk_class, "_normalise_parameters", to_boto),
        patch_new(aws_sdk_class, "_normalise_response", from_boto),
    ]
    return undo_all(*undos)


# --- 24. `.sync` Tasks wake when an execution ends -----------------------------------------------------------------

# How long a `.sync` Task still sleeps between two looks at its child when no execution ended meanwhile (a stop of
# the Task's own execution, for one, is noticed after at most this long; moto: every 0.5 s whatever happens).
SYNC_LOOK_SECONDS = 2.0


class SyncWake:
    """The `.sync` Tasks' wait between two looks at the child execution: until any execution ends (`notify`)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._ends = 0

    def notify(self) -> None:
        with self._condition:
            self._ends += 1
            self._condition.notify_all()

    def sleep(self, seconds: float) -> None:
        with self._condition:
            seen = self._ends
            self._condition.wait_for(lambda: self._ends != seen, timeout=max(seconds, SYNC_LOOK_SECONDS))


def install_sync_wake(wake: SyncWake) -> Undo:
    """A `.sync` Task looks at its child execution again as soon as some execution ended, not every 0.5 s.

    StateTaskServiceCallback._eval_sync calls `time.sleep(0.5)` between two DescribeExecution calls of the child
    (each one through botocore and moto's serialiser): with continue-as-new, every generation's parent does this
    until the last one ends, so a 24 h fixed-interval sync kept a hundred threads describing executions, and each
    end reached the root only after 0.5 s per generation. The module gets a `time` whose sleep waits on `wake`,
    which the engine notifies from its execution-ended hook (seam 8); the loop itself is moto's.
    """
    seam = "StateTaskServiceCallback._eval_sync (time.sleep)"
    import time as time_module

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback_module,
    )

    if require_attr(seam, callback_module, "time") is not time_module:
        raise SeamMoved(seam, "state_task_service_callback.time is not the time module")
    callback_class = require_attr(seam, callback_module, "StateTaskServiceCallback")
    require_source(
        seam,
        require_attr(seam, callback_class, "_eval_sync"),
        ("while env.is_running():", "sync_result = sync_resolver()", "time.sleep(_DELAY_SECONDS_SYNC_CONDITION_CHECK)"),
    )

    class _WakeTime:
        """Stands in for the `time` module inside state_task_service_callback only."""

        def __getattr__(self, name: str) -> Any:
            return getattr(time_module, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            wake.sleep(seconds)

    return patch(callback_module, "time", _WakeTime())
