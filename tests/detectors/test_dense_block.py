"""DenseBlockDetector: the numba peeling against a plain reference, a densest-subgraph oracle,
planted rings with and without camouflage, and scikit-learn conventions."""

from __future__ import annotations

import heapq
import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from networkx.algorithms.approximation import densest_subgraph
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from antifraud.detectors import DenseBlockDetector
from antifraud.detectors._peeling import edge_weights, peel

# --- the published greedy algorithm, written out plainly ------------------------------------


def reference_peel(
    X: np.ndarray, column_weighting: str | None, log_offset: float, min_rows: int, min_cols: int
) -> tuple[list[int], int, float]:
    """FRAUDAR's greedy peeling of dense ``X`` with heapq and lazy deletion.

    Returns the removal order (rows ``0..m-1``, columns ``m..m+n-1``), the number of removals
    before the best subset (-1 if none qualifies) and its score. Sums run in ascending neighbour
    order and the smallest (degree, node) goes first, as the module documents.
    """
    rows = X.tolist()
    m, n = X.shape
    col_weight = [1.0] * n
    if column_weighting == "log":
        for j in range(n):
            total = 0.0
            for i in range(m):
                total += rows[i][j]
            col_weight[j] = 1.0 / math.log(log_offset + total)
    neighbours: list[list[tuple[int, float]]] = [[] for _ in range(m + n)]
    f = 0.0
    for i in range(m):
        for j in range(n):
            if rows[i][j] > 0:
                w = rows[i][j] * col_weight[j]
                neighbours[i].append((m + j, w))
                neighbours[m + j].append((i, w))
                f += w
    degree = []
    for v in range(m + n):
        total = 0.0
        for _, w in neighbours[v]:
            total += w
        degree.append(total)
    heap = [(degree[v], v) for v in range(m + n)]
    heapq.heapify(heap)
    alive = set(range(m + n))
    rows_left, cols_left = m, n
    order: list[int] = []
    best, best_score = -1, -math.inf
    while rows_left >= min_rows and cols_left >= min_cols:
        score = f / (rows_left + cols_left)
        if score > best_score:
            best, best_score = len(order), score
        while True:
            d, u = heapq.heappop(heap)
            if u in alive and d == degree[u]:
                break
        alive.remove(u)
        order.append(u)
        f -= degree[u]
        if u < m:
            rows_left -= 1
        else:
            cols_left -= 1
        for v, w in neighbours[u]:
            if v in alive:
                degree[v] -= w
                heapq.heappush(heap, (degree[v], v))
    return order, best, best_score


def reference_blocks(X: np.ndarray, n_blocks: int, **params) -> list[tuple[list[int], list[int], float]]:
    """Blocks found in turn, removing each block's edges before peeling again."""
    X = X.copy()
    m, n = X.shape
    blocks = []
    for _ in range(n_blocks):
        order, best, score = reference_peel(X, **params)
        if best < 0 or score <= 0:
            break
        removed = set(order[:best])
        rows = [i for i in range(m) if i not in removed]
        cols = [j for j in range(n) if m + j not in removed]
        blocks.append((rows, cols, score))
        X[np.ix_(rows, cols)] = 0
    return blocks


def ours(X: np.ndarray, column_weighting: str | None, log_offset: float, min_rows: int, min_cols: int):
    result = peel(edge_weights(sp.csr_array(X), column_weighting, log_offset), min_rows=min_rows, min_cols=min_cols)
    return result.order.tolist(), result.best, result.score


# --- the numba kernel equals the reference --------------------------------------------------

counts = st.sampled_from([0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 3.0])  # many exact ties
weights = st.one_of(st.just(0.0), st.floats(0.001, 1000.0))


@st.composite
def matrices(draw) -> np.ndarray:
    shape = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    return draw(arrays(np.float64, shape, elements=draw(st.sampled_from([counts, weights]))))


