"""The ensemble: runs the detectors, merges their rings and scores every entity.

Each detector (a ``(name, detector)`` step of ``detectors``, :data:`DETECTORS` by default)
proposes groups of accounts with a score in [0, 1]:

- :class:`PromotedShopDetector` on accounts x merchants: shops bought together, or by
  behaviourally suspicious accounts, far more than chance allows, and the accounts behind them;
- :class:`DenseBlockDetector` on accounts x (merchant, day): bursts of orders from the same
  accounts at the same shops on the same days (camouflage-resistant);
- :class:`LockstepDetector` on orders in time (hijacked accounts acting together);
- :class:`IdentityCommunityDetector` on shared identities (account farms);
- :class:`AccountTakeoverDetector` on each account's history: devices, IPs and shops that change
  at once, shared by other taken-over accounts;
- :class:`MutualBrushingDetector` on shared identities between shops' buyers and operators (互刷);
- :class:`RatingAnomalyDetector` on each shop's ratings against its own history: five-star
  promotions, and one-star attacks with the shop as victim (恶意差评);
- :class:`ReturningBuyerDetector` on each shop's new customers against its history and its
  class: accounts coming back within weeks to a small shop far more than they would;
- :class:`ReviewTextDetector` on near-duplicate review texts across accounts and shops;
- :class:`EmptyParcelDetector` on parcels, confirmations and tracking numbers (空包裹).

A detector whose columns the export lacks (:func:`~antifraud.schema.missing_columns`)
is skipped, with the reason in ``skipped_``. A group becomes a candidate ring with the merchants
most of its members ordered from (``ring_merchant_share``). Candidates that are substantially the
same group (Jaccard of accounts at least ``merge_jaccard``) are merged, and so are candidates
aimed at exactly the same merchants (or victims); a merged candidate keeps every detector that
found it and the best score. That score is then weighed by the median behaviour of its members,
``score * (behaviour_floor + (1 - behaviour_floor) * behaviour)``, and candidates below
``min_ring_score`` are dropped. A candidate whose reviews at its merchants are more than
``attack_min_share`` rated at most ``attack_max_rating`` attacks those merchants: they are its
victims, not its beneficiaries, and are not scored for it. Of its other merchants, those where
its orders are less than ``target_min_share`` of the shop's orders on its days are incidental,
not beneficiaries.

Which candidates are rings is a test, not a quota (:mod:`~antifraud.detectors.significance`):
each is tested against the other buyers of its shops on its days, its p-value combined with
those its detectors give it under their own nulls (``log10_p``), and the candidates whose
Benjamini-Hochberg q-value is at most ``fdr`` are reported (``rings_``), unless every shop they
bought from is incidental (they then promote and attack nothing): an export without brushing
reports none. Reported rings mostly inside another of the same role
(``merge_containment``) are fragments of it and join it, and every ring is named by the
behaviour its evidence shows (:func:`~antifraud.detectors.naming.ring_kind`).

Scores are half *held* and half *evidence*: an entity a reported ring holds (its members, its
target merchants, its orders at them) scores ``(1 + evidence) / 2``, at least :data:`HELD`, and
any other ``evidence / 2``. Evidence:

- account: ``1 - (1 - ring) * (1 - feature_weight * own) * (1 - feature_weight * propagated)
  * (1 - exposure)`` with ``own = 1 - (1 - coverage * behaviour) * (1 - review)``, where
  ``ring`` is the best ``score * (1 - p)`` of a candidate the account is in, ``behaviour``
  combines, by Fisher's method, how far in the suspicious tail each of its features lies,
  ``coverage`` is the share of those features the export informs (``behaviour_weight_``),
  ``review`` is the account's :class:`ReviewScorer` score (``reviews``), ``propagated`` its
  campaign evidence propagated from the accounts it promotes shops with, and ``exposure`` the
  largest share a reported ring had of a shop's orders on the days the account ordered there
  with it (an order then is the ring's with that probability);
- merchant: the best ``score * (1 - p)`` of a candidate it benefits from, times its share of
  the merchant's orders over ``merchant_full_share`` (at most 1), or its campaign score from
  :class:`ReviewScorer` if higher;
- order: its account's evidence when the order is inside one of the account's candidates,
  ``outside_ring_weight`` times it otherwise, combined as ``1 - (1 - a) * (1 - b)`` with the
  order's own review score.

A learned model's probabilities replace the evidence of the kinds it scores
(:meth:`BrushingEnsemble.set_evidence`); the held half stays.

The suspicion handed to detectors that take one (:class:`PromotedShopDetector`) is behaviour
read at its coverage, ``1 - (1 - behaviour) ** coverage``. Thresholds and labels are computed
once, at ``fit``: ``threshold_[kind]`` is :data:`HELD` (what the reported rings hold), or with
``contamination`` the ``1 - contamination`` quantile of the scores (a quota); the labels
``account_labels_``, ``merchant_labels_`` and ``order_labels_`` are ``score >= threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.base import _fit_context, clone
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_random_state, has_fit_parameter

from antifraud.detectors.account_takeover import AccountTakeoverDetector
from antifraud.detectors.base import Detector
from antifraud.detectors.dense_block import DenseBlockDetector
from antifraud.detectors.empty_parcels import EmptyParcelDetector
from antifraud.detectors.identity_communities import IdentityCommunityDetector
from antifraud.detectors.lockstep import LockstepDetector
from antifraud.detectors.mutual_brushing import MutualBrushingDetector
from antifraud.detectors.naming import TRACE_FEATURES, ring_kind
from antifraud.detectors.promoted_shops import PromotedShopDetector
from antifraud.detectors.rating_anomalies import RatingAnomalyDetector
from antifraud.detectors.returning_buyers import ReturningBuyerDetector
from antifraud.detectors.review_scores import ReviewScorer
from antifraud.detectors.review_texts import ReviewTextDetector
from antifraud.detectors.significance import BEHAVIOUR_TESTS, RingTester, benjamini_hochberg, bonferroni_combination
from antifraud.features.data import DetectionData
from antifraud.features.tables import ACCOUNT_FEATURE_COLUMNS, FEATURE_WORDS
from antifraud.findings.rings import ring_targets
from antifraud.kinds import RING_KINDS
from antifraud.graphs.co_purchase import SharedBuyers, shared_buyers
from antifraud.schema import Signal

__all__ = ["BrushingEnsemble", "DETECTORS", "REVIEWS", "Ring", "SUSPICIOUS_DIRECTION"]

#: The detectors the ensemble runs unless told otherwise, in this order: candidates are merged
#: in it, and a merged ring whose candidates tie on score keeps the first one's kind. Where a
#: setting differs from the class's default, why:
DETECTORS: list[tuple[str, Detector]] = [
    # Three blocks: each costs a full peel (1.5 s at 10M orders), and 3, 5 or 10 gave the same
    # scores on the synthetic bench and the YelpChi campaigns (co-purchase finds the rest). A
    # block needs three accounts, the smallest ring the other detectors report, at two (shop,
    # day) cells: one shared day at one shop is chance.
    ("dense_block", DenseBlockDetector(n_blocks=3, min_rows=3, min_cols=2)),
    ("promoted_shops", PromotedShopDetector()),
    # A higher Louvain resolution keeps neighbouring rings of hijacked accounts apart.
    ("lockstep", LockstepDetector(resolution=2.0)),
    # Long-lived accounts whose devices, IPs and shops change at once, together; its account
    # scores are the trace of hijacked accounts in any ring.
    ("takeover", AccountTakeoverDetector()),
    ("communities", IdentityCommunityDetector()),
    # Shops whose buyers are one person's accounts and whose credit codes or names show one
    # operator; its account scores are the trace of mutual brushing in any ring.
    ("mutual_brushing", MutualBrushingDetector()),
    # Shifts of a shop's ratings against its own history: five-star promotions, and one-star
    # attacks with the shop as victim.
    ("rating_anomalies", RatingAnomalyDetector()),
    # Small shops whose new customers of a few weeks come back far more than their history
    # explains: careful rings on one or two shops, whose accounts behave as honest buyers do.
    ("returning_buyers", ReturningBuyerDetector()),
    # Near-duplicate review texts posted by many accounts at the shops they promote.
    ("review_texts", ReviewTextDetector()),
    # Batches of orders at a shop whose parcels are light, confirmed at once or tracked outside
    # the shop's own label batches; its account scores are the trace of empty parcels in any ring.
    ("empty_parcels", EmptyParcelDetector()),
]

#: The review scorer the ensemble runs unless told otherwise.
REVIEWS = ReviewScorer()

#: Scores from this up are held by reported rings: their members, targets and orders.
HELD = 0.5

#: +1 where a high value is suspicious, -1 where a low one is.
SUSPICIOUS_DIRECTION = {
    "n_orders": -1,
    "top3_share": +1,
    "burst_1h": +1,
    "gap_median_h": -1,
    "shop_popularity": -1,
    "age_first_order_d": -1,
    "five_star_share": +1,
    "rating_extremity": +1,
    "review_delay_h": -1,
    "confirm_delay_h": -1,
    "parcel_weight_kg": -1,
    "identity_degree": +1,
}

@dataclass
class Ring:
    """A group of accounts and the merchants they brushed (or attacked)."""

    accounts: np.ndarray
    merchants: np.ndarray
    score: float
    kind: str
    detectors: list[str]
    victims: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    evidence: dict[str, float] = field(default_factory=dict)
    #: Shops its members bought from where its orders are too small a share to benefit them.
    incidental: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: p-value against its controls (:mod:`antifraud.detectors.significance`) and its
    #: Benjamini-Hochberg q-value over all the export's candidate rings.
    p_value: float = 1.0
    q_value: float = 1.0
    #: ``log10_p_<feature>`` of the traces (:data:`~antifraud.detectors.naming.TRACE_FEATURES`)
    #: its test left out because its detectors selected it on them: they name it only.
    traces: dict[str, float] = field(default_factory=dict)


class BrushingEnsemble(_BaseComposition):
    """Run the ring detectors on :class:`~antifraud.features.data.DetectionData` and score.

    Parameters
    ----------
    detectors : list of (str, Detector or "drop")
        Named ring detectors, run in this order; ``"drop"`` leaves a step out. Each is cloned
        before fitting, and its parameters are the ensemble's too
        (``set_params(dense_block__n_blocks=5)``). Default: :data:`DETECTORS`.
    reviews : ReviewScorer
        Per-order, per-account and per-merchant review scores; cloned. Default: :data:`REVIEWS`.
    merge_jaccard : float
        Rings whose account sets overlap at least this much become one.
    merge_containment : float
        A reported ring whose accounts are at least this share inside a bigger reported ring
        of the same role (both attacks or both promotions) is a fragment of it, and joins it.
    min_ring_score : float
        Candidates scoring below this (after weighing by behaviour) are not tested.
    ring_merchant_share : float
        A ring's merchants are those ordered from by at least this share of its accounts.
    behaviour_floor : float
        The least share of its detector's score a ring keeps, whatever its members' behaviour:
        a ring of camouflaged or hijacked accounts keeps its evidence.
    attack_max_rating, attack_min_share : float
        A ring is an attack on its merchants when more than ``attack_min_share`` of its rated
        orders there are rated at most ``attack_max_rating``.
    merchant_full_share : float
        The share of a merchant's orders a ring must have placed for the merchant to take the
        ring's full score (less, proportionally below it).
    outside_ring_weight : float
        Share of its account's score an order outside the account's rings takes.
    feature_weight : float
        Weight of the account's own and propagated evidence in account scores.
    fdr : float
        False-discovery rate of the reported rings: a candidate ring is reported when its
        Benjamini-Hochberg q-value against its controls is at most this.
    min_effect : float
        A member feature counts in a ring's test only where a member beats a control in it with
        at least this probability (the Mann-Whitney common-language effect size, Vargha and
        Delaney's A; 0.71 is their "large"): a ring is a claim about its members, and a few
        hijacked accounts among 200 honest buyers make a significant test, not a ring.
    target_min_share : float
        A ring benefits a shop (which is then its target) when the ring placed at least this
        share of the shop's orders on the ring's days; its other shops are incidental.
    contamination : float or None
        None (the default) flags what the significant rings hold. A share in (0, 0.5] flags
        that share of each kind of entity instead (a quota: the highest scores).
    random_state : int, RandomState or None
        Seeds the detectors whose own ``random_state`` is None.
    n_jobs : int or None
        Detectors fitted at once, in threads (their kernels release the GIL); None means 1
        unless in a ``joblib.parallel_config(backend="threading", n_jobs=...)`` context, -1
        all cores. The results are the same for any value.

    Attributes
    ----------
    detectors_ : Bunch
        The fitted clones of the detectors that ran, by name.
    skipped_ : dict
        Detectors that could not run (columns missing from the export), with the reason.
    reviews_ : ReviewScorer
        The fitted review scorer.
    candidates_ : list of Ring
        Every tested candidate, best first, with its ``p_value`` and ``q_value``.
    rings_ : list of Ring
        The reported rings (``q_value <= fdr``), fragments joined, named, best first.
    behaviour_ : ndarray of float
        How far in the suspicious tails each account's features lie (Fisher's method).
    behaviour_weight_ : float
        Share of the behaviour features the export informs: behaviour counts for that share
        in account scores (``behaviour_weight_ * behaviour_``) and in the suspicion handed to
        the detectors (``1 - (1 - behaviour_) ** behaviour_weight_``).
    account_scores_, merchant_scores_, order_scores_ : ndarray of float
    threshold_ : dict
        Threshold per entity kind (``"accounts"``, ``"merchants"``, ``"orders"``).
    account_labels_, merchant_labels_, order_labels_ : ndarray of bool
        Flagged entities: score at or above its kind's threshold.
    evidence_ : dict
        Per kind, the evidence half of the scores, and ``held_`` what the reported rings hold.
    candidate_account_scores_ : ndarray of float
        Per account, the best ``score * (1 - p)`` of a candidate it is in (0 for none).
    candidate_merchant_shares_ : ndarray of float
        Per merchant, the largest share of its orders a candidate's accounts placed (0 for none).
    """

    _parameter_constraints: dict = {
        "detectors": [list],
        "reviews": [ReviewScorer],
        "merge_jaccard": [Interval(Real, 0, 1, closed="right")],
        "merge_containment": [Interval(Real, 0, 1, closed="right")],
        "min_ring_score": [Interval(Real, 0, None, closed="left")],
        "ring_merchant_share": [Interval(Real, 0, 1, closed="both")],
        "behaviour_floor": [Interval(Real, 0, 1, closed="both")],
        "attack_max_rating": [Real],
        "attack_min_share": [Interval(Real, 0, 1, closed="left")],
        "merchant_full_share": [Interval(Real, 0, 1, closed="right")],
        "outside_ring_weight": [Interval(Real, 0, 1, closed="both")],
        "feature_weight": [Interval(Real, 0, 1, closed="both")],
        "fdr": [Interval(Real, 0, 1, closed="neither")],
        "min_effect": [Interval(Real, 0.5, 1, closed="both")],
        "target_min_share": [Interval(Real, 0, 1, closed="both")],
        "contamination": [Interval(Real, 0, 0.5, closed="right"), None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        detectors: list[tuple[str, Detector | str]] = DETECTORS,
        reviews: ReviewScorer = REVIEWS,
        merge_jaccard: float = 0.5,
        merge_containment: float = 0.5,
        min_ring_score: float = 0.5,
        ring_merchant_share: float = 0.5,
        behaviour_floor: float = 0.5,
        attack_max_rating: float = 2.0,
        attack_min_share: float = 0.5,
        merchant_full_share: float = 0.5,
        outside_ring_weight: float = 0.5,
        feature_weight: float = 0.5,
        fdr: float = 0.01,
        min_effect: float = 0.71,
        target_min_share: float = 0.1,
        contamination: float | None = None,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.detectors = detectors
        self.reviews = reviews
        self.merge_jaccard = merge_jaccard
        self.merge_containment = merge_containment
        self.min_ring_score = min_ring_score
        self.ring_merchant_share = ring_merchant_share
        self.behaviour_floor = behaviour_floor
        self.attack_max_rating = attack_max_rating
        self.attack_min_share = attack_min_share
        self.merchant_full_share = merchant_full_share
        self.outside_ring_weight = outside_ring_weight
        self.feature_weight = feature_weight
        self.fdr = fdr
        self.min_effect = min_effect
        self.target_min_share = target_min_share
        self.contamination = contamination
        self.random_state = random_state
        self.n_jobs = n_jobs

    def get_params(self, deep: bool = True) -> dict:
        """Parameters of the ensemble and, with ``deep``, of every step (``name__param``)."""
        return self._get_params("detectors", deep=deep)

    def set_params(self, **params) -> BrushingEnsemble:
        """Set parameters, also of steps (``dense_block__n_blocks=5``) or steps themselves by name."""
        # The defaults are shared by every ensemble built without them: change copies.
        if self.detectors is DETECTORS:
            self.detectors = clone(DETECTORS, safe=False)
        if self.reviews is REVIEWS:
            self.reviews = clone(REVIEWS)
        return self._set_params("detectors", **params)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: DetectionData, y: None = None) -> BrushingEnsemble:
        """Detect rings in ``X`` and score its accounts, merchants and orders."""
        data = X
        orders = data.graph.to_scipy()
        self.behaviour_ = _behaviour(data.accounts)
        self.behaviour_weight_ = _behaviour_weight(data.accounts)
        steps, self.skipped_ = self._steps(data)
        reviews = clone(self.reviews)
        shared = _shared_buyers(orders, [d for _, d in steps if has_fit_parameter(d, "shared")] + [reviews])
        # Suspicion read from part of the behaviour features counts for that part as evidence:
        # its tail probability p becomes p ** coverage (Fisher's statistic -2 log p weighed by
        # the coverage), so a review-only export needs behaviour beyond 0.98 where a full one
        # needs 0.9. YelpChi's crowds of one-review accounts at popular shops were organic.
        offered = {"suspicion": 1 - (1 - self.behaviour_) ** self.behaviour_weight_, "shared": shared}
        # The review scorer needs nothing the detectors find: it is fitted alongside them, and
        # the costliest start first so that the threads finish together.
        tasks = [reviews, *(d for _, d in steps)]
        order = sorted(range(len(tasks)), key=lambda i: -type(tasks[i]).cost)
        done = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fit_step)(tasks[i], data, offered) for i in order
        )
        fitted = [done[order.index(i)] for i in range(len(tasks))]
        self.reviews_ = fitted[0]
        self.detectors_ = Bunch(**{name: detector for (name, _), detector in zip(steps, fitted[1:])})
        candidates = [Ring(g.accounts, g.merchants, g.score, g.kind, [name], g.victims, _own_p(name, g.evidence))
                      for name, detector in self.detectors_.items() for g in detector.groups_]
        # Weighing by behaviour never raises a score, so weaker candidates cannot become rings.
        candidates = [c for c in candidates if c.score >= self.min_ring_score]
        # Members are tested on the behaviour detectors' evidence too, whoever proposed the ring.
        traced = {name: d.account_scores_ for name, d in self.detectors_.items() if d.trace is not None}
        seed = check_random_state(self.random_state).randint(2**31)
        tester = RingTester(data, random_state=np.random.default_rng(seed), evidence=traced,
                            min_effect=self.min_effect)
        rings = [self._describe(ring, data, orders, tester) for ring in _merge(candidates, self.merge_jaccard)]
        rings = [r for r in _merge_same_target(rings) if r.score >= self.min_ring_score]
        self._test(rings, tester, dict(steps))
        self.candidates_ = _ranked(rings)
        reported = _merge_fragments([r for r in rings if r.q_value <= self.fdr and _aims(r)], self.merge_containment)
        traces = {kind: tuple(n for n, d in self.detectors_.items() if d.trace == kind) for kind in RING_KINDS}
        self.rings_ = _ranked([self._name(r, data, orders, traces) for r in reported])
        self._score(data, orders, tester)
        return self

    def signals(self) -> list[Signal]:
        """What this ensemble reads, each with the columns it needs: what ``validate`` reports.

        One signal per step that is not dropped (named as the step; :meth:`fit` skips it where
        :meth:`Signal.missing` is not empty, saying the same), one for the review scorer
        (``reviews``) and one per behaviour feature (:data:`SUSPICIOUS_DIRECTION`, with the
        columns :data:`~antifraud.features.tables.ACCOUNT_FEATURE_COLUMNS` declares).

        Examples
        --------
        >>> [s.name for s in BrushingEnsemble(detectors=[("lockstep", LockstepDetector())]).signals()][:3]
        ['lockstep', 'reviews', 'n_orders']
        """
        steps = [(name, d) for name, d in self.detectors if not _dropped(d)]
        return [_step_signal(name, d) for name, d in [*steps, ("reviews", self.reviews)]] + [
            Signal(name, FEATURE_WORDS[name], ACCOUNT_FEATURE_COLUMNS[name]) for name in SUSPICIOUS_DIRECTION
        ]

    def _steps(self, data: DetectionData) -> tuple[list[tuple[str, Detector]], dict[str, str]]:
        """Unfitted clones of the detectors that can run on ``data``, and why the others cannot."""
        self._validate_names([name for name, _ in self.detectors])
        steps, skipped = [], {}
        for name, detector in self.detectors:
            if _dropped(detector):
                continue
            if not isinstance(detector, Detector):
                raise TypeError(f"step {name!r} must be a Detector or 'drop', got {detector!r}")
            missing = _step_signal(name, detector).missing(data.table.column_names)
            if missing:
                skipped[name] = "missing columns: " + ", ".join(missing)
                continue
            detector = clone(detector)
            if "random_state" in detector.get_params() and detector.random_state is None:
                detector.set_params(random_state=self.random_state)
            steps.append((name, detector))
        return steps, skipped

    # -- rings ---------------------------------------------------------------------------------
    def _describe(self, ring: Ring, data: DetectionData, orders: sp.csr_matrix, tester: RingTester) -> Ring:
        """Fill a ring's merchants (or victims) and weigh its score by its accounts' behaviour.

        Its merchants are the shops most of its accounts bought from, kept as targets where the
        ring's orders are a material share of the shop's (``target_min_share``), incidental
        otherwise: a ring that also buys at a big honest shop does not make that shop a
        beneficiary.
        """
        shops, buyers = np.unique(orders[ring.accounts].indices, return_counts=True)  # distinct buyers per shop
        common = shops[buyers >= self.ring_merchant_share * len(ring.accounts)]
        merchants = np.setdiff1d(np.union1d(ring.merchants, common), ring.victims).astype(np.int64)
        if data.ratings is not None and merchants.size:
            rated = data.ratings[data.orders_of(ring.accounts, merchants)]
            rated = rated[~np.isnan(rated)]
            if rated.size and np.mean(rated <= self.attack_max_rating) > self.attack_min_share:
                ring.victims, merchants = np.union1d(ring.victims, merchants), np.zeros(0, np.int64)
        material = tester.shares(ring.accounts, merchants) >= self.target_min_share
        ring.merchants, ring.incidental = merchants[material], merchants[~material]
        if ring.victims.size:
            ring.kind = "negative_attack"
        # Honest structure can be dense too (loyal customers, households): weigh the
        # detector's evidence by how unusual the members' own behaviour is.
        median = float(np.median(self.behaviour_[ring.accounts]))
        ring.score *= self.behaviour_floor + (1 - self.behaviour_floor) * median
        return ring

    def _test(self, rings: list[Ring], tester: RingTester, steps: dict[str, Detector]) -> None:
        """Test every ring against its controls and set its p- and q-values.

        A ring's p-value combines (Bonferroni) its members' test and the p-values its detectors
        give it under their own nulls (``log10_p_<step>``); its detectors' own evidence is left
        out of the members' test, and so are the features every one of its detectors selects
        its groups on (:func:`_selected_on`): a ring that a detector found without reading a
        feature (a farm proposed by its shared identities) is tested on it, even where another
        detector that did read it found the ring too.
        """
        for ring in rings:
            selected = set.intersection(*(_selected_on(steps[name]) for name in ring.detectors))
            exclude = set(ring.detectors) | selected
            test = tester.test(ring.accounts, ring_targets(ring.merchants, ring.victims), exclude, TRACE_FEATURES)
            own = [10 ** ring.evidence[f"log10_p_{name}"] for name in ring.detectors if f"log10_p_{name}" in ring.evidence]
            ring.p_value = bonferroni_combination([test.p_value, *own])
            ring.evidence.update({f"log10_p_{name}": _log10(p) for name, p in test.feature_p.items()})
            ring.traces = {f"log10_p_{name}": _log10(p) for name, p in test.described_p.items()}
            ring.evidence["log10_p"] = _log10(ring.p_value)
        for ring, q in zip(rings, benjamini_hochberg(np.array([r.p_value for r in rings]))):
            ring.q_value = float(q)
            ring.evidence["log10_q"] = _log10(ring.q_value)

    def _name(self, ring: Ring, data: DetectionData, orders: sp.csr_matrix, traces: dict[str, tuple[str, ...]]) -> Ring:
        """Name a reported ring by the behaviour its evidence shows (:func:`ring_kind`), the
        behaviour detectors' evidence (``traces``: their step names by the kind they trace)
        included.

        A trace its detectors selected the ring on is left out of its significance test, which
        it would bias, but still says what the ring is (``Ring.traces``: young accounts make a
        farm whichever detector found them).
        """
        evidence = ring.traces | ring.evidence
        linked = 0.0
        if data.identity is not None:
            linked = float(np.mean(data.identity.linked(ring.accounts)))
        bought = orders[ring.accounts]
        at_targets = np.asarray(bought[:, ring_targets(ring.merchants, ring.victims)].sum(axis=1)).ravel()
        outside = float(np.median(1 - at_targets / np.maximum(np.asarray(bought.sum(axis=1)).ravel(), 1)))
        ring.kind = ring_kind(evidence, attack=bool(ring.victims.size), linked_share=linked,
                              outside_share=outside, traces=traces)
        return ring

    # -- scores -------------------------------------------------------------------------------
    def _score(self, data: DetectionData, orders: sp.csr_matrix, tester: RingTester) -> None:
        """Score every entity: half for being in (or the target of) a reported ring, half for
        the rest of its evidence, so that scores of 0.5 and above are what the rings hold."""
        n_accounts, n_merchants = data.graph.n_rows, data.graph.n_cols
        ring_score = np.zeros(n_accounts)
        merchant = np.zeros(n_merchants)
        largest_share = np.zeros(n_merchants)
        inside = np.zeros(len(data.order_rows), dtype=bool)
        per_merchant_orders = np.asarray(orders.sum(axis=0)).ravel()
        # Every candidate counts as evidence, weighed by how unlikely it is under its null.
        for ring in self.candidates_:
            weight = ring.score * (1 - ring.p_value)
            ring_score[ring.accounts] = np.maximum(ring_score[ring.accounts], weight)
            if ring.merchants.size:
                positions = data.orders_of(ring.accounts, ring.merchants)
                shops, ring_orders = np.unique(data.order_cols[positions], return_counts=True)
                share = ring_orders / np.maximum(per_merchant_orders[shops], 1)
                merchant[shops] = np.maximum(merchant[shops], weight * np.minimum(1, share / self.merchant_full_share))
                largest_share[shops] = np.maximum(largest_share[shops], share)
                inside[positions] = True
        # An order at a reported ring's target on the ring's days is the ring's with the
        # probability of its share of that shop's orders then: its buyer is exposed by as much.
        exposure = np.zeros(n_accounts)
        for ring in self.rings_:
            positions, share, _ = tester.exposure(ring.accounts, ring.merchants)
            np.maximum.at(exposure, data.order_rows[positions], share)
        reviews = self.reviews_
        # Behaviour read from part of its features is weaker evidence (coverage); the review
        # evidence adds to it by noisy-or, so that where behaviour is thin (a review-only
        # export) the review evidence keeps its ranking instead of losing it to the maximum.
        own = 1 - (1 - self.behaviour_weight_ * self.behaviour_) * (1 - reviews.account_scores_)
        # Propagated campaign evidence comes from other accounts, like a ring's, so it adds to
        # the account's own evidence instead of competing with it in the maximum.
        propagated = self.feature_weight * reviews.propagated_account_scores_
        account = 1 - (1 - ring_score) * (1 - self.feature_weight * own) * (1 - propagated) * (1 - exposure)
        ring_orders = np.where(inside, account[data.order_rows], self.outside_ring_weight * account[data.order_rows])
        evidence = {
            "accounts": account,
            "merchants": np.maximum(merchant, reviews.merchant_scores_),
            "orders": 1 - (1 - ring_orders) * (1 - reviews.order_scores_),
        }
        held = {kind: np.zeros(len(values), dtype=bool) for kind, values in evidence.items()}
        for ring in self.rings_:
            held["accounts"][ring.accounts] = True
            held["merchants"][ring.merchants] = True
            held["orders"][data.orders_of(ring.accounts, ring_targets(ring.merchants, ring.victims))] = True
        self.evidence_, self.held_ = evidence, held
        self.candidate_account_scores_, self.candidate_merchant_shares_ = ring_score, largest_share
        self._set_scores()

    def set_evidence(self, evidence: dict[str, np.ndarray]) -> BrushingEnsemble:
        """Replace the evidence half of the fitted scores of some kinds (``"accounts"``,
        ``"merchants"``, ``"orders"``) with a value in [0, 1] per entity: a learned model's
        probability of fraud, which reads this evidence among its features and weighs it as
        the confirmed cases teach (:mod:`antifraud.learning`). What the rings hold, and so what
        the default threshold flags, is unchanged: the learned evidence ranks, the rings accuse.

        Examples
        --------
        >>> import numpy as np
        >>> e = BrushingEnsemble()
        >>> e.evidence_, e.held_ = {"accounts": np.array([0.2, 0.9])}, {"accounts": np.array([True, False])}
        >>> e.set_evidence({"accounts": np.array([0.6, 0.4])}).account_scores_.tolist()
        [0.8, 0.2]
        """
        for kind, values in evidence.items():
            self.evidence_[kind] = np.asarray(values, dtype=np.float64)
        self._set_scores()
        return self

    def _set_scores(self) -> None:
        """Scores, thresholds and labels from ``evidence_`` and ``held_``."""
        scores = {kind: (self.held_[kind] + values) / 2 for kind, values in self.evidence_.items()}
        for kind, values in scores.items():
            setattr(self, f"{kind[:-1]}_scores_", values)
        self.threshold_ = {kind: self._threshold(values) for kind, values in scores.items()}
        for kind, values in scores.items():
            setattr(self, f"{kind[:-1]}_labels_", values >= self.threshold_[kind])

    def _threshold(self, scores: np.ndarray) -> float:
        """:data:`HELD` (what the reported rings hold), or the quota's quantile."""
        if self.contamination is None:
            return HELD
        return float(np.quantile(scores, 1 - self.contamination, method="higher")) if scores.size else 1.0


