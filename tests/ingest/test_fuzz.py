"""Fuzzing the readers with hostile exports: whatever the bytes, ingest accounts for every row.

Exports in every format are generated with hostile values (any unicode including NUL and CR,
quotes and delimiters, long fields, formula-like ids, numbers as text and as numbers, missing
fields, wrong JSON types, junk lines, and stray bytes that are not UTF-8). For each, ingest must
either raise a one-line :class:`InputError` for the whole file or return a result in which
``read == accepted + quarantined``, every quarantined and accepted row names a line of the file,
and no accepted value holds a NUL byte or invalid text. Where no bytes were mutated the number of
records is known, and ``read`` must equal it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from antifraud.ingest import PROFILES, InputError, ingest
from antifraud.ingest.jsonl import JSON_WHITESPACE
from antifraud.ingest.records import MAX_RECORD_BYTES

COLUMNS = ("order_id", "buyer_id", "seller_id", "amount", "created_at", "review_text")
HOSTILE_CHARS = st.sampled_from(list('\x00\r\n",\t\'=+-@ ;\\{}[]:') + ["\u2028", "\ufeff", "好", "\x85", "\ufffd"])
TEXT = st.text(st.one_of(HOSTILE_CHARS, st.characters(codec="utf-8")), max_size=12)
VALUE = st.one_of(
    TEXT,
    st.sampled_from(["2024-11-11 08:00:00", "2024-02-30 10:00:00", "1,234.50", "12,5", "1e308", "¥88", "-0",
                     "=HYPERLINK(\"x\")", "+86 138", "@SUM(A1)", "007", "", " "]),
    st.sampled_from([100, 5000]).map(lambda n: "y" * n),
)
# Which row, if any, gets a value over the size limit (one at most: they are slow to write).
LONG_ROW = st.one_of(st.none(), st.integers(0, 7))
LONG_VALUE = "z" * (MAX_RECORD_BYTES + 1)
# JSON values of every type: what a sloppy exporter writes.
JSON_VALUE = st.one_of(VALUE, st.none(), st.booleans(), st.integers(-(10**25), 10**25),
                       st.floats(allow_nan=False), st.lists(st.integers(), max_size=2))
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rows_of(values: st.SearchStrategy) -> st.SearchStrategy:
    """Rows as dicts over :data:`COLUMNS`; a missing key is a missing field."""
    rows = st.lists(st.dictionaries(st.sampled_from(COLUMNS), values, max_size=len(COLUMNS)), min_size=1,
                    max_size=8)
    return st.tuples(rows, LONG_ROW).map(lambda drawn: with_long_value(*drawn))


def with_long_value(rows: list[dict], at: int | None) -> list[dict]:
    if at is not None and at < len(rows):
        rows[at]["review_text"] = LONG_VALUE
    return rows


MUTATIONS = st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=3)), max_size=2)


def mutate(data: bytes, mutations: list[tuple[float, bytes]]) -> bytes:
    """Insert stray bytes (often not UTF-8) at relative positions of ``data``."""
    for where, junk in mutations:
        at = int(where * len(data))
        data = data[:at] + junk + data[at:]
    return data


def csv_bytes(rows: list[dict], short: list[bool], crlf: bool) -> tuple[bytes, int]:
    """A CSV export of ``rows`` and its number of data records, as the ``csv`` module reads it.

    (``csv.writer`` leaves a bare CR unquoted, which then ends a record.)
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(COLUMNS)
    for row, cut in zip(rows, short + [False] * len(rows)):
        fields = [str(row.get(c, "")) for c in COLUMNS]
        writer.writerow(fields[:-1] if cut else fields)  # a short row: a field missing
    text = out.getvalue()
    shortened = text.replace(LONG_VALUE, "z")  # the same records, within the csv module's field limit
    records = sum(1 for record in csv.reader(io.StringIO(shortened, newline="")) if record) - 1
    return text.encode("utf-8"), records


