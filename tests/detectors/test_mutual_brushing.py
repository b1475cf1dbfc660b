"""MutualBrushingDetector on hand-made exports: an operator's linked accounts at its linked shops,
among households, carrier NAT, a parcel station, privacy numbers, default devices and a chain."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from antifraud.detectors.mutual_brushing import MutualBrushingDetector, shop_values
from antifraud.features.data import prepare

DAY = 86400
N_SHOPS = 120
#: The ring's shops: one operator's registrations (shared 14-character code prefix), one brand.
RING_SHOPS = [100, 101, 102]


_RNG = np.random.default_rng(42)
#: Every other shop's organisation code and brand stem, drawn at random.
_ORGANISATION = [f"{n:08d}" for n in _RNG.integers(0, 10**8, N_SHOPS)]
_STEMS = ["".join(_RNG.choice(list("春夏秋冬山水云月星河金木林森海天"), 2)) for _ in range(N_SHOPS)]


def _uscc(shop: int) -> str:
    """Every shop in one of three regions (an industrial park holds a third of them); the ring's
    shops share their operator's organisation code prefix, and so do a popular chain's."""
    region = ("330110", "440306", "350582")[shop % 3]
    if shop in RING_SHOPS:
        return f"91330110MA2K7Q{shop % 10}0X1"
    if shop < 4:  # a popular chain: one company's shops
        return f"91{region}MA0CHAIN{shop}"
    return f"91{region}{_ORGANISATION[shop]}{shop % 10}X"


def _name(shop: int) -> str:
    if shop in RING_SHOPS:
        return f"悦禾{('家居', '服饰', '户外')[shop - 100]}旗舰店"
    if shop < 4:
        return f"大众连锁{shop}号店"
    return f"{_STEMS[shop]}小铺"


def _honest(rng: np.random.Generator, n_accounts: int = 3000) -> list[dict]:
    """Honest buyers by shop popularity (Zipf); households of 2-4 share an address and home IP;
    everyone shares carrier NAT addresses; crowds share a parcel station, privacy numbers and a
    default device id."""
    popularity = 1 / (np.arange(100) + 3.0)
    popularity /= popularity.sum()
    household = np.repeat(np.arange(n_accounts), 1)
    start = 0
    while start < n_accounts:  # consecutive accounts in households of 1-4
        size = int(rng.choice([1, 1, 2, 3, 4]))
        household[start:start + size] = start
        start += size
    rows = []
    for a in range(n_accounts):
        shared_phone = rng.random() < 0.3
        for shop in rng.choice(100, size=int(rng.integers(1, 6)), replace=False, p=popularity):
            rows.append({
                "buyer_id": f"b{a:05d}", "seller_id": f"s{shop:03d}", "day": int(rng.integers(0, 60)),
                "buyer_ip": f"home{household[a]}" if rng.random() < 0.6 else f"nat{a % 8}",
                "device_id": "default-0000" if a % 10 == 0 else f"dev{a}",
                "ship_phone": f"phone{household[a]}" if shared_phone else (
                    f"privacy{a % 60}" if a % 3 == 0 else f"phone-own{a}"),
                "ship_address": f"station{a % 2}" if a % 7 == 0 else f"addr{household[a]}",
            })
    return rows


def _ring(n_accounts: int = 4, shops: list[int] = RING_SHOPS) -> list[dict]:
    """One operator's accounts on two phones and one device, each ordering at every ring shop."""
    return [{"buyer_id": f"op{a}", "seller_id": f"s{shop:03d}", "day": 10 + a + k, "buyer_ip": f"nat{a % 8}",
             "device_id": "op-device", "ship_phone": f"op-phone{a % 2}", "ship_address": f"op-addr{a}"}
            for a in range(n_accounts) for shop in shops for k in range(3)]


def _data(rows: list[dict], operator_columns: bool = True):
    frame = pd.DataFrame(rows)
    shop = frame["seller_id"].str[1:].astype(int)
    columns = {name: pa.array(frame[name]).dictionary_encode()
               for name in ("buyer_id", "seller_id", "buyer_ip", "device_id", "ship_phone", "ship_address")}
    columns["created_at"] = pa.array(frame["day"].to_numpy() * DAY, pa.int64()).cast(pa.timestamp("s", tz="UTC"))
    if operator_columns:
        columns["seller_uscc"] = pa.array(shop.map(_uscc)).dictionary_encode()
        columns["seller_name"] = pa.array(shop.map(_name))
    return prepare(pa.table(columns))


