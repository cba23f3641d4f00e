"""`make bench`: polling cost and latency of the compiled state machine; see bench/README.md."""
