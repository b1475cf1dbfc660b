import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.graphs.products import upper_product


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 9), st.floats(0, 0.6), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_upper_product_is_the_product_above_the_diagonal(n_accounts, n_shops, density, min_observed, seed):
    rng = np.random.default_rng(seed)
    B = (rng.random((n_accounts, n_shops)) < density) * rng.integers(1, 4, (n_accounts, n_shops))
    S = (B > 0).T.astype(int)  # which accounts bought at each shop; R weighs them
    i, j, values, n_nonzero = upper_product(sp.csr_array(S), sp.csr_array(B), min_observed)
    full = np.triu(S @ B, k=1)
    want_i, want_j = np.nonzero((full >= min_observed) & (full > 0))  # row-major: ascending (i, j)
    assert (i.tolist(), j.tolist()) == (want_i.tolist(), want_j.tolist())
    assert values.tolist() == full[want_i, want_j].astype(float).tolist()
    assert n_nonzero == int((full > 0).sum())
