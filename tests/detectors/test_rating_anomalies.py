import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import scipy.sparse as sp
from scipy.stats import betabinom

from antifraud.detectors.rating_anomalies import (
    RatingAnomalyDetector,
    _established,
    beta_binomial_log_sf,
    robust_prior,
    volume_prior,
)
from antifraud.features.data import prepare

DAY = 86400


def _table(rows: list[tuple[str, str, float, float]]) -> pa.Table:
    """Canonical review orders from (buyer, shop, day, rating) tuples (days may be fractional)."""
    frame = pd.DataFrame(rows, columns=["buyer_id", "seller_id", "day", "rating"])
    return pa.table({
        "buyer_id": pa.array(frame["buyer_id"]).dictionary_encode(),
        "seller_id": pa.array(frame["seller_id"]).dictionary_encode(),
        "created_at": pa.array((frame["day"].to_numpy() * DAY).astype(np.int64)).cast(pa.timestamp("s", tz="UTC")),
        "rating": pa.array(frame["rating"], type=pa.float64()),
    })


def _organic(seed: int = 0, n_buyers: int = 1500, n_shops: int = 30, days: int = 120) -> list[tuple]:
    """Buyers ordering a few times over ``days`` at shops of very different sizes; most shops
    rate around 4.3 stars, shop s20 (one of the small ones) is steadily 98 % five-star."""
    rng = np.random.default_rng(seed)
    popularity = 1 / np.arange(1, n_shops + 1)
    popularity /= popularity.sum()
    mixed, five_star = [0.04, 0.03, 0.08, 0.3, 0.55], [0.005, 0.005, 0.0, 0.01, 0.98]
    rows = []
    for b in range(n_buyers):
        for shop in rng.choice(n_shops, size=rng.integers(2, 9), p=popularity):
            stars = rng.choice(5, p=five_star if shop == 20 else mixed) + 1
            rows.append((f"b{b}", f"s{shop}", float(rng.uniform(0, days)), float(stars)))
    return rows


def _burst(prefix: str, shop: str, n: int, day: float, rating: float, span: float = 1.0, seed: int = 1) -> list:
    """``n`` new accounts, one rating each at ``shop`` within ``span`` days from ``day``."""
    rng = np.random.default_rng(seed)
    return [(f"{prefix}{i}", shop, day + float(rng.uniform(0, span)), rating) for i in range(n)]


def _fit(rows: list[tuple], **params) -> tuple[RatingAnomalyDetector, object]:
    data = prepare(_table(rows))
    return RatingAnomalyDetector(**params).fit(data), data


def _codes(labels: np.ndarray, names: list[str]) -> np.ndarray:
    return np.flatnonzero(np.isin(labels, names))


@pytest.mark.parametrize("x, n, a, b", [(0, 10, 2.0, 5.0), (3, 10, 2.0, 5.0), (9, 10, 0.5, 9.0),
                                        (10, 10, 0.3, 0.4), (40, 200, 3.0, 60.0), (1, 1, 1.0, 1.0)])
def test_beta_binomial_tail_matches_scipy(x, n, a, b):
    got = beta_binomial_log_sf(np.array([x]), np.array([n]), np.array([a]), np.array([b]))[0]
    assert got == pytest.approx(np.log(betabinom.sf(x - 1, n, a, b)), rel=1e-9, abs=1e-12)


def test_beta_binomial_tail_does_not_underflow():
    """An attack's tail is far below the smallest double; its log stays finite and ordered."""
    x, n = np.array([300, 400]), np.array([400, 400])
    logs = beta_binomial_log_sf(x, n, np.array([1.0, 1.0]), np.array([2000.0, 2000.0]))
    assert betabinom.sf(299, 400, 1.0, 2000.0) == 0  # scipy's underflows
    assert np.isfinite(logs).all() and logs[1] < logs[0] < np.log(1e-290)
    assert logs[1] == pytest.approx(betabinom.logpmf(400, 400, 1.0, 2000.0))


