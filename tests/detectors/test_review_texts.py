import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from antifraud.detectors.review_texts import (
    ReviewTextDetector,
    code_points,
    minhash,
    near_duplicate_clusters,
    normalise,
    text_log_probability,
)
from antifraud.features.data import prepare

DAY = 86400

_PHRASES = ("质量很好", "物流很快", "包装完好", "性价比高", "和描述一致", "客服态度好", "颜色很正", "尺码合适",
            "孩子很喜欢", "做工精细", "味道不错", "发货速度快", "东西不错", "手感很好", "面料舒服", "值得购买")
_GENERIC = ("好评", "挺好的", "不错", "满意", "好评！", "评价方未及时做出评价,系统默认好评!", "此用户没有填写评价。", None)
_PASTED = ("老顾客了每次都写这段话东西还行就是物流有点慢", "给五星是习惯不代表东西有多好大家自己判断",
           "收货后第一时间来评价希望卖家再接再厉", "这段评价我到处复制粘贴懒得每次重新写",
           "本人只写真实感受这次购物体验总体满意")
_ENDS = ("", "。", "！", "~", "👍", "[赞]", "!!")
#: The ring's template (clauses), its synonyms, and the cashback shop's handout.
_TEMPLATE = ("宝贝今天收到了", "做工非常精致", "和卖家描述的完全一致", "快递师傅送货上门", "下次还会再来光顾")
_SYNONYMS = {"精致": "精美", "完全": "基本", "光顾": "回购", "快递师傅": "快递小哥"}
_HANDOUT = ("感谢店家的返现活动", "宝贝质量真的很赞", "物流速度也特别快", "推荐大家放心购买")


def _variant(rng: np.random.Generator, clauses: tuple[str, ...]) -> str:
    """A lightly edited copy: two neighbouring clauses swapped, a synonym or two, an ending."""
    clauses = list(clauses)
    i = int(rng.integers(0, len(clauses) - 1))
    if rng.random() < 0.5:
        clauses[i], clauses[i + 1] = clauses[i + 1], clauses[i]
    text = "，".join(clauses)
    for word, other in _SYNONYMS.items():
        if rng.random() < 0.3:
            text = text.replace(word, other)
    return text + _ENDS[int(rng.integers(0, len(_ENDS)))]


def _honest_text(rng: np.random.Generator) -> str | None:
    if rng.random() < 0.5:
        return _GENERIC[int(rng.integers(0, len(_GENERIC)))]
    parts = rng.choice(_PHRASES, size=int(rng.integers(1, 4)), replace=False)
    return "，".join(parts) + _ENDS[int(rng.integers(0, len(_ENDS)))]


def _orders(ring: bool = True, seed: int = 0) -> tuple[list[tuple], list[str]]:
    """(buyer, shop, day, text) orders of honest buyers at 60 shops, five buyers who paste one
    long text everywhere, a cashback shop whose 80 buyers post its handout, and optionally a
    ring of 15 accounts posting an edited template at three small shops; and the ring."""
    rng = np.random.default_rng(seed)
    popularity = 1 / np.arange(1, 61)
    popularity /= popularity.sum()
    rows = []
    for b in range(1500):
        for shop in rng.choice(60, size=int(rng.integers(2, 7)), p=popularity):
            rows.append((f"b{b}", f"s{shop}", int(rng.integers(0, 365)), _honest_text(rng)))
    for b, pasted in enumerate(_PASTED):
        for shop in rng.choice(60, size=12, p=popularity):
            rows.append((f"p{b}", f"s{shop}", int(rng.integers(0, 365)), pasted))
    for b in range(80):  # the cashback shop's buyers are ordinary ones
        rows.append((f"b{b}", "cashback", int(rng.integers(0, 365)), _variant(rng, _HANDOUT)))
    members = [f"r{a}" for a in range(15)] if ring else []
    for account in members:
        for shop in ("s57", "s58", "s59"):
            for _ in range(int(rng.integers(1, 3))):
                rows.append((account, shop, int(rng.integers(100, 130)), _variant(rng, _TEMPLATE)))
    return rows, members


