"""The synthetic export generator: determinism, file format, truth consistency and the noise and
ring patterns the detectors are tested against."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import antifraud
from antifraud.kinds import RING_KINDS
from antifraud.schema import NAMES
from antifraud.synth import (
    SynthConfig,
    SyntheticExport,
    generate,
    write_synthetic_export,
)

N_ORDERS = 20_000
SEED = 11


@dataclass(frozen=True)
class Case:
    """A generated and written export, its orders joined with their labels, and its rings as
    read back from ``truth/rings.jsonl``."""

    export: SyntheticExport
    out_dir: Path
    orders: pd.DataFrame
    rings: list[dict]


#: (medium_share, hard_share) of each difficulty alone.
ONLY = {"easy": (0.0, 0.0), "medium": (1.0, 0.0), "hard": (0.0, 1.0)}


@pytest.fixture(scope="module")
def make_case(tmp_path_factory: pytest.TempPathFactory) -> Callable[[float, float], Case]:
    """Generate and write the export of given medium and hard shares, once per module."""

    @functools.cache
    def make(medium_share: float, hard_share: float) -> Case:
        export = generate(
            SynthConfig(n_orders=N_ORDERS, seed=SEED, medium_share=medium_share, hard_share=hard_share)
        )
        out_dir = export.write(tmp_path_factory.mktemp("synth") / "export")
        lines = (out_dir / "truth" / "rings.jsonl").read_text(encoding="utf-8").splitlines()
        orders = export.orders.merge(export.order_labels, on="order_id", validate="one_to_one")
        return Case(export, out_dir, orders, [json.loads(line) for line in lines])

    return make


@pytest.fixture(scope="module")
def mixed(make_case: Callable[[float, float], Case]) -> Case:
    """The default difficulty mix (half easy, half medium)."""
    config = SynthConfig()
    return make_case(config.medium_share, config.hard_share)


@pytest.fixture(scope="module", params=list(ONLY))
def alone(request: pytest.FixtureRequest, make_case: Callable[[float, float], Case]) -> Case:
    """All rings easy, all medium, all hard."""
    return make_case(*ONLY[request.param])


@pytest.fixture(scope="module", params=["mixed", *ONLY])
def case(request: pytest.FixtureRequest, make_case: Callable[[float, float], Case]) -> Case:
    """The default mix, then every difficulty alone."""
    return make_case(*(ONLY.get(request.param) or (SynthConfig().medium_share, SynthConfig().hard_share)))


@pytest.fixture(scope="module")
def hard(make_case: Callable[[float, float], Case]) -> Case:
    """Every ring hard."""
    return make_case(*ONLY["hard"])


@pytest.fixture(scope="module")
def export(mixed: Case) -> SyntheticExport:
    return mixed.export


@pytest.fixture(scope="module")
def out_dir(mixed: Case) -> Path:
    return mixed.out_dir


@pytest.fixture(scope="module")
def orders(mixed: Case) -> pd.DataFrame:
    return mixed.orders


def _privacy(phones: pd.Series) -> pd.Series:
    """Privacy numbers (隐私号), which stand in for a consignee's phone."""
    return phones.str.match(r"1(65|67|70|71)")


def _ring_orders(orders: pd.DataFrame, ring: dict) -> pd.DataFrame:
    return orders[(orders["ring_id"] == ring["ring_id"]) & (orders["is_fraud"] == 1)]


# -- determinism -----------------------------------------------------------------------------


def test_same_seed_gives_identical_frames_and_files(
    export: SyntheticExport, out_dir: Path, tmp_path: Path
) -> None:
    again = generate(SynthConfig(n_orders=N_ORDERS, seed=SEED))
    for name in ("orders", "accounts", "merchants", "order_labels", "rings"):
        pd.testing.assert_frame_equal(getattr(export, name), getattr(again, name))
    again_dir = again.write(tmp_path / "again")
    files = sorted(p.relative_to(out_dir) for p in out_dir.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again_dir) for p in again_dir.rglob("*") if p.is_file())
    for rel in files:
        assert (out_dir / rel).read_bytes() == (again_dir / rel).read_bytes(), rel