def test_volume_prior_precision_follows_the_spread_of_similar_shops():
    rng = np.random.default_rng(0)
    alike = rng.multinomial(64, [0.1, 0.2, 0.7], size=50)  # one distribution, multinomial noise
    spread = np.array([rng.multinomial(64, rng.dirichlet([1, 1, 1])) for _ in range(50)])
    classes, mean, strong = volume_prior(alike)
    _, _, weak = volume_prior(spread)
    assert (classes == 6).all()  # 64 ratings each
    assert mean[6] == pytest.approx([0.1, 0.2, 0.7], abs=0.02)
    assert strong[6] > 30 * weak[6]
    assert weak[6] == pytest.approx(3, rel=0.5)  # Dirichlet(1, 1, 1) has precision 3
    # Sparse counts (shops x days) give the same prior as dense ones.
    assert all(np.array_equal(a, b) for a, b in zip(volume_prior(sp.csr_matrix(spread)), volume_prior(spread)))


def test_a_burst_of_one_star_reviews_from_new_accounts_is_an_attack_with_the_shop_as_victim():
    rows = _organic() + _burst("attacker", "s5", 30, 60.0, 1.0)
    detector, data = _fit(rows)
    assert len(detector.groups_) == 1
    group = detector.groups_[0]
    shop = _codes(data.graph.col_labels, ["s5"])
    assert group.kind == "negative_attack" and group.victims.tolist() == shop.tolist() and group.merchants.size == 0
    assert set(data.graph.row_labels[group.accounts]) == {f"attacker{i}" for i in range(30)}
    assert group.evidence["log10_p"] <= np.log10(0.01)
    # The shop's own one-star raters of those days are there too, established: not members.
    assert group.evidence["established_raters"] < group.evidence["expected_established"] / 4
    assert group.score > 0.99 and detector.merchant_scores_.max() == 0  # a victim is never scored
    assert (detector.account_scores_[group.accounts] == group.score).all()
    assert np.count_nonzero(detector.account_scores_) == 30


def test_a_quality_incident_among_the_shops_own_customers_is_no_attack():
    """A bad batch: thirty of the shop's earlier buyers buy again and rate it one star within two days."""
    rows = _organic()
    frame = pd.DataFrame(rows, columns=["buyer", "shop", "day", "rating"])
    regulars = frame.loc[(frame["shop"] == "s5") & (frame["day"] < 40), "buyer"].unique()[:30]
    assert len(regulars) == 30
    rng = np.random.default_rng(2)
    incident = [(b, "s5", 60.0 + float(rng.uniform(0, 2)), 1.0) for b in regulars]
    detector, _ = _fit(rows + incident)
    assert detector.groups_ == [] and detector.account_scores_.max() == 0
    # The same burst from new accounts is an attack: the raters, not the shift, tell them apart.
    attacked, _ = _fit(rows + _burst("attacker", "s5", 30, 60.0, 1.0, span=2.0))
    assert [g.kind for g in attacked.groups_] == ["negative_attack"]


def test_honest_traffic_makes_no_groups():
    """A steadily 98 % five-star shop, shops of every size, and a festival day at triple volume."""
    rows = _organic(seed=3)
    rng = np.random.default_rng(4)
    festival = [(f"b{rng.integers(1500)}", r[1], 80 + float(rng.uniform(0, 1)), r[3]) for r in rows[::2]]
    detector, data = _fit(rows + festival)
    assert detector.groups_ == []
    assert not detector.account_scores_.any() and not detector.merchant_scores_.any()
    assert not detector.order_scores_.any()


def test_a_burst_of_five_star_reviews_from_new_accounts_promotes_the_shop():
    rows = [r for r in _organic() if r[1] != "s8"]
    rng = np.random.default_rng(5)
    rows += [(f"b{i}", "s8", float(rng.uniform(0, 120)), float(rng.choice([1, 3, 4, 5]))) for i in range(40)]
    detector, data = _fit(rows + _burst("paid", "s8", 25, 90.0, 5.0))
    assert [g.kind for g in detector.groups_] == ["dense_block"]
    group = detector.groups_[0]
    shop = _codes(data.graph.col_labels, ["s8"])
    assert group.merchants.tolist() == shop.tolist() and group.victims.size == 0
    assert set(data.graph.row_labels[group.accounts]) == {f"paid{i}" for i in range(25)}
    assert detector.merchant_scores_[shop] == group.score and np.count_nonzero(detector.merchant_scores_) == 1
    carried = np.flatnonzero(detector.order_scores_)
    assert set(data.graph.row_labels[data.order_rows[carried]]) == {f"paid{i}" for i in range(25)}


