"""The contract every detector keeps (``docs/detectors.md``), checked on every Detector subclass.

Detectors are found by subclassing, so a new one is checked without being listed here; the
known-answer floors are for the steps the ensemble runs by default (:data:`DETECTORS`).
"""

import json
from numbers import Integral

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import average_precision_score
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    generate_invalid_param_val,
    make_constraint,
)

import antifraud.detectors
from antifraud.detectors import (
    DETECTORS,
    AccountGroup,
    BrushingEnsemble,
    Detector,
    ReviewBurstDetector,
    ReviewScorer,
    missing_columns,
)
from antifraud.features.data import prepare
from antifraud.ingest import PROFILES, ingest
from antifraud.kinds import RING_KINDS
from antifraud.schema import REQUIRED
from antifraud.synth import write_synthetic_export


def _detector_classes() -> list[type[Detector]]:
    found, todo = set(), [Detector]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith(antifraud.detectors.__name__):
                found.add(sub)
    return sorted(found, key=lambda cls: cls.__name__)


CLASSES = _detector_classes()
#: Detectors checked here that the ensemble does not run as a step.
NOT_DEFAULT = {ReviewScorer, ReviewBurstDetector}
KINDS = {"dense", "promoted_shops", "lockstep", "review_burst", "farm"} | set(RING_KINDS)


def _seeded(cls: type[Detector]) -> Detector:
    return cls(random_state=0) if "random_state" in cls().get_params() else cls()


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """30,000 orders with four planted rings of every kind."""
    out = write_synthetic_export(tmp_path_factory.mktemp("synth"), seed=9, n_orders=30_000, rings_per_kind=4)
    data = prepare(ingest([out / "orders.csv"], PROFILES["generic"]).table)
    rings = [json.loads(line) for line in (out / "truth" / "rings.jsonl").read_text().splitlines()]
    return data, rings


def test_every_detector_is_registered():
    assert [cls.__name__ for cls in CLASSES] == [
        "AccountTakeoverDetector", "DenseBlockDetector", "EmptyParcelDetector", "IdentityCommunityDetector",
        "LockstepDetector", "MutualBrushingDetector", "PromotedShopDetector", "RatingAnomalyDetector",
        "ReturningBuyerDetector", "ReviewBurstDetector", "ReviewScorer", "ReviewTextDetector",
    ]
    assert {type(d) for _, d in DETECTORS} | NOT_DEFAULT == set(CLASSES)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_clone_round_trip(cls, bench):
    detector = _seeded(cls)
    params = detector.get_params()
    assert cls(**params).get_params() == params
    twin = clone(detector.fit(bench[0]))
    assert type(twin) is cls and twin.get_params() == params
    assert not hasattr(twin, "groups_") and not hasattr(twin, "account_scores_")


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_fit_returns_self_and_leaves_the_parameters_alone(cls, bench):
    detector = _seeded(cls)
    params = detector.get_params()
    assert detector.fit(bench[0]) is detector
    assert detector.get_params() == params


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_fitted_outputs_follow_the_contract(cls, bench):
    data = bench[0]
    detector = _seeded(cls).fit(data)
    n_accounts, n_merchants = data.graph.n_rows, data.graph.n_cols
    assert detector.account_scores_.shape == (n_accounts,)
    for name, n in (("account_scores_", n_accounts), ("merchant_scores_", n_merchants),
                    ("order_scores_", len(data.order_rows))):
        if hasattr(detector, name):
            scores = getattr(detector, name)
            assert scores.shape == (n,) and ((scores >= 0) & (scores <= 1)).all()
    assert isinstance(detector.groups_, list)
    assert [g.score for g in detector.groups_] == sorted((g.score for g in detector.groups_), reverse=True)
    for group in detector.groups_:
        assert isinstance(group, AccountGroup) and group.kind in KINDS and 0 <= group.score <= 1
        assert np.array_equal(group.accounts, np.unique(group.accounts)) and group.accounts.size
        assert 0 <= group.accounts.min() and group.accounts.max() < n_accounts
        assert np.array_equal(group.merchants, np.unique(group.merchants))
        assert all(0 <= m < n_merchants for m in group.merchants.tolist())
        assert all(isinstance(k, str) and isinstance(v, float) for k, v in (group.evidence | group.details).items())
        assert (detector.account_scores_[group.accounts] >= group.score).all()  # an account's best group


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_same_seed_same_result(cls, bench):
    a, b = _seeded(cls).fit(bench[0]), _seeded(cls).fit(bench[0])
    assert [(g.accounts.tolist(), g.merchants.tolist(), g.score, g.kind, g.evidence, g.details) for g in a.groups_] \
        == [(g.accounts.tolist(), g.merchants.tolist(), g.score, g.kind, g.evidence, g.details) for g in b.groups_]
    for name in ("account_scores_", "merchant_scores_", "order_scores_"):
        if hasattr(a, name):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_detector_without_its_columns_is_refused_and_skipped(cls, bench):
    minimal = prepare(bench[0].table.select(list(REQUIRED)))
    missing = missing_columns(cls.required_columns, REQUIRED)
    if not missing:
        assert _seeded(cls).fit(minimal).account_scores_.shape == (minimal.graph.n_rows,)
        return
    with pytest.raises(ValueError, match=f"{cls.__name__} needs columns the export lacks: {missing[0]}"):
        _seeded(cls).fit(minimal)
    ensemble = BrushingEnsemble(detectors=[("step", cls())], random_state=0).fit(minimal)
    assert ensemble.skipped_ == {"step": "missing columns: " + ", ".join(missing)}
    assert "step" not in ensemble.detectors_


