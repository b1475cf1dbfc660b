"""Export -> validated canonical table, with every row accounted for.

:func:`ingest` reads one or more export files, converts every column to its canonical type,
pseudonymises personal fields, and splits the rows into the accepted canonical orders and a
quarantine in which every rejected row carries its file, line, column and reason. The counts
add up: ``read == accepted + quarantined``, per file and in total.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from antifraud import uscc
from antifraud.ingest.convert import (
    Issue,
    parse_utc_offset,
    to_dictionary,
    to_number,
    to_rating,
    to_status,
    to_timestamp,
)
from antifraud.ingest.manifest import now_iso, sha256_file, toolkit_info
from antifraud.ingest.profiles import Profile
from antifraud.ingest.pseudonym import Pseudonymizer
from antifraud.ingest.reader import RawFile, read_file
from antifraud.io import atomic_path, write_csv, write_json
from antifraud.schema import COLUMN_BY_NAME, NAMES, REQUIRED, signal_availability

__all__ = ["ingest", "IngestResult", "FileReport", "QUARANTINE_COLUMNS"]

QUARANTINE_COLUMNS = ("source_file", "line", "column", "reason", "detail")


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the run manifest."""
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "bytes": self.size_bytes,
            "format": self.format,
            "encoding": self.encoding,
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
    orders : pandas.DataFrame
        Accepted rows in the canonical schema (:mod:`antifraud.schema`), plus ``source_file``
        and ``source_line`` naming where each came from.
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
    """

    orders: pd.DataFrame
    quarantine: pa.Table
    files: list[FileReport]
    profile: Profile
    uscc: dict[str, Any]
    pseudonymizer: Pseudonymizer
    timings: dict[str, float]
    started_at: str

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
        """Canonical columns present in every input file."""
        present = set(NAMES)
        for f in self.files:
            present &= set(f.columns)
        return [c for c in NAMES if c in present]

    def signals(self) -> dict[str, tuple[str, ...]]:
        """Each detection signal and the columns it lacks (empty when available)."""
        return signal_availability(self.columns)

    def manifest(self, command: str = "validate", extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The run manifest as a JSON-ready dict."""
        quarantined = self.quarantined_by_reason
        signals = self.signals()
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
                "accepted": len(self.orders),
                "quarantined": sum(quarantined.values()),
                "quarantined_by_reason": dict(sorted(quarantined.items())),
            },
            "columns": self.columns,
            "signals": {
                "available": [s for s, missing in signals.items() if not missing],
                "unavailable": {s: list(m) for s, m in signals.items() if m},
            },
            "seller_uscc": self.uscc,
            "pseudonymisation": {
                "algorithm": "HMAC-SHA256, first 96 bits, per-field domain separation",
                "fields": [c for c in self.columns if COLUMN_BY_NAME[c].kind == "personal"],
                "key_id": self.pseudonymizer.key_id,
                "key_source": self.pseudonymizer.source,
            },
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }
        if extra:
            doc.update(extra)
        return doc

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


class _Problems:
    """The first problem of every row: column, reason and detail."""

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


def _text(arr: pa.Array) -> pa.Array:
    arr = arr if pa.types.is_string(arr.type) else arr.cast(pa.string())
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _uscc_dictionary(arr: pa.Array) -> pa.DictionaryArray:
    encoded = to_dictionary(arr)
    normalised = [uscc.normalize(v) for v in encoded.dictionary.to_pylist()]
    recoded = pc.dictionary_encode(pa.array(normalised, pa.string()))
    return pa.DictionaryArray.from_arrays(pc.take(recoded.indices, encoded.indices), recoded.dictionary)


def _convert(raw: RawFile, pseudo: Pseudonymizer, offset_s: int) -> tuple[pa.Table, _Problems]:
    """Canonical typed columns of ``raw`` and the first problem of each row."""
    n = raw.table.num_rows
    problems = _Problems(n)
    converted: dict[str, pa.Array] = {}
    for name in NAMES:
        if name not in raw.table.column_names:
            continue
        arr = raw.table.column(name).combine_chunks()
        kind = COLUMN_BY_NAME[name].kind
        issues: list[Issue] = []
        if kind == "id":
            out = to_dictionary(arr)
        elif kind == "label":
            out = to_status(arr) if name == "status" else to_dictionary(arr)
        elif kind == "timestamp":
            out, issues = to_timestamp(arr, offset_s)
        elif kind in ("amount", "weight"):
            out, issues = to_number(arr, kind)
        elif kind == "rating":
            out, issues = to_rating(arr)
        elif kind == "personal":
            out = pseudo.pseudonymize_array(name, arr)
        elif kind == "uscc":
            out = _uscc_dictionary(arr)
        else:
            out = _text(arr)
        if name in REQUIRED:
            missing = out.is_null().to_numpy(zero_copy_only=False) & ~np.any(
                [i.mask for i in issues], axis=0
            ) if issues else out.is_null().to_numpy(zero_copy_only=False)
            issues = [Issue(missing, "missing_value", lambda idx: ["required value is empty"] * len(idx)), *issues]
        for issue in issues:
            problems.add(name, issue)
        converted[name] = out
    return pa.table(converted), problems


