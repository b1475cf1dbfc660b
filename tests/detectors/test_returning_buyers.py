import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from antifraud.detectors.returning_buyers import ReturningBuyerDetector, customers
from antifraud.features.data import prepare

DAY = 86400


def _table(rows: list[tuple]) -> pa.Table:
    """Canonical orders from (buyer, shop, day) or (buyer, shop, day, rating) tuples (days may be
    fractional; a rating of NaN is an order without review)."""
    frame = pd.DataFrame([(*r, np.nan)[:4] for r in rows], columns=["buyer_id", "seller_id", "day", "rating"])
    columns = {
        "buyer_id": pa.array(frame["buyer_id"]).dictionary_encode(),
        "seller_id": pa.array(frame["seller_id"]).dictionary_encode(),
        "created_at": pa.array((frame["day"].to_numpy() * DAY).astype(np.int64)).cast(pa.timestamp("s", tz="UTC")),
    }
    if frame["rating"].notna().any():
        columns["rating"] = pa.array(frame["rating"], from_pandas=True)
    return pa.table(columns)


def _organic(seed: int = 0, n_buyers: int = 3000, n_shops: int = 300, days: int = 90) -> list[tuple]:
    """Buyers ordering a few times over ``days`` at shops chosen by a long-tailed popularity."""
    rng = np.random.default_rng(seed)
    popularity = 1 / np.arange(1, n_shops + 1)
    popularity /= popularity.sum()
    rows = []
    for b in range(n_buyers):
        for shop in rng.choice(n_shops, size=rng.integers(1, 8), p=popularity):
            rows.append((f"b{b}", f"s{shop}", float(rng.uniform(0, days))))
    return rows


def _ring(shop: str, n: int, day: float, span: float, seed: int = 1) -> list[tuple]:
    """``n`` honest buyers of :func:`_organic` who each come to ``shop`` three times within ``span`` days."""
    rng = np.random.default_rng(seed)
    return [(f"b{b}", shop, day + float(rng.uniform(0, span))) for b in rng.choice(3000, n, replace=False)
            for _ in range(3)]


def _fit(rows: list[tuple], **params) -> tuple[ReturningBuyerDetector, object]:
    data = prepare(_table(rows))
    return ReturningBuyerDetector(**params).fit(data), data


def test_customers_are_account_shop_pairs_with_their_days():
    account, shop, first, last, days, order, start = customers(
        np.array([1, 0, 0, 0, 1]), np.array([2, 2, 2, 3, 2]), np.array([5, 9, 3, 3, 5]))
    assert (account.tolist(), shop.tolist(), first.tolist(), last.tolist(), days.tolist()) == (
        [0, 1, 0], [2, 2, 3], [3, 5, 3], [9, 5, 3], [2, 1, 1])
    # The orders of each pair, in day order: pair 1 (account 1 at shop 2) ordered twice on day 5.
    assert [order[start[k]:start[k + 1]].tolist() for k in range(3)] == [[2, 1], [0, 4], [3]]


def test_accounts_coming_back_to_a_small_shop_within_weeks_are_a_group():
    rows = _organic()
    detector, data = _fit(rows + _ring("s250", 15, 30.0, 21.0))
    assert len(detector.groups_) == 1
    group = detector.groups_[0]
    assert group.kind == "dense_block"
    assert data.graph.col_labels[group.merchants].tolist() == ["s250"]
    ring = set(np.unique([r[0] for r in _ring("s250", 15, 30.0, 21.0)]))
    members = set(data.graph.row_labels[group.accounts])
    assert len(members & ring) >= 12 and members <= ring
    assert group.evidence["log10_p"] < -5
    assert detector.merchant_scores_[group.merchants[0]] == group.score
    # The members' orders at the shop carry the group's score; their orders elsewhere do not.
    at_shop = np.isin(data.order_rows, group.accounts) & (data.order_cols == group.merchants[0])
    assert (detector.order_scores_[at_shop] == group.score).all() and detector.order_scores_[~at_shop].max() == 0


def test_a_ring_at_the_exports_start_is_read_against_shops_like_it_not_its_own_late_customers():
    # The export opens on old customers seen again: those who first show up in its first days
    # come back far more often than the market's. A ring of nine works a small shop in those
    # days; the shop's other customers came in the export's last days, too late to come back.
    # The window's days make a return likelier than the class's mean by what shops like it show
    # on those days, not by their ratio to the shop's late customers' days.
    rng = np.random.default_rng(6)
    popularity = 1 / np.arange(1, 301)
    old = [(f"old{i}", f"s{shop}", day) for i, shop in enumerate(rng.choice(300, 1500, p=popularity / popularity.sum()))
           for day in (float(rng.uniform(0, 6)), float(rng.uniform(6, 30)))]
    ring = [(f"b{b}", "s250", float(day)) for b in rng.choice(3000, 9, replace=False)
            for day in np.sort(rng.uniform(1, 24, 3))]
    late = [(f"late{i}", "s250", float(rng.uniform(88, 90))) for i in range(40)]
    detector, data = _fit(_organic() + old + ring + late)
    assert len(detector.groups_) == 1
    members = set(data.graph.row_labels[detector.groups_[0].accounts])
    # Most of the ring (those of its densest days); besides it only old customers, who came back then too.
    assert 2 * len(members & {r[0] for r in ring}) > 9 and all(m.startswith(("b", "old")) for m in members)