@pytest.fixture(scope="module")
def honest_rows():
    return _honest(np.random.default_rng(0))


def _labels(data, codes):
    return sorted(data.graph.row_labels[codes].tolist())


def _shops(data, codes):
    return sorted(data.graph.col_labels[codes].tolist())


def test_finds_the_operator_ring_and_its_shops_and_nothing_else(honest_rows):
    data = _data(honest_rows + _ring())
    detector = MutualBrushingDetector().fit(data)
    assert len(detector.groups_) == 1
    group = detector.groups_[0]
    assert group.kind == "mutual_brushing"
    assert _labels(data, group.accounts) == ["op0", "op1", "op2", "op3"]
    assert _shops(data, group.merchants) == ["s100", "s101", "s102"]
    evidence = group.evidence
    assert evidence["log10_p"] <= np.log10(0.01)
    assert evidence["linked_pairs"] == 12  # 4 accounts, all linked by the device: 12 ordered pairs
    assert evidence["expected_pairs"] < 0.1
    assert evidence["seller_uscc_prefix"] == 14 and evidence["seller_name_prefix"] == 2
    assert evidence["shops"] == 3 and evidence["significant_pairs"] == 3
    ring_shops = np.isin(data.graph.col_labels, ["s100", "s101", "s102"])
    assert (detector.merchant_scores_[ring_shops] > 0).all() and (detector.merchant_scores_[~ring_shops] == 0).all()
    assert (detector.account_scores_[group.accounts] == group.score).all() and 0 < group.score <= 1
    assert (np.delete(detector.account_scores_, group.accounts) == 0).all()


def test_honest_traffic_alone_gives_no_group(honest_rows):
    detector = MutualBrushingDetector().fit(_data(honest_rows))
    assert detector.groups_ == [] and not detector.merchant_scores_.any() and not detector.account_scores_.any()


def test_linked_buyers_alone_suffice_without_the_shops_columns(honest_rows):
    detector = MutualBrushingDetector().fit(data := _data(honest_rows + _ring(), operator_columns=False))
    [group] = detector.groups_
    assert _labels(data, group.accounts) == ["op0", "op1", "op2", "op3"]
    assert group.evidence.keys().isdisjoint({"seller_uscc_prefix", "seller_name_prefix", "log10_p_operator"})


def test_linked_buyers_at_unrelated_shops_are_not_mutual_brushing(honest_rows):
    """The same accounts at two shops of different operators (a farm's clients): found by
    their linked buyers alone where the export cannot show operators, not where it shows
    none."""
    elsewhere = _ring(shops=[60, 70])
    assert MutualBrushingDetector().fit(_data(honest_rows + elsewhere)).groups_ == []
    [group] = MutualBrushingDetector().fit(data := _data(honest_rows + elsewhere, operator_columns=False)).groups_
    assert _shops(data, group.merchants) == ["s060", "s070"]


def test_accounts_sharing_only_a_crowded_value_are_not_linked(honest_rows):
    """The ring's orders from accounts that share only one value, an office computer of six
    accounts (link weight 1/5): not linked at ``max_shared=5``, linked at 8."""
    office = [row | {"device_id": "office-pc", "ship_phone": row["buyer_id"], "ship_address": row["buyer_id"]}
              for row in _ring()]
    office += [row | {"buyer_id": f"clerk{k}", "seller_id": f"s{k:03d}"} for k, row in enumerate(office[:2])]
    assert MutualBrushingDetector().fit(_data(honest_rows + office)).groups_ == []
    assert len(MutualBrushingDetector(max_shared=8).fit(_data(honest_rows + office)).groups_) == 1


def test_shop_values_are_each_merchants_first(honest_rows):
    data = _data(honest_rows + _ring())
    names = shop_values(data, "seller_name")
    assert names[data.graph.col_labels.tolist().index("s101")] == "悦禾服饰旗舰店"


@pytest.mark.parametrize("params", [{"max_shared": 1}, {"alpha": 1.0}, {"min_linked_pairs": 0}])
def test_bad_parameters_are_refused(params, honest_rows):
    with pytest.raises(InvalidParameterError):
        MutualBrushingDetector(**params).fit(_data(honest_rows[:10]))
