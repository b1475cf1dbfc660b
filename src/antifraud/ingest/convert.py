"""Converting raw columns to canonical types, recording every value that does not fit.

Each converter takes one raw Arrow column (strings from text formats, native types from
Parquet) and returns the canonical Arrow column plus masks of rows whose value is unusable, with
a reason. Work on values is done on distinct values where that is cheaper (ids, labels), and with
Arrow compute kernels otherwise; there is no per-row Python loop.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from antifraud.ingest.timeparse import parse_common_times
from antifraud.times import MAX_UTC_OFFSET_S, parse_utc_offset

__all__ = [
    "Issue",
    "clean_strings",
    "excel_numbers",
    "unwrap_excel_text",
    "nfkc",
    "to_dictionary",
    "encode_strings",
    "shared_dictionary",
    "map_chunks",
    "to_timestamp",
    "to_number",
    "to_rating",
    "to_status",
    "parse_utc_offset",
    "TIME_FORMATS",
    "MAXIMUM",
    "MAX_UTC_OFFSET_S",
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
# The largest plausible value of each quantity: above it a value is a data error, not an order.
MAXIMUM = {"amount": 1e9, "weight": 1e5}  # yuan per order; kilograms per parcel
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_GROUPED = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"  # thousands separated by commas: 1,234.50
_SEPARATED = r"^[+-]?[\d.,]*\d[\d.,]*$"  # digits with commas or dots that are neither: 12,5 or 1.234,50
_NOT_FINITE = r"(?i)^[+-]?(nan|inf|infinity)$"  # numbers to a plain cast, out of range here
_CURRENCY = r"^¥\s*|\s*元$"  # after NFKC, which makes ￥ ¥


@dataclass(frozen=True)
class Issue:
    """Rows of one column that failed one check.

    ``detail`` builds the human-readable detail for the failing rows' positions, lazily, so that
    it is computed only for the few rows that fail.
    """

    mask: np.ndarray
    reason: str
    detail: Callable[[np.ndarray], list[str]]


def _is_text(arr: pa.Array) -> bool:
    return pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)


def _mask(arr: pa.Array) -> np.ndarray:
    return arr.fill_null(False).to_numpy(zero_copy_only=False)


def _show(values: pa.Array, what: str) -> Callable[[np.ndarray], list[str]]:
    def detail(idx: np.ndarray) -> list[str]:
        return [f"{v!r} {what}" for v in values.take(pa.array(idx)).to_pylist()]

    return detail


# Characters whose NFKC form differs and that turn up in exports: no-break and ideographic
# spaces, superscripts, number forms, circled and enclosed numbers, CJK compatibility forms and
# ideographs, full-width and half-width forms.
_COMPATIBILITY = (
    "[\u00a0-\u00be\u2000-\u206f\u2150-\u218f\u2460-\u24ff\u3000\u3200-\u33ff"
    "\uf900-\ufaff\ufe30-\ufe6f\uff00-\uffef]"
)


# ``="3800..."``: a value written as an Excel formula so that Excel shows it as text.
_EXCEL_TEXT = r'^\s*="(.*)"\s*$'
# What Excel's General format makes of a number of 12 digits or more: ``3.8E+18``, ``7.99434E+13``.
_EXCEL_NUMBER = r"^[1-9](\.[0-9]+)?[eE]\+(1[1-9]|[2-9][0-9])$"


def unwrap_excel_text(arr: pa.Array) -> pa.Array:
    """Values written as Excel text formulas, ``="3800123456789"``, as the text inside.

    Examples
    --------
    >>> unwrap_excel_text(pa.array(['="3800123456789"', "3800", ' ="00731" ', None])).to_pylist()
    ['3800123456789', '3800', '00731', None]
    """
    # A substring test first: the regular expression costs five times as much, on every column.
    if not _is_text(arr) or not pc.any(pc.match_substring(arr, '="')).as_py():
        return arr
    return pc.replace_substring_regex(arr, _EXCEL_TEXT, r"\1")


def excel_numbers(arr: pa.Array) -> Issue:
    """Ids that Excel rewrote in scientific notation (``3.8E+18``): their last digits are lost,
    so the row cannot be matched to anything, and the detail says how to export it again.

    Examples
    --------
    >>> issue = excel_numbers(pa.array(["3.8E+18", "3800123456789", "7.99434E+13", "2E5", None]))
    >>> issue.mask.tolist()
    [True, False, True, False, False]
    """
    if not _is_text(arr):
        return Issue(np.zeros(len(arr), dtype=bool), "excel_number", lambda idx: [])
    return Issue(_mask(pc.match_substring_regex(arr, _EXCEL_NUMBER)), "excel_number", _show(
        arr, "is an id Excel rewrote as a number, losing its last digits: export the file again from the platform "
             "and, if it must pass through Excel, import it with this column as Text instead of opening it"))


def nfkc(arr: pa.Array) -> pa.Array:
    """Unicode NFKC of ``arr``, computed only for values that hold a compatibility character.

    NFKC of Chinese text is slow (about 1.6 us a value) and almost always the identity, so
    values are first screened with one regular expression.

    Examples
    --------
    >>> nfkc(pa.array(["ＡＢＣ１２３", "文三路1号", "１号楼", None])).to_pylist()
    ['ABC123', '文三路1号', '1号楼', None]
    """
    if pc.all(pc.string_is_ascii(arr)).as_py() is not False:
        return arr
    needs = pc.match_substring_regex(arr, _COMPATIBILITY)
    if not pc.any(needs).as_py():
        return arr
    needs = needs.fill_null(False)
    return pc.replace_with_mask(arr, needs, pc.utf8_normalize(arr.filter(needs), form="NFKC"))


def clean_strings(arr: pa.Array) -> pa.Array:
    """NFKC-normalise (full-width to ASCII) and trim strings; empty becomes null."""
    if not _is_text(arr):
        arr = arr.cast(pa.string())
    arr = pc.utf8_trim_whitespace(nfkc(arr))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)


def to_dictionary(
    arr: pa.Array | pa.ChunkedArray, clean: Callable[[pa.Array], pa.Array] = clean_strings
) -> pa.DictionaryArray | pa.ChunkedArray:
    """Dictionary-encode a column, cleaning each distinct value once with ``clean``.

    Distinct raw spellings that clean to the same value (``"007"``, ``" 007"``, ``"００７"``)
    share one dictionary entry. A chunked column is encoded in one pass over all its chunks and
    comes back with one dictionary shared by every chunk, in order of first appearance. A column
    that is already encoded so (one dictionary of strings) is not encoded again: only its
    dictionary is cleaned.

    Examples
    --------
    >>> out = to_dictionary(pa.chunked_array([["b", " a"], ["ａ", None]]))
    >>> out.chunk(1).dictionary.to_pylist(), out.chunk(1).indices.to_pylist()
    (['b', 'a'], [1, None])
    """
    encoded = encode_strings(arr)
    recoded = pc.dictionary_encode(clean(shared_dictionary(encoded)))

    def recode(chunk: pa.DictionaryArray) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pc.take(recoded.indices, chunk.indices), recoded.dictionary)

    return map_chunks(encoded, recode)


def encode_strings(arr: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray | pa.ChunkedArray:
    """``arr`` as strings dictionary-encoded with one dictionary for all chunks, as it is when it
    already is so, without cleaning.

    Examples
    --------
    >>> encode_strings(pa.chunked_array([[7, 8], [7]])).chunk(1).dictionary.to_pylist()
    ['7', '8']
    """
    return arr if _one_string_dictionary(arr) else pc.dictionary_encode(_decoded_strings(arr))


def _one_string_dictionary(arr: pa.Array | pa.ChunkedArray) -> bool:
    """Whether ``arr`` is dictionary-encoded with strings, one dictionary for all its chunks."""
    if not pa.types.is_dictionary(arr.type) or not pa.types.is_string(arr.type.value_type):
        return False
    if isinstance(arr, pa.DictionaryArray) or arr.num_chunks < 2:
        return True
    first = arr.chunk(0).dictionary
    return all(chunk.dictionary.equals(first) for chunk in arr.chunks[1:])


def _decoded_strings(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``arr`` as plain strings."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return arr if pa.types.is_string(arr.type) else arr.cast(pa.string())


def shared_dictionary(encoded: pa.DictionaryArray | pa.ChunkedArray) -> pa.Array:
    """The dictionary of ``encoded``, which for a chunked column every chunk must share."""
    if isinstance(encoded, pa.DictionaryArray):
        return encoded.dictionary
    return encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], encoded.type.value_type)


def map_chunks(
    arr: pa.Array | pa.ChunkedArray, func: Callable[[pa.Array], pa.Array]
) -> pa.Array | pa.ChunkedArray:
    """``func`` of an array, or of every chunk of a chunked one; ``func`` keeps the type."""
    if isinstance(arr, pa.ChunkedArray):
        return pa.chunked_array([func(chunk) for chunk in arr.chunks], type=arr.type)
    return func(arr)


def _parse_times(text: pa.Array, utc_offset_s: int, formats: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """Try ``formats`` in turn on ``text``; return seconds, parsed and had-an-offset masks."""
    n = len(text)
    out = np.zeros(n, dtype=np.int64)
    ok_all = np.zeros(n, dtype=bool)
    zoned = np.zeros(n, dtype=bool)
    pending = np.flatnonzero(text.is_valid().to_numpy(zero_copy_only=False))
    for fmt in formats:
        if pending.size == 0:
            break
        subset = text if pending.size == n else text.take(pa.array(pending))
        parsed = pc.strptime(subset, format=fmt, unit="s", error_is_null=True)
        ok = parsed.is_valid().to_numpy(zero_copy_only=False)
        if ok.any():
            rows = pending[ok]
            secs = parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)[ok]
            out[rows] = secs if "%z" in fmt else secs - utc_offset_s
            ok_all[rows] = True
            zoned[rows] = "%z" in fmt
        pending = pending[~ok]
    return out, ok_all, zoned


def to_timestamp(arr: pa.Array, utc_offset_s: int) -> tuple[pa.Array, list[Issue]]:
    """Parse times to ``timestamp[s, UTC]``; naive times are local at ``utc_offset_s``.

    The usual ``YYYY-MM-DD HH:MM:SS`` is read by a fast exact parser
    (:mod:`antifraud.ingest.timeparse`); only values it does not take are cleaned (full-width
    digits, spaces) and tried against every format in :data:`TIME_FORMATS`. Impossible days
    (``2024-02-30``) are rejected.

    Examples
    --------
    >>> ts, issues = to_timestamp(pa.array(["2024-11-11 08:00:00", "soon", None]), 8 * 3600)
    >>> ts.to_pylist()[0].isoformat(), issues[0].reason
    ('2024-11-11T00:00:00+00:00', 'bad_timestamp')
    """
    if pa.types.is_timestamp(arr.type):
        out = arr.cast(pa.timestamp("s", tz=arr.type.tz)).cast(pa.int64())
        out = out.to_numpy(zero_copy_only=False).astype(np.int64, copy=True)
        if arr.type.tz is None:
            out -= utc_offset_s
        present = valid = arr.is_valid().to_numpy(zero_copy_only=False)
        shown = arr.cast(pa.string())
    else:
        shown = arr if pa.types.is_string(arr.type) else arr.cast(pa.string())
        out, valid = parse_common_times(shown)
        out -= utc_offset_s
        present = shown.is_valid().to_numpy(zero_copy_only=False)
        retry = np.flatnonzero(present & ~valid)
        if retry.size:
            cleaned = clean_strings(shown.take(pa.array(retry)))
            present[retry] = cleaned.is_valid().to_numpy(zero_copy_only=False)
            secs, ok, z = _parse_times(cleaned, utc_offset_s, TIME_FORMATS)
            ok &= ~_impossible_dates(cleaned, secs, ok, z, utc_offset_s)  # the fast parser checks its own
            out[retry], valid[retry] = secs, ok
    unparsed = present & ~valid
    out_of_range = valid & ((out < _EARLIEST) | (out >= _LATEST))
    valid &= ~out_of_range
    result = pa.array(out, type=pa.int64(), mask=~valid).cast(pa.timestamp("s", tz="UTC"))
    issues = [
        Issue(unparsed, "bad_timestamp", _show(shown, "is not a date and time")),
        Issue(out_of_range, "bad_timestamp", _show(shown, "is outside 1990-2099")),
    ]
    return result, issues


def _impossible_dates(
    text: pa.Array, seconds: np.ndarray, valid: np.ndarray, zoned: np.ndarray, offset_s: int
) -> np.ndarray:
    """Rows whose text names a day the month does not have (``2024-02-30``).

    Arrow's ``strptime`` rolls such days over into the next month, so the parsed local day is
    then one of the first three of a month; only those rows (and month ends, for times whose own
    offset may differ from ``offset_s``) are re-read.
    """
    day = ((seconds + offset_s) // 86400).astype("datetime64[D]")
    dom = (day - day.astype("datetime64[M]")).astype(np.int64) + 1
    rows = np.flatnonzero(valid & ((dom <= 3) | (zoned & (dom >= 28))))
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
    """Parse non-negative numbers to float64, quarantining any that could be misread.

    Accepted: decimals with a point (``1234.50``, ``.5``, ``1e3``), thousands separated by commas
    in groups of three (``1,234.50``), ``¥``/``￥`` before or ``元`` after, full-width digits.
    Digits with other commas or dots (``12,5``, ``1.234,50``: a decimal comma?) are
    ``ambiguous_{what}``; other text is ``bad_{what}``; values that are not finite or are above
    ``MAXIMUM[what]`` are ``{what}_out_of_range``, and values below zero ``negative_{what}``.
    ``what`` is ``"amount"`` or ``"weight"``.

    Examples
    --------
    >>> values, issues = to_number(pa.array(["¥1,234.50", "12,5", "1e12"]), "amount")
    >>> values.to_pylist(), [i.reason for i in issues if i.mask.any()]
    ([1234.5, None, None], ['ambiguous_amount', 'amount_out_of_range'])
    """
    unread = np.zeros(len(arr), dtype=bool)
    bad = ambiguous = unread
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_decimal(arr.type):
        values = arr.cast(pa.float64())
        shown = arr.cast(pa.string())
    else:
        shown = arr if pa.types.is_string(arr.type) else arr.cast(pa.string())
        try:  # plain numbers, the usual case: one cast
            values = pc.cast(shown, pa.float64())
        except pa.ArrowInvalid:
            text = pc.replace_substring_regex(clean_strings(shown), _CURRENCY, "")
            ok = functools.reduce(pc.or_, [pc.match_substring_regex(text, r) for r in (_NUMBER, _GROUPED, _NOT_FINITE)])
            ok = ok.fill_null(False)
            ambiguous = _mask(pc.and_(pc.invert(ok), pc.match_substring_regex(text, _SEPARATED)))
            bad = _mask(pc.and_(text.is_valid(), pc.invert(ok))) & ~ambiguous
            values = pc.if_else(ok, pc.replace_substring(text, ",", ""), pa.scalar(None, pa.string()))
            values = values.cast(pa.float64())
    out_of_range = _mask(pc.or_(pc.invert(pc.is_finite(values)), pc.greater(values, MAXIMUM[what])))
    negative = _mask(pc.less(values, 0.0)) & ~out_of_range
    usable = pc.invert(pa.array(bad | ambiguous | out_of_range | negative))
    values = pc.if_else(usable, values, pa.scalar(None, pa.float64()))
    issues = [
        Issue(bad, f"bad_{what}", _show(shown, "is not a number")),
        Issue(ambiguous, f"ambiguous_{what}",
              _show(shown, "is ambiguous: write decimals with a point and thousands as 1,234.50")),
        Issue(out_of_range, f"{what}_out_of_range", _show(shown, f"is not finite or above {MAXIMUM[what]:,.0f}")),
        Issue(negative, f"negative_{what}", _show(shown, "is negative")),
    ]
    return values, issues


def to_rating(arr: pa.Array) -> tuple[pa.Array, list[Issue]]:
    """Parse ratings 1-5 to int8; 好评/中评/差评 become 5/3/1, ``5星`` or ``5.0`` become 5.

    Work is done once per distinct value (a column has a handful).

    Examples
    --------
    >>> r, issues = to_rating(pa.array(["好评", "4", "5.0", "6", "great", None]))
    >>> r.to_pylist()
    [5, 4, 5, None, None, None]
    >>> [i.reason for i in issues if i.mask.any()]
    ['bad_rating', 'rating_out_of_range']
    """
    shown = arr if pa.types.is_string(arr.type) else arr.cast(pa.string())
    encoded = pc.dictionary_encode(shown)
    values = clean_strings(encoded.dictionary)
    text = pc.replace_substring_regex(values, r"\s*(星|分|stars?)$", "")
    hit = pc.index_in(text, value_set=pa.array(list(RATING_WORDS), pa.string()))
    text = pc.coalesce(pc.take(pa.array(list(RATING_WORDS.values()), pa.string()), hit), text)
    ok = pc.match_substring_regex(text, _NUMBER).fill_null(False)
    number = pc.if_else(ok, text, pa.scalar(None, pa.string())).cast(pa.float64())
    in_range = pc.and_(
        pc.and_(pc.greater_equal(number, 1.0), pc.less_equal(number, 5.0)),
        pc.equal(pc.round(number), number),
    ).fill_null(False)
    bad = pc.and_(values.is_valid(), pc.invert(ok))
    out_of_range = pc.and_(number.is_valid(), pc.invert(in_range))
    rating = pc.if_else(in_range, number, pa.scalar(None, pa.float64())).cast(pa.int8())
    indices = encoded.indices
    return pc.take(rating, indices), [
        Issue(_mask(pc.take(bad, indices)), "bad_rating", _show(shown, "is not a rating")),
        Issue(_mask(pc.take(out_of_range, indices)), "rating_out_of_range",
              _show(shown, "is not a whole rating from 1 to 5")),
    ]


def _status_words(values: pa.Array) -> pa.Array:
    values = clean_strings(values)
    hit = pc.index_in(values, value_set=pa.array(list(STATUS_WORDS), pa.string()))
    return pc.coalesce(pc.take(pa.array(list(STATUS_WORDS.values()), pa.string()), hit), values)


def to_status(arr: pa.Array) -> pa.DictionaryArray:
    """Order statuses, with common Chinese statuses renamed to canonical English words."""
    return to_dictionary(arr, _status_words)
