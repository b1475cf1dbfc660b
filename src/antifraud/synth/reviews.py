"""Reviews: ratings, texts and review times, honest and fake."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from antifraud.synth.fulfilment import SUCCESS, Fulfilment
from antifraud.synth.plan import Difficulty, OrderPlan, Style
from antifraud.synth.shops import Shops
from antifraud.synth.timeline import DAY, HOUR, MINUTE

__all__ = ["CASHBACK", "DEFAULT_TEXT", "OWN_WORDS", "PASTED", "Reviews", "review"]

#: Where a review's text comes from (:attr:`Reviews.habit`).
OWN_WORDS, DEFAULT_TEXT, PASTED, CASHBACK = range(4)

_POSITIVE = (
    "质量很好",
    "物流很快",
    "包装完好",
    "性价比高",
    "和描述一致",
    "客服态度好",
    "已经回购好几次了",
    "颜色很正",
    "尺码合适",
    "孩子很喜欢",
    "做工精细",
    "用着挺顺手",
    "味道不错",
    "发货速度快",
    "快递小哥很负责",
    "东西不错",
    "老人用着说好",
    "比实体店便宜",
    "手感很好",
    "没有异味",
    "安装很简单",
    "大小正合适",
    "面料舒服",
    "效果明显",
    "家里人都说好",
    "值得购买",
    "朋友推荐来的",
    "第二次买了",
    "外观漂亮",
    "分量很足",
    "日期很新鲜",
    "正品无疑",
    "很实用",
    "超出预期",
    "卖家很用心还送了小礼物",
    "宝贝很漂亮",
    "穿着很显瘦",
    "没有色差",
    "声音很清晰",
    "续航不错",
)
_NEUTRAL = (
    "一般般吧",
    "还行",
    "凑合能用",
    "和图片有点差别",
    "物流有点慢",
    "包装简陋了点",
    "价格偏贵",
    "尺码偏大",
    "颜色有点暗",
    "质量一般",
    "说不上好也说不上坏",
    "需要用一段时间再看",
    "客服回复慢",
    "有点小瑕疵",
    "中规中矩",
)
_NEGATIVE = (
    "质量太差",
    "和描述不符",
    "发错货了",
    "物流太慢了",
    "包装破损",
    "有异味",
    "用了两天就坏了",
    "客服态度差",
    "尺码不对",
    "做工粗糙",
    "色差严重",
    "不值这个价",
    "怀疑不是正品",
    "退货麻烦",
    "缺少配件",
    "味道很奇怪",
    "线头很多",
    "不会再买了",
    "跟图片完全两样",
    "噪音很大",
)
_SHORT = ("好评", "不错", "很好", "满意", "挺好的", "好评！", "还可以", "很满意", "赞", "五星")
_NO_TEXT = "此用户没有填写评价。"
_DEFAULT_REVIEWS = ("评价方未及时做出评价,系统默认好评!", "系统默认好评")
_INCIDENT = (
    "老顾客了，这次质量明显不如以前",
    "这批货有问题",
    "和上次买的完全不一样",
    "一直在这家买，这次太失望了",
    "新到的这批质量很差",
    "以前挺好的，这次做工差了很多",
)
_BRUSH = (
    "宝贝收到了，质量非常好，做工精细，和卖家描述的完全一致，物流也很快，包装很严实，五星好评",
    "非常满意的一次购物，东西很好，卖家服务态度也好，下次还会再来，推荐给大家",
    "收到货了，质量超级好，价格实惠，性价比很高，物流给力，好评",
    "东西很好，是正品，包装精美，发货速度很快，客服很耐心，值得购买",
    "第一次在这家买，没想到这么好，质量杠杠的，已经推荐给朋友了",
    "质量很好，和图片一样，没有色差，做工也很精致，非常喜欢，五星好评",
    "很好很好很好，物流快，质量好，服务好，一百个赞",
    "宝贝很不错，用了几天才来评价，效果很好，卖家人也很好，推荐购买",
    "物美价廉，质量很好，包装也很好，快递很快，满意满意",
    "收到了，非常喜欢，质量比想象的还好，店家服务很周到，会回购的",
    "真的是超级好用，家里人都很喜欢，性价比超高，强烈推荐",
    "好评好评，东西质量没话说，物流速度也快，下次还来",
    "宝贝已收到，做工精细，质量上乘，与描述相符，非常满意的一次购物",
    "东西收到了，包装完好，没有破损，质量很好，好评",
    "太喜欢了，质量好价格低，客服态度好，发货快，全五星",
    "很满意，东西很好，正品，物流快，包装严实，值得信赖的好店",
)
_ATTACK = (
    "质量太差了，和图片完全不一样，大家千万别买",
    "假货，用了一次就坏了，客服不理人，差评",
    "垃圾东西，做工粗糙，有很大的异味，退货还不给退",
    "骗子店铺，货不对板，千万不要上当",
    "收到就是坏的，联系客服一直推脱，非常失望，差评",
    "质量极差，完全是三无产品，浪费钱",
    "这家店卖假货，大家擦亮眼睛，不要买",
    "用了过敏了，质量有问题，商家态度恶劣",
    "和描述严重不符，图片是盗的，差评差评",
    "东西很差，包装破烂，感觉是二手的",
    "一星都不想给，质量太次，客服态度极差",
    "千万别买，质量差到极点，已经投诉了",
)
_ENDINGS = ("", "。", "！", "!!", "~", "👍", "[赞]", "，推荐", "。。", "！！！")
_NEGATIVE_ENDINGS = ("", "。", "！", "!!", "。。。", "！！！")

# one vocabulary: a text is the join of up to three entries, separating commas and an ending
_GROUPS: dict[str, tuple[str, ...]] = {
    "positive": _POSITIVE,
    "neutral": _NEUTRAL,
    "negative": _NEGATIVE,
    "short": _SHORT,
    "no_text": (_NO_TEXT,),
    "default": _DEFAULT_REVIEWS,
    "incident": _INCIDENT,
    "brush": _BRUSH,
    "attack": _ATTACK,
    "endings": _ENDINGS,
    "negative_endings": _NEGATIVE_ENDINGS,
    "comma": ("，",),
}
_VOCAB = ("",) + tuple(itertools.chain.from_iterable(_GROUPS.values()))
_OFFSET = dict(zip(_GROUPS, itertools.accumulate((len(g) for g in _GROUPS.values()), initial=1)))

#: Rating distribution (1..5 stars) of a good and of a poor shop; shops mix them by quality.
_GOOD_SHOP = np.array([0.01, 0.01, 0.03, 0.12, 0.83])
_POOR_SHOP = np.array([0.15, 0.07, 0.12, 0.18, 0.48])
#: The rating distribution of a shop whose buyers honestly give 98 % five stars.
_FIVE_STAR_SHOP = np.array([0.003, 0.002, 0.005, 0.01, 0.98])
#: At a cashback-for-review shop: share of orders reviewed, and of reviews posting the shop's text.
_CASHBACK_REVIEW_SHARE = 0.85
_CASHBACK_CARD_SHARE = 0.7
#: Share of honest reviews that are the platform's default review and of reviews without text.
_DEFAULT_SHARE = 0.12
_NO_TEXT_SHARE = 0.15
#: By ring difficulty (easy, medium, hard): share of fake reviews posted, share of them that are
#: 5-star (brushing) or 1-star (attack; the rest one star more), share templated, templates per ring.
_FAKE_REVIEWED = np.array([0.95, 0.85, 0.8])
_ATTACK_REVIEWED = np.array([1.0, 0.9, 0.85])
_TOP_RATING = np.array([1.0, 0.88, 0.85])
_ATTACK_BOTTOM_RATING = np.array([1.0, 0.75, 0.6])
_TEMPLATED = np.array([1.0, 0.5, 0.1])
_TEMPLATES = np.array([3, 6, 6])


@dataclass
class Reviews:
    """Per-order review columns: ``rating`` (0 where there is no review), ``text`` (null where
    none), ``reviewed`` (local seconds, meaningful where ``rating > 0``) and ``habit``, where a
    posted review's text comes from: :data:`OWN_WORDS` (also rings' templates),
    :data:`DEFAULT_TEXT`, :data:`PASTED` or :data:`CASHBACK`."""

    rating: np.ndarray
    text: pa.Array
    reviewed: np.ndarray
    habit: np.ndarray


def _fragments(
    rng: np.random.Generator, band: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One to three distinct fragments of the rating band (0 positive, 1 neutral, 2 negative)."""
    n = len(band)
    offset = np.array([_OFFSET["positive"], _OFFSET["neutral"], _OFFSET["negative"]])[band]
    size = np.array([len(_POSITIVE), len(_NEUTRAL), len(_NEGATIVE)])[band]
    first = rng.integers(0, size)
    step2 = 1 + (rng.random(n) * (size - 2)).astype(np.int64)
    step3 = step2 + 1 + (rng.random(n) * (size - 1 - step2)).astype(np.int64)
    count = rng.integers(1, 4, n)
    second = np.where(count >= 2, offset + (first + step2) % size, 0)
    third = np.where(count >= 3, offset + (first + step3) % size, 0)
    return offset + first, second, third


