"""Lowering of x-forEach (docs/arazzo-extensions.md): a step that runs its workflow once per item of a list, as an
Inline Map state. A base of lower.WorkflowLowering.

    <stepId> items (Choice)   more items than x-maxItems -> <stepId> too many items (an ending, Arazzo.TooManyItems)
    <stepId> (Map)            each item: {item, index} -> the processor; the step's outputs are lists over the rows
      x-execution:  <stepId> item (Task startExecution.sync:2)            -> the row | <stepId> item failed
      inline:       <stepId> item (Pass) -> the workflow's states, prefixed -> <stepId> item succeeded | failed
Every item ends with a row {item, outputs, status, error, outcome}: an item's failure never fails the Map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import asl
from . import jsonata as js
from . import translate as tr
from . import values as val
from .continuation import (
    CONTINUATION_START_ATTEMPTS,
    CONTINUATION_START_ERRORS,
    Frame,
    child_record,
    derived_name,
    variable,
)
from .expressions import Expr
from .model import ForEach, Step

if TYPE_CHECKING:
    from .lower import WorkflowLowering
    from .model import Document, Workflow

ITEM = js.Var("states.input.item")  # in the processor's first state: the item (the Map's ItemSelector)
ROW_FIELDS = ("status", "error", "outcome")  # what `$end` means in an x-forEach step's outputs


def item_list(items: js.Node) -> js.Node:
    """The list to iterate: a list itself; null or nothing is no item; any other value is one item."""
    v = js.Var("l")
    return js.block(
        js.Bind("l", items),
        js.If(
            tr.is_type(v, "array"),
            v,
            js.If(js.group(js.op("and", js.call("exists", v), js.op("!=", v, js.Lit(None)))), js.Arr((v,)), js.Arr(())),
        ),
    )


def row(item: js.Node, outputs: js.Node, error: js.Node | None) -> js.Node:
    """An item's row: how it ended, with its outputs (null when it failed)."""
    if error is None:
        return js.obj(
            {
                "item": item,
                "outputs": outputs,
                "status": js.Sq("SUCCEEDED"),
                "error": js.Lit(None),
                "outcome": js.Sq("SUCCEEDED"),
            }
        )
    e = js.Var("e")
    return js.block(
        js.Bind("e", error),
        js.Bind("e", js.If(tr.is_type(e, "string"), e, js.Sq("Arazzo.ItemFailed"))),
        js.obj({"item": item, "outputs": js.Lit(None), "status": js.Sq("FAILED"), "error": e, "outcome": e}),
    )


def item_scope(scope: tr.Scope) -> tr.Scope:
    """What an x-forEach step's parameters read: the step's scope and `$item`."""
    scope.item = ITEM
    return scope


def row_scope(scope: tr.Scope, row_variable: js.Node) -> tr.Scope:
    """What an x-forEach step's outputs and x-summary read: one item's row (its outputs, item and ending)."""
    scope.outputs_available = True
    scope.outputs = js.Field(row_variable, "outputs")
    scope.item = js.Field(row_variable, "item")
    scope.end, scope.end_fields = row_variable, ROW_FIELDS
    return scope


