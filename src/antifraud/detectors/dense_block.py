"""Dense blocks of accounts x merchants: FRAUDAR-style greedy peeling (Hooi et al., KDD 2016).

A brushing ring shows up as a group of accounts ordering from the same group of shops: a dense
block of the accounts x merchants matrix. FRAUDAR scores a subset ``S`` of rows and columns by
``g(S) = f(S) / |S|``, with ``f(S)`` the total weight of the edges inside ``S``; an edge weighs
``c_ij / log(log_offset + d_j)``, where ``d_j`` is the column's total, so edges to popular shops
(the camouflage rings add to look normal) count little. Greedy peeling (see
:mod:`antifraud.detectors._peeling`) finds a subset whose ``g`` is within a factor 2 of the best.

Fitted on a :class:`~antifraud.features.data.DetectionData`, the detector peels accounts x
(merchant, day) (:func:`antifraud.graphs.time_expanded`): a ring's burst is dense there, a loyal
regular's habit spread over months is not. Any other non-negative matrix can be peeled directly;
its columns then stand for the merchants.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array

from antifraud.detectors._peeling import edge_weights, peel
from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.features.data import DetectionData
from antifraud.graphs.bipartite import time_expanded

__all__ = ["DenseBlock", "DenseBlockDetector"]


@dataclass(frozen=True, eq=False)
class DenseBlock:
    """One block found by :class:`DenseBlockDetector`.

    Attributes
    ----------
    rows, cols : ndarray of int64
        Row (account) and column (merchant) indices of the block, ascending.
    score : float
        Its suspiciousness ``g = f / (len(rows) + len(cols))``, from the edges it was found on.
    density : float
        Total value of those edges (orders, for a count matrix) over ``len(rows) * len(cols)``:
        the share of filled cells for a 0/1 matrix.
    """

    rows: np.ndarray
    cols: np.ndarray
    score: float
    density: float


class DenseBlockDetector(Detector):
    """Find the densest blocks of a non-negative accounts x merchants matrix (FRAUDAR).

    Each block is found by greedy peeling of the whole graph; its edges are then removed, the
    column weights recomputed on what is left (as in the authors' code) and the next block
    found. The algorithm is deterministic: ties are broken by the smallest index, rows first.

    Parameters
    ----------
    n_blocks : int, default=3
        Most blocks to find. Fewer are returned when no edges are left.
    column_weighting : {"log", None}, default="log"
        ``"log"`` weighs an edge of column ``j`` by ``1 / log(log_offset + d_j)``, ``d_j`` the
        column's total; ``None`` scores plain density (total value over number of nodes).
    log_offset : float, default=5.0
        ``x`` in ``1 / log(x + d_j)``; must be > 1. The paper uses 5.
    min_rows, min_cols : int, default=2 and 1
        Smallest block, in rows and in columns.
    period : float, default=86400.0
        Seconds per time slot of the accounts x (merchant, slot) matrix peeled for a
        ``DetectionData``.
    random_state : None, int or RandomState, default=None
        Accepted for uniformity with other detectors and unused: the result does not depend
        on it.

    Attributes
    ----------
    blocks_ : list of DenseBlock
        Blocks in the order found, which is usually by decreasing score.
    groups_ : list of AccountGroup
        The blocks' accounts and merchants, kind ``"dense"``, scored by the block's ``density``
        (in [0, 1] for a 0/1 matrix, which a ``DetectionData`` gives), best first;
        ``details["peeling_score"]`` is its ``score``.
    labels_ : ndarray of int64, shape (n_accounts,)
        Index of the best group each account is in, -1 for none.
    account_scores_ : ndarray of float64, shape (n_accounts,)
        Score of that group, 0 for none.
    merchant_scores_ : ndarray of float64, shape (n_merchants,)
        The best score of a group tied to each merchant, 0 for none.
    n_features_in_ : int
        Number of columns peeled.

    Examples
    --------
    >>> X = np.zeros((6, 5))
    >>> X[:3, :2] = 1  # three accounts ordering from the same two shops
    >>> X[3, 2] = X[4, 3] = X[5, 4] = 1
    >>> detector = DenseBlockDetector(n_blocks=1).fit(X)
    >>> block = detector.blocks_[0]
    >>> block.rows.tolist(), block.cols.tolist(), block.density
    ([0, 1, 2], [0, 1], 1.0)
    >>> round(block.score, 3)  # 6 edges of weight 1 / log(5 + 3), 5 nodes
    0.577
    >>> detector.account_scores_.tolist(), detector.merchant_scores_.tolist()
    ([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0, 0.0])
    """

    cost: ClassVar[float] = 7

    _parameter_constraints = {
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "column_weighting": [StrOptions({"log"}), None],
        # 1 / log(log_offset + d_j) must be finite and positive for any column total d_j > 0.
        "log_offset": [Interval(Real, 1, None, closed="neither")],
        "min_rows": [Interval(Integral, 1, None, closed="left")],
        "min_cols": [Interval(Integral, 1, None, closed="left")],
        # Time slots are whole seconds (time_expanded divides by int(period)).
        "period": [Interval(Real, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        n_blocks: int = 3,
        column_weighting: str | None = "log",
        log_offset: float = 5.0,
        min_rows: int = 2,
        min_cols: int = 1,
        period: float = 86400.0,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.n_blocks = n_blocks
        self.column_weighting = column_weighting
        self.log_offset = log_offset
        self.min_rows = min_rows
        self.min_cols = min_cols
        self.period = period
        self.random_state = random_state

    def _fit(self, X: DetectionData | np.ndarray | sp.spmatrix | sp.sparray) -> None:
        """Find up to ``n_blocks`` dense blocks of ``X``.

        Parameters
        ----------
        X : DetectionData, sparse matrix or array-like of shape (n_rows, n_cols)
            An export, peeled as accounts x (merchant, ``period``); or non-negative counts or
            weights, rows accounts and columns merchants (or any other columns).
        """
        if isinstance(X, DetectionData):
            matrix, merchant_of = time_expanded(
                X.order_rows, X.order_cols, X.times, X.graph.n_rows, period=self.period, min_rows=self.min_rows
            )
            n_merchants = X.graph.n_cols
        else:
            matrix = check_array(X, accept_sparse="csr", dtype=np.float64)
            merchant_of = np.arange(matrix.shape[1], dtype=np.int64)
            n_merchants = matrix.shape[1]
        X = _canonical(matrix)
        self.n_features_in_ = X.shape[1]
        self.blocks_ = []
        for _ in range(self.n_blocks):
            block = self._next_block(X)
            if block is None:
                break
            self.blocks_.append(block)
            X = _without_block(X, block)
        groups = [AccountGroup(b.rows, b.density, "dense", np.unique(merchant_of[b.cols]),
                               details={"peeling_score": b.score}) for b in self.blocks_]
        self.groups_, self.labels_, self.account_scores_ = rank_groups(groups, X.shape[0])
        self.merchant_scores_ = np.zeros(n_merchants)
        for group in self.groups_:
            self.merchant_scores_[group.merchants] = np.maximum(self.merchant_scores_[group.merchants], group.score)

    def _next_block(self, X: sp.csr_array) -> DenseBlock | None:
        """The best block of ``X`` by greedy peeling, or None when it has no edges left."""
        W = edge_weights(X, self.column_weighting, self.log_offset)
        result = peel(W, min_rows=self.min_rows, min_cols=self.min_cols)
        if result.best < 0 or result.score <= 0:
            return None
        rows, cols = result.block()
        weight = W[rows][:, cols].sum()
        mass = X[rows][:, cols].sum()
        return DenseBlock(rows, cols, float(weight / (len(rows) + len(cols))), float(mass / (len(rows) * len(cols))))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        return tags


def _canonical(X: np.ndarray | sp.spmatrix | sp.sparray) -> sp.csr_array:
    """A float64 CSR copy of ``X`` without duplicates or stored zeros; rejects negative values."""
    X = sp.csr_array(X, dtype=np.float64, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    negative = X.data < 0
    if negative.any():
        raise ValueError(
            f"Negative values in data passed to DenseBlockDetector: {int(negative.sum()):,} entries, "
            f"the smallest {X.data.min():g}; X must hold non-negative counts or weights"
        )
    return X


def _without_block(X: sp.csr_array, block: DenseBlock) -> sp.csr_array:
    """``X`` without the edges inside ``block``."""
    in_rows = np.zeros(X.shape[0], dtype=bool)
    in_rows[block.rows] = True
    in_cols = np.zeros(X.shape[1], dtype=bool)
    in_cols[block.cols] = True
    edge_rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    X = X.copy()
    X.data[in_rows[edge_rows] & in_cols[X.indices]] = 0
    X.eliminate_zeros()
    return X
