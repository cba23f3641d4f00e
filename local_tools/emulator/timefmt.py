"""Date-time text exactly as Airbyte's JVM server writes and reads it.

Airbyte renders a job's times with ``OffsetDateTime.ofInstant(Instant.ofEpochSecond(seconds), UTC).toString()``
(JobResponseMapper.kt): whole epoch seconds, zero seconds dropped (``2026-12-01T01:30Z``). Durations are
``Duration.ofSeconds(n).toString()`` (``PT8H6M12S``). Query date filters are parsed by
``DateTimeFormatter.ISO_OFFSET_DATE_TIME``, which needs an offset and refuses epoch numbers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["format_offset_date_time", "format_duration", "parse_offset_date_time", "DateTimeParseError"]


def format_offset_date_time(epoch_seconds: int, nanos: int = 0) -> str:
    """Java's ``OffsetDateTime.toString()`` at UTC for an instant of whole seconds plus ``nanos``.

    Seconds are left out when they and the fraction are zero; a fraction is printed in groups of 3, 6 or 9 digits
    (``LocalTime.toString()``)."""
    if not 0 <= nanos < 1_000_000_000:
        raise ValueError(f"nanos must be in 0..999999999, got {nanos}")
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=int(epoch_seconds))
    year = f"{moment.year:04d}" if moment.year <= 9999 else f"+{moment.year}"
    text = f"{year}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}"
    if moment.second or nanos:
        text += f":{moment.second:02d}"
        if nanos:
            if nanos % 1_000_000 == 0:
                text += f".{nanos // 1_000_000:03d}"
            elif nanos % 1_000 == 0:
                text += f".{nanos // 1_000:06d}"
            else:
                text += f".{nanos:09d}"
    return text + "Z"


def format_duration(seconds: int) -> str:
    """Java's ``Duration.ofSeconds(seconds).toString()`` for seconds >= 0, e.g. PT1H2M3S, PT25H, PT0S."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if secs or text == "PT" else "")


class DateTimeParseError(ValueError):
    """The text ``ISO_OFFSET_DATE_TIME`` refuses; the message reads like Java's DateTimeParseException."""


_DATE_TIME_STEPS = (r"\d{4}", "-", r"\d{2}", "-", r"\d{2}", "[Tt]", r"\d{2}", ":", r"\d{2}")
_SECONDS = re.compile(r":(\d{2})")
_FRACTION = re.compile(r"\.(\d{0,9})")
_OFFSET = re.compile(r"[Zz]|([+-])(\d{2}):(\d{2})(?::(\d{2}))?")


def parse_offset_date_time(text: str) -> float:
    """Epoch seconds (with fraction) of an ``ISO_OFFSET_DATE_TIME`` text such as ``2026-12-01T01:30:07.5+02:00``."""

    def fail(index: int) -> DateTimeParseError:
        return DateTimeParseError(f"Text '{text}' could not be parsed at index {index}")

    if re.match(r"\d{5}", text):  # a year of more than 4 digits needs a sign (SignStyle.EXCEEDS_PAD)
        raise fail(0)
    parts: list[str] = []
    position = 0
    for step in _DATE_TIME_STEPS:
        match = re.compile(step).match(text, position)
        if match is None:
            raise fail(position)
        parts.append(match.group())
        position = match.end()
    year, month, day, hour, minute = (int(parts[i]) for i in (0, 2, 4, 6, 8))
    second, nanos = 0, 0
    if match := _SECONDS.match(text, position):
        second, position = int(match.group(1)), match.end()
        if match := _FRACTION.match(text, position):
            digits, position = match.group(1), match.end()
            nanos = int(digits.ljust(9, "0")) if digits else 0
    offset = _OFFSET.match(text, position)
    if offset is None:
        raise fail(position)
    position = offset.end()
    if position != len(text):
        raise DateTimeParseError(f"Text '{text}' could not be parsed, unparsed text found at index {position}")
    offset_seconds = 0
    if offset.group(1):
        sign = -1 if offset.group(1) == "-" else 1
        offset_seconds = sign * (int(offset.group(2)) * 3600 + int(offset.group(3)) * 60 + int(offset.group(4) or 0))
    try:
        zone = timezone(timedelta(seconds=offset_seconds))
        moment = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError as error:
        raise DateTimeParseError(f"Text '{text}' could not be parsed: {error}") from None
    return moment.timestamp() + nanos / 1e9
