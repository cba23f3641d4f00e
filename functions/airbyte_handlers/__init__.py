"""Thin Lambda handlers for the compiled state machine (docs/handler-contract.md)."""
