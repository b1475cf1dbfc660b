import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.detectors.account_takeover import (
    AccountTakeoverDetector,
    adoptions,
    change_points,
    pattern_pvalues,
)
from antifraud.features.data import prepare

DAY = 86400
IDENTITY = ("device_id", "buyer_ip", "ship_address")
RING = [f"b{i}" for i in range(0, 240, 20)]  # twelve long-lived accounts, taken over on day 200
RING_SHOPS = ["t0", "t1"]


def _home(b: int) -> int:
    """The household of account ``b``: pairs of accounts share one where ``b % 4 < 2``."""
    return b - b % 2 if b % 4 < 2 else b


def _honest(rng: np.random.Generator) -> list[dict]:
    """Established buyers and their honest look-alikes of a takeover, over 240 days.

    600 accounts with their own device, home IP and address order 6-12 times at 40 popular
    shops. Among them: 120 buy a new phone, 40 move house (new address and broadband), 40 order
    once while travelling (a hotel IP), 150 start buying at a new shop that opens on day 120 and
    all buy at the top shop on a festival day (day 180); every fourth account shares its
    household's device, IP and address with the next.
    """
    popularity = 1 / np.arange(1, 41)
    popularity /= popularity.sum()
    rows = []
    for b in range(600):
        home = _home(b)
        days = np.sort(rng.uniform(0, 240, rng.integers(6, 13)))
        identity = {"device_id": f"d{home}", "buyer_ip": f"ip{home}", "ship_address": f"a{home}"}
        change = days[len(days) // 2]
        for i, day in enumerate(days):
            now = dict(identity)
            if b % 5 == 1 and day >= change:
                now["device_id"] = f"d{b}-new"
            if b % 15 == 2 and day >= change:
                now["ship_address"], now["buyer_ip"] = f"a{b}-new", f"ip{b}-new"
            if b % 15 == 3 and i == len(days) // 2:
                now["buyer_ip"] = f"hotel{rng.integers(5)}"
            shop = f"s{rng.choice(40, p=popularity)}"
            if b % 4 == 3 and day >= 120 and i % 2:
                shop = "s-new"
            rows.append({"buyer_id": f"b{b}", "seller_id": shop, "day": day, **now})
        if b % 2:
            rows.append({"buyer_id": f"b{b}", "seller_id": "s0", "day": 180 + rng.uniform(0, 0.1), **identity})
    return rows


def _hijacked(rng: np.random.Generator) -> list[dict]:
    """The ring's orders: from day 200, the hijacker's two devices and three IPs, the owners'
    own addresses, two small shops."""
    rows = []
    for b in RING:
        for day in np.sort(rng.uniform(200, 205, 3)):
            rows.append({"buyer_id": b, "seller_id": rng.choice(RING_SHOPS), "day": day,
                         "device_id": f"hijacker{rng.integers(2)}", "buyer_ip": f"nat{rng.integers(3)}",
                         "ship_address": f"a{_home(int(b[1:]))}"})
    return rows


def _table(rows: list[dict], columns=IDENTITY) -> pa.Table:
    frame = pd.DataFrame(rows).sort_values("day", kind="stable")
    return pa.table({
        "buyer_id": pa.array(frame["buyer_id"]).dictionary_encode(),
        "seller_id": pa.array(frame["seller_id"]).dictionary_encode(),
        "created_at": pa.array((frame["day"].to_numpy() * DAY).astype(np.int64)).cast(pa.timestamp("s", tz="UTC")),
        **{c: pa.array(frame[c]).dictionary_encode() for c in columns},
    })


@pytest.fixture(scope="module")
def honest():
    return prepare(_table(_honest(np.random.default_rng(0))))


@pytest.fixture(scope="module")
def ringed():
    rng = np.random.default_rng(0)
    return prepare(_table(_honest(rng) + _hijacked(rng)))


def _codes(data, names):
    return np.flatnonzero(np.isin(data.graph.row_labels, names))


def test_the_ring_is_one_group_tied_to_its_shops(ringed):
    det = AccountTakeoverDetector().fit(ringed)
    assert len(det.groups_) == 1
    group = det.groups_[0]
    assert group.accounts.tolist() == _codes(ringed, RING).tolist()
    assert sorted(ringed.graph.col_labels[group.merchants]) == RING_SHOPS
    assert group.kind == "hijacked_accounts" and 0 < group.score <= 1
    evidence = group.evidence
    assert evidence["log10_p"] < np.log10(det.alpha)
    assert evidence["shared_new_shops"] == 2 and evidence["shared_new_devices"] == 2
    assert 200 * DAY <= evidence["change_start"] <= evidence["change_end"] <= 205 * DAY
    assert evidence["median_account_log10_p"] <= np.log10(det.account_alpha)


def test_an_account_of_one_ring_at_another_rings_shop_does_not_join_the_rings():
    """A second hijacker takes over twelve other accounts on day 210 for shops u0 and u1; one of
    the first ring's accounts also orders at u0 during its takeover. Two rings, not one."""
    rng = np.random.default_rng(0)
    rows = _honest(rng) + _hijacked(rng)
    second = [f"b{i}" for i in range(10, 250, 20)]
    for b in second:
        for day in np.sort(rng.uniform(210, 215, 3)):
            rows.append({"buyer_id": b, "seller_id": rng.choice(["u0", "u1"]), "day": day,
                         "device_id": f"other{rng.integers(2)}", "buyer_ip": f"nat{rng.integers(3, 6)}",
                         "ship_address": f"a{_home(int(b[1:]))}"})
    rows.append({"buyer_id": RING[0], "seller_id": "u0", "day": 205.5, "device_id": "hijacker0", "buyer_ip": "nat0",
                 "ship_address": f"a{_home(int(RING[0][1:]))}"})
    data = prepare(_table(rows))
    groups = AccountTakeoverDetector().fit(data).groups_
    found = sorted((sorted(data.graph.row_labels[g.accounts]), sorted(data.graph.col_labels[g.merchants])) for g in groups)
    assert found == sorted([(sorted(RING), RING_SHOPS), (sorted(second), ["u0", "u1"])])


def test_only_the_orders_after_the_takeover_are_scored(ringed):
    det = AccountTakeoverDetector(window=10 * DAY).fit(ringed)
    hijacker = pd.Series(ringed.table.column("device_id").to_pylist()).str.startswith("hijacker").to_numpy()
    first = np.full(ringed.graph.n_rows, np.inf)
    np.minimum.at(first, ringed.order_rows[hijacker], ringed.times[hijacker])
    since = ringed.times - first[ringed.order_rows]
    taken = (since >= 0) & (since <= 10 * DAY)  # the owners' own orders in between too
    assert taken.sum() > hijacker.sum()
    assert (det.order_scores_[taken] == det.groups_[0].score).all()
    assert (det.order_scores_[~taken] == 0).all()


def test_honest_look_alikes_make_no_group(honest):
    det = AccountTakeoverDetector().fit(honest)
    assert det.groups_ == [] and not det.account_scores_.any() and not det.order_scores_.any()
    # The null's rates are the population's: a new shop is common, a new device rare.
    assert det.rates_["shops"] > 10 * det.rates_["devices"] > 0


def test_a_new_phone_alone_is_no_takeover(honest):
    det = AccountTakeoverDetector().fit(honest)
    new_phone = _codes(honest, [f"b{b}" for b in range(1, 600, 15)])
    both = _codes(honest, [f"b{b}" for b in range(2, 600, 15)])  # moved: new address and IP
    assert np.median(det.account_log10_p_[new_phone]) > np.log10(det.account_alpha)
    assert np.median(det.account_log10_p_[both]) < np.median(det.account_log10_p_[new_phone])


def test_an_export_without_devices_or_ips_is_refused():
    data = prepare(_table(_honest(np.random.default_rng(0)), columns=("ship_address",)))
    with pytest.raises(ValueError, match="lacks: one of device_id/buyer_ip"):
        AccountTakeoverDetector().fit(data)


def test_a_ring_smaller_than_min_size_is_not_reported(ringed):
    assert AccountTakeoverDetector(min_size=13).fit(ringed).groups_ == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4), max_size=12), st.lists(st.integers(-1, 3), max_size=40), st.integers(0, 2),
       st.randoms(use_true_random=False))
