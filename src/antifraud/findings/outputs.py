"""Findings of a detection run as files: per-entity scores and the rings, atomically written.

- ``accounts.csv``: ``account_id,score,flagged,ring_ids``, one row per account;
- ``merchants.csv``: ``seller_id,score,flagged,ring_ids``, one row per merchant;
- ``orders.csv``: ``order_id,score,flagged`` (orders without an id are numbered ``row:N``);
- ``rings.jsonl``: one ring per line with its accounts, merchants (beneficiaries), victims,
  orders, score, kind, detectors, signals in words and period.

Scores are rounded to six decimals and rings numbered by decreasing score, so two runs with the
same seed write identical files.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from antifraud.detectors.ensemble import BrushingEnsemble, Ring
from antifraud.features.data import DetectionData
from antifraud.io import write_csv, write_jsonl

__all__ = ["ring_ids", "describe_rings", "write_findings"]


def ring_ids(rings: list[Ring]) -> list[str]:
    """Stable ring identifiers, ``R0001`` for the best ring."""
    return [f"R{k + 1:04d}" for k in range(len(rings))]


def _memberships(n: int, groups: list[np.ndarray], ids: list[str]) -> np.ndarray:
    """For each of ``n`` entities, the ids of the groups it is in, joined by ``;`` (ring order).

    Examples
    --------
    >>> _memberships(4, [np.array([2, 0]), np.array([0])], ["R0001", "R0002"]).tolist()
    ['R0001;R0002', '', 'R0001', '']
    """
    out = np.full(n, "", dtype=object)
    if not groups:
        return out
    members = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups])
    which = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    order = np.lexsort((which, members))
    members, which = members[order], which[order]
    cuts = np.flatnonzero(np.diff(members)) + 1
    for entity, rings in zip(np.split(members, cuts), np.split(which, cuts)):
        if entity.size:
            out[entity[0]] = ";".join(ids[k] for k in rings.tolist())
    return out


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).isoformat()


def describe_rings(data: DetectionData, ensemble: BrushingEnsemble) -> list[dict]:
    """The ``rings.jsonl`` object of every ring of ``ensemble``, best first."""
    order_ids = data.order_ids
    return [_ring_record(rid, ring, data, order_ids) for rid, ring in zip(ring_ids(ensemble.rings_), ensemble.rings_)]


def write_findings(
    data: DetectionData, ensemble: BrushingEnsemble, out_dir: str | Path, rings: list[dict] | None = None
) -> dict[str, Path]:
    """Write the per-entity score files and ``rings.jsonl`` to ``out_dir``; return their paths.

    ``rings`` are the ring objects of :func:`describe_rings`, computed here when not given.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    graph, described, rings = data.graph, rings, ensemble.rings_
    ids = ring_ids(rings)
    paths = {name: out / f"{name}.csv" for name in ("accounts", "merchants", "orders")}
    accounts = pd.DataFrame({
        "account_id": graph.row_labels,
        "score": np.round(ensemble.account_scores_, 6),
        "flagged": ensemble.account_labels_.astype(np.int8),
        "ring_ids": _memberships(graph.n_rows, [r.accounts for r in rings], ids),
    })
    merchants = pd.DataFrame({
        "seller_id": graph.col_labels,
        "score": np.round(ensemble.merchant_scores_, 6),
        "flagged": ensemble.merchant_labels_.astype(np.int8),
        "ring_ids": _memberships(graph.n_cols, [r.merchants for r in rings], ids),
    })
    order_ids = data.order_ids
    orders = pa.table({
        "order_id": order_ids,
        "score": np.round(ensemble.order_scores_, 6),
        "flagged": ensemble.order_labels_.astype(np.int8),
    })
    write_csv(accounts, paths["accounts"])
    write_csv(merchants, paths["merchants"])
    write_csv(orders, paths["orders"])
    paths["rings"] = out / "rings.jsonl"
    write_jsonl(paths["rings"], described if described is not None else describe_rings(data, ensemble))
    return paths


def _ring_record(rid: str, ring: Ring, data: DetectionData, order_ids: pa.Array) -> dict:
    inside = data.orders_of(ring.accounts, ring.merchants if ring.merchants.size else ring.victims)
    times = data.times[inside]
    return {
        "ring_id": rid,
        "accounts": data.graph.row_labels[ring.accounts].tolist(),
        "merchants": data.graph.col_labels[ring.merchants].tolist(),
        "victims": data.graph.col_labels[ring.victims].tolist(),
        "orders": order_ids.take(inside).to_pylist(),
        "score": round(float(ring.score), 6),
        "kind": ring.kind,
        "detectors": ring.detectors,
        "signals": ring.signals,
        "period": [_iso(times.min()), _iso(times.max())] if times.size else None,
    }
