"""Ingest speed and memory against a bare pyarrow read and a default pandas read of one file.

Usage::

    python benchmarks/ingest.py                 # 10M orders (generated once, then reused)
    python benchmarks/ingest.py --orders 1000000 --repeat 3
    python benchmarks/ingest.py --excel --orders 200000   # the same export as an .xlsx workbook

Each reader runs in a fresh process, so its peak resident memory is its own. ``antifraud``
does everything ``validate`` does (encoding detection, column mapping, type conversion with
per-row reasons, duplicate checks, line numbers, SHA-256 of the input, pseudonymisation of
personal fields) but writing the outputs. Targets (issue 2): time within 2x of the bare pyarrow
read, peak memory no higher than the default pandas read.

With ``--excel`` the export is also written as an ``.xlsx`` workbook (once; Excel holds at most
1,048,576 rows), and ``antifraud`` reading it is measured against a bare python-calamine read of
the sheet into Python values and against ``antifraud`` reading the CSV.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_DATA = Path(os.environ.get("ANTIFRAUD_BENCH_DATA", Path(__file__).parent / ".data"))


def _measure(kind: str, path: str) -> dict[str, float]:
    """Run one reader on ``path`` in this process; return seconds, rows and peak MB."""
    t0 = time.perf_counter()
    if kind == "pyarrow":
        import pyarrow.csv as pacsv

        rows = pacsv.read_csv(path).num_rows
    elif kind == "calamine":
        from python_calamine import CalamineWorkbook

        rows = len(CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()) - 1
    elif kind == "pandas":
        import pandas as pd

        rows = len(pd.read_csv(path))
    else:
        from antifraud.ingest import PROFILES, Pseudonymizer, ingest

        result = ingest([path], PROFILES["generic"], pseudonymizer=Pseudonymizer(b"benchmark-key-0123456789"))
        rows = result.rows_read
        assert rows == result.rows_accepted + result.quarantine.num_rows
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "rows": rows, "peak_mb": peak_mb}


def _run(kind: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", kind, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_export(orders: int, data_dir: Path) -> Path:
    """Generate (once) a synthetic export with ``orders`` rows and return its CSV path."""
    out = data_dir / f"synth-{orders}"
    path = out / "orders.csv"
    if not path.exists():
        from antifraud.synth import write_synthetic_export

        print(f"generating {orders:,} orders in {out} ...", flush=True)
        t0 = time.perf_counter()
        write_synthetic_export(out, seed=1, n_orders=orders)
        print(f"  generated in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def ensure_workbook(csv_path: Path) -> Path:
    """Write (once) the export at ``csv_path`` as an .xlsx workbook beside it, every cell as text."""
    path = csv_path.with_suffix(".xlsx")
    if not path.exists():
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import xlsxwriter

        print(f"writing {path} ...", flush=True)
        table = pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(
            column_types={}, strings_can_be_null=False, auto_dict_encode=False))
        columns = [c.cast(pa.string()).to_pylist() for c in table.columns]
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = book.add_worksheet("orders")
        sheet.write_row(0, 0, table.column_names)
        for i in range(table.num_rows):
            sheet.write_row(i + 1, 0, [c[i] for c in columns])
        book.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per reader; the best is kept")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="where generated exports are kept")
    parser.add_argument("--excel", action="store_true", help="compare reading the export as an .xlsx workbook")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(*args.measure)))
        return

    path = ensure_export(args.orders, args.data)
    if args.excel:
        excel(path, ensure_workbook(path), args.repeat)
        return
    size_mb = path.stat().st_size / 2**20
    _run("antifraud", path)  # warm numba's cache and the page cache
    results = {}
    for kind in ("pyarrow", "pandas", "antifraud"):
        runs = [_run(kind, path) for _ in range(args.repeat)]
        results[kind] = min(runs, key=lambda r: r["seconds"])

    print(f"\n{path} ({size_mb:,.0f} MB, {results['antifraud']['rows']:,} rows); "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'reader':<12}{'seconds':>9}{'rows/s':>14}{'peak MB':>10}{'time / pyarrow':>16}")
    base = results["pyarrow"]["seconds"]
    for kind, r in results.items():
        print(f"{kind:<12}{r['seconds']:>9.2f}{r['rows'] / r['seconds']:>14,.0f}{r['peak_mb']:>10,.0f}"
              f"{r['seconds'] / base:>16.2f}")
    ours, pandas = results["antifraud"], results["pandas"]
    print(f"\ntarget time <= 2x pyarrow: {'met' if ours['seconds'] <= 2 * base else 'NOT met'} "
          f"({ours['seconds'] / base:.2f}x); target peak <= pandas: "
          f"{'met' if ours['peak_mb'] <= pandas['peak_mb'] else 'NOT met'} "
          f"({ours['peak_mb']:,.0f} vs {pandas['peak_mb']:,.0f} MB)")


def excel(csv_path: Path, workbook: Path, repeat: int) -> None:
    """Print the table of reading ``workbook`` against a bare calamine read and the CSV twin."""
    _run("antifraud", csv_path)  # warm numba's cache and the page cache
    readers = {"calamine": workbook, "antifraud": workbook, "antifraud csv": csv_path}
    results = {name: min((_run(name.split()[0], path) for _ in range(repeat)), key=lambda r: r["seconds"])
               for name, path in readers.items()}
    print(f"\n{workbook} ({workbook.stat().st_size / 2**20:,.0f} MB, {results['antifraud']['rows']:,} rows); "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'reader':<15}{'seconds':>9}{'rows/s':>14}{'peak MB':>10}{'time / calamine':>17}")
    base = results["calamine"]["seconds"]
    for name, r in results.items():
        print(f"{name:<15}{r['seconds']:>9.2f}{r['rows'] / r['seconds']:>14,.0f}{r['peak_mb']:>10,.0f}"
              f"{r['seconds'] / base:>17.2f}")


if __name__ == "__main__":
    main()
