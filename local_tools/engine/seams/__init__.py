"""Every moto internal the local engine touches, one module per thing it patches.

moto 5.2.5 runs Amazon States Language faithfully, but a few of its internals must be replaced to run a state
machine locally with real handlers: it ships no JSONata evaluator, it runs Lambda handlers in Docker, it waits in
real time and it has no hook for "an execution ended"; and it enforces less than AWS does (timeouts on a virtual
clock, the history and payload quotas, name and field rules: seams 11-18, listed with their tests in
local_tools/engine/README.md). Each replacement is installed by one function that checks
the internal is still where (and what) we expect, and returns an `undo` callable. tests/engine/test_moto_seams.py
holds one test per seam: if a moto upgrade moves an internal, that test fails naming the seam and the pinned
version, instead of the engine misbehaving somewhere downstream.

Seams (all process-global while installed: one LocalEngine at a time):
  1. JSONata evaluation      StringJSONata/StringVariableSample._eval_body   -> npm jsonata 2.0.6 (what AWS runs) in
                             a Node process (jsonata_bridge), $states and variables as bindings, Step Functions'
                             functions, $millis/$now on the clock; moto's text evaluator _eval_jsonata refuses
                             (seam 2, moto's string escaping, went with moto's text composition)
  3. Lambda invocation       moto.awslambda.models.LambdaFunction._invoke_lambda -> a caller-supplied in-process runner
  4. Wait on the clock       WaitFunction._wait_interval                    -> clock.sleep
  5. Retry on the clock      retrier_decl.time (its time.sleep)              -> clock.sleep
  6. Timestamps on the clock datetime in parser.models / state.state / backend.execution -> clock.now()
                             ($states.context.Execution.StartTime, State.EnteredTime, start/stop dates)
  7. TimeoutSeconds on the clock  Program.eval (real-time thread join)      -> deadline checked at Wait/Retry on a
                             VirtualClock (a RealClock keeps moto's own real-time timeout)
  8. Execution ended hook    BaseExecutionWorkerCommunication.terminated   -> callback(execution) after moto's own
  9. Task clients reused     boto_client_for in lambda_eval_utils / state_task_service_sfn -> one boto3 client per
                             (service, region) instead of a new one for every Task (performance only)
 10. Integration casing      StateTaskServiceSfn / StateTaskServiceAwsSdk ._normalise_parameters/_normalise_response
                             -> AWS's PascalCase Arguments to boto's names and boto's result back (moto: no-ops)
 11. Task TimeoutSeconds     ExecutionState._evaluate_with_timeout        -> States.Timeout on the engine clock
 12. History limit           EventManager.add_event (+ Environment.__init__) -> 25,000 events, then FAILED
                             States.Runtime; one EvaluationFailed per failure
 13. History pages           StepFunctionResponse.get_execution_history   -> maxResults, nextToken, reverseOrder,
                             includeExecutionData (moto ignores them)
 14. Definition checks       StepFunctionsParserBackend._validate_definition -> InvalidDefinition for state names
                             over 80 characters and Wait Seconds over 99999999, with its error code
 15. StartExecution checks   StepFunctionsParserBackend.start_execution   -> name rules, 256 KiB input, UUID names
 16. Query evaluation        StringJSONata.eval, SecondsJSONata / Timeout- / HeartbeatSecondsJSONata -> JSONata
                             errors and out-of-range integer fields are States.QueryEvaluationError
 17. Payload size            quotas.is_within_size_quota (3 modules), StateTaskService._before_eval_execution ->
                             exactly 256 KiB passes; a Task input over it is States.DataLimitExceeded
 18. States.ALL              ErrorEqualsDecl._eval_body                   -> does not match States.Runtime or
                             States.DataLimitExceeded
 19. Event patterns (read)  moto.events.models.EventPattern.load/matches_event -> which rules an event matches
                             (an accessor, nothing patched: the engine routes events itself, moto decides matches)
 20. events:putEvents       StateTaskServiceEvents._eval_service_task     -> the engine's EventBridge delivers the
                             machine's events; EventBridge.FailedEntry with the response as its cause
 21. Datapoint time         moto.cloudwatch.models.utcnow                 -> clock.now() (a PutMetricData datapoint
                             without a Timestamp is stamped on the engine clock)
 22. Parse trees kept       AmazonStateLanguageParser.parse               -> ANTLR runs once per definition text, not
                             at every StartExecution (performance only; the Program is still built per call)
 23. History read           the execution's EventManager event list       -> LocalEngine.history copies the events
                             out directly instead of through GetExecutionHistory's serialiser (performance only)
 24. .sync wakes on end     state_task_service_callback.time (its sleep)  -> a `.sync` Task looks at its child when
                             an execution ended (engine hook), not every 0.5 s (performance only)
"""

from .api_checks import install_definition_checks, install_start_execution_checks
from .base import PINNED_MOTO_VERSION, SeamMoved, Undo, check_moto_version
from .clock import (
    install_metric_time_on_clock,
    install_program_timeout_on_clock,
    install_retry_on_clock,
    install_timestamps_on_clock,
    install_wait_on_clock,
)
from .event_patterns import event_pattern_matcher
from .events_integration import FAILED_ENTRY, PutEventsRefused, install_events_put_events
from .execution_end import install_execution_ended_hook
from .history import install_execution_history_paging, install_history_limit, read_history
from .jsonata import install_jsonata_evaluator
from .lambda_invoke import install_lambda_invoker
from .parse_cache import install_parse_tree_cache
from .payload_and_errors import install_payload_limits, install_states_all_exclusions
from .query_evaluation import install_query_evaluation_errors
from .sfn_integration import SyncWake, install_service_integration_casing, install_sync_wake
from .task_clients import install_task_client_cache
from .task_timeout import install_task_timeout_on_clock

__all__ = [
    "PINNED_MOTO_VERSION",
    "SeamMoved",
    "Undo",
    "check_moto_version",
    "install_jsonata_evaluator",
    "install_lambda_invoker",
    "install_wait_on_clock",
    "install_program_timeout_on_clock",
    "install_retry_on_clock",
    "install_timestamps_on_clock",
    "install_execution_ended_hook",
    "install_task_client_cache",
    "install_service_integration_casing",
    "install_task_timeout_on_clock",
    "install_history_limit",
    "install_execution_history_paging",
    "install_definition_checks",
    "install_start_execution_checks",
    "install_query_evaluation_errors",
    "install_payload_limits",
    "install_states_all_exclusions",
    "event_pattern_matcher",
    "install_events_put_events",
    "PutEventsRefused",
    "FAILED_ENTRY",
    "install_metric_time_on_clock",
    "install_parse_tree_cache",
    "read_history",
    "SyncWake",
    "install_sync_wake",
]
