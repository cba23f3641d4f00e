"""The local engine: moto's Step Functions interpreter running state machines with real in-process handlers."""
from local_tools.engine.engine import Delivery, ExecutionResult, LocalEngine, substitute_definition
from local_tools.engine.lambda_runner import FunctionSpec

__all__ = ["Delivery", "ExecutionResult", "FunctionSpec", "LocalEngine", "substitute_definition"]
