"""Accounts linked through shared identity attributes (device, IP, phone, address).

Two accounts are linked when they used the same pseudonymised device, IP address, phone or
address. A value shared by ``k`` accounts gives each of its pairs the weight ``1 / (k - 1)``
(resource allocation): the three members of a household link strongly (0.5), while a carrier
NAT address behind which four hundred strangers order links each pair by 0.0025. Values shared
by more than ``max_group`` accounts are left out altogether: their pairs would be many and
nearly weightless. A pair's link weight is the sum over all attributes and values it shares.

The values are kept as groups of accounts (:class:`IdentityGroups`), and the pairs are built
from them only when asked for, a block of accounts at a time, keeping those at least
``min_weight``: the weak pairs of values shared by dozens of accounts are most of all pairs
(about 19M at 10M orders), and what is read from all of them (an account's total link
weight, the weight inside a community, whether two accounts are linked at all) needs no
matrix of them all.

Examples
--------
>>> import numpy as np
>>> accounts = np.array([0, 1, 2, 0, 3])
>>> devices = np.array([0, 0, 0, 1, 1])  # device 0: accounts 0, 1, 2; device 1: accounts 0, 3
>>> groups = shared_groups(4, [(accounts, devices, 2)])
>>> w = groups.links().toarray()
>>> w[0].tolist(), float(w[1, 2])
([0.0, 0.5, 0.5, 1.0], 0.5)
>>> groups.links(min_weight=1.0).nnz  # accounts 0 and 3, each way
2
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from antifraud.graphs.bipartite import build_bipartite
from antifraud.graphs.codes import Codes, encode
from antifraud.schema import PERSONAL

__all__ = ["IdentityGroups", "shared_groups", "identity_groups", "shared_links", "identity_links"]


@numba.njit(cache=True, nogil=True)
def _triangles(indptr, members, n_accounts):  # pragma: no cover - compiled
    """Entries of every account's row in the upper triangle (the pairs ``(i, j)``, ``i < j``, in
    group order) and in the lower (``(j, i)``), and whether each triangle's rows list their
    columns in ascending order."""
    upper = np.zeros(n_accounts, dtype=np.int64)
    lower = np.zeros(n_accounts, dtype=np.int64)
    last_upper = np.full(n_accounts, -1, dtype=np.int64)
    last_lower = np.full(n_accounts, -1, dtype=np.int64)
    upper_sorted, lower_sorted = True, True
    for g in range(indptr.shape[0] - 1):
        start, end = indptr[g], indptr[g + 1]
        for a in range(start, end):
            i = members[a]
            upper[i] += end - a - 1
            lower[i] += a - start
            for b in range(a + 1, end):
                j = members[b]
                upper_sorted = upper_sorted and j >= last_upper[i]
                lower_sorted = lower_sorted and i >= last_lower[j]
                last_upper[i] = j
                last_lower[j] = i
    return upper, lower, upper_sorted, lower_sorted


@numba.njit(cache=True, nogil=True)
def _block(indptr, members, lo, hi, upper_ptr, lower_ptr):  # pragma: no cover - compiled
    """Rows ``lo..hi - 1`` of both triangles as CSR indices and weights ``1 / (k - 1)``, each
    row's entries in group order (as a COO of the pairs in group order converts to CSR)."""
    upper = (np.empty(upper_ptr[-1], dtype=np.int32), np.empty(upper_ptr[-1]))
    lower = (np.empty(lower_ptr[-1], dtype=np.int32), np.empty(lower_ptr[-1]))
    next_upper, next_lower = upper_ptr[:-1].copy(), lower_ptr[:-1].copy()
    for g in range(indptr.shape[0] - 1):
        start, end = indptr[g], indptr[g + 1]
        if members[start] >= hi or members[end - 1] < lo:
            continue
        w = 1.0 / (end - start - 1)
        for a in range(start, end):
            i = members[a]
            for b in range(a + 1, end):
                j = members[b]
                if lo <= i < hi:
                    p = next_upper[i - lo]
                    upper[0][p], upper[1][p] = j, w
                    next_upper[i - lo] += 1
                if lo <= j < hi:
                    p = next_lower[j - lo]
                    lower[0][p], lower[1][p] = i, w
                    next_lower[j - lo] += 1
    return upper, lower


