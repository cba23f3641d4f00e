"""JSONata evaluated exactly as AWS Step Functions does: npm jsonata 2.0.6 (the JavaScript reference
implementation) in one long-lived Node process, with Step Functions' own functions ($partition, $range, $hash,
$random with a seed, $uuid, $parse) and without $eval.

    with JsonataBridge() as bridge:
        bridge.evaluate("$states.input.n * 2", {"states": {"input": {"n": 21}}})  # 42

The local engine evaluates every `{% %}` expression through it (seams/jsonata.py), and the compiler's tests check
generated JSONata with it.
"""

from .bridge import (
    JSONATA_VERSION,
    NODE_MODULES,
    UNDEFINED,
    BridgeUnavailable,
    JsonataBridge,
    JsonataError,
    UnsupportedResult,
)

__all__ = [
    "JSONATA_VERSION",
    "NODE_MODULES",
    "UNDEFINED",
    "BridgeUnavailable",
    "JsonataBridge",
    "JsonataError",
    "UnsupportedResult",
]
