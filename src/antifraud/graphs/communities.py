"""Louvain communities of the linked nodes of a sparse graph (scikit-network, on CSR)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["internal_links", "louvain_labels", "members_by_label", "quantile_by_label", "top_column_share", "top_columns"]


def louvain_labels(
    links: sp.csr_matrix, resolution: float = 1.0, random_state: int | np.random.RandomState | None = None
) -> np.ndarray:
    """Community of every node with at least one link; -1 for isolated nodes.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> links = sp.csr_matrix(np.kron(np.eye(2), np.ones((3, 3))) - np.eye(6))
    >>> links = sp.block_diag([links, sp.csr_matrix((1, 1))]).tocsr()
    >>> labels = louvain_labels(links, random_state=0)
    >>> len(set(labels[:3])), len(set(labels[3:6])), labels[6]
    (1, 1, np.int64(-1))
    """
    from sknetwork.clustering import Louvain

    out = np.full(links.shape[0], -1, dtype=np.int64)
    linked = np.flatnonzero(links.getnnz(axis=1) > 0)
    if linked.size:
        louvain = Louvain(resolution=resolution, random_state=random_state)
        out[linked] = louvain.fit_predict(links[linked][:, linked])
    return out


def members_by_label(labels: np.ndarray, min_size: int = 1) -> list[np.ndarray]:
    """Members (ascending) of every label >= 0 with at least ``min_size`` of them, in label order.

    One sort for all labels, so a partition into many small groups stays linear-ish.

    Examples
    --------
    >>> [m.tolist() for m in members_by_label(np.array([1, 0, 1, -1, 2, 1]), min_size=2)]
    [[0, 2, 5]]
    """
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    order = order[labels[order] >= 0]
    if order.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return [g for g in np.split(order, cuts) if len(g) >= min_size]


def internal_links(links: sp.spmatrix, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Total weight and number of stored entries of ``links`` inside each label's group.

    Both are indexed by label (labels must be >= -1; -1 is ignored); one pass over the entries.

    Examples
    --------
    >>> links = sp.csr_matrix(np.array([[0, 2, 1], [2, 0, 0], [1, 0, 0]]))
    >>> internal_links(links, np.array([0, 0, 1]))
    (array([4., 0.]), array([2, 0]))
    """
    coo = sp.coo_matrix(links)
    n = int(labels.max()) + 1 if labels.size else 0
    same = (labels[coo.row] == labels[coo.col]) & (labels[coo.row] >= 0)
    group = labels[coo.row[same]]
    return (np.bincount(group, weights=coo.data[same], minlength=n),
            np.bincount(group, minlength=n))


def top_columns(incidence: sp.spmatrix, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each label, its most common column (the shop most of a group's accounts ordered
    from; the first on a tie, -1 for a label without entries), how many of its members have
    an entry there, and in how many columns its members have entries. One pass over the entries.

    Examples
    --------
    >>> orders = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 1], [1, 0]]))
    >>> [a.tolist() for a in top_columns(orders, np.array([0, 0, 0, 1]))]
    [[0, 0], [2, 1], [2, 1]]
    """
    csr = sp.csr_matrix(incidence)
    csr.sum_duplicates()  # each (member, column) once
    coo = csr.tocoo()
    n, n_cols = (int(labels.max()) + 1 if labels.size else 0), csr.shape[1]
    grouped = labels[coo.row] >= 0
    keys, counts = np.unique(labels[coo.row[grouped]].astype(np.int64) * n_cols + coo.col[grouped],
                             return_counts=True)
    label, column = keys // n_cols, keys % n_cols
    # Per label, its columns by count (most first, then the lowest column): the first is the top.
    order = np.lexsort((column, -counts, label))
    first = order[np.flatnonzero(np.diff(label[order], prepend=-1))]
    top, best = np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64)
    top[label[first]], best[label[first]] = column[first], counts[first]
    return top, best, np.bincount(label, minlength=n)


def top_column_share(incidence: sp.spmatrix, labels: np.ndarray) -> np.ndarray:
    """For each label, the share of its members that have an entry in the group's most common
    column (:func:`top_columns`).

    Examples
    --------
    >>> orders = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 1], [1, 0]]))
    >>> top_column_share(orders, np.array([0, 0, 0, 1])).round(2).tolist()
    [0.67, 1.0]
    """
    _, best, _ = top_columns(incidence, labels)
    sizes = np.bincount(labels[labels >= 0], minlength=best.size)
    return np.where(sizes > 0, best / np.maximum(sizes, 1), 0.0)


def quantile_by_label(labels: np.ndarray, values: np.ndarray, q: float, n_labels: int) -> np.ndarray:
    """The ``q`` quantile of each label's non-NaN values, interpolated linearly as
    :func:`numpy.percentile` does; NaN for labels without values. Labels below 0 are ignored.

    Examples
    --------
    >>> quantile_by_label(np.array([0, 0, 0, 1, -1]), np.array([1.0, 3.0, 2.0, np.nan, 9.0]), 0.75, 2)
    array([2.5, nan])
    """
    keep = (labels >= 0) & ~np.isnan(values)
    lab, val = labels[keep], values[keep]
    order = np.lexsort((val, lab))
    lab, val = lab[order], val[order]
    counts = np.bincount(lab, minlength=n_labels)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out = np.full(n_labels, np.nan)
    has = counts > 0
    position = q * (counts[has] - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, counts[has] - 1)
    base = starts[has]
    out[has] = val[base + low] + (position - low) * (val[base + high] - val[base + low])
    return out
