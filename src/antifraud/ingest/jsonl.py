"""Parsing chunks of JSON Lines into string columns, one row a line, bad lines set aside.

pyarrow parses JSON fast but rejects a whole file for one bad line, insists that a column keeps
one JSON type (``"12.50"`` then ``12.5`` is an error), reads big integers into doubles, and reports
problems by row within a block. Here each chunk of lines (from :mod:`antifraud.ingest.records`)
is first rewritten by a numba pass that quotes every bare number, ``true`` and ``false``, so every
scalar is read as the text it was written as (as a CSV would give it) and the converters apply one
set of rules to all formats. Then pyarrow parses the chunk with every used column as a string;
if it fails, or gives other than one row a line, the chunk is split in halves until each bad line
is alone, and that line is reported with the reason.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> data = b'{"a": "x", "n": 12.50}\\n{"a": \\n{"a": true, "n": 7}\\n'
>>> table, ok, bad = parse_lines(data, np.array([23, 30, 50]), pa.schema([("a", pa.string()), ("n", pa.string())]))
>>> table.to_pylist(), ok.tolist(), bad
([{'a': 'x', 'n': '12.50'}, {'a': 'true', 'n': '7'}], [True, False, True], [(1, '', 'bad_json', 'Invalid value.')])
"""

from __future__ import annotations

import io
import re

import numba
import numpy as np
import pyarrow as pa
import pyarrow.json as pajson

__all__ = ["JSON_WHITESPACE", "quote_scalars", "parse_lines"]

_QUOTE, _BACKSLASH = 34, 92
JSON_WHITESPACE = b" \t\r\n"


@numba.njit(cache=True, inline="always")
def _is_number(buf, start, stop):  # pragma: no cover - compiled
    """Whether ``buf[start:stop]`` is a JSON number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?"""
    i = start
    if i < stop and buf[i] == 45:  # '-'
        i += 1
    if i == stop or buf[i] < 48 or buf[i] > 57:
        return False
    if buf[i] == 48:
        i += 1
    else:
        while i < stop and 48 <= buf[i] <= 57:
            i += 1
    if i < stop and buf[i] == 46:  # '.'
        i += 1
        if i == stop or buf[i] < 48 or buf[i] > 57:
            return False
        while i < stop and 48 <= buf[i] <= 57:
            i += 1
    if i < stop and (buf[i] == 101 or buf[i] == 69):  # 'e' 'E'
        i += 1
        if i < stop and (buf[i] == 43 or buf[i] == 45):
            i += 1
        if i == stop or buf[i] < 48 or buf[i] > 57:
            return False
        while i < stop and 48 <= buf[i] <= 57:
            i += 1
    return i == stop


@numba.njit(cache=True, inline="always")
def _is_literal(buf, start, stop, word):  # pragma: no cover - compiled
    if stop - start != word.shape[0]:
        return False
    for k in range(word.shape[0]):  # noqa: SIM110 - numba compiles a loop, not a generator
        if buf[start + k] != word[k]:
            return False
    return True


@numba.njit(cache=True, inline="always")
def _token_byte(b):  # pragma: no cover - compiled
    # Bytes a bare JSON token (number or literal) can be made of: letters, digits, + - .
    return (48 <= b <= 57) or (97 <= b <= 122) or (65 <= b <= 90) or b == 43 or b == 45 or b == 46


@numba.njit(cache=True, nogil=True)
def _quote(buf, ends, out, out_ends, true, false):  # pragma: no cover - compiled
    """Copy ``buf`` to ``out`` with bare numbers, true and false in quotes; return bytes written.

    String state is reset at every record end, so one bad line cannot change how the next is read.
    Tokens that are not valid JSON are copied as they are, for the parser to reject.
    """
    j = 0
    k = 0
    in_string = False
    escaped = False
    i = 0
    size = buf.shape[0]
    while i < size:
        while k < ends.shape[0] and ends[k] <= i:
            out_ends[k] = j
            k += 1
            in_string = False
            escaped = False
        b = buf[i]
        if in_string:
            if escaped:
                escaped = False
            elif b == _BACKSLASH:
                escaped = True
            elif b == _QUOTE:
                in_string = False
        elif b == _QUOTE:
            in_string = True
        elif _token_byte(b):
            stop = i
            limit = ends[k] if k < ends.shape[0] else size
            while stop < limit and _token_byte(buf[stop]):
                stop += 1
            quoted = _is_number(buf, i, stop) or _is_literal(buf, i, stop, true) or _is_literal(buf, i, stop, false)
            if quoted:
                out[j] = _QUOTE
                j += 1
            while i < stop:
                out[j] = buf[i]
                j += 1
                i += 1
            if quoted:
                out[j] = _QUOTE
                j += 1
            continue
        out[j] = b
        j += 1
        i += 1
    while k < ends.shape[0]:
        out_ends[k] = j
        k += 1
    return j


