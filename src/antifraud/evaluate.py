"""Scoring a detection run against ground truth.

Ground truth is the synthetic generator's ``truth/`` folder (:mod:`antifraud.synth`):
``accounts.csv`` / ``merchants.csv`` / ``orders.csv`` with ``is_fraud`` and ``rings.jsonl``.
For every entity kind the report gives ROC-AUC and average precision of the scores and
precision, recall and F1 of ``flagged``; for rings, the share of true rings that some found ring
matches with an account Jaccard of at least 0.5 (recall: overall, per kind, per difficulty, and
counts per kind and difficulty), the share of found rings that match a true ring (precision) and
the share of found true rings reported with their own kind.

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
from scipy import sparse
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from antifraud.kinds import RING_KINDS
from antifraud.synth.plan import Difficulty

__all__ = ["evaluate", "jaccard_matrix", "ring_matches", "score_entities", "score_rings"]

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


def jaccard_matrix(found: list[set], true: list[set]) -> np.ndarray:
    """Account Jaccard similarity of every true ring (rows) with every found ring (columns).

    Examples
    --------
    >>> jaccard_matrix([{1, 2, 3}, {7, 8}], [{1, 2, 3, 4}]).round(2).tolist()
    [[0.75, 0.0]]
    """
    members = [list(ring) for ring in (*true, *found)]
    codes, index = np.unique(np.array([a for m in members for a in m], dtype=object), return_inverse=True)
    sizes = np.array([len(m) for m in members], dtype=np.int64)
    incidence = sparse.csr_matrix(
        (np.ones(len(index)), (np.repeat(np.arange(len(members)), sizes), index)),
        shape=(len(members), len(codes)),
    )
    t, f = incidence[: len(true)], incidence[len(true) :]
    shared = (t @ f.T).toarray()
    union = sizes[: len(true), None] + sizes[None, len(true) :] - shared
    return np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)


def ring_matches(found: list[set], true: list[set], min_jaccard: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Which true rings some found ring matches, and which found rings match a true ring.

    Examples
    --------
    >>> true_hit, found_hit = ring_matches([{1, 2, 3}, {7, 8}], [{1, 2, 3, 4}, {5, 6}])
    >>> true_hit.tolist(), found_hit.tolist()
    ([True, False], [True, False])
    """
    match = jaccard_matrix(found, true) >= min_jaccard
    return match.any(axis=1), match.any(axis=0)


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _in_order(values: list[str], order: list[str]) -> list[str]:
    """The distinct ``values``, those in ``order`` first and in its order, then the rest sorted."""
    present = set(values)
    return [v for v in order if v in present] + sorted(present - set(order))


def score_rings(found: list[dict], true: list[dict], min_jaccard: float = 0.5) -> dict[str, Any]:
    """Ring recall overall, per kind, per difficulty and per kind and difficulty; precision; kinds.

    A true ring is found when some found ring's accounts have a Jaccard similarity of at least
    ``min_jaccard`` with its accounts; a found ring is correct when it matches some true ring.
    ``kind_agreement`` is the share of found true rings whose best-matching found ring reports
    the true ring's kind (found rings without a ``kind`` never agree).

    Parameters
    ----------
    found : list of dict
        Found rings, each with ``accounts`` and optionally ``kind`` (a run's ``rings.jsonl``).
    true : list of dict
        True rings, each with ``accounts``, ``kind`` and ``difficulty`` (synth's ``rings.jsonl``).
    min_jaccard : float
        Least account Jaccard similarity for a match.

    Examples
    --------
    >>> true = [{"accounts": ["a", "b"], "kind": "account_farm", "difficulty": "hard"},
    ...         {"accounts": ["c", "d"], "kind": "account_farm", "difficulty": "easy"}]
    >>> report = score_rings([{"accounts": ["a", "b", "x"], "kind": "account_farm"}], true)
    >>> report["by_difficulty"], report["kind_agreement"]
    ({'easy': {'rings': 1, 'recall': 0.0}, 'hard': {'rings': 1, 'recall': 1.0}}, 1.0)
    >>> report["by_kind_and_difficulty"]["account_farm"]["hard"]
    {'rings': 1, 'found': 1}
    """
    similarity = jaccard_matrix([set(r["accounts"]) for r in found], [set(r["accounts"]) for r in true])
    match = similarity >= min_jaccard
    true_hit, found_hit = match.any(axis=1), match.any(axis=0)
    kinds = np.array([r["kind"] for r in true], dtype=object)
    difficulties = np.array([r["difficulty"] for r in true], dtype=object)
    kind_order = _in_order(kinds.tolist(), list(RING_KINDS))
    difficulty_order = _in_order(difficulties.tolist(), [d.label for d in Difficulty])

    def recall(mask: np.ndarray) -> dict[str, Any]:
        return {"rings": int(mask.sum()), "recall": float(true_hit[mask].mean())}

    reported = np.array([r.get("kind") for r in found] + [None], dtype=object)
    best = similarity.argmax(axis=1) if found else np.zeros(len(true), dtype=np.int64)
    agrees = reported[best[true_hit]] == kinds[true_hit]
    return {
        "min_jaccard": min_jaccard,
        "recall": float(true_hit.mean()) if true_hit.size else float("nan"),
        "precision": float(found_hit.mean()) if found_hit.size else float("nan"),
        "found": len(found),
        "kind_agreement": float(agrees.mean()) if agrees.size else float("nan"),
        "by_kind": {kind: recall(kinds == kind) for kind in kind_order},
        "by_difficulty": {level: recall(difficulties == level) for level in difficulty_order},
        "by_kind_and_difficulty": {
            kind: {
                level: {"rings": int(cell.sum()), "found": int(true_hit[cell].sum())}
                for level in difficulty_order
                if (cell := (kinds == kind) & (difficulties == level)).any()
            }
            for kind in kind_order
        },
    }


def evaluate(run_dir: str | Path, truth_dir: str | Path, min_jaccard: float = 0.5) -> dict[str, Any]:
    """Evaluate the findings in ``run_dir`` against the truth in ``truth_dir``.

    Returns one entry per entity kind (:func:`score_entities`; merchants also count the
    ``victims_flagged``, the targets of negative attacks flagged as fraudulent) and ``rings``
    (:func:`score_rings`).
    """
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
    report["rings"] = score_rings(
        _read_jsonl(run_dir / "rings.jsonl"), _read_jsonl(truth_dir / "rings.jsonl"), min_jaccard
    )
    return report
