"""Findings of a detection run as files: per-entity scores and the rings, atomically written.

- ``accounts.csv``: ``account_id,score,flagged,ring_ids,reason``, one row per account;
- ``merchants.csv``: ``seller_id,seller_name,score,flagged,ring_ids,reason``, one row per merchant;
- ``orders.csv``: ``order_id,score,flagged`` (orders without an id are numbered ``row:N``);
- ``rings.jsonl``: one ring per line with its accounts, merchants (beneficiaries), victims,
  orders, score, kind, detectors, signals in words, the detectors' evidence (named values) and
  period.

All are read from one :class:`~antifraud.findings.model.Findings`. Scores are rounded to six
decimals and rings numbered by decreasing score, so two runs with the same seed write
identical files. ``reason`` is a flagged entity's main reason in words
(:func:`~antifraud.findings.words.main_reason`), empty for the others.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from antifraud.findings.model import Findings
from antifraud.io import write_csv, write_jsonl

__all__ = ["describe_rings", "write_findings"]


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


def describe_rings(findings: Findings) -> list[dict]:
    """The ``rings.jsonl`` object of every ring, best first."""
    return [findings.ring_json(ring) for ring in findings.rings]


def write_findings(findings: Findings, out_dir: str | Path) -> dict[str, Path]:
    """Write the per-entity score files and ``rings.jsonl`` to ``out_dir``; return their paths
    (keys ``accounts``, ``merchants``, ``orders``, ``rings``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rings, scores = findings.rings, findings.scores
    ids = [r.ring_id for r in rings]
    paths = {name: out / f"{name}.csv" for name in ("accounts", "merchants", "orders")}
    accounts = pd.DataFrame({
        "account_id": findings.account_ids,
        "score": np.round(scores["accounts"].score, 6),
        "flagged": scores["accounts"].flagged.astype(np.int8),
        "ring_ids": _memberships(len(findings.account_ids), [r.accounts for r in rings], ids),
        "reason": findings.reasons["accounts"],
    })
    merchants = pd.DataFrame({
        "seller_id": findings.seller_ids,
        "seller_name": findings.seller_names,
        "score": np.round(scores["merchants"].score, 6),
        "flagged": scores["merchants"].flagged.astype(np.int8),
        "ring_ids": _memberships(len(findings.seller_ids), [r.merchants for r in rings], ids),
        "reason": findings.reasons["merchants"],
    })
    orders = pa.table({
        "order_id": findings.order_ids,
        "score": np.round(scores["orders"].score, 6),
        "flagged": scores["orders"].flagged.astype(np.int8),
    })
    write_csv(accounts, paths["accounts"])
    write_csv(merchants, paths["merchants"])
    write_csv(orders, paths["orders"])
    paths["rings"] = out / "rings.jsonl"
    write_jsonl(paths["rings"], describe_rings(findings))
    return paths
