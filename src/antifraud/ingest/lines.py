"""Where each CSV record starts: physical line numbers and field counts, in one numba pass.

pyarrow parses CSV fast but does not say on which line a row began (a quoted review text may span
several lines), so quarantine entries and errors could not name the line. This scanner walks the
raw bytes once with the same quoting rules (RFC 4180: a field that starts with ``"`` is quoted, a
doubled ``""`` inside it is a literal quote) and records, for every record, its first line and how
many fields it has. It works on undecoded bytes, which is safe for UTF-8, GBK and GB18030 because
none of them uses the bytes ``"``, ``,``, ``\\n`` or ``\\r`` inside a multi-byte character.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

__all__ = ["RecordLines", "scan_records"]

_CHUNK = 64 << 20

# Scanner states carried across chunks.
_LINE_START, _FIELD_START, _UNQUOTED, _QUOTED, _QUOTE_IN_QUOTED = 0, 1, 2, 3, 4


@numba.njit(cache=True, nogil=True)
def _scan_chunk(buf, delim, state, after_cr, line, n_records, starts, fields, cur_fields):  # pragma: no cover
    """Advance the scanner over ``buf``; append finished records to ``starts``/``fields``.

    Line breaks are LF, CR LF or a bare CR (pyarrow ends records on all three).
    Returns the new ``(state, after_cr, line, n_records, cur_fields, bytes_used)``; it stops early
    when ``starts`` is full so that the caller can grow it.
    """
    quote = 34
    nl = 10
    cr = 13
    for i in range(buf.shape[0]):
        b = buf[i]
        if after_cr:
            after_cr = False
            if b == nl:
                continue  # second byte of a CR LF pair, already counted
        if state == _QUOTED:
            if b == quote:
                state = _QUOTE_IN_QUOTED
            elif b == nl or b == cr:
                line += 1
                after_cr = b == cr
            continue
        if state == _QUOTE_IN_QUOTED:
            if b == quote:
                state = _QUOTED
                continue
            state = _UNQUOTED  # the quote closed the field; handle b below
        if b == nl or b == cr:
            after_cr = b == cr
            if state != _LINE_START:  # a blank line is not a record
                fields[n_records] = cur_fields
                n_records += 1
            line += 1
            state = _LINE_START
            cur_fields = 0
            if n_records == starts.shape[0]:
                return state, after_cr, line, n_records, cur_fields, i + 1
            continue
        if state == _LINE_START:
            starts[n_records] = line
            cur_fields = 1
            state = _FIELD_START
        if b == delim:
            cur_fields += 1
            state = _FIELD_START
        elif b == quote and state == _FIELD_START:
            state = _QUOTED
        else:
            state = _UNQUOTED
    return state, after_cr, line, n_records, cur_fields, buf.shape[0]


@dataclass(frozen=True)
class RecordLines:
    """The records of a CSV file (header included) as the scanner saw them.

    Attributes
    ----------
    start_line : ndarray of int64
        1-based physical line on which each record starts; index 0 is the header.
    n_fields : ndarray of int32
        Number of fields in each record.
    unterminated_quote : bool
        The file ends inside a quoted field (it was cut off).
    ends_with_newline : bool
        The last byte of the file is a line break.
    """

    start_line: np.ndarray
    n_fields: np.ndarray
    unterminated_quote: bool
    ends_with_newline: bool


def _chunks(path: Path) -> Iterator[np.ndarray]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        while True:
            data = fh.read(_CHUNK)
            if not data:
                return
            yield np.frombuffer(data, dtype=np.uint8)


def scan_records(path: str | Path, delimiter: str = ",") -> RecordLines:
    """Scan ``path`` (plain or ``.gz``) and return where every record starts.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes(b'a,b\\n1,"two\\nlines"\\n\\n3,4\\n')
    >>> r = scan_records(p)
    >>> r.start_line.tolist(), r.n_fields.tolist()
    ([1, 2, 5], [2, 2, 2])
    """
    path = Path(path)
    delim = np.uint8(ord(delimiter))
    starts = np.empty(1 << 16, dtype=np.int64)
    fields = np.empty(1 << 16, dtype=np.int32)
    state, after_cr, line, n, cur = _LINE_START, False, 1, 0, 0
    last = -1
    for buf in _chunks(path):
        pos = 0
        while pos < buf.shape[0]:
            if n == starts.shape[0]:
                starts = np.concatenate([starts, np.empty_like(starts)])
                fields = np.concatenate([fields, np.empty_like(fields)])
            state, after_cr, line, n, cur, used = _scan_chunk(
                buf[pos:], delim, state, after_cr, line, n, starts, fields, cur
            )
            pos += used
        last = int(buf[-1])
    if state != _LINE_START:  # last record has no line break; its start is already recorded
        fields[n] = cur
        n += 1
    return RecordLines(
        start_line=starts[:n].copy(),
        n_fields=fields[:n].copy(),
        unterminated_quote=state == _QUOTED,
        ends_with_newline=last in (10, 13),
    )