def jsonl_bytes(rows: list[dict], junk: list[str]) -> tuple[bytes, int]:
    """JSON Lines with junk lines among the objects, and how many lines are records."""
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    for k, text in enumerate(junk):
        lines.insert(k * 2 % (len(lines) + 1), text.replace("\n", " ").replace("\r", " "))
    records = sum(1 for line in lines if line.strip(JSON_WHITESPACE.decode()))
    return ("\n".join(lines) + "\n").encode("utf-8"), records


def physical_lines(data: bytes) -> int:
    """Lines in a text file, counting LF, CR LF and a bare CR as line breaks."""
    return len(re.findall(rb"\r\n|\r|\n", data)) + 1


def check(path: Path, lines_in_file: int, records: int | None, whole_file_error: bool = True) -> None:
    """Ingest ``path`` and check that every row is accounted for where it is.

    ``records`` is the number of records when known; ``whole_file_error`` whether the file may
    have a problem that makes all of it unusable (then an :class:`InputError` is allowed).
    """
    try:
        result = ingest([path], PROFILES["generic"])
    except InputError as exc:
        text = str(exc)
        assert text.startswith(str(path)) and "\n" not in text
        assert whole_file_error, text
        return
    rows = result.manifest()["rows"]
    assert rows["read"] == rows["accepted"] + rows["quarantined"] == result.rows_read
    assert result.rows_accepted + result.quarantine.num_rows == result.rows_read
    if records is not None:
        assert result.rows_read == records
    first = 2 if ".csv" in path.suffixes else 1
    for line in result.quarantine.column("line").to_pylist() + result.table.column("source_line").to_pylist():
        assert first <= line <= lines_in_file
    assert set(result.quarantine.column("source_file").to_pylist()) <= {str(path)}
    result.table.validate(full=True)
    result.quarantine.validate(full=True)
    for name in result.table.column_names:
        column = result.table.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_string(column.type):
            assert not pc.any(pc.match_substring(column, "\x00")).as_py()


@pytest.mark.parametrize("gz", [False, True])
@SETTINGS
@given(rows=rows_of(VALUE), short=st.lists(st.booleans(), max_size=8), crlf=st.booleans(), mutations=MUTATIONS)
def test_csv(rows, short, crlf, mutations, gz):
    clean, records = csv_bytes(rows, short, crlf)
    data = mutate(clean, mutations)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("orders.csv.gz" if gz else "orders.csv")
        path.write_bytes(gzip.compress(data) if gz else data)
        check(path, physical_lines(data), None if mutations else records, whole_file_error=bool(mutations))


@pytest.mark.parametrize("gz", [False, True])
@SETTINGS
@given(rows=rows_of(JSON_VALUE), junk=st.lists(TEXT, max_size=3), mutations=MUTATIONS)
def test_jsonl(rows, junk, mutations, gz):
    clean, records = jsonl_bytes(rows, junk)
    data = mutate(clean, mutations)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("orders.jsonl.gz" if gz else "orders.jsonl")
        path.write_bytes(gzip.compress(data) if gz else data)
        keys = {key for row in rows if len(json.dumps(row)) <= MAX_RECORD_BYTES for key in row}
        check(path, physical_lines(data), None if mutations else records,
              whole_file_error=bool(mutations) or not keys >= {"buyer_id", "seller_id", "created_at"})


@SETTINGS
@given(rows=rows_of(st.one_of(VALUE, st.none())), numeric_amounts=st.booleans(),
       amounts=st.lists(st.one_of(st.none(), st.floats()), min_size=8, max_size=8))
def test_parquet(rows, numeric_amounts, amounts):
    table = pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in COLUMNS})
    if numeric_amounts:  # a native float column, NaN and infinities included
        table = table.set_column(COLUMNS.index("amount"), "amount", pa.array(amounts[: len(rows)], pa.float64()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.parquet"
        pq.write_table(table, path)
        check(path, len(rows), len(rows), whole_file_error=False)
