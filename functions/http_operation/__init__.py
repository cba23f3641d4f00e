"""The generic operation handler: any compiled Arazzo step whose operation has no Airbyte-specific handler.

The pipeline at run time is the same as for the Airbyte handlers: the state machine's Task resolves the request
(docs/handler-contract.md) -> handler.py (thin) -> request.py (the event checked and turned into one HTTP request)
-> airbyte_client's Transport (the one transport: base URL, credentials, retries, scrubbing) -> the contract's
response. docs/run-any-workflow.md describes what it accepts and its limits.
"""