def test_different_seed_gives_different_export(export: SyntheticExport) -> None:
    other = generate(SynthConfig(n_orders=N_ORDERS, seed=SEED + 1))
    assert len(other.orders) == N_ORDERS
    assert not export.orders["buyer_id"].equals(other.orders["buyer_id"])
    assert not export.orders["created_at"].equals(other.orders["created_at"])


# -- file format -----------------------------------------------------------------------------


def test_orders_csv_has_canonical_columns(export: SyntheticExport, out_dir: Path) -> None:
    assert list(export.orders.columns) == list(NAMES)
    header = (out_dir / "orders.csv").read_text(encoding="utf-8-sig").split("\n", 1)[0]
    assert [h.strip('"') for h in header.split(",")] == list(NAMES)
    assert len(export.orders) == N_ORDERS


def test_ids_keep_leading_zeros_when_read_back(export: SyntheticExport, out_dir: Path) -> None:
    back = pd.read_csv(out_dir / "orders.csv", dtype=str)
    for column, pattern in (
        ("order_id", r"o\d{9}"),
        ("buyer_id", r"b\d{7}"),
        ("seller_id", r"s\d{5}"),
        ("item_id", r"i\d{8}"),
    ):
        assert back[column].str.fullmatch(pattern).all(), column
        assert back[column].str.startswith(column[0] + "0").any(), column
        assert back[column].tolist() == export.orders[column].tolist()
    assert back["ship_phone"].str.fullmatch(r"1\d{10}|1\d\d\*{4}\d{4}").all()  # masked: 138****1234


def test_csv_times_amounts_and_empty_reviews(export: SyntheticExport, out_dir: Path) -> None:
    back = pd.read_csv(out_dir / "orders.csv", dtype=str, keep_default_na=False)
    time_pattern = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
    for column in ("created_at", "paid_at", "confirmed_at", "reviewed_at", "buyer_registered_at"):
        filled = back[column][back[column] != ""]
        assert filled.str.fullmatch(time_pattern).all(), column
    assert back["created_at"].iloc[0] == export.orders["created_at"].iloc[0].strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    for column in ("amount", "refund_amount"):
        assert back[column].str.fullmatch(r"\d+\.\d{2}").all(), column
    np.testing.assert_allclose(back["amount"].astype(float), export.orders["amount"])
    no_review = back["rating"] == ""
    assert 0 < no_review.mean() < 1
    assert (back.loc[no_review, "review_text"] == "").all()
    assert (back.loc[no_review, "reviewed_at"] == "").all()
    assert (back.loc[~no_review, "reviewed_at"] > back.loc[~no_review, "confirmed_at"]).all()


def test_truth_files_and_synth_json(export: SyntheticExport, out_dir: Path) -> None:
    truth = out_dir / "truth"
    accounts = pd.read_csv(truth / "accounts.csv", dtype=str, keep_default_na=False)
    merchants = pd.read_csv(truth / "merchants.csv", dtype=str, keep_default_na=False)
    labels = pd.read_csv(truth / "orders.csv", dtype=str, keep_default_na=False)
    assert list(accounts.columns) == ["account_id", "is_fraud", "role", "ring_ids"]
    assert list(merchants.columns) == ["seller_id", "is_fraud", "role", "ring_ids"]
    assert list(labels.columns) == ["order_id", "is_fraud", "ring_id"]
    assert set(accounts["is_fraud"]) == {"0", "1"}
    assert set(merchants["role"]) == {"honest", "brushing", "victim"}
    assert ((accounts["ring_ids"] == "") == (accounts["is_fraud"] == "0")).all()
    meta = json.loads((truth / "synth.json").read_text(encoding="utf-8"))
    assert meta["seed"] == SEED and meta["version"] == antifraud.__version__
    assert meta["config"]["n_orders"] == N_ORDERS
    assert meta["counts"] == json.loads(json.dumps(export.counts()))


def test_write_synthetic_export_applies_overrides(tmp_path: Path) -> None:
    out = write_synthetic_export(
        tmp_path / "x", seed=5, n_orders=5_000, fraud_share=0.05, festival_day=None
    )
    meta = json.loads((out / "truth" / "synth.json").read_text(encoding="utf-8"))
    assert meta["config"]["fraud_share"] == 0.05 and meta["config"]["festival_day"] is None
    assert (out / "orders.csv").exists()


