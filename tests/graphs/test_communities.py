import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.graphs.communities import quantile_by_label


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.floats(0, 1))
def test_quantile_by_label_matches_numpy_percentile(seed, q):
    rng = np.random.default_rng(seed)
    labels = rng.integers(-1, 6, size=60)
    values = rng.normal(size=60)
    values[rng.random(60) < 0.2] = np.nan
    got = quantile_by_label(labels, values, q, 6)
    for label in range(6):
        mine = values[(labels == label) & ~np.isnan(values)]
        expected = np.percentile(mine, 100 * q) if mine.size else np.nan
        np.testing.assert_allclose(got[label], expected, equal_nan=True)
