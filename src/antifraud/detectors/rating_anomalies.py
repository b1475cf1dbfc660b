"""Rating manipulation: shops whose ratings over a few days shift away from their own history.

In the spirit of BIRDNEST (Hooi et al., SDM 2016), a shop's ratings are read against the norm
of its own organic history, smoothed by a Dirichlet prior learned from the population. Ratings
fall in three bands: low (at most ``max_low_rating``), high (at least ``min_high_rating``) and
the middle. For every shop and every window of ``window_days`` days starting on a day it was
reviewed, the window's count ``x`` of low (or high) ratings among its ``n`` ratings is tested
against

- **the null model**: the window's ratings are drawn from the shop's own rating distribution,
  which has a Dirichlet posterior: the prior of shops of similar volume (the same
  ``floor(log2(ratings))`` class; mean their pooled shares, precision by the method of moments
  from how much their shares vary beyond the multinomial noise, :func:`volume_prior`) updated
  with the shop's ratings *outside* the window. ``x`` is then beta-binomial (the band's margin
  of the Dirichlet-multinomial) and its upper tail probability is the window's p-value
  (:func:`beta_binomial_log_sf`), Bonferroni-corrected for every window and band tested.

A steadily 98 % five-star shop has a 98 % five-star history, so a five-star window is no shift
there; a festival raises every shop's volume but not its rating distribution. Overlapping
significant windows of one shop and band are one episode.

A shift alone does not tell an attack from a quality incident, whose bad batch brings a burst of
honest one-star reviews; who wrote the ratings does. A rated order is **established** when its
account placed an order (anywhere) at least ``window_days`` days before it: the shop's ordinary
customers who had bought before are, paid raters and attackers, with little or no history, are
not. The second test's null model is that the episode's ``m`` extreme ratings come from accounts
established as often as those of the same band at the other shops on the same days (share
``r``, which follows the export's start and festivals' new buyers): the number established is
``Binomial(m, r)`` and its lower tail probability, Bonferroni-corrected for every episode, is
the raters' p-value. An episode is a group when both tests reject at ``alpha`` (an
intersection-union test, whose p-value is the larger of the two): its members are the
accounts behind the episode's extreme ratings that are not established.

A high-band group promotes its shop (kind ``"dense_block"``, ``merchants`` the shop); a
low-band group attacks it (``"negative_attack"``, the shop in ``victims``, ``merchants``
empty). A group's score is ``1 - p``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numba
import numpy as np
import pyarrow as pa
from scipy.stats import binom
from sklearn.utils._param_validation import Interval

from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.features.data import DetectionData

__all__ = ["RatingAnomalyDetector", "beta_binomial_log_sf", "volume_prior"]

DAY = 86400
#: Rating bands, in this order: at most ``max_low_rating``, between, at least ``min_high_rating``.
LOW, MIDDLE, HIGH = 0, 1, 2
#: The band of each group kind: a burst of high ratings promotes, one of low ratings attacks.
_KIND = {HIGH: "dense_block", LOW: "negative_attack"}


@numba.njit(cache=True)
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
            if term < total - 40 and a[i] >= 1 and b[i] >= 1:
                break  # log-concave: the terms left fall geometrically and add under 1e-17
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


def volume_prior(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Dirichlet prior of each shop's rating shares, learned from shops of similar volume.

    Shops with ratings fall into classes by ``floor(log2(ratings))``. A class's mean is its
    pooled shares (with one pseudo-rating per band, Laplace's rule, so that no band is
    impossible); its precision ``c`` matches, by the method of moments, the spread of its
    shops' shares: under a Dirichlet-multinomial a shop with ``n`` ratings has
    ``E sum_k (share_k - mean_k) ** 2 = sum_k mean_k (1 - mean_k) (1 + c / n) / (1 + c)``,
    so with ``R`` the observed spread over ``sum_k mean_k (1 - mean_k)`` and ``u`` the class's
    mean ``1 / n``, ``c = (1 - R) / (R - u)``. It is kept between one rating and the class's
    ratings (shares that vary no more than multinomial noise: the class's distribution is
    known as well as its ratings tell).

    Parameters
    ----------
    counts : ndarray of shape (n_shops, n_bands)
        Ratings per shop and band.

    Returns
    -------
    mean : ndarray of shape (n_shops, n_bands)
        Prior mean of each shop's shares (its class's).
    precision : ndarray of shape (n_shops,)
        Prior precision (pseudo-ratings) of each shop; 1 for shops without ratings.

    Examples
    --------
    Four shops of 8-15 ratings, two mostly high and two mixed: their shares vary far more than
    the noise, so the prior is weak.

    >>> counts = np.array([[0, 1, 9], [1, 0, 9], [4, 3, 3], [3, 4, 3]])
    >>> mean, precision = volume_prior(counts)
    >>> mean[0].round(3).tolist(), precision.round(2).tolist()
    ([0.209, 0.209, 0.581], [5.22, 5.22, 5.22, 5.22])
    """
    counts = np.asarray(counts, dtype=np.float64)
    n_shops, n_bands = counts.shape
    totals = counts.sum(axis=1)
    rated = totals > 0
    mean = np.full((n_shops, n_bands), 1 / n_bands)
    precision = np.ones(n_shops)
    if not rated.any():
        return mean, precision
    cls = np.floor(np.log2(totals[rated])).astype(np.int64)
    n_cls = int(cls.max()) + 1
    pooled = np.zeros((n_cls, n_bands))
    np.add.at(pooled, cls, counts[rated])
    class_mean = (pooled + 1) / (pooled.sum(axis=1, keepdims=True) + n_bands)
    shops_in = np.maximum(np.bincount(cls, minlength=n_cls), 1)
    share = counts[rated] / totals[rated, None]
    spread = np.bincount(cls, weights=((share - class_mean[cls]) ** 2).sum(axis=1), minlength=n_cls) / shops_in
    noise = (class_mean * (1 - class_mean)).sum(axis=1)
    u = np.bincount(cls, weights=1 / totals[rated], minlength=n_cls) / shops_in
    r = spread / noise
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(r > u, (1 - r) / (r - u), np.inf)
    c = np.clip(c, 1, np.maximum(pooled.sum(axis=1), 1))
    mean[rated], precision[rated] = class_mean[cls], c[cls]
    return mean, precision


