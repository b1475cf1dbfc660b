"""Converting raw columns to canonical types, recording every value that does not fit.

Each converter takes one raw Arrow column (strings from text formats, native types from
Parquet) and returns the canonical Arrow column plus masks of rows whose value is unusable, with
a reason. Work on values is done on distinct values where that is cheaper (ids, labels), and with
Arrow compute kernels otherwise; there is no per-row Python loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "Issue",
    "clean_strings",
    "to_dictionary",
    "to_timestamp",
    "to_number",
    "to_rating",
    "to_status",
    "parse_utc_offset",
    "TIME_FORMATS",
]

# Formats tried in order on values that the previous ones did not parse.
TIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
)
_EARLIEST = np.datetime64("1990-01-01", "s").astype(np.int64)
_LATEST = np.datetime64("2100-01-01", "s").astype(np.int64)

RATING_WORDS = {"好评": "5", "中评": "3", "差评": "1"}
STATUS_WORDS = {
    "交易成功": "completed",
    "交易完成": "completed",
    "交易关闭": "closed",
    "等待买家付款": "unpaid",
    "买家已付款": "paid",
    "等待卖家发货": "paid",
    "卖家已发货": "shipped",
    "等待买家确认收货": "shipped",
    "退款中": "refunding",
    "退款成功": "refunded",
    "已退款": "refunded",
}
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_CURRENCY = r"[¥￥,\s]|元$"


@dataclass(frozen=True)
class Issue:
    """Rows of one column that failed one check.

    ``detail`` builds the human-readable detail for the failing rows' positions, lazily, so that
    it is computed only for the few rows that fail.
    """

    mask: np.ndarray
    reason: str
    detail: Callable[[np.ndarray], list[str]]


def _mask(arr: pa.Array) -> np.ndarray:
    return arr.fill_null(False).to_numpy(zero_copy_only=False)


def _show(values: pa.Array, what: str) -> Callable[[np.ndarray], list[str]]:
    def detail(idx: np.ndarray) -> list[str]:
        return [f"{v!r} {what}" for v in values.take(pa.array(idx)).to_pylist()]

    return detail


def clean_strings(arr: pa.Array) -> pa.Array:
    """NFKC-normalise (full-width to ASCII) and trim strings; empty becomes null."""
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if not pc.all(pc.string_is_ascii(arr)).as_py():
        arr = pc.utf8_normalize(arr, form="NFKC")
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)


def to_dictionary(arr: pa.Array, mapping: dict[str, str] | None = None) -> pa.DictionaryArray:
    """Dictionary-encode an id or label column, cleaning each distinct value once.

    ``mapping`` renames cleaned values (e.g. Chinese order statuses to canonical words).
    """
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    encoded = pc.dictionary_encode(arr)
    values = clean_strings(encoded.dictionary)
    if mapping:
        keys = pa.array(list(mapping), pa.string())
        hit = pc.index_in(values, value_set=keys)
        renamed = pc.take(pa.array(list(mapping.values()), pa.string()), hit)
        values = pc.coalesce(renamed, values)
    # Distinct raw spellings may clean to the same value: re-encode the cleaned dictionary.
    recoded = pc.dictionary_encode(values)
    indices = pc.take(recoded.indices, encoded.indices)
    return pa.DictionaryArray.from_arrays(indices, recoded.dictionary)


def to_timestamp(arr: pa.Array, utc_offset_s: int) -> tuple[pa.Array, list[Issue]]:
    """Parse times to ``timestamp[s, UTC]``; naive times are local at ``utc_offset_s``.

    Examples
    --------
    >>> ts, issues = to_timestamp(pa.array(["2024-11-11 08:00:00", "soon", None]), 8 * 3600)
    >>> ts.to_pylist()[0].isoformat(), issues[0].reason
    ('2024-11-11T00:00:00+00:00', 'bad_timestamp')
    """
    n = len(arr)
    if pa.types.is_timestamp(arr.type):
        seconds = arr.cast(pa.timestamp("s", tz=arr.type.tz)).cast(pa.int64())
        out = seconds.to_numpy(zero_copy_only=False).astype(np.int64, copy=True)
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        if arr.type.tz is None:
            out -= utc_offset_s
        raw = arr
    else:
        raw = clean_strings(arr)
        out = np.zeros(n, dtype=np.int64)
        valid = np.zeros(n, dtype=bool)
        pending = np.flatnonzero(raw.is_valid().to_numpy(zero_copy_only=False))
        subset = raw
        for fmt in TIME_FORMATS:
            if pending.size == 0:
                break
            if subset is not raw or pending.size != n:
                subset = raw.take(pa.array(pending))
            parsed = pc.strptime(subset, format=fmt, unit="s", error_is_null=True)
            ok = parsed.is_valid().to_numpy(zero_copy_only=False)
            if ok.any():
                secs = parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)[ok]
                out[pending[ok]] = secs if "%z" in fmt else secs - utc_offset_s
                valid[pending[ok]] = True
            pending = pending[~ok]
            subset = None
    present = raw.is_valid().to_numpy(zero_copy_only=False)
    if not pa.types.is_timestamp(raw.type):
        valid &= ~_impossible_dates(raw, out, valid, utc_offset_s)
    unparsed = present & ~valid
    out_of_range = valid & ((out < _EARLIEST) | (out >= _LATEST))
    valid &= ~out_of_range
    result = pa.array(out, type=pa.int64(), mask=~valid).cast(pa.timestamp("s", tz="UTC"))
    shown = raw if not pa.types.is_timestamp(raw.type) else raw.cast(pa.string())
    issues = [
        Issue(unparsed, "bad_timestamp", _show(shown, "is not a date and time")),
        Issue(out_of_range, "bad_timestamp", _show(shown, "is outside 1990-2099")),
    ]
    return result, issues


def _impossible_dates(text: pa.Array, seconds: np.ndarray, valid: np.ndarray, offset_s: int) -> np.ndarray:
    """Rows whose text names a day the month does not have (``2024-02-30``).

    Arrow's ``strptime`` rolls such days over into the next month, so the parsed day is then
    early in a month; only those rows (and month ends, for times with an offset) are re-read.
    """
    day = ((seconds + offset_s) // 86400).astype("datetime64[D]")
    dom = (day - day.astype("datetime64[M]")).astype(np.int64) + 1
    rows = np.flatnonzero(valid & ((dom <= 3) | (dom >= 28)))
    bad = np.zeros(len(valid), dtype=bool)
    if rows.size == 0:
        return bad
    parts = pc.extract_regex(text.take(pa.array(rows)), r"^(?P<y>\d{4})\D(?P<m>\d{1,2})\D(?P<d>\d{1,2})")
    ymd = {k: parts.field(k).cast(pa.int64()).fill_null(1).to_numpy(zero_copy_only=False) for k in "ymd"}
    month = (ymd["y"] - 1970) * 12 + ymd["m"] - 1
    length = (np.array(month + 1, dtype="datetime64[M]").astype("datetime64[D]")
              - np.array(month, dtype="datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    bad[rows[ymd["d"] > length]] = True
    return bad


def to_number(arr: pa.Array, what: str) -> tuple[pa.Array, list[Issue]]:
    """Parse non-negative numbers (``¥1,234.50`` accepted) to float64.

    ``what`` names the quantity in reasons (``negative_amount``, ``bad_amount``).
    """
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_decimal(arr.type):
        values = arr.cast(pa.float64())
        shown = arr.cast(pa.string())
        bad = np.zeros(len(arr), dtype=bool)
    else:
        shown = clean_strings(arr)
        text = pc.replace_substring_regex(shown, _CURRENCY, "")
        ok = pc.match_substring_regex(text, _NUMBER)
        bad = _mask(pc.and_(shown.is_valid(), pc.invert(ok.fill_null(False))))
        values = pc.if_else(ok, text, pa.scalar(None, pa.string())).cast(pa.float64())
    nonfinite = _mask(pc.invert(pc.is_finite(values)))
    negative = _mask(pc.less(values, 0.0))
    usable = pc.invert(pa.array(bad | nonfinite | negative))
    values = pc.if_else(usable, values, pa.scalar(None, pa.float64()))
    issues = [
        Issue(bad, f"bad_{what}", _show(shown, "is not a number")),
        Issue(nonfinite, f"bad_{what}", _show(shown, "is not a finite number")),
        Issue(negative, f"negative_{what}", _show(shown, "is negative")),
    ]
    return values, issues


def to_rating(arr: pa.Array) -> tuple[pa.Array, list[Issue]]:
    """Parse ratings 1-5 to int8; 好评/中评/差评 become 5/3/1, ``5星`` or ``5.0`` become 5.

    Examples
    --------
    >>> r, issues = to_rating(pa.array(["好评", "4", "5.0", "6", "great", None]))
    >>> r.to_pylist()
    [5, 4, 5, None, None, None]
    >>> [i.reason for i in issues if i.mask.any()]
    ['bad_rating', 'rating_out_of_range']
    """
    shown = clean_strings(arr)
    text = pc.replace_substring_regex(shown, r"\s*(星|分|stars?)$", "")
    words = pa.array(list(RATING_WORDS), pa.string())
    hit = pc.index_in(text, value_set=words)
    text = pc.coalesce(pc.take(pa.array(list(RATING_WORDS.values()), pa.string()), hit), text)
    ok = pc.match_substring_regex(text, _NUMBER).fill_null(False)
    bad = _mask(pc.and_(shown.is_valid(), pc.invert(ok)))
    number = pc.if_else(ok, text, pa.scalar(None, pa.string())).cast(pa.float64())
    in_range = pc.and_(
        pc.and_(pc.greater_equal(number, 1.0), pc.less_equal(number, 5.0)),
        pc.equal(pc.round(number), number),
    )
    out_of_range = _mask(pc.and_(number.is_valid(), pc.invert(in_range.fill_null(False))))
    rating = pc.if_else(in_range, number, pa.scalar(None, pa.float64())).cast(pa.int8())
    return rating, [
        Issue(bad, "bad_rating", _show(shown, "is not a rating")),
        Issue(out_of_range, "rating_out_of_range", _show(shown, "is not a whole rating from 1 to 5")),
    ]


def to_status(arr: pa.Array) -> pa.DictionaryArray:
    """Order statuses, with common Chinese statuses renamed to canonical English words."""
    return to_dictionary(arr, STATUS_WORDS)


def parse_utc_offset(text: str) -> int:
    """Return the offset in seconds of ``+08:00``-style text (``UTC`` and ``Z`` are zero).

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
    m = re.fullmatch(r"(?:UTC)?([+-])(\d{1,2})(?::?(\d{2}))?", text)
    if not m:
        raise ValueError(f"not a UTC offset: {text!r} (use e.g. +08:00)")
    sign = 1 if m.group(1) == "+" else -1
    return sign * (int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60)
