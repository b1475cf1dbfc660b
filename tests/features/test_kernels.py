import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.features.kernels import (
    distinct_count,
    gap_quantile,
    group_by,
    group_mean,
    group_quantile,
    max_in_window,
    scatter_max,
    top_k_share,
)

CASES = st.tuples(st.integers(1, 12), st.integers(0, 80), st.integers(0, 2**32 - 1))


def random_groups(n_groups, n, seed):
    rng = np.random.default_rng(seed)
    keys = rng.integers(-1, n_groups, n)
    times = rng.integers(0, 20_000, n)
    values = np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n))
    return keys, times, values


def members(keys, g, times=None):
    idx = [i for i in range(len(keys)) if keys[i] == g]
    return sorted(idx, key=lambda i: (times[i], i)) if times is not None else idx


def nearest_rank(values, q):
    values = sorted(values)
    return values[int(q * (len(values) - 1))] if values else np.nan


@settings(max_examples=80, deadline=None)
@given(CASES)
def test_group_by(case):
    keys, times, _ = random_groups(*case)
    indptr, order = group_by(keys, case[0], times=times)
    for g in range(case[0]):
        assert order[indptr[g] : indptr[g + 1]].tolist() == members(keys, g, times)


@settings(max_examples=80, deadline=None)
@given(CASES, st.sampled_from([1, 60, 3600]))
def test_max_in_window(case, window):
    keys, times, _ = random_groups(*case)
    indptr, order = group_by(keys, case[0], times=times)
    got = max_in_window(indptr, times[order], window)
    for g in range(case[0]):
        t = [times[i] for i in members(keys, g)]
        expected = max((sum(1 for u in t if s <= u < s + window) for s in t), default=0)
        assert got[g] == expected


@settings(max_examples=80, deadline=None)
@given(CASES, st.sampled_from([0.0, 0.5, 1.0]))
def test_gap_and_value_quantiles(case, q):
    keys, times, values = random_groups(*case)
    indptr, order = group_by(keys, case[0], times=times)
    gaps = gap_quantile(indptr, times[order].astype(np.int64), q)
    quant = group_quantile(indptr, order, values, q)
    means = group_mean(indptr, order, values)
    for g in range(case[0]):
        t = sorted(times[i] for i in members(keys, g))
        np.testing.assert_equal(gaps[g], nearest_rank([b - a for a, b in zip(t, t[1:])], q))
        v = [values[i] for i in members(keys, g) if not np.isnan(values[i])]
        np.testing.assert_equal(quant[g], nearest_rank(v, q))
        np.testing.assert_allclose(means[g], np.mean(v) if v else np.nan)


@settings(max_examples=80, deadline=None)
@given(CASES, st.integers(1, 4))
def test_top_k_share_and_distinct(case, k):
    keys, times, _ = random_groups(*case)
    indptr, order = group_by(keys, case[0])
    weights = (times % 7).astype(np.int64)
    shares = top_k_share(indptr, weights[order], k)
    distinct = distinct_count(indptr, order, times % 5, 5)
    for g in range(case[0]):
        w = sorted((weights[i] for i in members(keys, g)), reverse=True)
        assert shares[g] == pytest.approx(sum(w[:k]) / sum(w) if sum(w) else 0.0)
        assert distinct[g] == len({times[i] % 5 for i in members(keys, g)})


@settings(max_examples=80, deadline=None)
@given(CASES)
def test_scatter_max(case):
    keys, _, values = random_groups(*case)
    keep = keys >= 0
    got = scatter_max(keys[keep], values[keep], case[0])
    for g in range(case[0]):
        v = [values[i] for i in members(keys, g) if not np.isnan(values[i])]
        np.testing.assert_equal(got[g], max(v) if v else np.nan)
