import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils.estimator_checks import parametrize_with_checks

from antifraud.detectors.promoted_shops import PromotedShopDetector, _crowd_evidence


def _background(rng, n_accounts=3000, n_shops=300, start=0):
    """Honest accounts buying 1-8 shops each, popular shops more often (power law)."""
    popularity = 1 / np.arange(1, n_shops + 1)
    popularity /= popularity.sum()
    rows, cols = [], []
    for a in range(n_accounts):
        k = int(rng.integers(1, 9))
        for c in rng.choice(n_shops, size=k, replace=False, p=popularity):
            rows.append(start + a)
            cols.append(int(c))
    return rows, cols


def _matrix(rows, cols, shape):
    return sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=shape)


def test_finds_a_co_purchase_ring_at_small_shops_and_nobody_else():
    rng = np.random.default_rng(1)
    rows, cols = _background(rng)
    ring = np.arange(3000, 3040)
    promoted = [290, 295, 299]  # three of the least popular shops
    for a in ring:
        for c in rng.choice(promoted, size=2, replace=False):
            rows.append(int(a))
            cols.append(int(c))
    det = PromotedShopDetector().fit(_matrix(rows, cols, (3040, 300)))
    assert len(det.groups_) == 1
    group = det.groups_[0]
    assert group.accounts.tolist() == ring.tolist()
    assert group.merchants.tolist() == promoted
    assert group.evidence["co_purchase"] == 1.0
    assert 0.5 < group.score < 1
    assert (det.merchant_scores_[promoted] > 0.5).all()
    assert det.merchant_scores_[np.setdiff1d(np.arange(300), promoted)].max() == 0
    assert (det.labels_[ring] == 0).all() and (det.labels_[:3000] == -1).all()


def test_honest_background_alone_gives_no_ring():
    rng = np.random.default_rng(2)
    rows, cols = _background(rng)
    det = PromotedShopDetector().fit(_matrix(rows, cols, (3000, 300)))
    assert det.groups_ == []
    assert det.merchant_scores_.max() == 0


def test_heavy_buyers_do_not_tie_shops_together():
    rng = np.random.default_rng(5)
    rows, cols = _background(rng)
    for a in range(3000, 3020):  # twenty accounts that buy at each of the 60 smallest shops
        rows += [a] * 60
        cols += list(range(240, 300))
    det = PromotedShopDetector(max_account_shops=50).fit(_matrix(rows, cols, (3020, 300)))
    assert det.groups_ == []


def test_a_one_shop_ring_is_found_through_its_suspicious_crowd():
    rng = np.random.default_rng(3)
    rows, cols = _background(rng)
    suspicion = rng.uniform(0, 0.95, size=3060)
    ring = np.arange(3000, 3050)
    rows += ring.tolist()
    cols += [298] * len(ring)
    suspicion[ring] = rng.uniform(0.9, 1, size=len(ring))
    X = _matrix(rows, cols, (3060, 300))
    honest_buyers = np.setdiff1d(X.tocsc()[:, [298]].nonzero()[0], ring)
    det = PromotedShopDetector().fit(X, suspicion=suspicion)
    assert len(det.groups_) == 1
    members = det.groups_[0].accounts
    assert det.groups_[0].evidence["co_purchase"] == 0.0
    assert set(ring) <= set(members)
    # Honest buyers of the shop join only if they are suspicious themselves and not far more
    # active than the ring's members (one shop each): at most three shops.
    degree = np.diff(X.tocsr().indptr)
    joined = {int(a) for a in honest_buyers if suspicion[a] >= 0.9 and degree[a] <= 3}
    assert set(members) - set(ring) == joined
    assert any(suspicion[a] >= 0.9 and degree[a] > 3 for a in honest_buyers)  # some were kept out
    # Without the suspicion there is nothing to see at a single shop.
    assert PromotedShopDetector().fit(X).groups_ == []


def test_same_input_same_result():
    rng = np.random.default_rng(4)
    rows, cols = _background(rng, 500, 50)
    X = _matrix(rows + [500, 500, 501, 501, 502, 502], cols + [48, 49] * 3, (503, 50))
    a, b = PromotedShopDetector().fit(X), PromotedShopDetector().fit(X)
    assert [g.accounts.tolist() for g in a.groups_] == [g.accounts.tolist() for g in b.groups_]
    np.testing.assert_array_equal(a.merchant_scores_, b.merchant_scores_)


@pytest.mark.parametrize("params", [
    {"alpha": 0}, {"alpha": 1.5}, {"min_shared": 0}, {"max_account_shops": 2.5},
    {"min_members": 0}, {"suspicion_threshold": 0}, {"max_degree_ratio": 0},
])
def test_bad_parameters_are_refused(params):
    with pytest.raises(ValueError):
        PromotedShopDetector(**params).fit(sp.eye(5, format="csr"))


def test_suspicion_must_match_the_accounts():
    with pytest.raises(ValueError, match="suspicion has shape"):
        PromotedShopDetector().fit(sp.eye(5, format="csr"), suspicion=np.zeros(4))


def test_crowd_evidence_stays_finite_far_in_the_tail():
    """A shop whose buyers are nearly all suspicious has a p-value below the smallest float; its
    evidence must stay finite (a ring's description prints it) and keep growing with the count."""
    evidence = _crowd_evidence(np.array([290, 1500, 2000]), np.array([2000, 2000, 2000]), 0.01)
    assert np.isfinite(evidence).all()
    assert 200 < evidence[0] < evidence[1] < evidence[2]


@parametrize_with_checks([PromotedShopDetector()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
