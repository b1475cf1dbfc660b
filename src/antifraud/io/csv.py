"""Spreadsheet-safe CSV output.

Analysts open the toolkit's CSV files in Excel, and review texts are written by strangers, so a
text cell that a spreadsheet would evaluate as a formula (leading ``=``, ``+``, ``-``, ``@``, tab or
carriage return) is prefixed with a single quote, following OWASP's advice on CSV injection.
Plain numbers such as ``-12.5`` are left alone, and numeric columns are never touched.

Every CSV the toolkit writes, to a file (:func:`write_csv`) or into an evidence bundle
(:func:`csv_bytes`), goes through the same escaping and the same writer. It starts with a UTF-8
byte-order mark: without one, Excel on a Chinese Windows reads UTF-8 as GBK and garbles every
Chinese name. CSV readers that know UTF-8 (pandas, pyarrow, ``encoding="utf-8-sig"``) skip it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from antifraud.io.atomic import atomic_path

__all__ = ["BOM", "csv_bytes", "escape_formulas", "write_csv"]

#: The UTF-8 byte-order mark every CSV starts with, for Excel.
BOM = b"\xef\xbb\xbf"

_FORMULA_START = pa.array(["=", "+", "-", "@", "\t", "\r"])
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _escape_array(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return arr
    # A cheap test of the first character first; the number pattern only where it matters.
    starts = pc.is_in(pc.utf8_slice_codeunits(arr, 0, 1), value_set=_FORMULA_START)
    if not pc.any(starts).as_py():
        return arr
    risky = pc.and_(starts, pc.invert(pc.match_substring_regex(arr, _PLAIN_NUMBER)))
    # Inserting at offset 0 keeps the array's own type (string or large_string): no scalar of
    # another width is ever mixed in.
    return pc.if_else(risky, pc.utf8_replace_slice(arr, start=0, stop=0, replacement="'"), arr)


def escape_formulas(table: pa.Table) -> pa.Table:
    """Return ``table`` with every text cell that a spreadsheet would run as a formula quoted.

    Examples
    --------
    >>> import pyarrow as pa
    >>> t = escape_formulas(pa.table({"text": ["=HYPERLINK(1)", "-5", "@x", "ok"]}))
    >>> t.column("text").to_pylist()
    ["'=HYPERLINK(1)", '-5', "'@x", 'ok']
    """
    return pa.table(
        {name: _escape_array(table.column(name)) for name in table.column_names}
    )


def csv_bytes(data: pd.DataFrame | pa.Table) -> bytes:
    """``data`` as the bytes :func:`write_csv` would write.

    Examples
    --------
    >>> print(csv_bytes(pa.table({"id": ["=1+1", "o2"], "n": [1, -2]})).decode("utf-8-sig"), end="")
    "id","n"
    "'=1+1",1
    "o2",-2
    """
    sink = pa.BufferOutputStream()
    _write(data, sink)
    return sink.getvalue().to_pybytes()


def write_csv(data: pd.DataFrame | pa.Table, path: str | os.PathLike[str]) -> None:
    """Write ``data`` as UTF-8 CSV with a byte-order mark and a header, formula-escaped, atomically.

    Timestamps are written in ISO 8601 with their offset; missing values as empty cells.
    """
    with atomic_path(path) as tmp:
        _write(data, tmp)


def _write(data: pd.DataFrame | pa.Table, sink: Path | pa.NativeFile) -> None:
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(sink, pa.NativeFile):
        _write_stream(table, sink)
        return
    with pa.OSFile(str(sink), "wb") as out:
        _write_stream(table, out)


def _write_stream(table: pa.Table, out: pa.NativeFile) -> None:
    out.write(BOM)
    pacsv.write_csv(escape_formulas(table), out, write_options=pacsv.WriteOptions(quoting_style="needed"))
