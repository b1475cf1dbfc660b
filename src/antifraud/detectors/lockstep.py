"""Temporal lockstep: accounts that order from the same shops in the same short windows.

A hijacked account has a long, honest-looking history, so per-account statistics miss it; what
gives a ring of them away is that its members act together, again and again: they order from
shop A within the same hour, then from shop B within another hour, and so on (CopyCatch,
Beutel et al., WWW 2013). For every shop, orders are scanned in time order, and two accounts
that order from it within ``window`` seconds of each other co-occur there. Windows crowded with
more than ``max_crowd`` orders (a festival rush at a big shop) are skipped: thousands of honest
buyers act together there by chance. Two accounts are in lockstep when they co-occur at
``min_shops`` or more distinct shops. Chance pairs of honest buyers form sparse chains, while a
ring's members are each in lockstep with several others, so the relation is pruned to its
``min_partners``-core (every account keeps at least that many lockstep partners) before its
Louvain communities with at least ``min_size`` accounts become the groups.

Each group is scored by ``(1 - exp(-mean_shared / min_shops)) * cohesion``, where
``mean_shared`` is the mean number of shops a linked pair of the group shares (two give 0.63, four
0.86) and ``cohesion`` the share of members that ordered from the group's most common shop: a
ring is recruited for the same shops, while chance pairs of honest buyers meet at different ones.

:class:`ReviewBurstDetector` runs the same search on bad reviews only: a burst of one- and
two-star reviews at a competitor (恶意差评) is a lockstep group too.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval

from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.features.data import DetectionData
from antifraud.features.kernels import group_by
from antifraud.graphs.communities import (
    internal_links,
    louvain_labels,
    members_by_label,
    top_column_share,
)

__all__ = ["LockstepDetector", "ReviewBurstDetector", "co_occurrences"]


#: Pairs kept per block of :func:`_pairs`' output: blocks are filled one after another, so the
#: output never has to be copied into a larger buffer as it grows.
_BLOCK = 1 << 20


@numba.njit(cache=True, nogil=True)
def _pairs(indptr, accounts, times, window, max_crowd, block_size=_BLOCK):  # pragma: no cover - compiled
    """Account pairs ``(a, b)``, ``a < b``, once for every shop at which they ordered within
    ``window`` of each other.

    Each shop's pairs are gathered in a scratch buffer (as large as the largest shop's needs),
    sorted and deduplicated, so a pair that meets at a shop many times is kept once for it, and
    appended to blocks of ``block_size`` pairs; the blocks are split into the two accounts' codes
    at the end. At most twice the output is ever held, where one buffer doubled as it grew
    holds up to three times plus the split's temporaries.
    """
    n_shops = indptr.shape[0] - 1
    span = np.int64(accounts.max()) + 1 if accounts.shape[0] else np.int64(1)
    scratch = np.empty(1024, dtype=np.int64)
    block = np.empty(block_size, dtype=np.int64)
    blocks = [block]
    filled = 0  # in the last block
    for s in range(n_shops):
        start, end = indptr[s], indptr[s + 1]
        n = 0
        hi = start
        for i in range(start, end):
            while hi < end and times[hi] - times[i] < window:
                hi += 1
            if hi - i > max_crowd:
                continue
            for j in range(i + 1, hi):
                a, b = np.int64(accounts[i]), np.int64(accounts[j])
                if a == b:
                    continue
                if n == scratch.shape[0]:
                    scratch = np.concatenate((scratch, np.empty(n, np.int64)))
                scratch[n] = min(a, b) * span + max(a, b)
                n += 1
        if n == 0:
            continue
        shop = scratch[:n]
        shop.sort()
        for k in range(n):
            if k > 0 and shop[k] == shop[k - 1]:
                continue
            if filled == block_size:
                block = np.empty(block_size, dtype=np.int64)
                blocks.append(block)
                filled = 0
            block[filled] = shop[k]
            filled += 1
    total = (len(blocks) - 1) * block_size + filled
    left = np.empty(total, dtype=np.int32)
    right = np.empty(total, dtype=np.int32)
    k = 0
    for index in range(len(blocks)):
        full = blocks[index]
        for m in range(block_size if index < len(blocks) - 1 else filled):
            left[k], right[k] = full[m] // span, full[m] % span
            k += 1
    return left, right


@numba.njit(cache=True, nogil=True)
def _frequent(left, right, n_accounts, min_count):  # pragma: no cover - compiled
    """The pairs listed at least ``min_count`` times, with their counts (a counting sort by the
    left account, then each account's partners sorted)."""
    start = np.zeros(n_accounts + 1, dtype=np.int64)
    for a in left:
        start[a + 1] += 1
    for a in range(n_accounts):
        start[a + 1] += start[a]
    fill = start[:-1].copy()
    partners = np.empty(left.shape[0], dtype=np.int32)
    for k in range(left.shape[0]):
        partners[fill[left[k]]] = right[k]
        fill[left[k]] += 1
    out_left = np.empty(left.shape[0], dtype=np.int32)
    out_right = np.empty(left.shape[0], dtype=np.int32)
    counts = np.empty(left.shape[0], dtype=np.int32)
    n = 0
    for a in range(n_accounts):
        seg = np.sort(partners[start[a]:start[a + 1]])
        k = 0
        while k < seg.shape[0]:
            run = k
            while run < seg.shape[0] and seg[run] == seg[k]:
                run += 1
            if run - k >= min_count:
                out_left[n], out_right[n], counts[n] = a, seg[k], run - k
                n += 1
            k = run
    return out_left[:n].copy(), out_right[:n].copy(), counts[:n].copy()


def co_occurrences(
    accounts: np.ndarray,
    shops: np.ndarray,
    times: np.ndarray,
    n_accounts: int,
    n_shops: int,
    window: float,
    max_crowd: int,
    min_shops: int = 1,
) -> sp.csr_matrix:
    """Symmetric count of distinct shops at which two accounts ordered within ``window``.

    Parameters
    ----------
    accounts, shops, times : arrays, one entry per order
        Codes of the ordering account and the shop, and the order time in seconds; orders with a
        negative code are ignored.
    n_accounts, n_shops : int
    window : float
        Seconds within which two orders at a shop are together.
    max_crowd : int
        An order followed within ``window`` by more than this many orders at its shop pairs
        with none of them (a rush is no lockstep).
    min_shops : int
        Pairs together at fewer shops than this are left out (most pairs meet at one shop, by
        chance; leaving them out early keeps the matrix small).

    Examples
    --------
    >>> m = co_occurrences(np.array([0, 1, 0, 1, 2]), np.array([0, 0, 1, 1, 1]),
    ...                    np.array([0, 60, 5000, 5100, 90000]), 3, 2, 3600, 100)
    >>> m.toarray().tolist()
    [[0, 2, 0], [2, 0, 0], [0, 0, 0]]
    """
    ok = (accounts >= 0) & (shops >= 0)
    keys = np.where(ok, shops, -1)
    indptr, order = group_by(keys, n_shops, times=times)
    left, right = _pairs(
        indptr, np.asarray(accounts)[order].astype(np.int32), np.asarray(times)[order].astype(np.float64),
        float(window), int(max_crowd),
    )
    # A pair appears once per shop, so its count is the number of distinct shops it met at.
    left, right, count = _frequent(left, right, n_accounts, min_shops)
    upper = sp.csr_matrix((count, (left, right)), shape=(n_accounts, n_accounts))
    return upper + upper.T


def _core(links: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """The ``k``-core of a symmetric link matrix: drop accounts with fewer than ``k`` links
    until none is left."""
    links = links.tocsr()
    links.eliminate_zeros()
    alive = np.ones(links.shape[0], dtype=bool)
    while True:
        degree = links.getnnz(axis=1)
        weak = alive & (degree < k)
        if not weak.any():
            return links
        alive &= ~weak
        keep = sp.diags(alive.astype(np.float64))
        links = (keep @ links @ keep).tocsr()
        links.eliminate_zeros()


class LockstepDetector(Detector):
    """Groups of accounts that order from the same shops within the same short windows.

    Parameters
    ----------
    window : float
        Seconds within which two orders at one shop count as acting together.
    min_shops : int
        Distinct shops two accounts must share in lockstep to be linked.
    min_partners : int
        Lockstep partners an account needs to stay in a group (the core number).
    min_size : int
        Smallest group reported.
    max_crowd : int
        Windows with more orders than this at one shop are skipped (rushes).
    resolution : float
        Louvain resolution; higher splits neighbouring rings apart.
    random_state : int, RandomState or None
        Seeds Louvain's node order; the same seed gives the same groups.

    Attributes
    ----------
    groups_ : list of AccountGroup
        Groups, kind ``"lockstep"``, best first; ``details`` holds their ``size``,
        ``mean_shared_shops`` and ``cohesion``.
    labels_ : ndarray of int
        Group of each account, -1 for none.
    account_scores_ : ndarray of float
        Score of each account's group (0 for none).
    pairs_ : scipy.sparse.csr_matrix
        Distinct shops shared in lockstep by each pair of accounts that shares at least
        ``min_shops``.
    """

    cost: ClassVar[float] = 7

    _parameter_constraints = {
        # Orders less than ``window`` apart act together: at 0 or below none ever would.
        "window": [Interval(Real, 0, None, closed="neither")],
        # ``pairs >= min_shops`` at 0 would keep every pair of accounts, a dense matrix.
        "min_shops": [Interval(Integral, 1, None, closed="left")],
        "min_partners": [Interval(Integral, 1, None, closed="left")],
        "min_size": [Interval(Integral, 1, None, closed="left")],
        # A window holds at least two orders when it holds a pair: below 2 every one is skipped.
        "max_crowd": [Interval(Integral, 2, None, closed="left")],
        "resolution": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        window: float = 3600.0,
        min_shops: int = 2,
        min_partners: int = 2,
        min_size: int = 3,
        max_crowd: int = 50,
        resolution: float = 1.0,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.window = window
        self.min_shops = min_shops
        self.min_partners = min_partners
        self.min_size = min_size
        self.max_crowd = max_crowd
        self.resolution = resolution
        self.random_state = random_state

    group_kind: ClassVar[str] = "lockstep"

    def _orders(self, data: DetectionData) -> np.ndarray:
        """Which of ``data``'s orders to search (all of them)."""
        return np.ones(len(data.order_rows), dtype=bool)

    def _fit(self, data: DetectionData) -> None:
        """Find lockstep groups among the orders :meth:`_orders` selects."""
        n_accounts, n_shops = data.graph.n_rows, data.graph.n_cols
        chosen = self._orders(data)
        accounts = data.order_rows[chosen].astype(np.int64)
        shops = data.order_cols[chosen].astype(np.int64)
        times = data.times[chosen].astype(np.float64)
        pairs = co_occurrences(accounts, shops, times, n_accounts, n_shops, self.window, self.max_crowd,
                               self.min_shops)
        strong = _core(pairs, self.min_partners)
        component = louvain_labels(strong, self.resolution, self.random_state)
        grouped = component[accounts] >= 0  # cohesion needs only grouped accounts
        incidence = sp.csr_matrix(
            (np.ones(grouped.sum()), (accounts[grouped], shops[grouped])), shape=(n_accounts, n_shops)
        )
        weight, entries = internal_links(strong, component)
        cohesion = top_column_share(incidence, component)
        groups = []
        for members in members_by_label(component, self.min_size):
            c = component[members[0]]
            if entries[c] == 0:
                continue
            mean_shared = weight[c] / entries[c]
            score = float((1 - np.exp(-mean_shared / self.min_shops)) * cohesion[c])
            details = {"size": float(len(members)), "mean_shared_shops": float(mean_shared),
                       "cohesion": float(cohesion[c])}
            groups.append(AccountGroup(members, score, self.group_kind, details=details))
        self.groups_, self.labels_, self.account_scores_ = rank_groups(groups, n_accounts)
        self.pairs_ = pairs


class ReviewBurstDetector(LockstepDetector):
    """Groups of accounts posting bad reviews at the same shops in the same windows (恶意差评).

    A :class:`LockstepDetector` on the orders rated at most ``max_rating`` only; it needs the
    ``rating`` column. Groups are of kind ``"review_burst"``.

    Parameters
    ----------
    max_rating : float
        Highest rating that counts as a bad review.
    window, min_shops, min_partners, min_size, max_crowd, resolution, random_state
        As for :class:`LockstepDetector`.
    """

    required_columns = (*LockstepDetector.required_columns, "rating")
    selects_on = ("rating_extremity",)
    group_kind = "review_burst"
    _parameter_constraints = {
        # Any rating scale; a NaN would select no review (``rating <= nan`` is always false).
        "max_rating": [Interval(Real, None, None, closed="neither")],
        **LockstepDetector._parameter_constraints,
    }

    def __init__(
        self,
        *,
        max_rating: float = 2.0,
        window: float = 3600.0,
        min_shops: int = 2,
        min_partners: int = 2,
        min_size: int = 3,
        max_crowd: int = 50,
        resolution: float = 1.0,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        super().__init__(window=window, min_shops=min_shops, min_partners=min_partners, min_size=min_size,
                         max_crowd=max_crowd, resolution=resolution, random_state=random_state)
        self.max_rating = max_rating

    def _orders(self, data: DetectionData) -> np.ndarray:
        """The orders rated at most ``max_rating``."""
        return data.ratings <= self.max_rating
