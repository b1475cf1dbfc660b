"""Templated review texts: near-duplicates posted by many accounts at the shops they promote.

A brushing organiser hands his buyers (刷手) a review to paste: the same or a lightly edited
text (synonyms swapped, emoji or punctuation added, clauses reordered) turns up under many
accounts, at the shops the ring promotes. Honest texts recur too, and the test below is built
so that they give no evidence:

1. **Texts.** Each review text is normalised (NFKC, then everything but letters and digits
   removed: punctuation, emoji, whitespace), exact repeats are counted once, and each
   distinct text of at least ``min_length`` characters is shingled into its character
   ``ngram``-grams (no segmenter). MinHash signatures of ``n_bands * band_rows`` universal
   hashes (multiply-add-shift on a mix of the n-gram's code points, seeded by
   ``random_state``) are banded (LSH); texts sharing a band are candidate pairs, kept when
   their estimated Jaccard similarity is at least ``similarity``. The *clusters* of
   near-duplicates are stars around the texts with most accounts (each member is a
   near-duplicate of its centre), so that honest texts sharing common phrases, each like the
   next, do not chain into one cluster.
2. **Is the text a template?** Under the null, every account writes each of its distinct
   texts independently from the export's own language: a character Markov chain of order
   ``ngram - 1`` (Laplace-smoothed, counted over distinct (account, text) pairs, so a buyer
   who pastes the same text every time counts once), estimated *without the cluster's own
   texts*. The chance ``q`` that an account's text lands in the cluster is the sum of its
   texts' probabilities, and the number of distinct accounts that post it is then Poisson
   with mean ``(units outside the cluster) * q``. Texts made of common phrases (挺好的,
   质量很好物流很快, a product's usual praise) are likely under the chain and give no evidence;
   texts shorter than ``min_length`` give none at all.
3. **Is it concentrated at shops?** Under the null, an account's text depends on the shop
   only as far as honest clienteles differ: each of the cluster's accounts posts at shop ``s``
   with up to ``min_lift`` times the shop's share of the export's reviewing (account, shop)
   pairs. A shop is *concentrated* when more of the cluster's accounts posted there than that
   Poisson law allows (Bonferroni over the cluster's shops). Texts that are everywhere
   because the platform writes them (系统默认好评, 此用户没有填写评价) follow the shops'
   shares, give or take their clienteles, and concentrate nowhere; a ring's template at its
   shops is there hundreds of times more often than the shops' shares.
4. **Groups.** The cluster's accounts at its concentrated shops are split into the connected
   components of (account, shop) posts, so that two rings pasting one template from the web
   stay apart. A component is a group when the text is a template (2) *and* at least two of
   its shops are concentrated (3): an intersection-union test, whose p-value is the larger of
   the two, the second shop's Bonferroni-corrected over the cluster's shops, and all of it
   over the clusters tested (those with at least ``min_accounts`` accounts). A template
   concentrated at a single shop is that shop's practice as far as texts can tell: a 好评返现
   (cashback-for-review) shop hands its ordinary buyers a text, and so may a one-shop ring;
   its reviews carry the evidence at the order level only (``order_scores_``), for the other
   detectors to weigh with the accounts' behaviour.

A group's score, like :class:`~antifraud.detectors.PromotedShopDetector`'s, is
``1 - (threshold / evidence)^2`` where ``evidence = -log10 p`` and ``threshold`` is
``log10(n_tests / alpha)``; an order's is the same with the lesser of its cluster's text
evidence and its shop's concentration evidence.

Examples
--------
>>> normalise(pa.array(["好评！！👍", " 质量 很好，物流很快~", None])).to_pylist()
['好评', '质量很好物流很快', None]
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.features.data import DetectionData
from antifraud.graphs.co_purchase import poisson_evidence
from antifraud.ingest.convert import nfkc
from antifraud.schema import REQUIRED

__all__ = [
    "ReviewTextDetector", "code_points", "minhash", "near_duplicate_clusters", "normalise", "post_rings",
    "text_log_probability",
]

#: Bits of one symbol (a code point plus one; 0 starts a text) in an n-gram key.
_BITS = 21
#: The symbol that ends a text in the Markov chain.
_END = (1 << _BITS) - 1


def _unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending (by sorting: numpy 2.4's hash-based ``np.unique`` takes
    about 40 times longer on half a million int64 keys)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if values.size else values


def normalise(texts: pa.Array) -> pa.Array:
    """NFKC of ``texts`` with everything but letters and digits removed (nulls stay null)."""
    return pc.replace_substring_regex(nfkc(texts), r"[^\p{L}\p{N}]+", "")


@numba.njit(cache=True, nogil=True)
def _decode(offsets, data):  # pragma: no cover - compiled
    """Code points of UTF-8 strings given by byte ``offsets`` into ``data``."""
    n = offsets.shape[0] - 1
    points = np.empty(offsets[n] - offsets[0], dtype=np.int32)
    starts = np.empty(n + 1, dtype=np.int64)
    k = 0
    for t in range(n):
        starts[t] = k
        i = offsets[t]
        while i < offsets[t + 1]:
            b = np.int32(data[i])
            if b < 0x80:
                width, point = 1, b
            elif b < 0xE0:
                width, point = 2, b & 0x1F
            elif b < 0xF0:
                width, point = 3, b & 0x0F
            else:
                width, point = 4, b & 0x07
            for j in range(1, width):
                point = (point << 6) | (np.int32(data[i + j]) & 0x3F)
            points[k] = point
            k += 1
            i += width
    starts[n] = k
    return starts, points[:k]


def code_points(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The Unicode code points of non-null ``texts``: ``points[offsets[t]:offsets[t + 1]]`` is text ``t``.

    Examples
    --------
    >>> offsets, points = code_points(pa.array(["ab", "好评", ""]))
    >>> offsets.tolist(), points.tolist()
    ([0, 2, 4, 4], [97, 98, 22909, 35780])
    """
    texts = texts.cast(pa.large_string())
    _, offsets, data = texts.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[texts.offset:texts.offset + len(texts) + 1]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return _decode(offsets, data)