@numba.njit(cache=True, nogil=True)
def _add_inside(indptr, indices, data, lo, labels, out):  # pragma: no cover - compiled
    """Add to ``out[label]`` every entry of rows ``lo..`` whose two accounts have that label, in order."""
    for r in range(indptr.shape[0] - 1):
        c = labels[lo + r]
        if c < 0:
            continue
        for e in range(indptr[r], indptr[r + 1]):
            if labels[indices[e]] == c:
                out[c] += data[e]


@dataclass(frozen=True)
class IdentityGroups:
    """The accounts of every shared identity value, each value a group of 2 to ``max_group``.

    The links are built from them a block of accounts' rows at a time, each row summed
    exactly as one matrix of every pair would sum it, so that what is read from the links is
    the same to the last bit without that matrix (:meth:`links`, :meth:`degree`,
    :meth:`internal_weight`).

    Attributes
    ----------
    n_accounts : int
    indptr : ndarray of int64, shape (n_groups + 1,)
        Group ``g``'s accounts are ``members[indptr[g]:indptr[g + 1]]``; the groups of one
        attribute follow those of the one before, in the order the attributes were given.
    members : ndarray of int32
        Distinct accounts of each group, ascending.
    block : int
        Most link entries built at once (of both triangles).
    """

    n_accounts: int
    indptr: np.ndarray
    members: np.ndarray
    block: int = 4_000_000

    @functools.cached_property
    def _by_account(self) -> sp.csc_matrix:
        """Groups x accounts incidence, by account: each account's groups, ascending."""
        return self.incidence().tocsc()

    def incidence(self) -> sp.csr_matrix:
        """Groups x accounts, 1 where the account is in the group.

        Examples
        --------
        >>> groups = shared_groups(3, [(np.array([0, 1, 2]), np.array([0, 0, 1]), 2)])
        >>> groups.incidence().toarray().tolist()
        [[1, 1, 0]]
        """
        data = np.ones(len(self.members), dtype=np.int8)
        return sp.csr_matrix((data, self.members, self.indptr), shape=(len(self.indptr) - 1, self.n_accounts))

    def _blocks(self) -> Iterator[tuple[int, sp.csr_matrix]]:
        """The link matrix's rows a block at a time: (first row, its rows), every row summed
        as ``(upper + upper.T).tocsr()`` sums it for the COO ``upper`` of every pair in group
        order (which sorts the rows of a triangle, duplicates and all, unless all of them are
        sorted already)."""
        upper, lower, upper_sorted, lower_sorted = _triangles(self.indptr, self.members, self.n_accounts)
        ends = np.cumsum(upper + lower)
        cuts = np.searchsorted(ends, np.arange(self.block, ends[-1] if len(ends) else 0, self.block), side="right")
        bounds = np.unique(np.concatenate(([0], cuts, [self.n_accounts])))
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            ptrs = [np.concatenate(([0], np.cumsum(lengths[lo:hi]))) for lengths in (upper, lower)]
            triangles = []
            for ptr, (indices, data), is_sorted in zip(ptrs, _block(self.indptr, self.members, lo, hi, *ptrs),
                                                      (upper_sorted, lower_sorted)):
                triangle = sp.csr_matrix((data, indices, ptr), shape=(hi - lo, self.n_accounts))
                if not is_sorted:
                    triangle.has_sorted_indices = False
                triangle.sum_duplicates()
                triangles.append(triangle)
            yield lo, triangles[0] + triangles[1]

    def links(self, min_weight: float = 0.0) -> sp.csr_matrix:
        """Symmetric account x account link weights, those at least ``min_weight``.

        Examples
        --------
        >>> groups = shared_groups(3, [(np.array([0, 1, 2]), np.array([0, 0, 0]), 1)])
        >>> groups.links().toarray().tolist()
        [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]]
        >>> groups.links(min_weight=0.6).nnz
        0
        """
        parts = []
        for _, part in self._blocks():
            if min_weight > 0:
                part.data[part.data < min_weight] = 0
                part.eliminate_zeros()
            parts.append(part)
        if not parts:
            return sp.csr_matrix((self.n_accounts, self.n_accounts))
        return sp.vstack(parts, format="csr")

    def degree(self) -> np.ndarray:
        """Every account's total link weight (the row sums of :meth:`links`).

        Each group of ``k`` gives each of its accounts ``k - 1`` pairs ``1 / (k - 1)``; the sum
        is kept as the floats add up rather than as the count of groups it equals exactly, the
        behaviour percentiles having been measured on it.
        """
        out = np.zeros(self.n_accounts)
        for lo, part in self._blocks():
            out[lo:lo + part.shape[0]] = np.asarray(part.sum(axis=1)).ravel()
        return out

    def internal_weight(self, labels: np.ndarray) -> np.ndarray:
        """Total link weight inside each label's accounts, both directions: the sum of the
        :meth:`links` entries between them, in row order. Labels ``-1`` are ignored.

        Examples
        --------
        >>> groups = shared_groups(4, [(np.array([0, 1, 2, 3]), np.array([0, 0, 0, 1]), 2)])
        >>> groups.internal_weight(np.array([0, 0, 1, -1])).tolist()
        [1.0, 0.0]
        """
        labels = np.asarray(labels, dtype=np.int64)
        out = np.zeros(int(labels.max(initial=-1)) + 1)
        for lo, part in self._blocks():
            _add_inside(part.indptr, part.indices, part.data, lo, labels, out)
        return out

    def linked(self, accounts: np.ndarray) -> np.ndarray:
        """Whether each of ``accounts`` (distinct) shares a group with another of them.

        Examples
        --------
        >>> groups = shared_groups(4, [(np.array([0, 1, 2, 3]), np.array([0, 0, 0, 1]), 2)])
        >>> groups.linked(np.array([0, 2, 3])).tolist()
        [True, True, False]
        """
        by_account = self._by_account
        accounts = np.asarray(accounts, dtype=np.int64)
        starts, ends = by_account.indptr[accounts], by_account.indptr[accounts + 1]
        lengths = ends - starts
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        groups = by_account.indices[np.arange(lengths.sum()) + offsets]
        _, index, count = np.unique(groups, return_inverse=True, return_counts=True)
        shared = np.bincount(np.repeat(np.arange(len(accounts)), lengths), weights=count[index] > 1,
                             minlength=len(accounts))
        return shared > 0


