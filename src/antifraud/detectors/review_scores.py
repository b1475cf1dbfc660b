"""Per-review, per-account and per-merchant suspiciousness from who reviewed what, when, how.

Where an export carries only (account, merchant, time, rating), as review data sets do, most
brushing shows in three places (Rayana & Akoglu, KDD 2015, call the first two "priors"):

- **the account**: brushing accounts are throwaway ones, with few orders, all placed in one
  session. ``newness = 1 / sqrt(orders * active days)`` is 1 for a one-order account and falls
  with both volume and spread of its history.
- **the review**: a bought rating sits far from what the shop's established customers (accounts
  with at least ``established_orders`` orders) give it, and at an extreme of the scale.
  ``evidence`` is the mean population percentile of the two distances (0.5 without a rating).
  A review's own score is ``newness * (1 + evidence) / 2``: rating evidence breaks ties between
  equally new accounts and never lifts an established account above a new one by more than a
  factor of two.
- **the merchant (campaigns)**: a promoted shop gets more positive orders from one-day accounts
  than the population does (``throwaway``), or its buyers also buy, far more often than their
  activity explains, at the same other shops (``coreview``: the hijacked-account campaign,
  whose accounts have real history). Both are the shop's *excess share* of such orders over the
  population's share, shrunk towards it by ``prior_orders`` pseudo-orders so that a shop with
  three orders cannot look extreme, and scaled to [0, 1].

A positive order from a one-day account at a shop with excess throwaway orders takes the
probability that such an order at its shop is in excess (the attributable fraction). A positive
order on excess co-review pairs takes the probability that a shared buyer of one of its pairs is
in excess of what honest co-buying explains, ``1 - min_lift / lift`` (the test allows honest
groups, friends or a neighbourhood, up to ``min_lift`` times the configuration model's
expectation: a pair barely past it is weak evidence, a campaign's pairs reach lifts in the
hundreds), combined over the order's pairs as ``1 - prod(1 - weight)``, times the probability
that an on-pair order at its shop is in excess (the shop's attributable fraction: a big shop
where a few buyers share a pair is not a campaign's shop). Any other positive order at a shop
with excess co-review takes the shop's co-review score, as a campaign account may have placed
only one order there.

Campaign evidence then takes one propagation step through the accounts
(:func:`propagate_campaigns`): a campaign reuses its accounts across the shops it promotes, so
a shop whose positive orders come, more than the population's do, from accounts caught in a
campaign *at other shops* is promoted too, and a positive order there from such an account is
part of it. This finds hijacked accounts that placed one or two campaign orders among many
organic ones and share no excess shop pair.

Order scores combine the campaign score, weighed by ``campaign_weight``, with the review's own
score as ``1 - (1 - own) * (1 - campaign_weight * campaign)``; an account's score does the same
with the mean of its reviews' own scores and the chance that at least one of its orders is a
campaign order (``1 - prod(1 - campaign_weight * campaign)`` over its orders). The campaign
score is a shop's attributable fraction, the same for every qualifying order there: evidence
about the shop more than about any one of its buyers (an honest one-review buyer of a shop
with a modest excess carries it too; on YelpChi such orders are filtered no more often than
the others), so it counts for less than the review's own evidence. The propagated evidence alone is also kept per
account (``propagated_account_scores_``): it comes from the other accounts of the campaign, not
from the account's own reviews, so the ensemble weighs it as a separate finding.

Examples
--------
>>> import numpy as np
>>> rows = np.array([0, 0, 0, 1, 2]); days = np.array([0, 5, 9, 3, 3])
>>> account_newness(rows, days * 86400, 3).round(3).tolist()
[0.333, 1.0, 1.0]
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.special import gammainc
from scipy.stats import rankdata
from sklearn.utils._param_validation import Interval

from antifraud.detectors.base import Detector
from antifraud.features.data import DetectionData
from antifraud.features.kernels import distinct_count, group_by
from antifraud.graphs.co_purchase import SharedBuyers, shared_buyers

__all__ = [
    "ReviewScorer", "account_newness", "rating_evidence", "excess_share", "coreview_pairs", "propagate_campaigns",
]

DAY = 86400


def account_newness(rows: np.ndarray, times: np.ndarray, n_accounts: int) -> np.ndarray:
    """``1 / sqrt(orders * distinct active days)`` of every account (1 for a one-order account).

    Parameters
    ----------
    rows : ndarray of int
        Account code of every order.
    times : ndarray of int
        Order times in epoch seconds; days are UTC calendar days.
    n_accounts : int
        Number of accounts; accounts without orders get 1.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = np.bincount(rows, minlength=n_accounts)
    day = np.asarray(times, dtype=np.int64) // DAY
    day -= day.min(initial=0)
    indptr, order = group_by(rows, n_accounts)
    days = distinct_count(indptr, order, day, int(day.max(initial=0)) + 1)
    return 1 / np.sqrt(np.maximum(n * days, 1))


