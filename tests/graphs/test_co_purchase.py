import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.graphs.co_purchase import shared_buyers


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6))
def test_shared_counts_match_a_set_intersection_reference(seed, cap):
    rng = np.random.default_rng(seed)
    X = sp.random(30, 8, density=0.3, random_state=rng, format="csr")
    pairs = shared_buyers(X, max_account_shops=cap, min_shared=1)
    dense = X.toarray() > 0
    kept = dense[dense.sum(axis=1) <= cap]
    reference = {(i, j): int((kept[:, i] & kept[:, j]).sum()) for i in range(8) for j in range(i + 1, 8)}
    found = dict(zip(zip(pairs.i.tolist(), pairs.j.tolist()), pairs.observed.tolist()))
    assert found == {k: v for k, v in reference.items() if v >= 1}
    assert pairs.n_tested == len(found)
    # Expectation: n_i n_j sum d(d-1) / (sum d)^2 over the kept accounts.
    d = kept.sum(axis=1)
    n = kept.sum(axis=0)
    if d.sum():
        np.testing.assert_allclose(pairs.expected, n[pairs.i] * n[pairs.j] * (d * (d - 1)).sum() / d.sum() ** 2)


def test_a_ring_of_small_shops_has_a_large_lift_and_a_tiny_pvalue():
    rng = np.random.default_rng(0)
    rows = np.repeat(np.arange(2000), 3)
    cols = rng.integers(0, 200, size=len(rows))
    ring = np.arange(2000, 2020)
    rows = np.r_[rows, ring, ring]
    cols = np.r_[cols, np.full(20, 200), np.full(20, 201)]
    X = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(2020, 202))
    pairs = shared_buyers(X, min_shared=3)
    at = np.flatnonzero((pairs.i == 200) & (pairs.j == 201))[0]
    assert pairs.observed[at] == 20
    assert pairs.lift[at] > 100 and pairs.log10_pvalue()[at] > 30
    others = np.ones(len(pairs.i), bool)
    others[at] = False
    assert pairs.lift[others].max() < 20


def test_pairs_counted_with_other_parameters_are_refused():
    import pytest

    from antifraud.detectors import PromotedShopDetector

    X = sp.random(40, 10, density=0.3, random_state=0, format="csr")
    shared = shared_buyers(X, max_account_shops=100, min_shared=2)
    with pytest.raises(ValueError, match="max_account_shops=100"):
        PromotedShopDetector(max_account_shops=50).fit(X, shared=shared)
    with pytest.raises(ValueError, match="min_shared <= 1"):
        PromotedShopDetector(min_shared=1).fit(X, shared=shared)
    given = PromotedShopDetector().fit(X, shared=shared)
    counted = PromotedShopDetector().fit(X)
    np.testing.assert_array_equal(given.shop_scores_, counted.shop_scores_)