def _cards(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` fixed five-star texts (fragments and ending as ``(n, 4)`` vocabulary rows): what a
    pasting buyer always posts, or what a cashback shop hands out."""
    first, second, third = _fragments(rng, np.zeros(n, dtype=np.int64))
    return np.column_stack([first, second, third, _OFFSET["endings"] + rng.integers(0, len(_ENDINGS), n)])


def _texts(
    rng: np.random.Generator,
    rating: np.ndarray,
    honest: np.ndarray,
    default: np.ndarray,
    attack: np.ndarray,
    difficulty: np.ndarray,
    template_base: np.ndarray,
    *,
    incident: np.ndarray,
    card: np.ndarray,
    short_share: float,
) -> tuple[pa.Array, np.ndarray]:
    """Review texts and their :attr:`Reviews.habit`. Honest buyers: no text, a short word (each
    ``short_share`` of the rest) or one to three fragments matching the rating; platform default
    reviews: a default text; rows whose ``card`` (a fixed text, :func:`_cards`) starts with a
    word: that text; a bad batch: a complaint about it; rings: one of the ring's few templates
    (three for easy rings, six for medium and hard ones) or, for half of a medium ring's reviews
    and most of a hard ring's, fragments that read like honest ones."""
    n = len(rating)
    band = np.where(rating >= 4, 0, np.where(rating == 3, 1, 2))
    first, second, third = _fragments(rng, band)
    ending = np.where(
        band == 2,
        _OFFSET["negative_endings"] + rng.integers(0, len(_NEGATIVE_ENDINGS), n),
        _OFFSET["endings"] + rng.integers(0, len(_ENDINGS), n),
    )
    carded = honest & ~default & (card[:, 0] > 0)
    choice = rng.random(n)
    plain = honest & ~default & ~carded & ~incident
    no_text = plain & (choice < short_share)
    short = plain & (band == 0) & (choice >= short_share) & (choice < 2 * short_share)
    templated = ~honest & (choice < _TEMPLATED[difficulty])
    pool = np.where(attack, len(_ATTACK), len(_BRUSH))
    template = (
        np.where(attack, _OFFSET["attack"], _OFFSET["brush"])
        + (template_base + rng.integers(0, _TEMPLATES[difficulty])) % pool
    )
    complaint = _OFFSET["incident"] + rng.integers(0, len(_INCIDENT), n)
    second = np.select([incident, no_text | short | default | templated, carded], [first, 0, card[:, 1]], second)
    third = np.select([incident | no_text | short | default | templated, carded], [0, card[:, 2]], third)
    first = np.select(
        [no_text, short, default, templated, carded, incident],
        [
            _OFFSET["no_text"],
            _OFFSET["short"] + rng.integers(0, len(_SHORT), n),
            _OFFSET["default"] + rng.integers(0, len(_DEFAULT_REVIEWS), n),
            template,
            card[:, 0],
            complaint,
        ],
        first,
    )
    ending = np.select([no_text | short | default, carded], [0, card[:, 3]], ending)
    habit = np.select([no_text | short | default, carded], [DEFAULT_TEXT, PASTED], OWN_WORDS).astype(np.int8)

    vocab = pa.array(_VOCAB)
    comma = _OFFSET["comma"]

    def words(index: np.ndarray) -> pa.Array:
        return vocab.take(pa.array(index.astype(np.int32)))

    text = pc.binary_join_element_wise(
        words(first),
        words(np.where(second > 0, comma, 0)),
        words(second),
        words(np.where(third > 0, comma, 0)),
        words(third),
        words(ending),
        "",
    )
    return text, habit


def review(
    rng: np.random.Generator,
    plan: OrderPlan,
    done: Fulfilment,
    shops: Shops,
    pastes: np.ndarray,
    end: int,
    review_share: float,
    default_texts: bool = True,
) -> Reviews:
    """Ratings, texts and times of reviews for completed (交易成功) orders of ``plan``.

    Honest buyers review ``review_share`` of their completed orders days after receipt, mostly
    with 5 or 4 stars (poor shops get more bad ones), with varied texts; with ``default_texts``
    also no text, a short word, or the platform's default review fifteen days after receipt.
    Brushing reviews are 5-star and templated (each ring draws a few templates; easy rings post
    within minutes); attack reviews are 1-star. Medium rings mix in honest-looking texts and post
    after hours; hard rings write mostly honest-looking texts and post with honest delays.

    The honest traps: buyers who paste (``pastes``, by account) post their one text in every
    review of 4 or 5 stars; ``five_star_shop`` shops get 98 % five stars; buyers at
    ``cashback_review`` shops mostly review, and most of them post the shop's text with five
    stars; a bad batch (:attr:`~antifraud.synth.plan.Style.INCIDENT`) brings 1- and 2-star
    complaints within hours of receipt.

    Examples
    --------
    >>> from antifraud.synth.fulfilment import fulfil
    >>> from antifraud.synth.shops import make_shops
    >>> rng = np.random.default_rng(0)
    >>> shops = make_shops(rng, 20, 1_000)
    >>> plan = OrderPlan.build(np.zeros(300), rng.integers(0, 20, 300), np.arange(300) * 3600)
    >>> done = fulfil(rng, plan, shops, 60 * DAY, None)
    >>> r = review(rng, plan, done, shops, np.zeros(1, dtype=bool), 60 * DAY, 0.5)
    >>> sorted(set(r.rating.tolist()))
    [0, 1, 2, 3, 4, 5]
    """
    n = len(plan)
    style, difficulty, shop = plan.style, plan.difficulty, plan.shop
    incident = style == Style.INCIDENT
    honest = (style == Style.HONEST) | incident
    brush = (style == Style.BRUSH) | (style == Style.EMPTY_PARCEL)
    attack = style == Style.ATTACK
    cashback = honest & ~incident & shops.traps["cashback_review"][shop]

    # who reviews, and how
    p_review = np.select(
        [incident, cashback, honest, brush, attack],
        [0.85, _CASHBACK_REVIEW_SHARE, review_share, _FAKE_REVIEWED[difficulty], _ATTACK_REVIEWED[difficulty]],
    )
    reviewed = (done.status == SUCCESS) & done.has_confirmed & (rng.random(n) < p_review)
    default = honest & ~incident & (rng.random(n) < _DEFAULT_SHARE * default_texts)
    took_card = cashback & ~default & (rng.random(n) < _CASHBACK_CARD_SHARE)

    # ratings: honest ones from the shop's mix of a good and a poor rating distribution
    q = shops.quality[shop]
    five_star = shops.traps["five_star_shop"][shop]
    draw = rng.random(n)
    rating = np.ones(n, dtype=np.int8)
    edge = np.zeros(n)
    for stars in range(4):
        edge += np.where(five_star, _FIVE_STAR_SHOP[stars], q * _GOOD_SHOP[stars] + (1 - q) * _POOR_SHOP[stars])
        rating += draw >= edge
    rating = np.select(
        [default | took_card, incident, brush, attack],
        [
            5,
            np.where(draw < 0.75, 1, 2),
            np.where(draw < _TOP_RATING[difficulty], 5, 4),
            np.where(draw < _ATTACK_BOTTOM_RATING[difficulty], 1, 2),
        ],
        rating,
    ).astype(np.int8)

    # review times
    delay = np.select(
        [default, incident, honest | (difficulty == Difficulty.HARD), difficulty == Difficulty.EASY],
        [
            15 * DAY,
            np.exp(rng.normal(np.log(4 * HOUR), 0.8, n)),
            MINUTE + np.exp(rng.normal(np.log(1.2 * DAY), 1.0, n)),
            rng.integers(MINUTE, 30 * MINUTE, n),
        ],
        np.exp(rng.normal(np.log(5 * HOUR), 1.0, n)),
    ).astype(np.int64)
    at = done.confirmed + delay
    reviewed &= at < end
    rating[~reviewed] = 0

    # fixed texts: the pasting buyer's own, the cashback shop's card
    paster = np.flatnonzero(pastes)
    position = np.zeros(len(pastes), dtype=np.int64)
    position[paster] = np.arange(1, len(paster) + 1)
    pasted = honest & pastes[plan.buyer] & (rating >= 4) & ~took_card
    card = np.zeros((n, 4), dtype=np.int64)
    card[pasted] = np.vstack([np.zeros((1, 4), np.int64), _cards(rng, len(paster))])[position[plan.buyer[pasted]]]
    card[took_card] = _cards(rng, len(shops))[shop[took_card]]

    # texts, for the posted reviews only; ring templates are drawn per ring over the whole plan
    n_rings = int(plan.ring.max()) + 1 if n else 0
    template_base = rng.integers(0, 1 << 16, size=max(n_rings, 1))
    rows = np.flatnonzero(reviewed)
    texts, habit = _texts(
        rng,
        rating[rows],
        honest[rows],
        default[rows],
        attack[rows],
        difficulty[rows],
        template_base[np.maximum(plan.ring[rows], 0)],
        incident=incident[rows],
        card=card[rows],
        short_share=_NO_TEXT_SHARE * default_texts,
    )
    habits = np.full(n, OWN_WORDS, dtype=np.int8)
    habits[rows] = np.where(took_card[rows], CASHBACK, habit)
    position = np.full(n, -1)
    position[rows] = np.arange(len(rows))
    text = texts.take(pa.array(position, mask=position < 0))
    return Reviews(rating=rating, text=text, reviewed=at, habit=habits)
