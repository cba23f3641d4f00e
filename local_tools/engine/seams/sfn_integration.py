"""Seam 10: the Step Functions integrations (startExecution, and the AWS SDK integration for the sfn service)
speak AWS's casing, as on AWS."""
from __future__ import annotations

import threading
from typing import Any

from .base import SeamMoved, Undo, patch, require_attr, require_params, require_source

# --- 10. startExecution casing -----------------------------------------------------------------------------------

def install_sfn_integration_casing() -> Undo:
    """The Step Functions integration (`arn:aws:states:::states:startExecution[.sync[:2]]`) speaks AWS's casing.

    A Task writes `{"StateMachineArn", "Input", "Name"}` and reads `$states.result.Output`; boto3 wants
    `stateMachineArn`/`input`/`name` and answers `executionArn`/`output`/`status`. moto 5.2.5 keeps the mapping
    helpers (StateTaskService._to_boto_request/_from_boto_response, from LocalStack) but its
    _normalise_parameters/_normalise_response are `pass`, so boto3 rejects the call (KeyError 'StateMachineArn',
    reported as States.Runtime) and continue-as-new never starts. For this integration only, the two hooks map
    names through the botocore operation model, as LocalStack does.

    The AWS SDK integration for the same service (`arn:aws:states:::aws-sdk:sfn:getExecutionHistory`, which a
    continued execution uses to verify its parent) has the same gap: StateTaskServiceAwsSdk inherits the no-op
    hooks, so `ExecutionArn` reaches boto3 unmapped. The same two hooks are installed there, for the sfn service
    only (other aws-sdk services keep moto's behaviour).
    """
    seam = "StateTaskServiceSfn._normalise_parameters/_normalise_response"
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
    camel_to_snake_case = require_attr(seam, service_module, "camel_to_snake_case")
    for name in ("_to_boto_request", "_from_boto_response", "_get_boto_service_name", "_get_boto_service_action"):
        require_attr(seam, base_class, name)
    base_parameters = require_attr(seam, base_class, "_normalise_parameters")
    base_response = require_attr(seam, base_class, "_normalise_response")
    require_params(seam, base_parameters, ["self", "parameters", "boto_service_name", "service_action_name"])
    require_params(seam, base_response, ["self", "response", "boto_service_name", "service_action_name"])
    own_parameters = require_attr(seam, sfn_class, "_normalise_parameters")
    require_source(seam, own_parameters, ("super()._normalise_parameters(",))
    if "_normalise_response" in sfn_class.__dict__:
        raise SeamMoved(seam, "StateTaskServiceSfn now defines _normalise_response itself")
    require_source(seam, require_attr(seam, sfn_module.StateTaskServiceSfn, "_build_sync2_resolver"),
                    ('submission_output["ExecutionArn"]', 'service_action_name="describe_execution"'))
    aws_sdk_class = require_attr(seam, aws_sdk_module, "StateTaskServiceAwsSdk")
    for name in ("_normalise_parameters", "_normalise_response"):
        if name in aws_sdk_class.__dict__:
            raise SeamMoved(seam, f"StateTaskServiceAwsSdk now defines {name} itself")
    require_source(seam, require_attr(seam, aws_sdk_class, "_eval_service_task"),
                   ("getattr(api_client, api_action)(**normalised_parameters)",))

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

    def _normalise_parameters(self: Any, parameters: dict, boto_service_name: str | None = None,
                              service_action_name: str | None = None) -> None:
        own_parameters(self, parameters, boto_service_name=boto_service_name,
                       service_action_name=service_action_name)
        operation = operation_model(self, boto_service_name, service_action_name)
        if operation is not None and operation.input_shape is not None:
            self._to_boto_request(parameters, operation.input_shape)

    def _normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                            service_action_name: str | None = None) -> None:
        operation = operation_model(self, boto_service_name, service_action_name)
        if operation is not None and operation.output_shape is not None:
            self._from_boto_response(response, operation.output_shape)

    def _aws_sdk_normalise_parameters(self: Any, parameters: dict, boto_service_name: str | None = None,
                                      service_action_name: str | None = None) -> None:
        if self.resource.api_name == "sfn":
            operation = operation_model(self, boto_service_name, service_action_name)
            if operation is not None and operation.input_shape is not None:
                self._to_boto_request(parameters, operation.input_shape)

    def _aws_sdk_normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                                    service_action_name: str | None = None) -> None:
        if self.resource.api_name == "sfn":
            _normalise_response(self, response, boto_service_name, service_action_name)

    undo_parameters = patch(sfn_class, "_normalise_parameters", _normalise_parameters)
    sfn_class._normalise_response = _normalise_response
    aws_sdk_class._normalise_parameters = _aws_sdk_normalise_parameters
    aws_sdk_class._normalise_response = _aws_sdk_normalise_response

    def undo() -> None:
        if sfn_class.__dict__.get("_normalise_response") is _normalise_response:
            del sfn_class._normalise_response
        for name, installed in (("_normalise_parameters", _aws_sdk_normalise_parameters),
                                ("_normalise_response", _aws_sdk_normalise_response)):
            if aws_sdk_class.__dict__.get(name) is installed:
                delattr(aws_sdk_class, name)
        undo_parameters()

    return undo


