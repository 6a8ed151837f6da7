"""Schedule specs of the configuration: a 5-field cron expression, an interval ("30s", "10m", "1h"), or "off".

Plain parsing and validation only (no Prefect): `deployments/serve.py` turns a `Schedule` into a Prefect one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OFF = frozenset({"", "off", "none", "manual"})
_INTERVAL = re.compile(r"^(\d+(?:\.\d+)?)\s*([smh]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}
_NAMES = {
    3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
}
_RANGES = [(0, 59, "minute"), (0, 23, "hour"), (1, 31, "day of month"), (1, 12, "month"), (0, 7, "day of week")]
_TOKEN = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(\d+))?$")


@dataclass(frozen=True)
class Schedule:
    """Exactly one of `cron` (5-field expression) and `interval_seconds` is set."""

    cron: str | None = None
    interval_seconds: float | None = None

    def describe(self) -> str:
        if self.cron is not None:
            return f"cron {self.cron!r}"
        return f"every {self.interval_seconds:g}s"


def parse_schedule(text: str) -> Schedule | None:
    """The schedule a config string means; None for "off". Raises ValueError saying what is accepted."""
    spec = " ".join(text.strip().lower().split())
    if spec in OFF:
        return None
    interval = _INTERVAL.match(spec)
    if interval:
        seconds = float(interval.group(1)) * _UNIT_SECONDS[interval.group(2)]
        if seconds < 1:
            raise ValueError(f"interval {text!r} is shorter than 1 second")
        return Schedule(interval_seconds=seconds)
    fields = spec.split(" ")
    if len(fields) != 5:
        raise ValueError(
            f"{text!r} is not a schedule: use a 5-field cron expression ('*/15 * * * *'), "
            "an interval ('30s', '10m', '1h') or 'off'"
        )
    for position, field in enumerate(fields):
        _check_field(field, position)
    return Schedule(cron=spec)


def _check_field(field: str, position: int) -> None:
    low, high, name = _RANGES[position]
    for token in field.split(","):
        match = _TOKEN.match(token)
        step = match.group(2) if match else None
        if not match or (step is not None and not 1 <= int(step) <= high):
            raise ValueError(f"cron {name} field {field!r} is malformed")
        if match.group(1) == "*":
            continue
        for value in match.group(1).split("-"):
            number = _value(value, position)
            if number is None or not low <= number <= high:
                raise ValueError(f"cron {name} field {field!r}: {value!r} is outside {low}-{high}")


def _value(text: str, position: int) -> int | None:
    if text.isdigit():
        return int(text)
    names = _NAMES.get(position, [])
    if text in names:
        return names.index(text) + (1 if position == 3 else 0)
    return None
