"""Compile Arazzo 1.0.x workflows into AWS Step Functions state machines (Amazon States Language, JSONata)."""
