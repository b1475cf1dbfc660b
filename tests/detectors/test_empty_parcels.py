import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import combine_pvalues

from antifraud.detectors.empty_parcels import (
    EmptyParcelDetector,
    carrier_pvalues,
    min_pvalues,
    tracking_runs,
    tracking_serials,
)
from antifraud.features.data import prepare

DAY, HOUR, MINUTE = 86400, 3600, 60
CARRIERS = {"中通快递": "7", "圆通速递": "YT", "韵达快递": "43", "顺丰速运": "SF"}
RING_SHOPS = ["s1", "s2"]
JEWELLERY, VIRTUAL, BATCHES = "s3", "s4", "s5"


def _table(frame: pd.DataFrame) -> pa.Table:
    """Canonical orders from a frame of ids, seconds and fulfilment values (NaN where missing)."""
    def seconds(name):
        return pa.array(frame[name].to_numpy(), type=pa.int64(), mask=frame[name].isna().to_numpy()).cast(
            pa.timestamp("s", tz="UTC"))

    return pa.table({
        "buyer_id": pa.array(frame["buyer_id"]).dictionary_encode(),
        "seller_id": pa.array(frame["seller_id"]).dictionary_encode(),
        "item_id": pa.array(frame["item_id"]).dictionary_encode(),
        "created_at": seconds("created_at"),
        "paid_at": seconds("paid_at"),
        "confirmed_at": seconds("confirmed_at"),
        "carrier": pa.array(frame["carrier"], type=pa.string()).dictionary_encode(),
        "tracking_no": pa.array(frame["tracking_no"], type=pa.string()),
        "parcel_weight_kg": pa.array(frame["parcel_weight_kg"], type=pa.float64(), from_pandas=True),
    })


def _honest(rng: np.random.Generator, n_orders: int = 8000, n_shops: int = 40) -> pd.DataFrame:
    """Honest orders over 60 days: popular shops, each with its items' weights and a main carrier;
    a jewellery shop (parcels of grams), a virtual-goods shop (no parcel, confirmed in minutes),
    a shop printing its labels in daily batches (consecutive serials) and quick confirmers."""
    shops = np.array([f"s{i}" for i in range(1, n_shops + 1)])
    popularity = 1 / np.arange(1, n_shops + 1) ** 0.6
    shop = rng.choice(shops, size=n_orders, p=popularity / popularity.sum())
    item = rng.integers(0, 6, n_orders)
    item_weight = np.exp(rng.normal(np.log(0.8), 0.8, size=(n_shops, 6)))
    shop_index = np.searchsorted(shops, shop, sorter=np.argsort(shops))
    shop_index = np.argsort(shops)[shop_index]
    weight = item_weight[shop_index, item] * rng.uniform(1.0, 1.2, n_orders) + rng.uniform(0.01, 0.1, n_orders)
    weight = np.where(shop == JEWELLERY, rng.choice([0.01, 0.02, 0.03], n_orders), weight)
    created = rng.integers(0, 60 * DAY, n_orders)
    paid = created + rng.integers(10, 600, n_orders)
    shipped = paid + rng.integers(2 * HOUR, 30 * HOUR, n_orders)
    confirmed = shipped + rng.integers(2 * DAY, 10 * DAY, n_orders)
    buyers = np.array([f"b{i}" for i in range(2500)])
    buyer = rng.choice(buyers, size=n_orders)
    quick = np.isin(buyer, buyers[:60])  # confirm as soon as the parcel arrives
    confirmed = np.where(quick, shipped + rng.integers(20 * HOUR, 40 * HOUR, n_orders), confirmed)
    names = list(CARRIERS)
    main = rng.integers(0, len(names), n_shops)[shop_index]
    carrier = np.where(rng.random(n_orders) < 0.85, main, rng.integers(0, len(names), n_orders))
    serial = rng.integers(10**11, 10**12, n_orders)
    frame = pd.DataFrame({
        "buyer_id": buyer, "seller_id": shop, "item_id": [f"{s}-{i}" for s, i in zip(shop, item)],
        "created_at": created, "paid_at": paid, "confirmed_at": confirmed.astype(float),
        "carrier": [names[c] for c in carrier], "serial": serial, "parcel_weight_kg": np.round(weight, 2),
        "shipped": shipped,
    })
    virtual = frame["seller_id"] == VIRTUAL
    frame.loc[virtual, "confirmed_at"] = frame.loc[virtual, "paid_at"] + rng.integers(60, 600, virtual.sum())
    # the batch shop ships once a day with one carrier, its labels numbered in dispatch order
    batch = frame["seller_id"] == BATCHES
    frame.loc[batch, "carrier"] = names[0]
    day = frame.loc[batch, "shipped"] // DAY
    order = np.lexsort((frame.loc[batch, "shipped"].to_numpy(), day.to_numpy()))
    serials = np.empty(batch.sum(), dtype=np.int64)
    serials[order] = 5 * 10**11 + np.arange(batch.sum()) + 1000 * day.to_numpy()[order]
    frame.loc[batch, "serial"] = serials
    frame["tracking_no"] = [CARRIERS[c] + str(s) for c, s in zip(frame["carrier"], frame["serial"])]
    frame.loc[virtual, ["tracking_no", "carrier"]] = None
    frame.loc[virtual, "parcel_weight_kg"] = np.nan
    return frame.drop(columns=["serial", "shipped"])


