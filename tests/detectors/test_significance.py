import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from antifraud.detectors.ensemble import BrushingEnsemble, Ring, _aims, _merge_fragments
from antifraud.detectors.significance import RingTester, benjamini_hochberg, bonferroni_combination
from antifraud.features.data import prepare
from antifraud.ingest import PROFILES, ingest
from antifraud.synth import write_synthetic_export

DAY = 86_400
T0 = 1_700_000_000


def _table(rows: list[tuple[str, str, float, float]]) -> pa.Table:
    """Canonical orders from (buyer, shop, day of the order, day the buyer registered) tuples."""
    frame = pd.DataFrame(rows, columns=["buyer_id", "seller_id", "day", "registered"])
    seconds = lambda days: pa.array(T0 + (days * DAY).astype(np.int64)).cast(pa.timestamp("s", tz="UTC"))  # noqa: E731
    return pa.table({
        "buyer_id": pa.array(frame["buyer_id"]).dictionary_encode(),
        "seller_id": pa.array(frame["seller_id"]).dictionary_encode(),
        "created_at": seconds(frame["day"].to_numpy()),
        "buyer_registered_at": seconds(frame["registered"].to_numpy()),
    })


@pytest.fixture(scope="module")
def world():
    """A busy shop's 400 established buyers over 60 days, other shops' 400, and 12 accounts
    registered the day before they all ordered at the busy shop and at a small one."""
    rng = np.random.default_rng(0)
    rows = []
    for b in range(800):
        registered = -float(rng.integers(100, 2000))
        shop = "busy" if b < 400 else f"s{b % 20}"
        rows += [(f"h{b}", shop, float(d), registered) for d in rng.uniform(0, 60, rng.integers(1, 4))]
    for r in range(12):
        rows += [(f"ring{r}", shop, 30 + rng.uniform(0, 2), 29.0) for shop in ("busy", "small")]
    rows += [(f"h{b}", "small", float(rng.uniform(0, 60)), -500.0) for b in range(800, 810)]
    data = prepare(_table(rows))
    code = {label: k for k, label in enumerate(data.graph.row_labels.tolist())}
    shop = {label: k for k, label in enumerate(data.graph.col_labels.tolist())}
    return data, code, shop


def _tester(data):
    return RingTester(data, random_state=np.random.default_rng(0))


def test_young_accounts_among_a_shops_ordinary_buyers_are_significant(world):
    data, code, shop = world
    ring = np.array(sorted(code[f"ring{r}"] for r in range(12)))
    test = _tester(data).test(ring, np.array([shop["busy"]]))
    assert test.controls == "targets" and test.n_controls >= 30
    assert test.feature_p["age_first_order_d"] < 1e-6 and test.p_value < 1e-6


def test_a_sample_of_the_shops_own_buyers_is_not(world):
    data, code, shop = world
    crowd = np.array(sorted(code[f"h{b}"] for b in range(0, 400, 20)))
    assert _tester(data).test(crowd, np.array([shop["busy"]])).p_value > 0.05


def test_a_few_young_accounts_among_many_ordinary_ones_are_no_ring(world):
    """The twelve young accounts with 40 of the busy shop's established buyers: their ages make
    the crowd's test significant, but the typical member is as old as the controls."""
    data, code, shop = world
    crowd = np.array(sorted([code[f"ring{r}"] for r in range(12)] + [code[f"h{b}"] for b in range(0, 400, 10)]))
    busy = np.array([shop["busy"]])
    assert _tester(data).test(crowd, busy).feature_p["age_first_order_d"] < 0.05  # every feature counts
    strict = RingTester(data, random_state=np.random.default_rng(0), min_effect=0.71).test(crowd, busy)
    assert strict.p_value == 1.0
    ring = np.array(sorted(code[f"ring{r}"] for r in range(12)))
    assert RingTester(data, random_state=np.random.default_rng(0), min_effect=0.71).test(ring, busy).p_value < 1e-6