def test_an_attack_spread_over_a_week_is_found_in_a_longer_window():
    rows = _organic() + _burst("attacker", "s5", 40, 50.0, 1.0, span=7.0)
    detector, data = _fit(rows)
    assert [g.kind for g in detector.groups_] == ["negative_attack"]
    assert set(data.graph.row_labels[detector.groups_[0].accounts]) == {f"attacker{i}" for i in range(40)}
    assert detector.groups_[0].details["days"] == 7  # the burst, not the episode's longest window
    # One-day windows see five or six new one-star raters a day: the week falls apart into days.
    days = _fit(rows, max_window_days=1)[0].groups_
    assert days and all(g.details["days"] == 1 and g.accounts.size < 10 for g in days)


def test_small_groups_are_not_reported():
    rows = _organic() + _burst("attacker", "s5", 12, 60.0, 1.0)
    assert len(_fit(rows)[0].groups_) == 1
    assert _fit(rows, min_size=13)[0].groups_ == []


def test_a_five_star_burst_at_a_five_star_shop_shows_in_its_new_raters():
    """Shop s20 is 98 % five-star: 25 more five-star ratings in a day shift nothing in its ratings,
    but they are new accounts' and the share of its ratings from new raters jumps. The same burst
    from the shop's own regulars (fans at a new product's drop) is no group."""
    rows = _organic()
    detector, data = _fit(rows + _burst("paid", "s20", 25, 90.0, 5.0))
    assert [g.kind for g in detector.groups_] == ["dense_block"]
    evidence = detector.groups_[0].evidence
    assert evidence["log10_p"] < np.log10(0.01) and evidence["log10_p_shift"] < np.log10(0.01)
    assert data.graph.col_labels[detector.groups_[0].merchants].tolist() == ["s20"]
    assert {f"paid{i}" for i in range(25)} <= set(data.graph.row_labels[detector.groups_[0].accounts])
    frame = pd.DataFrame(rows, columns=["buyer", "shop", "day", "rating"])
    fans = frame.loc[(frame["shop"] == "s20") & (frame["day"] < 60), "buyer"].unique()[:25]
    drop = [(b, "s20", 90.0 + i / 100, 5.0) for i, b in enumerate(fans)]
    assert _fit(rows + drop)[0].groups_ == []


def _long_lived(prefix: str, shop: str, n: int, day: float, span: float, seed: int = 7) -> list:
    """``n`` accounts with one order elsewhere at some other time of the export (their cover) and
    one one-star rating at ``shop`` within ``span`` days from ``day``: a hard attack's raters."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        rows.append((f"{prefix}{i}", shop, day + float(rng.uniform(0, span)), float(rng.choice([1.0, 2.0]))))
        rows.append((f"{prefix}{i}", f"s{rng.integers(0, 5)}", float(rng.uniform(0, 120)), np.nan))
    return rows


def test_long_lived_attackers_with_a_cover_order_are_new_raters():
    """Twelve attackers over two weeks, each with one order elsewhere: where one order a week away
    makes a rater established (``established_orders=1``) most of them are and the attack is lost;
    by default they are new raters and the attack is found."""
    rows = _organic() + _long_lived("attacker", "s5", 12, 60.0, 14.0)
    detector, data = _fit(rows)
    assert [g.kind for g in detector.groups_] == ["negative_attack"]
    members = set(data.graph.row_labels[detector.groups_[0].accounts])
    attackers = {f"attacker{i}" for i in range(12)}
    assert len(members & attackers) / len(members | attackers) >= 0.75
    assert _fit(rows, established_orders=1)[0].groups_ == []


def test_a_product_drop_whose_fans_are_partly_thin_accounts_is_no_group():
    """A drop at s3: 90 of its regulars and 60 accounts of at most three orders (new to the shop,
    little life elsewhere) rate five stars on one day. The burst is real, and its raters are new
    more often than other shops' raters, significantly; but not by ``min_lift`` times the odds, as
    a promotion's paid raters are."""
    rows = _organic()
    frame = pd.DataFrame(rows, columns=["buyer", "shop", "day", "rating"])
    regulars = frame.loc[(frame["shop"] == "s3") & (frame["day"] < 80), "buyer"].unique()
    orders = frame.groupby("buyer").size()
    thin = np.setdiff1d(orders.index[orders <= 3], regulars)
    rng = np.random.default_rng(8)
    fans = [*rng.permutation(regulars)[:90], *rng.permutation(thin)[:60]]
    drop = [(b, "s3", 90.0 + float(rng.uniform(0, 0.1)), 5.0) for b in fans]
    assert _fit(rows + drop)[0].groups_ == []
    assert [g.kind for g in _fit(rows + drop, min_lift=1.0)[0].groups_] == ["dense_block"]
    assert _fit(rows + _burst("paid", "s3", 30, 90.0, 5.0, span=0.1))[0].groups_  # new accounts are a group


