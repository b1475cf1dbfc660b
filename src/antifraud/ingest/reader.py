"""Reading one export file (CSV, Parquet, JSON Lines or an Excel workbook) as a stream of raw
Arrow batches.

The reader maps source headers to canonical names and reads only the columns it will use, in
batches, so memory stays bounded whatever the file's size. For CSV, a background thread reads
and hashes the bytes and cuts them into chunks of whole records with their line numbers
(:mod:`antifraud.ingest.records`); each chunk is then parsed by pyarrow on all cores while the
next one is being scanned. JSON Lines are split into lines the same way and parsed by
:mod:`antifraud.ingest.jsonl`. A workbook's cells are read as text by :mod:`antifraud.ingest.excel`,
its row numbers standing for line numbers.

One bad record never stops the read: it is reported with its line and a reason, and the rest are
read. A record is bad when it cannot be parsed (``wrong_field_count``, ``bad_json``,
``wrong_type``), is longer than :data:`~antifraud.ingest.records.MAX_RECORD_BYTES` (``too_long``),
or a value it holds in a used column is not valid text (``bad_encoding``) or holds a NUL byte
(``nul_byte``); values are screened alike in every format. Files that cannot be read at all
(empty, header only, binary, truncated CSV, undecodable start, a header over 1 MiB, a Parquet
column of lists or structs) raise :class:`~antifraud.ingest.errors.InputError`.

Examples
--------
>>> from antifraud.ingest.profiles import PROFILES
>>> with open_export("fixtures/broken/orders.csv", PROFILES["generic"]) as export:  # doctest: +SKIP
...     rows = sum(batch.num_rows for batch in export.batches())
...     done = export.finish()
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import json
import queue
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from antifraud.ingest.encoding import (
    SAMPLE_BYTES,
    check_encoding,
    detect_encoding,
    detect_format,
    detect_json_encoding,
    read_sample,
)
from antifraud.ingest.errors import InputError
from antifraud.ingest.excel import open_sheet
from antifraud.ingest.jsonl import parse_lines
from antifraud.ingest.manifest import sha256_file
from antifraud.ingest.profiles import Profile, resolve_columns
from antifraud.ingest.records import BLOCK_BYTES, MAX_RECORD_BYTES, RecordChunk, Truncated, iter_record_chunks

__all__ = ["BadRecord", "Export", "ReadSummary", "guess_profile", "open_export"]

PARQUET_BATCH_ROWS = 1 << 20
EXCEL_BATCH_ROWS = 1 << 16
# pyarrow's parse block: above the longest record, even after JSON scalars gain their quotes.
PARSE_BLOCK_BYTES = 4 * MAX_RECORD_BYTES


@dataclass(frozen=True)
class BadRecord:
    """A record that was not read: where it is, why, and which column (canonical), if one."""

    line: int
    reason: str
    detail: str
    column: str = ""


@dataclass
class ReadSummary:
    """What :meth:`Export.finish` learned once every batch was read.

    Attributes
    ----------
    lines : ndarray of int64
        For each row yielded, in order, the line (CSV, JSON Lines) or 1-based row (Parquet)
        it came from.
    bad_records : list of BadRecord
        Records that were never yielded.
    sha256 : str
        SHA-256 of the file's bytes.
    """

    lines: np.ndarray
    bad_records: list[BadRecord] = field(default_factory=list)
    sha256: str = ""

    @property
    def rows_read(self) -> int:
        """Data records read from the file, parsed or not."""
        return len(self.lines) + len(self.bad_records)


class Export:
    """An export file opened for reading; use :func:`open_export`.

    Attributes
    ----------
    path : Path
    format : str
        ``"csv"``, ``"parquet"``, ``"jsonl"`` or ``"excel"``.
    encoding : str or None
        Text encoding (``None`` for Parquet and Excel).
    sheet : str or None
        The worksheet read, for Excel.
    header : list of str
        Every column the file has, as written.
    columns : dict
        Canonical name -> source header, for the columns used.
    """

    def __init__(self, path: Path, profile: Profile, encoding: str | None) -> None:
        self.path = path
        self.profile = profile
        self.format = detect_format(path)
        self.encoding: str | None = None
        self.sheet: str | None = None
        self.header: list[str] = []
        self.columns: dict[str, str] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="antifraud-hash")
        self._hash: Future[str] | None = None
        self._digest = hashlib.sha256()
        self._rows = 0
        self._lines: list[np.ndarray] = []
        self._bytes_done = 0
        self._bad: list[BadRecord] = []
        try:
            if self.format == "csv":
                self._open_csv(encoding)
            elif self.format == "parquet":
                self._open_parquet()
            elif self.format == "excel":
                self._open_excel()
            else:
                self._open_jsonl(encoding)
        except BaseException:
            self._pool.shutdown(wait=True, cancel_futures=True)
            raise

    def __enter__(self) -> Export:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    @property
    def fraction_done(self) -> float | None:
        """How much of the file has been read (0-1), where that is known."""
        if self.format == "parquet":
            return self._rows / max(self._parquet.metadata.num_rows, 1)
        if self.format == "excel":
            return self._rows / max(self._sheet.height, 1)
        if self.path.suffix != ".gz":
            return self._bytes_done / max(self.path.stat().st_size, 1)
        return None

    @functools.cached_property
    def _canonical(self) -> dict[str, str]:
        """Source header -> the (first) canonical column read from it."""
        return {src: canon for canon, src in reversed(self.columns.items())}

    @property
    def ignored_columns(self) -> list[str]:
        """Source columns that no canonical column uses."""
        used = set(self.columns.values())
        return [h for h in self.header if h not in used]

    # -- opening ---------------------------------------------------------------------------
    def _open_csv(self, encoding: str | None) -> None:
        path = self.path
        sample = read_sample(path)
        if not sample.strip():
            raise InputError(path, "the file is empty")
        self.encoding = check_encoding(path, sample, encoding) if encoding else detect_encoding(path, sample)
        plain_name = path.name.lower().removesuffix(".gz")
        self.delimiter = "\t" if plain_name.endswith(".tsv") else self.profile.delimiter
        try:
            text = sample.decode(self.encoding, errors="strict" if len(sample) < (1 << 20) else "ignore")
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(path, f"cannot decode the file as {self.encoding}: {exc}") from exc
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=self.delimiter)
        self.header = next(reader, [])
        if not any(h.strip() for h in self.header):
            raise InputError(path, "the first line is empty; expected a header row", line=1)
        self.columns = resolve_columns(self.header, self.profile, path)

    def _open_parquet(self) -> None:
        import pyarrow.parquet as pq

        self._hash = self._pool.submit(sha256_file, self.path)
        try:
            self._parquet = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(self.path, f"cannot read the Parquet file: {_first_line(exc)}") from exc
        schema = self._parquet.schema_arrow
        self.header = schema.names
        self.columns = resolve_columns(self.header, self.profile, self.path)
        for canon, src in self.columns.items():
            kind = schema.field(src).type
            if pa.types.is_dictionary(kind):
                kind = kind.value_type
            if pa.types.is_nested(kind) or pa.types.is_union(kind):
                raise InputError(self.path, f"holds {kind}, not text, numbers or times", column=canon)

    def _open_excel(self) -> None:
        self._hash = self._pool.submit(sha256_file, self.path)
        self._sheet = open_sheet(self.path)
        self.sheet, self.header = self._sheet.name, self._sheet.header
        self.columns = resolve_columns(self.header, self.profile, self.path)

    def _open_jsonl(self, encoding: str | None) -> None:
        sample = read_sample(self.path)
        if not sample.strip():
            raise InputError(self.path, "the file is empty")
        self.encoding = encoding or detect_json_encoding(self.path, sample)
        if not self.encoding.startswith("utf-8"):
            raise InputError(self.path, f"JSON Lines must be UTF-8, not {self.encoding}")
        self.header = _jsonl_keys(self.path)
        if not self.header:
            raise InputError(self.path, "none of the first lines is a JSON object of at most "
                                        f"{MAX_RECORD_BYTES:,} bytes; is this JSON Lines?")
        self.columns = resolve_columns(self.header, self.profile, self.path)

    # -- reading ---------------------------------------------------------------------------
    def batches(self) -> Iterator[pa.RecordBatch]:
        """Yield the used columns in batches, renamed to canonical names.

        Rows whose records or values are bad are left out and reported by :meth:`finish`.
        """
        sources = list(dict.fromkeys(self.columns.values()))
        if self.format == "csv":
            stream = self._csv_batches(sources)
        elif self.format == "parquet":
            stream = self._parquet_batches(sources)
        elif self.format == "excel":
            stream = self._excel_batches(sources)
        else:
            stream = self._jsonl_batches(sources)
        try:
            for table, lines, checked_utf8 in stream:
                table, lines = self._screen(table, lines, checked_utf8)
                self._rows += table.num_rows
                self._lines.append(lines)
                for batch in table.combine_chunks().to_batches():
                    yield pa.RecordBatch.from_arrays(
                        [batch.column(src) for src in self.columns.values()], names=list(self.columns)
                    )
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(self.path, f"cannot read the file ({_first_line(exc)}); is it truncated?") from exc

    def _reject(self, lines: np.ndarray, reason: str, details: Iterable[str], columns: Iterable[str] = ()) -> None:
        columns = list(columns) or [""] * len(lines)
        self._bad.extend(BadRecord(int(line), reason, d, c) for line, d, c in zip(lines, details, columns))

    def _screen(self, table: pa.Table, lines: np.ndarray, checked_utf8: bool) -> tuple[pa.Table, np.ndarray]:
        """Leave out rows whose used values are too long, not valid text, or hold a NUL byte."""
        bad = np.zeros(table.num_rows, dtype=bool)
        for name in table.column_names:
            for reason, mask, detail in _unusable_text(table.column(name), checked_utf8):
                new = mask & ~bad
                if new.any():
                    self._reject(lines[new], reason, detail(np.flatnonzero(new)), [self._canonical[name]] * int(new.sum()))
                    bad |= new
        if not bad.any():
            return table, lines
        return table.filter(pa.array(~bad)), lines[~bad]

    def _csv_batches(self, sources: list[str]) -> Iterator[tuple[pa.Table, np.ndarray, bool]]:
        # pyarrow needs unique column names; headers may repeat or be blank, so use positions.
        names = [f"c{i}" for i in range(len(self.header))]
        position = {h: f"c{i}" for i, h in reversed(list(enumerate(self.header)))}
        wanted = [position[src] for src in sources]
        options = _CsvOptions.make(self.encoding, self.delimiter, names, wanted)
        chunks = _prefetch(iter_record_chunks(self.path, self.delimiter, self._digest))
        first = True
        try:
            for chunk in chunks:
                table, lines, checked_utf8 = self._parse_chunk(chunk, first, options)
                first = False
                yield table.rename_columns(sources), lines, checked_utf8
        except Truncated as exc:
            raise InputError(self.path, "the file ends inside a quoted field; it looks truncated",
                             line=exc.line) from None
        except pa.ArrowInvalid as exc:
            raise InputError(
                self.path, f"cannot parse the file as {self.encoding} CSV: {_first_line(exc)}"
            ) from exc
        if self._lines and not self._ended_with_break and self._last_fields < len(self.header):
            raise InputError(
                self.path,
                f"the last line has {self._last_fields} of {len(self.header)} fields and no line "
                "break; the file looks truncated",
                line=self._last_line,
            )

    def _parse_chunk(self, chunk: RecordChunk, first: bool, options: _CsvOptions) -> tuple[pa.Table, np.ndarray, bool]:
        """Parse one chunk of whole records, leaving out and noting the malformed ones.

        Returns the table, the line of each of its rows, and whether pyarrow checked the text.
        """
        skip = 1 if first else 0  # the header record
        base = int(chunk.ends[0]) if first else 0
        if base > SAMPLE_BYTES:  # the header was read from the sample, so it was cut
            raise InputError(self.path, f"the header line is longer than {SAMPLE_BYTES:,} bytes", line=1)
        lines, n_fields = chunk.start_line[skip:], chunk.n_fields[skip:]
        n_cols = len(self.header)
        self._bytes_done += len(chunk.data)
        good = self._keep_short(chunk, skip, base)
        wrong = good & (n_fields != n_cols)
        self._reject(lines[wrong], "wrong_field_count", (f"{n} fields, expected {n_cols}" for n in n_fields[wrong]))
        good &= ~wrong
        if lines.size:
            self._last_line, self._last_fields = int(lines[-1]), int(n_fields[-1])
        self._ended_with_break = bytes(chunk.data[-1:]) in (b"\n", b"\r")
        if not good.any():
            return pa.table({c: pa.array([], pa.string()) for c in options.convert.include_columns}), lines[good], True
        data, _ = _records(chunk, skip, base, good)
        try:
            parsed, checked = pacsv.read_csv(pa.py_buffer(data), options.read, options.parse, options.convert), True
        except (pa.ArrowInvalid, UnicodeDecodeError):
            # Text that does not decode: read it as UTF-8 unchecked (undecodable bytes kept as they
            # are), and let the screen find the values that are not text.
            utf8 = data if self.encoding.startswith("utf-8") else _to_utf8_escaped(data, self.encoding)
            parsed = pacsv.read_csv(pa.py_buffer(utf8), options.read_utf8, options.parse, options.convert_unchecked)
            checked = False
        if parsed.num_rows != int(good.sum()):  # pragma: no cover - scanner and pyarrow disagree
            raise InputError(self.path, f"internal: {parsed.num_rows} rows parsed, {int(good.sum())} expected",
                             line=int(lines[0]))
        return parsed, lines[good], checked

    def _keep_short(self, chunk: RecordChunk, skip: int, base: int) -> np.ndarray:
        """Which records of ``chunk`` (after ``skip``) are within the size limit; note the others."""
        sizes = _record_sizes(chunk, skip, base)
        long = sizes > MAX_RECORD_BYTES
        self._reject(chunk.start_line[skip:][long], "too_long",
                     (f"a record of {n:,} bytes; the most read is {MAX_RECORD_BYTES:,}" for n in sizes[long]))
        return ~long

    def _jsonl_batches(self, sources: list[str]) -> Iterator[tuple[pa.Table, np.ndarray, bool]]:
        schema = pa.schema([(src, pa.string()) for src in sources])
        for chunk in _prefetch(iter_record_chunks(self.path, None, self._digest)):
            self._bytes_done += len(chunk.data)
            good = self._keep_short(chunk, 0, 0)
            lines = chunk.start_line[good]
            data, ends = _records(chunk, 0, 0, good)
            table, ok, bad = parse_lines(data, ends, schema, PARSE_BLOCK_BYTES)
            for index, column, reason, detail in bad:
                self._reject(lines[index : index + 1], reason, [detail], [self._canonical.get(column, "")])
            yield table, lines[ok], False

    def _parquet_batches(self, sources: list[str]) -> Iterator[tuple[pa.Table, np.ndarray, bool]]:
        start = 1
        try:
            for batch in self._parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=sources):
                table = pa.table([_scalar_or_text(batch.column(src)) for src in sources], names=sources)
                yield table, np.arange(start, start + batch.num_rows, dtype=np.int64), False
                start += batch.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise InputError(self.path, f"cannot read the Parquet file: {_first_line(exc)}") from exc

    def _excel_batches(self, sources: list[str]) -> Iterator[tuple[pa.Table, np.ndarray, bool]]:
        position = {h: i for i, h in reversed(list(enumerate(self.header)))}
        for numbers, cells in self._sheet.rows([position[src] for src in sources], EXCEL_BATCH_ROWS):
            table = pa.table(cells, names=sources)
            yield table, np.asarray(numbers, dtype=np.int64), True

    def finish(self) -> ReadSummary:
        """Line numbers, unparseable records and hash, once all batches were read.

        Raises :class:`InputError` for a file without data rows.
        """
        lines = np.concatenate(self._lines) if self._lines else np.zeros(0, np.int64)
        sha = self._hash.result() if self._hash is not None else self._digest.hexdigest()
        summary = ReadSummary(lines, sorted(self._bad, key=lambda b: b.line), sha)
        if summary.rows_read == 0:
            raise InputError(self.path, "the file has a header but no data rows")
        return summary


def _prefetch(items: Iterable[RecordChunk], depth: int = 2) -> Iterator[RecordChunk]:
    """Produce ``items`` in a background thread, ``depth`` ahead; re-raise its errors here."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    worker = threading.Thread(target=produce, name="antifraud-scan", daemon=True)
    worker.start()
    try:
        while (item := q.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def open_export(path: str | Path, profile: Profile, encoding: str | None = None) -> Export:
    """Open ``path`` for reading with ``profile``; detect its format and, for text, its encoding.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.tsv`` (optionally ``.gz``), ``.parquet`` or ``.jsonl`` file.
    profile : Profile
        Which headers hold which canonical columns.
    encoding : str, optional
        Text encoding; overrides the profile's and skips detection.

    Raises
    ------
    InputError
        The file is missing, not a regular file, empty, binary or undecodable, or lacks a required
        column or holds one twice.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, not an export file")
    if not path.is_file():
        raise InputError(path, "is not a regular file (a pipe or a device?); save the export to a file")
    if path.stat().st_size == 0:
        raise InputError(path, "the file is empty")
    return Export(path, profile, encoding or profile.encoding)


def guess_profile(path: str | Path, profiles: Iterable[Profile], encoding: str | None = None) -> Profile:
    """The first of ``profiles`` whose required columns the header of ``path`` holds.

    Raises
    ------
    InputError
        The first profile's error where none fits (the file unreadable, or a column missing,
        named with the closest header present).

    Examples
    --------
    >>> from antifraud.ingest.profiles import PROFILES
    >>> guess_profile("fixtures/taobao_gbk/orders.csv", PROFILES.values()).name
    'taobao'
    """
    first = None
    for profile in profiles:
        try:
            with open_export(path, profile, encoding):
                return profile
        except InputError as exc:
            first = first or exc
    if first is None:
        raise ValueError("no profile to try")
    raise first


class _CsvOptions(NamedTuple):
    """pyarrow's options for the chunks of one CSV file: as detected, and for text that did not decode."""

    read: pacsv.ReadOptions
    read_utf8: pacsv.ReadOptions
    parse: pacsv.ParseOptions
    convert: pacsv.ConvertOptions
    convert_unchecked: pacsv.ConvertOptions

    @classmethod
    def make(cls, encoding: str, delimiter: str, names: list[str], wanted: list[str]) -> _CsvOptions:
        def read(enc: str) -> pacsv.ReadOptions:
            return pacsv.ReadOptions(encoding=enc, column_names=names, block_size=PARSE_BLOCK_BYTES)

        def convert(check_utf8: bool) -> pacsv.ConvertOptions:
            return pacsv.ConvertOptions(
                include_columns=wanted,
                column_types={c: pa.string() for c in wanted},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
                check_utf8=check_utf8,
            )

        return cls(read("utf8" if encoding.startswith("utf-8") else encoding), read("utf8"),
                   pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True), convert(True), convert(False))