def _ring(rng: np.random.Generator, n_accounts: int = 12, per_account: int = 4) -> pd.DataFrame:
    """Paid buyers placing orders at two shops over five days, each shipped empty with a number
    from one block bought from a service: consecutive in order of creation across both shops."""
    n = n_accounts * per_account
    created = np.sort(22 * DAY + rng.integers(0, 5 * DAY, n))
    paid = created + rng.integers(10, 300, n)
    confirmed = paid + rng.integers(HOUR, 4 * HOUR, n) + rng.integers(14 * HOUR, 30 * HOUR, n)
    return pd.DataFrame({
        "buyer_id": [f"r{i}" for i in rng.permutation(np.repeat(np.arange(n_accounts), per_account))],
        "seller_id": rng.choice(RING_SHOPS, size=n), "item_id": "hero",
        "created_at": created, "paid_at": paid, "confirmed_at": confirmed.astype(float), "carrier": "韵达快递",
        "tracking_no": [f"43{s}" for s in 31234567000 + np.arange(n)],
        "parcel_weight_kg": np.round(rng.uniform(0.01, 0.05, n), 2),
    }).assign(item_id=lambda f: f["seller_id"] + "-0")


def _quiet_shop(rng: np.random.Generator, shop: str = "s99", n_orders: int = 40) -> pd.DataFrame:
    """A small shop's honest orders over 60 days: three items of 0.6-1.4 kg, one carrier."""
    created = np.sort(rng.integers(0, 60 * DAY, n_orders))
    paid = created + rng.integers(10, 600, n_orders)
    confirmed = paid + rng.integers(2 * HOUR, 30 * HOUR, n_orders) + rng.integers(2 * DAY, 10 * DAY, n_orders)
    item = rng.integers(0, 3, n_orders)
    weight = np.array([0.9, 1.4, 0.6])[item] * rng.uniform(1.0, 1.2, n_orders) + rng.uniform(0.01, 0.1, n_orders)
    return pd.DataFrame({
        "buyer_id": [f"q{i}" for i in range(n_orders)], "seller_id": shop,
        "item_id": [f"{shop}-{i}" for i in item], "created_at": created, "paid_at": paid,
        "confirmed_at": confirmed.astype(float), "carrier": "中通快递",
        "tracking_no": [f"7{s}" for s in rng.integers(10**11, 10**12, n_orders)],
        "parcel_weight_kg": np.round(weight, 2),
    })


