"""Shops that share buyers, against what the buyers' activity alone would give.

Under a configuration model in which every account spreads its ``d_u`` distinct shops at random
in proportion to the shops' sizes, shops with ``n_i`` and ``n_j`` buyers share on average
``n_i n_j sum_u d_u (d_u - 1) / (sum_u d_u)^2`` buyers. Accounts with more than
``max_account_shops`` shops touch everything and are left out of the counts and the model. A
brushing ring's shops share tens to hundreds of times more buyers than expected; shops with
related goods a few times more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import xlogy
from scipy.stats import poisson

from antifraud.graphs.products import upper_product

__all__ = ["SharedBuyers", "poisson_evidence", "shared_buyers"]


def poisson_evidence(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``-log10`` of the Poisson probability of at least ``observed`` events where ``expected`` are.

    Where that probability underflows even in log space (hundreds of events against an
    expectation near zero), the Chernoff bound ``mu - k + k log(k / mu)`` takes its place:
    finite, and never more than the true evidence.

    Examples
    --------
    >>> poisson_evidence(np.array([1, 3, 5000]), np.array([1.0, 1.0, 0.01])).round(2).tolist()
    [0.2, 1.1, 26323.38]
    """
    k = np.asarray(observed, dtype=np.float64)
    mu = np.maximum(np.asarray(expected, dtype=np.float64), np.finfo(float).tiny)
    tail = -poisson.logsf(k - 1, mu)
    with np.errstate(over="ignore"):  # the bound is used only where the tail underflows
        chernoff = mu - k + xlogy(k, k / mu)
    return np.where(np.isfinite(tail), tail, chernoff) / np.log(10.0)


@dataclass(frozen=True)
class SharedBuyers:
    """Shop pairs ``(i, j)``, ``i < j``, sharing buyers, with the model's expectation.

    Attributes
    ----------
    i, j : ndarray of int64
        The two shops of each pair.
    observed : ndarray of float64
        Buyers the pair shares.
    expected : ndarray of float64
        Buyers the configuration model expects it to share.
    n_tested : int
        Pairs that share at least one buyer (the number of tests made when each is tested).
    max_account_shops, min_shared : int
        The parameters the pairs were counted with.
    """

    i: np.ndarray
    j: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    n_tested: int
    max_account_shops: int
    min_shared: int

    def check(self, max_account_shops: int, min_shared: int) -> None:
        """Raise ``ValueError`` unless these pairs answer a query with these parameters."""
        if self.max_account_shops != max_account_shops or self.min_shared > min_shared:
            raise ValueError(
                f"shared buyers were counted with max_account_shops={self.max_account_shops}, "
                f"min_shared={self.min_shared}; this needs max_account_shops={max_account_shops}, "
                f"min_shared <= {min_shared}"
            )

    @property
    def lift(self) -> np.ndarray:
        """Observed over expected shared buyers."""
        return self.observed / np.maximum(self.expected, np.finfo(float).tiny)

    def log10_pvalue(self) -> np.ndarray:
        """``-log10`` of the Poisson probability of sharing at least the observed buyers
        (:func:`poisson_evidence`).

        Examples
        --------
        >>> pairs = SharedBuyers(np.array([0]), np.array([1]), np.array([5000.0]), np.array([0.01]), 1, 100, 2)
        >>> bool(np.isfinite(pairs.log10_pvalue()).all())
        True
        """
        return poisson_evidence(self.observed, self.expected)


def shared_buyers(X, *, max_account_shops: int = 100, min_shared: int = 2) -> SharedBuyers:
    """Every shop pair sharing at least ``min_shared`` buyers, with its expected count.

    Parameters
    ----------
    X : sparse matrix of shape (n_accounts, n_shops)
        Non-zero where the account ordered from the shop.
    max_account_shops : int
        Accounts with more distinct shops are left out.
    min_shared : int
        Pairs sharing fewer buyers are not returned (they are still counted in ``n_tested``).

    Examples
    --------
    >>> X = sp.csr_array(np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]]))
    >>> pairs = shared_buyers(X, min_shared=1)
    >>> pairs.i.tolist(), pairs.j.tolist(), pairs.observed.tolist(), pairs.n_tested
    ([0, 1], [1, 2], [2.0, 1.0], 2)
    >>> pairs.expected.round(3).tolist()  # sizes 2 x 3 and 3 x 2, 6 ordered stub pairs, 7 stubs
    [0.735, 0.735]
    """
    B = sp.csr_array(X, dtype=np.float64, copy=True)
    B.sum_duplicates()
    B.eliminate_zeros()
    B.data[:] = 1.0
    degree = np.diff(B.indptr)
    counted = degree <= max_account_shops
    B = B[np.flatnonzero(counted)]
    sizes = np.bincount(B.indices, minlength=B.shape[1]).astype(np.float64)
    stubs = float(degree[counted].sum())
    second = float((degree[counted] * (degree[counted] - 1.0)).sum())
    i, j, observed, n_tested = upper_product(B.T, B, min_shared)
    expected = sizes[i] * sizes[j] * second / stubs**2 if stubs else np.zeros(len(i))
    return SharedBuyers(i, j, observed, expected, n_tested, max_account_shops, min_shared)
