"""Reading one export file (CSV, Parquet or JSON Lines) as a stream of raw Arrow batches.

The reader maps source headers to canonical names and reads only the columns it will use, in
batches, so memory stays bounded whatever the file's size. For CSV, a background thread reads
and hashes the bytes and cuts them into chunks of whole records with their line numbers
(:mod:`antifraud.ingest.records`); each chunk is then parsed by pyarrow on all cores while the
next one is being scanned. Rows that cannot be parsed at all (a wrong number of fields) are
reported with their line instead of stopping the read; files that cannot be read at all (empty,
header only, binary, truncated, undecodable) raise :class:`~antifraud.ingest.errors.InputError`.

Examples
--------
>>> from antifraud.ingest.profiles import PROFILES
>>> with open_export("fixtures/broken/orders.csv", PROFILES["generic"]) as export:  # doctest: +SKIP
...     rows = sum(batch.num_rows for batch in export.batches())
...     done = export.finish()
"""

from __future__ import annotations

import csv
import hashlib
import io
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from antifraud.ingest.encoding import detect_encoding, detect_format, read_sample
from antifraud.ingest.errors import InputError
from antifraud.ingest.manifest import sha256_file
from antifraud.ingest.profiles import Profile, resolve_columns
from antifraud.ingest.records import RecordChunk, Truncated, iter_record_chunks

__all__ = ["BadRecord", "Export", "ReadSummary", "open_export"]

PARQUET_BATCH_ROWS = 1 << 20


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be split into the header's fields."""

    line: int
    reason: str
    detail: str


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
        ``"csv"``, ``"parquet"`` or ``"jsonl"``.
    encoding : str or None
        Text encoding (``None`` for Parquet).
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
        if self.format == "csv" and self.path.suffix != ".gz":
            return self._bytes_done / max(self.path.stat().st_size, 1)
        if self.format == "parquet":
            return self._rows / max(self._parquet.metadata.num_rows, 1)
        return None

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
        self.encoding = encoding or detect_encoding(path, sample)
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
        self.header = self._parquet.schema_arrow.names
        self.columns = resolve_columns(self.header, self.profile, self.path)

    def _open_jsonl(self, encoding: str | None) -> None:
        import pyarrow.json as pajson

        self._hash = self._pool.submit(sha256_file, self.path)
        self.encoding = encoding or detect_encoding(self.path, read_sample(self.path))
        if not self.encoding.startswith("utf-8"):
            raise InputError(self.path, f"JSON Lines must be UTF-8, this file is {self.encoding}")
        try:
            self._json = pajson.read_json(self.path)
        except (pa.ArrowException, OSError, EOFError) as exc:
            raise InputError(self.path, f"cannot parse the JSON Lines file: {_first_line(exc)}") from exc
        self.header = self._json.column_names
        self.columns = resolve_columns(self.header, self.profile, self.path)

    # -- reading ---------------------------------------------------------------------------
    def batches(self) -> Iterator[pa.RecordBatch]:
        """Yield the used columns in batches, renamed to canonical names."""
        sources = list(dict.fromkeys(self.columns.values()))
        if self.format == "csv":
            stream = self._csv_batches(sources)
        elif self.format == "parquet":
            stream = self._parquet_batches(sources)
        else:
            stream = iter(self._json.select(sources).to_batches(max_chunksize=PARQUET_BATCH_ROWS))
        for batch in stream:
            self._rows += batch.num_rows
            yield pa.RecordBatch.from_arrays(
                [batch.column(src) for src in self.columns.values()], names=list(self.columns)
            )

    def _csv_batches(self, sources: list[str]) -> Iterator[pa.RecordBatch]:
        # pyarrow needs unique column names; headers may repeat or be blank, so use positions.
        names = [f"c{i}" for i in range(len(self.header))]
        position = {h: f"c{i}" for i, h in reversed(list(enumerate(self.header)))}
        wanted = [position[src] for src in sources]
        read_options = pacsv.ReadOptions(
            encoding="utf8" if self.encoding.startswith("utf-8") else self.encoding,
            column_names=names,
            block_size=4 << 20,
        )
        convert_options = pacsv.ConvertOptions(
            include_columns=wanted,
            column_types={c: pa.string() for c in wanted},
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        )
        chunks = _prefetch(iter_record_chunks(self.path, self.delimiter, self._digest))
        first = True
        try:
            for chunk in chunks:
                table = self._parse_chunk(chunk, first, read_options, convert_options)
                first = False
                yield from table.rename_columns(sources).combine_chunks().to_batches()
        except Truncated as exc:
            raise InputError(self.path, "the file ends inside a quoted field; it looks truncated",
                             line=exc.line) from None
        except (pa.ArrowInvalid, UnicodeDecodeError, EOFError, OSError) as exc:
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

    def _parse_chunk(
        self,
        chunk: RecordChunk,
        first: bool,
        read_options: pacsv.ReadOptions,
        convert_options: pacsv.ConvertOptions,
    ) -> pa.Table:
        """Parse one chunk of whole records; note their lines and the malformed ones."""
        skip = 1 if first else 0  # the header record
        data = chunk.data[int(chunk.ends[0]) if first else 0 :]
        lines, n_fields = chunk.start_line[skip:], chunk.n_fields[skip:]
        n_cols = len(self.header)
        self._bytes_done += len(chunk.data)
        good = n_fields == n_cols
        self._lines.append(lines[good])
        self._bad.extend(
            BadRecord(int(line), "wrong_field_count", f"{n} fields, expected {n_cols}")
            for line, n in zip(lines[~good], n_fields[~good])
        )
        if lines.size:
            self._last_line, self._last_fields = int(lines[-1]), int(n_fields[-1])
        self._ended_with_break = bytes(chunk.data[-1:]) in (b"\n", b"\r")
        if not lines.size:
            return pa.table({c: pa.array([], pa.string()) for c in convert_options.include_columns})
        parsed = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=read_options,
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter, newlines_in_values=True, invalid_row_handler=lambda _row: "skip"
            ),
            convert_options=convert_options,
        )
        if parsed.num_rows != int(good.sum()):  # pragma: no cover - scanner and pyarrow disagree
            raise InputError(self.path, f"internal: {parsed.num_rows} rows parsed, {int(good.sum())} expected",
                             line=int(lines[0]) if lines.size else None)
        return parsed

    def _parquet_batches(self, sources: list[str]) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=sources)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(self.path, f"cannot read the Parquet file: {_first_line(exc)}") from exc

    def finish(self) -> ReadSummary:
        """Line numbers, unparseable records and hash, once all batches were read.

        Raises :class:`InputError` for a file without data rows.
        """
        if self.format == "csv":
            lines = np.concatenate(self._lines) if self._lines else np.zeros(0, np.int64)
            summary = ReadSummary(lines, self._bad, self._digest.hexdigest())
        else:
            lines = (
                _nonblank_lines(self.path)[: self._rows]
                if self.format == "jsonl"
                else np.arange(1, self._rows + 1, dtype=np.int64)
            )
            summary = ReadSummary(lines, [], self._hash.result())
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


def _nonblank_lines(path: Path) -> np.ndarray:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return np.array([i for i, line in enumerate(fh, start=1) if line.strip()], dtype=np.int64)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