def _data(rows: list[tuple]):
    frame = pd.DataFrame(rows, columns=["buyer_id", "seller_id", "day", "review_text"])
    return prepare(pa.table({
        "buyer_id": pa.array(frame["buyer_id"]).dictionary_encode(),
        "seller_id": pa.array(frame["seller_id"]).dictionary_encode(),
        "created_at": pa.array(frame["day"].to_numpy() * DAY, type=pa.int64()).cast(pa.timestamp("s", tz="UTC")),
        "review_text": pa.array(frame["review_text"], type=pa.string()),
    }))


@pytest.fixture(scope="module")
def ring():
    rows, members = _orders(ring=True)
    data = _data(rows)
    return data, members, ReviewTextDetector(random_state=0).fit(data)


@pytest.fixture(scope="module")
def honest():
    data = _data(_orders(ring=False)[0])
    return data, ReviewTextDetector(random_state=0).fit(data)


def _labels(data, codes) -> list[str]:
    return sorted(np.asarray(data.graph.row_labels)[codes].tolist())


def test_normalise_keeps_letters_and_digits_only():
    got = normalise(pa.array(["好评！！👍", "ＡＢＣ１２３ 质量，很好~", "[赞]", None])).to_pylist()
    assert got == ["好评", "ABC123质量很好", "赞", None]


def test_code_points_decode_every_utf8_width():
    texts = ["a", "é", "好", "😀", "", "a好😀é"]
    offsets, points = code_points(pa.array(texts))
    assert [points[offsets[t]:offsets[t + 1]].tolist() for t in range(len(texts))] == [
        [ord(c) for c in text] for text in texts
    ]


def _grams(text: str, n: int) -> set[str]:
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def test_minhash_agreement_estimates_the_jaccard_similarity():
    rng = np.random.default_rng(1)
    alphabet = np.array(list("质量很好物流快包装完性价比高和描述一致客服态度"))
    base = "".join(rng.choice(alphabet, 60))
    texts = [base] + [base[:cut] + "".join(rng.choice(alphabet, 60 - cut)) for cut in (50, 40, 30, 20, 10)]
    offsets, points = code_points(pa.array(texts))
    signatures = minhash(offsets, points, 3, 512, random_state=0)
    for t in range(1, len(texts)):
        a, b = _grams(texts[0], 3), _grams(texts[t], 3)
        exact = len(a & b) / len(a | b)
        estimate = (signatures[0] == signatures[t]).mean()
        assert abs(estimate - exact) <= 4 * np.sqrt(exact * (1 - exact) / 512) + 1e-9


def test_minhash_is_seeded():
    offsets, points = code_points(pa.array(["质量很好物流很快", "包装完好性价比高"]))
    first, again = minhash(offsets, points, 3, 16, 0), minhash(offsets, points, 3, 16, 0)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, minhash(offsets, points, 3, 16, 1))


def test_edited_copies_of_a_template_cluster_around_it_and_other_texts_do_not():
    rng = np.random.default_rng(2)
    original = normalise(pa.array(["".join(_TEMPLATE)]))[0].as_py()
    variants = sorted({normalise(pa.array([_variant(rng, _TEMPLATE)]))[0].as_py() for _ in range(40)} - {original})
    others = ["质量很好物流很快包装完好性价比高", "孩子很喜欢做工精细味道不错发货速度快", "感谢店家的返现活动宝贝质量真的很赞"]
    texts = [original, *variants, *others]
    offsets, points = code_points(pa.array(texts))
    labels, pairs = near_duplicate_clusters(minhash(offsets, points, 3, 64, 0), 16, 0.6)
    around = labels[1:len(variants) + 1] == labels[0]
    assert around.mean() >= 0.5  # the centre takes the copies like it; copies edited twice start their own
    assert len(set(labels[-len(others):].tolist()) | set(labels[:-len(others)].tolist())) == \
        len(set(labels[:-len(others)].tolist())) + len(others)
    centre = {int(j) for i, j, _ in pairs if i == 0} | {int(i) for i, j, _ in pairs if j == 0}
    assert set(np.flatnonzero(labels == labels[0]).tolist()) == centre | {0}  # a star: each one like the centre
    assert (pairs[:, 2] >= 0.6).all()


