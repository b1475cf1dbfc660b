"""Shop pairs whose buyers are identity-linked to each other, against what chance would give.

Two *different* accounts are linked when they share a rare identity value (a device, IP,
phone or address of few accounts; :func:`antifraud.graphs.identity_links`). For shops ``A`` and
``B`` the statistic is the number of ordered linked pairs ``(u, v)`` with ``u`` a buyer of ``A``
and ``v`` a buyer of ``B``: ``M = B^T L B`` for the accounts x shops incidence ``B`` and the 0/1
link matrix ``L``. One person's accounts buying from several shops of one operator (互刷) make
it large. An account counts once per shop however many orders it placed there, and an
account is never its own pair (buyers shared by two shops are :mod:`antifraud.graphs.co_purchase`'s).

Null model: every account spreads its ``d_u`` distinct shops at random in proportion to the
shops' sizes ``n_A`` (a configuration model, as for :mod:`antifraud.graphs.co_purchase`), with
its links kept. Then ``u`` buys at ``A`` with probability ``d_u n_A / S`` (``S = sum_u d_u``),
independently of ``v``, and

    E[M_AB] = n_A n_B (d^T L d) / S^2,

where ``(d^T L d) / S^2`` is the population's rate of linked pairs, weighted by activity. ``M`` is
tested as Poisson with that mean. Accounts with more than ``max_account_shops`` shops touch
everything and are left out of the counts and the model. ``M`` is counted above the diagonal
only and on the linked accounts' rows only (:func:`antifraud.graphs.products.upper_product`).

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

from antifraud.graphs.products import upper_product

__all__ = ["LinkedBuyers", "linked_buyers"]


@dataclass(frozen=True)
class LinkedBuyers:
    """Shop pairs ``(i, j)``, ``i < j``, with their linked buyer pairs and the model's expectation.

    Attributes
    ----------
    i, j : ndarray of int64
        The two shops of each pair, in ascending order of ``(i, j)``.
    observed : ndarray of float64
        Ordered linked pairs (buyer of ``i``, buyer of ``j``), ``M_ij``.
    expected : ndarray of float64
        ``E[M_ij]`` under the configuration model.
    n_tested : int
        Pairs with at least one linked pair (the number of tests when each is tested).
    accounts : ndarray of int64
        The linked accounts counted, ascending: they index the rows of ``link`` and ``incidence``.
    link : scipy.sparse.csr_array
        Their 0/1 links (symmetric, no diagonal).
    incidence : scipy.sparse.csr_array
        Their 0/1 orders at the shops (accounts x shops).
    """

    i: np.ndarray
    j: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    n_tested: int
    accounts: np.ndarray
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
    degree = np.diff(B.indptr)
    counted = degree <= max_account_shops
    sizes = np.bincount(B.indices, weights=np.repeat(counted, degree), minlength=B.shape[1])
    stubs = float(degree[counted].sum())
    # Only linked accounts make pairs: everything below runs on their rows alone.
    pairs = sp.coo_array(links)
    keep = (pairs.data >= min_weight) & (pairs.row != pairs.col) & counted[pairs.row] & counted[pairs.col]
    accounts, ends = np.unique(np.concatenate((pairs.row[keep], pairs.col[keep])), return_inverse=True)
    left, right = np.split(ends, 2)
    L = sp.csr_array((np.ones(len(left)), (left, right)), shape=(len(accounts), len(accounts)))
    L.sum_duplicates()
    L.data[:] = 1.0
    BL = B[accounts]
    i, j, observed, n_tested = upper_product(BL.T, L @ BL, min_observed)
    d = degree[accounts].astype(np.float64)
    rate = float(d @ (L @ d)) / stubs**2 if stubs else 0.0
    return LinkedBuyers(i, j, observed, sizes[i] * sizes[j] * rate, int(n_tested), accounts.astype(np.int64), L, BL)
