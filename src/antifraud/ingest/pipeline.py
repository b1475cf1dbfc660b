"""Export -> validated canonical table, with every row accounted for.

:func:`ingest` reads one or more export files, converts every column to its canonical type,
pseudonymises personal fields, and splits the rows into the accepted canonical orders and a
quarantine in which every rejected row carries its file, line, column and reason. The counts
add up: ``read == accepted + quarantined``, per file and in total. Masked values
(:mod:`antifraud.ingest.masking`) are counted per column, ``accepted == masked + empty + kept``;
a personal column masked in (nearly) every row is left out of the canonical table.
"""

from __future__ import annotations

import functools
import json
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from antifraud import uscc
from antifraud.ingest.convert import (
    Issue,
    clean_strings,
    encode_strings,
    excel_numbers,
    parse_utc_offset,
    to_dictionary,
    to_number,
    to_rating,
    to_status,
    to_timestamp,
    unwrap_excel_text,
)
from antifraud.ingest.manifest import now_iso, toolkit_info
from antifraud.ingest.masking import MASKED_COLUMNS, MASKING_RULE, MISSING_SHARE, Masking, masked_rows
from antifraud.ingest.missing import MissingColumn, missing_signals
from antifraud.ingest.profiles import Profile
from antifraud.ingest.pseudonym import Pseudonymizer, normalize_personal
from antifraud.ingest.reader import Export, ReadSummary, open_export
from antifraud.io import write_csv, write_json
from antifraud.schema import COLUMN_BY_NAME, NAMES, REQUIRED, Signal

__all__ = ["ingest", "IngestResult", "FileReport", "QUARANTINE_COLUMNS"]

QUARANTINE_COLUMNS = ("source_file", "line", "column", "reason", "detail")
# Kinds of column kept dictionary-encoded in the canonical table.
_ENCODED_KINDS = ("id", "label", "personal", "uscc")


