"""numba kernels behind the features: per-group statistics over CSR-grouped arrays.

Every kernel takes a group pointer ``indptr`` (group ``g`` owns positions
``indptr[g]:indptr[g + 1]``) and flat value arrays, so that it runs unchanged on one partition
of the data or all of it. Each has a slow, obvious reference in the tests.
"""

from __future__ import annotations

import numba
import numpy as np

from antifraud.graphs.bipartite import _counting_order

__all__ = [
    "group_by",
    "max_in_window",
    "gap_quantile",
    "top_k_share",
    "group_mean",
    "group_quantile",
    "distinct_count",
    "scatter_max",
]


def group_by(keys: np.ndarray, n_groups: int, times: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Order positions by group (and by time within a group); return ``(indptr, order)``.

    Rows whose key is negative are left out.

    Examples
    --------
    >>> indptr, order = group_by(np.array([1, 0, 1, -1]), 2, times=np.array([5, 3, 1, 0]))
    >>> indptr.tolist(), order.tolist()
    ([0, 1, 3], [1, 2, 0])
    """
    keys = np.asarray(keys, dtype=np.int32)
    keep = np.flatnonzero(keys >= 0)
    if times is not None:
        keep = keep[np.argsort(np.asarray(times)[keep], kind="stable")]
    order = _counting_order(keys, n_groups, keep)
    indptr = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys[keep], minlength=n_groups), out=indptr[1:])
    return indptr, order


@numba.njit(cache=True, nogil=True)
def max_in_window(indptr, times, window):  # pragma: no cover - compiled
    """Most events of a group inside any window of ``window`` seconds (times sorted per group)."""
    n_groups = indptr.shape[0] - 1
    out = np.zeros(n_groups, dtype=np.int32)
    for g in range(n_groups):
        lo = indptr[g]
        best = 0
        for hi in range(indptr[g], indptr[g + 1]):
            while times[hi] - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        out[g] = best
    return out


@numba.njit(cache=True, nogil=True)
def gap_quantile(indptr, times, q):  # pragma: no cover - compiled
    """The ``q`` quantile (nearest rank, lower) of gaps between consecutive events of a group.

    NaN for groups with fewer than two events.
    """
    n_groups = indptr.shape[0] - 1
    out = np.full(n_groups, np.nan)
    for g in range(n_groups):
        start, end = indptr[g], indptr[g + 1]
        k = end - start - 1
        if k < 1:
            continue
        gaps = np.empty(k, dtype=np.float64)
        for i in range(k):
            gaps[i] = times[start + i + 1] - times[start + i]
        gaps.sort()
        out[g] = gaps[int(q * (k - 1))]
    return out


@numba.njit(cache=True, nogil=True)
def top_k_share(indptr, weights, k):  # pragma: no cover - compiled
    """Share of a group's total weight held by its ``k`` largest entries (0 for empty groups)."""
    n_groups = indptr.shape[0] - 1
    out = np.zeros(n_groups)
    for g in range(n_groups):
        start, end = indptr[g], indptr[g + 1]
        if end == start:
            continue
        w = weights[start:end].astype(np.float64).copy()
        total = w.sum()
        if total <= 0:
            continue
        w.sort()
        out[g] = w[max(0, w.shape[0] - k) :].sum() / total
    return out


@numba.njit(cache=True, nogil=True)
def group_mean(indptr, order, values):  # pragma: no cover - compiled
    """Mean of the non-NaN ``values[order]`` of each group (NaN when it has none)."""
    n_groups = indptr.shape[0] - 1
    out = np.full(n_groups, np.nan)
    for g in range(n_groups):
        total = 0.0
        n = 0
        for i in range(indptr[g], indptr[g + 1]):
            v = values[order[i]]
            if not np.isnan(v):
                total += v
                n += 1
        if n:
            out[g] = total / n
    return out


@numba.njit(cache=True, nogil=True)
def group_quantile(indptr, order, values, q):  # pragma: no cover - compiled
    """The ``q`` quantile (nearest rank, lower) of the non-NaN ``values[order]`` of each group."""
    n_groups = indptr.shape[0] - 1
    out = np.full(n_groups, np.nan)
    for g in range(n_groups):
        part = np.empty(indptr[g + 1] - indptr[g])
        n = 0
        for i in range(indptr[g], indptr[g + 1]):
            v = values[order[i]]
            if not np.isnan(v):
                part[n] = v
                n += 1
        if n:
            part = np.sort(part[:n])
            out[g] = part[int(q * (n - 1))]
    return out


@numba.njit(cache=True, nogil=True)
def distinct_count(indptr, order, values, n_values):  # pragma: no cover - compiled
    """Number of distinct non-negative ``values[order]`` in each group."""
    n_groups = indptr.shape[0] - 1
    out = np.zeros(n_groups, dtype=np.int32)
    stamp = np.full(n_values, -1, dtype=np.int64)
    for g in range(n_groups):
        for i in range(indptr[g], indptr[g + 1]):
            v = values[order[i]]
            if v >= 0 and stamp[v] != g:
                stamp[v] = g
                out[g] += 1
    return out


@numba.njit(cache=True, nogil=True)
def scatter_max(keys, values, n_keys):  # pragma: no cover - compiled
    """Largest non-NaN ``values[i]`` of each key ``keys[i]`` in ``0 .. n_keys - 1`` (NaN when none)."""
    out = np.full(n_keys, np.nan)
    for i in range(keys.shape[0]):
        v = values[i]
        k = keys[i]
        if not np.isnan(v) and (np.isnan(out[k]) or v > out[k]):
            out[k] = v
    return out