def test_a_ring_on_two_shops_whose_accounts_come_back_to_one_or_the_other_is_one_group():
    # 24 accounts each buy once at both small shops; half come back twice to the first, half
    # to the second: each shop has its own returning customers, who bought at the other shop too.
    rng = np.random.default_rng(4)
    accounts = [f"b{b}" for b in rng.choice(3000, 24, replace=False)]
    rows = [(a, shop, 30.0 + float(rng.uniform(0, 21))) for a in accounts for shop in ("s250", "s260")]
    rows += [(a, "s250" if i % 2 else "s260", 30.0 + float(rng.uniform(0, 21))) for i, a in enumerate(accounts)
             for _ in range(2)]
    detector, data = _fit(_organic() + rows)
    assert len(detector.groups_) == 1
    group = detector.groups_[0]
    assert sorted(data.graph.col_labels[group.merchants].tolist()) == ["s250", "s260"]
    members = set(data.graph.row_labels[group.accounts])
    assert members <= set(accounts) and len(members) >= 20
    assert group.details["shops"] == 2


def test_the_same_accounts_once_each_are_no_group():
    # One order each at the shop: new customers, none coming back.
    once = [(b, shop, day) for b, shop, day in _ring("s250", 15, 30.0, 21.0)[::3]]
    assert _fit(_organic() + once)[0].groups_ == []


def test_a_shop_whose_customers_all_reorder_within_weeks_is_no_group():
    # A pet-food shop: each of its 80 customers, first seen any day of the export, comes back
    # twice within three weeks. Shops of its volume rarely see that, but it is the shop's own
    # habit, in every window alike: against its own other customers no window stands out.
    rng = np.random.default_rng(3)
    rows = _organic()
    for b in rng.choice(3000, 80, replace=False):
        first = float(rng.uniform(0, 70))
        rows += [(f"b{b}", "s250", first + float(rng.uniform(0, 21))) for _ in range(3)]
    assert _fit(rows)[0].groups_ == []


def test_a_reordering_shops_festival_customers_are_no_group():
    # On a festival day 2,000 bargain hunters buy once at shops of every size and never come
    # back, so the customers shops like it first saw that day return far less than usual. A
    # pet-food shop's 25 festival customers reorder as its 45 others do (60 % of each come back
    # twice within three weeks): the days' odds of other shops do not lower its own habit.
    rng = np.random.default_rng(5)
    popularity = 1 / np.arange(1, 301)
    rows = _organic() + [(f"f{i}", f"s{s}", 45.0 + float(rng.uniform(0, 1)))
                         for i, s in enumerate(rng.choice(300, 2000, p=popularity / popularity.sum()))]
    for i in range(70):
        first = 45.0 + float(rng.uniform(0, 1)) if i >= 45 else float(rng.uniform(0, 70))
        rows.append((f"g{i}", "s250", first))
        if rng.random() < 0.6:
            rows += [(f"g{i}", "s250", first + float(rng.uniform(1, 21))) for _ in range(2)]
    assert _fit(rows)[0].groups_ == []


def test_a_shop_of_loyal_regulars_is_no_group():
    # Twenty regulars buy at their favourite small shop again and again over the whole export.
    rng = np.random.default_rng(2)
    loyal = [(f"loyal{i}", "s250", float(day)) for i in range(20) for day in rng.uniform(0, 90, rng.integers(4, 12))]
    assert _fit(_organic() + loyal)[0].groups_ == []


@pytest.mark.parametrize("day, history", [(60.8, (20, 59)), (89.8, (50, 88))], ids=["weeks-before", "export-end"])
def test_a_product_drop_of_the_shops_fans_is_no_group(day, history):
    # 300 fans of a mid-size shop, 60 % of whom bought there in the weeks before, buy its new
    # item within minutes of the drop: they came back together, for one event. On the export's
    # last day (the second case) their last days are cut off there, and their returns fall on it too.
    rng = np.random.default_rng(3)
    fans = [f"fan{i}" for i in range(300)]
    drop = [(fan, "s40", day + float(rng.exponential(4 / 1440))) for fan in fans]
    before = [(fan, "s40", float(rng.uniform(*history))) for fan in fans if rng.random() < 0.6]
    assert _fit(_organic() + drop + before)[0].groups_ == []


def test_a_ring_still_at_work_when_the_export_ends_is_a_group():
    # The ring's accounts come back over three weeks up to the export's last day: most of their
    # last days fall on its final days because the export cuts them off, not because they came
    # back together.
    rng = np.random.default_rng(5)
    ring = [(f"b{b}", "s250", day) for b in rng.choice(3000, 15, replace=False)
            for day in (70 + float(rng.uniform(0, 18)), 70 + float(rng.uniform(0, 18)), 89.5)]
    detector, data = _fit(_organic() + ring)
    assert len(detector.groups_) == 1
    assert set(data.graph.row_labels[detector.groups_[0].accounts]) <= {r[0] for r in ring}


def test_a_quality_incidents_disappointed_batch_is_no_group():
    # A small shop's new customers of one week: 25 come back now and then over the next weeks,
    # and 40 bought a bad batch, which they buy again over the next three days and mostly rate
    # one star. Their last orders spread over three days among the others': without the
    # ratings they read as a group; with them, as customers who came back disappointed.
    rng = np.random.default_rng(7)
    week = [(f"buyer{i}", "s250", float(rng.uniform(50, 56))) for i in range(65)]
    later = [(f"buyer{i}", "s250", float(rng.uniform(57, 80))) for i in range(40, 65) for _ in range(2)]
    batch = [(f"buyer{i}", "s250", 60.0 + float(rng.uniform(0, 3)), 1.0 if rng.random() < 0.8 else 5.0)
             for i in range(40)]
    assert len(_fit(_organic() + week + later + [r[:3] for r in batch])[0].groups_) == 1
    assert _fit(_organic() + week + later + batch)[0].groups_ == []


def test_an_empty_export_has_no_group():
    detector, data = _fit([("b0", "s0", 1.0)])
    assert detector.groups_ == [] and detector.account_scores_.shape == (1,)