def test_no_rings_without_fraud() -> None:
    clean = generate(SynthConfig(n_orders=5_000, seed=SEED, fraud_share=0.0))
    assert clean.rings.empty and clean.order_labels["is_fraud"].sum() == 0
    assert (clean.accounts["role"] == "honest").all() and (
        clean.merchants["role"] == "honest"
    ).all()


@pytest.mark.parametrize(
    "bad",
    [
        {"n_orders": 10},
        {"fraud_share": 1.5},
        {"days": 7},
        {"festival_day": "2025-01-01"},
        {"n_shops": 0},
    ],
)
def test_config_rejects_nonsense(bad: dict) -> None:
    with pytest.raises(ValueError):
        SynthConfig(**bad)


# -- truth -----------------------------------------------------------------------------------


def test_every_ring_kind_and_the_default_difficulties(export: SyntheticExport) -> None:
    assert set(export.rings["kind"]) == set(RING_KINDS)
    assert set(export.rings["difficulty"]) == {"easy", "medium"}
    share = export.order_labels["is_fraud"].mean()
    assert 0.01 < share < 0.06


def test_every_kind_is_planted_at_every_difficulty(alone: Case) -> None:
    (difficulty,) = set(alone.export.rings["difficulty"])
    assert sorted(alone.export.rings["kind"]) == sorted(RING_KINDS)
    assert alone.export.counts()["difficulties"][difficulty] == len(RING_KINDS)


def test_difficulty_shares_must_leave_room() -> None:
    with pytest.raises(ValueError, match="medium_share \\+ hard_share"):
        SynthConfig(medium_share=0.6, hard_share=0.5)


def test_truth_is_consistent_with_orders(case: Case) -> None:
    export, orders, rings = case.export, case.orders, case.rings
    all_ids = set(export.orders["order_id"])
    fraud_ids = set(orders.loc[orders["is_fraud"] == 1, "order_id"])
    assert {o for r in rings for o in r["orders"]} == fraud_ids <= all_ids
    fraud_accounts = set(export.accounts.loc[export.accounts["is_fraud"] == 1, "account_id"])
    assert fraud_accounts == {a for r in rings for a in r["accounts"]}
    assert set(export.accounts["account_id"]) == set(export.orders["buyer_id"])
    assert set(export.merchants["seller_id"]) == set(export.orders["seller_id"])
    ring_ids = export.accounts.set_index("account_id")["ring_ids"]
    for ring in rings:
        own = _ring_orders(orders, ring)
        assert sorted(own["order_id"]) == ring["orders"]
        assert sorted(set(own["buyer_id"])) == ring["accounts"]
        assert sorted(set(own["seller_id"])) == ring["merchants"]
        assert ring["period"] == [
            own["created_at"].min().strftime("%Y-%m-%d %H:%M:%S"),
            own["created_at"].max().strftime("%Y-%m-%d %H:%M:%S"),
        ]
        assert all(ring["ring_id"] in ring_ids[a].split(";") for a in ring["accounts"])


def test_victims_are_not_fraud(case: Case) -> None:
    export, orders, rings = case.export, case.orders, case.rings
    merchants = export.merchants.set_index("seller_id")
    attacks = [r for r in rings if r["kind"] == "negative_attack"]
    assert attacks
    for ring in attacks:
        assert ring["victims"] == ring["merchants"] and len(ring["victims"]) == 1
        victim = merchants.loc[ring["victims"][0]]
        assert victim["role"] == "victim" and victim["is_fraud"] == 0
        assert ring["ring_id"] in victim["ring_ids"].split(";")
        own = _ring_orders(orders, ring)
        assert (own["rating"].dropna() <= 2).all() and own["rating"].notna().mean() > 0.7
    brushing = export.merchants["role"] == "brushing"
    assert (export.merchants.loc[brushing, "is_fraud"] == 1).all()
    assert (export.merchants.loc[~brushing, "is_fraud"] == 0).all()