def _as_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr.cast(pa.string())


def _row_texts(raw: pa.Table, converted: pa.Table, idx: np.ndarray) -> dict[str, pa.Array]:
    """Rows ``idx`` as text for the quarantine: raw values as written, except personal fields,
    which are shown only as their pseudonyms."""
    take = pa.array(idx, pa.int64())
    return {
        name: _as_text((converted if COLUMN_BY_NAME[name].kind == "personal" else raw).column(name).take(take))
        for name in converted.column_names
    }


def _duplicates(table: pa.Table, keep: np.ndarray, where: Callable[[int], str]) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """Find repeated orders among the rows ``keep``; the first occurrence stays.

    With ``order_id``, a repeat with identical content is ``exact_duplicate`` and one that
    differs is ``conflicting_order_id``; without it, only identical rows are duplicates.
    Returns the positions of the repeats and their (column, reason, detail).
    """
    candidates = np.flatnonzero(keep)
    if candidates.size == 0:
        return candidates, []
    sub = table.take(pa.array(candidates))
    if "order_id" in table.column_names:
        key = pc.dictionary_encode(sub.column("order_id").combine_chunks().dictionary_decode()).indices
        codes = key.to_numpy(zero_copy_only=False).astype(np.int64)
        if key.null_count:
            codes = np.where(key.is_valid().to_numpy(zero_copy_only=False), codes, -1 - np.arange(len(codes)))
    else:
        frame = sub.to_pandas()
        codes = pd.util.hash_pandas_object(frame, index=False).to_numpy().view(np.int64)
    _, first, inverse, counts = np.unique(codes, return_index=True, return_inverse=True, return_counts=True)
    repeat = (counts[inverse] > 1) & (np.arange(len(codes)) != first[inverse])
    rows = np.flatnonzero(repeat)
    if rows.size == 0:
        return rows, []
    firsts = first[inverse[rows]]
    both = sub.take(pa.array(np.concatenate([rows, firsts]))).to_pylist()
    reports = []
    for k, (r, f) in enumerate(zip(rows.tolist(), firsts.tolist())):
        mine, theirs = both[k], both[k + len(rows)]
        differs = [c for c in mine if mine[c] != theirs[c]]
        origin = where(int(candidates[f]))
        if differs:
            reports.append(("order_id", "conflicting_order_id",
                            f"order {mine['order_id']!r} also at {origin} with different {', '.join(differs)}"))
        else:
            reports.append(("order_id" if "order_id" in mine else "", "exact_duplicate", f"same as {origin}"))
    return candidates[rows], reports


