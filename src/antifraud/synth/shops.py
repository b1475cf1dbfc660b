"""Shops: Zipf popularity, items and prices, carriers, names and credit codes (USCC)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from antifraud.synth.identity import REGIONS, fixed_width_strings, pick
from antifraud.synth.logistics import carrier_shares

__all__ = ["SHOP_TRAPS", "Shops", "make_shops"]

#: The honest traps that are a property of a shop (see :meth:`Shops.add_traps`).
SHOP_TRAPS = ("virtual_goods", "jewellery", "tracking_batch", "five_star_shop", "cashback_review")
#: Categories of consumables, which customers reorder within weeks (``repeat_purchase`` shops).
_CONSUMABLES = ("食品", "母婴", "宠物")
#: Virtual goods sell at the round prices of top-ups and game items, in cents.
_VIRTUAL_PRICES = np.array([600, 1000, 3000, 5000, 6800, 10000, 12800, 20000, 32800, 64800])

_SYLLABLES = (
    "悦",
    "优",
    "品",
    "佳",
    "美",
    "鑫",
    "源",
    "汇",
    "宜",
    "尚",
    "乐",
    "嘉",
    "雅",
    "森",
    "禾",
    "云",
    "星",
    "木",
    "川",
    "青",
    "御",
    "盛",
    "恒",
    "康",
    "瑞",
    "福",
    "泰",
    "安",
    "新",
    "锦",
    "华",
    "汐",
    "初",
    "野",
    "拾",
    "半",
    "素",
    "简",
    "本",
    "朴",
)
_CATEGORIES = (
    "家居",
    "母婴",
    "数码",
    "服饰",
    "食品",
    "美妆",
    "户外",
    "宠物",
    "文具",
    "茶叶",
    "鞋业",
    "百货",
    "家纺",
    "厨具",
    "玩具",
    "饰品",
    "箱包",
    "运动",
    "个护",
    "农产",
)
_SUFFIXES = ("旗舰店", "专营店", "专卖店", "官方店", "小店", "的店", "生活馆", "优选")

_USCC_ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
_DIGITS = _USCC_ALPHABET[:10]


def _uscc_codes(rng: np.random.Generator, body: np.ndarray, invalid_share: float) -> pa.Array:
    """Complete 16-character USCC bodies with both check characters (GB 32100-2015).

    Position 17 is the GB 11714 organisation-code check over positions 9-16 (weights
    3 7 9 10 5 8 4 2, letters A=10..Z=35, ``11 - sum mod 11`` with 10 -> X and 11 -> 0);
    position 18 is ``(31 - sum mod 31) mod 31`` over positions 1-17 with weights ``3^(i-1) mod 31``
    and character values given by their index in the code alphabet. A share ``invalid_share`` of
    codes gets a wrong position-18 character.
    """
    org = body[:, 8:16].astype(np.int64)
    org_value = np.where(org >= ord("A"), org - 55, org - ord("0"))
    c17 = 11 - (org_value * np.array([3, 7, 9, 10, 5, 8, 4, 2])).sum(axis=1) % 11
    c17_char = np.where(c17 == 10, ord("X"), np.where(c17 == 11, ord("0"), ord("0") + c17))
    first17 = np.concatenate([body, c17_char[:, None].astype(np.uint8)], axis=1)
    value = np.full(256, -1, dtype=np.int64)
    value[_USCC_ALPHABET] = np.arange(len(_USCC_ALPHABET))
    weights = np.array([pow(3, i, 31) for i in range(17)])
    check = (31 - (value[first17] * weights).sum(axis=1) % 31) % 31
    valid = rng.random(len(body)) >= invalid_share
    check = np.where(valid, check, (check + rng.integers(1, 31, size=len(body))) % 31)
    return fixed_width_strings(np.concatenate([first17, _USCC_ALPHABET[check][:, None]], axis=1))


@dataclass
class Shops:
    """Shops as columns (one row per shop; rows are in random order, not by popularity).

    Attributes
    ----------
    popularity : numpy.ndarray
        Share of honest orders each shop attracts (Zipf over a random ranking; sums to 1).
    rank : numpy.ndarray
        Popularity rank, 0 for the most popular shop.
    quality : numpy.ndarray
        Between 0 and 1; low-quality shops get more bad reviews.
    main_carrier : numpy.ndarray
        Index into :data:`antifraud.synth.logistics.CARRIERS` of the carrier a shop mostly uses.
    item_start, n_items : numpy.ndarray
        The shop's items are the global items ``item_start .. item_start + n_items - 1``.
    item_price : numpy.ndarray
        Price of every global item in cents.
    item_weight : numpy.ndarray
        Shipping weight of every global item in kilograms.
    uscc_body : numpy.ndarray
        ``(n, 16)`` ASCII bytes: positions 1-16 of each shop's credit code.
    name_parts : numpy.ndarray
        ``(n, 4)`` indices: two stem syllables, category and suffix of the shop name.
    traps : dict of str to numpy.ndarray
        For each name in :data:`SHOP_TRAPS` and ``repeat_purchase``, which shops have that trait
        (all false until :meth:`add_traps` and :meth:`add_repeat_purchase`).

    Examples
    --------
    >>> shops = make_shops(np.random.default_rng(0), 100, 10_000)
    >>> len(shops), float(round(shops.popularity.sum(), 6))
    (100, 1.0)
    """

    popularity: np.ndarray
    rank: np.ndarray
    quality: np.ndarray
    main_carrier: np.ndarray
    item_start: np.ndarray
    n_items: np.ndarray
    item_price: np.ndarray
    item_weight: np.ndarray
    uscc_body: np.ndarray
    name_parts: np.ndarray
    traps: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.popularity)

    def link(self, rng: np.random.Generator, group: np.ndarray, *, same_name: bool = True) -> None:
        """Make ``group`` look like one operator's shops (mutual brushing).

        They get the first shop's entity type, region and organisation-code prefix with
        consecutive serial numbers (a shared 14-character USCC prefix: registered together, by
        one agent), and with ``same_name`` the first shop's name stem with different categories.
        """
        head = group[0]
        self.uscc_body[group, :14] = self.uscc_body[head, :14]
        serial = int(rng.integers(10, 99 - len(group))) + np.arange(len(group))
        self.uscc_body[group, 14] = _DIGITS[serial // 10]
        self.uscc_body[group, 15] = _DIGITS[serial % 10]
        if same_name:
            self.name_parts[group, :2] = self.name_parts[head, :2]
            self.name_parts[group, 2] = (self.name_parts[head, 2] + np.arange(len(group))) % len(
                _CATEGORIES
            )

    def add_traps(self, rng: np.random.Generator, eligible: np.ndarray, shares: dict[str, float]) -> None:
        """Give shares of the ``eligible`` shops (rows) the honest traits of :data:`SHOP_TRAPS`.

        ``virtual_goods`` shops (a 数码 category, round top-up prices, weightless items) and
        ``jewellery`` shops (饰品, items of a few grams) exclude each other; ``tracking_batch``
        shops print consecutive tracking numbers (never virtual shops); ``five_star_shop`` and
        ``cashback_review`` shops are honest and of good quality.

        Examples
        --------
        >>> shops = make_shops(np.random.default_rng(0), 100, 10_000)
        >>> shops.add_traps(np.random.default_rng(1), np.arange(50), {"jewellery": 0.5})
        >>> int(shops.traps["jewellery"][50:].sum()), bool(shops.item_weight[shops.item_start[
        ...     shops.traps["jewellery"]]].max() < 0.03)
        (0, True)
        """
        draw = rng.random((len(SHOP_TRAPS), len(eligible)))
        virtual = draw[0] < shares.get("virtual_goods", 0.0)
        jewellery = ~virtual & (draw[1] < shares.get("jewellery", 0.0))
        chosen = {
            "virtual_goods": virtual,
            "jewellery": jewellery,
            "tracking_batch": ~virtual & (draw[2] < shares.get("tracking_batch", 0.0)),
            "five_star_shop": draw[3] < shares.get("five_star_shop", 0.0),
            "cashback_review": draw[4] < shares.get("cashback_review", 0.0),
        }
        for name, mask in chosen.items():
            self.traps[name][eligible[mask]] = True
        item_shop = np.repeat(np.arange(len(self)), self.n_items)
        on_virtual = self.traps["virtual_goods"][item_shop]
        self.item_price[on_virtual] = rng.choice(_VIRTUAL_PRICES, size=int(on_virtual.sum()))
        self.item_weight[on_virtual] = 0.0
        on_jewellery = self.traps["jewellery"][item_shop]
        self.item_weight[on_jewellery] = np.round(rng.uniform(0.002, 0.02, int(on_jewellery.sum())), 3)
        self.name_parts[self.traps["virtual_goods"], 2] = _CATEGORIES.index("数码")
        self.name_parts[self.traps["jewellery"], 2] = _CATEGORIES.index("饰品")
        good = self.traps["five_star_shop"] | self.traps["cashback_review"]
        self.quality[good] = np.maximum(self.quality[good], 0.9)

    def add_repeat_purchase(self, rng: np.random.Generator, eligible: np.ndarray, share: float) -> None:
        """Make ``share`` of the ``eligible`` shops (rows) sell consumables (食品, 母婴, 宠物), whose
        customers reorder within weeks (``repeat_purchase``; the reorders are placed by
        :func:`~antifraud.synth.background.honest_orders`). Never virtual goods or jewellery.

        Examples
        --------
        >>> shops = make_shops(np.random.default_rng(0), 100, 10_000)
        >>> shops.add_repeat_purchase(np.random.default_rng(1), np.arange(50), 0.5)
        >>> int(shops.traps["repeat_purchase"][50:].sum()), 10 < int(shops.traps["repeat_purchase"].sum()) < 40
        (0, True)
        """
        chosen = eligible[rng.random(len(eligible)) < share]
        chosen = chosen[~self.traps["virtual_goods"][chosen] & ~self.traps["jewellery"][chosen]]
        self.traps["repeat_purchase"][chosen] = True
        consumables = np.array([_CATEGORIES.index(c) for c in _CONSUMABLES])
        self.name_parts[chosen, 2] = consumables[rng.integers(0, len(consumables), len(chosen))]

    def names(self) -> pa.Array:
        """Shop names such as ``悦禾家居旗舰店``."""
        parts = [
            pa.array(words).take(pa.array(self.name_parts[:, i]))
            for i, words in enumerate((_SYLLABLES, _SYLLABLES, _CATEGORIES, _SUFFIXES))
        ]
        return pc.binary_join_element_wise(*parts, "")

    def uscc(self, rng: np.random.Generator, invalid_share: float) -> pa.Array:
        """Every shop's 18-character credit code (``invalid_share`` with a wrong check char)."""
        return _uscc_codes(rng, self.uscc_body, invalid_share)