def _scalar_or_text(arr: pa.Array) -> pa.Array:
    """A Parquet column as the converters take it: dictionaries decoded, bytes as (unchecked) text."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_fixed_size_binary(arr.type):
        arr = arr.cast(pa.binary())
    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        arr = arr.view(pa.string() if pa.types.is_binary(arr.type) else pa.large_string())
    return arr


def _record_sizes(chunk: RecordChunk, skip: int, base: int) -> np.ndarray:
    """Bytes of each record of ``chunk`` after the first ``skip`` (which end at ``base``)."""
    return np.diff(chunk.ends[skip:], prepend=base)


def _records(chunk: RecordChunk, skip: int, base: int, keep: np.ndarray) -> tuple[memoryview | np.ndarray, np.ndarray]:
    """The bytes of the records ``keep`` of ``chunk`` (after ``skip``), and where each ends in them."""
    sizes = _record_sizes(chunk, skip, base)
    data = chunk.data[base : int(chunk.ends[-1])]
    ends = np.cumsum(sizes[keep])
    if keep.all():
        return data, ends
    return np.frombuffer(data, dtype=np.uint8)[np.repeat(keep, sizes)], ends


def _to_utf8_escaped(data: memoryview | np.ndarray, encoding: str) -> bytes:
    """``data`` re-encoded from ``encoding`` to UTF-8, bytes that do not decode left as they are."""
    return bytes(data).decode(encoding, "surrogateescape").encode("utf-8", "surrogateescape")


def _jsonl_keys(path: Path) -> list[str]:
    """Every key of the JSON objects on the first lines of ``path``, in order of first appearance.

    Lines are split as the reader splits them; lines over the size limit are passed over. The
    first :data:`SAMPLE_BYTES` of lines are looked at, within the first :data:`BLOCK_BYTES`.
    """
    keys: dict[str, None] = {}
    looked = scanned = 0
    for chunk in iter_record_chunks(path, None, block=SAMPLE_BYTES):
        sizes = _record_sizes(chunk, 0, 0)
        for end, size in zip(chunk.ends.tolist(), sizes.tolist()):
            if size > MAX_RECORD_BYTES:
                continue
            looked += size
            try:
                value = json.loads(bytes(chunk.data[end - size : end]).removeprefix(codecs.BOM_UTF8))
            except ValueError:
                continue
            if isinstance(value, dict):
                keys.update(dict.fromkeys(value))
        scanned += len(chunk.data)
        if looked >= SAMPLE_BYTES or scanned >= BLOCK_BYTES:
            break
    return list(keys)


def _mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _shown(column: pa.ChunkedArray, idx: np.ndarray, width: int = 60) -> list[str]:
    """The values at ``idx`` as printable text: undecodable bytes and control characters escaped."""
    raw = column.cast(pa.binary()).take(pa.array(idx)).to_pylist()
    text = [v.decode("utf-8", "backslashreplace") for v in raw]
    return [repr(t if len(t) <= width else t[:width] + "...") for t in text]


def _undecodable(column: pa.ChunkedArray) -> np.ndarray:
    """Values of a string column that are not valid UTF-8 (found one by one, only if any is)."""
    try:
        column.validate(full=True)
        return np.zeros(len(column), dtype=bool)
    except pa.ArrowInvalid:
        return np.array([not _decodes(v) for v in column.cast(pa.binary()).to_pylist()], dtype=bool)


def _decodes(value: bytes | None) -> bool:
    try:
        value is None or value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _may_hold_nul(column: pa.ChunkedArray) -> bool:
    """Whether any value of a string column could hold a NUL byte (a quick look at the raw bytes)."""
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        if data is not None and data.size and np.frombuffer(data, dtype=np.uint8).min() == 0:
            return True
    return False


def _unusable_text(
    column: pa.ChunkedArray, checked_utf8: bool
) -> list[tuple[str, np.ndarray, Callable[[np.ndarray], list[str]]]]:
    """The values of one column that no row may carry: (reason, mask, details of positions).

    Too long (``too_long``), not valid UTF-8 (``bad_encoding``, unless pyarrow ``checked_utf8``
    already) or holding a NUL byte (``nul_byte``).
    """
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return []
    found = []
    lengths = pc.binary_length(column)
    if (pc.max(lengths).as_py() or 0) > MAX_RECORD_BYTES:
        found.append(("too_long", _mask(pc.greater(lengths, MAX_RECORD_BYTES)),
                      lambda idx: [f"a value of {n:,} bytes; the most read is {MAX_RECORD_BYTES:,}"
                                   for n in lengths.take(pa.array(idx)).to_pylist()]))
    if not checked_utf8:
        found.append(("bad_encoding", _undecodable(column),
                      lambda idx: [f"{v} is not valid text in the file's encoding" for v in _shown(column, idx)]))
    if _may_hold_nul(column):
        found.append(("nul_byte", _mask(pc.match_substring(column, "\0")),
                      lambda idx: [f"{v} holds a NUL byte" for v in _shown(column, idx)]))
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