def _fit_step(detector: Detector | ReviewScorer, data: DetectionData, offered: dict) -> Detector | ReviewScorer:
    """``detector`` fitted on ``data`` with those of the ``offered`` fit parameters it takes."""
    return detector.fit(data, **{k: v for k, v in offered.items() if has_fit_parameter(detector, k)})


def _dropped(step: Detector | str) -> bool:
    return isinstance(step, str) and step == "drop"


def _step_signal(name: str, detector: Detector) -> Signal:
    """A step as a signal: its name, its detector's description and required columns."""
    return Signal(name, detector.description(), detector.required_columns)


def _shared_buyers(orders: sp.csr_matrix, consumers: list[Detector]) -> SharedBuyers | None:
    """Shop pairs' shared buyers, counted once for every detector that tests them (None when
    their ``max_account_shops`` differ and each must count its own)."""
    limits = {c.max_account_shops for c in consumers}
    if len(limits) != 1:
        return None
    return shared_buyers(orders, max_account_shops=limits.pop(), min_shared=min(c.min_shared for c in consumers))


def _merge(rings: list[Ring], min_overlap: float, *, containment: bool = False) -> list[Ring]:
    """Merge rings whose account sets overlap by at least ``min_overlap`` (transitively).

    The overlap is the Jaccard index of the account sets, or with ``containment`` the share
    of the smaller set inside the larger (a fragment inside the operation it belongs to).
    Overlaps come from one sparse product of the ring x account incidence matrix, so only
    pairs that share accounts are ever compared.
    """
    if not rings:
        return []
    sizes = np.array([len(r.accounts) for r in rings], dtype=np.float64)
    incidence = sp.csr_matrix(
        (np.ones(int(sizes.sum())), (np.repeat(np.arange(len(rings)), sizes.astype(np.int64)),
                                     np.concatenate([r.accounts for r in rings]))),
    )
    shared = (incidence @ incidence.T).tocoo()
    if containment:
        overlap = shared.data / np.minimum(sizes[shared.row], sizes[shared.col])
    else:
        overlap = shared.data / (sizes[shared.row] + sizes[shared.col] - shared.data)
    keep = overlap >= min_overlap
    links = sp.coo_matrix((np.ones(keep.sum()), (shared.row[keep], shared.col[keep])), shape=(len(rings),) * 2)
    _, group = connected_components(links, directed=False)
    merged: dict[int, Ring] = {}
    for g, ring in zip(group.tolist(), rings):
        _absorb(merged, g, ring)
    return list(merged.values())