def test_brushing_reviews_are_five_star_and_as_fast_and_templated_as_the_ring_is_careless(
    case: Case,
) -> None:
    orders, rings = case.orders, case.rings
    honest = orders[(orders["ring_id"] == "") & orders["rating"].notna()]
    honest_delay = (honest["reviewed_at"] - honest["confirmed_at"]).median()
    honest_confirm = (honest["confirmed_at"] - honest["paid_at"]).median()
    assert honest_delay > pd.Timedelta(hours=12)
    for ring in (r for r in rings if r["kind"] in ("dense_block", "camouflage")):
        own = _ring_orders(orders, ring)
        reviewed = own[own["rating"].notna()]
        delay = reviewed["reviewed_at"] - reviewed["confirmed_at"]
        confirm = (own["confirmed_at"] - own["paid_at"]).median()
        assert reviewed["rating"].min() >= 4 and reviewed["rating"].mean() > 4.5
        if ring["difficulty"] == "easy":
            assert (reviewed["rating"] == 5).all() and confirm < honest_confirm
            assert delay.max() <= pd.Timedelta(minutes=30)
            assert reviewed["review_text"].nunique() <= 3 * 10  # three templates x ten endings
        elif ring["difficulty"] == "medium":
            assert confirm < honest_confirm
            assert pd.Timedelta(minutes=30) < delay.median() < honest_delay
        else:  # confirmed and reviewed as honest buyers do, in their own words
            assert honest_confirm / 2 < confirm < 2 * honest_confirm
            assert honest_delay / 3 < delay.median() < 3 * honest_delay
            assert reviewed["review_text"].nunique() > 0.6 * len(reviewed)


def test_timelines_are_causal(export: SyntheticExport) -> None:
    o = export.orders
    end = pd.Timestamp(export.config.end)
    assert (o["buyer_registered_at"] <= o["created_at"]).all()
    assert (o["paid_at"].dropna() >= o.loc[o["paid_at"].notna(), "created_at"]).all()
    confirmed = o[o["confirmed_at"].notna()]
    assert (confirmed["confirmed_at"] > confirmed["paid_at"]).all()
    for column in ("created_at", "paid_at", "confirmed_at", "reviewed_at"):
        assert (o[column].dropna() < end).all(), column
    assert o["created_at"].min() >= pd.Timestamp(export.config.start)
    assert (o["refund_amount"] <= o["amount"]).all()
    assert o.loc[o["tracking_no"].isna(), "carrier"].isna().all()


def test_easy_rings_order_in_lockstep_waves(case: Case) -> None:
    orders, rings = case.orders, case.rings
    for ring in rings:
        if ring["difficulty"] == "easy" and ring["kind"] in (
            "dense_block",
            "camouflage",
            "hijacked_accounts",
        ):
            own = _ring_orders(orders, ring)
            days = np.ceil(
                (own["created_at"].max() - own["created_at"].min()) / pd.Timedelta(days=1)
            )
            assert own["created_at"].dt.floor("h").nunique() <= 4 * days + 4
            assert len(own) > 2 * own["created_at"].dt.floor("h").nunique()


# -- honest noise ----------------------------------------------------------------------------


def test_festival_day_has_a_spike(export: SyntheticExport) -> None:
    created = export.orders["created_at"]
    daily = created.dt.normalize().value_counts()
    festival = pd.Timestamp(export.config.festival_day)
    assert daily[festival] > 4 * daily.median()
    on_day = export.orders[created.dt.normalize() == festival]
    assert (on_day["created_at"].dt.hour == 0).mean() > 0.1  # the midnight rush


def test_daily_and_weekly_rhythm(export: SyntheticExport) -> None:
    created = export.orders["created_at"]
    by_hour = created.dt.hour.value_counts()
    assert by_hour[21] > 5 * by_hour[4]
    normal = created[created.dt.normalize() != pd.Timestamp(export.config.festival_day)]
    per_day = normal.dt.normalize().value_counts()
    weekend = per_day[per_day.index.day_of_week >= 5].mean()
    weekday = per_day[per_day.index.day_of_week < 5].mean()
    assert weekend > 1.1 * weekday