def _percentile(values: np.ndarray) -> np.ndarray:
    """Mid-rank population percentile in (0, 1] of the finite values, NaN elsewhere."""
    out = np.full(values.shape, np.nan)
    known = np.isfinite(values)
    if known.any():
        out[known] = rankdata(values[known]) / known.sum()
    return out


def rating_evidence(ratings: np.ndarray, cols: np.ndarray, n_merchants: int, established: np.ndarray) -> np.ndarray:
    """How far each rating sits from its shop's established customers' mean and from the middle.

    Parameters
    ----------
    ratings : ndarray of float
        Rating of every order, NaN where there is none.
    cols : ndarray of int
        Merchant code of every order.
    n_merchants : int
        Number of merchants.
    established : ndarray of bool
        Whether each order's account is established; their ratings make the shop's baseline
        (the shop's mean over all ratings where it has none from established accounts, the
        population's mean where it has no rating at all).

    Returns
    -------
    ndarray of float
        Mean percentile of the two distances, in (0, 1]; 0.5 for orders without a rating.

    Examples
    --------
    >>> r = np.array([4., 4., 4., 1., np.nan]); c = np.array([0, 0, 0, 0, 0])
    >>> rating_evidence(r, c, 1, np.array([True, True, True, False, False])).round(2).tolist()
    [0.56, 0.56, 0.56, 0.81, 0.5]
    """
    rated = np.isfinite(ratings)
    if not rated.any():
        return np.full(ratings.shape, 0.5)

    def mean_by_shop(mask: np.ndarray) -> np.ndarray:
        total = np.bincount(cols[mask], weights=ratings[mask], minlength=n_merchants)
        count = np.bincount(cols[mask], minlength=n_merchants)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    baseline = mean_by_shop(rated & established)
    baseline = np.where(np.isnan(baseline), mean_by_shop(rated), baseline)
    baseline = np.where(np.isnan(baseline), np.nanmean(ratings), baseline)
    middle = (np.nanmin(ratings) + np.nanmax(ratings)) / 2
    deviation = _percentile(np.abs(ratings - baseline[cols]))
    extremity = _percentile(np.abs(ratings - middle))
    return np.where(rated, (deviation + extremity) / 2, 0.5)


def excess_share(hits: np.ndarray, totals: np.ndarray, prior: float) -> tuple[np.ndarray, np.ndarray]:
    """Each group's share of hits above the population's share ``p0``, two ways.

    The share ``(hits + prior * p0) / (totals + prior)`` is pulled towards ``p0`` by ``prior``
    pseudo-counts. Returns the group's score ``(share - p0) / (1 - p0)`` (how much of the
    room above the population the group fills) and the attributable fraction
    ``(share - p0) / share`` (the probability that one of its hits is in excess), both clipped
    at 0.

    Examples
    --------
    >>> score, attributable = excess_share(np.array([1, 15, 50]), np.array([1, 20, 200]), prior=10)
    >>> score.round(3).tolist(), attributable.round(3).tolist()
    ([0.091, 0.429, 0.0], [0.176, 0.502, 0.0])
    """
    hits, totals = np.asarray(hits, dtype=np.float64), np.asarray(totals, dtype=np.float64)
    p0 = hits.sum() / max(totals.sum(), 1)
    if p0 >= 1 or p0 <= 0:
        return np.zeros(hits.shape), np.zeros(hits.shape)
    share = (hits + prior * p0) / (totals + prior)
    return np.clip((share - p0) / (1 - p0), 0, 1), np.clip((share - p0) / share, 0, 1)