def _merge_fragments(rings: list[Ring], min_containment: float) -> list[Ring]:
    """Merge reported rings that are fragments of one operation: mostly inside one another,
    with the same role (attacks with attacks, promotions with promotions)."""
    attacks = [r for r in rings if r.victims.size]
    promotions = [r for r in rings if not r.victims.size]
    return [*_merge(attacks, min_containment, containment=True), *_merge(promotions, min_containment, containment=True)]


def _aims(ring: Ring) -> bool:
    """Whether a ring is aimed at anything: a ring all of whose shops are incidental (its orders
    a sliver of theirs, such as first-time buyers' reviews in a popular shop's product drop)
    neither promotes nor attacks a shop, and is not reported."""
    return bool(ring.merchants.size or ring.victims.size or not ring.incidental.size)


def _selected_on(step: Detector) -> set[str]:
    """The features a step selects its groups on: those it declares, and every behaviour feature
    for a step that takes the ensemble's ``suspicion`` (read from all of them)."""
    return set(step.selects_on) | (set(BEHAVIOUR_TESTS) if has_fit_parameter(step, "suspicion") else set())


def _own_p(step: str, evidence: dict[str, float]) -> dict[str, float]:
    """A group's evidence, its p-value under its detector's null filed under the step's name
    (``log10_p_<step>``), beside the members' tests on other steps' evidence."""
    evidence = dict(evidence)
    if "log10_p" in evidence:
        evidence[f"log10_p_{step}"] = evidence.pop("log10_p")
    return evidence