def test_shop_popularity_follows_a_power_law(orders: pd.DataFrame) -> None:
    honest = orders[orders["ring_id"] == ""]
    per_shop = honest["seller_id"].value_counts()
    top = max(1, int(np.ceil(0.01 * len(per_shop))))
    assert per_shop.iloc[:top].sum() / len(honest) > 0.15
    per_buyer = honest["buyer_id"].value_counts()
    assert per_buyer.max() > 20 * per_buyer.median()
    assert (per_buyer == 1).mean() > 0.2  # many one-off buyers


def test_nat_ips_are_shared_by_many_honest_strangers(
    export: SyntheticExport, orders: pd.DataFrame
) -> None:
    buyers_per_ip = orders.groupby("buyer_ip")["buyer_id"].nunique()
    crowded = buyers_per_ip[buyers_per_ip >= 100].index
    assert len(crowded) >= 3
    crowd = orders[orders["buyer_ip"].isin(crowded)]
    fraud = set(export.accounts.loc[export.accounts["is_fraud"] == 1, "account_id"])
    assert crowd["buyer_id"].isin(fraud).mean() < 0.1
    assert crowd["ship_address"].nunique() > 100  # strangers, not a household


def test_households_share_addresses_and_honest_fresh_accounts_exist(orders: pd.DataFrame) -> None:
    honest = orders[orders["ring_id"] == ""]
    per_address = honest.groupby("ship_address")["buyer_id"].nunique()
    assert (per_address >= 2).mean() > 0.05
    first = honest.groupby("buyer_id").agg(
        first=("created_at", "min"), registered=("buyer_registered_at", "first")
    )
    fresh = (first["first"] - first["registered"]) < pd.Timedelta(days=3)
    assert 0.01 < fresh.mean() < 0.2


def test_honest_reviews_statuses_and_parcels(orders: pd.DataFrame) -> None:
    honest = orders[orders["ring_id"] == ""]
    assert 0.35 < honest["rating"].notna().mean() < 0.65
    ratings = honest["rating"].dropna().value_counts(normalize=True)
    assert ratings[5] + ratings[4] > 0.8 and ratings[[1, 2, 3]].sum() > 0.04
    texts = honest["review_text"].dropna()
    assert texts.nunique() > 0.3 * len(texts)
    status = honest["status"].value_counts(normalize=True)
    assert status["交易成功"] > 0.8 and status["交易关闭"] > 0.01
    refunded = honest[(honest["status"] == "交易关闭") & honest["paid_at"].notna()]
    assert (refunded["refund_amount"] == refunded["amount"]).all()
    assert honest["carrier"].nunique() >= 6
    assert honest["parcel_weight_kg"].median() > 0.2


# -- ring patterns ---------------------------------------------------------------------------


def test_farm_accounts_share_devices_and_are_young(case: Case) -> None:
    orders, rings = case.orders, case.rings
    honest_ips = set(orders.loc[orders["ring_id"] == "", "buyer_ip"])
    for ring in (r for r in rings if r["kind"] == "account_farm"):
        own = _ring_orders(orders, ring)
        n_accounts = len(ring["accounts"])
        mine = orders[orders["buyer_id"].isin(ring["accounts"])]
        first = mine.groupby("buyer_id").agg(
            first=("created_at", "min"), registered=("buyer_registered_at", "first")
        )
        age = first["first"] - first["registered"]
        assert (age > pd.Timedelta(0)).all()
        if ring["difficulty"] == "hard":  # registered weeks before, online through carrier NAT
            assert own["device_id"].nunique() <= 0.6 * n_accounts
            assert own["ship_phone"].nunique() > 0.5 * n_accounts  # about a SIM card each
            assert age.between(pd.Timedelta(days=14), pd.Timedelta(days=56)).all()
            assert own["buyer_ip"].isin(honest_ips).mean() > 0.9
            assert mine["is_fraud"].mean() > 0.7
        else:
            assert own["device_id"].nunique() <= n_accounts / 2
            assert own["buyer_ip"].nunique() <= n_accounts / 2
            assert (age <= pd.Timedelta(days=3)).all()
            assert set(mine["seller_id"]) == set(ring["merchants"])


