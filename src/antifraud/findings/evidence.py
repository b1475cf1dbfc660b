"""The orders behind the rings, as a table an evidence bundle can carry.

``evidence/orders.parquet`` holds every order that a ring's accounts placed at the ring's
merchants (or, for an attack, at its victims) and the other orders of those shops, so that ring
orders can be set against the shops' organic baseline. A shop with more than ``max_organic``
other orders (a big shop a ring used for camouflage) keeps an even sample of them over time, each
row's ``weight`` saying how many orders it stands for (1 for every ring order), so counts stay
right and the table stays small. Its columns are ``order_id, buyer_id,
seller_id, seller_name, created_at, amount, rating, review_text, reviewed_at`` (``buyer_id`` as the
account's alliance pseudonym, as in the finding records; the shop's name and the review's text so
that the regulator's report can show them), whichever pseudonymised personal fields the export had (``buyer_ip, device_id, ship_phone, ship_address``: keyed pseudonyms, as in the
canonical table; raw values never reach it), the order's ``score`` (as in ``orders.csv``) and
``ring_ids``, the rings the order belongs to (empty for organic orders), and ``weight``.

The table is bounded by the ring shops' orders (a few percent of an export) and built with
vectorised Arrow and numpy operations: no per-order Python.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from antifraud.features.data import DetectionData
from antifraud.findings.model import Findings
from antifraud.ingest.pseudonym import Pseudonymizer
from antifraud.io import atomic_path
from antifraud.schema import PERSONAL

__all__ = ["EVIDENCE_COLUMNS", "write_evidence_tables"]

#: The order columns copied into the evidence table, where the export has them.
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "buyer_id", "seller_id", "seller_name", "created_at", "amount", "rating", "review_text", "reviewed_at", *PERSONAL,
)


def _ring_lists(positions: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], ids: list[str]) -> pa.ListArray:
    """For each of the sorted order ``positions``, the ids of the rings holding it (ring order).

    ``pairs`` are ``(position, ring index)`` memberships; every position in it is in ``positions``.

    Examples
    --------
    >>> lists = _ring_lists(np.array([3, 5, 9]), (np.array([9, 3, 9]), np.array([1, 0, 0])), ["R1", "R2"])
    >>> lists.to_pylist()
    [['R1'], [], ['R1', 'R2']]
    """
    where, which = pairs
    order = np.lexsort((which, where))
    rows = np.searchsorted(positions, where[order])
    offsets = np.zeros(positions.size + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=positions.size), out=offsets[1:])
    values = pa.array(ids, pa.string()).take(pa.array(which[order], pa.int64()))
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _sample_organic(data: DetectionData, at_targets: np.ndarray, in_rings: np.ndarray,
                    max_organic: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions to keep (ascending) and each one's weight: every ring order, and per shop at most
    ``max_organic`` of its other orders, evenly spaced in time, weighted to stand for them all.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> data = SimpleNamespace(order_cols=np.zeros(6, np.int32), times=np.arange(6))
    >>> positions, weights = _sample_organic(data, np.arange(6), np.array([0]), 2)
    >>> positions.tolist(), weights.tolist()
    ([0, 3, 5], [1.0, 2.5, 2.5])
    """
    ring = np.isin(at_targets, in_rings)
    organic = at_targets[~ring]
    shops = data.order_cols[organic]
    organic = organic[np.lexsort((data.times[organic], shops))]
    shops = data.order_cols[organic]
    counts = np.bincount(shops) if shops.size else np.zeros(0, np.int64)
    rank = np.arange(organic.size) - (np.cumsum(counts) - counts)[shops]
    n = counts[shops]
    m = np.minimum(n, max_organic)
    keep = (rank + 1) * m // n > rank * m // n
    positions = np.concatenate([at_targets[ring], organic[keep]])
    weights = np.concatenate([np.ones(int(ring.sum())), (n / m)[keep]])
    order = np.argsort(positions, kind="stable")
    return positions[order], weights[order]


def _plain(column: pa.ChunkedArray) -> pa.Array:
    """``column`` in one chunk, dictionaries decoded (a taken dictionary keeps every value)."""
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    return column.combine_chunks()


def write_evidence_tables(
    data: DetectionData,
    findings: Findings,
    out_dir: str | Path,
    *,
    pseudonymizer: Pseudonymizer,
    max_organic: int = 2_000,
) -> dict[str, Path]:
    """Write ``evidence/orders.parquet`` under ``out_dir``, atomically; return its path.

    Parameters
    ----------
    data : DetectionData
        The run's orders; ``data.table`` holds personal fields as pseudonyms only.
    findings : Findings
        The run's findings (:func:`~antifraud.findings.model.build_findings`) on ``data``.
    out_dir : path
        The run folder.
    pseudonymizer : Pseudonymizer
        The run's alliance key, under which account ids become pseudonyms.
    max_organic : int
        Most other (organic) orders kept per ring shop, evenly spaced in time.

    Returns
    -------
    dict
        ``{"evidence_orders": path}``.
    """
    rings = findings.rings
    is_target = np.zeros(data.graph.n_cols, dtype=bool)
    where, which = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for k, ring in enumerate(rings):
        is_target[ring.targets] = True
        where.append(ring.orders)
        which.append(np.full(ring.orders.size, k, dtype=np.int64))
    in_rings = np.concatenate(where)
    positions, weights = _sample_organic(data, np.flatnonzero(is_target[data.order_cols]), in_rings, max_organic)
    take = pa.array(positions, pa.int64())
    table = data.table
    columns = {"order_id": data.order_ids.take(take)}
    for name in EVIDENCE_COLUMNS:
        if name in table.column_names:
            columns[name] = _plain(table.column(name).take(take))
    columns["buyer_id"] = _plain(pa.chunked_array([pseudonymizer.pseudonymize_array("buyer_id", columns["buyer_id"])]))
    columns["score"] = pa.array(np.round(findings.scores["orders"].score[positions], 6))
    columns["ring_ids"] = _ring_lists(positions, (in_rings, np.concatenate(which)), [r.ring_id for r in rings])
    columns["weight"] = pa.array(weights)
    path = Path(out_dir) / "evidence" / "orders.parquet"
    with atomic_path(path) as tmp:
        pq.write_table(pa.table(columns), tmp, compression="zstd")
    return {"evidence_orders": path}
