"""Rating manipulation: shops whose new raters' ratings over a few days depart from their history.

In the spirit of BIRDNEST (Hooi et al., SDM 2016), a shop's ratings and their timing are read
against its own organic history and against shops like it, through priors learned from the
population (shops of the same ``floor(log2(volume))`` class; :func:`volume_prior`: mean their
pooled shares, precision by the method of moments from how much their shares vary beyond
multinomial noise). Ratings fall in three bands: low (at most ``max_low_rating``), high (at
least ``min_high_rating``) and the middle.

**Who rates.** A burst alone does not tell an attack from a quality incident, whose bad batch
brings a burst of honest one-star reviews, or a promotion from fans at a new product's drop;
who wrote the ratings does. A rated order is **established** when its account ordered at the
same shop at least ``established_days`` days before or after it (the shop's own customer, who
bought before or comes back), or placed at least ``established_orders`` other orders at least
``established_days`` days before or after it (a customer with a life of its own elsewhere);
its rater is **new** otherwise. Paid raters and attackers, whose accounts exist for the job,
are new even where they keep up a cover order or two elsewhere (a hard attack's long-lived
accounts do): one order a week away does not make an account a customer.

**Bursts.** Every window of 1, 2, 4, ... up to ``max_window_days`` days of every shop (on a
grid: see :func:`_windows`) is tested for an excess of the ratings of the low, and of the high,
band *by new raters*, ``x`` among the window's ``n`` ratings, under two null models:

- **shift**: the window's ratings are drawn from the shop's own mix, whose Beta posterior for
  the share of new raters' ratings of the band is the prior of its volume class updated with
  the shop's ratings *outside* the window; ``x`` is then beta-binomial. The class's prior is
  learned without the shops it calls outliers (:func:`robust_prior`): a few attacked shops
  would otherwise widen it for every shop of their class. A shop whose new raters always
  rate it low has that history.
- **timing**: the shop's ``N`` new raters' ratings of the band spread over the days as its
  volume class's do, with a Dirichlet over days (a festival raises every shop's volume on the
  same days); the window's count is ``BetaBinomial(N, c q, c (1 - q))``, ``q`` the class's
  share of them on the window's days and ``c`` its precision.

Each p-value is the beta-binomial upper tail (:func:`beta_binomial_log_sf`), Bonferroni-
corrected for every test that could reject: both tests of both bands of every window whose
margins let it reach ``min_size`` (Tarone's count, :func:`_windows`). Overlapping
significant windows of one shop and band are one episode.

**Raters.** The raters' null model is that the ``m`` ratings of the band in the episode's most
significant window come from accounts established as often as those of the same band at the
other shops on the same days (share ``r``, which follows the export's edges and festivals' new
buyers): the number established is ``Binomial(m, r)``, and its lower tail is the raters'
p-value. It is one test per episode, not the least of many as the burst's is, so it is not
corrected for the episodes: the ensemble's false-discovery rate over the rings it proposes is
what controls their number (corrected for every episode, it stayed near 0.01 for 19 hard
attackers of whom 4 were established where 12.7 were expected). Honest crowds differ from the
market's raters too (a product drop's fans are partly accounts of few orders), by less than
paid ones: the odds that a rater is new must also be at least ``min_lift`` times the market's,
an effect size on top of the test. And a crowd new to the shop rates it as its customers do,
in every band, where paid raters give the band alone: the odds must be at least ``min_lift``
times those of the shop's raters of the other bands in the window too (counted with one rater
at the market's odds, so that a shop with no other raters then is held to the market's). An
episode is a group when the burst (the smaller of its two p-values) and the raters both reject
at ``alpha``: an intersection-union test, whose p-value,
``evidence["log10_p"]``, is the larger of the two. Its members are the new raters of the band
on the episode's days where they are densest (:func:`_burst`, Kulldorff's most likely
cluster), not on all the days its longest windows span.

A high-band group promotes its shop (kind ``"dense_block"``, ``merchants`` the shop); a
low-band group attacks it (``"negative_attack"``, the shop in ``victims``, ``merchants``
empty). A group's score is ``1 - p``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from numbers import Integral, Real
from typing import ClassVar, NamedTuple

import numba
import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from scipy.stats import binom
from sklearn.utils._param_validation import Interval

from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.features.data import DetectionData

__all__ = ["RatingAnomalyDetector", "beta_binomial_log_sf", "robust_prior", "trimmed_prior", "volume_class",
           "volume_prior"]

DAY = 86400
#: The highest low rating (an attack's, a disappointed buyer's), every detector's default.
MAX_LOW_RATING = 2.0
#: Rating bands, in this order: at most ``max_low_rating``, between, at least ``min_high_rating``.
LOW, MIDDLE, HIGH = 0, 1, 2
#: The band of each group kind: a burst of high ratings promotes, one of low ratings attacks.
_KIND = {HIGH: "dense_block", LOW: "negative_attack"}


@numba.njit(cache=True, nogil=True)
def _log_sf(x, n, a, b):  # pragma: no cover - compiled
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        k, m = x[i], n[i]
        if k <= 0:
            continue
        # log pmf(k), then each next term by the ratio pmf(j + 1) / pmf(j), summed in log space.
        term = (math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1)
                + math.lgamma(k + a[i]) + math.lgamma(m - k + b[i]) - math.lgamma(m + a[i] + b[i])
                - math.lgamma(a[i]) - math.lgamma(b[i]) + math.lgamma(a[i] + b[i]))
        total = term
        for j in range(k, m):
            term += math.log((m - j) * (j + a[i]) / ((j + 1) * (m - j - 1 + b[i])))
            high, low = max(total, term), min(total, term)
            total = high + math.log1p(math.exp(low - high))
            if term < total - 40 and b[i] >= 1:
                break  # b >= 1: the pmf is unimodal, so the terms left keep falling (under 1e-17)
        out[i] = min(total, 0.0)
    return out


def beta_binomial_log_sf(x: np.ndarray, n: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Natural log of ``P(X >= x)`` for ``X ~ BetaBinomial(n, a, b)``, elementwise.

    The tail is summed term by term in log space (a compiled loop over ``n - x + 1`` terms), so
    it neither underflows for the tiny p-values of an attack nor costs scipy's generic
    summation.

    Parameters
    ----------
    x, n : ndarray of int
        Observed counts and numbers of trials (``0 <= x <= n``).
    a, b : ndarray of float
        Positive shape parameters.

    Examples
    --------
    >>> from scipy.stats import betabinom
    >>> x, n, a, b = np.array([0, 3, 9]), np.array([10, 10, 10]), np.array([2.0, 2.0, 0.5]), np.array([5.0, 5.0, 9.0])
    >>> np.allclose(np.exp(beta_binomial_log_sf(x, n, a, b)), betabinom.sf(x - 1, n, a, b))
    True
    """
    return _log_sf(np.asarray(x, dtype=np.int64), np.asarray(n, dtype=np.int64),
                   np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


def volume_class(totals: np.ndarray) -> np.ndarray:
    """Each shop's volume class, ``floor(log2(total))`` (0 for shops without counts).

    Examples
    --------
    >>> volume_class(np.array([0, 1, 7, 8, 1000])).tolist()
    [0, 0, 2, 3, 9]
    """
    return np.floor(np.log2(np.maximum(totals, 1))).astype(np.int64)


def volume_prior(counts: sp.spmatrix | np.ndarray, learn: np.ndarray | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Dirichlet prior of each shop's shares over categories, learned from shops of similar volume.

    Shops with counts fall into classes by ``floor(log2(total))``. A class's mean is its pooled
    shares (with one pseudo-count per category, Laplace's rule, so that none is impossible);
    its precision ``c`` matches, by the method of moments, the spread of its shops' shares:
    under a Dirichlet-multinomial a shop with ``n`` counts has
    ``E sum_k (share_k - mean_k) ** 2 = sum_k mean_k (1 - mean_k) (1 + c / n) / (1 + c)``,
    so with ``R`` the observed spread over ``sum_k mean_k (1 - mean_k)`` and ``u`` the class's
    mean ``1 / n``, ``c = (1 - R) / (R - u)``. It is kept between one count and the class's
    total (shares that vary no more than multinomial noise: the class's distribution is
    known as well as its counts tell).

    Parameters
    ----------
    counts : sparse matrix or ndarray of shape (n_shops, n_categories)
        Counts per shop and category (rating bands, or days).
    learn : ndarray of bool of shape (n_shops,), optional
        The shops the prior is learned from (default all); every shop still gets its class.

    Returns
    -------
    classes : ndarray of int of shape (n_shops,)
        Each shop's class (0 for shops without counts).
    mean : ndarray of shape (n_classes, n_categories)
        Prior mean of the shares of a class's shops.
    precision : ndarray of shape (n_classes,)
        Prior precision (pseudo-counts) of a class's shops.

    Examples
    --------
    Four shops of 8-15 ratings in three bands, two mostly high and two mixed: their shares vary
    far more than multinomial noise, so the prior is weak (five pseudo-ratings).

    >>> classes, mean, precision = volume_prior(np.array([[0, 1, 9], [1, 0, 9], [4, 3, 3], [3, 4, 3]]))
    >>> classes.tolist(), mean[3].round(3).tolist(), round(float(precision[3]), 2)
    ([3, 3, 3, 3], [0.209, 0.209, 0.581], 5.22)
    """
    counts = sp.csr_matrix(counts, dtype=np.float64)
    n_shops, n_categories = counts.shape
    totals = np.asarray(counts.sum(axis=1)).ravel()
    classes = volume_class(totals)
    n_classes = int(classes.max()) + 1 if n_shops else 1
    rated = totals > 0
    if learn is not None:
        rated &= learn
    members = sp.csr_matrix((rated.astype(np.float64), (classes, np.arange(n_shops))), shape=(n_classes, n_shops))
    pooled = (members @ counts).toarray()
    mean = (pooled + 1) / (pooled.sum(axis=1, keepdims=True) + n_categories)
    # Per shop, sum_k (share_k - mean_k) ** 2 over its non-zero shares and its class's squares.
    entries = counts.tocoo()
    share = entries.data / totals[entries.row]
    cross = np.bincount(entries.row, weights=share * (share - 2 * mean[classes[entries.row], entries.col]),
                        minlength=n_shops)
    spread = cross + (mean**2).sum(axis=1)[classes]
    shops_in = np.maximum(np.bincount(classes[rated], minlength=n_classes), 1)
    r = np.bincount(classes[rated], weights=spread[rated], minlength=n_classes) / shops_in
    u = np.bincount(classes[rated], weights=1 / totals[rated], minlength=n_classes) / shops_in
    # One category (a one-day export's days) has no spread to measure: r is NaN, the precision
    # then the largest the class's counts allow.
    with np.errstate(divide="ignore", invalid="ignore"):
        r /= (mean * (1 - mean)).sum(axis=1)
        c = np.where(r > u, (1 - r) / (r - u), np.inf)
    return classes, mean, np.clip(c, 1, np.maximum(pooled.sum(axis=1), 1))


def trimmed_prior(counts: np.ndarray, keep: float = 0.9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`volume_prior` of two-category counts ``(x, rest)``, learned from the lower ``keep``
    share of each class's shops by their share of ``x``.

    Where outlying shops are a tenth of a class and only moderately outlying (rings at small
    shops), the method of moments cannot tell them from the class's spread, and a prior that
    re-admits every shop its test cannot reject (:func:`robust_prior`) ends as weak as with
    them; trimming leaves them out whatever their number, at the price of a narrower spread.

    Examples
    --------
    Forty shops of 30 counts with zero or one in the first category, and four with ten:
    trimmed, the prior is strong.

    >>> counts = np.array([[0, 30], [1, 29]] * 20 + [[10, 20]] * 4)
    >>> classes, mean, precision = trimmed_prior(counts)
    >>> round(float(mean[4, 0]), 3), bool(precision[4] > 100), bool(volume_prior(counts)[2][4] < 10)
    (0.017, True, True)
    """
    counts = np.asarray(counts, dtype=np.int64)
    x, n = counts[:, 0], counts.sum(axis=1)
    classes = volume_prior(counts)[0]
    in_class = np.bincount(classes[n > 0], minlength=int(classes.max()) + 1)
    share = x / np.maximum(n, 1)
    order = np.lexsort((share, classes))
    rank = np.empty(len(x), dtype=np.int64)
    rank[order] = np.arange(len(x)) - np.searchsorted(classes[order], classes[order])
    return volume_prior(counts, learn=rank < np.ceil(keep * in_class[classes]))


def robust_prior(counts: np.ndarray, alpha: float, max_rounds: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`volume_prior` of two-category counts ``(x, rest)``, learned from the shops it does
    not itself call outliers.

    A few shops whose ``x`` is far above their class's (an attacked shop's one-star reviews)
    would widen the class's spread and so weaken the prior for every shop of the class. The
    shops left out are those whose ``x`` the prior rejects, as an upper beta-binomial tail,
    at ``alpha`` Bonferroni-corrected for the shops of their class. It starts from the pooled
    shares of the lower nine tenths (by share) of each class (:func:`trimmed_prior`) at full
    precision (multinomial noise only), then alternates learning the prior from the shops kept and testing every shop
    against it until the shops left out no longer change (at most ``max_rounds`` rounds). Where
    no shop is left out it is :func:`volume_prior`'s.

    Examples
    --------
    Forty shops of 100 ratings with two or three in the first category, and one with 30: the
    prior, learned without it, is strong.

    >>> counts = np.array([[2, 98], [3, 97]] * 20 + [[30, 70]])
    >>> classes, mean, precision = robust_prior(counts, 0.01)
    >>> round(float(mean[6, 0]), 3), bool(precision[6] > 1000), bool(volume_prior(counts)[2][6] < 100)
    (0.025, True, True)
    """
    counts = np.asarray(counts, dtype=np.int64)
    x, n = counts[:, 0], counts.sum(axis=1)
    classes, mean, _ = trimmed_prior(counts)  # the start, at multinomial noise only
    in_class = np.bincount(classes[n > 0], minlength=int(classes.max()) + 1)
    level = np.log(alpha) - np.log(np.maximum(in_class[classes], 1))
    precision = np.full(len(mean), float(max(n.sum(), 1)))
    kept = None
    for _ in range(max_rounds):
        c = precision[classes]
        log_p = beta_binomial_log_sf(x, n, c * mean[classes, 0], c * mean[classes, 1])
        outlier = (log_p < level) & (x > n * mean[classes, 0])
        if kept is not None and np.array_equal(~outlier, kept):
            break
        kept = ~outlier
        _, mean, precision = volume_prior(counts, learn=kept)
    return classes, mean, precision


def review_times(data: DetectionData) -> np.ndarray:
    """When each order's review was posted (seconds): ``reviewed_at`` where the export has it,
    else the order's time (a review export's date is its ``created_at``)."""
    if "reviewed_at" not in data.table.column_names:
        return data.times
    posted = data.table.column("reviewed_at").cast(pa.int64()).to_numpy(zero_copy_only=False)
    return np.where(np.isnan(posted.astype(np.float64)), data.times, posted).astype(np.int64)


class RatingAnomalyDetector(Detector):
    """Accounts behind a shop's burst of extreme ratings that its own history does not explain.

    See the module docs for the tests (a window's excess of new raters' ratings of a band
    against the shop's smoothed history, or its timing against shops like it; then the raters'
    history against the other shops' raters) and their null models.

    Parameters
    ----------
    max_window_days : int
        Longest window tested, in days: windows last 1, 2, 4, ... days up to it (a burst
        spread over more days than a window would make its own history; a hard attack's
        reviews spread over two to five weeks).
    established_days : int
        How far (in days) from a rated order its account's other orders must be to count for
        its being established.
    established_orders : int
        How many such orders (at any shop) make an account established; one at the same shop
        always does.
    min_lift : float
        Least ratio of the odds that a rater of the episode's band is new to the odds among
        the other shops' raters of the band on the same days.
    max_low_rating : float
        Highest rating in the low band (an attack's).
    min_high_rating : float
        Lowest rating in the high band (a promotion's).
    alpha : float
        Level of both tests: the burst's family-wise over every window, the raters' per episode.
    min_size : int
        Fewest accounts a group needs.

    Attributes
    ----------
    groups_ : list of AccountGroup
        Groups, best first: kind ``"dense_block"`` (promotion, ``merchants`` the shop) or
        ``"negative_attack"`` (``victims`` the shop). ``evidence`` holds ``log10_p`` (the
        group's p-value, see the module docs), ``log10_p_shift``, ``log10_p_timing`` (both
        corrected for every window) and ``log10_p_raters``; of the most significant window,
        ``window_ratings``, ``extreme_ratings`` (of the band) and ``expected_extreme`` (under
        the shift null), ``shop_extreme_ratings`` (the shop's of the band) and
        ``expected_in_window`` (under the timing null), all of new raters' ratings of the
        band; of its raters, ``raters``, ``established_raters`` and ``expected_established``.
        ``details``: ``size``, ``days`` (of the burst the members come from),
        ``episode_days`` and ``windows`` (significant windows merged).
    account_scores_ : ndarray of float
        Per account, the score of its best group (0 for none).
    merchant_scores_ : ndarray of float
        Per merchant, the score of its best promotion group (0 for none: an attacked shop is
        never scored for the attack).
    order_scores_ : ndarray of float
        Per order, the score of the group whose extreme rating it carries (0 for none).

    Examples
    --------
    >>> detector = RatingAnomalyDetector().fit(data)  # doctest: +SKIP
    >>> [(g.kind, g.victims) for g in detector.groups_]  # doctest: +SKIP
    """

    cost: ClassVar[float] = 6

    # Its members are the new raters (few orders a week away) who gave the burst's extreme
    # ratings: few orders and extreme ratings by construction.
    selects_on = ("n_orders", "rating_extremity")
    required_columns = (*Detector.required_columns, "rating")
    _parameter_constraints = {
        "max_window_days": [Interval(Integral, 1, None, closed="left")],
        "established_days": [Interval(Integral, 1, None, closed="left")],
        "established_orders": [Interval(Integral, 1, None, closed="left")],
        "min_lift": [Interval(Real, 1, None, closed="left")],
        # Any rating scale; a NaN would put no rating in the band.
        "max_low_rating": [Interval(Real, None, None, closed="neither")],
        "min_high_rating": [Interval(Real, None, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "min_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        max_window_days: int = 32,
        established_days: int = 7,
        established_orders: int = 3,
        min_lift: float = 3.0,
        max_low_rating: float = MAX_LOW_RATING,
        min_high_rating: float = 5.0,
        alpha: float = 0.01,
        min_size: int = 5,
    ) -> None:
        self.max_window_days = max_window_days
        self.established_days = established_days
        self.established_orders = established_orders
        self.min_lift = min_lift
        self.max_low_rating = max_low_rating
        self.min_high_rating = min_high_rating
        self.alpha = alpha
        self.min_size = min_size

    def _fit(self, X: DetectionData) -> None:
        """Test every shop's windows, then the raters of its significant episodes."""
        rated = np.flatnonzero(~np.isnan(X.ratings))
        _set_scores(self, X, self._groups(X, rated) if rated.size else [])

    def _groups(self, X: DetectionData, rated: np.ndarray) -> list[tuple[AccountGroup, np.ndarray]]:
        """The groups, each with the positions of the orders that carry its extreme ratings."""
        ratings = X.ratings[rated]
        band = np.where(ratings <= self.max_low_rating, LOW, np.where(ratings >= self.min_high_rating, HIGH, MIDDLE))
        posted = review_times(X)[rated]
        day = (posted - posted.min()) // DAY
        lengths = 2 ** np.arange(int(np.log2(self.max_window_days)) + 1)
        span = int(day.max()) + 1 + int(lengths[-1])  # one shop's windows never reach the next shop's keys
        key = X.order_cols[rated].astype(np.int64) * span + day
        order = np.argsort(key, kind="stable")
        key, band, day, rated = key[order], band[order], day[order], rated[order]
        del ratings, posted, order  # per-rating arrays, as ``day`` below: the episodes' loop is long
        established = _established(X, rated, self.established_days * DAY, self.established_orders)
        new = ~established
        windows = _windows(key, {b: (band == b) & new for b in (LOW, HIGH)}, span, lengths, X.graph.n_cols,
                           partial(robust_prior, alpha=self.alpha), self.min_size)
        # The other shops' raters, per day and band, established or not (cumulative over days).
        daily = np.cumsum(np.bincount(((day + 1) * 3 + band) * 2 + established,
                                      minlength=(span + 1) * 6).reshape(span + 1, 3, 2), axis=0)
        del day

        episodes = [e for b in (HIGH, LOW) for e in _episodes(windows, b, self.alpha, self.min_size, span)]

        def rated_in(e: _Episode, first: int, end: int) -> np.ndarray:
            """Positions (in ``key`` order) of the ratings of ``e``'s band at its shop on days [first, end)."""
            lo, hi = np.searchsorted(key, [e.shop * span + first, e.shop * span + end])
            return lo + np.flatnonzero(band[lo:hi] == e.band)

        groups = []
        for e in episodes:
            # The raters of the episode's most significant window against the other shops' raters
            # then, and against the shop's own raters of the other bands in the window.
            lo, hi = np.searchsorted(key, [e.shop * span + e.best_day, e.shop * span + e.best_end])
            of_band = band[lo:hi] == e.band
            extreme = lo + np.flatnonzero(of_band)
            own = np.bincount(established[extreme].astype(np.int64), minlength=2)
            other = daily[e.best_end, e.band] - daily[e.best_day, e.band] - own
            if other.sum() <= 0:
                continue  # nobody else rated on those days: no reference for the raters
            r = other[1] / other.sum()
            rest = np.bincount(established[lo:hi][~of_band].astype(np.int64), minlength=2)
            # Honest crowds differ from the market's raters too, by less, and rate in every band:
            # the odds that a rater is new must be at least ``min_lift`` times the market's and
            # times those of the shop's raters of the other bands then (with one market rater
            # among them, so that a shop without others is held to the market's odds).
            if (own[0] * r < self.min_lift * own[1] * (1 - r)
                    or own[0] * (rest[1] + r) < self.min_lift * own[1] * (rest[0] + 1 - r)):
                continue
            log10_p_raters = float(binom.logcdf(own[1], extreme.size, r) / np.log(10))
            evidence = dict(e.evidence)
            log10_p = max(min(evidence["log10_p_shift"], evidence["log10_p_timing"]), log10_p_raters)
            # The members: the new raters of the band on the episode's days where they are densest.
            first, end = _burst(windows, e, rated_in(e, e.first_day, e.end_day), key, span, new)
            burst = rated_in(e, first, end)
            carried = rated[burst[new[burst]]]
            members = np.unique(X.order_rows[carried]).astype(np.int64)
            if log10_p >= np.log10(self.alpha) or members.size < self.min_size:
                continue
            target = np.array([e.shop], dtype=np.int64)
            none = np.zeros(0, dtype=np.int64)
            evidence |= {"log10_p": log10_p, "log10_p_raters": log10_p_raters, "raters": float(extreme.size),
                         "established_raters": float(own[1]), "expected_established": float(extreme.size * r),
                         "other_raters": float(rest.sum()), "other_established": float(rest[1])}
            details = {"size": float(members.size), "days": float(end - first),
                       "episode_days": float(e.end_day - e.first_day), "windows": evidence.pop("windows")}
            group = AccountGroup(members, float(1 - 10**log10_p), _KIND[e.band], target if e.band == HIGH else none,
                                 evidence, details, target if e.band == LOW else none)
            groups.append((group, carried))
        return groups


def _set_scores(detector: Detector, X: DetectionData, found: list[tuple[AccountGroup, np.ndarray]]) -> None:
    """Set a detector's ``groups_`` and ``account_scores_`` from ``found`` (its groups, each with
    the positions of the orders it carries), its ``order_scores_`` (each order its best group's
    score) and ``merchant_scores_`` (each of a group's merchants its best group's)."""
    detector.merchant_scores_ = np.zeros(X.graph.n_cols)
    detector.order_scores_ = np.zeros(len(X.order_rows))
    for group, orders in found:
        detector.order_scores_[orders] = np.maximum(detector.order_scores_[orders], group.score)
        detector.merchant_scores_[group.merchants] = np.maximum(detector.merchant_scores_[group.merchants], group.score)
    detector.groups_, _, detector.account_scores_ = rank_groups([group for group, _ in found], X.graph.n_rows)


def _burst(w: _Windows, e: _Episode, in_band: np.ndarray, key: np.ndarray, span: int, new: np.ndarray,
           ) -> tuple[int, int]:
    """The days ``[first, end)`` of episode ``e`` where its band's new ratings are densest: the
    most likely cluster of Kulldorff's scan statistic, the interval between two of their days
    whose binomial likelihood ratio against the shop's share outside the episode is largest.

    ``in_band`` holds the positions (in ``key`` order) of the episode's ratings of the band.
    """
    days = key[in_band[new[in_band]]] % span
    if days.size == 0:
        return e.first_day, e.end_day
    starts, ends = np.flatnonzero(np.diff(days, prepend=-1)), np.flatnonzero(np.diff(days, append=span)) + 1
    lo, hi = np.searchsorted(key, [e.shop * span + e.first_day, e.shop * span + e.end_day])
    classes, mean, precision = w.rating_prior[e.band]
    c = precision[classes[e.shop]]
    p0 = (c * mean[classes[e.shop], 0] + w.shop_counts[e.band][e.shop] - days.size) / (
        c + w.shop_ratings[e.shop] - (hi - lo))
    before = np.searchsorted(key, e.shop * span + days[starts])  # the shop's ratings before each first day
    through = np.searchsorted(key, e.shop * span + days[ends - 1] + 1)  # and through each last day
    x = (ends[None, :] - starts[:, None]).astype(np.float64)
    n = (through[None, :] - before[:, None]).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        llr = x * np.log(x / (n * p0)) + np.where(n > x, (n - x) * np.log((n - x) / (n * (1 - p0))), 0.0)
    llr = np.where((x > 0) & (x > n * p0), llr, -np.inf)
    if not np.isfinite(llr.max()):
        return e.first_day, e.end_day
    i, j = np.unravel_index(int(np.argmax(llr)), llr.shape)
    return int(days[starts[i]]), int(days[ends[j] - 1]) + 1


def _established(X: DetectionData, rated: np.ndarray, distance: int, min_orders: int) -> np.ndarray:
    """Whether the account of each rated order is established: it ordered at the same shop at
    least ``distance`` seconds before or after it (the shop's own customer, who bought before
    or comes back), or it placed at least ``min_orders`` other orders at least ``distance``
    seconds before or after it (a customer with a life of its own elsewhere)."""
    # Every order in (account, time) order: an account's orders far from one of its orders are
    # the two ends of its block.
    times = X.times - X.times.min()
    keys = X.order_rows.astype(np.int64) * (int(times.max()) + 1) + times
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    accounts = X.order_rows[order]
    block = np.flatnonzero(np.diff(accounts, prepend=-1))
    size = np.diff(np.append(block, order.size))
    first, length = np.repeat(block, size), np.repeat(size, size)  # of each order's account's block
    # An account's orders at least ``distance`` before and after each one (the searches may land
    # in the neighbouring accounts' blocks: nothing there is the account's).
    before = np.maximum(np.searchsorted(keys, keys - distance, side="right") - first, 0)
    after = np.maximum(first + length - np.searchsorted(keys, keys + distance), 0)
    at = np.empty(order.size, dtype=np.int64)
    at[order] = np.arange(order.size)
    established = (before + after)[at[rated]] >= min_orders
    # The others: did they order at the same shop long before or after? Their blocks are read.
    thin = rated[~established]
    start, length = first[at[thin]], length[at[thin]]
    owner = np.repeat(np.arange(thin.size), length)
    other = order[np.repeat(start, length) + np.arange(owner.size) - np.repeat(np.cumsum(length) - length, length)]
    returned = ((X.order_cols[other] == X.order_cols[thin][owner])
                & (np.abs(times[other] - times[thin][owner]) >= distance))
    established[~established] = np.bincount(owner[returned], minlength=thin.size) > 0
    return established


@dataclass
class _Windows:
    """The windows that can be tested (their shop, first day, length, ratings and, per band,
    marked ratings: at least ``min_size`` in one band), how many tests could reject, each shop's
    counts, and per band the priors of a shop's share of marked ratings and of their timing.

    The ratings are any items counted per shop and day, and a band any marked subset of them
    (:mod:`~antifraud.detectors.returning_buyers` counts a shop's new customers, and marks those
    who come back).
    """

    shop: np.ndarray
    day: np.ndarray
    length: np.ndarray
    ratings: np.ndarray
    in_band: dict[int, np.ndarray]
    #: How many tests could reject, over every window (:func:`_windows`).
    n_tests: int
    #: Per band, each shop's new raters' ratings of the band; and each shop's ratings.
    shop_counts: dict[int, np.ndarray]
    shop_ratings: np.ndarray
    #: Per band, the Beta prior (classes, mean, precision) of a shop's share of new raters' ratings of the band.
    rating_prior: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    #: Per band, the prior share of the shop's new raters' ratings of the band falling in the window and its precision.
    timing_prior: dict[int, tuple[np.ndarray, np.ndarray]]
    #: Per band, how much likelier than the market's the window's ratings are to be of the band for their
    #: days alone, and the shop's other ratings' count in the market's odds (None: every day as likely).
    drift: dict[int, np.ndarray] | None = None
    exposure: dict[int, np.ndarray] | None = None


def _windows(key: np.ndarray, marks: dict[int, np.ndarray], span: int, lengths: np.ndarray,
             n_shops: int, prior: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]],
             min_size: int, baseline: dict[int, np.ndarray] | None = None) -> _Windows:
    """Windows of every length of each shop (``key = shop * span + day``, sorted), on a grid;
    ``marks`` holds, per band, which ratings are counted in it (new raters' ratings of the band),
    and ``prior`` learns a shop's share of them from the ``(marked, rest)`` counts of every shop.
    ``baseline``, where given, holds per band each rating's chance of being of the band for its
    day alone (the market's share then, or any multiple of it: only its ratio to its mean
    counts): under the shift null a rating is then of the band with
    the shop's odds times its day's relative to the market's mean (a shop effect times a day
    effect), so the window's share is the shop's times its ratings' mean baseline over the
    market's (``drift``), and the shop's other ratings count as their mean baseline over the
    market's times their number (``exposure``) in learning the shop's own.

    A window of ``L`` days starts on every multiple of ``L / 2`` days on which the shop has a
    rating in the first half (every such day for one-day windows), so any burst of at most
    ``L / 2`` days lies inside one window of length ``L``. Tests that could reject are counted
    over every window (Tarone's count: a window's shift test needs ``min_size`` ratings in it and
    its timing test ``min_size`` of the band at its shop; its margins, not its counts of the
    band, decide whether it can reach them); only the windows with ``min_size`` marked ratings
    of a band, the only ones tested, are kept.
    """
    cum = {b: np.concatenate([[0], np.cumsum(on)]) for b, on in marks.items()}
    of_shop = key // span
    shop_ratings = np.bincount(of_shop, minlength=n_shops)
    shop_counts = {b: np.bincount(of_shop[on], minlength=n_shops) for b, on in marks.items()}
    parts, n_tests = [], 0
    for length in lengths.tolist():
        step = max(length // 2, 1)
        grid = key - key % span % step  # sorted as ``key`` is
        starts = grid[np.flatnonzero(np.diff(grid, prepend=-1))]
        del grid
        begin, end = np.searchsorted(key, starts), np.searchsorted(key, starts + length)
        shop = starts // span
        n_tests += len(marks) * int(np.count_nonzero(end - begin >= min_size))
        n_tests += sum(int(np.count_nonzero(c[shop] >= min_size)) for c in shop_counts.values())
        kept = np.logical_or.reduce([c[end] - c[begin] >= min_size for c in cum.values()])
        parts.append((starts[kept], np.full(int(kept.sum()), length), begin[kept], end[kept]))
    starts, length, begin, end = (np.concatenate(column) for column in zip(*parts))
    shop, day = starts // span, starts % span
    n_days = int((key % span).max()) + 1
    rating_prior, timing = {}, {}
    for b, on in marks.items():
        rating_prior[b] = prior(np.column_stack([shop_counts[b], shop_ratings - shop_counts[b]]))
        by_day = sp.csr_matrix((np.ones(on.sum()), (of_shop[on], key[on] % span)), shape=(n_shops, n_days))
        classes, mean, precision = volume_prior(by_day)
        cum_mean = np.concatenate([np.zeros((len(mean), 1)), np.cumsum(mean, axis=1)], axis=1)
        share = cum_mean[classes[shop], np.minimum(day + length, n_days)] - cum_mean[classes[shop], day]
        timing[b] = share, precision[classes[shop]]
    drift = exposure = None
    if baseline is not None:
        drift, exposure = {}, {}
        for b, chance in baseline.items():
            market = float(np.mean(chance)) if chance.size else 0.0
            market = market if market > 0 else 1.0  # no chance anywhere (nothing of the band): every day as likely
            cum_chance = np.concatenate([[0.0], np.cumsum(chance / market)])
            inside = cum_chance[end] - cum_chance[begin]
            drift[b] = inside / np.maximum(end - begin, 1)
            exposure[b] = np.bincount(of_shop, weights=chance / market, minlength=n_shops)[shop] - inside
    return _Windows(shop, day, length, end - begin, {b: c[end] - c[begin] for b, c in cum.items()}, max(n_tests, 1),
                    shop_counts, shop_ratings, rating_prior, timing, drift, exposure)


def _tail(x: np.ndarray, n: np.ndarray, a: np.ndarray, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log10 P(X >= x)`` for ``X ~ BetaBinomial(n, a, rest)`` where ``x`` exceeds its mean
    (0 elsewhere: only an excess can be significant), and the mean."""
    expected = n * a / (a + rest)
    log10_p = np.zeros(x.size)
    excess = np.flatnonzero(x > expected)
    log10_p[excess] = beta_binomial_log_sf(x[excess], n[excess], a[excess], rest[excess]) / np.log(10)
    return log10_p, expected


class _Episode(NamedTuple):
    """Overlapping significant windows of one shop and band: its days ``[first_day, end_day)``,
    those of its most significant window and that window's evidence."""

    band: int
    shop: int
    first_day: int
    end_day: int
    best_day: int
    best_end: int
    evidence: dict


def _shift(w: _Windows, b: int, tested: np.ndarray, prior: tuple[np.ndarray, np.ndarray, np.ndarray],
           min_drift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The shift null's ``log10`` tail and expectation of the ``tested`` windows' ratings of band
    ``b``, with the shop's share learned from its other ratings and ``prior``, and the window's
    drift taken as at least ``min_drift``."""
    x, n, shop = w.in_band[b][tested], w.ratings[tested], w.shop[tested]
    classes, mean, precision = prior
    a = precision[classes[shop]] * mean[classes[shop], 0] + w.shop_counts[b][shop] - x
    if w.drift is None:
        total = precision[classes[shop]] + w.shop_ratings[shop] - n
    else:  # the shop's odds, learned from its others at their days' odds, at the window's days' odds
        total = precision[classes[shop]] + w.exposure[b][tested]
        a = total * np.minimum(a / total * np.maximum(w.drift[b][tested], min_drift), 0.999)
    return _tail(x, n, a, total - a)


def _episodes(w: _Windows, b: int, alpha: float, min_size: int, span: int,
              own: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
              ) -> list[_Episode]:
    """Significant windows of band ``b`` merged, per shop, into episodes of overlapping windows.

    With ``own``, each episode's evidence also holds ``log10_p_own``: its most significant
    window's shift test, uncorrected, with the shop's share learned from its other ratings and
    the prior ``own`` learns from every shop's ``(marked, rest)`` counts outside its episodes'
    most significant windows, and the window's drift at least 1. That prior keeps the spread of
    shops' shares outside their bursts (shops that always have many, where the band is a habit
    of their trade), which a prior learned without the shops of high shares does not; and the
    days' odds, learned from the shops of the class, most of which have no such habit, do not
    lower what the shop's habit expects (a grocery's festival customers reorder as its others
    do, where a class's festival bargain hunters do not come back).
    """
    tested = np.flatnonzero(w.in_band[b] >= min_size)
    x, n, shop = w.in_band[b][tested], w.ratings[tested], w.shop[tested]
    shift, expected = _shift(w, b, tested, w.rating_prior[b])
    share, concentration = (v[tested] for v in w.timing_prior[b])
    total = w.shop_counts[b][shop]
    timing, in_window = _tail(x, total, concentration * share, concentration * (1 - share))
    # Every window that could reject, both bands, both tests.
    shift, timing = (np.minimum(v + np.log10(w.n_tests), 0) for v in (shift, timing))
    log10_p = np.minimum(shift, timing)
    keep = np.flatnonzero(log10_p < np.log10(alpha))
    keep = keep[np.lexsort((w.day[tested[keep]], shop[keep]))]
    begin = shop[keep] * span + w.day[tested[keep]]
    end = np.maximum.accumulate(begin + w.length[tested[keep]])
    new = np.ones(keep.size, dtype=bool)
    new[1:] = begin[1:] >= end[:-1]
    bounds = np.append(np.flatnonzero(new), keep.size)
    out, bests = [], []
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        best = keep[lo + int(np.argmin(log10_p[keep[lo:hi]]))]
        bests.append(best)
        s = int(shop[best])
        first = int(w.day[tested[best]])
        out.append(_Episode(b, s, int(begin[lo] - s * span), int(end[hi - 1] - s * span), first,
                            first + int(w.length[tested[best]]), {
            "log10_p_shift": float(shift[best]), "log10_p_timing": float(timing[best]),
            "window_ratings": float(n[best]), "extreme_ratings": float(x[best]),
            "expected_extreme": float(expected[best]), "shop_extreme_ratings": float(total[best]),
            "expected_in_window": float(in_window[best]), "windows": float(hi - lo),
        }))
    if own is not None and out:
        best = tested[np.array(bests)]
        outside = np.column_stack([w.shop_counts[b], w.shop_ratings - w.shop_counts[b]]).astype(np.float64)
        np.subtract.at(outside, w.shop[best], np.column_stack([w.in_band[b][best], w.ratings[best] - w.in_band[b][best]]))
        for e, log10_p_own in zip(out, _shift(w, b, best, own(outside), min_drift=1.0)[0].tolist()):
            e.evidence["log10_p_own"] = log10_p_own
    return out