def test_mutual_shops_share_a_credit_code_prefix(case: Case) -> None:
    orders, rings = case.orders, case.rings
    for ring in (r for r in rings if r["kind"] == "mutual_brushing"):
        own = _ring_orders(orders, ring)
        codes = own.groupby("seller_id")["seller_uscc"].first()
        names = own.groupby("seller_id")["seller_name"].first()
        assert len(ring["merchants"]) >= 2 and codes.str[:14].nunique() == 1
        phones = own["ship_phone"][own["ship_phone"].str.fullmatch(r"1\d{10}") & ~_privacy(own["ship_phone"])]
        assert phones.nunique() < len(ring["accounts"])  # the operators' phones
        if ring["difficulty"] != "hard":  # hard operators name their shops apart
            assert names.str[:2].nunique() == 1


def test_empty_parcels_are_light_with_tracking_numbers_in_batches(case: Case) -> None:
    orders, rings = case.orders, case.rings
    for ring in (r for r in rings if r["kind"] == "empty_parcel"):
        own = (
            _ring_orders(orders, ring)
            .dropna(subset=["tracking_no"])
            .sort_values("created_at", kind="stable")
        )
        assert own["carrier"].nunique() == 1
        serial = own["tracking_no"].str.extract(r"(\d+)$")[0].astype(np.int64).to_numpy()
        steps = np.diff(serial)
        delay = own["confirmed_at"] - own["paid_at"]
        assert (steps > 0).all()
        if ring["difficulty"] == "hard":  # a token item; two to four batches, others' parcels between
            weight = own["parcel_weight_kg"]
            assert weight.between(0.02, 0.3).all() and weight.median() < 0.15
            assert weight.nunique() > 3
            assert (steps > 200).sum() <= 3 and np.median(steps) < 200
        else:
            assert own["parcel_weight_kg"].between(0.01, 0.05).all()
            assert (steps <= (1 if ring["difficulty"] == "easy" else 30)).all()
            assert delay.max() < pd.Timedelta(days=3)


def test_hijacked_accounts_have_honest_history_and_change_devices_at_once(case: Case) -> None:
    orders, rings = case.orders, case.rings
    honest_ips = set(orders.loc[orders["ring_id"] == "", "buyer_ip"])
    for ring in (r for r in rings if r["kind"] == "hijacked_accounts"):
        start = pd.Timestamp(ring["period"][0])
        mine = orders[orders["buyer_id"].isin(ring["accounts"])]
        before = mine[(mine["created_at"] < start) & (mine["is_fraud"] == 0)]
        assert set(before["buyer_id"]) == set(ring["accounts"])
        assert (mine["buyer_registered_at"] < start - pd.Timedelta(days=365)).all()
        own = _ring_orders(orders, ring)
        assert not own["device_id"].isin(before["device_id"]).any()  # the hijacker's devices
        if ring["difficulty"] == "hard":  # one device per account, a few accounts per device
            assert (own.groupby("buyer_id")["device_id"].nunique() == 1).all()
            assert own["device_id"].nunique() <= len(ring["accounts"]) / 2
            assert own["buyer_ip"].isin(honest_ips).all()  # the owners' city's gateways
            after = mine[(mine["created_at"] > start) & (mine["is_fraud"] == 0)]
            assert after["buyer_id"].nunique() > 0  # the owners keep buying


def test_camouflage_accounts_also_buy_from_popular_honest_shops(case: Case) -> None:
    export, orders, rings = case.export, case.orders, case.rings
    popular = set(orders["seller_id"].value_counts().index[:25])
    for ring in (r for r in rings if r["kind"] == "camouflage"):
        cover = orders[(orders["ring_id"] == ring["ring_id"]) & (orders["is_fraud"] == 0)]
        assert len(cover) >= len(ring["orders"]) * 0.5
        assert set(cover["buyer_id"]) <= set(ring["accounts"])
        assert cover["seller_id"].isin(popular).mean() > 0.3
        merchants = export.merchants.set_index("seller_id")
        assert (
            merchants.loc[sorted(set(cover["seller_id"]) - set(ring["merchants"])), "is_fraud"] == 0
        ).all()
        if ring["difficulty"] == "hard":  # cover kept up over the whole export
            span = cover["created_at"].max() - cover["created_at"].min()
            assert span > pd.Timedelta(days=export.config.days / 2)


# -- hard rings ------------------------------------------------------------------------------