def _ends(interval: Interval) -> list[tuple[object, bool]]:
    """The values at and just beyond each finite end of ``interval``, with whether it takes them:
    an open end is itself the nearest value outside, a closed one is inside with its neighbour
    (one step: 1 for integers, 1e-6 for reals) outside; without ends, NaN is the only number
    outside."""
    if interval.left is None and interval.right is None:
        return [(float("nan"), False)]
    step = 1 if interval.type is Integral else 1e-6
    out = []
    for end, sign, closed in ((interval.left, -1, interval.closed in ("left", "both")),
                              (interval.right, 1, interval.closed in ("right", "both"))):
        if end is not None:
            out += [(end, True), (end + sign * step, False)] if closed else [(end, False)]
    return out


def _boundary_values(cls: type[Detector], valid: bool) -> list[tuple[type[Detector], str, object]]:
    """``(cls, parameter, value)`` at the ends of ``cls``'s constraints that are (not) ``valid``,
    derived from the constraints; a value outside one constraint that another takes is left out."""
    out = []
    for name, constraints in cls._parameter_constraints.items():
        made = [make_constraint(c) for c in constraints]
        for constraint in made:
            if isinstance(constraint, Interval):
                values = [value for value, inside in _ends(constraint) if inside == valid]
            elif isinstance(constraint, StrOptions):
                values = sorted(constraint.options) if valid else [generate_invalid_param_val(constraint)]
            else:
                continue
            out += [(cls, name, v) for v in values if valid or not any(c.is_satisfied_by(v) for c in made)]
    return out


OUT_OF_RANGE = [case for cls in CLASSES for case in _boundary_values(cls, valid=False)]
CLOSED_ENDS = [case for cls in CLASSES for case in _boundary_values(cls, valid=True)]


def _case_id(case: tuple[type[Detector], str, object]) -> str:
    cls, name, value = case
    return f"{cls.__name__}-{name}={value!r}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_parameter_has_a_constraint(cls):
    assert set(cls._parameter_constraints) == set(cls().get_params(deep=False))


