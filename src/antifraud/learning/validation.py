"""Honest cross-validation: the entities of one operation never on both sides of a split.

Accounts of one ring share identities and shops; a model that trains on some of them and is
tested on the others is tested on what it has seen. :func:`operation_groups` puts together the
accounts linked by a small shared identity (a device, an address), by a ring the ensemble
reports, or by a case group the labels give, and the merchants those rings target;
:func:`grouped_scores` scores every entity with a model that did not see its group.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.base import clone
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from antifraud.detectors.ensemble import BrushingEnsemble
from antifraud.features.data import DetectionData
from antifraud.learning.pu import take_rows

__all__ = ["grouped_folds", "grouped_scores", "operation_groups", "ranking_figures"]


def operation_groups(data: DetectionData, ensemble: BrushingEnsemble, case_groups: dict[str, np.ndarray],
                     max_identity_group: int = 10) -> dict[str, np.ndarray]:
    """Group codes of the accounts and merchants of ``data``: entities joined by a shared
    identity value of at most ``max_identity_group`` accounts (bigger ones are carrier gateways
    and parcel stations, which join strangers), by a reported ring (its accounts and target
    merchants) or by a case group of ``case_groups`` (per kind, a string per entity, empty for
    none) share a code. An order is in its buyer's operation, and an order's case group joins
    its buyer to the case.

    Returns
    -------
    dict
        ``"accounts"``, ``"merchants"`` and ``"orders"``: int64 codes, one per entity.
    """
    n_a, n_m = data.graph.n_rows, data.graph.n_cols
    # A graph of entities (accounts, then merchants) and joining sets: an edge per membership.
    nodes, sets = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    n_sets = 0
    if data.identity is not None:
        sizes = np.diff(data.identity.indptr)
        group = np.repeat(np.arange(len(sizes)), sizes)
        small = sizes[group] <= max_identity_group
        nodes.append(data.identity.members[small].astype(np.int64))
        sets.append(group[small])
        n_sets = len(sizes)
    for ring in ensemble.rings_:
        nodes.append(np.concatenate([ring.accounts, n_a + ring.merchants]).astype(np.int64))
        sets.append(np.full(len(nodes[-1]), n_sets))
        n_sets += 1
    nodes_of = {"accounts": np.arange(n_a), "merchants": n_a + np.arange(n_m), "orders": data.order_rows}
    for kind, entity_nodes in nodes_of.items():
        groups = np.asarray(case_groups.get(kind, np.zeros(0)), dtype=object).astype(str)
        named = np.flatnonzero(groups != "")
        if named.size:
            names, code = np.unique(groups[named], return_inverse=True)
            nodes.append(entity_nodes[named].astype(np.int64))
            sets.append(n_sets + code)
            n_sets += len(names)
    n_nodes = n_a + n_m + n_sets
    rows, cols = np.concatenate(nodes), n_a + n_m + np.concatenate(sets)
    adjacency = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_nodes, n_nodes))
    _, code = connected_components(adjacency, directed=False)
    accounts = code[:n_a].astype(np.int64)
    return {"accounts": accounts, "merchants": code[n_a:n_a + n_m].astype(np.int64),
            "orders": accounts[data.order_rows]}


def grouped_folds(y: np.ndarray, groups: np.ndarray, n_splits: int = 5,
                  random_state: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train and test rows of a cross-validation by ``groups``
    (:class:`~sklearn.model_selection.StratifiedGroupKFold` on the confirmed fraud, ``y == 1``;
    fewer folds than ``n_splits`` where the fraud falls in fewer groups), or none (an empty
    list) where a training side would keep fewer than two confirmed fraud to learn from.

    Examples
    --------
    >>> y = np.array([1, 1, 1, 1, 1, -1, -1, -1])
    >>> len(grouped_folds(y, np.array([0, 0, 1, 1, 2, 3, 4, 5])))
    3
    >>> grouped_folds(y, np.array([0, 0, 0, 0, 1, 3, 4, 5]))  # one case is all the fraud but one
    []
    """
    fraud = np.asarray(y) == 1
    cases = len(np.unique(groups[fraud]))
    if cases < 2:
        return []
    folds = StratifiedGroupKFold(n_splits=min(n_splits, cases), shuffle=True, random_state=random_state)
    splits = list(folds.split(np.zeros(len(fraud)), fraud.astype(int), groups))
    return splits if all(fraud[train].sum() >= 2 for train, _ in splits) else []


def grouped_scores(model: Any, X: Any, y: np.ndarray, groups: np.ndarray, n_splits: int = 5,
                   random_state: int | None = None, *, splits: list[tuple[np.ndarray, np.ndarray]] | None = None,
                   **row_params: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Out-of-fold probabilities of fraud for every row, from clones of ``model`` fitted on
    the other folds (:func:`grouped_folds`, or ``splits`` it already gave: splitting many
    groups takes seconds), each row's fold, and the fitted clones (the ``k``-th scored fold ``k``).

    ``model.fit(X, y, groups=..., **row_params)`` gets the labels as they are (1, 0, -1), and
    the training rows of ``groups`` and of every array of ``row_params``.

    Raises
    ------
    ValueError
        Where no split by ``groups`` leaves two confirmed fraud on every training side.
    """
    y = np.asarray(y)
    splits = grouped_folds(y, groups, n_splits, random_state) if splits is None else splits
    if not splits:
        raise ValueError(f"{int((y == 1).sum())} confirmed fraud in {len(np.unique(groups[y == 1]))} case group(s): "
                         "cross-validation needs two confirmed fraud left on the training side of every fold")
    scores = np.full(len(y), np.nan)
    fold = np.full(len(y), -1, dtype=np.int64)
    fitted = []
    for k, (train, test) in enumerate(splits):
        fitted.append(clone(model).fit(take_rows(X, train), y[train], groups=groups[train],
                                       **{name: values[train] for name, values in row_params.items()}))
        scores[test] = fitted[k].predict_proba(take_rows(X, test))[:, 1]
        fold[test] = k
    return scores, fold, fitted


def ranking_figures(scores: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """ROC-AUC and average precision of ``scores`` against ``truth`` (1 fraud, 0 honest),
    NaN where ``truth`` has one class only.

    Examples
    --------
    >>> ranking_figures(np.array([0.9, 0.2, 0.4]), np.array([1, 0, 0]))
    {'auc': 1.0, 'ap': 1.0, 'n': 3, 'fraud': 1}
    """
    truth = np.asarray(truth)
    both = 0 < truth.sum() < len(truth)
    return {"auc": float(roc_auc_score(truth, scores)) if both else float("nan"),
            "ap": float(average_precision_score(truth, scores)) if both else float("nan"),
            "n": int(len(truth)), "fraud": int(truth.sum())}