#: Accounts and shops of a hard ring, by kind (domain notes: small rings on one or two shops).
HARD_SIZES = {
    "account_farm": ((30, 70), (1, 3)),
    "mutual_brushing": ((6, 15), (2, 3)),
    "negative_attack": ((10, 25), (1, 1)),
}


def test_hard_rings_are_small_slow_at_normal_hours_and_long_registered(hard: Case) -> None:
    orders = hard.orders
    for ring in hard.rings:
        (low, high), (fewest, most) = HARD_SIZES.get(ring["kind"], ((10, 25), (1, 2)))
        own = _ring_orders(orders, ring)
        shops = ring["victims"] or ring["merchants"]
        assert low <= len(ring["accounts"]) <= high, ring["kind"]
        assert fewest <= len(shops) <= most, ring["kind"]
        days = (pd.Timestamp(ring["period"][1]) - pd.Timestamp(ring["period"][0])).days
        assert days >= (5 if ring["kind"] == "negative_attack" else 10), ring["kind"]
        assert own["created_at"].dt.hour.between(1, 5).mean() < 0.15  # no night scripts
        assert own["created_at"].dt.floor("h").nunique() > 0.7 * len(own)  # no waves
        first = own.groupby("buyer_id").agg(
            first=("created_at", "min"), registered=("buyer_registered_at", "first")
        )
        assert ((first["first"] - first["registered"]) >= pd.Timedelta(days=14)).all(), ring["kind"]


def test_hard_paid_buyers_are_honest_people_with_their_own_history(hard: Case) -> None:
    orders = hard.orders
    for ring in (r for r in hard.rings if r["kind"] == "dense_block"):
        mine = orders[orders["buyer_id"].isin(ring["accounts"])]
        honest = mine[mine["ring_id"] == ""]
        assert honest["buyer_id"].nunique() > 0.3 * len(ring["accounts"])
        assert (mine["buyer_registered_at"] < mine["created_at"] - pd.Timedelta(days=365)).all()


def test_hard_attacks_are_one_or_two_stars_in_organic_words(hard: Case) -> None:
    orders = hard.orders
    for ring in (r for r in hard.rings if r["kind"] == "negative_attack"):
        reviewed = _ring_orders(orders, ring).dropna(subset=["rating"])
        assert len(reviewed) > 0.5 * len(ring["orders"])
        assert reviewed["rating"].isin([1, 2]).all() and (reviewed["rating"] == 2).any()
        assert reviewed["review_text"].nunique() > 0.6 * len(reviewed)


def test_hard_ring_orders_share_no_constant(hard: Case) -> None:
    orders = hard.orders
    fraud = orders[orders["is_fraud"] == 1]
    for column in ("amount", "parcel_weight_kg", "item_id", "device_id", "buyer_ip", "carrier"):
        assert fraud[column].nunique() > 1, column
    honest_hours = orders.loc[orders["ring_id"] == "", "created_at"].dt.hour.value_counts(normalize=True)
    ring_hours = fraud["created_at"].dt.hour.value_counts(normalize=True)
    assert (ring_hours - honest_hours).abs().max() < 0.05  # the ordinary daily rhythm


# -- credit codes ----------------------------------------------------------------------------


def test_generated_credit_codes_pass_the_check_characters() -> None:
    export = generate(SynthConfig(n_orders=N_ORDERS, seed=SEED, n_shops=3_000))
    codes = export.orders.groupby("seller_id")["seller_uscc"].first()
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

    def valid(code: str) -> bool:
        if len(code) != 18 or any(ch not in alphabet for ch in code):
            return False
        org = [int(ch) if ch.isdigit() else ord(ch) - 55 for ch in code[8:16]]
        c = 11 - sum(v * w for v, w in zip(org, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
        if code[16] != {10: "X", 11: "0"}.get(c, str(c)):
            return False
        total = sum(alphabet.index(ch) * pow(3, i, 31) for i, ch in enumerate(code[:17]))
        return code[17] == alphabet[(31 - total % 31) % 31]

    ok = codes.map(valid)
    assert 0.97 < ok.mean() < 1.0
    assert all(code[:2] in ("91", "92") for code in codes)
    bad = codes[~ok]
    assert all(
        any(valid(code[:17] + ch) for ch in alphabet) for code in bad
    )  # only the check is wrong
