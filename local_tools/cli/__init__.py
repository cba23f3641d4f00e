"""The `airbyte-sync` command (demo, run): the product run locally from a clone."""