def test_every_detector_has_a_value_out_of_range():
    assert {cls for cls, _, _ in OUT_OF_RANGE} == set(CLASSES)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_parameter_of_the_wrong_kind_is_refused_at_fit(cls, bench):
    one_row = prepare(bench[0].table.slice(0, 1))
    for name in cls().get_params(deep=False):
        detector = cls(**{name: object()})  # stored as given: refused at fit, not before
        with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of {cls.__name__} must be"):
            detector.fit(one_row)


@pytest.mark.parametrize("case", OUT_OF_RANGE, ids=_case_id)
def test_a_value_out_of_range_is_refused_at_fit_by_name(case, bench):
    cls, name, value = case
    detector = cls(**{name: value})
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of {cls.__name__} must be .* Got"):
        detector.fit(prepare(bench[0].table.slice(0, 1)))


@pytest.fixture(scope="module")
def small(bench):
    """The bench's first 3,000 orders."""
    return prepare(bench[0].table.slice(0, 3000))


@pytest.mark.parametrize("case", CLOSED_ENDS, ids=_case_id)
def test_the_closed_ends_of_a_range_are_taken(case, small):
    cls, name, value = case
    detector = _seeded(cls).set_params(**{name: value}).fit(small)
    scores = detector.account_scores_
    assert scores.shape == (small.graph.n_rows,) and ((scores >= 0) & (scores <= 1)).all()


@pytest.mark.parametrize("n_orders", [0, 1])
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_empty_and_one_row_exports_give_no_groups(cls, bench, n_orders):
    data = prepare(bench[0].table.slice(0, n_orders))
    detector = _seeded(cls).fit(data)
    assert detector.groups_ == [] and detector.account_scores_.shape == (n_orders,)


def test_the_ensemble_runs_on_empty_and_one_row_exports(bench):
    for n_orders in (0, 1):
        ensemble = BrushingEnsemble(random_state=0).fit(prepare(bench[0].table.slice(0, n_orders)))
        assert ensemble.rings_ == [] and ensemble.order_labels_.shape == (n_orders,)


# Measured on the bench (seed 9) when the floors were set: per kind, the share of planted rings
# with at least half their accounts in one group; and the share of grouped accounts that are in
# a planted ring. A regression in any detector fails here; an improvement should raise them.
# Re-measured with the same detectors when the bench gained issue 11's honest traps (festival
# rush, product drops, parcel stations, masked phones, ...), which cost most of them recall and
# precision: issue 11 is to win that back.
FLOORS = {
    "dense_block": ({"camouflage": 1.0, "dense_block": 0.75, "empty_parcel": 0.5, "account_farm": 0.25,
                     "hijacked_accounts": 1.0, "mutual_brushing": 0.5}, 0.068),
    "promoted_shops": ({"camouflage": 0.75, "dense_block": 0.75, "account_farm": 0.25, "hijacked_accounts": 1.0},
                       0.887),
    # Repeat-purchase shops' reorders (issue 11) move honest orders: precision 0.3247, from 0.326.
    "lockstep": ({"camouflage": 0.5, "dense_block": 0.75, "account_farm": 0.25, "hijacked_accounts": 0.0}, 0.324),
    # Masked phones identify nobody (issue 11): the communities they made are gone. Links weaker
    # than min_density no longer glue rings into crowds. Communities are proposed by a test of
    # their cohesion at their shop, their members those at it: far fewer honest ones (precision
    # 0.137 -> 0.703), and the hijacked accounts sharing their hijacker's devices at their
    # owners' many shops less often (0.75 -> 0.25; the takeover detector's kind).
    "communities": ({"account_farm": 1.0, "hijacked_accounts": 0.25, "mutual_brushing": 1.0, "negative_attack": 0.25},
                    0.70),
    # Mutual rings here have one shop pair each and 375 shops: a shared prefix is too common to
    # pass the operator test (it finds them all at 1M orders).
    # Raters are new unless they bought at the shop or have three orders a week away (issue 11's
    # hard attacks have one order elsewhere): one more promotion and one more attack are found,
    # and a few honest new raters inside promotions' bursts join them (precision 0.974 -> 0.952).
    "rating_anomalies": ({"dense_block": 0.75, "empty_parcel": 0.5, "account_farm": 0.5, "negative_attack": 0.75},
                         0.95),
    "review_texts": ({"camouflage": 0.25}, 1.0),
    # returning_buyers has no floor here: this bench's rings are easy (a few days at 3-6 shops)
    # or medium (7 accounts at 2-4 shops), none hard, and none comes back to one shop in numbers
    # (it finds no group); its known answers are in test_returning_buyers.py.
    "empty_parcels": ({"empty_parcel": 0.5}, 1.0),
    # The takeover step's one group here joins three hijacked rings (no floor of its own); in the
    # ensemble they are found three times in four. A farm ring found only by promoted-shop buyers
    # picked for their behaviour is not tested on that behaviour, and is missed.
    "ensemble": ({"camouflage": 0.25, "dense_block": 0.75, "empty_parcel": 0.5, "account_farm": 0.75,
                  "hijacked_accounts": 0.75, "negative_attack": 0.75}, 0.816),
}


