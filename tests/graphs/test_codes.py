import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.graphs.codes import compact


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 300), st.integers(1, 5000), st.integers(0, 2**32 - 1))
def test_compact_is_unique_with_inverse_by_counting_or_sorting(n, n_keys, seed):
    # n_keys up to 5000 against at most 300 keys crosses the switch from counting to sorting.
    keys = np.random.default_rng(seed).integers(0, n_keys, n)
    values, inverse = compact(keys, n_keys)
    expected_values, expected_inverse = np.unique(keys, return_inverse=True)
    assert values.tolist() == expected_values.tolist()
    assert inverse.tolist() == expected_inverse.tolist()