@settings(max_examples=300, deadline=None)
@given(
    X=matrices(),
    column_weighting=st.sampled_from(["log", None]),
    log_offset=st.sampled_from([5.0, 1.5]),
    min_rows=st.integers(1, 3),
    min_cols=st.integers(1, 3),
)
def test_peeling_equals_reference(X, column_weighting, log_offset, min_rows, min_cols):
    params = dict(column_weighting=column_weighting, log_offset=log_offset, min_rows=min_rows, min_cols=min_cols)
    assert ours(X, **params) == reference_peel(X, **params)


def power_law_counts(seed: int, n_rows: int, n_cols: int, mean: float = 4.0) -> np.ndarray:
    """Order counts with Zipf-like merchant popularity (dense, for the references)."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_cols + 1)
    rows = np.repeat(np.arange(n_rows), rng.poisson(mean, n_rows))
    cols = rng.choice(n_cols, size=rows.size, p=popularity / popularity.sum())
    X = np.zeros((n_rows, n_cols))
    np.add.at(X, (rows, cols), 1.0)
    return X


@pytest.mark.parametrize("column_weighting", ["log", None])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_peeling_equals_reference_on_power_law_graphs(seed, column_weighting):
    X = power_law_counts(seed, 300, 80)
    params = dict(column_weighting=column_weighting, log_offset=5.0, min_rows=2, min_cols=1)
    assert ours(X, **params) == reference_peel(X, **params)


@pytest.mark.parametrize("column_weighting", ["log", None])
def test_blocks_equal_reference(column_weighting):
    X = power_law_counts(3, 200, 60)
    X[:12, 50:56] += 1  # two rings, so later blocks are not just leftovers
    X[100:120, 40:44] += 2
    detector = DenseBlockDetector(n_blocks=4, column_weighting=column_weighting, min_rows=2, min_cols=1).fit(X)
    expected = reference_blocks(
        X, 4, column_weighting=column_weighting, log_offset=5.0, min_rows=2, min_cols=1
    )
    assert len(detector.blocks_) == len(expected) == 4
    for block, (rows, cols, score) in zip(detector.blocks_, expected):
        assert block.rows.tolist() == rows
        assert block.cols.tolist() == cols
        assert block.score == pytest.approx(score, rel=1e-12)


# --- plain density against networkx's densest-subgraph oracle -------------------------------
#
# nx's greedy++ with one iteration is Charikar's peeling, the same algorithm as ours without
# weights, but its heap breaks ties by insertion order rather than node id, so on about 1 in 20
# random graphs the two return different subsets, either one the denser. What holds whatever
# the ties: peeling finds a subset with density >= k_max / 2 (k_max the largest core number),
# and no subset is denser than k_max, so it is a 2-approximation of every oracle's answer.


def bipartite_graph(X: np.ndarray) -> nx.Graph:
    m, n = X.shape
    G = nx.Graph()
    G.add_nodes_from(range(m + n))
    G.add_edges_from((i, m + j) for i, j in zip(*np.nonzero(X)))
    return G


def brute_force_densest(G: nx.Graph) -> float:
    """max |E(S)| / |S| over every non-empty node subset (small graphs only)."""
    A = nx.to_numpy_array(G, nodelist=range(len(G)))
    subsets = (np.arange(1, 2 ** len(G))[:, None] >> np.arange(len(G))) & 1
    edges = np.einsum("si,ij,sj->s", subsets, A, subsets) / 2
    return float((edges / subsets.sum(axis=1)).max())


def random_binary(seed: int, max_side: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m, n = rng.integers(2, max_side + 1, 2)
    X = (rng.random((m, n)) < rng.uniform(0.15, 0.7)).astype(float)
    X[0, 0] = 1.0
    return X


def plain_block(X: np.ndarray):
    detector = DenseBlockDetector(n_blocks=1, column_weighting=None, min_rows=1, min_cols=1)
    return detector.fit(X).blocks_[0]


@pytest.mark.parametrize("seed", range(40))
def test_plain_density_is_a_2_approximation_of_the_oracle(seed):
    X = random_binary(seed, 25)
    G = bipartite_graph(X)
    block = plain_block(X)
    nodes = [*block.rows.tolist(), *(X.shape[0] + block.cols).tolist()]
    assert block.score == G.subgraph(nodes).number_of_edges() / len(nodes)
    k_max = max(nx.core_number(G).values())
    assert k_max / 2 <= block.score <= k_max
    for method, iterations in (("greedy++", 1), ("greedy++", 50), ("fista", 50)):
        oracle, _ = densest_subgraph(G, iterations, method=method)
        assert block.score >= oracle / 2


@pytest.mark.parametrize("seed", range(40))
def test_plain_density_brackets_the_exact_optimum(seed):
    X = random_binary(100 + seed, 6)
    optimum = brute_force_densest(bipartite_graph(X))
    assert optimum / 2 <= plain_block(X).score <= optimum


# --- planted rings ---------------------------------------------------------------------------


def planted(seed: int, blocks: list[tuple[int, int]], camouflage: float = 0.0):
    """2000 accounts x 500 shops with Zipf popularity and fully dense rings on fresh accounts.

    Ring shops come from the unpopular half. With ``camouflage``, each ring account also orders
    from each of the 4 most popular shops with that probability.
    """
    n_rows, n_cols = 2000, 500
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_cols + 1)
    rows = np.repeat(np.arange(n_rows), rng.poisson(8, n_rows))
    cols = rng.choice(n_cols, size=rows.size, p=popularity / popularity.sum())
    n_ring_rows, n_ring_cols = (np.array(sizes) for sizes in zip(*blocks))
    ring_rows = np.split(rng.choice(n_rows, n_ring_rows.sum(), replace=False), np.cumsum(n_ring_rows)[:-1])
    ring_cols = np.split(
        rng.choice(np.arange(n_cols // 2, n_cols), n_ring_cols.sum(), replace=False), np.cumsum(n_ring_cols)[:-1]
    )
    fresh = ~np.isin(rows, np.concatenate(ring_rows))
    rows, cols = [rows[fresh]], [cols[fresh]]
    for r, c in zip(ring_rows, ring_cols):
        rows.append(np.repeat(r, len(c)))
        cols.append(np.tile(c, len(r)))
        hit_r, hit_c = np.nonzero(rng.random((len(r), 4)) < camouflage)
        rows.append(r[hit_r])
        cols.append(hit_c)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    X = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n_rows, n_cols))
    X.data[:] = 1.0  # who bought where
    return X, [(np.sort(r), np.sort(c)) for r, c in zip(ring_rows, ring_cols)]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    a, b = set(a.tolist()), set(b.tolist())
    return len(a & b) / len(a | b)


@pytest.mark.parametrize("column_weighting", ["log", None])
def test_finds_a_planted_ring(column_weighting):
    X, [(rows, cols)] = planted(0, [(30, 10)])
    block = DenseBlockDetector(column_weighting=column_weighting).fit(X).blocks_[0]
    assert jaccard(block.rows, rows) >= 0.9
    assert jaccard(block.cols, cols) >= 0.9
    assert block.density >= 0.9


def test_log_weighting_sees_through_camouflage():
    X, [(rows, cols)] = planted(0, [(30, 10)], camouflage=1 / 3)
    weighted = DenseBlockDetector(n_blocks=1).fit(X).blocks_[0]
    plain = DenseBlockDetector(n_blocks=1, column_weighting=None).fit(X).blocks_[0]
    assert jaccard(weighted.rows, rows) >= 0.9
    assert jaccard(weighted.cols, cols) >= 0.9
    assert jaccard(plain.cols, cols) < jaccard(weighted.cols, cols)
    assert np.isin(np.arange(4), plain.cols).any()  # pulled toward the popular shops


def test_finds_several_rings():
    X, planted_rings = planted(1, [(30, 10), (25, 8)])
    detector = DenseBlockDetector(n_blocks=3).fit(X)
    for rows, cols in planted_rings:
        assert any(
            jaccard(b.rows, rows) >= 0.9 and jaccard(b.cols, cols) >= 0.9 for b in detector.blocks_
        )


def test_groups_and_entity_scores_are_the_blocks_by_density():
    X, _ = planted(1, [(30, 10), (25, 8)])
    detector = DenseBlockDetector(n_blocks=3).fit(X)
    by_density = sorted(detector.blocks_, key=lambda b: (-b.density, int(b.rows.min())))
    assert [(g.accounts.tolist(), g.merchants.tolist(), g.score, g.kind) for g in detector.groups_] == [
        (b.rows.tolist(), b.cols.tolist(), b.density, "dense") for b in by_density
    ]
    for side, scores in (("rows", detector.account_scores_), ("cols", detector.merchant_scores_)):
        expected = np.zeros_like(scores)
        for block in detector.blocks_:
            nodes = getattr(block, side)
            expected[nodes] = np.maximum(expected[nodes], block.density)
        assert scores.tolist() == expected.tolist()
        assert (scores > 0).sum() == len(np.unique(np.concatenate([getattr(b, side) for b in detector.blocks_])))


# --- inputs and scikit-learn conventions -----------------------------------------------------


def test_any_sparse_format_or_dense_gives_the_same_blocks():
    X = power_law_counts(5, 120, 40)
    X[:10, 30:35] += 1
    expected = DenseBlockDetector().fit(X).blocks_
    coo = sp.coo_matrix(X)
    duplicated = sp.coo_array(  # the same counts, split over duplicate entries
        (np.r_[coo.data - 0.5, np.full(coo.nnz, 0.5)], (np.r_[coo.row, coo.row], np.r_[coo.col, coo.col])),
        shape=X.shape,
    )
    for variant in (sp.csr_matrix(X), sp.csc_array(X), duplicated, X.astype(np.int32)):
        blocks = DenseBlockDetector().fit(variant).blocks_
        assert [(b.rows.tolist(), b.cols.tolist(), b.score) for b in blocks] == [
            (b.rows.tolist(), b.cols.tolist(), b.score) for b in expected
        ]


def test_fit_leaves_its_input_alone():
    X = sp.csr_array(power_law_counts(6, 50, 20))
    before = X.copy()
    DenseBlockDetector(n_blocks=3).fit(X)
    assert (X != before).nnz == 0


def test_negative_values_are_rejected():
    X = np.ones((4, 3))
    X[2, 1] = -1
    with pytest.raises(ValueError, match="Negative values .* non-negative counts or weights"):
        DenseBlockDetector().fit(X)


@pytest.mark.parametrize(
    "params",
    [{"n_blocks": 0}, {"min_rows": 0}, {"min_cols": 1.5}, {"column_weighting": "sqrt"}, {"log_offset": 1.0}],
)
def test_invalid_parameters_are_rejected(params):
    with pytest.raises(ValueError, match=next(iter(params))):
        DenseBlockDetector(**params).fit(np.ones((3, 3)))


def test_stops_when_no_edges_are_left():
    X = np.zeros((5, 4))
    X[:3, :2] = 1
    detector = DenseBlockDetector(n_blocks=5).fit(X)
    assert len(detector.blocks_) == 1
    assert detector.n_features_in_ == 4
    assert DenseBlockDetector().fit(np.zeros((3, 3))).blocks_ == []


def test_get_params_clone_and_refit():
    detector = DenseBlockDetector(n_blocks=2, column_weighting=None, log_offset=3.0, min_rows=3, min_cols=2)
    assert detector.get_params() == {
        "n_blocks": 2,
        "column_weighting": None,
        "log_offset": 3.0,
        "min_rows": 3,
        "min_cols": 2,
        "period": 86400.0,
        "random_state": None,
    }
    twin = clone(detector)
    assert twin is not detector and twin.get_params() == detector.get_params()
    X = power_law_counts(7, 150, 50)
    first = [(b.rows.tolist(), b.cols.tolist(), b.score, b.density) for b in detector.fit(X).blocks_]
    assert detector.fit(X) is detector
    again = [(b.rows.tolist(), b.cols.tolist(), b.score, b.density) for b in detector.blocks_]
    cloned = [(b.rows.tolist(), b.cols.tolist(), b.score, b.density) for b in twin.fit(X).blocks_]
    assert first == again == cloned
    assert detector.set_params(n_blocks=1).fit(X).blocks_[0].rows.tolist() == first[0][0]


@parametrize_with_checks([DenseBlockDetector()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