def test_a_feature_the_ring_was_selected_on_is_left_out(world):
    data, code, shop = world
    ring = np.array(sorted(code[f"ring{r}"] for r in range(12)))
    test = _tester(data).test(ring, np.array([shop["busy"]]), exclude={"age_first_order_d"})
    assert "age_first_order_d" not in test.feature_p and test.p_value > 1e-3


def test_a_shop_the_ring_is_nearly_all_of_is_compared_with_that_days_buyers(world):
    data, code, shop = world
    ring = np.array(sorted(code[f"ring{r}"] for r in range(12)))
    test = _tester(data).test(ring, np.array([shop["small"]]))
    assert test.controls == "population" and test.p_value < 1e-6
    # The ring placed nearly all of the small shop's orders on its days, a sliver of the busy one's.
    merchants = np.sort([shop["small"], shop["busy"]])
    share = dict(zip(merchants.tolist(), _tester(data).shares(ring, merchants)))
    assert share[shop["small"]] > 0.9 and share[shop["busy"]] < 0.5


def test_bonferroni_combination_is_led_by_the_smallest_p_and_bounded():
    assert bonferroni_combination([1e-20, 0.9, 1.0]) == pytest.approx(3e-20)
    assert bonferroni_combination([0.5, 0.5]) == 1.0


def test_benjamini_hochberg_rejects_nothing_among_uniform_nulls():
    p = np.random.default_rng(3).uniform(size=500)
    assert benjamini_hochberg(p).min() > 0.05
    q = benjamini_hochberg(np.r_[p, 1e-9])
    assert q[-1] < 1e-6


@pytest.mark.parametrize("dropped", [[], ["buyer_registered_at"], ["buyer_registered_at", "device_id", "buyer_ip"]])
def test_an_export_without_brushing_reports_no_ring_and_flags_nobody(tmp_path, dropped):
    """Also without registration times or some identities: households are not taken for farms."""
    out = write_synthetic_export(tmp_path, seed=4, n_orders=20_000, fraud_share=0.0)
    orders = pd.read_csv(out / "orders.csv", dtype=str, keep_default_na=False).drop(columns=dropped)
    orders.to_csv(tmp_path / "honest.csv", index=False)
    data = prepare(ingest([tmp_path / "honest.csv"], PROFILES["generic"]).table)
    ensemble = BrushingEnsemble(random_state=0).fit(data)
    assert ensemble.rings_ == []
    for labels in (ensemble.account_labels_, ensemble.merchant_labels_, ensemble.order_labels_):
        assert not labels.any()


def test_fragments_of_one_operation_join_it_and_attacks_stay_apart():
    none = np.zeros(0, np.int64)
    whole = Ring(np.arange(0, 90), np.array([1]), 0.9, "empty_parcel", ["dense_block"])
    piece = Ring(np.arange(80, 92), none, 0.6, "account_farm", ["communities"])
    attack = Ring(np.arange(0, 10), none, 0.7, "negative_attack", ["review_bursts"], victims=np.array([5]))
    merged = _merge_fragments([whole, piece, attack], 0.5)
    assert len(merged) == 2
    big = next(r for r in merged if not r.victims.size)
    assert big.accounts.tolist() == list(range(92)) and big.kind == "empty_parcel"


def test_a_ring_whose_every_shop_is_incidental_aims_at_nothing():
    none = np.zeros(0, np.int64)
    crowd = Ring(np.arange(40), none, 0.9, "dense_block", ["rating_anomalies"], incidental=np.array([3]))
    assert not _aims(crowd)
    assert _aims(Ring(np.arange(40), np.array([3]), 0.9, "dense_block", ["promoted_shops"]))
    assert _aims(Ring(np.arange(9), none, 0.7, "negative_attack", ["rating_anomalies"], victims=np.array([5])))
    assert _aims(Ring(np.arange(30), none, 0.8, "account_farm", ["communities"]))  # a farm buying nowhere common