def coreview_pairs(pairs: SharedBuyers, n_merchants: int, *, alpha: float, min_lift: float) -> sp.csr_matrix:
    """Merchant pairs that share far more buyers than the buyers' activity explains, and by how much.

    A pair is in excess when it shares at least two buyers, at least ``min_lift`` times the
    configuration model's expectation (:func:`antifraud.graphs.co_purchase.shared_buyers`), with
    a Poisson tail probability below ``alpha``. The test is per pair and uncorrected: it marks
    orders for campaign scoring, not rings for reporting
    (:class:`~antifraud.detectors.PromotedShopDetector` does that, with a corrected test).
    A pair's weight is the share of its shared buyers in excess of ``min_lift`` times the
    expectation, ``1 - min_lift / lift`` (0 at the limit, towards 1 for a campaign's pairs).

    Parameters
    ----------
    pairs : SharedBuyers
        Shop pairs sharing buyers, counted with ``min_shared`` at most 2.
    n_merchants : int
        Number of merchants.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric merchants x merchants matrix of the weights of the pairs in excess, in [0, 1).

    Examples
    --------
    >>> from antifraud.graphs.co_purchase import shared_buyers
    >>> adjacency = sp.csr_matrix(np.kron(np.eye(2), np.ones((3, 2))))  # two blocks of 3 buyers x 2 shops
    >>> pairs = shared_buyers(adjacency)
    >>> pairs.lift.tolist()
    [4.0, 4.0]
    >>> coreview_pairs(pairs, 4, alpha=0.1, min_lift=2).toarray().tolist()
    [[0.0, 0.5, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.5], [0.0, 0.0, 0.5, 0.0]]
    """
    excess = (pairs.observed >= 2) & (pairs.lift >= min_lift) & (pairs.log10_pvalue() > -np.log10(alpha))
    i, j = pairs.i[excess], pairs.j[excess]
    weight = 1 - min_lift / pairs.lift[excess]
    upper = sp.csr_matrix((weight, (i, j)), shape=(n_merchants, n_merchants))
    return (upper + upper.T).tocsr()


def _log_clean(campaign: np.ndarray) -> np.ndarray:
    """``log(1 - campaign)``, finite (a certain campaign order counts as 1 - 1e-9)."""
    return np.log1p(-np.clip(campaign, 0, 1 - 1e-9))