@dataclass
class FileReport:
    """What happened to one input file."""

    path: Path
    format: str
    encoding: str | None
    sha256: str
    size_bytes: int
    columns: dict[str, str]
    ignored_columns: list[str]
    rows_read: int
    rows_accepted: int = 0
    quarantined: Counter = field(default_factory=Counter)
    sheet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the run manifest."""
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "bytes": self.size_bytes,
            "format": self.format,
            "encoding": self.encoding,
            "sheet": self.sheet,
            "columns_found": self.columns,
            "columns_ignored": self.ignored_columns,
            "rows": {
                "read": self.rows_read,
                "accepted": self.rows_accepted,
                "quarantined": sum(self.quarantined.values()),
                "quarantined_by_reason": dict(sorted(self.quarantined.items())),
            },
        }


@dataclass
class IngestResult:
    """The canonical orders, the quarantine and the accounting of one ingest.

    Attributes
    ----------
    table : pyarrow.Table
        Accepted rows in the canonical schema (:mod:`antifraud.schema`), plus ``source_file``
        and ``source_line`` naming where each came from. Ids, labels and pseudonyms are
        dictionary-encoded: their indices are dense integer codes.
    orders : pandas.DataFrame
        The same as a DataFrame (ids as categoricals), converted on first use.
    quarantine : pyarrow.Table
        Rejected rows: ``source_file, line, column, reason, detail`` and the row's canonical
        values as text (personal fields pseudonymised).
    files : list of FileReport
    profile : Profile
    uscc : dict
        Counts of seller credit codes by status and examples of invalid ones.
    pseudonymizer : Pseudonymizer
    timings : dict
        Seconds spent per stage.
    masking : dict of str to Masking
        Masked values of the accepted rows, for each column of
        :data:`~antifraud.ingest.masking.MASKED_COLUMNS` the export has; a column whose masking
        counts as missing is not in ``table``.
    """

    table: pa.Table
    quarantine: pa.Table
    files: list[FileReport]
    profile: Profile
    uscc: dict[str, Any]
    pseudonymizer: Pseudonymizer
    timings: dict[str, float]
    started_at: str
    masking: dict[str, Masking] = field(default_factory=dict)

    @functools.cached_property
    def orders(self) -> pd.DataFrame:
        """The accepted orders as a DataFrame (ids, labels and pseudonyms as categoricals)."""
        return self.table.to_pandas(types_mapper={pa.int8(): pd.Int8Dtype()}.get, split_blocks=True)

    @property
    def rows_accepted(self) -> int:
        """Rows accepted into the canonical table."""
        return self.table.num_rows

    @property
    def rows_read(self) -> int:
        """Data rows read from all files."""
        return sum(f.rows_read for f in self.files)

    @property
    def quarantined_by_reason(self) -> Counter:
        """Quarantined rows counted by reason, over all files."""
        total: Counter = Counter()
        for f in self.files:
            total.update(f.quarantined)
        return total

    @property
    def columns(self) -> list[str]:
        """Canonical columns present in every input file, but for those masked in (nearly) every
        row (:attr:`Masking.missing`): the columns of ``table``."""
        present = set(NAMES) - {name for name, m in self.masking.items() if m.missing}
        for f in self.files:
            present &= set(f.columns)
        return [c for c in NAMES if c in present]

    def signals(self) -> list[Signal]:
        """What the default detection reads (:meth:`BrushingEnsemble.signals`): ``missing(self.columns)``
        of each is empty where this export allows it."""
        # The detectors' modules are heavy (scikit-learn, numba): only a run that reports
        # signals imports them.
        from antifraud.detectors.ensemble import BrushingEnsemble

        return BrushingEnsemble().signals()

    def missing(self, signals: Sequence[Signal] | None = None) -> list[MissingColumn]:
        """Each missing or masked column, why, and which of ``signals`` it disables
        (:func:`~antifraud.ingest.missing.missing_signals`; default :meth:`signals`)."""
        return missing_signals(self.signals() if signals is None else signals, self.columns, self.masking)

    def manifest(self, command: str = "validate", extra: dict[str, Any] | None = None,
                 signals: Sequence[Signal] | None = None) -> dict[str, Any]:
        """The run manifest as a JSON-ready dict; ``signals`` are what the run's detection reads
        (default: :meth:`signals`, the default ensemble's)."""
        quarantined = self.quarantined_by_reason
        signals = self.signals() if signals is None else signals
        missing = self.missing(signals)
        signals = {s.name: s.missing(self.columns) for s in signals}
        doc: dict[str, Any] = {
            "command": command,
            "toolkit": toolkit_info(),
            "started_at": self.started_at,
            "finished_at": now_iso(),
            "profile": {"name": self.profile.name, "source": self.profile.source,
                        "timezone": self.profile.timezone},
            "inputs": [f.to_dict() for f in self.files],
            "rows": {
                "read": self.rows_read,
                "accepted": self.rows_accepted,
                "quarantined": sum(quarantined.values()),
                "quarantined_by_reason": dict(sorted(quarantined.items())),
            },
            "columns": self.columns,
            "masked_values": {
                "rule": MASKING_RULE,
                "missing_share": MISSING_SHARE,
                "columns": {name: m.to_dict() for name, m in self.masking.items()},
            },
            "missing_columns": {m.column: m.to_dict() for m in missing},
            "signals": {
                "available": [s for s, unmet in signals.items() if not unmet],
                "unavailable": {s: list(m) for s, m in signals.items() if m},
            },
            "seller_uscc": self.uscc,
            "pseudonymisation": {
                "algorithm": "HMAC-SHA256(key, kind + \"|\" + normalised value), hex (acr/1)",
                "fields": [c for c in self.columns if COLUMN_BY_NAME[c].kind == "personal"],
                "key_id": self.pseudonymizer.key_id,
                "key_source": self.pseudonymizer.source,
            },
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }
        if extra:
            doc.update(extra)
        return doc

    def save(self, folder: str | Path) -> None:
        """Keep this result in ``folder`` for :meth:`load`: ``table.arrow`` and ``quarantine.arrow``
        (Arrow IPC files: dictionaries, hence the codes, as they are) and ``ingest.json`` with the rest, which names
        the pseudonym key by its key id and source only.

        The table and quarantine hold personal fields (phone, address, IP, device) as pseudonyms,
        never raw; ids, order and tracking numbers, shop names and review texts are as written."""
        folder = Path(folder)
        _save_table(self.table, folder / "table.arrow")
        _save_table(self.quarantine, folder / "quarantine.arrow")
        files = [{f.name: getattr(report, f.name) for f in fields(FileReport)} | {"path": str(report.path)}
                 for report in self.files]
        write_json(folder / "ingest.json", {
            "files": files, "uscc": self.uscc, "timings": self.timings, "started_at": self.started_at,
            "masking": {name: asdict(m) for name, m in self.masking.items()},
            "profile": {"name": self.profile.name, "source": self.profile.source},
            "pseudonymizer": {"key_id": self.pseudonymizer.key_id, "source": self.pseudonymizer.source},
        })

    @classmethod
    def load(cls, folder: str | Path, profile: Profile, pseudonymizer: Pseudonymizer) -> IngestResult:
        """The result :meth:`save` kept in ``folder``, read with ``profile`` under ``pseudonymizer``,
        which must be the profile and key it was made with (the caller checks: the key itself is
        not kept)."""
        folder = Path(folder)
        about = json.loads((folder / "ingest.json").read_text(encoding="utf-8"))
        files = [FileReport(**(f | {"path": Path(f["path"]), "quarantined": Counter(f["quarantined"])}))
                 for f in about["files"]]
        return cls(table=_load_table(folder / "table.arrow"), quarantine=_load_table(folder / "quarantine.arrow"),
                   files=files, profile=profile, uscc=about["uscc"], pseudonymizer=pseudonymizer,
                   timings=about["timings"], started_at=about["started_at"],
                   masking={name: Masking(**m) for name, m in about["masking"].items()})

    def write(self, out_dir: str | Path, command: str = "validate") -> dict[str, Path]:
        """Write ``quarantine.csv`` and ``run.json`` to ``out_dir`` (atomically); return paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        paths = {"quarantine": out / "quarantine.csv", "manifest": out / "run.json"}
        write_csv(self.quarantine, paths["quarantine"])
        self.timings["write"] = time.perf_counter() - t0
        manifest = self.manifest(command)
        manifest["outputs"] = {k: p.name for k, p in paths.items()}
        write_json(paths["manifest"], manifest)
        return paths


def _save_table(table: pa.Table, path: Path) -> None:
    """Write ``table`` as an Arrow IPC file (LZ4): its dictionaries, hence its codes, and its
    timestamps in seconds are kept as they are, which Parquet does not do.

    The chunks are combined first: the writer compares each batch's dictionaries with the last
    ones written, and the 173 batches of a 10M-order table, sharing dictionaries of millions of
    pseudonyms, took 175 s to write against 7 s combined."""
    import pyarrow.feather as feather

    feather.write_feather(table.combine_chunks(), path, compression="lz4", chunksize=1 << 20)


def _load_table(path: Path) -> pa.Table:
    """The table :func:`_save_table` wrote."""
    import pyarrow.feather as feather

    return feather.read_table(path, memory_map=False)


class _Problems:
    """The first problem of every row of a batch: column, reason and detail."""

    def __init__(self, n: int) -> None:
        self.code = np.full(n, -1, dtype=np.int32)
        self.kinds: list[tuple[str, str]] = []
        self.details: dict[int, str] = {}

    def add(self, column: str, issue: Issue) -> None:
        new = issue.mask & (self.code < 0)
        if not new.any():
            return
        idx = np.flatnonzero(new)
        self.code[idx] = len(self.kinds)
        self.kinds.append((column, issue.reason))
        self.details.update(zip(idx.tolist(), issue.detail(idx)))

    @property
    def bad(self) -> np.ndarray:
        return self.code >= 0

    def entries(self) -> list[tuple[str, str, str]]:
        """(column, reason, detail) of the bad rows, in row order."""
        idx = np.flatnonzero(self.bad)
        return [(*self.kinds[c], self.details[i]) for c, i in zip(self.code[idx], idx.tolist())]


def _text(arr: pa.Array) -> pa.Array:
    arr = arr if pa.types.is_string(arr.type) else arr.cast(pa.string())
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _missing(values: pa.Array, issues: list[Issue]) -> Issue:
    """Rows where a required column is empty (and not already reported as unparseable)."""
    mask = values.is_null().to_numpy(zero_copy_only=False)
    for issue in issues:
        mask &= ~issue.mask
    return Issue(mask, "missing_value", lambda idx: ["required value is empty"] * len(idx))


def _convert(batch: pa.RecordBatch, offset_s: int) -> tuple[dict[str, pa.Array], _Problems]:
    """Canonical typed columns of a raw batch and the first problem of each row.

    Personal and credit-code columns come back as written: they are dictionary-encoded,
    normalised (and personal ones pseudonymised) once over all batches (:func:`_finish_column`),
    so each distinct value is handled once.
    """
    problems = _Problems(batch.num_rows)
    converted: dict[str, pa.Array] = {}
    for name in NAMES:
        if name not in batch.schema.names:
            continue
        arr = batch.column(name)
        kind = COLUMN_BY_NAME[name].kind
        issues: list[Issue] = []
        if kind != "text":  # free text keeps what its author wrote
            arr = unwrap_excel_text(arr)
        if kind in ("id", "key"):
            issues.append(excel_numbers(arr))
        if kind == "id":
            out = to_dictionary(arr)
        elif kind == "key":
            out = clean_strings(arr)
        elif kind == "label":
            out = to_status(arr) if name == "status" else to_dictionary(arr)
        elif kind == "timestamp":
            out, issues = to_timestamp(arr, offset_s)
        elif kind in ("amount", "weight"):
            out, issues = to_number(arr, kind)
        elif kind == "rating":
            out, issues = to_rating(arr)
        elif kind in ("personal", "uscc"):
            out = arr  # encoded and normalised once over all batches: _finish_column
        else:
            out = _text(arr)
        if name in REQUIRED:
            issues.insert(0, _missing(out, issues))
        for issue in issues:
            problems.add(name, issue)
        converted[name] = out
    return converted, problems


def _as_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr.cast(pa.string())


def _entries_table(
    files: str | list[str], lines: np.ndarray, entries: list[tuple[str, str, str]], values: dict[str, pa.Array]
) -> pa.Table:
    """Quarantine entries: where each row came from, (column, reason, detail), and its values."""
    n = len(entries)
    return pa.table({
        "source_file": pa.array([files] * n if isinstance(files, str) else files, pa.string()),
        "line": pa.array(lines, pa.int64()),
        "column": pa.array([e[0] for e in entries], pa.string()),
        "reason": pa.array([e[1] for e in entries], pa.string()),
        "detail": pa.array([e[2] for e in entries], pa.string()),
        **{name: _as_text(arr) for name, arr in values.items()},
    })


@dataclass
class _Rejected:
    """Rows of one batch that failed a check: positions in the file, problems, values."""

    ordinals: np.ndarray
    entries: list[tuple[str, str, str]]
    values: dict[str, pa.Array]


def _batch_rejects(
    raw: pa.RecordBatch, converted: dict[str, pa.Array], problems: _Problems, first_row: int
) -> _Rejected | None:
    """Rejected rows of one batch with their values as written; personal ones are replaced by
    their pseudonyms later (:func:`_pseudonymise_quarantine`) and never written raw."""
    idx = np.flatnonzero(problems.bad)
    if idx.size == 0:
        return None
    take = pa.array(idx, pa.int64())
    values = {
        name: (converted[name] if COLUMN_BY_NAME[name].kind == "personal" else raw.column(name)).take(take)
        for name in converted
    }
    return _Rejected(first_row + idx, problems.entries(), values)


@dataclass
class _FileParts:
    """One file's converted batches and quarantine entries."""

    batches: list[pa.RecordBatch] = field(default_factory=list)
    rejected: list[_Rejected] = field(default_factory=list)
    bad: list[np.ndarray] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    rows: int = 0

    def quarantine(self, path: Path, summary: ReadSummary) -> list[pa.Table]:
        """Quarantine tables of this file, now that the line of every row is known."""
        tables = [_entries_table(str(path), summary.lines[r.ordinals], r.entries, r.values) for r in self.rejected]
        if summary.bad_records:
            bad = summary.bad_records
            tables.append(_entries_table(str(path), np.array([b.line for b in bad]),
                                         [(b.column, b.reason, b.detail) for b in bad], {}))
        return tables


def _convert_batch(
    raw: pa.RecordBatch, offset_s: int, first_row: int
) -> tuple[pa.RecordBatch, np.ndarray, _Rejected | None, list[str]]:
    """Convert one raw batch: typed batch, bad-row mask, rejected rows, reasons."""
    converted, problems = _convert(raw, offset_s)
    rejected = _batch_rejects(raw, converted, problems, first_row)
    reasons = [reason for _, reason, _ in problems.entries()]
    return pa.RecordBatch.from_pydict(converted), problems.bad, rejected, reasons


def _read_one(path: Path, profile: Profile, encoding: str | None, offset_s: int,
              say: Callable[..., None]) -> tuple[Export, ReadSummary, _FileParts]:
    """Read and convert one file; a worker thread converts a batch while the next is parsed."""
    parts = _FileParts()

    def collect(result: tuple[pa.RecordBatch, np.ndarray, _Rejected | None, list[str]]) -> None:
        batch, bad, rejected, reasons = result
        parts.batches.append(batch)
        parts.bad.append(bad)
        if rejected is not None:
            parts.rejected.append(rejected)
        parts.reasons.update(reasons)

    with open_export(path, profile, encoding) as export, ThreadPoolExecutor(1, "antifraud-convert") as pool:
        pending: deque[Future] = deque()
        for raw in export.batches():
            pending.append(pool.submit(_convert_batch, raw, offset_s, parts.rows))
            parts.rows += raw.num_rows
            while len(pending) > 1:
                collect(pending.popleft().result())
            say(f"reading {path.name}: {parts.rows:,} rows", export.fraction_done)
        while pending:
            collect(pending.popleft().result())
        summary = export.finish()
    if not parts.batches:  # every record was malformed: keep the canonical types all the same
        empty = pa.RecordBatch.from_pydict({c: pa.array([], pa.string()) for c in export.columns})
        collect(_convert_batch(empty, offset_s, 0))
    parts.reasons.update(r.reason for r in summary.bad_records)
    return export, summary, parts


def _duplicates(
    table: pa.Table, keep: np.ndarray, where: Callable[[int], str]
) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """Find repeated orders among the rows ``keep``; the first occurrence stays.

    With ``order_id``, a repeat with identical content is ``exact_duplicate`` and one that
    differs is ``conflicting_order_id``; without it, only identical rows are duplicates.
    Returns the positions of the repeats and their (column, reason, detail).
    """
    if "order_id" in table.column_names:
        encoded = pc.dictionary_encode(table.column("order_id").combine_chunks())
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        keep = keep & (codes >= 0)
    else:
        codes = np.zeros(len(keep), dtype=np.int64)
        if keep.any():
            frame = table.filter(pa.array(keep)).to_pandas()
            codes[keep] = pd.util.hash_pandas_object(frame, index=False).to_numpy().view(np.int64)
    candidates = np.flatnonzero(keep)
    labels = pd.factorize(codes[candidates])[0]
    repeated = candidates[np.bincount(labels)[labels] > 1]
    if repeated.size == 0:
        return repeated, []
    _, first, inverse = np.unique(codes[repeated], return_index=True, return_inverse=True)
    is_repeat = np.arange(repeated.size) != first[inverse]
    rows, firsts = repeated[is_repeat], repeated[first[inverse[is_repeat]]]
    both = table.take(pa.array(np.concatenate([rows, firsts]))).to_pylist()
    reports = []
    for k in range(len(rows)):
        mine, theirs = both[k], both[k + len(rows)]
        differs = [c for c in mine if mine[c] != theirs[c]]
        origin = where(int(firsts[k]))
        if differs:
            reports.append(("order_id", "conflicting_order_id",
                            f"order {mine['order_id']!r} also at {origin} with different {', '.join(differs)}"))
        else:
            reports.append(("order_id" if "order_id" in mine else "", "exact_duplicate", f"same as {origin}"))
    return rows, reports


def _finish_column(
    column: pa.ChunkedArray, name: str, pseudo: Pseudonymizer
) -> tuple[pa.ChunkedArray, np.ndarray | None]:
    """Give a column one dictionary across chunks: unify the per-batch dictionaries of ids and
    labels; encode credit codes (normalised) and personal values (pseudonymised) in one pass
    over all chunks, each distinct value normalised and hashed once. For a column of
    :data:`~antifraud.ingest.masking.MASKED_COLUMNS`, also the rows whose value is masked."""
    kind = COLUMN_BY_NAME[name].kind
    if kind == "personal":
        values = encode_strings(column)  # once, for the masking and the pseudonyms
        finished = pseudo.pseudonymize_array(name, values)
    elif kind == "uscc":
        values = finished = to_dictionary(column, _normalize_uscc)
    else:
        values = finished = pa.table({name: column}).unify_dictionaries().column(0)
    return finished, masked_rows(values) if name in MASKED_COLUMNS else None


def _normalize_uscc(codes: pa.Array) -> pa.Array:
    """Canonical spelling of each credit code (:func:`antifraud.uscc.normalize`); empty is null."""
    return pa.array([uscc.normalize(v) or None for v in codes.to_pylist()], pa.string())


def _pseudonymise_quarantine(quarantine: pa.Table, pseudo: Pseudonymizer) -> pa.Table:
    """Replace the raw personal values of quarantined rows by their pseudonyms."""
    for name in quarantine.column_names:
        if name not in COLUMN_BY_NAME or COLUMN_BY_NAME[name].kind != "personal" or not quarantine.num_rows:
            continue
        values = normalize_personal(name, quarantine.column(name).combine_chunks()).to_pylist()
        mapped = iter(pseudo.pseudonymize(name, [v for v in values if v is not None]).to_pylist())
        replaced = pa.array([None if v is None else next(mapped) for v in values], pa.string())
        quarantine = quarantine.set_column(quarantine.schema.get_field_index(name), name, replaced)
    return quarantine


def ingest(
    paths: Sequence[str | Path],
    profile: Profile,
    *,
    encoding: str | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    progress: Callable[..., None] | None = None,
) -> IngestResult:
    """Read, validate and pseudonymise export files into one canonical order table.

    Files are read in batches, so memory holds the canonical table, not the raw text.

    Parameters
    ----------
    paths : sequence of path
        Export files (CSV, gzip CSV, Parquet or JSON Lines); all read with ``profile``.
    profile : Profile
        Column mapping and time zone (see :mod:`antifraud.ingest.profiles`).
    encoding : str, optional
        Text encoding for all files; detected per file when omitted.
    pseudonymizer : Pseudonymizer, optional
        Keyed pseudonyms for personal fields; a key generated for this run when omitted
        (:meth:`Pseudonymizer.for_run`).
    progress : callable, optional
        Called as work advances with a short description and, where known, the fraction of the
        current stage done (0-1).

    Returns
    -------
    IngestResult

    Examples
    --------
    >>> from antifraud.ingest import PROFILES
    >>> result = ingest(["fixtures/broken/orders.csv"], PROFILES["generic"])
    >>> result.rows_read == result.rows_accepted + result.quarantine.num_rows
    True
    """
    started = now_iso()
    say = progress or (lambda *_args: None)
    pseudo = pseudonymizer or Pseudonymizer.for_run()
    offset = parse_utc_offset(profile.timezone)
    paths = [Path(p) for p in paths]
    t0 = time.perf_counter()
    reports: list[FileReport] = []
    all_parts: list[_FileParts] = []
    line_arrays: list[np.ndarray] = []
    quarantine_parts: list[pa.Table] = []
    for path in paths:
        export, summary, parts = _read_one(path, profile, encoding, offset, say)
        reports.append(FileReport(path, export.format, export.encoding, summary.sha256, path.stat().st_size,
                                  export.columns, export.ignored_columns, summary.rows_read, 0, parts.reasons,
                                  export.sheet))
        all_parts.append(parts)
        line_arrays.append(summary.lines)
        quarantine_parts.extend(parts.quarantine(path, summary))
    timings = {"read_and_convert": time.perf_counter() - t0}

    say("checking duplicates and pseudonymising personal fields")
    t0 = time.perf_counter()
    columns = [c for c in NAMES if all(c in r.columns for r in reports)]  # in every file
    combined = pa.Table.from_batches([b.select(columns) for p in all_parts for b in p.batches])
    for p in all_parts:
        p.batches.clear()
    file_index = np.concatenate([np.full(p.rows, i, dtype=np.int32) for i, p in enumerate(all_parts)])
    lines = np.concatenate(line_arrays)
    bad = np.concatenate([b for p in all_parts for b in p.bad])

    def where(row: int) -> str:
        return f"{paths[file_index[row]].name}:{lines[row]}"

    # The slow tasks first, so that both cores stay busy until the end: the duplicate check,
    # then the personal columns, largest first.
    cost = {n: (COLUMN_BY_NAME[n].kind != "personal", -combined.column(n).nbytes) for n in combined.column_names}
    by_cost = sorted((n for n in combined.column_names if COLUMN_BY_NAME[n].kind in _ENCODED_KINDS), key=cost.get)
    with ThreadPoolExecutor(2, "antifraud-finish") as pool:
        duplicates = pool.submit(_duplicates, combined, ~bad, where)
        finishing = {n: pool.submit(_finish_column, combined.column(n), n, pseudo) for n in by_cost}
        dup_rows, dup_reports = duplicates.result()
        if dup_rows.size:  # values as read, before the columns are replaced
            values = {name: combined.column(name).take(pa.array(dup_rows)) for name in combined.column_names}
            files = [str(paths[f]) for f in file_index[dup_rows]]
            quarantine_parts.append(_entries_table(files, lines[dup_rows], dup_reports, values))
        masked: dict[str, np.ndarray] = {}
        for name, done in finishing.items():
            finished, rows = done.result()
            combined = combined.set_column(combined.schema.get_field_index(name), name, finished)
            if rows is not None:
                masked[name] = rows
    for row, (_, reason, _) in zip(dup_rows.tolist(), dup_reports):
        reports[file_index[row]].quarantined[reason] += 1
    present = [c for c in NAMES if any(c in r.columns for r in reports)]  # in any file
    quarantine = _pseudonymise_quarantine(_assemble_quarantine(quarantine_parts, present), pseudo)
    timings["duplicates_and_pseudonyms"] = time.perf_counter() - t0

    say("assembling the canonical table")
    t0 = time.perf_counter()
    accepted = ~bad
    accepted[dup_rows] = False
    for i, report in enumerate(reports):
        report.rows_accepted = int(accepted[file_index == i].sum())
    masking = {name: _masking(name, combined.column(name), rows, accepted) for name, rows in masked.items()}
    table = combined if accepted.all() else combined.filter(pa.array(accepted))
    del combined
    table = table.drop_columns([name for name, m in masking.items() if m.missing])
    table = table.append_column(
        "source_file",
        pa.DictionaryArray.from_arrays(pa.array(file_index[accepted]), pa.array([str(p) for p in paths])),
    ).append_column("source_line", pa.array(lines[accepted], pa.int64()))
    timings["assemble"] = time.perf_counter() - t0
    return IngestResult(
        table=table,
        quarantine=quarantine,
        files=reports,
        profile=profile,
        uscc=_uscc_summary(table.column("seller_uscc")) if "seller_uscc" in table.column_names else {"present": False},
        pseudonymizer=pseudo,
        timings=timings,
        started_at=started,
        masking={name: masking[name] for name in MASKED_COLUMNS if name in masking},
    )


def _masking(name: str, column: pa.ChunkedArray, masked: np.ndarray, accepted: np.ndarray) -> Masking:
    """The masked values of one finished column among the ``accepted`` rows."""
    empty = column.is_null().to_numpy(zero_copy_only=False) & ~masked
    return Masking(name, rows=int(accepted.sum()), masked=int(masked[accepted].sum()),
                   empty=int(empty[accepted].sum()))


def _assemble_quarantine(parts: list[pa.Table], columns: list[str]) -> pa.Table:
    """All rejected rows in one table, ordered by file and line, with a fixed column order."""
    schema = pa.schema(
        [(name, pa.int64() if name == "line" else pa.string()) for name in QUARANTINE_COLUMNS]
        + [(name, pa.string()) for name in columns]
    )
    aligned = []
    for part in parts:
        if part.num_rows == 0:
            continue
        aligned.append(pa.table({
            f.name: part.column(f.name).cast(f.type) if f.name in part.column_names else pa.nulls(part.num_rows, f.type)
            for f in schema
        }, schema=schema))
    table = pa.concat_tables(aligned) if aligned else schema.empty_table()
    return table.take(pc.sort_indices(table, sort_keys=[("source_file", "ascending"), ("line", "ascending")]))


def _uscc_summary(codes: pa.ChunkedArray) -> dict[str, Any]:
    """Seller credit codes by validation status, with up to ten examples of invalid ones."""
    distinct = pc.unique(codes.combine_chunks().dictionary_decode()).drop_null().to_pylist()
    checked = uscc.validate_many(distinct)
    counts = checked["status"].value_counts().to_dict()
    bad = checked[checked["status"] == "invalid"].head(10)
    return {
        "present": True,
        "distinct_codes": len(distinct),
        "by_status": {str(k): int(v) for k, v in sorted(counts.items()) if v},
        "orders_without_code": codes.null_count,
        "invalid_examples": [{"code": c, "reasons": r} for c, r in zip(bad["code"], bad["reasons"])],
    }
