"""Imported for its effect: functions/ on sys.path, so template tests can use the handlers' plain functions."""
import sys
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS_DIR))
