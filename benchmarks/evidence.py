"""Speed of the evidence content on a 10M-order run: the evidence table and one ring's report.

Usage::

    python benchmarks/evidence.py                   # 10M orders, 300 rings
    python benchmarks/evidence.py --orders 1000000

The order table is built in memory with the canonical types (dictionary ids and pseudonyms,
UTC timestamps) and Zipf shop popularity; the detection step is skipped: rings are planted
directly (40 accounts and 3 small shops each, every tenth also on one of the 20 biggest shops, as
camouflaged rings are). Measured: :func:`write_evidence_tables` (twice: the first call includes
decoding the dictionaries' first use) and :func:`render_report` for a ring on a big shop.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from antifraud.evidence.report import render_report
from antifraud.features.data import DetectionData
from antifraud.findings.evidence import write_evidence_tables
from antifraud.findings.model import Findings, RingFinding, Scores
from antifraud.ingest.pseudonym import Pseudonymizer


def _dictionary(codes: np.ndarray, prefix: str, size: int) -> pa.DictionaryArray:
    values = pa.array([f"{prefix}{i:024x}" for i in range(size)])
    return pa.DictionaryArray.from_arrays(pa.array(codes % size, pa.int32()), values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--rings", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n, n_accounts, n_shops = args.orders, args.orders // 5, args.orders // 100
    weights = 1 / np.arange(1, n_shops + 1) ** 1.1
    cols = rng.choice(n_shops, n, p=weights / weights.sum()).astype(np.int32)
    rows = rng.integers(0, n_accounts, n).astype(np.int32)
    start = 1_700_000_000
    table = pa.table({
        "order_id": pa.array(np.char.add("o", np.arange(n).astype("U10")).astype(object)),
        "buyer_id": _dictionary(rows, "b", n_accounts),
        "seller_id": _dictionary(cols, "s", n_shops),
        "created_at": pa.array(start + rng.integers(0, 90 * 86400, n), pa.timestamp("s", "UTC")),
        "amount": rng.random(n) * 100,
        "rating": pa.array(rng.integers(1, 6, n).astype(np.int8)),
        "reviewed_at": pa.array(start + rng.integers(0, 90 * 86400, n), pa.timestamp("s", "UTC")),
        "buyer_ip": _dictionary(rows // 3, "ip_", n_accounts),
        "device_id": _dictionary(rows, "dev_", n_accounts),
        "ship_phone": _dictionary(rows, "ph_", n_accounts),
        "ship_address": _dictionary(rows // 2, "addr_", n_accounts),
    })
    times = table.column("created_at").cast(pa.int64()).to_numpy()
    data = DetectionData(table=table, graph=SimpleNamespace(n_rows=n_accounts, n_cols=n_shops), accounts=None,
                         merchants=None, identity=None, order_rows=rows, order_cols=cols, times=times, ratings=None)
    rings = []
    for k in range(args.rings):
        shops = rng.choice(np.arange(1000, n_shops), 3, replace=False)
        if k % 10 == 0:
            shops = np.append(shops, rng.integers(0, 20))
        accounts, shops = np.sort(rng.choice(n_accounts, 40, replace=False)), np.sort(shops)
        rings.append(RingFinding(f"R{k + 1:04d}", "dense", ("dense_block",), 0.9, 0.5, accounts, shops,
                                 np.zeros(0, np.int64), data.orders_of(accounts, shops), np.zeros((0, 3), np.int64),
                                 None, {}, []))
    scores = rng.random(n)
    findings = Findings(account_ids=None, seller_ids=None, order_ids=data.order_ids,
                        scores={"orders": Scores(scores, scores >= 0.95, 0.95)}, rings=rings, merchants=[], accounts=[])
    print("| step | seconds | rows | MB |\n|---|---:|---:|---:|")
    for attempt in (1, 2):
        t0 = time.perf_counter()
        path = write_evidence_tables(data, findings, tempfile.mkdtemp(),
                                     pseudonymizer=Pseudonymizer(b"benchmark-key-0123456789"))["evidence_orders"]
        seconds = time.perf_counter() - t0
        print(f"| write_evidence_tables ({attempt}) | {seconds:.2f} | {pq.read_metadata(path).num_rows:,} "
              f"| {path.stat().st_size / 1e6:.0f} |")
    t0 = time.perf_counter()
    orders = pq.read_table(path)
    labels = table.column("buyer_id").combine_chunks().dictionary
    shops = table.column("seller_id").combine_chunks().dictionary
    ring = rings[0]
    page = render_report({
        "ring_id": "R0001", "accounts": labels.take(pa.array(ring.accounts)).to_pylist(),
        "merchants": shops.take(pa.array(ring.merchants)).to_pylist(), "victims": [], "orders": [],
        "score": ring.score, "kind": ring.kind, "detectors": list(ring.detectors), "signals": [], "period": None,
    }, [], orders, {})
    print(f"| read table + render_report (ring on a top-20 shop) | {time.perf_counter() - t0:.2f} | "
          f"| {len(page) / 1e6:.1f} |")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
