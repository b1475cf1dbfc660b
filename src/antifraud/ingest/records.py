"""Splitting a delimited text file into chunks of whole records, with their line numbers.

pyarrow parses CSV fast but cannot say on which line a row began (a quoted review text may span
several lines), and it cannot parse one file on several cores when values may contain line
breaks. Both are solved here: the raw bytes are read once, in blocks, and a numba scanner with
the same quoting rules (RFC 4180: a field that starts with ``"`` is quoted, a doubled ``""``
inside it is a literal quote) finds where every record starts, on which physical line, and how
many fields it has. Each block is cut after its last complete record, so every chunk handed on
holds whole records and can be parsed on its own.

The scanner works on undecoded bytes, which is safe for UTF-8, GBK and GB18030: none of them
uses the bytes ``"``, ``,``, ``\\t``, LF or CR inside a multi-byte character. Line breaks are LF,
CR LF or a bare CR, as pyarrow reads them; blank lines are not records. Without a delimiter the
same scanner splits plain lines (JSON Lines): no fields and no quoting, one record a line.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numba
import numpy as np

__all__ = ["MAX_RECORD_BYTES", "RecordChunk", "iter_record_chunks", "scan_records", "Truncated"]

BLOCK_BYTES = 64 << 20
# The longest record (a CSV record, a JSON Lines line) or value read; a longer one is quarantined.
MAX_RECORD_BYTES = 1 << 20

_LINE_START, _FIELD_START, _UNQUOTED, _QUOTED, _QUOTE_IN_QUOTED = 0, 1, 2, 3, 4
_QUOTE, _LF, _CR = 34, 10, 13


@numba.njit(cache=True, nogil=True)
def _scan(buf, delim, quote, after_cr, line, starts, ends, fields):  # pragma: no cover - compiled
    """Scan ``buf`` from a record boundary; fill per-record arrays for terminated records.

    ``delim`` and ``quote`` are byte values, or -1 for none.

    Returns ``(n_records, state, line_at_last_end, n_fields_of_open_record, stopped_early)``:
    records are counted at their terminating line break, so a record still open at the end of
    ``buf`` is left for the caller (its start is in ``starts[n_records]``). When the arrays are
    full the scan stops early, just after a record.
    """
    state = _LINE_START
    n = 0
    cur = 0
    line_at_end = line
    size = buf.shape[0]
    i = 0
    while i < size:
        b = buf[i]
        if after_cr:
            after_cr = False
            if b == _LF:  # second byte of a CR LF pair, already counted
                i += 1
                continue
        if state == _QUOTED:
            # Fast skip over ordinary bytes inside a quoted field.
            while i < size and buf[i] != quote and buf[i] != _LF and buf[i] != _CR:
                i += 1
            if i == size:
                break
            b = buf[i]
            if b == quote:
                state = _QUOTE_IN_QUOTED
            else:
                line += 1
                after_cr = b == _CR
            i += 1
            continue
        if state == _QUOTE_IN_QUOTED:
            if b == quote:
                state = _QUOTED
                i += 1
                continue
            state = _UNQUOTED  # the quote closed the field; handle b below
        if state == _UNQUOTED:
            # Fast skip over ordinary bytes of an unquoted field (all specials are <= 44).
            while i < size and buf[i] > 44:
                i += 1
            if i == size:
                break
            b = buf[i]
        if b == _LF or b == _CR:
            after_cr = b == _CR
            line += 1
            if state != _LINE_START:  # a blank line is not a record
                fields[n] = cur
                ends[n] = i + 1
                n += 1
                line_at_end = line
                if n == starts.shape[0] - 1:  # keep one slot for an open record
                    return n, _LINE_START, line_at_end, 0, True
            state = _LINE_START
            cur = 0
            i += 1
            continue
        if state == _LINE_START:
            starts[n] = line
            cur = 1
            state = _FIELD_START
        if b == delim:
            cur += 1
            state = _FIELD_START
        elif b == quote and state == _FIELD_START:
            state = _QUOTED
        else:
            state = _UNQUOTED
        i += 1
    return n, state, line_at_end, cur, False


@dataclass(frozen=True)
class RecordChunk:
    """Whole records of a file: their bytes and, per record, its first line and field count.

    ``data`` ends after the last record's line break (or at the end of the file).
    ``ends[i]`` is the byte offset in ``data`` just after record ``i``.
    """

    data: memoryview
    start_line: np.ndarray
    n_fields: np.ndarray
    ends: np.ndarray


class Truncated(Exception):
    """The file ends inside a quoted field; ``line`` is where that record starts."""

    def __init__(self, line: int) -> None:
        super().__init__(f"the file ends inside a quoted field starting on line {line}")
        self.line = line


class _HashingReader:
    """A binary file wrapper that feeds every byte read into a SHA-256."""

    def __init__(self, raw: BinaryIO, digest: hashlib._Hash) -> None:
        self._raw, self._digest = raw, digest

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._digest.update(data)
        return data

    def readinto(self, buffer: memoryview) -> int:
        n = self._raw.readinto(buffer)
        self._digest.update(memoryview(buffer)[:n])
        return n

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()


def iter_record_chunks(
    path: str | Path, delimiter: str | None = ",", digest: hashlib._Hash | None = None, block: int = BLOCK_BYTES
) -> Iterator[RecordChunk]:
    """Read ``path`` (plain or ``.gz``) in chunks of whole records.

    Parameters
    ----------
    path : path
    delimiter : str or None
        One-byte field delimiter; ``None`` for plain lines (no fields, no quoting).
    digest : hashlib hash, optional
        Updated with every byte of the file as stored (compressed, for ``.gz``).
    block : int
        Bytes read at a time.

    Raises
    ------
    Truncated
        The file ends inside a quoted field.
    """
    path = Path(path)
    delim, quote = (np.int64(ord(delimiter)), np.int64(_QUOTE)) if delimiter else (np.int64(-1), np.int64(-1))
    digest = digest or hashlib.sha256()
    raw = _HashingReader(open(path, "rb"), digest)
    stream = gzip.GzipFile(fileobj=raw, mode="rb") if path.suffix == ".gz" else raw
    try:
        carry = b""
        line, after_cr = 1, False
        while True:
            # One buffer per block, the unfinished record carried over at its front; at least as
            # much again is read, so a record of any size is copied a bounded number of times. Left
            # uninitialised: zero-filling 64 MB of fresh pages per block cost seconds of page faults.
            whole = np.empty(len(carry) + max(block, len(carry)), dtype=np.uint8)
            whole[: len(carry)] = np.frombuffer(carry, dtype=np.uint8)
            got = stream.readinto(memoryview(whole)[len(carry) :])
            eof = not got
            buf = memoryview(whole)[: len(carry) + got]
            while len(buf):
                arr = np.frombuffer(buf, dtype=np.uint8)
                capacity = arr.shape[0] // 16 + 16
                starts = np.empty(capacity, np.int64)
                ends = np.empty(capacity, np.int64)
                fields = np.empty(capacity, np.int32)
                n, state, line_at_end, cur, early = _scan(arr, delim, quote, after_cr, line, starts, ends, fields)
                if eof and not early:
                    if state == _QUOTED:
                        raise Truncated(int(starts[n]))
                    if state != _LINE_START:  # the last record has no line break
                        fields[n], ends[n] = cur, arr.shape[0]
                        n += 1
                    if n:
                        yield RecordChunk(buf, starts[:n].copy(), fields[:n].copy(), ends[:n].copy())
                    return
                if n == 0:
                    break  # no complete record yet: read more
                cut = int(ends[n - 1])
                yield RecordChunk(buf[:cut], starts[:n].copy(), fields[:n].copy(), ends[:n].copy())
                line, after_cr = line_at_end, buf[cut - 1] == _CR
                buf = buf[cut:]
                if not early:
                    break
            carry = bytes(buf)
            if eof:
                return
    finally:
        stream.close()
        raw.close()


def scan_records(path: str | Path, delimiter: str = ",") -> tuple[np.ndarray, np.ndarray]:
    """First line and field count of every record of ``path`` (header included).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes(b'a,b\\n1,"two\\nlines"\\n\\n3,4\\n')
    >>> lines, fields = scan_records(p)
    >>> lines.tolist(), fields.tolist()
    ([1, 2, 5], [2, 2, 2])
    """
    chunks = list(iter_record_chunks(path, delimiter))
    if not chunks:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    return (
        np.concatenate([c.start_line for c in chunks]),
        np.concatenate([c.n_fields for c in chunks]),
    )
