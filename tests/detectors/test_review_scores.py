import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from antifraud.detectors.ensemble import BrushingEnsemble
from antifraud.detectors.review_scores import (
    ReviewScorer,
    account_newness,
    coreview_pairs,
    excess_share,
    propagate_campaigns,
    rating_evidence,
)
from antifraud.features.data import prepare
from antifraud.graphs import shared_buyers

DAY = 86400


def _table(rows: list[tuple[str, str, int, float]]) -> pa.Table:
    """Canonical review orders from (buyer, shop, day, rating) tuples."""
    frame = pd.DataFrame(rows, columns=["buyer_id", "seller_id", "day", "rating"])
    return pa.table({
        "buyer_id": pa.array(frame["buyer_id"]).dictionary_encode(),
        "seller_id": pa.array(frame["seller_id"]).dictionary_encode(),
        "created_at": pa.array(frame["day"].to_numpy() * DAY, type=pa.int64()).cast(pa.timestamp("s", tz="UTC")),
        "rating": pa.array(frame["rating"], type=pa.float64()),
    })


def _organic(rng: np.random.Generator, n_buyers: int = 600, n_shops: int = 40) -> list[tuple]:
    """Established buyers reviewing popular shops over two years, ratings around 4."""
    popularity = 1 / np.arange(1, n_shops + 1)
    popularity /= popularity.sum()
    rows = []
    for b in range(n_buyers):
        for shop in rng.choice(n_shops, size=rng.integers(3, 9), replace=False, p=popularity):
            rows.append((f"b{b}", f"s{shop}", int(rng.integers(0, 730)), float(rng.choice([3, 4, 4, 5]))))
    return rows


def test_newness_falls_with_orders_and_active_days():
    rows = np.array([0, 1, 1, 2, 2])
    days = np.array([0, 4, 4, 1, 9])
    assert account_newness(rows, days * DAY, 4).tolist() == pytest.approx([1, 1 / np.sqrt(2), 0.5, 1])


def test_rating_evidence_ranks_a_deviant_extreme_rating_first():
    ratings = np.array([4, 4, 4, 4, 3, 1, 5, np.nan])
    cols = np.zeros(8, dtype=np.int64)
    evidence = rating_evidence(ratings, cols, 1, np.array([True] * 4 + [False] * 4))
    assert evidence.argmax() == 5 and evidence[7] == 0.5
    assert evidence[4] < evidence[6] < evidence[5]


def test_excess_share_is_zero_at_the_population_share_and_shrinks_small_groups():
    score, attributable = excess_share(np.array([10, 1, 30]), np.array([100, 1, 40]), prior=10)
    assert score[0] == 0 and attributable[0] == 0
    assert score[1] < score[2] and 0 < attributable[2] < 1


def test_coreview_pairs_finds_a_planted_block_not_popular_pairs():
    rng = np.random.default_rng(0)
    n_buyers, n_shops = 3000, 60
    rows, cols = (a.tolist() for a in _organic_orders(rng, n_buyers, n_shops, max_shops=5))
    block_buyers, block_shops = np.arange(20), np.arange(n_shops, n_shops + 5)
    for b in block_buyers:
        for s in rng.choice(block_shops, size=3, replace=False):
            rows.append(b)
            cols.append(s)
    adjacency = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_buyers, n_shops + 5))
    shared = shared_buyers(adjacency)
    pairs = coreview_pairs(shared, adjacency.shape[1], alpha=1e-4, min_lift=10)
    j, k = pairs.nonzero()
    assert j.size and np.isin(j, block_shops).all() and np.isin(k, block_shops).all()
    # Weighted by the share of shared buyers beyond ten times the expectation.
    lift = sp.csr_matrix((shared.lift, (shared.i, shared.j)), shape=pairs.shape)
    assert (pairs != pairs.T).nnz == 0
    assert np.allclose(pairs[j, k], 1 - 10 / (lift + lift.T)[j, k]) and (pairs.data < 1).all()


