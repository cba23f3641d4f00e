"""Seam 1: every `{% %}` expression evaluated by npm jsonata 2.0.6 (what AWS runs), through the Node bridge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local_tools.engine.jsonata_bridge import UNDEFINED, JsonataBridge, JsonataError, UnsupportedResult

from .base import SeamMoved, Undo, patch, require_attr, require_params, require_source, undo_all


def install_jsonata_evaluator(clock: Any, bridge: JsonataBridge | None = None) -> Undo:
    """Evaluate JSONata the way AWS Step Functions does: npm jsonata 2.0.6 with Step Functions' functions
    ($partition, $range, $hash, $random(seed), $uuid, $parse; no $eval), `$millis()`/`$now()` on `clock`.

    moto 5.2.5 ships no evaluator: StringJSONata._eval_body (every `{% %}` field) and StringVariableSample._eval_body
    (a `$variable` reference) write the bindings into the expression text as JSON literals, prepend JSONata
    declarations of the Step Functions functions (its $parse is $eval) and hand the text to an evaluator that is
    None. Both bodies are replaced. The replacements keep moto's semantics around the evaluation:
      - the bindings: `$states` (input, context and, where moto has them, result and errorOutput; JSONata states
        only), then the variable store's outer and inner scope, so a variable shadows a function of the same name;
        values are moto's, JSON-encoded as moto encodes them;
      - moto's check of the references (`$` and `$$` alone are refused, raising moto's own error);
      - the result: StringJSONata fails the state with States.QueryEvaluationError and an EvaluationFailed event when
        the expression returns nothing (undefined) or a function, as moto's validate_jsonata_expression_output does;
        StringVariableSample pushes None for undefined, as moto's evaluator answered;
      - errors raised as moto's JSONataException("UNKNOWN", "<code>: <message>"), as its JVM bridge raised them
        (moto then fails the execution with States.Runtime; AWS says States.QueryEvaluationError).
    One timestamp per evaluation, the clock's, for `$now()`, `$millis()` and `$toMillis()`'s defaults.

    The bridge (one Node process, parsing each expression once) starts on the first evaluation; undo stops it.
    """
    seam = "StringJSONata._eval_body (JSONata evaluation)"
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
    from moto.stepfunctions.parser.asl.jsonata import validations

    string_jsonata = require_attr(seam, string_expression, "StringJSONata")
    variable_sample = require_attr(seam, string_expression, "StringVariableSample")
    original_jsonata_body = require_attr(seam, string_jsonata, "_eval_body")
    original_sample_body = require_attr(seam, variable_sample, "_eval_body")
    require_params(seam, original_jsonata_body, ["self", "env"])
    require_params(seam, original_sample_body, ["self", "env"])
    extract_references = require_attr(seam, string_expression, "extract_jsonata_variable_references")
    to_json_str = require_attr(seam, string_expression, "to_json_str")
    query_language_mode = require_attr(seam, string_expression, "QueryLanguageMode")
    jsonata_exception = require_attr(seam, moto_jsonata, "JSONataException")
    require_attr(seam, moto_jsonata, "_eval_jsonata")
    # What the replacements reproduce, read from moto's source: if any of it changes, re-check this seam.
    require_source(
        seam,
        original_jsonata_body,
        (
            "extract_jsonata_variable_references(self.expression)",
            "get_intrinsic_functions_declarations(",
            "env.states.to_variable_declarations(",
            "env.variable_store.get_variable_declarations()",
            "functions_variable_declarations,",
            "states_variable_declarations,",
            "variable_declarations,",
            "validate_jsonata_expression_output(",
            "env.stack.append(result)",
        ),
    )
    require_source(
        seam,
        original_sample_body,
        (
            "extract_jsonata_variable_references(self.expression)",
            "QueryLanguageMode.JSONata",
            "env.states.to_variable_declarations(",
            "env.variable_store.get_variable_declarations()",
            "env.stack.append(result)",
        ),
    )
    from moto.stepfunctions.parser.asl.eval import states as states_module
    from moto.stepfunctions.parser.asl.eval import variable_store as variable_store_module

    require_source(seam, require_attr(seam, states_module, "States").__init__, ("StatesData(input=",))
    store_class = require_attr(seam, variable_store_module, "VariableStore")
    require_source(seam, store_class.get_variable_declarations, ("self._outer_scope", "self._inner_scope"))
    require_source(seam, store_class._to_variable_declarations, ('f"${key}"',))
    fail_evaluation = _query_evaluation_failure(seam, validations)

    bridge = bridge if bridge is not None else JsonataBridge()
    bridge.check()  # a missing Node or npm jsonata fails the engine's start, not some execution later
    checked: set[str] = set()

    def check_references(expression: str) -> None:
        if expression not in checked:
            extract_references(expression)  # raises moto's IllegalJSONataVariableReference for `$` / `$$`
            checked.add(expression)

    def bindings_json(env: Any, with_states: bool, expression: str) -> str:
        # Only the variables whose `$name` the text contains: all the expression can read (JSONata has no
        # computed variable names, and Step Functions takes `$eval` away). Encoding and decoding every variable
        # for every expression was a third of the bridge's time.
        store = env.variable_store
        declared = {"states": env.states._states_data} if with_states and "$states" in expression else {}
        for scope in (store._outer_scope, store._inner_scope):
            declared.update((name, value) for name, value in scope.items() if f"${name}" in expression)
        return to_json_str(declared, separators=(",", ":"))

    def evaluate(self: Any, env: Any, with_states: bool) -> Any:
        check_references(self.expression)
        try:
            return bridge.evaluate_encoded(
                self.expression, bindings_json(env, with_states, self.expression), now_millis=int(clock.now() * 1000)
            )
        except JsonataError as error:
            raise jsonata_exception("UNKNOWN", str(error)) from error

    def jsonata_body(self: Any, env: Any) -> None:
        try:
            result = evaluate(self, env, with_states=True)
        except UnsupportedResult:
            result = None
            fail_evaluation(env, f"The JSONata expression '{self.expression}' returned an unsupported result type.")
        if result is UNDEFINED:
            fail_evaluation(env, f"The JSONata expression '{self.expression}' returned nothing (undefined).")
        env.stack.append(result)

    def sample_body(self: Any, env: Any) -> None:
        result = evaluate(self, env, with_states=self.query_language_mode == query_language_mode.JSONata)
        env.stack.append(None if result is UNDEFINED else result)

    def composed_text_evaluator(expression: str) -> Any:
        raise SeamMoved(
            "jsonata._eval_jsonata",
            "moto evaluated composed JSONata text on a path the local engine "
            "does not replace (only StringJSONata/StringVariableSample)",
        )

    undos = [
        patch(string_jsonata, "_eval_body", jsonata_body),
        patch(variable_sample, "_eval_body", sample_body),
        patch(moto_jsonata, "_eval_jsonata", composed_text_evaluator),
        bridge.close,
    ]
    return undo_all(*undos)


def _query_evaluation_failure(seam: str, validations: Any) -> Callable[[Any, str], None]:
    """A function that fails the state as moto's validate_jsonata_expression_output does: an EvaluationFailed
    event, then a FailureEventException carrying States.QueryEvaluationError with `cause`."""
    null_output = require_attr(seam, validations, "_validate_null_output")
    validate = require_attr(seam, validations, "validate_jsonata_expression_output")
    require_source(
        seam,
        null_output,
        (
            "StatesErrorNameType.StatesQueryEvaluationError",
            "HistoryEventType.EvaluationFailed",
            "returned nothing (undefined).",
            "raise FailureEventException(failure_event=failure_event)",
        ),
    )
    require_source(
        seam,
        validate,
        (
            "env.event_manager.add_event(",
            "HistoryEventType.EvaluationFailed",
            "ex.get_evaluation_failed_event_details()",
            "raise ex",
        ),
    )
    names = {
        name: require_attr(seam, validations, name)
        for name in (
            "EvaluationFailedEventDetails",
            "HistoryEventType",
            "FailureEvent",
            "FailureEventException",
            "StatesErrorName",
            "StatesErrorNameType",
            "EventDetails",
        )
    }

    def fail(env: Any, cause: str) -> None:
        error_name = names["StatesErrorName"](typ=names["StatesErrorNameType"].StatesQueryEvaluationError)
        failure = names["FailureEventException"](
            failure_event=names["FailureEvent"](
                env=env,
                error_name=error_name,
                event_type=names["HistoryEventType"].EvaluationFailed,
                event_details=names["EventDetails"](
                    evaluationFailedEventDetails=names["EvaluationFailedEventDetails"](
                        cause=cause, error=error_name.error_name
                    )
                ),
            )
        )
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=names["HistoryEventType"].EvaluationFailed,
            event_details=names["EventDetails"](
                evaluationFailedEventDetails=failure.get_evaluation_failed_event_details()
            ),
        )
        raise failure

    return fail