def _ranked(rings: list[Ring]) -> list[Ring]:
    """Rings best first (ties by their smallest account)."""
    return sorted(rings, key=lambda r: (-r.score, int(r.accounts[0])))


def _log10(p: float) -> float:
    """``log10 p``, finite (p below 1e-300 counts as 1e-300)."""
    return float(np.log10(max(p, 1e-300)))


def _merge_same_target(rings: list[Ring]) -> list[Ring]:
    """Merge described rings of the same kind aimed at exactly the same merchants or victims.

    A long burst of bad reviews at one shop, or one shop's paid buyers, can reach a detector
    as several groups with few accounts in common; they are one operation against (or for) the
    same shops.
    """
    merged: dict[object, Ring] = {}
    for ring in rings:
        target = (ring.kind, tuple(ring.merchants.tolist()), tuple(ring.victims.tolist()))
        _absorb(merged, target if ring.merchants.size or ring.victims.size else id(ring), ring)
    return list(merged.values())


def _absorb(merged: dict, key: object, ring: Ring) -> None:
    """Add ``ring`` to the merged ring under ``key`` (or start it): union of accounts, merchants,
    victims, incidental shops and detectors; the best score and its kind, the best p- and
    q-values, and each piece of evidence (and trace) at its strongest."""
    if key not in merged:
        merged[key] = Ring(ring.accounts.copy(), ring.merchants.copy(), ring.score, ring.kind, list(ring.detectors),
                           ring.victims.copy(), dict(ring.evidence), ring.incidental.copy(), ring.p_value, ring.q_value,
                           dict(ring.traces))
        return
    m = merged[key]
    m.accounts = np.union1d(m.accounts, ring.accounts)
    m.merchants = np.union1d(m.merchants, ring.merchants)
    m.victims = np.union1d(m.victims, ring.victims)
    m.incidental = np.setdiff1d(np.union1d(m.incidental, ring.incidental), m.merchants)
    if ring.score > m.score:
        m.score, m.kind = ring.score, ring.kind
    m.p_value, m.q_value = min(m.p_value, ring.p_value), min(m.q_value, ring.q_value)
    m.detectors = sorted(set(m.detectors) | set(ring.detectors))
    for name, value in ring.evidence.items():
        # log10 p-values are strongest at their least; every other value at its most.
        strongest = min if name.startswith("log10_") else max
        m.evidence[name] = strongest(m.evidence.get(name, value), value)
    for name, value in ring.traces.items():
        m.traces[name] = min(m.traces.get(name, value), value)