def _careful_ring(rng: np.random.Generator, shop: str = "s99", n_accounts: int = 15) -> pd.DataFrame:
    """A careful ring at the quiet shop: three orders per account over three weeks, confirmed as
    honest buyers confirm, 20-300 g parcels (a token item), the shop's items as honest buyers
    pick them, numbers from three blocks bought at different times with the service's other
    customers' numbers in between (gaps of 1-200)."""
    n = 3 * n_accounts
    created = np.sort(10 * DAY + rng.integers(0, 21 * DAY, n))
    paid = created + rng.integers(10, 600, n)
    confirmed = paid + rng.integers(2 * HOUR, 30 * HOUR, n) + rng.integers(2 * DAY, 10 * DAY, n)
    step = rng.integers(1, 200, n)
    step[[n // 3, 2 * n // 3]] += 10**6
    return pd.DataFrame({
        "buyer_id": [f"r{i}" for i in rng.permutation(np.repeat(np.arange(n_accounts), 3))], "seller_id": shop,
        "item_id": [f"{shop}-{i}" for i in rng.integers(0, 3, n)], "created_at": created, "paid_at": paid,
        "confirmed_at": confirmed.astype(float), "carrier": "韵达快递",
        "tracking_no": [f"43{s}" for s in 31234567000 + np.cumsum(step)],
        "parcel_weight_kg": np.round(np.clip(np.exp(rng.normal(np.log(0.08), 0.5, n)), 0.02, 0.3), 2),
    })


@pytest.fixture(scope="module")
def honest():
    return _honest(np.random.default_rng(3))


@pytest.fixture(scope="module")
def planted(honest):
    return pd.concat([honest, _ring(np.random.default_rng(4))], ignore_index=True)


def _ring_accounts(data):
    return np.flatnonzero(np.char.startswith(data.graph.row_labels.astype(str), "r"))


def _shops(data, labels):
    return np.flatnonzero(np.isin(data.graph.col_labels, labels))


def test_the_planted_ring_is_found_with_its_shops(planted):
    data = prepare(_table(planted))
    detector = EmptyParcelDetector().fit(data)
    assert len(detector.groups_) == 1
    group = detector.groups_[0]
    assert group.kind == "empty_parcel" and group.accounts.tolist() == _ring_accounts(data).tolist()
    assert group.merchants.tolist() == _shops(data, RING_SHOPS).tolist()
    assert group.evidence["log10_p"] < -4 and group.score > 0.65
    assert group.evidence["light_parcel_share"] > 0.9 and group.evidence["median_weight_ratio"] < 0.1
    assert group.evidence["consecutive_runs"] == 1 and group.evidence["longest_run"] == 48
    assert detector.tests_ == ("weight", "confirm", "carrier", "tracking")
    assert (detector.merchant_scores_[group.merchants] == group.score).all()
    assert detector.merchant_scores_.sum() == 2 * group.score


def test_a_ring_spread_over_weeks_at_the_shop_it_fills_is_read_against_the_other_weeks(honest):
    """More than half of the quiet shop's orders are the ring's, over three weeks: each week's
    accounts read against the shop's other weeks meet the ring again, a window holding the ring's
    weeks meets the shop's own custom."""
    rng = np.random.default_rng(5)
    data = prepare(_table(pd.concat([honest, _quiet_shop(rng), _careful_ring(rng)], ignore_index=True)))
    ring = _ring_accounts(data).tolist()
    detector = EmptyParcelDetector().fit(data)
    assert len(detector.groups_) == 1
    group = detector.groups_[0]
    assert group.accounts.tolist() == sorted(ring) and group.merchants.tolist() == _shops(data, ["s99"]).tolist()
    assert group.evidence["log10_p"] < -4
    assert EmptyParcelDetector(max_periods=1).fit(data).groups_ == []


def test_honest_traffic_gives_no_group(honest):
    """Jewellery, virtual goods, daily label batches and quick confirmers are their shops' usual."""
    detector = EmptyParcelDetector().fit(prepare(_table(honest)))
    assert detector.groups_ == []
    assert (detector.account_scores_ == 0).all() and (detector.merchant_scores_ == 0).all()


def test_the_usual_of_a_shop_is_not_anomalous(planted):
    data = prepare(_table(planted))
    detector = EmptyParcelDetector().fit(data)
    shop = planted["seller_id"].to_numpy()
    ring = planted["buyer_id"].str.startswith("r").to_numpy()
    anomalous = detector.order_scores_ >= 1 - detector.order_alpha
    assert anomalous[ring].mean() > 0.9
    for trap in (JEWELLERY, VIRTUAL, BATCHES):
        assert anomalous[shop == trap].mean() < 0.15, trap


@pytest.mark.parametrize("dropped, tests", [
    (["tracking_no", "carrier"], ("weight", "confirm")),
    (["parcel_weight_kg"], ("confirm", "carrier", "tracking")),
    (["parcel_weight_kg", "confirmed_at", "carrier"], ("carrier", "tracking")),
])
def test_with_fewer_columns_it_runs_the_tests_they_allow(planted, dropped, tests):
    data = prepare(_table(planted).drop_columns(dropped))
    detector = EmptyParcelDetector().fit(data)
    assert detector.tests_ == tests and detector.order_pvalues_.shape == (len(planted), len(tests))
    assert len(detector.groups_) == 1 and detector.groups_[0].accounts.tolist() == _ring_accounts(data).tolist()
    evidence = detector.groups_[0].evidence
    assert ("consecutive_runs" in evidence) == ("tracking" in tests)
    assert ("light_parcel_share" in evidence) == ("weight" in tests)
    assert evidence["tests_run"] == len(tests)


def test_one_odd_parcel_is_nothing(honest):
    one = _ring(np.random.default_rng(4), n_accounts=1, per_account=1)
    detector = EmptyParcelDetector(min_accounts=1).fit(prepare(_table(pd.concat([honest, one], ignore_index=True))))
    assert detector.groups_ == []


def test_tracking_serials_split_prefix_and_serial():
    codes, serials = tracking_serials(pa.chunked_array([["SF1000000000001", "SF1000000000002"],
                                                        ["431234567890", None, "no digits", "7001"]]))
    assert serials.tolist() == [1000000000001, 1000000000002, 431234567890, 0, 0, 7001]
    assert codes[0] == codes[1] and len({codes[0], codes[2], codes[5]}) == 3 and codes[3] == codes[4] == -1


def test_tracking_runs_chain_close_serials_of_one_prefix():
    codes = np.array([0, 0, 0, 0, 1, 1])
    serials = np.array([100, 103, 110, 101, 100, 101])
    assert tracking_runs(codes, serials, 3).tolist() == [0, 0, 1, 0, 2, 2]
    assert tracking_runs(codes, serials, 0).tolist() == [0, 2, 3, 1, 4, 5]


def test_carrier_pvalues_are_the_share_at_most_as_common():
    shops = np.array([0] * 6 + [1] * 3)
    carriers = np.array([0, 0, 0, 1, 1, 2, 2, 2, -1])
    p = carrier_pvalues(shops, carriers, 2)
    assert p[:6].tolist() == [1.0, 1.0, 1.0, 0.5, 0.5, 1 / 6]
    assert p[6:8].tolist() == [1.0, 1.0] and np.isnan(p[8])


def test_min_pvalues_match_scipys_tippett():
    rng = np.random.default_rng(0)
    p = rng.random((50, 4))
    p[rng.random((50, 4)) < 0.3] = np.nan
    expected = [combine_pvalues(row[~np.isnan(row)], method="tippett").pvalue if (~np.isnan(row)).any() else 1.0
                for row in p]
    np.testing.assert_allclose(min_pvalues(p), expected)
