"""Development tools that run the product without AWS or Docker: not deployed, not installed, run from a clone.

emulator/   a local Airbyte (public API v1 over real HTTP on 127.0.0.1) that behaves like Airbyte's server
engine/     the local engine: moto's Step Functions running a state machine with real, in-process handlers
sam/        deploy a SAM template into the engine, as `sam deploy` would into AWS
product.py  this product deployed into the engine (template.yaml, credentials, the client's sleep modules)
cli/        the `airbyte-sync` command: demo, run
workflow_run.py  `arazzo-sfn run`: any Arazzo workflow deployed with the generic operation handler, run
clock.py    the real and the virtual clock everything above shares
"""
