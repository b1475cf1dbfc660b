"""Shop pairs whose buyers are identity-linked to each other, against what chance would give.

Two *different* accounts are linked when they share a rare identity value (a device, IP,
phone or address of few accounts; :func:`antifraud.graphs.identity_links`). For shops ``A`` and
``B`` the statistic is the number of ordered linked pairs ``(u, v)`` with ``u`` a buyer of ``A``
and ``v`` a buyer of ``B``: ``M = B^T L B`` for the accounts x shops incidence ``B`` and the 0/1
link matrix ``L``. One person's accounts buying from several shops of one operator (互刷) make
it large; so do one account's many orders, which is why an account counts once per shop and a
pair of accounts counts once (in each direction) whatever it bought.

Null model: every account spreads its ``d_u`` distinct shops at random in proportion to the
shops' sizes ``n_A`` (a configuration model, as for :mod:`antifraud.graphs.co_purchase`), with
its links kept. Then ``u`` buys at ``A`` with probability ``d_u n_A / S`` (``S = sum_u d_u``),
independently of ``v``, and

    E[M_AB] = n_A n_B (d^T L d) / S^2,

where ``d^T L d`` is the population's rate of linked pairs weighted by activity. ``M`` is
tested as Poisson with that mean. Accounts with more than ``max_account_shops`` shops touch
everything and are left out of the counts and the model.

Examples
--------
Accounts 0 and 1 are linked; 0 bought at shop 0, 1 at shops 1 and 2; account 2 at shop 0:

>>> import scipy.sparse as sp
>>> links = sp.csr_array(np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]]))
>>> X = sp.csr_array(np.array([[1, 0, 0], [0, 1, 1], [1, 0, 0]]))
>>> pairs = linked_buyers(links, X, min_weight=0.5)
>>> pairs.i.tolist(), pairs.j.tolist(), pairs.observed.tolist(), pairs.n_tested
([0, 0], [1, 2], [1.0, 1.0], 2)
>>> pairs.expected.tolist()  # sizes 2 x 1, d^T L d = 1 * 2 + 2 * 1, S = 4
[0.5, 0.5]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["LinkedBuyers", "linked_buyers"]


@dataclass(frozen=True)
class LinkedBuyers:
    """Shop pairs ``(i, j)``, ``i < j``, with their linked buyer pairs and the model's expectation.

    Attributes
    ----------
    i, j : ndarray of int64
        The two shops of each pair.
    observed : ndarray of float64
        Ordered linked pairs (buyer of ``i``, buyer of ``j``), ``M_ij``.
    expected : ndarray of float64
        ``E[M_ij]`` under the configuration model.
    n_tested : int
        Pairs with at least one linked pair (the number of tests when each is tested).
    link : scipy.sparse.csr_array
        The 0/1 links counted (accounts x accounts, symmetric, left-out accounts removed).
    incidence : scipy.sparse.csr_array
        The 0/1 accounts x shops orders counted.
    """

    i: np.ndarray
    j: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    n_tested: int
    link: sp.csr_array
    incidence: sp.csr_array


def linked_buyers(
    links: sp.spmatrix | sp.sparray,
    X: sp.spmatrix | sp.sparray,
    *,
    min_weight: float,
    max_account_shops: int = 100,
    min_observed: int = 1,
) -> LinkedBuyers:
    """Every shop pair with at least ``min_observed`` linked buyer pairs, with its expectation.

    Parameters
    ----------
    links : sparse matrix of shape (n_accounts, n_accounts)
        Symmetric link weights (:func:`antifraud.graphs.identity_links`).
    X : sparse matrix of shape (n_accounts, n_shops)
        Non-zero where the account ordered from the shop.
    min_weight : float
        Accounts whose link weight is at least this are linked.
    max_account_shops : int
        Accounts with more distinct shops are left out.
    min_observed : int
        Pairs with fewer linked pairs are not returned (they still count in ``n_tested``).
    """
    B = sp.csr_array(X, dtype=np.float64, copy=True)
    B.sum_duplicates()
    B.eliminate_zeros()
    B.data[:] = 1.0
    degree = np.diff(B.indptr).astype(np.float64)
    counted = sp.diags_array((degree <= max_account_shops).astype(np.float64))
    B = sp.csr_array(counted @ B)
    degree = counted @ degree
    L = sp.csr_array(links, dtype=np.float64, copy=True)
    L.data = (L.data >= min_weight).astype(np.float64)
    L = sp.csr_array(counted @ (sp.triu(L, k=1) + sp.tril(L, k=-1)) @ counted)  # an account is not its own pair
    L.eliminate_zeros()
    # Only linked accounts make pairs: the product runs on their rows alone.
    linked = np.flatnonzero(np.diff(L.indptr))
    BL = B[linked]
    M = sp.triu(BL.T @ (L[linked][:, linked] @ BL), k=1, format="coo")
    keep = M.data >= min_observed
    i, j = M.row[keep].astype(np.int64), M.col[keep].astype(np.int64)
    sizes = np.bincount(B.indices, minlength=B.shape[1]).astype(np.float64)
    stubs = degree.sum()
    rate = float(degree @ (L @ degree)) / stubs**2 if stubs else 0.0
    return LinkedBuyers(i, j, M.data[keep].astype(np.float64), sizes[i] * sizes[j] * rate, int(M.nnz), L, B)
