"""Whether a ring is more than chance: its members against the same shops' other buyers.

A detector proposes a ring because its accounts act together (they buy from the same shops, in
the same hours, through the same identities). Honest crowds do that too: a popular shop's
regulars, fans at a product drop, a festival rush, a household. What they do not do is behave
unlike the shops' other customers. So each ring is tested against a null model that keeps
everything a crowd shares with its shops:

*Null hypothesis*: the ring's accounts are an ordinary sample of the buyers of its target shops
on the ring's days. Controls are the other accounts that ordered from those shops on those days
(shop popularity, time of day, festival days and whatever infrastructure the shops' customers
share are then the same on both sides); where the ring is nearly all of its shops' custom, they
are the accounts that ordered anywhere on those days.

Each behaviour feature of :data:`BEHAVIOUR_TESTS` the export informs gives a one-sided
Mann-Whitney test of the members' values against the controls' in the feature's suspicious
direction (young or throwaway accounts, receipt confirmed at once, light parcels, instant or
extreme reviews); features a ring was selected on (a burst of bad reviews is extreme by
construction) are left out for it. A ring says its members are alike, so a feature counts only
where the typical member differs: where a member is more suspicious in it than a control with
probability at least ``min_effect`` (the test's common-language effect size); a handful of
hijacked accounts among a popular shop's buyers makes a significant test, not a ring of all of
them. The tests share accounts, so they are combined by Bonferroni's
rule (the least p-value times their number), valid under any dependence between them. Over all the
rings, Benjamini-Hochberg q-values (:func:`benjamini_hochberg`) control the share of false rings
among those reported, so an export without brushing can report none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import mannwhitneyu

from antifraud.features.data import DetectionData
from antifraud.features.kernels import group_by

__all__ = ["BEHAVIOUR_TESTS", "RingTest", "RingTester", "benjamini_hochberg", "bonferroni_combination"]

#: Account features a ring's members are tested on, with the direction that is suspicious
#: (-1: low values, +1: high values). Structure (shops, bursts, shared identities) is what
#: proposed the ring and is left out: honest crowds have it too.
BEHAVIOUR_TESTS: dict[str, int] = {
    "age_first_order_d": -1,
    "n_orders": -1,
    "confirm_delay_h": -1,
    "review_delay_h": -1,
    "parcel_weight_kg": -1,
    "rating_extremity": +1,
}

_DAY = 86_400


@dataclass(frozen=True)
class RingTest:
    """The outcome of testing one ring against its controls.

    Attributes
    ----------
    p_value : float
        Bonferroni combination of ``feature_p`` (1 when no feature could be tested).
    feature_p : dict of str to float
        One-sided p-value of each tested feature.
    n_controls : int
        Control accounts.
    controls : str
        ``"targets"`` (the shops' other buyers on the ring's days) or ``"population"``
        (buyers anywhere on those days).
    described_p : dict of str to float
        One-sided p-value of each feature asked to be described although left out of
        ``p_value`` (it says what the ring is, not whether it is one).
    """

    p_value: float
    feature_p: dict[str, float] = field(default_factory=dict)
    n_controls: int = 0
    controls: str = "targets"
    described_p: dict[str, float] = field(default_factory=dict)


def bonferroni_combination(p_values: Iterable[float]) -> float:
    """Combine p-values by their least, times their number (Bonferroni): valid whatever the
    dependence between the tests, and unmoved by tests that point the other way.

    Examples
    --------
    >>> bonferroni_combination([0.01, 0.5, 0.9])
    0.03
    >>> bonferroni_combination([])
    1.0
    """
    p = np.asarray(list(p_values), dtype=np.float64)
    return float(min(1.0, p.min() * p.size)) if p.size else 1.0


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values: reporting every p-value with ``q <= alpha`` keeps the
    expected share of false discoveries among them at most ``alpha``.

    Examples
    --------
    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5])).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return p.copy()
    order = np.argsort(p)
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(p)
    out[order] = np.minimum(q, 1.0)
    return out


class RingTester:
    """Tests rings of one export against their controls.

    Parameters
    ----------
    data : DetectionData
    min_controls : int
        Fewer control accounts at the ring's shops than this, and the controls are the
        accounts that ordered anywhere on the ring's days.
    max_controls : int
        Controls are sampled down to this many.
    random_state : numpy.random.Generator
        Draws the control samples.
    evidence : dict of str to ndarray, optional
        More per-account evidence to test members on, high values suspicious (a behaviour
        detector's ``account_scores_``, by step name).
    min_effect : float
        A feature whose effect size (the probability that a member is more suspicious in it
        than a control, ties counting half) is below this has p-value 1: a few members far in
        its tail make a significant test but not a ring. 0.5 tests every feature.

    Examples
    --------
    >>> tester = RingTester(data, random_state=np.random.default_rng(0))  # doctest: +SKIP
    >>> tester.test(ring_accounts, ring_shops).p_value  # doctest: +SKIP
    """

    def __init__(self, data: DetectionData, *, min_controls: int = 30, max_controls: int = 2000,
                 random_state: np.random.Generator, evidence: dict[str, np.ndarray] | None = None,
                 min_effect: float = 0.5) -> None:
        self.data = data
        self.min_effect = min_effect
        self.min_controls = min_controls
        self.max_controls = max_controls
        self.rng = random_state
        self.features = {name: (data.accounts[name].to_numpy(dtype=np.float64), direction)
                         for name, direction in BEHAVIOUR_TESTS.items() if name in data.accounts}
        self.features.update({name: (np.asarray(values, dtype=np.float64), +1)
                              for name, values in (evidence or {}).items()})
        # Each merchant's orders and all orders in time order, so a ring's days are a slice.
        self._by_merchant = group_by(data.order_cols, data.graph.n_cols, times=data.times)
        self._merchant_times = data.times[self._by_merchant[1]]
        self._by_time = np.argsort(data.times, kind="stable")
        self._times = data.times[self._by_time]

    def test(self, accounts: np.ndarray, targets: np.ndarray, exclude: Iterable[str] = (),
             describe: Iterable[str] = ()) -> RingTest:
        """Test the ring of ``accounts`` at ``targets``, leaving out the features in ``exclude``
        (those of them in ``describe`` are tested too, into ``described_p`` only)."""
        data = self.data
        first, last = self._days(data.orders_of(accounts, targets) if targets.size else data.orders_of(accounts))
        if first == last:
            return RingTest(1.0)
        controls, kind = self._controls(accounts, targets, first, last)
        exclude, describe = set(exclude), set(describe)
        tested: dict[str, dict[str, float]] = {"feature": {}, "described": {}}
        for name, (values, direction) in self.features.items():
            if name in exclude and name not in describe:
                continue
            ring, ctrl = values[accounts], values[controls]
            ring, ctrl = ring[~np.isnan(ring)], ctrl[~np.isnan(ctrl)]
            if ring.size < 3 or ctrl.size < 3 or np.ptp(np.concatenate([ring, ctrl])) == 0:
                continue
            alternative = "less" if direction < 0 else "greater"
            result = mannwhitneyu(ring, ctrl, alternative=alternative, method="asymptotic")
            effect = result.statistic / (ring.size * ctrl.size)
            effect = 1 - effect if direction < 0 else effect
            p = float(result.pvalue) if effect >= self.min_effect else 1.0
            tested["described" if name in exclude else "feature"][name] = p
        return RingTest(bonferroni_combination(tested["feature"].values()), tested["feature"], int(controls.size),
                        kind, tested["described"])

    def shares(self, accounts: np.ndarray, merchants: np.ndarray) -> np.ndarray:
        """Share of each merchant's (ascending) orders on the ring's days that ``accounts`` placed.

        Examples
        --------
        >>> tester.shares(ring_accounts, np.array([3, 8])).round(2)  # doctest: +SKIP
        array([0.91, 0.02])
        """
        return self._window(accounts, merchants)[1]

    def exposure(self, accounts: np.ndarray, merchants: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every order at ``merchants`` (ascending) on the ring's days, and the ring's share there.

        Returns the orders' positions, the share of its merchant's orders on those days that
        the ring placed for each of them, and that share for each merchant.
        """
        at, share = self._window(accounts, merchants)
        positions = np.concatenate(at or [np.zeros(0, np.int64)])
        return positions, np.repeat(share, [p.size for p in at]), share

    def _window(self, accounts: np.ndarray, merchants: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Each merchant's orders on the ring's days, and the ring's share of them.

        The ring's days span all its orders at ``merchants``, so its count at a merchant is all
        its orders there, and the merchant's is a slice of its orders in time order.
        """
        own = self.data.orders_of(accounts, merchants)
        first, last = self._days(own)
        at = [self._orders_at(j, first, last) for j in merchants.tolist()]
        ring = np.bincount(np.searchsorted(merchants, self.data.order_cols[own]), minlength=merchants.size)
        return at, ring / np.maximum([p.size for p in at], 1)

    def _days(self, positions: np.ndarray) -> tuple[int, int]:
        """The whole days (epoch seconds, end exclusive) the orders at ``positions`` span."""
        if positions.size == 0:
            return 0, 0
        times = self.data.times[positions]
        return int(times.min() // _DAY * _DAY), int((times.max() // _DAY + 1) * _DAY)

    def _orders_at(self, merchant: int, first: int, last: int) -> np.ndarray:
        """Positions of ``merchant``'s orders from ``first`` to ``last`` (exclusive), in time order."""
        indptr, order = self._by_merchant
        lo, hi = indptr[merchant], indptr[merchant + 1]
        lo, hi = lo + np.searchsorted(self._merchant_times[lo:hi], [first, last])
        return order[lo:hi]

    def _controls(self, accounts: np.ndarray, targets: np.ndarray, first: int, last: int) -> tuple[np.ndarray, str]:
        positions = [self._orders_at(j, first, last) for j in targets.tolist()]
        at_targets = self._buyers(np.concatenate(positions or [np.zeros(0, np.int64)]), accounts)
        if at_targets.size >= self.min_controls:
            return self._sample(at_targets), "targets"
        # Orders drawn at random from those of the ring's days (all of them when few): each
        # order of those days is as likely as another.
        lo, hi = np.searchsorted(self._times, [first, last])
        draws = 4 * self.max_controls
        picked = np.arange(lo, hi) if hi - lo <= draws else self.rng.integers(lo, hi, size=draws)
        return self._sample(self._buyers(self._by_time[picked], accounts)), "population"

    def _buyers(self, positions: np.ndarray, accounts: np.ndarray) -> np.ndarray:
        """Accounts that placed the orders at ``positions``, other than ``accounts``."""
        return np.setdiff1d(np.unique(self.data.order_rows[positions]), accounts, assume_unique=True)

    def _sample(self, candidates: np.ndarray) -> np.ndarray:
        if candidates.size <= self.max_controls:
            return candidates
        return np.sort(self.rng.choice(candidates, size=self.max_controls, replace=False))
