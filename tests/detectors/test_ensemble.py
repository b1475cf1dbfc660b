import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from antifraud.detectors import (
    DETECTORS,
    DenseBlockDetector,
    IdentityCommunityDetector,
    LockstepDetector,
    PromotedShopDetector,
)
from antifraud.detectors.ensemble import (
    BrushingEnsemble,
    Ring,
    _behaviour_weight,
    _merge,
    _merge_same_target,
)
from antifraud.features.data import prepare
from antifraud.ingest import PROFILES, ingest
from antifraud.synth import write_synthetic_export


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = write_synthetic_export(tmp_path_factory.mktemp("synth"), seed=5, n_orders=20_000)
    data = prepare(ingest([out / "orders.csv"], PROFILES["generic"]).table)
    merchants = pd.read_csv(out / "truth" / "merchants.csv", dtype={"seller_id": str}).set_index("seller_id")
    rings = [json.loads(line) for line in (out / "truth" / "rings.jsonl").read_text().splitlines()]
    return data, merchants, rings


def test_merge_unions_overlapping_rings():
    rings = [
        Ring(np.array([1, 2, 3]), np.array([0]), 0.4, "dense", ["dense_block"]),
        Ring(np.array([2, 3, 4]), np.array([1]), 0.9, "lockstep", ["lockstep"]),
        Ring(np.array([7, 8, 9]), np.array([2]), 0.5, "farm", ["communities"]),
    ]
    merged = _merge(rings, 0.3)
    assert len(merged) == 2
    big = next(r for r in merged if 1 in r.accounts)
    assert big.accounts.tolist() == [1, 2, 3, 4] and big.merchants.tolist() == [0, 1]
    assert big.score == 0.9 and big.kind == "lockstep" and big.detectors == ["dense_block", "lockstep"]


def test_victims_of_one_star_attacks_are_never_flagged(bench):
    data, merchants, rings = bench
    ens = BrushingEnsemble(random_state=0).fit(data)
    victims = merchants.index[merchants["role"] == "victim"]
    codes = np.flatnonzero(np.isin(data.graph.col_labels, victims))
    assert codes.size
    assert not ens.merchant_labels_[codes].any()
    for ring in ens.rings_:
        assert not np.isin(ring.merchants, codes).any() or ring.kind != "one_star_attack"


def test_scores_in_range_and_thresholds(bench):
    data, _, _ = bench
    ens = BrushingEnsemble(contamination=0.02, random_state=0).fit(data)
    for scores in (ens.account_scores_, ens.merchant_scores_, ens.order_scores_):
        assert ((scores >= 0) & (scores <= 1)).all()
    assert all(t >= 0.5 for t in ens.threshold_.values())
    assert (ens.account_scores_ > ens.threshold_["accounts"]).mean() <= 0.02  # ties at the quantile aside


def test_same_seed_same_rings_whether_the_detectors_run_one_at_a_time_or_in_threads(bench):
    data, _, _ = bench
    a = BrushingEnsemble(random_state=3).fit(data)
    b = BrushingEnsemble(random_state=3, n_jobs=2).fit(data)
    assert a.rings_ and [r.accounts.tolist() for r in a.rings_] == [r.accounts.tolist() for r in b.rings_]
    for kind in ("account", "merchant", "order"):
        assert (getattr(a, f"{kind}_scores_") == getattr(b, f"{kind}_scores_")).all()


def test_merge_equals_pairwise_union_find():
    rng = np.random.default_rng(0)
    rings = [Ring(np.unique(rng.integers(0, 60, rng.integers(1, 12))), np.array([k]), float(rng.random()),
                  "dense", ["d"]) for k in range(40)]
    # the obvious way: compare every pair, union transitively
    parent = list(range(len(rings)))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(rings)):
        for j in range(i + 1, len(rings)):
            a, b = set(rings[i].accounts.tolist()), set(rings[j].accounts.tolist())
            if len(a & b) / len(a | b) >= 0.3:
                parent[root(j)] = root(i)
    groups = {}
    for i in range(len(rings)):
        groups.setdefault(root(i), set()).update(rings[i].accounts.tolist())
    expected = sorted(sorted(g) for g in groups.values())
    assert sorted(r.accounts.tolist() for r in _merge(rings, 0.3)) == expected


