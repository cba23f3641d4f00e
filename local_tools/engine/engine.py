"""LocalEngine: a state machine run for real in moto, with real Lambda handlers, without AWS or Docker.

    with LocalEngine(clock=VirtualClock(), sleep_modules=("my_client.retry",)) as engine:
        arn = engine.create_state_machine("machine.asl.json", functions={"WorkFunctionArn": FunctionSpec(...)})
        result = engine.run(arn, {"some": "input"})
        assert result.status == "SUCCEEDED", result.error

(local_tools.sam deploys a whole SAM template into an engine.)

What is real: moto's ASL interpreter (states, Retry/Catch, history events), JSONata as AWS evaluates it (npm
jsonata 2.0.6, in one Node process per engine: started on the first expression, stopped when the engine exits),
moto's Lambda/Secrets Manager/CloudFormation/EventBridge/CloudWatch APIs, and the handlers' code. What the engine
adds (see seams/): handlers run in-process; Wait, Retry, TimeoutSeconds and CloudWatch datapoint times follow
`clock` (a VirtualClock makes a day-long poll instant); EventBridge events are delivered by the engine
(event_entries.py: PutEvents' checks; event_routing.py: moto's own pattern matcher, EventBridge's target input
and delivery; put_events reports the executions a delivery started); an execution that ends emits the "Step
Functions Execution Status Change" event through the same routing, and a machine's `events:putEvents` Task puts
its events through it too (machine_events.py; every one is in `events_put`). The engine knows nothing of any
product: `sleep_modules` names the modules whose sleeps and clocks follow the engine clock.

It fails where AWS fails: Lambda Timeout (Sandbox.Timedout) and Task TimeoutSeconds (States.Timeout) on the engine
clock, 25,000 history events, 256 KiB payloads, state and execution names, Wait Seconds and other JSONata field
values (local_tools/engine/README.md lists every limit with its test).
"""

from __future__ import annotations

import collections
import datetime
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from local_tools.clock import RealClock, VirtualClock
from local_tools.engine import seams as moto_seams
from local_tools.engine.definitions import (
    definition_text,
    placeholder_zip,
    substitute_definition,
    substitution_text,
)
from local_tools.engine.event_entries import BusEvent, check_request, event_from_entry, make_event
from local_tools.engine.event_routing import Delivery, EventRouter, Publication
from local_tools.engine.jsonata_bridge import JsonataBridge
from local_tools.engine.lambda_runner import FunctionSpec, InProcessLambdaRunner, Invocation
from local_tools.engine.machine_events import MachineEvents
from local_tools.engine.results import ExecutionResult, output_from_history

if TYPE_CHECKING:
    from moto.core.models import MockAWS  # moto is imported when an engine starts

LOG = logging.getLogger(__name__)

STATUS_CHANGE_DETAIL_TYPE = "Step Functions Execution Status Change"
_LOCAL_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            }
        ],
    }
)

__all__ = [
    "LocalEngine",
    "ExecutionResult",
    "FunctionSpec",
    "Delivery",
    "BusEvent",
    "Publication",
    "RealClock",
    "VirtualClock",
]


@dataclass
class _ExecutionRecord:
    waits: list[float] = field(default_factory=list)
    retry_intervals: list[float] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)  # set after the status-change event is routed
    duration_seconds: float | None = None  # stop - start on the engine clock (moto omits stopDate when TIMED_OUT)


