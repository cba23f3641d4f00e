"""The `airbyte-sync` command (demo, run, put-events): the product run locally from a clone."""