def test_established_raters_bought_at_the_shop_or_live_elsewhere():
    rows = [("regular", "s0", 0.0, np.nan), ("regular", "s0", 20.0, 1.0),       # came back to s0
            ("busy", "s1", 1.0, np.nan), ("busy", "s2", 2.0, np.nan), ("busy", "s3", 40.0, np.nan),
            ("busy", "s0", 20.0, 1.0),                                            # three orders a week away
            ("cover", "s4", 50.0, np.nan), ("cover", "s0", 20.0, 1.0),            # one order elsewhere
            ("burst", "s0", 20.0, 1.0), ("burst", "s0", 21.0, 1.0),              # two at s0 in two days
            ("early", "s0", 19.0, 1.0), ("early", "s1", 19.5, np.nan)]
    data = prepare(_table(rows))
    rated = np.flatnonzero(~np.isnan(data.ratings))
    established = _established(data, rated, 7 * DAY, 3)
    who = data.graph.row_labels[data.order_rows[rated]]
    assert dict(zip(who, established)) == {"regular": True, "busy": True, "cover": False, "burst": False,
                                           "early": False}


def test_robust_prior_is_learned_without_the_attacked_shops():
    rng = np.random.default_rng(0)
    n = rng.integers(100, 128, size=60)
    x = rng.binomial(n, 0.01)
    x[:3] = [15, 20, 40]  # attacked shops
    counts = np.column_stack([x, n - x])
    classes, mean, precision = robust_prior(counts, 0.01)
    _, _, weak = volume_prior(counts)
    assert (classes == 6).all() and mean[6, 0] == pytest.approx(0.01, abs=0.005)
    assert precision[6] > 20 * weak[6]
    # Without outliers it is the plain prior.
    honest = counts[3:]
    assert all(np.allclose(a, b) for a, b in zip(robust_prior(honest, 0.01), volume_prior(honest)))


def test_new_raters_of_a_drop_rating_like_everyone_are_no_group():
    """A drop at s3 brings 120 fans, 90 of them thin accounts new to the shop: far more new raters
    than the market's, in every band. They rate as the shop's customers do, so its five-star
    raters are no newer than its other raters then: no group. Had the thin ones alone rated five
    stars (paid raters among the fans), the five-star band's new raters would be a group."""
    rows = _organic()
    frame = pd.DataFrame(rows, columns=["buyer", "shop", "day", "rating"])
    regulars = frame.loc[(frame["shop"] == "s3") & (frame["day"] < 80), "buyer"].unique()
    orders = frame.groupby("buyer").size()
    rng = np.random.default_rng(9)
    thin = rng.permutation(np.setdiff1d(orders.index[orders <= 2], regulars))[:90]
    fans = [*rng.permutation(regulars)[:30], *thin]
    times = 90.0 + rng.uniform(0, 0.1, size=len(fans))
    like_everyone = rng.choice(5, size=len(fans), p=[0.04, 0.03, 0.08, 0.3, 0.55]) + 1.0
    drop = [(b, "s3", float(t), float(r)) for b, t, r in zip(fans, times, like_everyone)]
    assert _fit(rows + drop)[0].groups_ == []
    paid = [(b, "s3", t, 5.0 if b in set(thin) else r) for b, _, t, r in drop]
    groups = _fit(rows + paid)[0].groups_
    assert [g.kind for g in groups] == ["dense_block"]