class LocalEngine:
    """A context manager: moto's mock_aws with executing state machines and the engine's seams installed.

    One at a time per process: the seams patch moto's classes, and handlers share os.environ.
    """

    _active: LocalEngine | None = None

    def __init__(
        self,
        clock: RealClock | VirtualClock | None = None,
        region: str = "us-east-1",
        sleep_modules: tuple[str, ...] = (),
    ):
        self.clock = clock if clock is not None else VirtualClock()
        self.region = region
        self.runner = InProcessLambdaRunner(self.clock, region, sleep_modules=sleep_modules)
        self.jsonata = JsonataBridge()  # evaluates every `{% %}` expression; stopped when the engine exits
        self.deliveries: list[Delivery] = []  # every EventBridge delivery, in order (event_routing.EventRouter)
        self.router = EventRouter(self)
        self.machine_events = MachineEvents(self)  # what the machines' events:putEvents Tasks put (seam 20)
        self.routing_errors: list[str] = []
        self._records: dict[str, _ExecutionRecord] = collections.defaultdict(_ExecutionRecord)
        self._records_lock = threading.Lock()
        self._sync_wake = moto_seams.SyncWake()
        self._mock: MockAWS | None = None
        self._undo: list[Any] = []
        self._saved_region_env: dict[str, str | None] = {}
        self._role_arn: str | None = None
        self.account_id = ""

    # --- lifecycle ------------------------------------------------------------------------------------------

    def __enter__(self) -> LocalEngine:
        moto_seams.check_moto_version()
        if LocalEngine._active is not None:
            raise RuntimeError("another LocalEngine is running in this process; leave it first")
        LocalEngine._active = self
        from moto import mock_aws

        self._saved_region_env = {key: os.environ.get(key) for key in ("AWS_DEFAULT_REGION", "AWS_REGION")}
        os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = self.region
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        try:
            self._install_seams()
            session = boto3.session.Session(region_name=self.region)
            self.sfn = session.client("stepfunctions")
            self.lambda_ = session.client("lambda")
            self.events = session.client("events")
            self.cloudwatch = session.client("cloudwatch")
            self.secretsmanager = session.client("secretsmanager")
            self.cloudformation = session.client("cloudformation")
            self.s3 = session.client("s3")
            self.iam = session.client("iam")
            self.account_id = session.client("sts").get_caller_identity()["Account"]
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _install_seams(self) -> None:
        clock = self.clock
        self._undo.append(moto_seams.install_jsonata_evaluator(clock, self.jsonata))
        self._undo.append(moto_seams.install_lambda_invoker(self.runner.invoke))
        self._undo.append(moto_seams.install_wait_on_clock(clock, self._record_wait))
        self._undo.append(moto_seams.install_retry_on_clock(clock, self._record_retry))
        self._undo.append(moto_seams.install_program_timeout_on_clock(clock))
        self._undo.append(moto_seams.install_timestamps_on_clock(clock))
        self._undo.append(moto_seams.install_execution_ended_hook(self._on_execution_ended))
        self._undo.append(moto_seams.install_task_client_cache())
        self._undo.append(moto_seams.install_service_integration_casing())
        self._undo.append(moto_seams.install_task_timeout_on_clock(clock))
        self._undo.append(moto_seams.install_history_limit())
        self._undo.append(moto_seams.install_execution_history_paging())
        self._undo.append(moto_seams.install_definition_checks())
        self._undo.append(moto_seams.install_start_execution_checks())
        self._undo.append(moto_seams.install_query_evaluation_errors())
        self._undo.append(moto_seams.install_payload_limits())
        self._undo.append(moto_seams.install_states_all_exclusions())
        self._undo.append(moto_seams.install_events_put_events(self.machine_events.put_events))
        self._undo.append(moto_seams.install_metric_time_on_clock(clock))
        self._undo.append(moto_seams.install_parse_tree_cache())
        self._undo.append(moto_seams.install_sync_wake(self._sync_wake))

    def __exit__(self, *exc_info: Any) -> None:
        if LocalEngine._active is self:
            LocalEngine._active = None
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        self.runner.close()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        for key, value in self._saved_region_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    # --- what handlers did ----------------------------------------------------------------------------------

    @property
    def logs(self) -> str:
        """Everything the handlers printed or logged, all invocations."""
        return self.runner.logs

    @property
    def invocations(self) -> list[Invocation]:
        return self.runner.invocations

    # --- resources ------------------------------------------------------------------------------------------

    def create_secret(self, name: str, value: Mapping[str, Any] | str) -> str:
        """A Secrets Manager secret (JSON-encoded when `value` is a mapping); returns its ARN."""
        secret_string = value if isinstance(value, str) else json.dumps(value)
        return self.secretsmanager.create_secret(Name=name, SecretString=secret_string)["ARN"]

    def create_function(self, name: str, spec: FunctionSpec) -> str:
        """A Lambda function whose handler runs in-process from spec.code_dir; returns its ARN."""
        arn = self.lambda_.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=self._local_role(),
            Handler=spec.handler,
            Code={"ZipFile": placeholder_zip()},
            Timeout=spec.timeout,
            MemorySize=spec.memory_size,
            Environment={"Variables": dict(spec.environment)},
        )["FunctionArn"]
        self.runner.register(name, spec.code_dir)
        return arn

    def create_state_machine(
        self,
        definition: str | os.PathLike | Mapping[str, Any],
        *,
        name: str | None = None,
        substitutions: Mapping[str, Any] | None = None,
        functions: Mapping[str, FunctionSpec] | None = None,
        role_arn: str | None = None,
    ) -> str:
        """Create an executable state machine from a bare ASL definition (path, JSON text or dict).

        `functions` maps a DefinitionSubstitutions key (e.g. "CreateJobFunctionArn") to the function to create;
        the key is then substituted with the function's ARN. `substitutions` supplies the other `${Key}` values.
        """
        text = definition_text(definition)
        values = {key: substitution_text(value) for key, value in (substitutions or {}).items()}
        for key, spec in (functions or {}).items():
            function_name = key[:-3] if key.endswith("Arn") else key
            values[key] = self.create_function(function_name, spec)
        text = substitute_definition(text, values)
        machine_name = name or f"local-machine-{uuid.uuid4().hex[:8]}"
        return self.sfn.create_state_machine(
            name=machine_name, definition=text, roleArn=role_arn or self._local_role()
        )["stateMachineArn"]

    def _local_role(self) -> str:
        if self._role_arn is None:
            self._role_arn = self.iam.create_role(
                RoleName="local-engine-role", AssumeRolePolicyDocument=_LOCAL_ROLE_POLICY
            )["Role"]["Arn"]
        return self._role_arn

    # --- executions -----------------------------------------------------------------------------------------

    def start_execution(self, state_machine_arn: str, input: Any = None, name: str | None = None) -> str:
        """Start an execution (input: any JSON value, or JSON text); returns its ARN."""
        input_text = input if isinstance(input, str) else json.dumps({} if input is None else input)
        # Always pass a name: moto names an unnamed execution "None", and a second one collides.
        return self.sfn.start_execution(
            stateMachineArn=state_machine_arn, input=input_text, name=name or f"local-{uuid.uuid4().hex}"
        )["executionArn"]

    def wait(self, execution_arn: str, timeout: float = 60.0) -> ExecutionResult:
        """Block (real time) until the execution ends and its status-change event was routed; `timeout` in
        real seconds. Returns the result even if still RUNNING at the timeout."""
        description = self.describe_when_ended(execution_arn, timeout)
        return self._result(description, self._record(execution_arn))

    def describe_when_ended(self, execution_arn: str, timeout: float = 60.0) -> dict[str, Any]:
        """describe_execution once the execution ended (or `timeout` real seconds passed), without reading its
        history (reading 25,000 events through moto takes a minute or two)."""
        # The end hook (seam 8) sets `ended` once moto has set the final status and the status-change event was
        # routed: nothing to poll (describing the execution every few ms would take the GIL from its thread).
        self._record(execution_arn).ended.wait(timeout)
        return self.sfn.describe_execution(executionArn=execution_arn)

    def run(
        self, state_machine_arn: str, input: Any = None, name: str | None = None, timeout: float = 60.0
    ) -> ExecutionResult:
        """start_execution + wait."""
        return self.wait(self.start_execution(state_machine_arn, input, name), timeout=timeout)

    def stop_execution(self, execution_arn: str, error: str | None = None, cause: str | None = None) -> None:
        arguments = {"executionArn": execution_arn}
        if error is not None:
            arguments["error"] = error
        if cause is not None:
            arguments["cause"] = cause
        self.sfn.stop_execution(**arguments)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every event of the execution, oldest first, as GetExecutionHistory gives them (read directly: seam 23)."""
        return moto_seams.read_history(self.account_id, self.region, execution_arn)

    def _result(self, description: dict[str, Any], record: _ExecutionRecord) -> ExecutionResult:
        events = self.history(description["executionArn"])
        output = output_from_history(events) if description["status"] == "SUCCEEDED" else None
        return ExecutionResult(
            execution_arn=description["executionArn"],
            status=description["status"],
            output=output,
            error=description.get("error"),
            cause=description.get("cause"),
            events=events,
            waits=list(record.waits),
            retry_intervals=list(record.retry_intervals),
            transitions=sum(1 for event in events if event["type"].endswith("StateEntered")),
            duration_seconds=record.duration_seconds,
        )

    def _record(self, execution_arn: str | None) -> _ExecutionRecord:
        with self._records_lock:
            return self._records[execution_arn or "?"]

    def _record_wait(self, execution_arn: str | None, seconds: float) -> None:
        self._record(execution_arn).waits.append(seconds)

    def _record_retry(self, execution_arn: str | None, seconds: float) -> None:
        self._record(execution_arn).retry_intervals.append(seconds)

    # --- EventBridge (event_routing.py) ---------------------------------------------------------------------

    def put_events(self, entries: Iterable[Mapping[str, Any]], timeout: float | None = None) -> list[str]:
        """PutEvents: each entry (Source, DetailType, Detail (JSON text or a mapping), EventBusName?, Resources?,
        Time?, and the local-only Id) delivered to the matching rules' targets; returns the ARNs of the executions
        the deliveries started, directly or through a Lambda target, oldest first. Raises EntryError for an entry
        PutEvents would refuse."""
        entries = list(entries)
        check_request(entries)
        return self.publish([self.event_from_entry(entry) for entry in entries], timeout=timeout).execution_arns

    def publish(self, events: Iterable[BusEvent], timeout: float | None = None) -> Publication:
        """Deliver events (e.g. one event_from_entry twice: a redelivery) and wait for every delivery."""
        return self.router.publish(events, timeout=timeout)

    def event_from_entry(self, entry: Mapping[str, Any], local_id: bool = True) -> BusEvent:
        """The event EventBridge makes of a PutEvents entry, timed on the engine clock."""
        return event_from_entry(
            entry, account=self.account_id, region=self.region, now=self.clock.now(), local_id=local_id
        )

    @property
    def events_put(self) -> list[dict[str, Any]]:
        """Every event the state machines put (events:putEvents), oldest first, as a rule's target receives it,
        matched by a rule or not (machine_events.py)."""
        return self.machine_events.events

    def rules_matching(self, event: Mapping[str, Any], bus: str = "default") -> list[dict[str, Any]]:
        return self.router.rules_matching(event, bus)

    def route_event(self, event: Mapping[str, Any], bus: str = "default") -> list[Delivery]:
        """Deliver one full event to every matching rule target; Lambda deliveries finish in the background."""
        return self.router.route_event(event, bus)

    def _event(self, source: str, detail_type: str, detail: dict[str, Any], resources: list[str]) -> dict[str, Any]:
        return make_event(
            event_id=str(uuid.uuid4()),
            source=source,
            detail_type=detail_type,
            detail=detail,
            resources=resources,
            account=self.account_id,
            region=self.region,
            time=self.clock.now(),
        )

    # --- executions that end --------------------------------------------------------------------------------

    def _on_execution_ended(self, execution: Any) -> None:
        """Runs in the execution's worker thread once moto set its final status (seam 8)."""
        record = self._record(execution.exec_arn)
        if execution.start_date and execution.stop_date:
            record.duration_seconds = (execution.stop_date - execution.start_date).total_seconds()
        try:
            for delivery in self.route_event(self._status_change_event(execution)):
                delivery.wait()  # the cleanup has run when wait() returns
        except Exception as error:  # never break moto's worker thread
            LOG.exception("routing the status change of %s failed", execution.exec_arn)
            self.routing_errors.append(f"{execution.exec_arn}: {type(error).__name__}: {error}")
        finally:
            record.ended.set()
            self._sync_wake.notify()  # a `.sync` Task waiting on this execution looks now (seam 24)

    def _status_change_event(self, execution: Any) -> dict[str, Any]:
        status = execution.exec_status.value if hasattr(execution.exec_status, "value") else str(execution.exec_status)

        def millis(moment: datetime.datetime | None) -> int | None:
            return int(moment.timestamp() * 1000) if moment else None

        detail = {
            "executionArn": execution.exec_arn,
            "stateMachineArn": execution.state_machine.arn,
            "name": execution.name,
            "status": status,
            "startDate": millis(execution.start_date),
            "stopDate": millis(execution.stop_date),
            "input": json.dumps(execution.input_data),
            "output": json.dumps(execution.output) if status == "SUCCEEDED" else None,
            "inputDetails": {"included": True},
            "outputDetails": {"included": True} if status == "SUCCEEDED" else None,
            "error": execution.error or None,
            "cause": execution.cause or None,
        }
        return self._event(
            source="aws.states", detail_type=STATUS_CHANGE_DETAIL_TYPE, detail=detail, resources=[execution.exec_arn]
        )
