"""The upper triangle of a sparse product, counted by a numba kernel without forming the rest.

Shop x shop statistics (buyers two shops share, linked buyer pairs between them) are products
``S @ R`` of a shops x accounts matrix and an accounts x shops one, symmetric or read as such:
only the pairs ``i < j`` are wanted, and mostly only those above a threshold. Forming the whole
product and keeping its upper triangle does twice the work and holds every entry at once.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

__all__ = ["upper_product"]


@numba.njit(cache=True, nogil=True)
def _upper_product(
    s_ptr, s_indices, r_ptr, r_indices, r_data, min_observed, out_i, out_j, out_m
):  # pragma: no cover - compiled
    """``S R`` above the diagonal, one row of ``S`` at a time with a dense accumulator. Returns
    the number of non-zero entries and of those at least ``min_observed``, and writes the
    latter into ``out_*`` when they are not empty."""
    n_rows = s_ptr.shape[0] - 1
    n_cols = 0
    for q in range(r_indices.shape[0]):
        n_cols = max(n_cols, r_indices[q] + 1)
    total = np.zeros(n_cols)
    touched = np.empty(n_cols, dtype=np.int64)
    write = out_i.shape[0] > 0
    n_nonzero, n_kept = 0, 0
    for a in range(n_rows):
        n_touched = 0
        for p in range(s_ptr[a], s_ptr[a + 1]):
            u = s_indices[p]
            for q in range(r_ptr[u], r_ptr[u + 1]):
                b = r_indices[q]
                if b > a:
                    if total[b] == 0.0:
                        touched[n_touched] = b
                        n_touched += 1
                    total[b] += r_data[q]
        n_nonzero += n_touched
        for t in range(n_touched):
            b = touched[t]
            if total[b] >= min_observed:
                if write:
                    out_i[n_kept], out_j[n_kept], out_m[n_kept] = a, b, total[b]
                n_kept += 1
            total[b] = 0.0
    return n_nonzero, n_kept


def upper_product(
    S: sp.spmatrix | sp.sparray, R: sp.spmatrix | sp.sparray, min_observed: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The entries ``(i, j)``, ``i < j``, of ``S @ R`` that are at least ``min_observed``.

    ``S`` is read as 0/1 (which of its entries are stored) and ``R``'s entries must be positive
    (counts or weights), so that an entry is non-zero exactly when some path reaches it.

    Returns
    -------
    i, j : ndarray of int64
        The entries' rows and columns, in ascending order of ``(i, j)``.
    values : ndarray of float64
    n_nonzero : int
        Non-zero entries above the diagonal, kept or not.

    Examples
    --------
    >>> B = sp.csr_array(np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1]]))  # accounts x shops
    >>> i, j, shared, n = upper_product(B.T, B, min_observed=2)
    >>> i.tolist(), j.tolist(), shared.tolist(), n
    ([0], [1], [2.0], 2)
    """
    S, R = sp.csr_array(S), sp.csr_array(R, dtype=np.float64)
    args = (S.indptr, S.indices, R.indptr, R.indices, R.data, float(min_observed))
    n_nonzero, n_kept = _upper_product(*args, *(np.zeros(0, dtype) for dtype in (np.int64, np.int64, np.float64)))
    i, j, values = np.empty(n_kept, np.int64), np.empty(n_kept, np.int64), np.empty(n_kept)
    _upper_product(*args, i, j, values)
    order = np.lexsort((j, i))
    return i[order], j[order], values[order], int(n_nonzero)
