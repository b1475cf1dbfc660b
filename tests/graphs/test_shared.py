import dataclasses

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.graphs import shared_groups

# Accounts 0-2 are a household on one phone; 0-29 order behind one office IP (1 / 29 each
# pair), and 0, 1 and 30-57 share a parcel station's address (1 / 29 each pair).
ACCOUNTS = np.r_[0, 1, 2, np.arange(30), 0, 1, np.arange(30, 58)]
PHONE = np.r_[0, 0, 0, np.full(60, -1)]
IP = np.r_[-1, -1, -1, np.zeros(30, dtype=int), np.full(30, -1)]
ADDRESS = np.r_[np.full(33, -1), np.zeros(30, dtype=int)]
GROUPS = shared_groups(58, [(ACCOUNTS, PHONE, 1), (ACCOUNTS, IP, 1), (ACCOUNTS, ADDRESS, 1)])


def test_weak_pairs_are_left_out_unless_their_sum_reaches_min_weight():
    strong = GROUPS.links(min_weight=0.05)
    assert strong[0, 1] == 0.5 + 2 / 29  # the phone, the IP and the address
    assert strong[0, 2] == strong[1, 2] == 0.5 + 1 / 29  # the phone and the IP
    assert strong.nnz == 6  # nothing else: 1 / 29 < 0.05 alone
    assert GROUPS.links().nnz == 2 * (3 + 29 * 30 // 2 + 29 * 30 // 2 - 3 - 1)  # 0-1 on all three


def test_degree_is_the_links_row_sums_and_counts_the_groups():
    degree = GROUPS.degree()
    assert np.array_equal(degree, np.asarray(GROUPS.links().sum(axis=1)).ravel())
    assert degree.round(12).tolist() == [3, 3, 2] + [1] * 55  # each group gives 1 / (k - 1) to k - 1 others


def test_internal_weight_sums_the_links_inside_each_label():
    labels = np.r_[0, 0, 0, np.full(27, 1), np.full(28, -1)]
    weight = GROUPS.internal_weight(labels)
    # Household: 3 pairs of 0.5 and 3 pairs of 1 / 29, one of 1 / 29 more (0-1 by address), both ways.
    assert np.isclose(weight[0], 2 * (3 * 0.5 + 4 / 29))
    assert np.isclose(weight[1], 27 * 26 / 29)  # accounts 3-29: the IP only


def test_linked_is_any_shared_group_among_the_accounts():
    assert GROUPS.linked(np.array([40, 3, 57])).tolist() == [True, False, True]  # 40 and 57: the address
    assert GROUPS.linked(np.array([2, 30])).tolist() == [False, False]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 25), st.integers(0, 200), st.integers(2, 8), st.sampled_from([0.0, 0.2, 0.5]),
       st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_blocks_give_the_same_bits_as_one_matrix(n, m, max_group, min_weight, block, seed):
    rng = np.random.default_rng(seed)
    groups = shared_groups(n, [(rng.integers(-1, n, m), rng.integers(-1, 6, m), 6) for _ in range(3)], max_group)
    small = dataclasses.replace(groups, block=block)
    whole = dataclasses.replace(groups, block=10**9)
    everything = whole.links()
    kept = everything.copy()
    kept.data[kept.data < min_weight] = 0
    kept.eliminate_zeros()
    got = small.links(min_weight)
    assert (got != kept).nnz == 0 and np.array_equal(got.data, kept.data)
    assert np.array_equal(small.degree(), np.asarray(everything.sum(axis=1)).ravel())
    labels = rng.integers(-1, 3, n)
    coo = sp.coo_matrix(everything)
    same = (labels[coo.row] == labels[coo.col]) & (labels[coo.row] >= 0)
    inside = np.bincount(labels[coo.row[same]], weights=coo.data[same], minlength=labels.max() + 1)
    assert np.array_equal(small.internal_weight(labels), inside)
