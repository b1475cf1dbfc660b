"""How long a prefix two shops share in an attribute (credit code, name), and how rare that is.

Shops run by one operator carry its traces: credit codes registered together share the
registering authority, region and the start of the organisation code (``uscc.md``), and shop
names share the operator's brand stem. Whether a shared prefix means anything depends on the
population: nearly every shop's code starts with ``91`` or ``92``, shops of one industrial park
share a region (8 characters), while two shops sharing 14 characters are almost always one
operator's. So a prefix is judged by the share of all shop pairs that share at least as long a
one (:func:`prefix_pair_counts`), measured on the export itself.

Examples
--------
>>> codes = np.array(["9133A1", "9133A2", "9133B1", "9144C1", None], dtype=object)
>>> common_prefix_lengths(codes, np.array([0, 0, 0]), np.array([1, 2, 3]), width=6).tolist()
[5, 4, 2]
>>> prefix_pair_counts(codes, width=6).tolist()  # 4 codes, 6 pairs
[6, 6, 6, 3, 3, 1, 0]
"""

from __future__ import annotations

import numpy as np

__all__ = ["common_prefix_lengths", "prefix_pair_counts"]


def _codepoints(values: np.ndarray, width: int) -> np.ndarray:
    """``(n, width)`` Unicode code points of the first ``width`` characters, 0 past the end
    (and for missing values)."""
    text = np.where(np.equal(values, None), "", values).astype(f"<U{width}")  # truncates
    return text.view(np.uint32).reshape(len(values), width)


def _lengths(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Common prefix length of every row pair of two code-point matrices."""
    same = (left == right) & (left != 0)
    return np.where(same.all(axis=1), same.shape[1], same.argmin(axis=1))


def common_prefix_lengths(values: np.ndarray, i: np.ndarray, j: np.ndarray, *, width: int) -> np.ndarray:
    """Number of leading characters (at most ``width``) that ``values[i]`` and ``values[j]`` share.

    Parameters
    ----------
    values : ndarray of object (str or None), shape (n,)
        One attribute of every shop; a missing value shares nothing.
    i, j : ndarray of int
        The shop pairs.
    width : int
        Characters compared.

    Returns
    -------
    ndarray of int64
    """
    points = _codepoints(values, width)
    return _lengths(points[i], points[j]).astype(np.int64)


def prefix_pair_counts(values: np.ndarray, *, width: int) -> np.ndarray:
    """For every length ``l`` in ``0 .. width``, the number of pairs of (non-missing) values that
    share at least ``l`` leading characters.

    Values are sorted, so values sharing a prefix are neighbours; the prefixes of length ``l``
    are the runs of neighbours that share ``l`` characters, and each run of ``r`` values holds
    ``r (r - 1) / 2`` pairs. One sort and ``width`` linear passes.

    Returns
    -------
    ndarray of int64, shape (width + 1,)
        Non-increasing, ``n (n - 1) / 2`` at length 0 for ``n`` values.
    """
    points = _codepoints(values, width)
    points = points[points[:, 0] != 0]
    n = len(points)
    counts = np.zeros(width + 1, dtype=np.int64)
    if n < 2:
        return counts
    points = points[np.lexsort(points.T[::-1])]
    neighbours = _lengths(points[:-1], points[1:])
    for length in range(width + 1):
        runs = np.diff(np.concatenate(([0], np.flatnonzero(neighbours < length) + 1, [n])))
        counts[length] = (runs * (runs - 1)).sum() // 2
    return counts
