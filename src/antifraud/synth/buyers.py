"""Buyer accounts: the honest population (households, NAT, fresh and loyal buyers) and rings'."""

from __future__ import annotations

import numpy as np

from antifraud.synth.identity import (
    AddressBook,
    new_devices,
    new_home_ips,
    new_nat_ips,
    new_phones,
    pick,
)
from antifraud.synth.timeline import DAY

__all__ = ["Accounts", "honest_accounts"]


class Accounts:
    """Buyer accounts as columns; ring accounts are appended after the honest population.

    Columns: ``registered`` (local seconds, or for *fresh* accounts the gap in seconds between
    registration and first order, resolved by :meth:`registration`), ``fresh``, ``device``,
    ``home_ip``, ``nat_ip``, ``phone``, ``address`` (row in an :class:`AddressBook`),
    ``activity`` (relative honest order rate, 0 for ring accounts) and ``loyal_shop`` (the only
    shop a loyal buyer uses, -1 otherwise).

    Examples
    --------
    >>> acc = Accounts()
    >>> acc.add(registered=np.array([0]), fresh=np.array([False]), device=np.array([1], np.uint64),
    ...         home_ip=np.array([1], np.uint32), nat_ip=np.array([2], np.uint32),
    ...         phone=np.array([13800000000]), address=np.array([0])).tolist()
    [0]
    >>> acc.column("loyal_shop").tolist()
    [-1]
    """

    REQUIRED = ("registered", "fresh", "device", "home_ip", "nat_ip", "phone", "address")
    DEFAULTS = {"activity": 0.0, "loyal_shop": -1}

    def __init__(self) -> None:
        self._chunks: dict[str, list[np.ndarray]] = {
            name: [] for name in self.REQUIRED + tuple(self.DEFAULTS)
        }
        self._cache: dict[str, np.ndarray] = {}
        self.size = 0

    def add(self, **columns: np.ndarray) -> np.ndarray:
        """Append accounts (required columns, optionally the defaulted ones); return their rows."""
        n = len(columns["registered"])
        for name in self.REQUIRED:
            self._chunks[name].append(np.asarray(columns[name]))
        for name, default in self.DEFAULTS.items():
            self._chunks[name].append(np.asarray(columns.get(name, np.full(n, default))))
        self._cache.clear()
        rows = np.arange(self.size, self.size + n)
        self.size += n
        return rows

    def column(self, name: str) -> np.ndarray:
        """One column over every account added so far."""
        if name not in self._cache:
            self._cache[name] = np.concatenate(self._chunks[name])
        return self._cache[name]

    def registration(self, buyer: np.ndarray, created: np.ndarray) -> np.ndarray:
        """Registration times, resolving fresh accounts against their first order.

        ``buyer`` and ``created`` describe every order; accounts without orders keep their gap.
        """
        registered = self.column("registered").copy()
        fresh = self.column("fresh")
        first = np.full(self.size, np.iinfo(np.int64).max)
        np.minimum.at(first, buyer, created)
        resolve = fresh & (first < np.iinfo(np.int64).max)
        registered[resolve] = first[resolve] - registered[resolve]
        return registered


def honest_accounts(
    rng: np.random.Generator,
    n: int,
    window_start: int,
    addresses: AddressBook,
    *,
    household_share: float,
    buyers_per_nat_ip: int,
    fresh_share: float,
    loyal_share: float,
    shop_popularity: np.ndarray,
) -> Accounts:
    """The honest buyer population.

    Activity is heavy-tailed (most buyers order once or twice, a few order dozens of times).
    Households share an address and home IP, sometimes a phone or a family device. Every buyer
    has a carrier NAT address shared with ``buyers_per_nat_ip`` strangers. ``fresh_share`` of the
    buyers register shortly before their first order; ``loyal_share`` only use one shop.

    Examples
    --------
    >>> acc = honest_accounts(np.random.default_rng(0), 1000, 0, AddressBook(), household_share=0.3,
    ...                       buyers_per_nat_ip=100, fresh_share=0.05, loyal_share=0.1,
    ...                       shop_popularity=np.ones(10))
    >>> acc.size, len(np.unique(acc.column("nat_ip"))) <= 10
    (1000, True)
    """
    # households: a share of buyers live with 1-4 others and share an address and home IP
    family = np.flatnonzero(rng.random(n) < household_share)
    sizes = np.minimum(rng.geometric(0.55, size=len(family)) + 1, 5)
    household = np.arange(n)
    household[family] = n + np.repeat(np.arange(len(family)), sizes)[: len(family)]
    _, head, household = np.unique(household, return_index=True, return_inverse=True)
    n_households = len(head)
    not_head = head[household] != np.arange(n)

    address = addresses.add(rng, n_households)[household]
    home_ip = new_home_ips(rng, n_households)[household]
    phone = new_phones(rng, n)
    shared_phone = not_head & (rng.random(n) < 0.3)
    phone[shared_phone] = phone[head[household[shared_phone]]]
    device = new_devices(rng, n)
    shared_device = not_head & (rng.random(n) < 0.1)
    device[shared_device] = device[head[household[shared_device]]]
    n_nat = max(2, -(-n // buyers_per_nat_ip))
    nat_ip = new_nat_ips(rng, n_nat)[rng.integers(0, n_nat, size=n)]

    fresh = rng.random(n) < fresh_share
    years = np.exp(rng.normal(np.log(2.0), 0.8, size=n))
    gap = (rng.exponential(1.5, size=n) * DAY + rng.integers(120, 3 * 3_600, size=n)).astype(
        np.int64
    )
    registered = np.where(
        fresh, gap, window_start - (np.minimum(years, 15) * 365 * DAY).astype(np.int64)
    )

    activity = np.minimum(np.exp(rng.normal(0.0, 1.3, size=n)), 150.0)
    loyal = rng.random(n) < loyal_share
    loyal_shop = np.where(loyal, pick(rng, shop_popularity, n), -1)

    accounts = Accounts()
    accounts.add(
        registered=registered,
        fresh=fresh,
        device=device,
        home_ip=home_ip,
        nat_ip=nat_ip,
        phone=phone,
        address=address,
        activity=activity,
        loyal_shop=loyal_shop,
    )
    return accounts