def test_rings_aimed_at_the_same_shops_are_one_operation():
    none = np.zeros(0, np.int64)
    rings = [
        Ring(np.array([1, 2, 3]), none, 0.6, "one_star_attack", ["review_bursts"], victims=np.array([7])),
        Ring(np.array([4, 5, 6]), none, 0.8, "one_star_attack", ["review_bursts"], victims=np.array([7])),
        Ring(np.array([8, 9, 10]), none, 0.7, "one_star_attack", ["review_bursts"], victims=np.array([6])),
        Ring(np.array([11, 12, 13]), np.array([7]), 0.9, "promoted_shops", ["promoted_shops"]),
        Ring(np.array([14, 15, 16]), none, 0.5, "lockstep", ["lockstep"]),
        Ring(np.array([17, 18, 19]), none, 0.5, "lockstep", ["lockstep"]),
    ]
    merged = _merge_same_target(rings)
    assert len(merged) == 5  # only the two attacks on shop 7 become one
    attack = merged[0]
    assert attack.accounts.tolist() == [1, 2, 3, 4, 5, 6] and attack.victims.tolist() == [7]
    assert attack.score == 0.8 and attack.kind == "one_star_attack"
    assert [r.accounts.tolist() for r in merged[1:]] == [[8, 9, 10], [11, 12, 13], [14, 15, 16], [17, 18, 19]]


def test_detectors_the_columns_do_not_allow_are_skipped_with_a_reason(tmp_path):
    out = write_synthetic_export(tmp_path / "synth", seed=6, n_orders=5_000)
    minimal = pd.read_csv(out / "orders.csv", dtype=str)[["buyer_id", "seller_id", "created_at"]]
    minimal.to_csv(tmp_path / "minimal.csv", index=False)
    data = prepare(ingest([tmp_path / "minimal.csv"], PROFILES["generic"]).table)
    ensemble = BrushingEnsemble(random_state=0).fit(data)
    assert set(ensemble.skipped_) == {"takeover", "communities", "mutual_brushing", "rating_anomalies",
                                     "review_texts", "empty_parcels"}
    assert "rating" in ensemble.skipped_["rating_anomalies"]
    assert "device" in ensemble.skipped_["communities"]
    for scores in (ensemble.account_scores_, ensemble.merchant_scores_, ensemble.order_scores_):
        assert np.all((scores >= 0) & (scores <= 1))
    # The order graph alone still carries the promoted shops' co-purchase: candidates, which
    # only their members' behaviour could tell from honest crowds.
    assert any("promoted_shops" in r.detectors for r in ensemble.candidates_)


def test_behaviour_weight_is_the_share_of_behaviour_features_the_export_informs(bench):
    data, _, _ = bench
    assert BrushingEnsemble(random_state=0).fit(data).behaviour_weight_ == 1.0  # every column there
    accounts = pd.DataFrame({"n_orders": [1, 2, 5], "burst_1h": [1, 1, 1], "other": [0, 1, 2]})
    assert _behaviour_weight(accounts) == 1 / 12  # a constant column and a non-feature count nothing
    assert _behaviour_weight(accounts.iloc[:, 1:]) == 0


# --- the ensemble as a scikit-learn meta-estimator --------------------------------------------


@pytest.fixture(scope="module")
def fitted(bench):
    return BrushingEnsemble(random_state=0).fit(bench[0])


def test_default_steps_carry_their_settings_as_nested_parameters():
    ensemble = BrushingEnsemble()
    params = ensemble.get_params(deep=True)
    assert [name for name, _ in params["detectors"]] == [
        "dense_block", "promoted_shops", "lockstep", "takeover", "communities", "mutual_brushing",
        "rating_anomalies", "returning_buyers", "review_texts", "empty_parcels",
    ]
    assert (params["dense_block__n_blocks"], params["dense_block__min_rows"], params["dense_block__min_cols"]) == (3, 3, 2)
    assert params["lockstep__resolution"] == 2.0
    assert params["reviews__prior_orders"] == 10.0
    # run.json records repr() of every parameter: the steps, not 'None'.
    assert repr(params["dense_block"]) == "DenseBlockDetector(min_cols=2, min_rows=3)"
    ensemble.set_params(dense_block__n_blocks=5, reviews__prior_orders=5.0, lockstep="drop")
    params = ensemble.get_params(deep=True)
    assert params["dense_block__n_blocks"] == 5 and params["reviews__prior_orders"] == 5.0
    assert params["lockstep"] == "drop"
    # The module's defaults, shared by every other ensemble, are left alone.
    assert dict(DETECTORS)["dense_block"].n_blocks == 3 and BrushingEnsemble().get_params()["reviews__prior_orders"] == 10.0
    assert clone(ensemble).get_params()["dense_block__n_blocks"] == 5


