"""Times for people: UTC offsets as exports and profiles write them, and times in an export's zone.

Machine records (``acr/1``, ``run.json``) keep UTC; what people read (the run summary, the
evidence report) is in the export's time zone, written by :func:`local_time`. This module
imports nothing heavy, so the evidence bundles use it without loading the ingest.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["MAX_UTC_OFFSET_S", "local_time", "parse_utc_offset"]

#: The widest offset of any time zone in use (Kiribati, UTC+14).
MAX_UTC_OFFSET_S = 14 * 3600


def parse_utc_offset(text: str) -> int:
    """Return the offset in seconds of ``+08:00``-style text (``UTC`` and ``Z`` are zero).

    Offsets beyond :data:`MAX_UTC_OFFSET_S` (14 hours, the widest in use) are rejected.

    Examples
    --------
    >>> parse_utc_offset("+08:00"), parse_utc_offset("-05:30"), parse_utc_offset("UTC")
    (28800, -19800, 0)
    """
    text = text.strip().upper()
    if text in ("UTC", "Z", "GMT"):
        return 0
    if text in ("ASIA/SHANGHAI", "CST", "PRC"):
        return 8 * 3600
    m = re.fullmatch(r"(?:UTC)?([+-])(\d{1,2})(?::?([0-5]\d))?", text)
    if not m:
        raise ValueError(f"not a UTC offset: {text!r} (use e.g. +08:00)")
    seconds = int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60
    if seconds > MAX_UTC_OFFSET_S:
        raise ValueError(f"UTC offset {text!r} is beyond the widest in use, -14:00 to +14:00")
    return seconds if m.group(1) == "+" else -seconds


def local_time(epoch_s: float, timezone: str) -> str:
    """``epoch_s`` as a person reads it: minutes, in ``timezone`` (a UTC offset), offset shown.

    Examples
    --------
    >>> local_time(1731204300, "+08:00")
    '2024-11-10 10:05 +08:00'
    """
    offset = dt.timedelta(seconds=parse_utc_offset(timezone))
    when = dt.datetime.fromtimestamp(int(epoch_s), dt.timezone(offset))
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{when:%Y-%m-%d %H:%M} {sign}{minutes // 60:02d}:{minutes % 60:02d}"
