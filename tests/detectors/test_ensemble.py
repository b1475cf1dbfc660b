import json

import numpy as np
import pandas as pd
import pytest

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


def test_scores_in_range_thresholds_and_clone(bench):
    data, _, _ = bench
    ens = BrushingEnsemble(contamination=0.02, random_state=0).fit(data)
    for scores in (ens.account_scores_, ens.merchant_scores_, ens.order_scores_):
        assert ((scores >= 0) & (scores <= 1)).all()
    assert all(t >= 0.5 for t in ens.threshold_.values())
    assert (ens.account_scores_ > ens.threshold_["accounts"]).mean() <= 0.02  # ties at the quantile aside


def test_same_seed_same_rings(bench):
    data, _, _ = bench
    a = BrushingEnsemble(random_state=3).fit(data)
    b = BrushingEnsemble(random_state=3).fit(data)
    assert [r.accounts.tolist() for r in a.rings_] == [r.accounts.tolist() for r in b.rings_]
    assert (a.account_scores_ == b.account_scores_).all()


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
    assert set(ensemble.skipped_) == {"review_bursts", "communities"}
    assert "rating" in ensemble.skipped_["review_bursts"]
    assert "device" in ensemble.skipped_["communities"]
    for scores in (ensemble.account_scores_, ensemble.merchant_scores_, ensemble.order_scores_):
        assert np.all((scores >= 0) & (scores <= 1))
    # The order graph alone still carries the promoted shops' co-purchase.
    assert any("promoted_shops" in r.detectors for r in ensemble.rings_)


def test_promoted_shop_rings_lead_with_their_tests_in_words(bench):
    data, _, _ = bench
    ensemble = BrushingEnsemble(random_state=0).fit(data)
    promoted = [r for r in ensemble.rings_ if "promoted_shops" in r.detectors]
    assert promoted
    for ring in promoted:
        first = ring.signals[0]
        assert first["signal"] in ("co_purchase_lift", "suspicious_crowd")
        assert first["percentile"] is None and "p < 1e-" in first["text"]
        assert {"signal", "value", "percentile", "text"} == set(first)


def test_behaviour_weight_is_the_share_of_behaviour_features_the_export_informs(bench):
    data, _, _ = bench
    assert BrushingEnsemble(random_state=0).fit(data).behaviour_weight_ == 1.0  # every column there
    accounts = pd.DataFrame({"n_orders": [1, 2, 5], "burst_1h": [1, 1, 1], "other": [0, 1, 2]})
    assert _behaviour_weight(accounts) == 1 / 12  # a constant column and a non-feature count nothing
    assert _behaviour_weight(accounts.iloc[:, 1:]) == 0
