"""Promoted shops: shops bought together, or by suspicious accounts, far more than chance allows.

A brushing ring is recruited for a handful of shops, so its traces are on the shop side of the
accounts x merchants graph even when each member's own history looks ordinary:

- **co-purchase**: two small shops that share a dozen buyers. The count of shared buyers is
  tested against its Poisson mean under a configuration model of the buyers' activity
  (:func:`antifraud.graphs.co_purchase.shared_buyers`). Accounts with more than
  ``max_account_shops`` shops are left out: they touch everything and tie shops together by
  chance. Shops with related goods (a phone and its cases, neighbouring restaurants) share
  buyers honestly, a few times more than the model expects; a ring's shops share them tens to
  hundreds of times more, so a pair must also share at least ``min_lift`` times its expectation.
- **suspicious crowd**: a shop whose buyers are far more often suspicious (by any per-account
  suspicion, such as the ensemble's behaviour score) than the population's base rate, by a
  binomial test. This finds rings of one shop, which co-purchase cannot.

Both tests are corrected for the number of tests made (Bonferroni at level ``alpha``), so the
evidence threshold is ``log10(n_tests / alpha)`` in units of ``-log10 p``. Shops linked by
significant co-purchase form groups (connected components); a significant shop on its own is a
group of one. A group's ring is every account that bought at two or more of its shops (its
core), and every suspicious account that bought at one of them and is not far more active than
the core (``max_degree_ratio``; heavy honest buyers touch promoted shops too).

A ring's score is ``1 - (threshold / evidence)^2`` for its strongest test: 0 at the
significance limit, 0.75 at twice its evidence (a p-value the square of the limit), 0.89 at
three times. Every shop gets the same transform of its own strongest test as its score.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.special import xlogy
from scipy.stats import binom
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_array

from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.features.data import DetectionData
from antifraud.graphs.co_purchase import SharedBuyers, shared_buyers
from antifraud.graphs.communities import quantile_by_label

__all__ = ["PromotedShopDetector"]

_LOG10 = np.log(10.0)


class PromotedShopDetector(Detector):
    """Find shops promoted by rings and the rings' accounts (co-purchase and suspicious crowds).

    Parameters
    ----------
    alpha : float, default=0.01
        Family-wise error rate of each family of tests (shop pairs, shops).
    min_shared : int, default=3
        Fewest buyers two shops must share before their co-purchase can count.
    min_lift : float, default=10.0
        Fewest times its expectation two shops must share buyers before their co-purchase can
        count.
    max_account_shops : int, default=100
        Accounts with more distinct shops than this are left out of co-purchase counts.
    suspicion_threshold : float, default=0.9
        Accounts whose ``suspicion`` is at least this are suspicious.
    max_degree_ratio : float, default=3.0
        A suspicious account that bought at only one of a group's shops joins its ring only if
        it ordered from at most this many times as many shops as the ring's typical member.
    min_members : int, default=3
        Smallest ring, in accounts.
    random_state : None, int or RandomState, default=None
        Accepted for uniformity with the other detectors and unused: the result is exact.

    Attributes
    ----------
    groups_ : list of AccountGroup
        Rings, kind ``"promoted_shops"``, best first; ``merchants`` are the group's shops and
        ``evidence`` holds the ``strength`` of its strongest test (its ``-log10 p`` over the
        threshold), whether any of its shops were linked by co-purchase (``co_purchase`` 1 or
        0), and the best of its shops' ``co_purchase_lift`` and ``co_purchase_log10_p`` (0
        without co-purchase), ``crowd_log10_p`` (0 where the crowd test is not significant),
        ``crowd_share`` and ``crowd_base_rate`` (share of suspicious buyers at the shop and
        overall; only with ``suspicion``).
    labels_ : ndarray of int64, shape (n_accounts,)
        Index of the best ring each account is in, -1 for none.
    account_scores_ : ndarray of float64, shape (n_accounts,)
        Score of that ring, 0 for none.
    merchant_scores_ : ndarray of float64, shape (n_shops,)
        ``1 - (threshold / evidence)^2`` of the shop's strongest test, clipped at 0
        (also ``shop_scores_``).
    pair_threshold_, shop_threshold_ : float
        The evidence thresholds, ``log10(n_tests / alpha)``.

    Examples
    --------
    Six accounts buy from both shops 0 and 1 (a ring); sixty honest accounts each buy from two
    of the other thirty shops:

    >>> rng = np.random.default_rng(0)
    >>> rows = [a for a in range(6) for _ in range(2)] + [a for a in range(6, 66) for _ in range(2)]
    >>> cols = [0, 1] * 6 + [int(c) for _ in range(60) for c in rng.choice(30, 2, replace=False) + 2]
    >>> X = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(66, 32))
    >>> detector = PromotedShopDetector().fit(X)
    >>> detector.groups_[0].accounts.tolist(), detector.groups_[0].merchants.tolist()
    ([0, 1, 2, 3, 4, 5], [0, 1])
    """

    _parameter_constraints = {
        # A level of 1 would make every test significant: log10(n_tests / alpha) is its bar.
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "min_shared": [Interval(Integral, 1, None, closed="left")],
        # Fewer shared buyers than expected is no evidence of promotion.
        "min_lift": [Interval(Real, 1, None, closed="left")],
        "max_account_shops": [Interval(Integral, 1, None, closed="left")],
        # 0 would make every account suspicious; a suspicion is at most 1.
        "suspicion_threshold": [Interval(Real, 0, 1, closed="right")],
        "max_degree_ratio": [Interval(Real, 0, None, closed="neither")],
        "min_members": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        alpha: float = 0.01,
        min_shared: int = 3,
        min_lift: float = 10.0,
        max_account_shops: int = 100,
        suspicion_threshold: float = 0.9,
        max_degree_ratio: float = 3.0,
        min_members: int = 3,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.alpha = alpha
        self.min_shared = min_shared
        self.min_lift = min_lift
        self.max_account_shops = max_account_shops
        self.suspicion_threshold = suspicion_threshold
        self.max_degree_ratio = max_degree_ratio
        self.min_members = min_members
        self.random_state = random_state

    def fit(
        self, X, y=None, *, suspicion: np.ndarray | None = None, shared: SharedBuyers | None = None
    ) -> PromotedShopDetector:
        """Test every shop pair and shop, group the significant shops and collect their rings.

        Parameters
        ----------
        X : DetectionData, sparse matrix or array-like of shape (n_accounts, n_shops)
            An export (its accounts x merchants orders), or orders (or any non-negative
            weights) of accounts at shops; only which cells are non-zero matters.
        y : None
            Ignored.
        suspicion : ndarray of shape (n_accounts,), optional
            Per-account suspicion in [0, 1]. Without it only co-purchase is tested and rings
            are the accounts that bought at two or more of a group's shops.
        shared : SharedBuyers, optional
            ``shared_buyers(X, max_account_shops=..., min_shared=...)`` already counted, with
            this detector's ``max_account_shops`` and at most its ``min_shared``.

        Returns
        -------
        self : PromotedShopDetector
        """
        return super().fit(X, y, suspicion=suspicion, shared=shared)

    def _fit(
        self,
        X: DetectionData | np.ndarray | sp.spmatrix | sp.sparray,
        *,
        suspicion: np.ndarray | None,
        shared: SharedBuyers | None,
    ) -> None:
        """Test every shop pair and shop of ``X``, group the significant shops, collect their rings."""
        if isinstance(X, DetectionData):
            X = X.graph.to_scipy()
        else:
            X = check_array(X, accept_sparse="csr", dtype=np.float64)
        B = sp.csr_array(X, dtype=np.float64, copy=True)
        B.sum_duplicates()
        B.eliminate_zeros()
        B.data[:] = 1.0
        n_accounts, n_shops = B.shape
        self.n_features_in_ = n_shops
        suspicious = None
        if suspicion is not None:
            suspicion = np.asarray(suspicion, dtype=np.float64)
            if suspicion.shape != (n_accounts,):
                raise ValueError(f"suspicion has shape {suspicion.shape}, expected ({n_accounts},)")
            suspicious = suspicion >= self.suspicion_threshold

        if shared is None:
            shared = shared_buyers(B, max_account_shops=self.max_account_shops, min_shared=self.min_shared)
        shared.check(self.max_account_shops, self.min_shared)
        enough = shared.observed >= self.min_shared
        i, j, pair_evidence = shared.i[enough], shared.j[enough], shared.log10_pvalue()[enough]
        self.pair_threshold_ = float(np.log10(max(shared.n_tested, 1) / self.alpha))
        shop_evidence = np.zeros(n_shops)
        self.shop_threshold_ = float(np.log10(max(n_shops, 1) / self.alpha))
        if suspicious is not None:
            buyers = np.bincount(B.indices, minlength=n_shops)  # B is 0/1 without duplicates
            hits = B.T @ suspicious.astype(np.float64)
            rate = float(suspicious.mean()) if n_accounts else 0.0
            if rate > 0:
                shop_evidence = _crowd_evidence(hits, buyers, rate)
        lift = shared.lift[enough]
        linked = (pair_evidence >= self.pair_threshold_) & (lift >= self.min_lift)
        i, j, pair_evidence, lift = i[linked], j[linked], pair_evidence[linked], lift[linked]

        # What each shop's strongest evidence says: its score, and the rings' explanations.
        facts = {name: np.zeros(n_shops) for name in ("co_purchase_lift", "co_purchase_log10_p", "crowd_log10_p")}
        for shop in (i, j):
            np.maximum.at(facts["co_purchase_lift"], shop, lift)
            np.maximum.at(facts["co_purchase_log10_p"], shop, pair_evidence)
        facts["crowd_log10_p"] = np.where(shop_evidence >= self.shop_threshold_, shop_evidence, 0.0)
        # A shop's score is its strongest test, each against its own threshold.
        strength = np.maximum(facts["co_purchase_log10_p"] / self.pair_threshold_, shop_evidence / self.shop_threshold_)
        self.merchant_scores_ = np.where(strength > 1, 1 - 1 / np.maximum(strength, 1) ** 2, 0.0)
        if suspicious is not None:
            facts["crowd_share"] = hits / np.maximum(buyers, 1)
            facts["crowd_base_rate"] = np.full(n_shops, rate)
        groups = self._rings(B, i, j, strength, suspicious, facts)
        self.groups_, self.labels_, self.account_scores_ = rank_groups(groups, n_accounts)

    @property
    def shop_scores_(self) -> np.ndarray:
        """``merchant_scores_`` by its former name, which ``tests/graphs`` reads."""
        return self.merchant_scores_

    def _rings(
        self,
        B: sp.csr_array,
        i: np.ndarray,
        j: np.ndarray,
        strength: np.ndarray,
        suspicious: np.ndarray | None,
        facts: dict[str, np.ndarray],
    ) -> list[AccountGroup]:
        """Group significant shops and collect each group's accounts."""
        n_accounts, n_shops = B.shape
        links = sp.coo_array((np.ones(len(i)), (i, j)), shape=(n_shops, n_shops))
        _, component = connected_components(links, directed=False)
        significant = strength > 1
        shops = np.flatnonzero(significant)
        if shops.size == 0:
            return []
        group_ids, group = np.unique(component[shops], return_inverse=True)
        shop_group = np.full(n_shops, -1, dtype=np.int64)
        shop_group[shops] = group
        # Orders at a grouped shop, as (account, group) with the number of its shops bought.
        accounts = np.repeat(np.arange(n_accounts), np.diff(B.indptr))
        g = shop_group[B.indices]
        inside = g >= 0
        key = np.unique(accounts[inside] * len(group_ids) + g[inside])
        account, member_of = np.divmod(key, len(group_ids))
        # The core: buyers of both shops of a significant pair. Buying two of a group's shops
        # is not enough, as a group can hold a popular shop that honest buyers of the others
        # also visit.
        pairs = (links + links.T).tocsr()
        pairs.data[:] = 1.0
        both = sp.coo_array((B @ pairs) * B)
        core = np.unique(both.row * len(group_ids) + shop_group[both.col])
        member = np.isin(key, core)
        if suspicious is not None:
            # A suspicious buyer of one of the shops joins unless it is far more active than
            # the ring's core (its buyers of two or more shops, or else its suspicious buyers):
            # heavy honest buyers touch promoted shops too, and look unusual for other reasons.
            degree = np.diff(B.indptr)[account].astype(np.float64)
            candidate = suspicious[account] & ~member
            core = quantile_by_label(np.where(member, member_of, -1), degree, 0.5, len(group_ids))
            fallback = quantile_by_label(np.where(candidate, member_of, -1), degree, 0.5, len(group_ids))
            typical = np.where(np.isnan(core), fallback, core)
            member |= candidate & (degree <= self.max_degree_ratio * typical[member_of])
        account, member_of = account[member], member_of[member]
        order = np.argsort(member_of, kind="stable")
        account, member_of = account[order], member_of[order]
        bounds = np.searchsorted(member_of, np.arange(len(group_ids) + 1))
        out = []
        for k in range(len(group_ids)):
            members = account[bounds[k]:bounds[k + 1]]
            if len(members) < self.min_members:
                continue
            mine = shops[group == k]
            best = float(strength[mine].max())
            evidence = {"strength": best, "co_purchase": float(facts["co_purchase_lift"][mine].max() > 0)}
            evidence.update({name: float(values[mine].max()) for name, values in facts.items()})
            evidence["log10_p"] = self._adjusted_log10_p(evidence)
            out.append(AccountGroup(members, 1 - 1 / best**2, "promoted_shops", mine, evidence))
        return out


    def _adjusted_log10_p(self, evidence: dict[str, float]) -> float:
        """``log10`` of a group's strongest co-purchase p-value times the number of shop pairs
        tested (Bonferroni): the group's p-value under the configuration model. The crowd test
        gives none: its null, suspicious buyers spread over shops at the population's rate, does
        not hold for honest shops whose customers share infrastructure or habits."""
        value = evidence["co_purchase_log10_p"]
        return float(min(0.0, self.pair_threshold_ + np.log10(self.alpha) - value)) if value > 0 else 0.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # orders come as a CSR matrix
        return tags

def _crowd_evidence(hits: np.ndarray, buyers: np.ndarray, rate: float) -> np.ndarray:
    """``-log10 p`` of each shop's count of suspicious buyers against the population's rate.

    Far in the tail (p below about 1e-300) scipy's log survival function underflows to
    ``-inf``; there the Chernoff bound ``buyers * KL(hits / buyers || rate)`` takes its place:
    finite, and never more than the true evidence.

    Examples
    --------
    >>> _crowd_evidence(np.array([0, 30, 2000]), np.array([100, 100, 2000]), 0.01).round(1).tolist()
    [0.0, 34.8, 4000.0]
    """
    evidence = -binom.logsf(hits - 1, buyers, rate) / _LOG10
    share = hits / np.maximum(buyers, 1)
    chernoff = buyers * (xlogy(share, share / rate) + xlogy(1 - share, (1 - share) / (1 - rate))) / _LOG10
    evidence = np.where(np.isfinite(evidence), evidence, chernoff)
    return np.where(hits > 0, evidence, 0.0)
