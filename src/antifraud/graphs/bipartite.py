"""Bipartite graphs of a canonical order table: accounts x merchants, in CSR arrays.

One edge per (account, merchant) pair that has at least one order, carrying the number of
orders, their total amount and the first and last order time. Every order keeps the index of
its edge, so per-order and per-edge features can move between the two. Built with a two-pass
counting sort in numba (linear in orders); ``scipy.sparse`` and ``networkx`` views are derived
on demand for small or library work.

Examples
--------
>>> import numpy as np
>>> g = build_bipartite(np.array([1, 0, 1, 1]), np.array([0, 1, 0, 1]), 2, 2,
...                     times=np.array([30, 10, 20, 40]))
>>> g.indptr.tolist(), g.indices.tolist(), g.count.tolist(), g.first.tolist()
([0, 1, 3], [1, 0, 1], [1, 2, 1], [10, 20, 40])
>>> g.order_edge.tolist()
[1, 0, 1, 2]
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numba
import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from antifraud.graphs.codes import compact, encode

__all__ = ["BipartiteGraph", "build_bipartite", "order_graph", "time_expanded"]


@numba.njit(cache=True, nogil=True)
def _counting_order(keys, n_keys, perm):  # pragma: no cover - compiled
    """Stable counting sort of ``perm`` by ``keys[perm]``; returns the new permutation."""
    counts = np.zeros(n_keys + 1, dtype=np.int64)
    for p in perm:
        counts[keys[p] + 1] += 1
    for k in range(n_keys):
        counts[k + 1] += counts[k]
    out = np.empty_like(perm)
    for p in perm:
        k = keys[p]
        out[counts[k]] = p
        counts[k] += 1
    return out


@numba.njit(cache=True, nogil=True)
def _edges(rows, cols, times, amounts, perm, n_rows):  # pragma: no cover - compiled
    """Collapse orders sorted by (row, col) into CSR edges with their aggregates."""
    n = perm.shape[0]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    indices = np.empty(n, dtype=np.int32)
    count = np.zeros(n, dtype=np.int32)
    amount = np.zeros(n, dtype=np.float64)
    first = np.empty(n, dtype=np.int64)
    last = np.empty(n, dtype=np.int64)
    order_edge = np.full(rows.shape[0], -1, dtype=np.int64)
    e = -1
    prev_r, prev_c = -1, -1
    for p in perm:
        r, c, t = rows[p], cols[p], times[p]
        if r != prev_r or c != prev_c:
            e += 1
            indices[e] = c
            indptr[r + 1] += 1
            first[e] = t
            last[e] = t
            prev_r, prev_c = r, c
        count[e] += 1
        amount[e] += amounts[p]
        first[e] = min(first[e], t)
        last[e] = max(last[e], t)
        order_edge[p] = e
    for r in range(n_rows):
        indptr[r + 1] += indptr[r]
    m = e + 1
    return indptr, indices[:m], count[:m], amount[:m], first[:m], last[:m], order_edge


@dataclass(frozen=True)
class BipartiteGraph:
    """Accounts x merchants with one edge per pair that has orders.

    Attributes
    ----------
    n_rows, n_cols : int
        Number of accounts (rows) and merchants (columns).
    indptr : ndarray of int64, shape (n_rows + 1,)
    indices : ndarray of int32, shape (n_edges,)
        Column of each edge; ascending within a row.
    count : ndarray of int32
        Orders on each edge.
    amount : ndarray of float64
        Total amount of those orders (0 where unknown).
    first, last : ndarray of int64
        Earliest and latest order time on each edge (epoch seconds, UTC).
    order_edge : ndarray of int64, shape (n_orders,)
        The edge of every input order, -1 where its account or merchant is missing.
    row_labels, col_labels : ndarray of object or None
        The ids behind the codes, when built from a table.
    """

    n_rows: int
    n_cols: int
    indptr: np.ndarray
    indices: np.ndarray
    count: np.ndarray
    amount: np.ndarray
    first: np.ndarray
    last: np.ndarray
    order_edge: np.ndarray
    row_labels: np.ndarray | None = None
    col_labels: np.ndarray | None = None

    @property
    def n_edges(self) -> int:
        """Number of distinct (account, merchant) pairs."""
        return len(self.indices)

    @property
    def edge_rows(self) -> np.ndarray:
        """The row of every edge (int32)."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int32), np.diff(self.indptr))

    @property
    def order_rows(self) -> np.ndarray:
        """The row (account) of every input order (int32), -1 where it has no edge."""
        return self._per_order(self.edge_rows)

    @property
    def order_cols(self) -> np.ndarray:
        """The column (merchant) of every input order (int32), -1 where it has no edge."""
        return self._per_order(self.indices)

    def _per_order(self, per_edge: np.ndarray) -> np.ndarray:
        out = np.full(len(self.order_edge), -1, dtype=np.int32)
        ok = self.order_edge >= 0
        out[ok] = per_edge[self.order_edge[ok]]
        return out

    def to_scipy(self, weights: np.ndarray | None = None) -> sp.csr_matrix:
        """The graph as a ``scipy.sparse.csr_matrix`` with ``weights`` (default: order counts)."""
        data = self.count if weights is None else weights
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n_rows, self.n_cols))


