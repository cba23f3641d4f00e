"""Compile Arazzo 1.0.x workflows into AWS Step Functions state machines (Amazon States Language, JSONata).

One pipeline, one job per module: document (load YAML/JSON with lines, bounded) -> reader (+ extensions,
references, openapi, expressions, conditions: the model of model.py and condition_tree.py) -> check (every
semantic check; `validate` runs exactly what `compile` runs) -> lower (+ loops, continuation; translate and values
build JSONata trees of jsonata.py) -> asl (typed states to JSON) ; cli is the command line.
"""