def test_orders_on_a_weak_pair_take_weaker_coreview_evidence():
    """Two groups co-review two shops each: six friends, whose pair passes the test at a lift of
    about 15, and a campaign of twelve, whose pair shares over a hundred times more buyers than
    chance; only the campaign's orders get strong evidence."""
    rng = np.random.default_rng(7)
    rows = _organic(rng, n_buyers=1500)
    rows += [(f"b{b}", f"friends{b % 2}", int(rng.integers(0, 730)), 5.0) for b in range(300, 340)]
    rows += [(f"b{b}", f"friends{k}", int(rng.integers(0, 730)), 5.0) for b in range(200, 206) for k in (0, 1)]
    rows += [(f"b{b}", f"promoted{k}", int(rng.integers(0, 730)), 5.0) for b in range(100, 112) for k in (0, 1)]
    data = prepare(_table(rows))
    scorer = ReviewScorer().fit(data)
    shop = data.graph.col_labels[data.order_cols].astype(str)
    friends, campaign = np.char.startswith(shop, "friends"), np.char.startswith(shop, "promoted")
    assert scorer.campaign_[campaign].min() > 0.9
    assert 0 < scorer.campaign_[friends].max() < 0.5  # on an excess pair, but a weak one


def test_planted_singleton_burst_gets_the_top_scores():
    rng = np.random.default_rng(1)
    rows = _organic(rng)
    rows += [(f"new{i}", "target", 100 + i % 30, 5.0) for i in range(15)]
    rows += [(f"b{b}", "target", int(rng.integers(0, 730)), 3.0) for b in range(3)]
    data = prepare(_table(rows))
    scorer = ReviewScorer().fit(data)
    target = int(np.flatnonzero(data.graph.col_labels == "target")[0])
    assert scorer.merchant_scores_.argmax() == target
    planted = np.flatnonzero(data.order_cols == target)[:15]
    assert set(np.argsort(-scorer.order_scores_)[:15]) == set(planted)
    new = np.flatnonzero(np.char.startswith(data.graph.row_labels.astype(str), "new"))
    assert scorer.account_scores_[new].min() > np.quantile(scorer.account_scores_, 0.9)


def test_hijacked_accounts_cobuying_small_shops_are_found():
    rng = np.random.default_rng(2)
    rows = _organic(rng)
    shops = [f"small{k}" for k in range(6)]
    rows += [(f"b{900 + k}", s, int(rng.integers(0, 730)), 4.0) for k, s in enumerate(shops)]
    hijacked = [f"b{b}" for b in range(20)]
    for b in hijacked:
        for s in rng.choice(shops, size=3, replace=False):
            rows.append((b, str(s), int(rng.integers(0, 730)), 5.0))
    data = prepare(_table(rows))
    scorer = ReviewScorer().fit(data)
    small = np.isin(data.graph.col_labels, shops)
    assert scorer.merchant_scores_[small].min() > scorer.merchant_scores_[~small].max()
    attackers = np.isin(data.graph.row_labels, hijacked)
    assert scorer.account_scores_[attackers].min() > np.quantile(scorer.account_scores_[~attackers], 0.95)
    assert (scorer.throwaway_[small] == 0).all()  # the accounts are old: caught by co-review alone


def test_without_ratings_scores_come_from_accounts_and_clone_keeps_params():
    table = _table([("a", "s", 0, 5.0), ("b", "s", 1, 5.0), ("b", "t", 9, 4.0)]).drop_columns(["rating"])
    scorer = ReviewScorer(prior_orders=5.0).fit(prepare(table))
    assert (scorer.evidence_ == 0.5).all()
    assert scorer.account_scores_[0] > scorer.account_scores_[1]
    assert clone(scorer).get_params()["prior_orders"] == 5.0