class ForEachLowering:
    """x-forEach steps: the items check, the Map state and its item processor."""

    if TYPE_CHECKING:
        document: Document
        workflow: Workflow
        frame: Frame
        states: asl.States
        source_urls: dict[str, str]

        def state(self, name: str) -> str: ...
        def scope(self, step: Step | None, response: js.Node | None, outputs_available: bool = False) -> tr.Scope: ...
        def next_after(self, index: int) -> str: ...
        def fail(self, name: str, error: str | js.Node, cause: str | js.Node) -> str: ...
        def given_inputs(self, step: Step, scope: tr.Scope) -> js.Node: ...
        def lowering(
            self, document: Document, workflow: Workflow, frame: Frame, states: asl.States
        ) -> WorkflowLowering: ...

    def add_for_each_step(self, step: Step, index: int) -> None:
        for_each = step.for_each
        assert for_each is not None
        name = self.state(step.step_id)
        scope = self.scope(step, None)
        items = item_list(tr.runtime(for_each.items, scope))
        self.states.reserve(f"{name} items")
        too_many = self.fail(
            f"{name} too many items",
            "Arazzo.TooManyItems",
            js.op(
                "&",
                js.Sq(f"x-forEach of step {step.step_id}: "),
                js.call("string", js.call("count", items)),
                js.Sq(f" items, at most {for_each.max_items} in one execution (x-maxItems)"),
            ),
        )
        self.states.put(
            f"{name} items",
            asl.Choice(
                [
                    asl.ChoiceRule(
                        js.template(js.op(">", js.call("count", items), js.Lit(for_each.max_items))), too_many
                    )
                ],
                name,
            ),
        )
        processor = asl.States()
        if for_each.execution_arn:
            start = self.add_item_execution(step, for_each.execution_arn, processor)
        else:
            start = self.add_item_inline(step, processor)
        rows = js.Var("states.result")
        outputs = {key: self.over_rows(rows, "list", value, step) for key, value in step.outputs.items()}
        outputs.update({key: self.over_rows(rows, s.kind, s.value, step) for key, s in for_each.summary.items()})
        steps = val.Variables(self.frame.variables).var("steps")
        self.states.put(
            name,
            asl.Map(
                items=js.template(items),
                item_selector={
                    "item": js.template(js.Var("states.context.Map.Item.Value")),
                    "index": js.template(js.Var("states.context.Map.Item.Index")),
                },
                max_concurrency=self.max_concurrency(for_each, scope),
                processor=processor,
                start_at=start,
                assign={
                    self.frame.var("steps"): js.template(
                        js.call(
                            "merge",
                            js.Arr(
                                (
                                    steps,
                                    js.obj(
                                        [(step.step_id, js.obj({"outputs": js.obj(outputs, quote=js.Lit)}))],
                                        quote=js.Lit,
                                    ),
                                )
                            ),
                        )
                    )
                },
                next=self.next_after(index),
            ),
        )

    @staticmethod
    def max_concurrency(for_each: ForEach, scope: tr.Scope) -> int | str:
        """An integer, or an expression: a number is floored and at least 0 (no limit); anything else is 1."""
        if not isinstance(for_each.max_concurrency, Expr):
            assert isinstance(for_each.max_concurrency, int)  # extensions.py
            return for_each.max_concurrency
        n = js.Var("n")
        return js.template(
            js.block(
                js.Bind("n", tr.runtime(for_each.max_concurrency, scope)),
                js.If(
                    tr.is_type(n, "number"),
                    js.call("max", js.Arr((js.Lit(0), js.call("floor", n)))),
                    js.Lit(1),
                ),
            )
        )

    def over_rows(self, rows: js.Node, kind: str, value: object, step: Step) -> js.Node:
        """One output over every row: a list (in item order), a count per value (countBy) or a sum."""
        acc, r, v, k = js.Var("acc"), js.Var("r"), js.Var("v"), js.Var("k")
        each = val.nullable(val.value(value, row_scope(self.scope(step, None, outputs_available=True), r)))
        if kind == "list":
            # An array value is one entry, not spread into the list.
            body: js.Node = js.block(
                js.Bind("v", each),
                js.call("append", acc, js.If(tr.is_type(v, "array"), js.Arr((js.Arr((v,)),)), js.Arr((v,)))),
            )
            start: js.Node = js.Arr(())
        elif kind == "countBy":
            count = js.call("lookup", acc, k)
            body = js.block(
                js.Bind("k", js.call("string", each)),
                js.call(
                    "merge",
                    js.Arr(
                        (
                            acc,
                            js.Obj(
                                (
                                    (
                                        k,
                                        js.op(
                                            "+", js.group(js.If(js.call("exists", count), count, js.Lit(0))), js.Lit(1)
                                        ),
                                    ),
                                )
                            ),
                        )
                    ),
                ),
            )
            start = js.Obj(())
        else:  # sum
            body = js.block(js.Bind("v", each), js.op("+", acc, js.group(js.If(tr.is_type(v, "number"), v, js.Lit(0)))))
            start = js.Lit(0)
        return js.call("reduce", rows, js.Function(("acc", "r"), body), start)

    # -- the item processor ---------------------------------------------------------------------------------------
    def add_item_execution(self, step: Step, arn: str, processor: asl.States) -> str:
        """x-execution: the item is an execution of that state machine, named after this one, linked to it."""
        name = self.state(step.step_id)
        scope = item_scope(self.scope(step, None))
        execution = js.Var("states.context.Execution.Name")
        child_name = derived_name(
            execution, js.op("&", execution, js.Sq(f"/{step.step_id}")), js.Var("states.input.index")
        )
        processor.reserve(f"{name} item")
        failed = processor.put(f"{name} item failed", asl.Succeed(js.template(js.Var("states.input"))))
        # The child's own error when it ran and failed, else the start's (after its retries).
        child = js.Var("child")
        error = js.block(
            js.Bind("child", child_record(js.Var("states.errorOutput.Cause"))),
            js.If(
                js.call("exists", js.Field(child, "error")),
                js.Field(child, "error"),
                js.Var("states.errorOutput.Error"),
            ),
        )
        processor.put(
            f"{name} item",
            asl.Task(
                resource="arn:aws:states:::states:startExecution.sync:2",
                arguments={
                    "StateMachineArn": arn,
                    "Name": js.template(child_name),
                    "Input": js.template(
                        js.call(
                            "merge",
                            js.Arr(
                                (
                                    self.given_inputs(step, scope),
                                    js.obj(
                                        {
                                            "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": js.Var(
                                                "states.context.Execution.Id"
                                            )
                                        }
                                    ),
                                )
                            ),
                        )
                    ),
                },
                next=None,
                retry=[asl.Retrier(CONTINUATION_START_ERRORS, 2, CONTINUATION_START_ATTEMPTS, 2, 60)],
                output=js.template(row(ITEM, js.Var("states.result.Output"), None)),
                catch=[asl.Catcher(["States.ALL"], failed, output=js.template(row(ITEM, js.Lit(None), error)))],
                catch_first=True,
            ),
        )
        return f"{name} item"

    def add_item_inline(self, step: Step, processor: asl.States) -> str:
        """Inline: the workflow's states in the processor; its endings end the item, never the workflow."""
        found = self.document.called(step)
        assert found is not None  # check.py
        document, called = found
        name = self.state(step.step_id)
        variables = variable(self.frame.var("each"), step.step_id) + "_"
        frame = Frame(
            prefix=f"{name} > ",
            variables=variables,
            end=f"{name} item done",
            callers=self.frame.callers + (self.workflow.workflow_id,),
            ending=f"{name} item failed",
            scratch=variables,
        )
        inner = self.lowering(document, called, frame, processor)
        entered = inner.entered(self.given_inputs(step, item_scope(self.scope(step, None))))
        entered[frame.var("item")] = js.template(ITEM)
        processor.put(f"{name} item", asl.Pass(entered, inner.entry(0)))
        inner.add_steps()
        inner.add_workflow_outputs(next_state=f"{name} item succeeded")
        item = js.Var(frame.var("item"))
        processor.put(f"{name} item succeeded", asl.Succeed(js.template(row(item, js.Var(frame.var("outputs")), None))))
        ending = js.Var(frame.scratch_var("ending"))
        processor.put(
            f"{name} item failed", asl.Succeed(js.template(row(item, js.Lit(None), js.Field(ending, "error"))))
        )
        return f"{name} item"