@numba.njit(cache=True, inline="always")
def _mix(key):  # pragma: no cover - compiled
    """The high 32 bits of splitmix64's finaliser of ``key``: a well-spread n-gram hash."""
    key = (key ^ (key >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    key = (key ^ (key >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (key ^ (key >> np.uint64(31))) >> np.uint64(32)


@numba.njit(cache=True, nogil=True, parallel=True)
def _minhash(offsets, points, ngram, a, b):  # pragma: no cover - compiled
    n, k = offsets.shape[0] - 1, a.shape[0]
    out = np.empty((n, k), dtype=np.uint32)
    for t in numba.prange(n):
        low = np.full(k, np.uint64(0xFFFFFFFF))
        for i in range(offsets[t], offsets[t + 1] - ngram + 1):
            key = np.uint64(0)
            for j in range(ngram):
                key = (key << np.uint64(_BITS)) | np.uint64(points[i + j] + 1)
            x = _mix(key)
            for p in range(k):
                h = (a[p] * x + b[p]) >> np.uint64(32)
                if h < low[p]:
                    low[p] = h
        out[t] = low
    return out


def minhash(offsets: np.ndarray, points: np.ndarray, ngram: int, n_hashes: int,
            random_state: int | np.random.RandomState | None = None) -> np.ndarray:
    """MinHash signatures of the character ``ngram``-gram sets of texts given by :func:`code_points`.

    Each of the ``n_hashes`` hash functions is ``(a x + b) mod 2^64 >> 32`` (multiply-add-shift,
    a universal family) of a 32-bit mix ``x`` of the n-gram's code points, with ``a`` odd and
    ``b`` drawn from ``random_state``. The share of equal entries of two signatures is an
    unbiased estimate of the Jaccard similarity of the two n-gram sets.

    Returns
    -------
    ndarray of uint32, shape (n_texts, n_hashes)
        A text shorter than ``ngram`` has no n-gram and an all-``2^32 - 1`` signature.
    """
    rng = check_random_state(random_state)
    a = rng.randint(0, 1 << 62, size=n_hashes, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.randint(0, 1 << 62, size=n_hashes, dtype=np.int64).astype(np.uint64) << np.uint64(2)
    return _minhash(offsets, points, ngram, a, b)


@numba.njit(cache=True, nogil=True)
def _stars(indptr, indices):  # pragma: no cover - compiled
    """Greedy star clusters of a symmetric CSR graph, centres taken in index order."""
    n = indptr.shape[0] - 1
    labels = np.full(n, -1, dtype=np.int64)
    k = 0
    for t in range(n):
        if labels[t] >= 0:
            continue
        labels[t] = k
        for p in range(indptr[t], indptr[t + 1]):
            if labels[indices[p]] < 0:
                labels[indices[p]] = k
        k += 1
    return labels


def _band_keys(signatures: np.ndarray, band: int, rows: int) -> np.ndarray:
    """One 64-bit key per signature for its ``band``-th slice of ``rows`` entries (collisions are
    verified afterwards like any candidate)."""
    key = np.zeros(len(signatures), dtype=np.uint64)
    for column in signatures[:, band * rows:(band + 1) * rows].T:
        key = key * np.uint64(0x9E3779B97F4A7C15) + column.astype(np.uint64)
    return key


def near_duplicate_clusters(signatures: np.ndarray, n_bands: int, similarity: float) -> tuple[np.ndarray, np.ndarray]:
    """Star clusters of texts whose signatures agree on a band and on ``similarity`` of their entries.

    Texts sharing one of ``n_bands`` equal slices of their signatures (LSH banding) are
    candidates; each candidate is compared with the first text (lowest index) of its bucket,
    and linked to it when the share of equal signature entries is at least ``similarity``.
    Clusters are then greedy stars: in index order (callers put the texts they trust most as
    centres first), each text not yet in a cluster starts one and takes its linked texts not
    yet in one. Every member is a near-duplicate of its cluster's centre, so that chains of
    texts each like the next (honest texts sharing common phrases) do not merge into one.

    Returns
    -------
    labels : ndarray of int64
        Cluster of every text (a text without near-duplicates is a cluster of its own).
    pairs : ndarray of shape (n_pairs, 3)
        The linked pairs ``(i, j)`` and their estimated similarity (as floats).

    Examples
    --------
    >>> sig = np.array([[1, 2, 3, 4], [1, 2, 3, 5], [9, 9, 9, 9]], dtype=np.uint32)
    >>> labels, pairs = near_duplicate_clusters(sig, 2, 0.75)
    >>> labels.tolist(), pairs.tolist()
    ([0, 0, 1], [[0.0, 1.0, 0.75]])
    """
    n, k = signatures.shape
    rows = k // n_bands
    leaders, members = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for band in range(n_bands):
        keys = _band_keys(signatures, band, rows)
        order = np.argsort(keys, kind="stable")
        first = np.r_[True, keys[order[1:]] != keys[order[:-1]]] if n else np.zeros(0, dtype=bool)
        leader = order[np.flatnonzero(first)[np.cumsum(first) - 1]]
        leaders.append(leader[~first])
        members.append(order[~first])
    pair = _unique(np.concatenate(leaders) * n + np.concatenate(members))
    i, j = pair // max(n, 1), pair % max(n, 1)
    agree = (signatures[i] == signatures[j]).mean(axis=1) if len(pair) else np.zeros(0)
    linked = agree >= similarity
    i, j = i[linked], j[linked]
    graph = sp.coo_matrix((np.ones(2 * i.size), (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    labels = _stars(graph.indptr.astype(np.int64), graph.indices.astype(np.int64))
    return labels, np.column_stack([i, j, agree[linked]]).astype(np.float64)


@numba.njit(cache=True, nogil=True)
def _positions(offsets, points, texts, ngram):  # pragma: no cover - compiled
    """Every prediction of the Markov chain along ``texts``: the text, the context key (the
    previous ``ngram - 1`` symbols, 0 before the start) and the n-gram key (context and the
    predicted symbol, the last one the end of the text)."""
    total = 0
    for t in texts:
        total += offsets[t + 1] - offsets[t] + 1
    which = np.empty(total, dtype=np.int64)
    contexts = np.empty(total, dtype=np.int64)
    grams = np.empty(total, dtype=np.int64)
    mask = (np.int64(1) << (_BITS * (ngram - 1))) - 1
    k = 0
    for t in texts:
        context = np.int64(0)
        for i in range(offsets[t], offsets[t + 1] + 1):
            symbol = np.int64(points[i] + 1) if i < offsets[t + 1] else np.int64(_END)
            which[k] = t
            contexts[k] = context
            grams[k] = (context << _BITS) | symbol
            context = ((context << _BITS) | symbol) & mask
            k += 1
    return which, contexts, grams


@numba.njit(cache=True, nogil=True)
def _count(offsets, points, weights, ngram, contexts, grams):  # pragma: no cover - compiled
    """Weighted counts over every text of the (sorted, distinct) query ``contexts`` and ``grams``."""
    context_counts = np.zeros(contexts.shape[0])
    gram_counts = np.zeros(grams.shape[0])
    mask = (np.int64(1) << (_BITS * (ngram - 1))) - 1
    for t in range(offsets.shape[0] - 1):
        w = weights[t]
        if w == 0:
            continue
        context = np.int64(0)
        for i in range(offsets[t], offsets[t + 1] + 1):
            symbol = np.int64(points[i] + 1) if i < offsets[t + 1] else np.int64(_END)
            gram = (context << _BITS) | symbol
            c = np.searchsorted(contexts, context)
            if c < contexts.shape[0] and contexts[c] == context:
                context_counts[c] += w
                g = np.searchsorted(grams, gram)
                if g < grams.shape[0] and grams[g] == gram:
                    gram_counts[g] += w
            context = gram & mask
    return context_counts, gram_counts


def post_rings(accounts: np.ndarray, shops: np.ndarray, n_accounts: int, n_merchants: int) -> tuple[np.ndarray, np.ndarray]:
    """Split posts ``(account, shop)`` into rings: shops are one ring's when most of the posters
    of the smaller one also posted at the other, and each account is its ring's where it
    posted most (ties to the lowest ring). Paid buyers lent between two rings, a few of each
    shop's posters, do not join them.

    Returns
    -------
    shop_ring, account_ring : ndarray of int64
        The ring of every shop (each shop without posts a ring of its own) and of every
        account (-1 for accounts without posts).

    Examples
    --------
    Accounts 0-2 post at shops 0 and 1, accounts 3-5 at shops 2 and 3, and account 2 also
    at shop 2.

    >>> shop_ring, account_ring = post_rings(np.array([0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5]),
    ...                                      np.array([0, 1, 0, 1, 0, 1, 2, 2, 3, 2, 3, 2, 3]), 7, 4)
    >>> shop_ring.tolist(), account_ring.tolist()
    ([0, 0, 1, 1], [0, 0, 0, 1, 1, 1, -1])
    """
    incidence = sp.csr_matrix((np.ones(len(accounts)), (accounts, shops)), shape=(n_accounts, n_merchants))
    incidence.data[:] = 1
    shared = (incidence.T @ incidence).tocoo()
    posters = np.asarray(incidence.sum(axis=0)).ravel()
    most = 2 * shared.data > np.minimum(posters[shared.row], posters[shared.col])
    graph = sp.coo_matrix((np.ones(most.sum()), (shared.row[most], shared.col[most])), shape=(n_merchants,) * 2)
    shop_ring = connected_components(graph, directed=False)[1].astype(np.int64)
    keys, posts = np.unique(np.asarray(accounts, dtype=np.int64) * n_merchants + shop_ring[shops], return_counts=True)
    account, ring = keys // n_merchants, keys % n_merchants
    first = np.lexsort((ring, -posts, account))
    first = first[np.r_[True, account[first][1:] != account[first][:-1]]] if first.size else first
    account_ring = np.full(n_accounts, -1, dtype=np.int64)
    account_ring[account[first]] = ring[first]
    return shop_ring, account_ring


def _group_total(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each entry, the sum of ``values`` over the entries with the same key."""
    _, inverse = np.unique(keys, return_inverse=True)
    return np.bincount(inverse, weights=values)[inverse]


def text_log_probability(offsets: np.ndarray, points: np.ndarray, weights: np.ndarray, ngram: int,
                         texts: np.ndarray, left_out: np.ndarray) -> np.ndarray:
    """Natural log-probability of each of ``texts`` under the export's character Markov chain,
    leaving out the texts of its own set.

    The chain of order ``ngram - 1`` is counted over all texts, each weighted by ``weights``
    (its distinct accounts), minus the counts of the texts with the same ``left_out`` label,
    with Laplace smoothing over the alphabet (the distinct symbols of all texts and the end).

    Parameters
    ----------
    offsets, points : ndarray
        All texts, as :func:`code_points` gives them.
    weights : ndarray of float
        Weight of every text.
    texts : ndarray of int
        The texts whose probability is wanted.
    left_out : ndarray of int
        Per entry of ``texts``, its set (cluster): the counts of the set's texts are removed.

    Examples
    --------
    Three accounts wrote "ab" and one "ba", each text its own set. Without "ab", the chain has
    seen "ba" once: each of the three steps of "ab" (start to a, a to b, b to the end) has
    probability ``(0 + 1) / (1 + 3)`` over the alphabet of a, b and the end. Without "ba", it
    has seen "ab" three times, and "ba"'s steps have ``(0 + 1) / (3 + 3)`` each.

    >>> offsets, points = code_points(pa.array(["ab", "ba"]))
    >>> logp = text_log_probability(offsets, points, np.array([3.0, 1.0]), 2, np.array([0, 1]), np.array([0, 1]))
    >>> (1 / np.exp(logp)).round(6).tolist()
    [64.0, 216.0]
    """
    texts = np.asarray(texts, dtype=np.int64)
    which, contexts, grams = _positions(offsets, points, texts, ngram)
    slot = np.repeat(np.arange(len(texts)), offsets[texts + 1] - offsets[texts] + 1)
    unique_contexts, unique_grams = _unique(contexts), _unique(grams)
    context_all, gram_all = _count(offsets, points, np.asarray(weights, dtype=np.float64), ngram,
                                   unique_contexts, unique_grams)
    own = np.asarray(left_out)[slot]
    weight = np.asarray(weights, dtype=np.float64)[which]
    # each text's counts are removed from its set's: the set's totals per context and n-gram
    context_id, gram_id = np.searchsorted(unique_contexts, contexts), np.searchsorted(unique_grams, grams)
    context_own = _group_total(own * len(unique_contexts) + context_id, weight)
    gram_own = _group_total(own * len(unique_grams) + gram_id, weight)
    alphabet = _unique(points).size + 1
    context_n = context_all[context_id] - context_own
    gram_n = gram_all[gram_id] - gram_own
    logp = np.log(np.maximum(gram_n, 0) + 1) - np.log(np.maximum(context_n, 0) + alphabet)
    return np.bincount(slot, weights=logp, minlength=len(texts))


def _fold(values: np.ndarray, labels: np.ndarray, n_labels: int) -> np.ndarray:
    """``log(sum(exp(values)))`` per label (``-inf`` for a label without values)."""
    out = np.full(n_labels, -np.inf)
    np.logaddexp.at(out, labels, values)
    return out


def _score(evidence: np.ndarray, threshold: float) -> np.ndarray:
    """``1 - (threshold / evidence)^2`` where the evidence reaches the threshold, else 0."""
    evidence = np.asarray(evidence, dtype=np.float64)
    return np.where(evidence >= threshold, 1 - (threshold / np.maximum(evidence, threshold)) ** 2, 0.0)


class ReviewTextDetector(Detector):
    """Groups of accounts posting near-duplicate review texts, far beyond chance, at the shops they promote.

    See the module docs for the clusters and the two null models (the export's character
    Markov chain for the text, the shops' shares of reviews for where it is posted).

    Parameters
    ----------
    ngram : int
        Characters per n-gram, for the MinHash shingles and the Markov chain (order
        ``ngram - 1``); at most 3, the n-grams whose code points fit one 64-bit key.
    min_length : int
        Normalised texts shorter than this (in characters) are never clustered: they give no
        evidence.
    n_bands, band_rows : int
        LSH banding: signatures of ``n_bands * band_rows`` hashes, in bands of ``band_rows``.
        Pairs at Jaccard similarity ``s`` become candidates with probability
        ``1 - (1 - s^band_rows)^n_bands``.
    similarity : float
        Least estimated Jaccard similarity of the n-gram sets of two texts linked in a cluster.
    min_lift : float
        How many times its share of reviewers a shop may honestly get of a text (its clientele
        writes some texts more than others): the shop test's expectation is this multiple.
    min_accounts : int
        Fewest distinct accounts of a cluster that is tested, and of a group reported.
    alpha : float
        Family-wise level of the tests, Bonferroni-corrected over the clusters tested.
    random_state : int, RandomState or None
        Seeds the MinHash functions; the same seed gives the same groups and scores.

    Attributes
    ----------
    groups_ : list of AccountGroup
        Kind ``"dense_block"``, best first; ``merchants`` are its concentrated shops.
        ``evidence`` holds ``log10_p`` (the intersection-union test, corrected over
        ``n_tests_``), ``text_log10_p`` and ``shop_log10_p`` (its two parts, uncorrected for
        the clusters), ``expected_accounts`` (the Markov chain's expectation) and ``accounts``
        (the cluster's distinct accounts); ``details`` the group's ``size``, the cluster's
        ``reviews``, ``texts``, ``shops`` and ``median_similarity`` (of its linked pairs; 1 for
        a cluster of one distinct text).
    account_scores_ : ndarray of float
        Score of each account's best group (0 for none).
    order_scores_ : ndarray of float
        Per order, the score of its review's template evidence at its shop (0 where the text
        is in no tested cluster, is likely under the Markov chain, or is not concentrated at
        the order's shop); a one-shop template (a cashback shop's handout) shows here only.
    labels_ : ndarray of int
        Per distinct normalised text (in the order of ``texts_``), its cluster, -1 where it
        is too short.
    texts_ : pyarrow.Array
        The export's distinct normalised texts.
    n_tests_ : int
        Clusters tested.
    threshold_ : float
        The evidence (``-log10 p``) a test needs, ``log10(n_tests_ / alpha)``.
    """

    cost: ClassVar[float] = 5

    required_columns = (*REQUIRED, "review_text")
    _parameter_constraints = {
        # 21 bits a code point: three fit a 63-bit key; a 1-gram chain has no context.
        "ngram": [Interval(Integral, 2, 3, closed="both")],
        "min_length": [Interval(Integral, 1, None, closed="left")],
        "n_bands": [Interval(Integral, 1, None, closed="left")],
        "band_rows": [Interval(Integral, 1, None, closed="left")],
        "similarity": [Interval(Real, 0, 1, closed="right")],
        # Below 1, a shop getting fewer of a text than its share would be concentrated.
        "min_lift": [Interval(Real, 1, None, closed="left")],
        # Two accounts are the fewest that share a text.
        "min_accounts": [Interval(Integral, 2, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        ngram: int = 3,
        min_length: int = 10,
        n_bands: int = 16,
        band_rows: int = 4,
        similarity: float = 0.6,
        min_lift: float = 10.0,
        min_accounts: int = 5,
        alpha: float = 0.001,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.ngram = ngram
        self.min_length = min_length
        self.n_bands = n_bands
        self.band_rows = band_rows
        self.similarity = similarity
        self.min_lift = min_lift
        self.min_accounts = min_accounts
        self.alpha = alpha
        self.random_state = random_state

    def _texts(self, data: DetectionData) -> np.ndarray:
        """Set ``texts_`` and return the normalised text of every order (-1 for none or empty)."""
        raw = pc.dictionary_encode(data.table.column("review_text").combine_chunks().cast(pa.string()))
        normalised = pc.dictionary_encode(normalise(raw.dictionary))
        self.texts_ = normalised.dictionary
        # a trailing -1 (no text) for the index -1 of orders without one
        of_raw = np.r_[normalised.indices.to_numpy(zero_copy_only=False), -1].astype(np.int64)
        text = of_raw[pc.fill_null(raw.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)]
        empty = np.r_[pc.equal(self.texts_, "").to_numpy(zero_copy_only=False), True]
        return np.where(empty[text], -1, text)

    def _fit(self, X: DetectionData) -> None:
        """Cluster ``X``'s review texts, test the clusters and report the groups."""
        n_accounts, n_merchants = X.graph.n_rows, X.graph.n_cols
        rows, cols = X.order_rows.astype(np.int64), X.order_cols.astype(np.int64)
        self.order_scores_ = np.zeros(rows.size)
        self.groups_, self.n_tests_, self.threshold_ = [], 0, float(np.log10(1 / self.alpha))
        text = self._texts(X)
        offsets, points = code_points(self.texts_)
        n_texts = len(self.texts_)
        lengths = np.diff(offsets)

        # units: distinct (text, account) pairs; a text's weight is its number of accounts
        reviewed = np.flatnonzero(text >= 0)
        units = _unique(text[reviewed] * n_accounts + rows[reviewed])
        weights = np.bincount(units // n_accounts, minlength=n_texts).astype(np.float64)

        # clusters of near-duplicates among the texts long enough
        # (the texts with most accounts first: they are the clusters' centres)
        long = np.flatnonzero(lengths >= max(self.min_length, self.ngram))
        long = long[np.argsort(-weights[long], kind="stable")]
        sub_offsets = np.r_[0, np.cumsum(lengths[long])]
        sub_points = points[np.repeat(offsets[long] - sub_offsets[:-1], lengths[long]) + np.arange(sub_offsets[-1])]
        signatures = minhash(sub_offsets, sub_points, self.ngram, self.n_bands * self.band_rows, self.random_state)
        labels, pairs = near_duplicate_clusters(signatures, self.n_bands, self.similarity)
        self.labels_ = np.full(n_texts, -1, dtype=np.int64)
        self.labels_[long] = labels
        n_clusters = int(labels.max(initial=-1)) + 1
        unit_cluster = self.labels_[units // n_accounts]
        clustered = unit_cluster >= 0
        cluster_units = np.bincount(unit_cluster[clustered], minlength=n_clusters)
        members = _unique(unit_cluster[clustered] * n_accounts + units[clustered] % n_accounts)
        accounts = np.bincount(members // n_accounts, minlength=n_clusters)
        tested = accounts >= self.min_accounts
        self.n_tests_ = int(tested.sum())
        if not self.n_tests_:
            self.account_scores_ = np.zeros(n_accounts)
            return
        self.threshold_ = float(np.log10(self.n_tests_ / self.alpha))

        # (2) the text under the export's Markov chain, without the cluster's own texts
        chosen = np.flatnonzero(self.labels_ >= 0)
        chosen = chosen[tested[self.labels_[chosen]]]
        logp = text_log_probability(offsets, points, weights, self.ngram, chosen, self.labels_[chosen])
        expected = (len(units) - cluster_units) * np.exp(_fold(logp, self.labels_[chosen], n_clusters))
        text_evidence = np.where(tested, poisson_evidence(accounts, expected), 0.0)

        # (3) the shops: each cluster's accounts at a shop against the shop's share of reviewers
        in_test = reviewed[tested[np.maximum(self.labels_[text[reviewed]], 0)] & (self.labels_[text[reviewed]] >= 0)]
        pairs_at_shop = _unique(rows[reviewed] * n_merchants + cols[reviewed]) % n_merchants
        share = np.bincount(pairs_at_shop, minlength=n_merchants) / max(pairs_at_shop.size, 1)
        cluster = self.labels_[text[in_test]]
        cell_keys, cell_of_order = np.unique(cluster * n_merchants + cols[in_test], return_inverse=True)
        cell_cluster, cell_shop = cell_keys // n_merchants, cell_keys % n_merchants
        posters = _unique(cell_of_order * n_accounts + rows[in_test])
        poster_cell, poster = posters // n_accounts, posters % n_accounts
        n_shops = np.bincount(cell_cluster, minlength=n_clusters)
        shop_evidence = (poisson_evidence(np.bincount(poster_cell, minlength=len(cell_keys)),
                                          self.min_lift * accounts[cell_cluster] * share[cell_shop])
                         - np.log10(np.maximum(n_shops[cell_cluster], 1)))
        cell_evidence = np.minimum(shop_evidence, text_evidence[cell_cluster])

        # orders: the lesser of the text's and their shop's evidence
        self.order_scores_[in_test] = _score(cell_evidence[cell_of_order], self.threshold_)

        # (4) groups: the rings of the posts of templates at their concentrated shops, for
        # templates concentrated at two shops or more
        strong = cell_evidence >= self.threshold_
        strong &= np.bincount(cell_cluster, weights=strong, minlength=n_clusters)[cell_cluster] >= 2
        edge = strong[poster_cell]
        edge_cell, edge_account = poster_cell[edge], poster[edge]
        shop_ring, account_ring = post_rings(edge_account, cell_shop[edge_cell], n_accounts, n_merchants)
        strong_cells = np.flatnonzero(strong)
        reviews = np.bincount(cluster, minlength=n_clusters)
        texts = np.bincount(self.labels_[self.labels_ >= 0], minlength=n_clusters)
        ends = labels[pairs[:, :2].astype(np.int64)]
        within = ends[:, 0] == ends[:, 1]
        groups = []
        for ring in _unique(account_ring[edge_account]):
            here = strong_cells[shop_ring[cell_shop[strong_cells]] == ring]
            members_here = np.flatnonzero(account_ring == ring)
            best, k, second = -np.inf, -1, 0.0
            for cl in _unique(cell_cluster[here]):
                ranked = np.sort(shop_evidence[here[cell_cluster[here] == cl]])
                if ranked.size >= 2 and min(text_evidence[cl], ranked[-2]) > best:
                    best, k, second = min(text_evidence[cl], ranked[-2]), int(cl), float(ranked[-2])
            if k < 0 or members_here.size < self.min_accounts:
                continue
            similar = pairs[within & (ends[:, 0] == k), 2]
            groups.append(AccountGroup(
                members_here.astype(np.int64),
                float(_score(best, self.threshold_)),
                "dense_block",
                merchants=_unique(cell_shop[here]).astype(np.int64),
                evidence={
                    "log10_p": min(0.0, float(np.log10(self.n_tests_) - best)),
                    "text_log10_p": -float(text_evidence[k]),
                    "shop_log10_p": -second,
                    "expected_accounts": float(expected[k]),
                    "accounts": float(accounts[k]),
                },
                details={
                    "size": float(members_here.size),
                    "templates": float(_unique(cell_cluster[here]).size),
                    "reviews": float(reviews[k]),
                    "texts": float(texts[k]),
                    "shops": float(_unique(cell_shop[here]).size),
                    "median_similarity": float(np.median(similar)) if similar.size else 1.0,
                },
            ))
        self.groups_, _, self.account_scores_ = rank_groups(groups, n_accounts)