def propagate_campaigns(
    campaign: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    positive: np.ndarray,
    n_accounts: int,
    n_merchants: int,
    *,
    prior: float,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One step of campaign evidence from accounts to the shops they promote and back.

    Each order's account is caught in a campaign *elsewhere* with probability
    ``elsewhere = 1 - prod(1 - campaign)`` over the account's other orders (orders taken as
    independent; leaving the order itself out keeps a shop's own evidence from coming back
    to it). A shop's soft count of positive orders from such accounts is tested against the
    population's share with :func:`excess_share`, where the count is also improbable under
    a Poisson law at the population's share (tail probability below ``alpha``, as for
    co-reviewed pairs: a few camouflage orders of campaign accounts at a small honest shop
    are chance); a positive order's propagated campaign score is the shop's attributable
    fraction times its own ``elsewhere`` (a campaign shop *and* a campaign account).

    One step only: a second would return each account's evidence to it through the shops it
    raised (leaving one order out does not stop echoes over two hops), and repeating does
    not settle (on YelpChi the largest change per round was still 0.02 after 30 rounds).
    ``prior`` and ``alpha`` are the scorer's, used for the same kind of test on shops.

    Parameters
    ----------
    campaign : ndarray of float
        Per order, its campaign score in [0, 1] before propagation.
    rows, cols : ndarray of int
        Account and merchant code of every order.
    positive : ndarray of bool
        Orders whose rating (if any) is not below the middle of the scale: only those promote.
    n_accounts, n_merchants : int
        Numbers of accounts and merchants.
    prior : float
        Pseudo-orders at the population's share each shop's share is shrunk with.
    alpha : float
        Poisson tail probability of a shop's (soft) count below which it can be in excess.

    Returns
    -------
    propagated : ndarray of float
        Per order, its propagated campaign score (0 for orders that are not positive).
    linked : ndarray of float
        Per merchant, the excess share of its positive orders from accounts in campaigns
        elsewhere, scaled to [0, 1] (see :func:`excess_share`).

    Examples
    --------
    Accounts 0 and 1 are caught at shop 0 and both also bought at shop 1; account 2, never
    caught, bought at shops 1 and 2; two quiet shops give the population's share.

    >>> campaign = np.array([.9, .9, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    >>> rows = np.array([0, 1, 0, 1, 2, 2, 3, 3, 4, 4, 5])
    >>> cols = np.array([0, 0, 1, 1, 1, 2, 3, 4, 3, 4, 3])
    >>> propagated, linked = propagate_campaigns(campaign, rows, cols, np.ones(11, bool), 6, 5, prior=1, alpha=0.2)
    >>> propagated.round(2).tolist()
    [0.0, 0.0, 0.6, 0.6, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    >>> linked.round(2).tolist()
    [0.0, 0.39, 0.0, 0.0, 0.0]
    """
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    log_clean = _log_clean(campaign)
    elsewhere = 1 - np.exp(np.bincount(rows, weights=log_clean, minlength=n_accounts)[rows] - log_clean)
    hits = np.bincount(cols[positive], weights=elsewhere[positive], minlength=n_merchants)
    totals = np.bincount(cols, minlength=n_merchants)
    linked, attributable = excess_share(hits, totals, prior)
    expected = totals * hits.sum() / max(totals.sum(), 1)
    chance = gammainc(np.maximum(hits, 1e-12), expected) >= alpha  # P(Poisson(expected) >= hits)
    linked[chance], attributable[chance] = 0, 0
    return np.where(positive, attributable[cols] * elsewhere, 0), linked


class ReviewScorer(Detector):
    """Score orders, accounts and merchants from throwaway accounts, deviant ratings and campaigns.

    See the module docs. It finds no groups (``groups_`` is empty): the ensemble combines its scores with its rings'.

    Parameters
    ----------
    established_orders : int
        Accounts with at least this many orders make a shop's rating baseline.
    prior_orders : float
        Pseudo-orders at the population's share that a shop's campaign shares are shrunk with.
    max_account_shops : int
        Accounts with more shops than this are left out of co-review counts.
    alpha : float
        Poisson tail probability below which a shared-buyer count, or a shop's count of
        positive orders from accounts in campaigns elsewhere, is in excess.
    min_lift : float
        A shared-buyer count must also be at least this many times its expectation; the pair's
        share of shared buyers beyond that, ``1 - min_lift / lift``, weighs the evidence of
        the orders on it.
    campaign_weight : float
        Weight of an order's campaign score in order and account scores.

    Attributes
    ----------
    newness_ : ndarray of float
        Per account, ``1 / sqrt(orders * active days)``.
    evidence_ : ndarray of float
        Per order, rating evidence in (0, 1].
    own_scores_ : ndarray of float
        Per order, ``newness * (1 + evidence) / 2``.
    throwaway_, coreview_, linked_ : ndarray of float
        Per merchant, the three campaign scores (``linked_``: positive orders from accounts
        in campaigns elsewhere, :func:`propagate_campaigns`).
    merchant_scores_ : ndarray of float
        Per merchant, the largest campaign score.
    propagated_ : ndarray of float
        Per order, the campaign score propagated from its account's other orders.
    campaign_ : ndarray of float
        Per order, its shop's campaign score where the order is part of the campaign, else 0,
        or its propagated score if higher.
    order_scores_ : ndarray of float
        Per order, ``1 - (1 - own) * (1 - campaign_weight * campaign)``.
    account_scores_ : ndarray of float
        Per account, ``1 - (1 - mean own score) * prod(1 - campaign_weight * campaign)`` over
        its orders.
    propagated_account_scores_ : ndarray of float
        Per account, ``1 - prod(1 - propagated)`` over its orders: the chance that at least one
        of them is a campaign order by the propagated evidence alone.
    groups_ : list
        Empty: the scorer finds no groups.

    Examples
    --------
    >>> scorer = ReviewScorer().fit(data)  # doctest: +SKIP
    >>> scorer.order_scores_.argmax()  # doctest: +SKIP
    """

    cost: ClassVar[float] = 6

    #: Fewest buyers two shops must share for their co-review to be tested.
    min_shared: ClassVar[int] = 2
    _parameter_constraints = {
        "established_orders": [Interval(Integral, 1, None, closed="left")],
        # The attributable fraction divides by a shop's shrunk share, positive only with a prior.
        "prior_orders": [Interval(Real, 0, None, closed="neither")],
        "max_account_shops": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        # Below 1, a pair sharing fewer buyers than chance would be in excess.
        "min_lift": [Interval(Real, 1, None, closed="left")],
        "campaign_weight": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        *,
        established_orders: int = 3,
        prior_orders: float = 10.0,
        max_account_shops: int = 100,
        alpha: float = 1e-4,
        min_lift: float = 10.0,
        campaign_weight: float = 0.5,
    ) -> None:
        self.established_orders = established_orders
        self.prior_orders = prior_orders
        self.max_account_shops = max_account_shops
        self.alpha = alpha
        self.min_lift = min_lift
        self.campaign_weight = campaign_weight

    def fit(self, X: DetectionData, y: None = None, *, shared: SharedBuyers | None = None) -> ReviewScorer:
        """Compute the scores of ``X``'s orders, accounts and merchants.

        Parameters
        ----------
        X : DetectionData
            The export.
        y : None
            Ignored.
        shared : SharedBuyers, optional
            The shop pairs' shared buyers already counted on ``X``'s orders (with this
            scorer's ``max_account_shops`` and ``min_shared`` at most 2).

        Returns
        -------
        self : ReviewScorer
        """
        return super().fit(X, y, shared=shared)

    def _fit(self, X: DetectionData, *, shared: SharedBuyers | None) -> None:
        """Compute the scores of ``X``'s orders, accounts and merchants."""
        rows = X.order_rows.astype(np.int64)
        cols = X.order_cols.astype(np.int64)
        n_accounts, n_merchants = X.graph.n_rows, X.graph.n_cols
        ratings = X.ratings if X.ratings is not None else np.full(rows.shape, np.nan)
        orders_per_account = np.bincount(rows, minlength=n_accounts)
        self.newness_ = account_newness(rows, X.times, n_accounts)
        established = orders_per_account[rows] >= self.established_orders
        self.evidence_ = rating_evidence(ratings, cols, n_merchants, established)
        self.own_scores_ = self.newness_[rows] * (1 + self.evidence_) / 2

        # Throwaway campaign: positive (or unrated) orders from accounts active on a single day.
        middle = (np.nanmin(ratings) + np.nanmax(ratings)) / 2 if np.isfinite(ratings).any() else np.nan
        positive = ~(ratings <= middle)
        one_day = self.newness_ * np.sqrt(orders_per_account) >= 1  # active days == 1
        throwaway_order = positive & one_day[rows]
        self.throwaway_, throwaway_hit = excess_share(np.bincount(cols[throwaway_order], minlength=n_merchants),
                                                      np.bincount(cols, minlength=n_merchants), self.prior_orders)

        # Co-review campaign: edges whose account also bought at a merchant in excess with this one.
        adjacency = X.graph.to_scipy().tocsr()
        adjacency = (adjacency > 0).astype(np.float64)
        if shared is None:
            shared = shared_buyers(adjacency, max_account_shops=self.max_account_shops, min_shared=self.min_shared)
        shared.check(self.max_account_shops, self.min_shared)
        pairs = coreview_pairs(shared, n_merchants, alpha=self.alpha, min_lift=self.min_lift)
        pairs.data = np.log1p(-pairs.data)
        # Per edge, log prod(1 - weight) over the excess pairs joining its shop to the account's
        # other shops; edges on no pair (with weight above 0) are not stored.
        on_pair = adjacency.multiply(adjacency @ pairs).tocsr()
        on_pair.eliminate_zeros()
        on_pairs = -np.expm1(np.asarray(on_pair[rows, cols]).ravel())
        buyers = np.bincount(adjacency.indices, minlength=n_merchants)
        on_pair_buyers = np.bincount(on_pair.indices, minlength=n_merchants)
        self.coreview_, coreview_hit = excess_share(on_pair_buyers, buyers, self.prior_orders)

        campaign = np.maximum.reduce([
            np.where(throwaway_order, throwaway_hit[cols], 0),
            np.where(positive, on_pairs * coreview_hit[cols], 0),
            np.where(positive, self.coreview_[cols], 0),
        ])
        self.propagated_, self.linked_ = propagate_campaigns(
            campaign, rows, cols, positive, n_accounts, n_merchants, prior=self.prior_orders, alpha=self.alpha
        )
        self.campaign_ = np.maximum(campaign, self.propagated_)
        self.merchant_scores_ = np.maximum.reduce([self.throwaway_, self.coreview_, self.linked_])
        weighed = self.campaign_weight * self.campaign_
        self.order_scores_ = 1 - (1 - self.own_scores_) * (1 - weighed)
        mean_own = np.bincount(rows, weights=self.own_scores_, minlength=n_accounts) / np.maximum(orders_per_account, 1)
        clean = np.exp(np.bincount(rows, weights=_log_clean(weighed), minlength=n_accounts))
        self.account_scores_ = 1 - (1 - mean_own) * clean
        propagated_clean = np.exp(np.bincount(rows, weights=_log_clean(self.propagated_), minlength=n_accounts))
        self.propagated_account_scores_ = 1 - propagated_clean
        self.groups_ = []