def _reference_log_probability(texts: list[str], weights: list[float], n: int, query: int, left_out: set[int]) -> float:
    """The leave-out Laplace chain, counted by brute force."""
    def predictions(text):
        symbols = ["^"] * (n - 1) + list(text) + ["$"]
        return [(tuple(symbols[i - n + 1:i]), symbols[i]) for i in range(n - 1, len(symbols))]

    alphabet = len({c for text in texts for c in text}) + 1
    context_counts, gram_counts = {}, {}
    for t, (text, w) in enumerate(zip(texts, weights)):
        if t in left_out:
            continue
        for context, symbol in predictions(text):
            context_counts[context] = context_counts.get(context, 0) + w
            gram_counts[context, symbol] = gram_counts.get((context, symbol), 0) + w
    return sum(np.log((gram_counts.get((c, s), 0) + 1) / (context_counts.get(c, 0) + alphabet))
               for c, s in predictions(texts[query]))


@pytest.mark.parametrize("n", [2, 3])
def test_text_log_probability_matches_the_chain_counted_by_hand(n):
    texts = ["质量很好", "质量很好物流很快", "物流很快", "很好很好", "包装完好质量很好", "好"]
    weights = [5.0, 2.0, 3.0, 1.0, 1.0, 4.0]
    sets = np.array([0, 0, 1, 2, 3, 4])
    offsets, points = code_points(pa.array(texts))
    got = text_log_probability(offsets, points, np.array(weights), n, np.arange(6), sets)
    want = [_reference_log_probability(texts, weights, n, t, set(np.flatnonzero(sets == sets[t]).tolist()))
            for t in range(6)]
    np.testing.assert_allclose(got, want)


def test_a_ring_pasting_an_edited_template_at_its_shops_is_one_group(ring):
    data, members, detector = ring
    assert len(detector.groups_) == 1
    group = detector.groups_[0]
    assert _labels(data, group.accounts) == sorted(members)
    assert sorted(np.asarray(data.graph.col_labels)[group.merchants].tolist()) == ["s57", "s58", "s59"]
    assert group.kind == "dense_block" and group.score > 0.5
    assert group.evidence["log10_p"] <= np.log10(detector.alpha)
    assert group.evidence["log10_p"] >= max(group.evidence["text_log10_p"], group.evidence["shop_log10_p"])
    assert group.details["shops"] == 3 and group.details["median_similarity"] >= 0.6
    assert (detector.account_scores_[group.accounts] == group.score).all()


def test_honest_look_alikes_make_no_group(honest):
    data, detector = honest
    assert detector.n_tests_ > 0  # generic texts, pasters and the handout were clustered and tested
    assert detector.groups_ == [] and not detector.account_scores_.any()


def test_a_cashback_handout_is_evidence_at_its_orders_only(honest):
    data, detector = honest
    shop = np.asarray(data.graph.col_labels)[data.order_cols]
    handout = shop == "cashback"
    assert (detector.order_scores_[handout] > 0).mean() >= 0.9
    assert not detector.order_scores_[~handout].any()  # generic texts, common praise, pasters


def test_short_texts_give_no_evidence():
    rows, _ = _orders(ring=False)
    rows += [(f"r{a}", shop, 100, "好评好评好评！") for a in range(20) for shop in ("s57", "s58", "s59")]
    detector = ReviewTextDetector(random_state=0).fit(_data(rows))
    assert detector.groups_ == []
    assert detector.set_params(min_length=6).fit(_data(rows)).groups_  # long enough, it is a template


def test_two_rings_pasting_one_template_at_their_own_shops_stay_apart():
    rows, members = _orders(ring=True)
    other = [f"q{a}" for a in range(12)]
    rows += [(account, shop, 200, "，".join(_TEMPLATE) + "！") for account in other for shop in ("s50", "s51")]
    data = _data(rows)
    found = [_labels(data, g.accounts) for g in ReviewTextDetector(random_state=0).fit(data).groups_]
    assert sorted(found) == sorted([sorted(members), sorted(other)])