def review_times(data: DetectionData) -> np.ndarray:
    """When each order's review was posted (seconds): ``reviewed_at`` where the export has it,
    else the order's time (a review export's date is its ``created_at``)."""
    if "reviewed_at" not in data.table.column_names:
        return data.times
    posted = data.table.column("reviewed_at").cast(pa.int64()).to_numpy(zero_copy_only=False)
    return np.where(np.isnan(posted.astype(np.float64)), data.times, posted).astype(np.int64)


class RatingAnomalyDetector(Detector):
    """Accounts behind a shop's burst of extreme ratings that its own history does not explain.

    See the module docs for the two tests (the window's rating shift against the shop's
    Dirichlet-smoothed history, and the raters' history against the other shops' raters) and
    their null models.

    Parameters
    ----------
    max_window_days : int
        Longest window tested, in days: windows last 1, 2, 4, ... days up to it (a burst
        spread over more days than a window would make its own history).
    established_days : int
        How far (in days) from a rated order its account must have another order to be
        established.
    max_low_rating : float
        Highest rating in the low band (an attack's).
    min_high_rating : float
        Lowest rating in the high band (a promotion's).
    alpha : float
        Family-wise level of both tests (each Bonferroni-corrected).
    min_size : int
        Fewest accounts a group needs.

    Attributes
    ----------
    groups_ : list of AccountGroup
        Groups, best first: kind ``"dense_block"`` (promotion, ``merchants`` the shop) or
        ``"negative_attack"`` (``victims`` the shop). ``evidence`` holds ``log10_p`` (the
        group's, the larger of its two corrected p-values), ``log10_p_shift`` and
        ``log10_p_raters`` (each corrected), the most significant window's ``window_ratings``,
        ``extreme_ratings``, ``expected_extreme`` (under the null), ``history_ratings`` and
        ``prior_precision``, and the episode's ``raters``, ``established_raters`` and
        ``expected_established``; ``details`` its ``size``, ``days`` and ``windows``.
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

    required_columns = (*Detector.required_columns, "rating")
    _parameter_constraints = {
        "max_window_days": [Interval(Integral, 1, None, closed="left")],
        "established_days": [Interval(Integral, 1, None, closed="left")],
        # Any rating scale; a NaN would put no rating in the band.
        "max_low_rating": [Interval(Real, None, None, closed="neither")],
        "min_high_rating": [Interval(Real, None, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "min_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        max_window_days: int = 16,
        established_days: int = 7,
        max_low_rating: float = 2.0,
        min_high_rating: float = 5.0,
        alpha: float = 0.01,
        min_size: int = 5,
    ) -> None:
        self.max_window_days = max_window_days
        self.established_days = established_days
        self.max_low_rating = max_low_rating
        self.min_high_rating = min_high_rating
        self.alpha = alpha
        self.min_size = min_size

    def _fit(self, X: DetectionData, **fit_params: Any) -> None:
        """Test every shop's windows, then the raters of its significant episodes."""
        self.merchant_scores_ = np.zeros(X.graph.n_cols)
        self.order_scores_ = np.zeros(len(X.order_rows))
        rated = np.flatnonzero(~np.isnan(X.ratings))
        groups = []
        for group, orders in (self._groups(X, rated) if rated.size else []):
            groups.append(group)
            self.order_scores_[orders] = np.maximum(self.order_scores_[orders], group.score)
            self.merchant_scores_[group.merchants] = np.maximum(self.merchant_scores_[group.merchants], group.score)
        self.groups_, _, self.account_scores_ = rank_groups(groups, X.graph.n_rows)

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
        established = _established(X, rated, self.established_days * DAY)
        windows = _windows(key, band, span, lengths, X.graph.n_cols)
        # The other shops' raters, per day and band, established or not (cumulative over days).
        cells = ((day + 1) * 3 + band) * 2 + established
        daily = np.cumsum(np.bincount(cells, minlength=(span + 1) * 6).reshape(span + 1, 3, 2), axis=0)

        episodes = [e for b in (HIGH, LOW) for e in _episodes(windows, b, self.alpha, self.min_size, span)]
        groups = []
        for b, shop, first_day, end_day, evidence in episodes:
            lo, hi = np.searchsorted(key, [shop * span + first_day, shop * span + end_day])
            extreme = lo + np.flatnonzero(band[lo:hi] == b)
            own = np.bincount(established[extreme].astype(np.int64), minlength=2)
            other = daily[end_day, b] - daily[first_day, b] - own
            if other.sum() <= 0:
                continue  # nobody else rated on those days: no reference for the raters
            r = other[1] / other.sum()
            log10_p_raters = min(float(binom.logcdf(own[1], extreme.size, r)) / np.log(10)
                                 + np.log10(len(episodes)), 0.0)
            carried = rated[extreme[~established[extreme]]]
            members = np.unique(X.order_rows[carried]).astype(np.int64)
            log10_p = max(evidence["log10_p_shift"], log10_p_raters)
            if log10_p >= np.log10(self.alpha) or members.size < self.min_size:
                continue
            target = np.array([shop], dtype=np.int64)
            none = np.zeros(0, dtype=np.int64)
            evidence |= {"log10_p": log10_p, "log10_p_raters": log10_p_raters, "raters": float(extreme.size),
                         "established_raters": float(own[1]), "expected_established": float(extreme.size * r)}
            details = {"size": float(members.size), "days": float(end_day - first_day),
                       "windows": evidence.pop("windows")}
            group = AccountGroup(members, float(1 - 10**log10_p), _KIND[b], target if b == HIGH else none,
                                 evidence, details, target if b == LOW else none)
            groups.append((group, carried))
        return groups


