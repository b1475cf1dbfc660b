"""Scoring a detection run against ground truth.

Ground truth is the synthetic generator's ``truth/`` folder (:mod:`antifraud.synth`):
``accounts.csv`` / ``merchants.csv`` / ``orders.csv`` with ``is_fraud`` and ``rings.jsonl``.
For every entity kind the report gives ROC-AUC and average precision of the scores and
precision, recall and F1 of ``flagged``; for rings, per ring kind, the share of true rings that
some found ring matches with an account Jaccard of at least 0.5 (recall), and the share of found
rings that match a true ring (precision).

Examples
--------
>>> report = evaluate("run", "synth/truth")  # doctest: +SKIP
>>> report["accounts"]["average_precision"]  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

__all__ = ["evaluate", "score_entities", "ring_matches"]

_KEYS = {"accounts": "account_id", "merchants": "seller_id", "orders": "order_id"}


def score_entities(scores: pd.Series, flagged: pd.Series, truth: pd.Series) -> dict[str, float]:
    """ROC-AUC, average precision, and precision / recall / F1 of ``flagged`` against ``truth``.

    Examples
    --------
    >>> s = pd.Series([0.9, 0.8, 0.1, 0.2]); t = pd.Series([1, 1, 0, 0])
    >>> score_entities(s, (s > 0.5).astype(int), t)["roc_auc"]
    1.0
    """
    y = truth.to_numpy().astype(int)
    out = {"n": int(len(y)), "positives": int(y.sum())}
    if 0 < y.sum() < len(y):
        out["roc_auc"] = float(roc_auc_score(y, scores))
        out["average_precision"] = float(average_precision_score(y, scores))
    f = flagged.to_numpy().astype(int)
    out["precision"] = float(precision_score(y, f, zero_division=0))
    out["recall"] = float(recall_score(y, f, zero_division=0))
    out["f1"] = float(f1_score(y, f, zero_division=0))
    return out


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def ring_matches(found: list[set], true: list[set], min_jaccard: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Which true rings some found ring matches, and which found rings match a true ring."""
    true_hit = np.array([any(_jaccard(t, f) >= min_jaccard for f in found) for t in true], dtype=bool)
    found_hit = np.array([any(_jaccard(t, f) >= min_jaccard for t in true) for f in found], dtype=bool)
    return true_hit, found_hit


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(run_dir: str | Path, truth_dir: str | Path, min_jaccard: float = 0.5) -> dict[str, Any]:
    """Evaluate the findings in ``run_dir`` against the truth in ``truth_dir``."""
    run_dir, truth_dir = Path(run_dir), Path(truth_dir)
    report: dict[str, Any] = {}
    for kind, key in _KEYS.items():
        found = pd.read_csv(run_dir / f"{kind}.csv", dtype={key: str}, keep_default_na=False)
        truth = pd.read_csv(truth_dir / f"{kind}.csv", dtype={key: str}, keep_default_na=False)
        both = found.merge(truth[[key, "is_fraud"]], on=key, how="inner")
        report[kind] = score_entities(both["score"], both["flagged"], both["is_fraud"])
        if kind == "merchants" and "role" in truth:
            victims = set(truth.loc[truth["role"] == "victim", key])
            report[kind]["victims_flagged"] = int(found.loc[found[key].isin(victims), "flagged"].sum())
    true_rings = _read_jsonl(truth_dir / "rings.jsonl")
    found_rings = [set(r["accounts"]) for r in _read_jsonl(run_dir / "rings.jsonl")]
    true_hit, found_hit = ring_matches(found_rings, [set(r["accounts"]) for r in true_rings], min_jaccard)
    per_kind = {}
    for kind in sorted({r["kind"] for r in true_rings}):
        mask = np.array([r["kind"] == kind for r in true_rings])
        per_kind[kind] = {"rings": int(mask.sum()), "recall": float(true_hit[mask].mean())}
    report["rings"] = {
        "min_jaccard": min_jaccard,
        "recall": float(true_hit.mean()) if true_hit.size else float("nan"),
        "precision": float(found_hit.mean()) if found_hit.size else float("nan"),
        "found": len(found_rings),
        "by_kind": per_kind,
    }
    return report
