"""Seams 1, 1b and 2: JSONata evaluation (moto ships none), parsed once per expression, and strings encoded as JSON."""
from __future__ import annotations

from typing import Any, Callable

from .base import Undo, patch, require_attr, require_params, require_source

# --- 1. JSONata evaluation ---------------------------------------------------------------------------------------

def install_jsonata_evaluator(clock: Any, parse_once: bool = True) -> Undo:
    """Evaluate `{% %}` expressions with jsonata-python; `$millis()` and `$now()` read `clock`.

    moto composes each expression as one string `($states := {...}; $var := ...; <expr>)` and hands it to
    `_eval_jsonata(expression) -> value`. Errors are re-raised as moto's JSONataException, as its JVM bridge does
    (moto then fails the execution with States.Runtime; AWS would say States.QueryEvaluationError).

    parse_once (default) also installs seam 1b (see install_jsonata_parse_once): same results, without re-parsing
    every expression together with all the variables on every evaluation.
    """
    undo_evaluator = _install_jsonata_evaluator(clock)
    if not parse_once:
        return undo_evaluator
    try:
        undo_parse_once = install_jsonata_parse_once(clock)
    except BaseException:
        undo_evaluator()
        raise
    return lambda: (undo_parse_once(), undo_evaluator())


def _clock_functions(clock: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """$millis() and $now() for one evaluation: one timestamp per evaluation, as JSONata specifies."""
    from jsonata.functions import Functions

    millis = int(clock.now() * 1000)
    return (lambda: millis), (
        lambda picture=None, timezone=None: Functions.datetime_from_millis(millis, picture, timezone))


def _install_jsonata_evaluator(clock: Any) -> Undo:
    seam = "jsonata._eval_jsonata"
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    require_attr(seam, moto_jsonata, "_eval_jsonata")
    require_attr(seam, moto_jsonata, "eval_jsonata_expression")
    jsonata_exception = require_attr(seam, moto_jsonata, "JSONataException")

    import jsonata

    def evaluate(expression: str) -> Any:
        millis, now = _clock_functions(clock)
        try:
            compiled = jsonata.Jsonata(expression)
            compiled.register_lambda("millis", millis)
            compiled.register_lambda("now", now)
            return compiled.evaluate(None)
        except Exception as error:  # jsonata-python raises JException (syntax, types) and plain Python errors
            raise jsonata_exception("UNKNOWN", str(error)) from error

    return patch(moto_jsonata, "_eval_jsonata", evaluate)


# --- 1b. JSONata: parse each expression once ------------------------------------------------------------------

def install_jsonata_parse_once(clock: Any) -> Undo:
    """Evaluate `{% %}` expressions from a parse cache, with the variables passed as bindings.

    moto's StringJSONata._eval_body (and StringVariableSample's) writes $states and every variable into the text as
    JSON literals, `($states:={...};$inputs:={...};...;<expr>)`, so jsonata-python re-parses the whole execution
    state on every evaluation: most of the local engine's time in a long poll. This replacement keeps moto's
    semantics and only changes how the values reach the evaluator:
      - the same bindings moto would declare ($states, or the parts of it the expression references, then the
        variable store's outer and inner scope, in that order), JSON-encoded and decoded again so that each
        evaluation gets fresh values with the numbers a JSONata literal would give (5.0 -> 5) and null stays null;
      - the expression `(<expr>)` parsed once (cache by text); each evaluation runs on a shallow copy (jsonata-python
        keeps per-evaluation state on the instance), with `$millis()`/`$now()` on `clock` bound where moto's
        evaluator registers them (so a user variable of that name still wins);
      - anything else goes through moto's own path, unchanged: expressions that use the intrinsic functions moto
        declares in text ($partition, $range, $hash, $randomSeeded, $uuid, $parse) or `$eval`, an undefined or null
        result (moto re-evaluates it to decide between null and undefined), and any error (so error messages and
        history events are exactly moto's).
    """
    seam = "StringJSONata._eval_body (parse once)"
    import copy
    import json

    import jsonata
    from jsonata.utils import Utils
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.eval import states as states_module
    from moto.stepfunctions.parser.asl.eval import variable_store as variable_store_module

    string_jsonata = require_attr(seam, string_expression, "StringJSONata")
    variable_sample = require_attr(seam, string_expression, "StringVariableSample")
    original_jsonata_body = require_attr(seam, string_jsonata, "_eval_body")
    original_sample_body = require_attr(seam, variable_sample, "_eval_body")
    require_params(seam, original_jsonata_body, ["self", "env"])
    require_params(seam, original_sample_body, ["self", "env"])
    extract_references = require_attr(seam, string_expression, "extract_jsonata_variable_references")
    intrinsic_declarations = require_attr(seam, string_expression, "get_intrinsic_functions_declarations")
    to_json_str = require_attr(seam, string_expression, "to_json_str")
    query_language_mode = require_attr(seam, string_expression, "QueryLanguageMode")
    # What the replacement reproduces, read from moto's source: if any of it changes, re-check this seam.
    require_source(seam, original_jsonata_body, (
        "extract_jsonata_variable_references(self.expression)", "get_intrinsic_functions_declarations(",
        "env.states.to_variable_declarations(", "env.variable_store.get_variable_declarations()",
        "functions_variable_declarations,", "states_variable_declarations,", "variable_declarations,",
        "validate_jsonata_expression_output(", "env.stack.append(result)"))
    require_source(seam, original_sample_body, (
        "extract_jsonata_variable_references(self.expression)", "QueryLanguageMode.JSONata",
        "env.states.to_variable_declarations(", "env.variable_store.get_variable_declarations()",
        "env.stack.append(result)"))
    states_class = require_attr(seam, states_module, "States")
    states_prefix = require_attr(seam, states_module, "_STATES_PREFIX")
    sub_state_prefixes = {
        "input": require_attr(seam, states_module, "_STATES_INPUT_PREFIX"),
        "context": require_attr(seam, states_module, "_STATES_CONTEXT_PREFIX"),
        "result": require_attr(seam, states_module, "_STATES_RESULT_PREFIX"),
        "errorOutput": require_attr(seam, states_module, "_STATES_ERROR_OUTPUT_PREFIX"),
    }
    require_source(seam, states_class.to_variable_declarations, (
        "bindings={_STATES_PREFIX: self._states_data}", "candidate_sub_states", "_STATES_INPUT_PREFIX",
        "_STATES_CONTEXT_PREFIX", "_STATES_RESULT_PREFIX", "_STATES_ERROR_OUTPUT_PREFIX",
        "bindings={_STATES_PREFIX: sub_states}"))
    store_class = require_attr(seam, variable_store_module, "VariableStore")
    require_source(seam, store_class.get_variable_declarations, ("self._outer_scope", "self._inner_scope"))
    require_source(seam, store_class._to_variable_declarations, ('f"${key}"',))

    def number(text: str) -> Any:  # as jsonata-python's tokenizer reads a number literal
        return Utils.convert_number(float(text))

    def not_a_literal(text: str) -> Any:  # NaN/Infinity: not JSONata literals; let moto's path fail as it does
        raise ValueError(text)

    # expression text -> (references, parsed program), or None: use moto's own path
    plans: dict[str, tuple[set[str], Any] | None] = {}

    def plan(expression: str) -> tuple[set[str], Any] | None:
        try:
            return plans[expression]
        except KeyError:
            pass
        found = None
        try:
            references = extract_references(expression)
            if not intrinsic_declarations(references) and not any(
                    reference == "$eval" or reference.startswith("$eval.") for reference in references):
                found = (references, jsonata.Jsonata("(" + expression + ")"))
        except Exception:  # an illegal reference or a syntax error: moto's path reports it its own way
            found = None
        plans[expression] = found
        return found

    def bindings_for(env: Any, references: set[str], with_states: bool) -> dict[str, Any]:
        declared: dict[str, Any] = {}
        if with_states:
            states_data = env.states._states_data
            if not references or states_prefix in references:
                declared["states"] = states_data
            else:
                candidates, sub_states = dict(sub_state_prefixes), {}
                for reference in references:
                    if not candidates:
                        break
                    for key, prefix in candidates.items():
                        if reference.startswith(prefix):
                            sub_states[key] = states_data[key]
                            del candidates[key]
                            break
                declared["states"] = sub_states
        store = env.variable_store
        declared.update(store._outer_scope)
        declared.update(store._inner_scope)
        fresh = json.loads(to_json_str(declared, separators=(",", ":")), parse_int=number, parse_float=number,
                           parse_constant=not_a_literal)
        # A binding of None reads as undefined in jsonata-python; a declared `$x := null` is null.
        return {name: Utils.NULL_VALUE if value is None else value for name, value in fresh.items()}

    def evaluate(env: Any, planned: tuple[set[str], Any], with_states: bool) -> Any:
        references, program = planned
        bindings = bindings_for(env, references, with_states)
        instance = copy.copy(program)  # evaluate() keeps state on the instance; the parsed tree is shared
        instance.environment = instance.create_frame(program.environment)
        millis, now = _clock_functions(clock)
        instance.register_lambda("millis", millis)
        instance.register_lambda("now", now)
        return instance.evaluate(None, bindings)

    def parsed_once(original_body: Callable[..., None], with_states: Callable[[Any], bool]) -> Callable[..., None]:
        """An `_eval_body` that evaluates a cached parse; anything unusual falls back to moto's own body."""
        def body(self: Any, env: Any) -> None:
            planned = plan(self.expression)
            if planned is not None:
                try:
                    result = evaluate(env, planned, with_states=with_states(self))
                except Exception:
                    result = None
                # A string or any other defined value passes moto's output validation as is.
                if result is not None:
                    env.stack.append(result)
                    return
            original_body(self, env)
        return body

    jsonata_body = parsed_once(original_jsonata_body, lambda component: True)
    sample_body = parsed_once(original_sample_body,
                              lambda component: component.query_language_mode == query_language_mode.JSONata)

    undo_jsonata = patch(string_jsonata, "_eval_body", jsonata_body)
    undo_sample = patch(variable_sample, "_eval_body", sample_body)
    return lambda: (undo_sample(), undo_jsonata())


# --- 2. JSONata string escaping ----------------------------------------------------------------------------------

# moto writes string variables as f'"{value}"': a quote, backslash or newline in $states.input or an Assign'd
# variable breaks the whole expression. The modules import the function by name, so each copy is replaced.
_VARIABLE_ENCODER_MODULES = (
    "moto.stepfunctions.parser.asl.jsonata.jsonata",
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.eval.variable_store",
)


def install_jsonata_string_escaping() -> Undo:
    seam = "jsonata.encode_jsonata_variable_declarations"
    import importlib

    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    def encode_jsonata_variable_declarations(bindings: dict[str, Any]) -> str:
        # A JSON document is a JSONata literal; strings included.
        return "".join(
            f"{reference}:={to_json_str(value, separators=(',', ':'))};" for reference, value in bindings.items()
        )

    undos = []
    for module_name in _VARIABLE_ENCODER_MODULES:
        module = importlib.import_module(module_name)
        original = require_attr(seam, module, "encode_jsonata_variable_declarations")
        require_params(seam, original, ["bindings"])
        undos.append(patch(module, "encode_jsonata_variable_declarations", encode_jsonata_variable_declarations))
    return lambda: [undo() for undo in reversed(undos)]