def shared_groups(
    n_accounts: int, attributes: Iterable[tuple[np.ndarray, np.ndarray, int]], max_group: int = 50
) -> IdentityGroups:
    """The groups of accounts sharing a value of any of the ``attributes``.

    Parameters
    ----------
    n_accounts : int
    attributes : iterable of (account codes, value codes, number of values)
        One triple per attribute kind, one entry per order; negative codes are missing.
    max_group : int
        Values shared by more accounts than this are ignored.
    """
    def groups(attribute: tuple[np.ndarray, np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
        accounts, values, n_values = attribute
        # Rows = values, columns = accounts: each row lists its distinct accounts, ascending.
        g = build_bipartite(values, accounts, n_values, n_accounts)
        size = np.diff(g.indptr)
        keep = (size >= 2) & (size <= max_group)
        return size[keep], g.indices[np.repeat(keep, size)]

    with ThreadPoolExecutor(max_workers=2) as pool:  # the kernels release the GIL
        parts = list(pool.map(groups, attributes))
    sizes = np.concatenate([np.zeros(0, dtype=np.int64), *(s for s, _ in parts)])
    members = np.concatenate([np.zeros(0, dtype=np.int32), *(m for _, m in parts)])
    return IdentityGroups(n_accounts, np.concatenate(([0], np.cumsum(sizes))).astype(np.int64), members)


def identity_groups(
    table: pa.Table, accounts: Codes | None = None, columns: Sequence[str] = PERSONAL, max_group: int = 50
) -> tuple[IdentityGroups, Codes]:
    """Identity groups of a canonical order table through the personal columns it has.

    Returns the groups and the account codes they are indexed by.
    """
    accounts = accounts or encode(table.column("buyer_id"))
    triples = []
    for name in columns:
        if name in table.column_names:
            values = encode(table.column(name))
            triples.append((accounts.codes, values.codes, values.n))
    return shared_groups(accounts.n, triples, max_group), accounts


def shared_links(
    n_accounts: int, attributes: Iterable[tuple[np.ndarray, np.ndarray, int]], max_group: int = 50
) -> sp.csr_matrix:
    """Every link of :func:`shared_groups` (same parameters): ``shared_groups(...).links()``."""
    return shared_groups(n_accounts, attributes, max_group).links()


def identity_links(
    table: pa.Table, accounts: Codes | None = None, columns: Sequence[str] = PERSONAL, max_group: int = 50
) -> tuple[sp.csr_matrix, Codes]:
    """Every link of :func:`identity_groups` (same parameters), with the account codes."""
    groups, accounts = identity_groups(table, accounts, columns, max_group)
    return groups.links(), accounts