_TRUE = np.frombuffer(b"true", dtype=np.uint8)
_FALSE = np.frombuffer(b"false", dtype=np.uint8)


def quote_scalars(data: bytes | memoryview, ends: np.ndarray) -> tuple[memoryview, np.ndarray]:
    """``data`` (whole lines, line ``i`` ending at ``ends[i]``) with every bare scalar quoted.

    Returns the new bytes and where each line now ends.

    Examples
    --------
    >>> line = b'{"a": -1.5e3, "b": [true, null], "c": "7 \\\\" 8", "d": 01}\\n'
    >>> out, ends = quote_scalars(line, np.array([len(line)]))
    >>> bytes(out), ends.tolist() == [len(line) + 4]
    (b'{"a": "-1.5e3", "b": ["true", null], "c": "7 \\\\" 8", "d": 01}\\n', True)
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    out = np.empty(2 * buf.shape[0] + 2, dtype=np.uint8)  # each token gains two quotes, tokens are apart
    out_ends = np.empty(ends.shape[0], dtype=np.int64)
    n = _quote(buf, ends.astype(np.int64), out, out_ends, _TRUE, _FALSE)
    return memoryview(out)[:n], out_ends


_COLUMN = re.compile(r"Column\(/([^)/]*)[^)]*\)")
_ROW = re.compile(r"\s*in row \d+\s*$")


def _problem(exc: BaseException) -> tuple[str, str, str]:
    """(source column, reason, detail) of a pyarrow error about one line."""
    text = _ROW.sub("", str(exc).strip().splitlines()[0]).removeprefix("JSON parse error: ")
    found = _COLUMN.search(text)
    column = found.group(1) if found else ""
    if found and "changed from" in text:
        kind = text.rsplit(" ", 1)[-1]
        if column:
            return column, "wrong_type", f"holds {'an' if kind[0] in 'aeiou' else 'a'} {kind}, not text or a number"
        return "", "bad_json", f"is {'an' if kind[0] in 'aeiou' else 'a'} {kind}, not a JSON object"
    if found and "specified twice" in text:
        return column, "bad_json", f"the key {column!r} appears twice"
    return column, "bad_json", text


def _read(data: memoryview, schema: pa.Schema, block: int) -> pa.Table:
    # A copy, in a stream pyarrow reads into buffers of its own: with a view of ``data`` in place
    # (pa.BufferReader) one full test run died of SIGSEGV inside read_json.
    return pajson.read_json(
        io.BytesIO(data),
        read_options=pajson.ReadOptions(block_size=block),
        parse_options=pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"),
    )


def parse_lines(
    data: bytes | memoryview, ends: np.ndarray, schema: pa.Schema, block: int = 4 << 20
) -> tuple[pa.Table, np.ndarray, list[tuple[int, str, str, str]]]:
    """Parse whole JSON lines (line ``i`` ends at byte ``ends[i]``) into ``schema``'s string columns.

    Parameters
    ----------
    data : bytes
        Lines of JSON objects; keys not in ``schema`` are ignored, whatever they hold.
    ends : ndarray of int
    schema : pyarrow.Schema
        The source columns to read, all strings.
    block : int
        pyarrow's block size; larger than twice the longest line.

    Returns
    -------
    table : pyarrow.Table
        One row for each good line, in order.
    ok : ndarray of bool
        Which lines are rows of ``table``.
    bad : list of (int, str, str, str)
        For every other line that is not blank (only :data:`JSON_WHITESPACE`): its index, source
        column (or ``""``), reason (``bad_json`` or ``wrong_type``) and detail.
    """
    quoted, q_ends = quote_scalars(data, np.asarray(ends))
    n = len(q_ends)
    ok = np.zeros(n, dtype=bool)
    tables: list[pa.Table] = []
    bad: list[tuple[int, str, str, str]] = []
    pending = [(0, n)] if n else []
    while pending:
        lo, hi = pending.pop()
        start = int(q_ends[lo - 1]) if lo else 0
        piece = quoted[start : int(q_ends[hi - 1])]
        try:
            table = _read(piece, schema, block)
            problem = None if table.num_rows == hi - lo else ("", "bad_json", f"holds {table.num_rows} JSON values")
        except pa.ArrowInvalid as exc:
            table, problem = None, _problem(exc)
        if problem is None:
            tables.append((lo, table))
            ok[lo:hi] = True
        elif hi - lo > 1:
            mid = (lo + hi) // 2
            pending += [(mid, hi), (lo, mid)]
        elif bytes(piece).strip(JSON_WHITESPACE):  # a line of JSON whitespace is blank, not a record
            bad.append((lo, *problem))
    tables.sort(key=lambda t: t[0])
    merged = pa.concat_tables([t for _, t in tables]) if tables else schema.empty_table()
    return merged, ok, sorted(bad)