def _established(X: DetectionData, rated: np.ndarray, distance: float) -> np.ndarray:
    """Whether the account of each rated order has another order at least ``distance`` seconds
    before or after it."""
    rows, times = X.order_rows[rated], X.times[rated]
    last = np.full(X.graph.n_rows, -np.inf)
    np.maximum.at(last, X.order_rows, X.times.astype(np.float64))
    return (X.first_order[rows] <= times - distance) | (last[rows] >= times + distance)


@dataclass
class _Windows:
    """Every window tested: its shop, first day and length, its ratings and those of its band,
    and the shops' rating counts and Dirichlet priors."""

    shop: np.ndarray
    day: np.ndarray
    length: np.ndarray
    ratings: np.ndarray
    in_band: dict[int, np.ndarray]
    shop_counts: np.ndarray
    mean: np.ndarray
    precision: np.ndarray

    def __len__(self) -> int:
        return self.shop.size


def _windows(key: np.ndarray, band: np.ndarray, span: int, lengths: np.ndarray, n_shops: int) -> _Windows:
    """Windows of every length of each shop (``key = shop * span + day``, sorted), on a grid.

    A window of ``L`` days starts on every multiple of ``L / 2`` days on which the shop has a
    rating in the first half (every such day for one-day windows), so any burst of at most
    ``L / 2`` days lies inside one window of length ``L``.
    """
    cum = {b: np.concatenate([[0], np.cumsum(band == b)]) for b in (LOW, HIGH)}
    parts = []
    for length in lengths.tolist():
        step = max(length // 2, 1)
        grid = key - key % span % step  # sorted as ``key`` is
        starts = grid[np.flatnonzero(np.diff(grid, prepend=-1))]
        begin, end = np.searchsorted(key, starts), np.searchsorted(key, starts + length)
        parts.append((starts, np.full(starts.size, length), begin, end))
    starts, length, begin, end = (np.concatenate(column) for column in zip(*parts))
    shop_counts = np.bincount(key // span * 3 + band, minlength=3 * n_shops).reshape(n_shops, 3)
    mean, precision = volume_prior(shop_counts)
    return _Windows(starts // span, starts % span, length, end - begin,
                    {b: c[end] - c[begin] for b, c in cum.items()}, shop_counts, mean, precision)


def _episodes(w: _Windows, b: int, alpha: float, min_size: int, span: int) -> list[tuple[int, int, int, int, dict]]:
    """Significant windows of band ``b`` merged, per shop, into episodes of overlapping windows:
    ``(band, shop, first day, end day, evidence of the most significant window)``."""
    x, n, shop = w.in_band[b], w.ratings, w.shop
    mean, precision = w.mean[shop, b], w.precision[shop]
    tested = np.flatnonzero(x >= min_size)
    x, n, shop = x[tested], n[tested], shop[tested]
    a = precision[tested] * mean[tested] + w.shop_counts[shop, b] - x
    rest = precision[tested] + w.shop_counts[shop].sum(axis=1) - n - a
    expected = n * a / (a + rest)
    excess = np.flatnonzero(x > expected)  # only an excess can be significant
    tested, x, n, shop, a, rest, expected = (v[excess] for v in (tested, x, n, shop, a, rest, expected))
    log10_p = beta_binomial_log_sf(x, n, a, rest) / np.log(10)
    log10_p = np.minimum(log10_p + np.log10(2 * len(w)), 0)  # every window, in both bands
    keep = np.flatnonzero(log10_p < np.log10(alpha))
    keep = keep[np.lexsort((w.day[tested[keep]], shop[keep]))]
    begin = shop[keep] * span + w.day[tested[keep]]
    end = np.maximum.accumulate(begin + w.length[tested[keep]])
    new = np.ones(keep.size, dtype=bool)
    new[1:] = begin[1:] >= end[:-1]
    bounds = np.append(np.flatnonzero(new), keep.size)
    out = []
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        best = keep[lo + int(np.argmin(log10_p[keep[lo:hi]]))]
        s = int(shop[best])
        out.append((b, s, int(begin[lo] - s * span), int(end[hi - 1] - s * span), {
            "log10_p_shift": float(log10_p[best]), "window_ratings": float(n[best]),
            "extreme_ratings": float(x[best]), "expected_extreme": float(expected[best]),
            "history_ratings": float(w.shop_counts[s].sum() - n[best]), "prior_precision": float(w.precision[s]),
            "windows": float(hi - lo),
        }))
    return out
