"""Seam 11: moto's own EventBridge event-pattern matcher, read (not patched) by the engine's event routing.

moto's put_events cannot deliver to state machine or Lambda targets, so the engine routes events itself
(event_routing.py); which rules an event matches is still moto's answer, from the same class moto's PutRule
validates patterns with. Known differences from EventBridge in moto 5.2.5 (none is used by the product's rules):
a boolean matches the number 1/0 and `numeric` filters (Python's True == 1), and a pattern does not reach into an
array of objects in the event.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from .base import SeamMoved, require_attr, require_params

EventPatternMatcher = Callable[[str, Mapping[str, Any]], bool]


def event_pattern_matcher() -> EventPatternMatcher:
    """`matches(pattern_text, event) -> bool`: moto's EventPattern.load(pattern_text).matches_event(event).

    An invalid pattern raises ValueError with moto's (EventBridge's) reason, e.g. "'source' must be an object or
    an array". Parsed patterns are cached by their text (a rule's pattern is matched against every event).
    """
    seam = "events.EventPattern.load/matches_event"
    from moto.events import exceptions as events_exceptions
    from moto.events import models as events_models

    pattern_class = require_attr(seam, events_models, "EventPattern")
    load = require_attr(seam, pattern_class, "load")
    matches_event = require_attr(seam, pattern_class, "matches_event")
    require_params(seam, load, ["raw_pattern"])  # a classmethod: cls is bound
    require_params(seam, matches_event, ["self", "event"])
    invalid = require_attr(seam, events_exceptions, "InvalidEventPatternException")

    @lru_cache(maxsize=256)
    def parsed(pattern_text: str) -> Any:
        try:
            return pattern_class.load(pattern_text)
        except invalid as error:
            raise ValueError(f"invalid event pattern {pattern_text}: {_reason(error)}") from None

    def matches(pattern_text: str, event: Mapping[str, Any]) -> bool:
        result = parsed(pattern_text).matches_event(dict(event))
        if not isinstance(result, bool):
            raise SeamMoved(seam, f"matches_event returned {type(result).__name__}, not bool")
        return result

    return matches


def _reason(error: Exception) -> str:
    """moto's exception text is an HTTP body; its message is what EventBridge would say."""
    try:
        return json.loads(getattr(error, "description", "") or "{}").get("message") or str(error)
    except ValueError:
        return str(error)