def _percentiles(accounts: pd.DataFrame) -> pd.DataFrame:
    """Population percentile (0-1) of every account's features, NaN where unknown."""
    return accounts.rank(pct=True, na_option="keep")


def _behaviour_weight(accounts: pd.DataFrame) -> float:
    """Share of the behaviour features (:data:`SUSPICIOUS_DIRECTION`) that the export informs.

    A feature informs when its column is there and takes at least two distinct values: an
    export without identity, delivery or registration columns (a review data set) measures
    only part of the behaviour the score is built on.

    Examples
    --------
    >>> _behaviour_weight(pd.DataFrame({"n_orders": [1, 2], "burst_1h": [1, 1]}))
    0.08333333333333333
    """
    known = [c for c in SUSPICIOUS_DIRECTION if c in accounts and accounts[c].nunique(dropna=True) > 1]
    return len(known) / len(SUSPICIOUS_DIRECTION)


def _behaviour(accounts: pd.DataFrame) -> np.ndarray:
    """How far in the suspicious tails an account's features lie, in [0, 1].

    Each known feature's population percentile in its suspicious direction is a tail
    probability ``p = 1 - percentile``; Fisher's method combines them (``-2 sum log p`` is
    chi-squared with ``2k`` degrees of freedom under the null of an ordinary account), so one
    extreme feature counts for more than several mildly unusual ones. 0.5 when nothing is known.
    """
    from scipy.stats import chi2

    cols = [c for c in SUSPICIOUS_DIRECTION if c in accounts]
    if not cols:
        return np.full(len(accounts), 0.5)
    pct = _percentiles(accounts[cols]).to_numpy()
    signs = np.array([SUSPICIOUS_DIRECTION[c] for c in cols])
    tail = np.where(signs > 0, 1 - pct, pct) + 0.5 / max(len(accounts), 1)  # never exactly 0
    known = ~np.isnan(tail)
    stat = -2 * np.where(known, np.log(np.clip(tail, 1e-12, 1)), 0).sum(axis=1)
    k = known.sum(axis=1)
    return np.where(k > 0, chi2.cdf(stat, 2 * np.maximum(k, 1)), 0.5)