def test_adoptions_are_first_uses_after_the_history(sizes, raw, min_history, shuffle):
    values = np.array((raw * 3)[: sum(sizes)], dtype=np.int64)
    indptr = np.concatenate([[0], np.minimum(np.cumsum(sizes), len(values))]).astype(np.int64)
    order = np.arange(len(values))
    shuffle.shuffle(order)
    expected = np.zeros(len(values), dtype=bool)
    for g in range(len(sizes)):
        mine = values[order[indptr[g]:indptr[g + 1]]]
        for i, v in enumerate(mine):
            expected[indptr[g] + i] = v >= 0 and v not in mine[:i] and i >= min_history
    new, counts = adoptions(indptr, order, values, 4, min_history)
    assert new.tolist() == expected.tolist()
    assert counts.tolist() == np.bincount(values[order[expected]], minlength=4).tolist()


def test_pattern_pvalues_are_tails_of_the_independent_null():
    rates = np.array([0.6, 0.05, 0.2])
    got = pattern_pvalues(rates)
    patterns = list(itertools.product([0, 1], repeat=3))
    prob = {x: np.prod([r if b else 1 - r for r, b in zip(rates, x)]) for x in patterns}
    surprise = {x: sum(-np.log(r) for r, b in zip(rates, x) if b) for x in patterns}
    for code in range(8):
        x = tuple((code >> f) & 1 for f in range(3))
        assert got[code] == pytest.approx(sum(prob[y] for y in patterns if surprise[y] >= surprise[x] - 1e-12))
    assert got[0] == 1 and got[7] == pytest.approx(rates.prod())


def test_change_points_are_sidak_corrected_minima():
    indptr = np.array([0, 5, 7, 7])
    pvalues = np.array([0.001, 0.3, 0.02, 0.02, 0.5, 0.1, 1.0])
    at, p = change_points(indptr, pvalues, 2)
    assert at.tolist() == [2, -1, -1]  # the first of equal minima; history orders are never tested
    assert p == pytest.approx([1 - 0.98 ** 3, 1, 1])