def make_shops(rng: np.random.Generator, n: int, n_orders: int) -> Shops:
    """Create ``n`` shops expecting about ``n_orders`` orders between them.

    Popularity follows a Zipf-Mandelbrot law (``1 / (rank + 3) ** 1.05``), so the top 1 % of
    shops take about half of the orders without a single shop dominating. Popular shops list more
    items. Credit codes are 91 (company) or 92 (sole trader),
    with old all-digit or new ``MA``-style organisation codes.

    Examples
    --------
    >>> shops = make_shops(np.random.default_rng(0), 1000, 100_000)
    >>> top = np.sort(shops.popularity)[::-1]
    >>> bool(top[:10].sum() > 0.2), bool(top[0] < 0.1)
    (True, True)
    """
    rank = rng.permutation(n)
    zipf = 1.0 / (rank + 3.0) ** 1.05
    popularity = zipf / zipf.sum()

    expected = popularity * n_orders
    n_items = np.clip(
        np.rint(np.exp(rng.normal(np.log(4), 0.8, n)) + expected / 300), 1, 3000
    ).astype(np.int64)
    item_start = np.concatenate([[0], np.cumsum(n_items)[:-1]])
    item_shop = np.repeat(np.arange(n), n_items)
    price_level = np.exp(rng.normal(np.log(60), 0.8, n))
    price = price_level[item_shop] * np.exp(rng.normal(0.0, 0.5, len(item_shop)))
    item_price = np.maximum(100, np.rint(price * 10).astype(np.int64) * 10) - 10 * (
        rng.random(len(item_shop)) < 0.4
    )
    weight_level = np.exp(rng.normal(np.log(0.5), 0.9, n))
    item_weight = np.clip(
        weight_level[item_shop] * np.exp(rng.normal(0.0, 0.4, len(item_shop))), 0.03, 25.0
    )

    region = pick(rng, np.array([r[3] for r in REGIONS]), n)
    body = np.empty((n, 16), dtype=np.uint8)
    body[:, 0] = ord("9")
    body[:, 1] = np.where(rng.random(n) < 0.7, ord("1"), ord("2"))
    body[:, 2:8] = np.frombuffer("".join(r[1] for r in REGIONS).encode(), dtype=np.uint8).reshape(
        -1, 6
    )[region]
    new_style = rng.random(n) < 0.6
    body[:, 8:16] = _DIGITS[rng.integers(0, 10, size=(n, 8))]
    letters_or_digits = _USCC_ALPHABET[rng.integers(0, len(_USCC_ALPHABET), size=(n, 6))]
    body[new_style, 8] = ord("M")
    body[new_style, 9] = ord("A")
    body[new_style, 10:16] = letters_or_digits[new_style]

    name_parts = np.column_stack(
        [
            rng.integers(0, len(_SYLLABLES), n),
            rng.integers(0, len(_SYLLABLES), n),
            rng.integers(0, len(_CATEGORIES), n),
            rng.integers(0, len(_SUFFIXES), n),
        ]
    )
    return Shops(
        popularity=popularity,
        rank=rank,
        quality=rng.beta(6.0, 1.2, n),
        main_carrier=pick(rng, carrier_shares(), n),
        item_start=item_start,
        n_items=n_items,
        item_price=item_price,
        item_weight=np.round(item_weight, 2),
        uscc_body=body,
        name_parts=name_parts,
        traps={name: np.zeros(n, dtype=bool) for name in (*SHOP_TRAPS, "repeat_purchase")},
    )