def ingest(
    paths: Sequence[str | Path],
    profile: Profile,
    *,
    encoding: str | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    progress: Callable[[str], None] | None = None,
) -> IngestResult:
    """Read, validate and pseudonymise export files into one canonical order table.

    Parameters
    ----------
    paths : sequence of path
        Export files (CSV, gzip CSV, Parquet or JSON Lines); all read with ``profile``.
    profile : Profile
        Column mapping and time zone (see :mod:`antifraud.ingest.profiles`).
    encoding : str, optional
        Text encoding for all files; detected per file when omitted.
    pseudonymizer : Pseudonymizer, optional
        Keyed pseudonyms for personal fields; from the environment when omitted.
    progress : callable, optional
        Called with a short description as each stage starts.

    Returns
    -------
    IngestResult

    Examples
    --------
    >>> from antifraud.ingest import PROFILES
    >>> result = ingest(["fixtures/generic/orders.csv"], PROFILES["generic"])  # doctest: +SKIP
    >>> result.rows_read == len(result.orders) + result.quarantine.num_rows  # doctest: +SKIP
    True
    """
    started = now_iso()
    say = progress or (lambda _msg: None)
    pseudo = pseudonymizer or Pseudonymizer.from_environment()
    offset = parse_utc_offset(profile.timezone)
    timings = {"read": 0.0, "convert": 0.0, "duplicates": 0.0}
    paths = [Path(p) for p in paths]
    with ThreadPoolExecutor(max_workers=1) as hasher:
        hashes = [hasher.submit(sha256_file, p) if p.is_file() else None for p in paths]
        tables, bad_masks, reports, line_arrays, parts = [], [], [], [], []
        for path, digest in zip(paths, hashes):
            say(f"reading {path.name}")
            t0 = time.perf_counter()
            raw = read_file(path, profile, encoding)
            t1 = time.perf_counter()
            say(f"validating {path.name}")
            table, problems = _convert(raw, pseudo, offset)
            timings["read"] += t1 - t0
            timings["convert"] += time.perf_counter() - t1
            report = FileReport(path, raw.format, raw.encoding, "", path.stat().st_size, raw.columns,
                                raw.ignored_columns, raw.rows_read)
            report.quarantined.update(r.reason for r in raw.bad_records)
            report.quarantined.update(problems.kinds[c][1] for c in problems.code[problems.bad])
            parts.append(_problem_rows(raw, table, problems))
            tables.append(table)
            bad_masks.append(problems.bad)
            reports.append(report)
            line_arrays.append(raw.lines)
        for report, digest in zip(reports, hashes):
            report.sha256 = digest.result() if digest else ""

    say("checking duplicates")
    t0 = time.perf_counter()
    columns = [c for c in NAMES if all(c in t.column_names for t in tables)]
    combined = pa.concat_tables([t.select(columns) for t in tables], promote_options="permissive").unify_dictionaries()
    file_index = np.concatenate([np.full(t.num_rows, i, dtype=np.int32) for i, t in enumerate(tables)])
    lines = np.concatenate(line_arrays)
    bad = np.concatenate(bad_masks)

    def where(row: int) -> str:
        return f"{paths[file_index[row]].name}:{lines[row]}"

    dup_rows, dup_reports = _duplicates(combined, ~bad, where)
    timings["duplicates"] = time.perf_counter() - t0

    say("assembling the canonical table")
    for row, (_, reason, _) in zip(dup_rows.tolist(), dup_reports):
        reports[file_index[row]].quarantined[reason] += 1
    if dup_rows.size:
        parts.append(_quarantine_part(
            [str(paths[f]) for f in file_index[dup_rows]], lines[dup_rows], dup_reports,
            {name: _as_text(combined.column(name).take(pa.array(dup_rows))) for name in combined.column_names},
        ))
    quarantine = pa.concat_tables(parts, promote_options="permissive")
    quarantine = quarantine.take(pc.sort_indices(quarantine, sort_keys=[("source_file", "ascending"), ("line", "ascending")]))
    accepted = ~bad
    accepted[dup_rows] = False
    for i, report in enumerate(reports):
        report.rows_accepted = int(accepted[file_index == i].sum())
    keep = pa.array(accepted)
    orders = combined.filter(keep).to_pandas(types_mapper={pa.int8(): pd.Int8Dtype()}.get)
    orders["source_file"] = pd.Categorical.from_codes(file_index[accepted], categories=[str(p) for p in paths])
    orders["source_line"] = lines[accepted]
    return IngestResult(
        orders=orders,
        quarantine=quarantine,
        files=reports,
        profile=profile,
        uscc=_uscc_summary(orders["seller_uscc"]) if "seller_uscc" in orders else {"present": False},
        pseudonymizer=pseudo,
        timings=timings,
        started_at=started,
    )


def _problem_rows(raw: RawFile, converted: pa.Table, problems: _Problems) -> pa.Table:
    """The quarantine entries of one file: rows with a bad value and unparseable records."""
    idx = np.flatnonzero(problems.bad)
    bad = raw.bad_records
    entries = [(*problems.kinds[c], problems.details[i]) for c, i in zip(problems.code[idx], idx.tolist())]
    entries += [("", b.reason, b.detail) for b in bad]
    values = {
        name: pa.concat_arrays([arr, pa.nulls(len(bad), pa.string())])
        for name, arr in _row_texts(raw.table, converted, idx).items()
    }
    lines = np.concatenate([raw.lines[idx], np.array([b.line for b in bad], dtype=np.int64)])
    return _quarantine_part([str(raw.path)] * len(entries), lines, entries, values)


def _quarantine_part(
    files: list[str], lines: np.ndarray, entries: list[tuple[str, str, str]], values: dict[str, pa.Array]
) -> pa.Table:
    cols: dict[str, pa.Array] = {
        "source_file": pa.array(files, pa.string()),
        "line": pa.array(lines, pa.int64()),
        "column": pa.array([e[0] for e in entries], pa.string()),
        "reason": pa.array([e[1] for e in entries], pa.string()),
        "detail": pa.array([e[2] for e in entries], pa.string()),
    }
    return pa.table({**cols, **values})


def _uscc_summary(codes: pd.Series) -> dict[str, Any]:
    """Seller credit codes by validation status, with up to ten examples of invalid ones."""
    distinct = codes.dropna().unique()
    checked = uscc.validate_many(list(distinct))
    counts = checked["status"].value_counts().to_dict()
    bad = checked[checked["status"] == "invalid"].head(10)
    return {
        "present": True,
        "distinct_codes": int(len(distinct)),
        "by_status": {str(k): int(v) for k, v in sorted(counts.items()) if v},
        "orders_without_code": int(codes.isna().sum()),
        "invalid_examples": [{"code": c, "reasons": r} for c, r in zip(bad["code"], bad["reasons"])],
    }
