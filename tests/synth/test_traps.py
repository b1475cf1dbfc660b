"""The honest traps of the synthetic generator: each one alone in an honest world shows in the
export as the domain notes describe it, its truth matches the export, and switching it off
removes it."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from antifraud.synth import SynthConfig, SyntheticExport, generate
from antifraud.synth.trap_truth import INSTANCE_OF
from antifraud.synth.traps import TRAP_NAMES, TRAPS

N_ORDERS = 10_000
SEED = 4
#: Shares that make a trap visible in a world of N_ORDERS (2,000 buyers).
VISIBLE = {
    "parcel_station": {"station_share": 0.3},
    "default_device": {"default_device_share": 0.1},
    "net_cafe": {"net_cafe_share": 0.05},
    "office_campus": {"office_share": 0.1},
    "cashback_review": {"cashback_share": 0.1},
    "five_star_shop": {"five_star_share": 0.2},
    "virtual_goods": {"virtual_share": 0.1},
    "jewellery": {"jewellery_share": 0.1},
    "pasted_review": {"pasted_share": 0.1},
    "quality_incident": {"incident_share": 0.01},
    "tracking_batch": {"tracking_batch_share": 1.0},
    "masked_phone": {"masked_share": 1.0},
}
_WORLDS: dict[str, SyntheticExport] = {}


def alone(trap: str) -> SyntheticExport:
    """An honest world (no ring) where ``trap`` is the only trap, generated once per module."""
    if trap not in _WORLDS:
        config = SynthConfig(n_orders=N_ORDERS, seed=SEED, fraud_share=0.0, traps={trap}, **VISIBLE.get(trap, {}))
        _WORLDS[trap] = generate(config)
    return _WORLDS[trap]


@pytest.fixture(scope="module")
def bare() -> SyntheticExport:
    return generate(SynthConfig(n_orders=N_ORDERS, seed=SEED, fraud_share=0.0, traps=()))


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticExport, pd.DataFrame, list[dict]]:
    """Every trap and every ring kind; the traps as read back from truth/traps.jsonl."""
    export = generate(SynthConfig(n_orders=20_000, seed=SEED))
    out = export.write(tmp_path_factory.mktemp("traps"))
    lines = (out / "truth" / "traps.jsonl").read_text(encoding="utf-8").splitlines()
    orders = export.orders.merge(export.accounts[["account_id", "is_fraud"]], left_on="buyer_id",
                                 right_on="account_id")
    return export, orders, [json.loads(line) for line in lines]


def _serials(tracking: pd.Series) -> pd.Series:
    return tracking.str.extract(r"(\d+)$")[0].astype(np.int64)


def _buyers_per(orders: pd.DataFrame, column: str) -> pd.Series:
    return orders.groupby(column)["buyer_id"].nunique().sort_values(ascending=False)


# -- the list and the configuration ------------------------------------------------------------


def test_one_list_of_traps_drives_config_and_truth() -> None:
    fields = {f.name for f in dataclasses.fields(SynthConfig)}
    assert TRAP_NAMES == tuple(t.name for t in TRAPS) and len(set(TRAP_NAMES)) == len(TRAPS)
    assert set(INSTANCE_OF) == set(TRAP_NAMES)
    assert all(t.share is None or t.share in fields for t in TRAPS)
    assert all(t.description for t in TRAPS)
    assert SynthConfig().traps == frozenset(TRAP_NAMES)
    assert SynthConfig(traps=["net_cafe"]).to_dict()["traps"] == ["net_cafe"]


@pytest.mark.parametrize(
    "bad", [{"traps": {"net_café"}}, {"traps": "household"}, {"station_share": 1.5}, {"masked_share": -0.1}]
)
def test_config_rejects_unknown_traps_and_bad_shares(bad: dict) -> None:
    with pytest.raises(ValueError):
        SynthConfig(**bad)


# -- each trap alone -----------------------------------------------------------------------------


@pytest.mark.parametrize("trap", TRAP_NAMES)
def test_each_trap_alone_makes_an_honest_world_with_only_that_trap(trap: str) -> None:
    export = alone(trap)
    assert len(export.orders) == N_ORDERS and export.rings.empty
    assert (export.accounts["is_fraud"] == 0).all()
    assert set(export.traps["trap"]) == {trap}


def test_festival_rush_is_a_midnight_crowd_on_top_shops_hot_items() -> None:
    o = alone("festival_rush").orders
    festival = pd.Timestamp(SynthConfig().festival_day)
    rush = o[(o["created_at"] >= festival) & (o["created_at"] < festival + pd.Timedelta(minutes=15))]
    per_item = rush.groupby(["seller_id", "item_id"])["buyer_id"].nunique()
    assert per_item.max() >= 15
    daily = o["created_at"].dt.normalize().value_counts()
    assert daily[festival] > 4 * daily.median()


def test_product_drop_puts_hundreds_of_orders_of_one_item_within_minutes() -> None:
    o = alone("product_drop").orders
    o = o.assign(slot=o["created_at"].dt.floor("10min"))
    per_slot = o.groupby(["seller_id", "item_id", "slot"])["buyer_id"].nunique()
    shop, item, slot = per_slot.idxmax()
    assert per_slot.max() >= 150
    fans = set(o.loc[(o["item_id"] == item) & (o["slot"] == slot), "buyer_id"])
    before = o[(o["seller_id"] == shop) & (o["created_at"] < slot)]
    assert len(fans & set(before["buyer_id"])) > 0.4 * len(fans)  # fans who bought there before


def test_loyal_regulars_buy_again_and_again_at_one_shop() -> None:
    o = alone("loyal_regulars").orders
    per_buyer = o.groupby("buyer_id").agg(shops=("seller_id", "nunique"), orders=("order_id", "size"),
                                          shop=("seller_id", "first"))
    regulars = per_buyer[(per_buyer["shops"] == 1) & (per_buyer["orders"] >= 3)]
    assert regulars["shop"].value_counts().max() >= 10


def test_repeat_purchase_shops_customers_come_back_within_weeks() -> None:
    export = alone("repeat_purchase")
    o = export.orders
    trap_shops = set(export.traps["merchants"].explode())
    visits = o.assign(day=o["created_at"].dt.floor("D")).groupby(["seller_id", "buyer_id"])["day"]
    span = visits.agg(["nunique", "min", "max"])
    back = (span["nunique"] >= 2) & (span["max"] - span["min"] <= pd.Timedelta(days=42))
    at_trap = span.index.get_level_values("seller_id").isin(trap_shops)
    assert 5 <= len(trap_shops) and back[at_trap].mean() > 3 * back[~at_trap].mean()
    names = o.drop_duplicates("seller_id").set_index("seller_id")["seller_name"]
    assert names[list(trap_shops)].str.contains("食品|母婴|宠物").all()


def test_households_are_two_to_four_at_one_address_and_line() -> None:
    o = alone("household").orders
    per_address = _buyers_per(o, "ship_address")
    assert per_address.max() <= 4 and (per_address >= 2).sum() >= 50
    shared = o[o["ship_address"].isin(per_address.index[per_address >= 2])]
    assert (shared.groupby("ship_address")["buyer_ip"].nunique() < shared.groupby("ship_address")[
        "buyer_id"].nunique() + 3).all()
    assert _buyers_per(alone("parcel_station").orders, "ship_address").iloc[0] > 4 >= _buyers_per(
        o, "ship_address").iloc[0]


def test_carrier_nat_addresses_are_shared_by_hundreds_of_strangers(bare: SyntheticExport) -> None:
    o = alone("carrier_nat").orders
    per_ip = _buyers_per(o, "buyer_ip")
    crowd = o[o["buyer_ip"] == per_ip.index[0]]
    assert per_ip.iloc[0] >= 100 and crowd["ship_address"].nunique() >= 100
    assert _buyers_per(bare.orders, "buyer_ip").iloc[0] == 1


def test_office_and_campus_networks_and_addresses_are_shared_by_dozens() -> None:
    o = alone("office_campus").orders
    per_ip = _buyers_per(o, "buyer_ip")
    assert 15 <= per_ip.iloc[0] <= 120
    venues = o[o["ship_address"].str.contains("层$|宿舍楼$")]
    assert _buyers_per(venues, "ship_address").iloc[0] >= 10
    network = o[o["buyer_ip"] == per_ip.index[0]]
    assert network["ship_phone"].nunique() >= 15  # colleagues, not one person's accounts


def test_parcel_station_receives_for_a_hundred_unrelated_buyers() -> None:
    o = alone("parcel_station").orders
    stations = o[o["ship_address"].str.contains("驿站$|生活$|超市$")]
    per_address = _buyers_per(stations, "ship_address")
    station = stations[stations["ship_address"] == per_address.index[0]]
    assert per_address.iloc[0] >= 100
    assert station["ship_phone"].nunique() >= 100 and station["device_id"].nunique() >= 100
    assert station["buyer_ip"].nunique() >= 100


def test_privacy_numbers_stand_in_for_dozens_of_buyers() -> None:
    o = alone("privacy_number").orders
    virtual = o[o["ship_phone"].str.match(r"1(65|67|70|71)")]
    per_phone = _buyers_per(virtual, "ship_phone")
    assert per_phone.iloc[0] >= 20
    assert virtual[virtual["ship_phone"] == per_phone.index[0]]["ship_address"].nunique() >= 20
    assert 0.02 < len(virtual) / len(o) < 0.1


def test_default_device_id_is_reported_by_hundreds() -> None:
    o = alone("default_device").orders
    shared = o[o["device_id"] == "dv9774d56d682e549c"]
    assert shared["buyer_id"].nunique() >= 100 and shared["ship_address"].nunique() >= 100


def test_net_cafe_terminals_are_shared_by_its_patrons() -> None:
    o = alone("net_cafe").orders
    per_ip = _buyers_per(o, "buyer_ip")
    cafe = o[o["buyer_ip"] == per_ip.index[0]]
    assert per_ip.iloc[0] >= 20
    assert 5 <= cafe["device_id"].nunique() <= 30  # the café's terminals
    assert _buyers_per(cafe, "device_id").iloc[0] >= 3


def test_fresh_accounts_buy_minutes_after_registering(bare: SyntheticExport) -> None:
    for export, low, high in ((alone("fresh_accounts"), 0.01, 0.1), (bare, 0.0, 0.0)):
        first = export.orders.groupby("buyer_id").agg(first=("created_at", "min"),
                                                      registered=("buyer_registered_at", "first"))
        at_once = (first["first"] - first["registered"]) < pd.Timedelta(minutes=30)
        assert low <= at_once.mean() <= high


def test_default_short_texts_recur(bare: SyntheticExport) -> None:
    texts = alone("default_text").orders["review_text"].value_counts()
    for text in ("好评", "系统默认好评", "此用户没有填写评价。"):
        assert texts.get(text, 0) >= 20, text
    assert not bare.orders["review_text"].isin(["好评", "系统默认好评", "此用户没有填写评价。"]).any()


def test_pasting_buyers_post_one_text_every_time() -> None:
    reviews = alone("pasted_review").orders.dropna(subset=["rating"])
    per_buyer = reviews[reviews["rating"] >= 4].groupby("buyer_id")["review_text"].agg(["size", "nunique"])
    assert ((per_buyer["size"] >= 3) & (per_buyer["nunique"] == 1)).sum() >= 5


def test_cashback_shop_buyers_post_the_handed_out_text() -> None:
    export = alone("cashback_review")
    reviews = export.orders.dropna(subset=["rating"])
    shop = reviews.loc[reviews["seller_id"].isin(export.traps["merchants"].explode()), "seller_id"].mode()[0]
    own = reviews[reviews["seller_id"] == shop]
    card = own["review_text"].value_counts()
    assert card.iloc[0] >= 0.5 * len(own) and len(own) >= 10
    assert (own.loc[own["review_text"] == card.index[0], "rating"] == 5).all()
    assert own.loc[own["review_text"] == card.index[0], "buyer_id"].nunique() >= 10


def test_five_star_shops_are_honestly_98_percent_five_star() -> None:
    reviews = alone("five_star_shop").orders.dropna(subset=["rating"])
    per_shop = reviews.groupby("seller_id")["rating"].agg(["size", lambda r: (r == 5).mean()])
    per_shop.columns = ["size", "five"]
    assert ((per_shop["size"] >= 30) & (per_shop["five"] >= 0.95)).any()


def test_quality_incident_brings_one_star_reviews_from_established_buyers() -> None:
    export = alone("quality_incident")
    o = export.orders
    incident = export.traps.iloc[0]
    bad = o[(o["seller_id"] == incident["merchants"][0]) & (o["rating"] == 1)]
    burst = bad[(bad["reviewed_at"] - bad["reviewed_at"].median()).abs() <= pd.Timedelta(days=2)]
    assert len(burst) >= 20
    earlier = o[(o["seller_id"] == incident["merchants"][0])]
    first = earlier.groupby("buyer_id")["created_at"].min()
    established = (first[burst["buyer_id"]].to_numpy() < burst["created_at"].to_numpy() - pd.Timedelta(days=6))
    assert established.mean() > 0.9


def test_virtual_goods_have_no_parcel_and_are_confirmed_in_minutes() -> None:
    export = alone("virtual_goods")
    o = export.orders[export.orders["seller_id"].isin(export.traps["merchants"].explode())]
    done = o[o["status"] == "交易成功"]
    assert len(done) >= 100
    assert done["tracking_no"].isna().all() and done["parcel_weight_kg"].isna().all()
    assert ((done["confirmed_at"] - done["paid_at"]) <= pd.Timedelta(minutes=15)).all()


def test_jewellery_parcels_weigh_grams() -> None:
    o = alone("jewellery").orders.dropna(subset=["parcel_weight_kg"])
    per_shop = o.groupby("seller_id")["parcel_weight_kg"].agg(["size", "max"])
    light = per_shop[per_shop["max"] <= 0.05]
    assert (light["size"] >= 20).any()
    assert (alone("virtual_goods").orders["parcel_weight_kg"].dropna() > 0.05).mean() > 0.9


def test_tracking_numbers_are_consecutive_within_a_day_batch(bare: SyntheticExport) -> None:
    for export, batched in ((alone("tracking_batch"), True), (bare, False)):
        o = export.orders.dropna(subset=["tracking_no"])
        top = o["seller_id"].value_counts().index[0]
        own = o[o["seller_id"] == top]
        serial = np.sort(_serials(own["tracking_no"]).to_numpy())
        runs = 1 + int((np.diff(serial) != 1).sum())
        assert len(serial) >= 300
        assert runs <= len(serial) / 3 if batched else runs == len(serial)  # one run per shipping day
        assert own["carrier"].nunique() == 1 if batched else own["carrier"].nunique() > 1


def test_masked_phones_identify_nobody() -> None:
    o = alone("masked_phone").orders
    masked = o[o["ship_phone"].str.fullmatch(r"1\d\d\*{4}\d{4}")]
    assert len(masked) == len(o)
    per_value = _buyers_per(masked, "ship_phone")
    shared = masked[masked["ship_phone"] == per_value.index[0]]
    assert per_value.iloc[0] >= 2 and shared["ship_address"].nunique() == shared["buyer_id"].nunique()


def test_without_traps_nothing_is_shared(bare: SyntheticExport) -> None:
    o = bare.orders
    assert bare.traps.empty
    assert _buyers_per(o, "ship_address").iloc[0] == 1 and _buyers_per(o, "device_id").iloc[0] == 1
    assert _buyers_per(o, "ship_phone").iloc[0] == 1
    assert o["tracking_no"].notna().sum() >= 0.9 * len(o) and not o["ship_phone"].str.contains(r"\*").any()
    assert o["created_at"].dt.normalize().value_counts().max() < 3 * o["created_at"].dt.normalize().value_counts(
    ).median()


# -- the truth ---------------------------------------------------------------------------------


def test_traps_truth_matches_the_export(full: tuple[SyntheticExport, pd.DataFrame, list[dict]]) -> None:
    export, orders, traps = full
    assert {t["trap"] for t in traps} == set(TRAP_NAMES)
    assert [t["trap_id"] for t in traps] == export.traps["trap_id"].tolist()
    honest = orders[orders["is_fraud"] == 0]
    by_buyer = honest.groupby("buyer_id")
    shops_of = by_buyer["seller_id"].agg(set)
    for trap in traps:
        own = honest[honest["buyer_id"].isin(trap["accounts"])]
        assert set(trap["accounts"]) == set(own["buyer_id"]), trap["trap_id"]  # honest accounts only
        assert set(trap["merchants"]) <= set().union(*shops_of[trap["accounts"]])
        assert trap["orders"] <= len(own)
        start, end = (pd.Timestamp(t) for t in trap["period"])
        assert own["created_at"].min() <= start <= end <= own["created_at"].max()
        for value in trap["values"]:
            assert own.isin([value]).any(axis=None), (trap["trap_id"], value)


@pytest.mark.parametrize(
    "trap, column", [("household", "ship_address"), ("parcel_station", "ship_address"), ("carrier_nat", "buyer_ip"),
                     ("default_device", "device_id"), ("net_cafe", "buyer_ip")]
)
def test_shared_identity_traps_list_every_honest_account_sharing_the_value(
    full: tuple[SyntheticExport, pd.DataFrame, list[dict]], trap: str, column: str
) -> None:
    _, orders, traps = full
    honest = orders[orders["is_fraud"] == 0]
    instances = [t for t in traps if t["trap"] == trap]
    assert instances
    for instance in instances:
        sharing = set(honest.loc[honest[column] == instance["values"][0], "buyer_id"])
        assert sharing == set(instance["accounts"]) and len(sharing) >= 2


def test_event_traps_list_their_buyers(full: tuple[SyntheticExport, pd.DataFrame, list[dict]]) -> None:
    _, orders, traps = full
    for instance in (t for t in traps if t["trap"] in ("product_drop", "quality_incident", "festival_rush")):
        shop = orders[orders["seller_id"].isin(instance["merchants"])]
        start, end = (pd.Timestamp(t) for t in instance["period"])
        during = shop[shop["created_at"].between(start, end)]
        assert len(instance["merchants"]) == 1 and set(instance["accounts"]) <= set(during["buyer_id"])
        assert end - start <= pd.Timedelta(days=2)


def test_traps_are_deterministic_by_seed(full: tuple[SyntheticExport, pd.DataFrame, list[dict]]) -> None:
    again = generate(SynthConfig(n_orders=20_000, seed=SEED))
    pd.testing.assert_frame_equal(full[0].traps, again.traps)
    other = generate(SynthConfig(n_orders=20_000, seed=SEED + 1))
    assert not full[0].traps["accounts"].equals(other.traps["accounts"])


def test_traps_written_to_truth(full: tuple[SyntheticExport, pd.DataFrame, list[dict]]) -> None:
    export, _, traps = full
    counts = export.counts()["traps"]
    assert sum(counts.values()) == len(traps) and all(counts[name] >= 1 for name in TRAP_NAMES)
