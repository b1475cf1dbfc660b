"""What a brushing ring does: the behaviour vocabulary every stage shares.

The detectors name the groups they find with these kinds, the ensemble names each ring by the
behaviour its evidence shows, the findings and ``acr/1`` records carry the kind's category, and
the synthetic generator plants rings of each kind (its ground truth uses the same names).
"""

from __future__ import annotations

__all__ = ["KIND_WORDS", "RING_KINDS", "category"]

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
