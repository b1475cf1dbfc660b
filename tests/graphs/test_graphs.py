import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.graphs import (
    build_bipartite,
    encode,
    identity_links,
    order_graph,
    shared_links,
)
from antifraud.ingest import PROFILES, ingest


def reference_edges(rows, cols, times, amounts):
    """Edges by pandas groupby: the obvious way."""
    df = pd.DataFrame({"r": rows, "c": cols, "t": times, "a": amounts})
    df = df[(df.r >= 0) & (df.c >= 0)]
    return df.groupby(["r", "c"]).agg(count=("t", "size"), first=("t", "min"), last=("t", "max"), amount=("a", "sum"))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), st.integers(0, 300), st.integers(0, 2**32 - 1))
def test_build_matches_groupby(n_rows, n_cols, n, seed):
    rng = np.random.default_rng(seed)
    rows = rng.integers(-1, n_rows, n)
    cols = rng.integers(-1, n_cols, n)
    times = rng.integers(0, 10**6, n)
    amounts = rng.random(n)
    g = build_bipartite(rows, cols, n_rows, n_cols, times=times, amounts=amounts)
    ref = reference_edges(rows, cols, times, amounts)
    got = pd.DataFrame({
        "r": g.edge_rows, "c": g.indices, "count": g.count, "first": g.first, "last": g.last, "amount": g.amount,
    }).set_index(["r", "c"])
    assert list(got.index) == list(ref.index)  # sorted by row, then column
    assert (got["count"].to_numpy() == ref["count"].to_numpy()).all()
    assert (got["first"].to_numpy() == ref["first"].to_numpy()).all()
    assert (got["last"].to_numpy() == ref["last"].to_numpy()).all()
    assert np.allclose(got["amount"].to_numpy(), ref["amount"].to_numpy())
    # every order points at its own edge
    ok = (rows >= 0) & (cols >= 0)
    assert (g.order_edge[~ok] == -1).all()
    assert (g.edge_rows[g.order_edge[ok]] == rows[ok]).all() and (g.indices[g.order_edge[ok]] == cols[ok]).all()
    assert g.to_scipy().sum() == ok.sum()


def reference_links(n, triples, max_group):
    w = np.zeros((n, n))
    for accounts, values, _ in triples:
        groups = {}
        for a, v in zip(accounts, values):
            if a >= 0 and v >= 0:
                groups.setdefault(v, set()).add(a)
        for members in groups.values():
            k = len(members)
            if 2 <= k <= max_group:
                for i, j in itertools.combinations(members, 2):
                    w[i, j] += 1 / (k - 1)
                    w[j, i] += 1 / (k - 1)
    return w


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 25), st.integers(0, 200), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_shared_links_match_reference(n, m, max_group, seed):
    rng = np.random.default_rng(seed)
    triples = [(rng.integers(-1, n, m), rng.integers(-1, 8, m), 8) for _ in range(2)]
    got = shared_links(n, triples, max_group).toarray()
    assert np.allclose(got, reference_links(n, triples, max_group))


def test_nat_address_counts_for_little_household_for_much():
    accounts = np.arange(402)
    ip = np.zeros(402, dtype=np.int64)  # 400 strangers behind one NAT address ...
    ip[400:] = 1  # ... and a household of two on another
    w = shared_links(402, [(accounts, ip, 2)], max_group=500)
    assert w[0, 1] == pytest.approx(1 / 399) and w[400, 401] == 1.0
    assert shared_links(402, [(accounts, ip, 2)], max_group=50)[0, 1] == 0  # too common: ignored


def test_codes_compact_to_values_used():
    column = pa.array(["x", "y", "z", "y"]).dictionary_encode().slice(1, 2)  # dictionary holds x, y, z
    c = encode(column)
    assert c.codes.tolist() == [0, 1] and c.labels.tolist() == ["y", "z"]


def test_order_graph_on_fixture(fixtures):
    result = ingest([fixtures / "taobao_gbk" / "orders.csv"], PROFILES["taobao"])
    g = order_graph(result.table)
    assert g.n_rows == len(set(result.orders["buyer_id"])) and g.n_cols == 4
    assert g.count.sum() == result.rows_accepted
    ring = [i for i, label in enumerate(g.row_labels) if label.startswith("shua_")]
    assert all(np.diff(g.indptr)[ring] == 2)  # each ring account ordered from both promoted shops
    links, accounts = identity_links(result.table)
    ring_block = links[ring][:, ring].toarray()
    assert (ring_block[~np.eye(5, dtype=bool)] > 0).all()  # they share the organiser's phone and address


def test_time_expanded_makes_a_burst_denser_than_the_same_orders_spread_out():
    from antifraud.detectors import DenseBlockDetector
    from antifraud.graphs import time_expanded

    day = 86400
    accounts = np.repeat(np.arange(10), 3)
    shops = np.tile([0, 1, 2], 10)
    burst = np.full(30, 5 * day) + np.arange(30) * 60  # all on one day
    spread = np.arange(30) * 3 * day  # one order every three days
    dense, shop_of = time_expanded(accounts, shops, burst, 10)
    sparse_, _ = time_expanded(accounts, shops, spread, 10)
    assert dense.shape == (10, 3) and shop_of.tolist() == [0, 1, 2]
    assert sparse_.shape == (10, 30) and sparse_.sum() == 30
    def score(m):
        return DenseBlockDetector(n_blocks=1, column_weighting=None).fit(m).blocks_[0].score

    assert score(dense) > 3 * score(sparse_)  # 30 orders over 13 nodes against at most one per node


def test_time_expanded_drops_columns_with_too_few_rows():
    from antifraud.graphs import time_expanded

    rows, cols, times = np.array([0, 1, 2, 0]), np.array([0, 0, 0, 1]), np.array([0, 10, 20, 30])
    m, shop_of = time_expanded(rows, cols, times, 3, min_rows=2)
    assert m.shape == (3, 1) and shop_of.tolist() == [0] and m.sum() == 3
