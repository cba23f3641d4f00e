"""The local engine: moto's Step Functions interpreter running state machines with real in-process handlers."""

from local_tools.engine.engine import Delivery, ExecutionResult, LocalEngine, substitute_definition
from local_tools.engine.event_entries import BusEvent, EntryError
from local_tools.engine.event_routing import Publication
from local_tools.engine.lambda_runner import FunctionSpec

__all__ = [
    "BusEvent",
    "Delivery",
    "EntryError",
    "ExecutionResult",
    "FunctionSpec",
    "LocalEngine",
    "Publication",
    "substitute_definition",
]
