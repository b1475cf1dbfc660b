"""A fast, exact parser for the usual export timestamp, ``YYYY-MM-DD HH:MM:SS``.

Arrow's ``strptime`` costs about 120 ns a value and silently rolls impossible days over
(``2024-02-30`` becomes March 1st). Nearly every timestamp in a platform export has the same
19-character shape, so a numba kernel reads those straight from the Arrow string buffers,
checks every field's range (including the length of the month), and leaves anything else to
the general path in :func:`antifraud.ingest.convert.to_timestamp`.

Accepted shapes: ``YYYY-MM-DD HH:MM:SS`` with ``-`` or ``/`` between date parts and a space or
``T`` before the time, and a bare ``YYYY-MM-DD``.
"""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa

__all__ = ["parse_common_times"]


@numba.njit(cache=True, inline="always")
def _digits(data, start, count):  # pragma: no cover - compiled
    value = 0
    for k in range(start, start + count):
        d = data[k] - 48
        if d < 0 or d > 9:
            return -1
        value = value * 10 + d
    return value


@numba.njit(cache=True, inline="always")
def _days_from_civil(y, m, d):  # pragma: no cover - compiled
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@numba.njit(cache=True, nogil=True)
def _parse(offsets, data, out, ok):  # pragma: no cover - compiled
    month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    for i in range(out.shape[0]):
        s = offsets[i]
        length = offsets[i + 1] - s
        if length != 19 and length != 10:
            continue
        sep = data[s + 4]
        if (sep != 45 and sep != 47) or data[s + 7] != sep:  # '-' or '/'
            continue
        y = _digits(data, s, 4)
        m = _digits(data, s + 5, 2)
        d = _digits(data, s + 8, 2)
        if y < 0 or m < 1 or m > 12 or d < 1:
            continue
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        if d > month_days[m - 1] + (1 if m == 2 and leap else 0):
            continue
        seconds = 0
        if length == 19:
            t = data[s + 10]
            if (t != 32 and t != 84) or data[s + 13] != 58 or data[s + 16] != 58:  # ' '/'T', ':'
                continue
            hh = _digits(data, s + 11, 2)
            mm = _digits(data, s + 14, 2)
            ss = _digits(data, s + 17, 2)
            if hh < 0 or hh > 23 or mm < 0 or mm > 59 or ss < 0 or ss > 59:
                continue
            seconds = hh * 3600 + mm * 60 + ss
        out[i] = _days_from_civil(y, m, d) * 86400 + seconds
        ok[i] = True


def parse_common_times(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Parse the common timestamp shapes of ``text`` (a string array) as naive seconds.

    Returns ``(seconds, ok)``: seconds since 1970-01-01 of the wall-clock time, and where the
    value had one of the accepted shapes and named a real time. Nulls are not ok.

    Examples
    --------
    >>> secs, ok = parse_common_times(pa.array(["1970-01-02 00:00:01", "2024-02-30", None, "x"]))
    >>> int(secs[0]), ok.tolist()
    (86401, [True, False, False, False])
    """
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if pa.types.is_large_string(text.type):
        text = text.cast(pa.string())
    n = len(text)
    out = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    if n == 0:
        return out, ok
    _, offsets_buf, data_buf = text.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[text.offset : text.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, np.uint8)
    _parse(offsets, data, out, ok)
    if text.null_count:
        ok &= text.is_valid().to_numpy(zero_copy_only=False)
    return out, ok
