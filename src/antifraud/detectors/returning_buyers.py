"""Returning buyers: a shop whose new customers of a few weeks come back far more than its own.

A careful ring on one or two small shops leaves little but this: within a few weeks, a shop
gets many accounts that buy there on several days, where its own history and shops like it
give few (hard ``dense_block`` and ``camouflage`` rings of :mod:`antifraud.synth.rings`:
recruited veterans or long-lived paid accounts, about three orders each at the shop over two to
six weeks, at the ordinary daily rhythm, which behave as honest buyers do).

**Returning customers.** Each (account, shop) pair with orders is one *customer* of the shop,
dated by its first order there. It *returns* when it ordered there on at least ``min_days``
distinct days, all within ``max_span_days`` of its first: a customer who comes back within
weeks. A loyal regular, who buys at its favourite shop again and again over the whole export,
is a customer whose returns span months: its habit, not a burst, so it is not counted.

**Bursts.** Every window of 1, 2, 4, ... up to ``max_window_days`` days of every shop is tested
for an excess of returning customers, ``x`` among the ``n`` customers whose first order falls in
the window, with :mod:`~antifraud.detectors.rating_anomalies`' machinery and its two nulls:

- **shift**: a customer returns with the shop's odds times its first day's: the share of
  returning customers is the shop's own outside the window, smoothed by the prior of its
  volume class, times the window's *drift*: how much likelier the customers of the class's
  other shops who first came on the window's days return than the class's on average (an
  export's first days hold old customers seen again, the more so at big shops, whose customers
  buy often; its last days customers with no time left to return; a festival brings new
  customers on the same days to every shop). The shop's customers outside the window count by
  their own days' odds in learning the shop's share: a small shop whose few other customers
  came too late to return does not make its window's days look likely. The class's
  prior is learned from its lower nine tenths by share (:func:`~antifraud.detectors.
  rating_anomalies.trimmed_prior`): rings are a tenth of the small shops, where they would
  widen it for every shop of the class;
- **timing**: the shop's returning customers spread over the days as its volume class's do.

The p-value is the smaller of the two, Bonferroni-corrected for every test that could reject
(Tarone's count). Honest crowds also raise a shop's returning customers, by less: the window's
returning customers must be at least ``min_lift`` times what the shift null expects, an
effect size on top of the test.

**The shop's own habit.** The class prior, learned without the shops of high shares, says how
rarely shops of a volume see so many returning customers; it cannot say that some shops always
do (a grocery, pet-food or baby-goods shop, whose customers reorder within weeks: honest shops
of one volume differ in their share by their trade). So the most significant window of each
episode is tested once more, at ``alpha`` Bonferroni-corrected over the episodes, against the
shop's share outside it smoothed by a prior that keeps that spread: the volume class's, learned
from every shop's customers outside its episodes' most significant windows (a ring's own window
left out, so it does not widen the prior; a reordering shop's other customers kept, so they
do), the window's drift taken as at least 1 (the days' odds come from shops without the habit:
a grocery's festival customers reorder as its others do). A shop whose customers come back
like this all the time has no window that stands out from its others.

**Members.** Overlapping significant windows of a shop are one episode; its members are the
returning customers whose first order falls on the episode's days where they are densest
(Kulldorff's most likely cluster, :func:`~antifraud.detectors.rating_anomalies._burst`). A
group most of whose members last came within ``crowd_days`` days came back together, for one
event: a product drop (fans who had bought at the shop in the weeks before buy the new item
within minutes) or a quality incident's batch; it is not reported. Where those days are the
export's last, the last days are cut off by the export's end (a ring still active then has
most of its last days there): the group came back together only if most of its returns (each
member's later days at the shop) fall within ``crowd_days`` days too (a ring's are spread
over its weeks). Nor is a group most of whose members' rated last orders at the shop rate it
low (at most ``max_low_rating``): they came back disappointed, an incident's batch over a
day or two, where a promotion's accounts rate it high. Groups whose members buy at
each other's shops far more than chance are one ring on several shops, and are joined.
A group promotes its shops (kind ``"dense_block"``); its score is ``1 - p``.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.stats import poisson
from sklearn.utils._param_validation import Interval

from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup
from antifraud.detectors.rating_anomalies import (DAY, MAX_LOW_RATING, _burst, _episodes, _set_scores, _windows,
                                                   trimmed_prior, volume_class, volume_prior)
from antifraud.features.data import DetectionData

__all__ = ["ReturningBuyerDetector", "customers"]

#: The one band of marked customers: those who return.
_RETURNING = 0


def customers(rows: np.ndarray, cols: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every (account, shop) pair with orders: its account, shop, first and last day there, and
    on how many distinct days it ordered there, in (shop, account) order.

    Parameters
    ----------
    rows, cols : ndarray of int
        Account and shop code of every order.
    day : ndarray of int
        Day of every order (from 0).

    Returns
    -------
    account, shop, first, last, days : ndarray of int64
        One entry per pair.
    order : ndarray of int64
        Positions of the orders in (shop, account, day) order, so the orders of pair ``k`` are
        ``order[start[k]:start[k + 1]]``.
    start : ndarray of int64
        Where each pair's orders begin in ``order``, and their total at the end.

    Examples
    --------
    >>> account, shop, first, last, days, _, _ = customers(np.array([0, 0, 1, 0]), np.array([5, 5, 5, 6]),
    ...                                                    np.array([3, 9, 4, 4]))
    >>> account.tolist(), shop.tolist(), first.tolist(), last.tolist(), days.tolist()
    ([0, 1, 0], [5, 5, 6], [3, 4, 4], [9, 4, 4], [2, 1, 1])
    """
    rows, cols, day = (np.asarray(v, dtype=np.int64) for v in (rows, cols, day))
    n_rows, n_days = int(rows.max()) + 1, int(day.max()) + 1
    key = (cols * n_rows + rows) * n_days + day
    del rows, cols, day
    order = np.argsort(key, kind="stable")
    key = key[order]
    start = np.flatnonzero(np.diff(key // n_days, prepend=-1))
    bounds = np.append(start, key.size)
    days = np.add.reduceat((np.diff(key, prepend=-1) != 0).astype(np.int64), start)
    pair, first, last = key[start] // n_days, key[start] % n_days, key[bounds[1:] - 1] % n_days
    del key
    return pair % n_rows, pair // n_rows, first, last, days, order, bounds


def _came_back_together(orders: list[np.ndarray], times: np.ndarray, origin: int, end: int, within: int) -> bool:
    """Whether customers came back together: most of their last days at the shop fall within
    ``within`` consecutive days before the export's last ``within`` days (day ``end`` is its
    last), or, where most fall in those last days (cut off by the export's end), most of their
    returns (every distinct day after a customer's first) do.

    ``orders`` holds each customer's orders at the shop, as positions in ``times``, and days count
    from ``origin``.

    Examples
    --------
    >>> def visits(*days):  # each customer's days at the shop, as orders at noon
    ...     times = np.concatenate(days) * DAY + DAY // 2
    ...     return [np.arange(len(d)) + sum(map(len, days[:i])) for i, d in enumerate(days)], times
    >>> _came_back_together(*visits([1, 5], [2, 5], [3, 6], [1, 8]), 0, end=20, within=2)  # a drop on day 5
    True
    >>> _came_back_together(*visits([1, 4, 9], [2, 6, 9], [3, 7, 9]), 0, end=9, within=2)  # a ring cut off
    False
    >>> _came_back_together(*visits([1, 9], [2, 9], [3, 8]), 0, end=9, within=2)  # a drop on the last day
    True
    """
    days = [np.unique((times[o] - origin) // DAY) for o in orders]
    last = np.array([d[-1] for d in days])
    cut = last > end - within
    if _together(last[~cut], within, len(last)):
        return True
    return 2 * int(cut.sum()) > len(last) and _together(np.concatenate([d[1:] for d in days]), within)


def _rated_low(orders: list[np.ndarray], times: np.ndarray, ratings: np.ndarray, max_low: float) -> bool:
    """Whether most of the customers' last orders at the shop that are rated rate it at most
    ``max_low``: customers who came back disappointed (a quality incident's batch), where a
    promotion's accounts rate it high.

    Examples
    --------
    Three customers, whose last orders rate the shop 1, 2 and nothing: disappointed. Rated on
    their first orders alone, they are not.

    >>> times, ratings = np.arange(6), np.array([5.0, 1.0, 5.0, 2.0, 4.0, np.nan])
    >>> _rated_low([np.array([0, 1]), np.array([2, 3]), np.array([4, 5])], times, ratings, 2.0)
    True
    >>> _rated_low([np.array([0]), np.array([2]), np.array([4, 5])], times, ratings, 2.0)
    False
    """
    rating = ratings[np.array([o[np.argmax(times[o])] for o in orders])]  # of each customer's last order
    rated = rating[~np.isnan(rating)]
    return bool(2 * np.count_nonzero(rated <= max_low) > rated.size)


def _together(days: np.ndarray, within: int, of: int | None = None) -> bool:
    """Whether more than half of ``of`` items (default: of ``days``) are ``days`` falling within
    ``within`` consecutive days.

    Examples
    --------
    >>> _together(np.array([9, 9, 10, 3]), 3), _together(np.array([9, 12, 15, 3]), 3)
    (True, False)
    >>> _together(np.array([9, 9]), 3, of=4)
    False
    """
    if days.size == 0:
        return False
    days = np.sort(days)
    return bool(2 * (np.searchsorted(days, days + within) - np.arange(days.size)).max() > (days.size if of is None else of))


class ReturningBuyerDetector(Detector):
    """Accounts that keep coming back to a shop within weeks, far more than its history explains.

    See the module docs for the tests (a window's excess of returning customers against the
    shop's smoothed history and against its class's timing, with an effect-size floor) and
    their null models.

    Parameters
    ----------
    max_window_days : int
        Longest window tested, in days: windows last 1, 2, 4, ... days up to it.
    max_span_days : int
        A customer returns only if all its days at the shop fall within this many days of its
        first (weeks, not a regular's months).
    min_days : int
        Fewest distinct days at the shop that make a customer returning.
    min_lift : float
        Least ratio of the window's returning customers to what the shift null expects.
    crowd_days : int
        A group most of whose members last came to the shop within this many days came back
        together, for one event (a product drop, a quality incident's batch), and is not
        reported; within the export's last ``crowd_days`` days, where the export cuts the
        last days off, most of its returns must fall within them too.
    max_low_rating : float
        Highest low rating: a group most of whose members' rated last orders at the shop rate
        it this or lower came back disappointed (a quality incident's batch), not to promote
        it, and is not reported.
    alpha : float
        Family-wise level of both tests and of the test against the shop's own habit (each
        Bonferroni-corrected: over every window, over the episodes).
    min_size : int
        Fewest accounts a group needs.

    Attributes
    ----------
    groups_ : list of AccountGroup
        Groups, best first, of kind ``"dense_block"`` (``merchants`` the shops). ``evidence``
        holds ``log10_p`` (the smaller of the two tests', see the module docs; of a joined
        group, the largest of its parts'),
        ``log10_p_shift`` and ``log10_p_timing`` (each corrected), ``log10_p_own`` (against the
        shop's own habit, uncorrected) and, of the most significant
        window, ``window_ratings`` (its customers), ``extreme_ratings`` (those returning),
        ``expected_extreme`` (under the shift null), ``shop_extreme_ratings`` (the shop's
        returning customers) and ``expected_in_window`` (under the timing null). ``details``:
        ``size``, ``days`` (of the cluster the members come from), ``episode_days``,
        ``windows`` (significant windows merged) and, of a joined group, ``shops``.
    account_scores_ : ndarray of float
        Per account, the score of its best group (0 for none).
    merchant_scores_ : ndarray of float
        Per merchant, the score of its best group (0 for none).
    order_scores_ : ndarray of float
        Per order, the score of the group whose member placed it at the group's shop.

    Examples
    --------
    >>> detector = ReturningBuyerDetector().fit(data)  # doctest: +SKIP
    >>> [(g.kind, g.merchants) for g in detector.groups_]  # doctest: +SKIP
    """

    cost: ClassVar[float] = 6  # 0.60 s at 1M orders (benchmarks/.data/synth-1000000, best of 3)
    _parameter_constraints = {
        "max_window_days": [Interval(Integral, 1, None, closed="left")],
        "max_span_days": [Interval(Integral, 1, None, closed="left")],
        "min_days": [Interval(Integral, 2, None, closed="left")],
        "min_lift": [Interval(Real, 1, None, closed="left")],
        "crowd_days": [Interval(Integral, 1, None, closed="left")],
        "max_low_rating": [Interval(Real, None, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "min_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        max_window_days: int = 32,
        max_span_days: int = 42,
        min_days: int = 2,
        min_lift: float = 3.0,
        crowd_days: int = 2,
        max_low_rating: float = MAX_LOW_RATING,
        alpha: float = 0.001,
        min_size: int = 5,
    ) -> None:
        self.max_window_days = max_window_days
        self.max_span_days = max_span_days
        self.min_days = min_days
        self.min_lift = min_lift
        self.crowd_days = crowd_days
        self.max_low_rating = max_low_rating
        self.alpha = alpha
        self.min_size = min_size

    def _fit(self, X: DetectionData) -> None:
        """Test every shop's windows of new customers for those who return, and take their members."""
        _set_scores(self, X, self._groups(X) if X.order_rows.size else [])

    def _groups(self, X: DetectionData) -> list[tuple[AccountGroup, np.ndarray]]:
        """The groups, each with the positions of its members' orders at its shops."""
        origin = int(X.times.min())
        day = (X.times - origin) // DAY
        end_day = int(day.max())
        account, shop, first, last, days, by_pair, bounds = customers(X.order_rows, X.order_cols, day)
        returning = (days >= self.min_days) & (last - first <= self.max_span_days)
        lengths = 2 ** np.arange(int(np.log2(self.max_window_days)) + 1)
        span = end_day + 1 + int(lengths[-1])  # one shop's windows never reach the next shop's keys
        key = shop * span + first
        del day, shop, first, last, days  # a pair's shop and first day are in its key: freed for the window scan
        order = np.argsort(key, kind="stable")
        key, account, returning, pair = key[order], account[order], returning[order], order
        # Among the customers of the other shops of each volume class who first came on each day,
        # the share returning over the class's: an export's first days hold old customers seen
        # again (the more so at big shops, whose customers buy often), its last days those with no
        # time to return. A shop's own customers are left out of its days' share (one customer at
        # the class's share in their place): a ring would make its own days look likely.
        start = np.flatnonzero(np.diff(key, prepend=-1))  # the customers of each (shop, first day)
        size = np.diff(np.append(start, key.size))
        returned = np.add.reduceat(returning, start) if start.size else np.zeros(0, dtype=np.int64)
        klass = volume_class(np.bincount(key[start] // span, weights=size))[key[start] // span]
        cell = klass * span + key[start] % span
        share = np.bincount(klass, weights=returned) / np.bincount(klass, weights=size).clip(1)
        chance = (np.bincount(cell, weights=returned)[cell] - returned + share[klass]) / (
            np.bincount(cell, weights=size)[cell] - size + 1)
        odds = np.repeat(np.divide(chance, share[klass], out=np.ones(chance.size), where=share[klass] > 0), size)
        del start, size, returned, klass, cell, chance
        windows = _windows(key, {_RETURNING: returning}, span, lengths, X.graph.n_cols, trimmed_prior,
                           self.min_size, {_RETURNING: odds})
        groups = []
        episodes = _episodes(windows, _RETURNING, self.alpha, self.min_size, span, volume_prior)
        own_level = np.log10(self.alpha / max(len(episodes), 1))
        for e in episodes:
            evidence = dict(e.evidence)
            if evidence["extreme_ratings"] < self.min_lift * evidence["expected_extreme"]:
                continue  # honest crowds raise a shop's returning customers too, by less
            if evidence["log10_p_own"] >= own_level:
                continue  # the shop's customers come back like this all the time: it sells what is reordered
            log10_p = min(evidence["log10_p_shift"], evidence["log10_p_timing"])
            lo, hi = np.searchsorted(key, [e.shop * span + e.first_day, e.shop * span + e.end_day])
            begin, end = _burst(windows, e, np.arange(lo, hi), key, span, returning)
            lo, hi = np.searchsorted(key, [e.shop * span + begin, e.shop * span + end])
            inside = lo + np.flatnonzero(returning[lo:hi])
            if inside.size < self.min_size:
                continue
            members = np.sort(account[inside])
            carried = [by_pair[bounds[k]:bounds[k + 1]] for k in pair[inside].tolist()]
            if _came_back_together(carried, X.times, origin, end_day, self.crowd_days):
                continue  # the shop's customers came back together: a drop, an incident's batch
            if X.ratings is not None and _rated_low(carried, X.times, X.ratings, self.max_low_rating):
                continue  # they came back to complain (an incident's batch), not to promote
            evidence["log10_p"] = log10_p
            details = {"size": float(members.size), "days": float(end - begin),
                       "episode_days": float(e.end_day - e.first_day), "windows": evidence.pop("windows")}
            target = np.array([e.shop], dtype=np.int64)
            groups.append((AccountGroup(members, float(1 - 10**log10_p), "dense_block", target, evidence, details),
                           np.concatenate(carried)))
        return _joined(groups, X, self.alpha)


def _joined(groups: list[tuple[AccountGroup, np.ndarray]], X: DetectionData, alpha: float,
            ) -> list[tuple[AccountGroup, np.ndarray]]:
    """Groups (with their orders) whose members buy at each other's shops far more than chance,
    joined into one: a ring on several shops comes back to each, some of its accounts to one
    and some to another.

    Under independence the number of one group's members who ordered at the other's shops is
    Poisson with mean its size times the share of all accounts who did; two groups are joined
    where either direction's upper tail, Bonferroni-corrected for every pair, is below
    ``alpha``. A joined group holds every shop and member of its parts, the evidence of its most
    significant part and the p-value of its least (each part rejects its null).
    """
    graph = X.graph
    n = len(groups)
    if n < 2:
        return groups

    def incidence(rows: list[np.ndarray], n_cols: int) -> sp.csr_matrix:
        """The ``n`` groups x ``n_cols`` 0/1 matrix of ``rows``."""
        sizes = [r.size for r in rows]
        return sp.csr_matrix((np.ones(sum(sizes)), (np.repeat(np.arange(n), sizes), np.concatenate(rows))),
                             shape=(n, n_cols))

    member_of = incidence([g.accounts for g, _ in groups], graph.n_rows)
    shops = incidence([g.merchants for g, _ in groups], graph.n_cols)
    # Which accounts ordered at any of each group's shops, and how many of each group's members did.
    bought = (graph.to_scipy() @ shops.T).tocsr()
    bought.data[:] = 1.0
    seen = (member_of @ bought).toarray()
    customers_of = np.bincount(graph.indices, minlength=graph.n_cols).astype(np.float64)
    share = np.minimum(shops @ customers_of / graph.n_rows, 1.0)
    expected = np.asarray(member_of.sum(axis=1)).ravel()[:, None] * share[None, :]
    tail = poisson.logsf(seen - 1, expected) / np.log(10)  # [i, j]: i's members at j's shops
    tail = np.minimum(tail, tail.T)
    linked = tail + np.log10(n * (n - 1)) < np.log10(alpha)
    np.fill_diagonal(linked, False)
    _, component = connected_components(sp.csr_matrix(linked), directed=False)
    parts: dict[int, list[int]] = {}
    for i in range(n):
        parts.setdefault(int(component[i]), []).append(i)
    joined = []
    for members in parts.values():
        if len(members) == 1:
            joined.append(groups[members[0]])
            continue
        part = [groups[i][0] for i in members]
        best = min(part, key=lambda g: g.evidence["log10_p"])
        log10_p = max(g.evidence["log10_p"] for g in part)
        accounts = np.unique(np.concatenate([g.accounts for g in part]))
        shops = np.unique(np.concatenate([g.merchants for g in part]))
        evidence = best.evidence | {"log10_p": log10_p}
        details = best.details | {"size": float(accounts.size), "shops": float(shops.size)}
        group = AccountGroup(accounts, float(1 - 10**log10_p), "dense_block", shops, evidence, details)
        joined.append((group, np.unique(np.concatenate([groups[i][1] for i in members]))))
    return joined
