"""Accounts linked through shared identity attributes (device, IP, phone, address).

Two accounts are linked when they used the same pseudonymised device, IP address, phone or
address. A value shared by ``k`` accounts gives each of its pairs the weight ``1 / (k - 1)``
(resource allocation): the three members of a household link strongly (0.5), while a carrier
NAT address behind which four hundred strangers order links each pair by 0.0025. Values shared
by more than ``max_group`` accounts are left out altogether: their pairs would be many and
nearly weightless. A pair's link weight is the sum over all attributes and values it shares.

Examples
--------
>>> import numpy as np
>>> accounts = np.array([0, 1, 2, 0, 3])
>>> devices = np.array([0, 0, 0, 1, 1])  # device 0: accounts 0, 1, 2; device 1: accounts 0, 3
>>> w = shared_links(4, [(accounts, devices, 2)]).toarray()
>>> w[0].tolist(), float(w[1, 2])
([0.0, 0.5, 0.5, 1.0], 0.5)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from antifraud.graphs.bipartite import build_bipartite
from antifraud.graphs.codes import Codes, encode
from antifraud.schema import PERSONAL

__all__ = ["shared_links", "identity_links"]


@numba.njit(cache=True, nogil=True)
def _pairs(indptr, members, max_group):  # pragma: no cover - compiled
    """All member pairs (i < j) of every group of 2..max_group, with weight 1 / (k - 1)."""
    total = 0
    for g in range(indptr.shape[0] - 1):
        k = indptr[g + 1] - indptr[g]
        if 2 <= k <= max_group:
            total += k * (k - 1) // 2
    left = np.empty(total, dtype=np.int32)
    right = np.empty(total, dtype=np.int32)
    weight = np.empty(total, dtype=np.float64)
    p = 0
    for g in range(indptr.shape[0] - 1):
        start, end = indptr[g], indptr[g + 1]
        k = end - start
        if k < 2 or k > max_group:
            continue
        w = 1.0 / (k - 1)
        for a in range(start, end):
            for b in range(a + 1, end):
                left[p] = members[a]
                right[p] = members[b]
                weight[p] = w
                p += 1
    return left, right, weight


def shared_links(
    n_accounts: int, attributes: Iterable[tuple[np.ndarray, np.ndarray, int]], max_group: int = 50
) -> sp.csr_matrix:
    """Symmetric account x account link weights from shared attribute values.

    Parameters
    ----------
    n_accounts : int
    attributes : iterable of (account codes, value codes, number of values)
        One triple per attribute kind, one entry per order; negative codes are missing.
    max_group : int
        Values shared by more accounts than this are ignored.
    """
    def pairs(attribute: tuple[np.ndarray, np.ndarray, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        accounts, values, n_values = attribute
        # Rows = values, columns = accounts: each row lists its distinct accounts.
        g = build_bipartite(values, accounts, n_values, n_accounts)
        return _pairs(g.indptr, g.indices, max_group)

    with ThreadPoolExecutor(max_workers=2) as pool:  # the kernels release the GIL
        parts = list(pool.map(pairs, attributes))
    if not parts:
        return sp.csr_matrix((n_accounts, n_accounts))
    left, right, weight = (np.concatenate(x) for x in zip(*parts))
    upper = sp.coo_matrix((weight, (left, right)), shape=(n_accounts, n_accounts))
    return (upper + upper.T).tocsr()  # duplicates summed


def identity_links(
    table: pa.Table, accounts: Codes | None = None, columns: Sequence[str] = PERSONAL, max_group: int = 50
) -> tuple[sp.csr_matrix, Codes]:
    """Account links of a canonical order table through the personal columns it has.

    Returns the link matrix and the account codes it is indexed by.
    """
    accounts = accounts or encode(table.column("buyer_id"))
    triples = []
    for name in columns:
        if name in table.column_names:
            values = encode(table.column(name))
            triples.append((accounts.codes, values.codes, values.n))
    return shared_links(accounts.n, triples, max_group), accounts