def _organic_orders(
    rng: np.random.Generator, n_buyers: int = 2000, n_shops: int = 60, max_shops: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Account and shop codes of organic orders: 1 to ``max_shops`` distinct popular shops per account."""
    popularity = 1 / np.arange(1, n_shops + 1)
    rows, cols = [], []
    for b in range(n_buyers):
        shops = rng.choice(n_shops, size=rng.integers(1, max_shops + 1), replace=False, p=popularity / popularity.sum())
        rows += [b] * len(shops)
        cols += shops.tolist()
    return np.array(rows), np.array(cols)


def _with_campaign(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Organic orders, then 30 organic accounts caught at shop 60 that also promote shops 61-63
    (one or two orders each), and 3 honest buyers of shop 61; base campaign evidence only at 60."""
    rows, cols = _organic_orders(rng)
    extra_rows, extra_cols = [], []
    for b in range(30):
        extra_rows += [b] * 3
        extra_cols += [60, *rng.choice([61, 62, 63], size=2, replace=False)]
    extra_rows += [100, 101, 102]
    extra_cols += [61, 61, 61]
    rows, cols = np.r_[rows, extra_rows], np.r_[cols, extra_cols]
    campaign = np.where(cols == 60, 0.9, 0.0)
    return rows, cols, campaign


def test_propagation_lifts_a_campaigns_orders_at_its_other_shops_above_organic_ones():
    rows, cols, campaign = _with_campaign(np.random.default_rng(3))
    propagated, linked = propagate_campaigns(
        campaign, rows, cols, np.ones(len(rows), bool), rows.max() + 1, 64, prior=10, alpha=1e-4
    )
    promoted = np.isin(cols, [61, 62, 63])
    planted = promoted & (rows < 30)
    assert propagated[planted].min() > 0.3
    assert propagated[~planted & (cols != 60)].max() < 0.05  # honest buyers of 61 and organic orders stay clean
    assert linked[[61, 62, 63]].min() > linked[:60].max()
    assert (propagated[cols == 60] == 0).all()  # the evidence never comes back to where it came from


def test_propagation_ignores_negative_orders_and_is_deterministic():
    rows, cols, campaign = _with_campaign(np.random.default_rng(4))
    negative = ~np.isin(cols, [61, 62, 63])
    args = (campaign, rows, cols, negative, rows.max() + 1, 64)
    propagated, linked = propagate_campaigns(*args, prior=10, alpha=1e-4)
    again, linked_again = propagate_campaigns(*args, prior=10, alpha=1e-4)
    assert (propagated == again).all() and (linked == linked_again).all()
    assert (propagated[~negative] == 0).all() and (linked[[61, 62, 63]] == 0).all()


def test_propagation_leaves_scattered_evidence_nearly_unchanged():
    rng = np.random.default_rng(5)
    rows, cols = _organic_orders(rng)
    # Noise, unrelated to which shops the accounts share: what organic data gives the base scores.
    campaign = np.where(rng.random(len(rows)) < 0.05, rng.uniform(0, 0.5, len(rows)), 0.0)
    propagated, linked = propagate_campaigns(
        campaign, rows, cols, np.ones(len(rows), bool), rows.max() + 1, 60, prior=10, alpha=1e-4
    )
    out = np.maximum(campaign, propagated)
    assert np.abs(out - campaign).max() < 0.1 and np.abs(out - campaign).mean() < 1e-3
    assert linked.max() < 0.1


def test_scorer_finds_accounts_promoting_a_campaigns_other_shops():
    rng = np.random.default_rng(6)
    rows = _organic(rng)
    burst = [(f"new{i}", "hot", 200, 5.0) for i in range(15)]  # a throwaway campaign at "hot"
    # Sixteen hijacked accounts join it: with ten, one quiet shop's pair with "hot" has a lift of
    # only 16, weak co-review evidence against the test's limit of 10, and no excess to propagate.
    rows += burst + [(f"b{b}", "hot", 200, 5.0) for b in range(40, 56)]
    rows += [(f"b{b}", f"quiet{b % 2}", int(rng.integers(0, 730)), 5.0) for b in range(40, 56)]
    rows += [(f"b{b}", "quiet0", int(rng.integers(0, 730)), 4.0) for b in range(300, 303)]
    data = prepare(_table(rows))
    scorer = ReviewScorer().fit(data)
    hijacked = np.isin(data.graph.row_labels, [f"b{b}" for b in range(40, 56)])
    quiet = np.isin(data.graph.col_labels, ["quiet0", "quiet1"])
    outside = ~quiet & (data.graph.col_labels != "hot")
    assert scorer.linked_[quiet].min() > 0 and (scorer.linked_[outside] == 0).all()
    established = np.bincount(data.order_rows, minlength=data.graph.n_rows) >= 3
    assert scorer.account_scores_[hijacked].min() > scorer.account_scores_[established & ~hijacked].max()
    assert scorer.propagated_account_scores_[hijacked].min() > 0.5
    assert (scorer.propagated_account_scores_[~hijacked] == 0).all()


def test_ensemble_adds_propagated_campaign_evidence_to_an_accounts_own():
    """Without rings, hijacked accounts still rank above all established honest accounts: their
    propagated evidence adds to their own instead of being capped with it at ``feature_weight``."""
    rng = np.random.default_rng(6)
    rows = _organic(rng)
    rows += [(f"new{i}", "hot", 200, 5.0) for i in range(15)] + [(f"b{b}", "hot", 200, 5.0) for b in range(40, 50)]
    rows += [(f"b{b}", f"quiet{b % 2}", int(rng.integers(0, 730)), 5.0) for b in range(40, 50)]
    data = prepare(_table(rows))
    ensemble = BrushingEnsemble(min_ring_score=1.01, random_state=0).fit(data)  # no rings
    assert not ensemble.rings_
    hijacked = np.isin(data.graph.row_labels, [f"b{b}" for b in range(40, 50)])
    established = np.bincount(data.order_rows, minlength=data.graph.n_rows) >= 3
    # Outside reported rings a score is half the account's evidence (the other half is for rings).
    evidence = 2 * ensemble.account_scores_
    assert evidence[established & ~hijacked].max() <= ensemble.feature_weight
    # Above the cap the maximum would set; their own campaign orders count at campaign_weight.
    assert evidence[hijacked].min() > ensemble.feature_weight + 0.05


def test_campaign_evidence_enters_orders_and_accounts_at_its_weight():
    rng = np.random.default_rng(1)
    rows = _organic(rng) + [(f"new{i}", "target", 100 + i % 30, 5.0) for i in range(15)]
    data = prepare(_table(rows))
    full, half, none = (ReviewScorer(campaign_weight=w).fit(data) for w in (1.0, 0.5, 0.0))
    assert half.campaign_.max() > 0.3  # the burst is a campaign
    np.testing.assert_allclose(none.order_scores_, none.own_scores_)
    np.testing.assert_allclose(half.order_scores_, 1 - (1 - half.own_scores_) * (1 - 0.5 * half.campaign_))
    campaign = half.campaign_ > 0
    assert (full.order_scores_[campaign] > half.order_scores_[campaign]).all()
    np.testing.assert_array_equal(full.order_scores_[~campaign], half.order_scores_[~campaign])
    assert (full.account_scores_ >= half.account_scores_).all()
    np.testing.assert_array_equal(full.propagated_account_scores_, half.propagated_account_scores_)


def test_on_a_review_only_export_behaviour_counts_for_its_coverage():
    """Review data informs 7 of the 12 behaviour features; the review evidence adds to the
    discounted behaviour (a sum of the two, checked exactly, no rings being found here), and a
    one-review campaign ranks above every established account."""
    rng = np.random.default_rng(1)
    rows = _organic(rng) + [(f"new{i}", "target", 100 + i % 30, 5.0) for i in range(15)]
    rows += [(f"one{i}", f"s{rng.integers(0, 40)}", int(rng.integers(0, 730)), float(rng.choice([1, 5])))
             for i in range(300)]
    data = prepare(_table(rows))
    # Without the rating-anomaly step, which finds the campaign as a ring of its own.
    ensemble = BrushingEnsemble(random_state=0).set_params(rating_anomalies="drop").fit(data)
    assert ensemble.behaviour_weight_ == 7 / 12
    own = 1 - (1 - ensemble.behaviour_weight_ * ensemble.behaviour_) * (1 - ensemble.reviews_.account_scores_)
    assert not ensemble.candidates_  # no rings here: a score is half the account's own evidence
    np.testing.assert_allclose(2 * ensemble.account_scores_, 1 - (1 - ensemble.feature_weight * own) * (
        1 - ensemble.feature_weight * ensemble.reviews_.propagated_account_scores_))
    new = np.char.startswith(data.graph.row_labels.astype(str), "new")
    established = np.bincount(data.order_rows, minlength=data.graph.n_rows) >= 3
    assert ensemble.account_scores_[new].min() > ensemble.account_scores_[established].max()
