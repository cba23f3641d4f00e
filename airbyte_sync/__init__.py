"""The product's local side: the Airbyte emulator, the local Step Functions engine and the airbyte-sync CLI."""
