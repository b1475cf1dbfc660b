"""Reading one export file (CSV, Parquet or JSON Lines) into a raw Arrow table.

The reader maps source headers to canonical names, reads only the columns it will use, with a
multi-threaded columnar parser (pyarrow), and keeps for every row the line it came from. Rows
that cannot be parsed at all (a wrong number of fields) are reported with their line instead of
stopping the read, so that nothing is lost; files that cannot be read at all (empty, header only,
binary, truncated, undecodable) raise :class:`~antifraud.ingest.errors.InputError`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from antifraud.ingest.encoding import detect_encoding, detect_format, read_sample
from antifraud.ingest.errors import InputError
from antifraud.ingest.lines import scan_records
from antifraud.ingest.profiles import Profile, resolve_columns

__all__ = ["RawFile", "BadRecord", "read_file"]


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be split into the header's fields."""

    line: int
    reason: str
    detail: str


@dataclass
class RawFile:
    """One input file as read, before validation.

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
    table : pyarrow.Table
        The used columns, renamed to canonical names; strings for text formats.
    lines : ndarray of int64
        For each table row, the line (CSV, JSON Lines) or 1-based row (Parquet) it came from.
    bad_records : list of BadRecord
        Records that never reached ``table``.
    """

    path: Path
    format: str
    encoding: str | None
    header: list[str]
    columns: dict[str, str]
    table: pa.Table
    lines: np.ndarray
    bad_records: list[BadRecord] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Data records read from the file, parsed or not."""
        return self.table.num_rows + len(self.bad_records)

    @property
    def ignored_columns(self) -> list[str]:
        """Source columns that no canonical column uses."""
        used = set(self.columns.values())
        return [h for h in self.header if h not in used]


def read_file(path: str | Path, profile: Profile, encoding: str | None = None) -> RawFile:
    """Read ``path`` with ``profile``; detect its format and, for text, its encoding.

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
        The file is missing, empty, has no data rows, is binary, truncated or undecodable, or
        lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    if path.stat().st_size == 0:
        raise InputError(path, "the file is empty")
    fmt = detect_format(path)
    reader = {"csv": _read_csv, "parquet": _read_parquet, "jsonl": _read_jsonl}[fmt]
    raw = reader(path, profile, encoding or profile.encoding)
    if raw.rows_read == 0:
        raise InputError(path, "the file has a header but no data rows")
    return raw


def _rename(table: pa.Table, columns: dict[str, str]) -> pa.Table:
    return pa.table({canon: table.column(src) for canon, src in columns.items()})


def _read_csv(path: Path, profile: Profile, encoding: str | None) -> RawFile:
    sample = read_sample(path)
    if not sample.strip():
        raise InputError(path, "the file is empty")
    encoding = encoding or detect_encoding(path, sample)
    delimiter = "\t" if profile.delimiter == "," and path.name.lower().removesuffix(".gz").endswith(".tsv") else profile.delimiter
    try:
        text = sample.decode(encoding, errors="strict" if len(sample) < (1 << 20) else "ignore")
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(path, f"cannot decode the file as {encoding}: {exc}") from exc
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter), [])
    if not any(h.strip() for h in header):
        raise InputError(path, "the first line is empty; expected a header row", line=1)
    columns = resolve_columns(header, profile, path)

    n_invalid = 0

    def count_invalid(_row: pacsv.InvalidRow) -> str:
        nonlocal n_invalid
        n_invalid += 1
        return "skip"

    sources = list(dict.fromkeys(columns.values()))
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding.startswith("utf-8") else encoding,
                use_threads=True,
                block_size=16 << 20,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=count_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=sources,
                column_types={s: pa.string() for s in sources},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError, EOFError, OSError) as exc:
        raise InputError(path, f"cannot parse the file as {encoding} CSV: {_first_line(exc)}") from exc

    records = scan_records(path, delimiter)
    data_lines, data_fields = records.start_line[1:], records.n_fields[1:]
    if records.unterminated_quote:
        raise InputError(
            path,
            "the file ends inside a quoted field; it looks truncated",
            line=int(records.start_line[-1]),
        )
    if data_fields.size and not records.ends_with_newline and data_fields[-1] < len(header):
        raise InputError(
            path,
            f"the last line has {data_fields[-1]} of {len(header)} fields and no line break; "
            "the file looks truncated",
            line=int(data_lines[-1]),
        )
    good = data_fields == len(header)
    if int(good.sum()) != table.num_rows or int((~good).sum()) != n_invalid:
        raise InputError(  # pragma: no cover - would mean the scanner and pyarrow disagree
            path,
            f"internal: {table.num_rows} rows parsed but {int(good.sum())} well-formed records found",
        )
    bad = [
        BadRecord(int(line), "wrong_field_count", f"{n} fields, expected {len(header)}")
        for line, n in zip(data_lines[~good], data_fields[~good])
    ]
    return RawFile(path, "csv", encoding, header, columns, _rename(table, columns), data_lines[good], bad)


def _read_parquet(path: Path, profile: Profile, encoding: str | None) -> RawFile:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        header = pf.schema_arrow.names
        columns = resolve_columns(header, profile, path)
        table = pf.read(columns=list(dict.fromkeys(columns.values())))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(path, f"cannot read the Parquet file: {_first_line(exc)}") from exc
    lines = np.arange(1, table.num_rows + 1, dtype=np.int64)
    return RawFile(path, "parquet", None, header, columns, _rename(table, columns), lines)


def _read_jsonl(path: Path, profile: Profile, encoding: str | None) -> RawFile:
    import pyarrow.json as pajson

    sample = read_sample(path)
    encoding = encoding or detect_encoding(path, sample)
    if not encoding.startswith("utf-8"):
        raise InputError(path, f"JSON Lines must be UTF-8, this file is {encoding}")
    try:
        table = pajson.read_json(path, parse_options=pajson.ParseOptions(newlines_in_values=False))
    except (pa.ArrowException, OSError, EOFError) as exc:
        raise InputError(path, f"cannot parse the JSON Lines file: {_first_line(exc)}") from exc
    header = table.column_names
    columns = resolve_columns(header, profile, path)
    # JSON Lines has one record per non-blank line; blank lines are skipped by the parser.
    lines = _nonblank_lines(path)[: table.num_rows]
    return RawFile(path, "jsonl", encoding, header, columns, _rename(table, columns), lines)


def _nonblank_lines(path: Path) -> np.ndarray:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return np.array([i for i, line in enumerate(fh, start=1) if line.strip()], dtype=np.int64)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