def test_fitted_clones_by_name_dropped_steps_and_seeds_set_on_a_step(bench):
    data = bench[0]
    dense = DenseBlockDetector(n_blocks=1, min_rows=3, min_cols=2)
    detectors = [("dense_block", dense), ("promoted_shops", "drop"), ("lockstep", LockstepDetector(random_state=7)),
                 ("communities", IdentityCommunityDetector())]
    ensemble = BrushingEnsemble(detectors=detectors, random_state=0).fit(data)
    assert list(ensemble.detectors_) == ["dense_block", "lockstep", "communities"]
    assert ensemble.detectors_["dense_block"] is not dense and not hasattr(dense, "groups_")
    assert len(ensemble.detectors_["dense_block"].groups_) == 1
    assert ensemble.detectors_["lockstep"].random_state == 7  # the step's own seed is kept
    assert ensemble.detectors_["communities"].random_state == 0  # a missing one is filled
    assert ensemble.get_params()["lockstep__random_state"] == 7
    found = {d for ring in ensemble.rings_ for d in ring.detectors}
    assert found and found <= {"dense_block", "lockstep", "communities"}


@pytest.mark.parametrize("params", [
    {"contamination": 1.5}, {"contamination": 0}, {"merge_jaccard": 0}, {"behaviour_floor": -0.1},
    {"merchant_full_share": 0}, {"detectors": (("dense_block", DenseBlockDetector()),)},
    {"reviews": DenseBlockDetector()},
])
def test_bad_parameters_are_refused_at_fit(bench, params):
    with pytest.raises(ValueError, match=f"'{next(iter(params))}' parameter of BrushingEnsemble"):
        BrushingEnsemble(**params).fit(bench[0])


@pytest.mark.parametrize("detectors, error", [
    ([("same", DenseBlockDetector()), ("same", LockstepDetector())], "unique"),
    ([("dense__block", DenseBlockDetector())], "__"),
    ([("scaler", "passthrough")], "Detector or 'drop'"),
])
def test_bad_steps_are_refused_at_fit(bench, detectors, error):
    with pytest.raises((TypeError, ValueError), match=error):
        BrushingEnsemble(detectors=detectors).fit(bench[0])


def test_labels_are_computed_once_from_the_thresholds(fitted):
    for kind in ("accounts", "merchants", "orders"):
        scores, labels = getattr(fitted, f"{kind[:-1]}_scores_"), getattr(fitted, f"{kind[:-1]}_labels_")
        assert labels.dtype == bool and labels.any()
        np.testing.assert_array_equal(labels, scores >= fitted.threshold_[kind])


def test_the_combiners_weights_are_parameters(bench, fitted):
    data = bench[0]
    ensemble = BrushingEnsemble(behaviour_floor=1.0, outside_ring_weight=1.0, merchant_full_share=1e-9,
                                random_state=0).fit(data)
    # behaviour_floor=1: a ring keeps its best candidate's score.
    candidates = {g.score for d in ensemble.detectors_.values() for g in d.groups_}
    assert ensemble.rings_ and {r.score for r in ensemble.rings_} <= candidates
    assert not {r.score for r in fitted.rings_} <= candidates
    # outside_ring_weight=1: orders outside their account's rings count as much as those inside.
    assert (ensemble.order_scores_ >= fitted.order_scores_ - 1e-12).all()
    assert (ensemble.order_scores_ > fitted.order_scores_ + 1e-9).any()
    # A tiny merchant_full_share: any of a ring's merchants takes the ring's full (tested) score.
    for ring in ensemble.rings_:
        assert (ensemble.merchant_scores_[ring.merchants] >= (1 + ring.score * (1 - ring.p_value)) / 2 - 1e-12).all()


def test_a_replaced_step_runs_with_its_own_settings(bench, fitted):
    ensemble = clone(fitted).set_params(promoted_shops=PromotedShopDetector(min_members=10**6)).fit(bench[0])
    assert ensemble.detectors_["promoted_shops"].groups_ == []
    assert not any("promoted_shops" in r.detectors for r in ensemble.rings_)
    assert any("promoted_shops" in r.detectors for r in fitted.rings_)