def build_bipartite(
    rows: np.ndarray,
    cols: np.ndarray,
    n_rows: int,
    n_cols: int,
    *,
    times: np.ndarray | None = None,
    amounts: np.ndarray | None = None,
) -> BipartiteGraph:
    """Build the CSR graph of orders given as (row code, column code) pairs.

    Orders whose row or column code is negative (missing) get no edge.
    """
    rows = np.asarray(rows, dtype=np.int32)
    cols = np.asarray(cols, dtype=np.int32)
    n = len(rows)
    times = np.zeros(n, np.int64) if times is None else np.asarray(times, dtype=np.int64)
    amounts = np.zeros(n, np.float64) if amounts is None else np.nan_to_num(np.asarray(amounts, dtype=np.float64))
    keep = np.flatnonzero((rows >= 0) & (cols >= 0))
    perm = _counting_order(rows, n_rows, _counting_order(cols, n_cols, keep))
    indptr, indices, count, amount, first, last, order_edge = _edges(rows, cols, times, amounts, perm, n_rows)
    return BipartiteGraph(n_rows, n_cols, indptr, indices, count, amount, first, last, order_edge)


def order_graph(table: pa.Table, row: str = "buyer_id", col: str = "seller_id") -> BipartiteGraph:
    """Accounts x merchants graph of a canonical order table (see :mod:`antifraud.ingest`)."""
    r, c = encode(table.column(row)), encode(table.column(col))
    times = table.column("created_at").cast(pa.int64()).to_numpy(zero_copy_only=False)
    amounts = (
        table.column("amount").to_numpy(zero_copy_only=False) if "amount" in table.column_names else None
    )
    g = build_bipartite(r.codes, c.codes, r.n, c.n, times=times, amounts=amounts)
    return dataclasses.replace(g, row_labels=r.labels, col_labels=c.labels)


def time_expanded(
    rows: np.ndarray,
    cols: np.ndarray,
    times: np.ndarray,
    n_rows: int,
    *,
    period: float = 86400.0,
    min_rows: int = 1,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rows x (column, period) 0/1 matrix: which rows had an order at which column in which period.

    Periods are counted from the earliest time, ``period`` seconds each (a day by default), so a
    burst of orders at one shop on one day is a dense block while the same orders spread over
    months are not. Only (column, period) pairs with orders from at least ``min_rows`` rows
    become columns: a dense block of at least that many rows cannot gain from the others, whose
    every edge weighs less than a dense block's average, so leaving them out halves the work of
    peeling without changing its blocks in practice.

    Returns
    -------
    matrix : scipy.sparse.csr_matrix of shape (n_rows, n_pairs)
    column_of : ndarray of int64, shape (n_pairs,)
        The original column of each (column, period) column.

    Examples
    --------
    >>> m, col = time_expanded(np.array([0, 1, 1, 0]), np.array([0, 0, 0, 1]),
    ...                        np.array([0, 3600, 7200, 90000]), 2)
    >>> m.toarray().tolist(), col.tolist()
    ([[1.0, 1.0], [1.0, 0.0]], [0, 1])
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    times = np.asarray(times, dtype=np.int64)
    slot = (times - times.min()) // int(period) if len(times) else times
    n_slots = int(slot.max()) + 1 if len(slot) else 1
    pairs, column = compact(cols * n_slots + slot, (int(cols.max()) + 1 if len(cols) else 0) * n_slots)
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, column)), shape=(n_rows, len(pairs)))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    if min_rows > 1:
        keep = np.flatnonzero(np.bincount(matrix.indices, minlength=len(pairs)) >= min_rows)
        matrix, pairs = matrix[:, keep], pairs[keep]
    return matrix, pairs // n_slots