def _recall_and_precision(data, rings, groups):
    planted = [np.isin(data.graph.row_labels, r["accounts"]) for r in rings]
    recall = {}
    for kind in sorted({r["kind"] for r in rings}):
        found = [any(ring[g].sum() >= ring.sum() / 2 for g in groups) for r, ring in zip(rings, planted)
                 if r["kind"] == kind]
        recall[kind] = float(np.mean(found))
    grouped = np.unique(np.concatenate(groups)) if groups else np.zeros(0, np.int64)
    return recall, float(np.logical_or.reduce(planted)[grouped].mean()) if grouped.size else 0.0


@pytest.mark.parametrize("name", list(FLOORS))
def test_known_answer_floor(name, bench):
    data, rings = bench
    if name == "ensemble":
        groups = [r.accounts for r in BrushingEnsemble(random_state=0).fit(data).rings_]
    else:
        detector = clone(dict(DETECTORS)[name])
        if "random_state" in detector.get_params():
            detector.set_params(random_state=0)
        groups = [g.accounts for g in detector.fit(data).groups_]
    recall, precision = _recall_and_precision(data, rings, groups)
    kinds, least_precision = FLOORS[name]
    assert {k: recall[k] for k in kinds} == {k: max(recall[k], floor) for k, floor in kinds.items()}
    assert precision >= least_precision


def test_rings_are_named_by_what_their_members_do_whichever_detector_found_them(bench):
    # A farm found by the shop-pair detector, which selects on behaviour, was named dense_block
    # (its members' young accounts were left out of its test): 9 of the 12 found rings were
    # named right. Then 12 of 13 (the empty-parcel windows find one more). Since the world's
    # repeat-purchase shops (their reorders move honest orders, so the controls change) 15 of
    # 18: a farm and a dense block whose parcels test light are named empty parcel, and a
    # mutual pair dense block.
    data, rings = bench
    found = BrushingEnsemble(random_state=0).fit(data).rings_
    members = [set(data.graph.row_labels[r.accounts]) for r in found]
    named = []
    for ring in rings:
        planted = set(ring["accounts"])
        similarity = [len(planted & m) / len(planted | m) for m in members]
        if max(similarity, default=0) >= 0.5:
            named.append(found[int(np.argmax(similarity))].kind == ring["kind"])
    assert len(named) >= 15 and np.mean(named) >= 0.8


def test_review_scorer_floor(bench):
    data, rings = bench
    fraud = np.isin(data.graph.row_labels, [a for r in rings for a in r["accounts"]])
    assert average_precision_score(fraud, ReviewScorer().fit(data).account_scores_) >= 0.38  # 0.385; base 0.057


def test_a_detector_that_does_not_declare_its_constraints_is_refused_when_defined():
    with pytest.raises(TypeError, match="Careless must declare _parameter_constraints"):
        type("Careless", (Detector,), {"__init__": lambda self, *, window=1.0: setattr(self, "window", window)})
