"""What a brushing ring does: the behaviour vocabulary every stage shares.

The detectors name the groups they find with these kinds, the ensemble names each ring by the
behaviour its evidence shows, the findings and ``acr/1`` records carry the kind's category, and
the synthetic generator plants rings of each kind (its ground truth uses the same names).
"""

from __future__ import annotations

__all__ = ["KIND_WORDS", "KIND_WORDS_ZH", "RING_KINDS", "category"]

#: Every kind of ring, as described in the domain notes, with its ``acr/1`` behaviour category.
RING_KINDS: dict[str, str] = {
    # paid buyers (刷手) ordering from the same shops in the same windows
    "dense_block": "fake_transaction",
    # the same, hidden among purchases at popular honest shops
    "camouflage": "fake_transaction",
    # long-lived accounts taken over and used together
    "hijacked_accounts": "fake_transaction",
    # fresh accounts registered in bulk, sharing identities (恶意注册)
    "account_farm": "malicious_registration",
    # shops whose operators' accounts buy from each other (互刷)
    "mutual_brushing": "fake_transaction",
    # tracking numbers without goods (空包裹)
    "empty_parcel": "empty_parcel",
    # bursts of bad reviews at a competitor, who is the victim (恶意差评)
    "negative_attack": "malicious_negative_review",
}


#: What a ring of each kind is, in a few words, for the summaries people read.
KIND_WORDS: dict[str, str] = {
    "dense_block": "paid buyers ordering from the same shops in the same windows",
    "camouflage": "paid buyers hiding among purchases at popular shops",
    "hijacked_accounts": "long-lived accounts taken over and used together",
    "account_farm": "accounts registered in bulk that share identities",
    "mutual_brushing": "shops whose operators buy from each other",
    "empty_parcel": "orders shipped as empty parcels",
    "negative_attack": "a burst of bad reviews at a competitor",
}

#: :data:`KIND_WORDS` in Chinese, for the regulator's report (same keys).
KIND_WORDS_ZH: dict[str, str] = {
    "dense_block": "刷手在相同时段集中向相同店铺下单",
    "camouflage": "刷手混在热门店铺的正常购买之中下单",
    "hijacked_accounts": "长期存在的账户被他人接管后一起使用",
    "account_farm": "批量注册且共用身份信息的账户",
    "mutual_brushing": "几家店铺的经营者相互购买对方的商品",
    "empty_parcel": "以空包裹发货的订单",
    "negative_attack": "针对竞争对手店铺集中发布差评",
}


def category(kind: str) -> str:
    """The ``acr/1`` behaviour category of a ring of ``kind``.

    Raises
    ------
    KeyError
        For a kind outside :data:`RING_KINDS`.

    Examples
    --------
    >>> category("negative_attack"), category("account_farm")
    ('malicious_negative_review', 'malicious_registration')
    """
    return RING_KINDS[kind]
