"""Injected brushing rings, one planner per kind described in the domain notes.

Every ring is a block of accounts ordering from a set of shops within a period (lockstep waves
for easy rings, the ordinary daily rhythm for hard ones); the kinds differ in where the accounts
come from, which shops they serve and how the orders behave:

``dense``
    paid buyers (刷手) x promoted shops, 5-star templated reviews, fast confirmation.
``camouflage``
    the same, but the accounts also buy from popular honest shops.
``hijacked``
    long-lived honest accounts with real history suddenly order from the same shops in the same
    windows, from the hijacker's devices and IPs.
``farm``
    fresh accounts registered just before their first order, sharing a few devices, IPs, phones
    and addresses, ordering only from the promoted shops.
``mutual``
    one operator's accounts (shared phone, address, devices) buy from several shops linked by a
    shared credit-code prefix and name stem (互刷).
``empty_parcel``
    tiny parcel weights, one carrier, consecutive tracking numbers, receipt confirmed minutes
    after delivery (空包裹).
``one_star_attack``
    a burst of 1-star reviews on a competitor (恶意差评); the competitor is a victim, not a fraud.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from antifraud.synth.buyers import Accounts
from antifraud.synth.config import RING_KINDS
from antifraud.synth.identity import (
    AddressBook,
    new_devices,
    new_home_ips,
    new_phones,
    pick,
)
from antifraud.synth.logistics import CARRIERS, carrier_shares
from antifraud.synth.plan import OrderPlan, Style
from antifraud.synth.shops import Shops
from antifraud.synth.timeline import (
    DAY,
    HOUR,
    MINUTE,
    NIGHT_HOURS,
    RHYTHM_HOURS,
    hourly_times,
    wave_times,
)

__all__ = ["ROLES", "Ring", "plan_rings"]

#: Role of an account in truth/accounts.csv by the kind of the (first) ring it belongs to.
ROLES: dict[str, str] = {
    "dense": "paid_buyer",
    "camouflage": "paid_buyer",
    "hijacked": "hijacked",
    "farm": "farm",
    "mutual": "operator",
    "empty_parcel": "paid_buyer",
    "one_star_attack": "attacker",
}

#: Rings end this long before the export does, so their orders are confirmed and reviewed.
_TAIL = 7 * DAY
#: Hijacked accounts need this much honest history before the hijack.
_HISTORY = 20 * DAY


@dataclass(frozen=True)
class Ring:
    """One injected ring: its id, kind and difficulty (``"easy"`` or ``"hard"``).

    Examples
    --------
    >>> Ring("r0001", "farm", "easy").kind
    'farm'
    """

    ring_id: str
    kind: str
    difficulty: str


@dataclass(frozen=True)
class _Profile:
    orders_per_account: float
    shops: tuple[int, int]
    density: float
    days: tuple[float, float]
    waves_per_day: float  # 0: orders follow the ordinary rhythm instead of waves
    wave_hours: float
    camouflage: float  # honest-looking orders at popular shops per fraud order
    min_accounts: int
    max_accounts: int = 1_000_000
    night: bool = False  # waves between 1 and 5 am (scripts)


_EASY, _HARD = False, True
_PROFILES: dict[tuple[str, bool], _Profile] = {
    ("dense", _EASY): _Profile(8, (3, 6), 0.8, (2, 6), 2.0, 1.0, 0.0, 8),
    ("dense", _HARD): _Profile(3, (2, 4), 0.5, (14, 30), 0.0, 0.0, 0.5, 4),
    ("camouflage", _EASY): _Profile(8, (3, 6), 0.8, (3, 8), 2.0, 1.0, 1.0, 8),
    ("camouflage", _HARD): _Profile(3, (2, 3), 0.5, (14, 30), 0.0, 0.0, 3.0, 4),
    ("hijacked", _EASY): _Profile(4, (2, 4), 0.8, (1, 3), 2.0, 1.0, 0.0, 6),
    ("hijacked", _HARD): _Profile(2, (1, 3), 0.6, (7, 20), 0.5, 6.0, 0.0, 4),
    ("farm", _EASY): _Profile(4, (1, 3), 0.9, (1, 3), 3.0, 1.0, 0.0, 12, night=True),
    ("farm", _HARD): _Profile(2, (1, 2), 0.7, (10, 25), 0.0, 0.0, 0.0, 6),
    ("mutual", _EASY): _Profile(12, (3, 6), 1.0, (7, 15), 1.0, 2.0, 0.0, 3, max_accounts=10),
    ("mutual", _HARD): _Profile(5, (2, 3), 1.0, (25, 45), 0.0, 0.0, 0.5, 2, max_accounts=5),
    ("empty_parcel", _EASY): _Profile(6, (1, 3), 0.9, (3, 8), 1.5, 2.0, 0.0, 8),
    ("empty_parcel", _HARD): _Profile(2, (1, 2), 0.8, (14, 30), 0.0, 0.0, 0.3, 4),
    ("one_star_attack", _EASY): _Profile(1.3, (1, 1), 1.0, (1, 2), 3.0, 2.0, 0.0, 8),
    ("one_star_attack", _HARD): _Profile(1.1, (1, 1), 1.0, (4, 10), 0.0, 0.0, 0.5, 5),
}


class _Planner:
    """State shared by the rings of one export: accounts, shop pools, window."""

    def __init__(
        self,
        rng: np.random.Generator,
        accounts: Accounts,
        n_honest: int,
        addresses: AddressBook,
        shops: Shops,
        window: tuple[int, int],
    ) -> None:
        self.rng = rng
        self.accounts = accounts
        self.addresses = addresses
        self.shops = shops
        self.start, self.end = window
        n = len(shops)
        by_rank = np.argsort(shops.rank)
        # promoted shops are small ones from the long tail; victims are successful competitors
        self.tail = list(rng.permutation(by_rank[n // 5 :]))
        self.competitors = list(rng.permutation(by_rank[max(1, n // 100) : max(2, n // 10)]))
        # camouflage and hijacked accounts' history go to the popular fifth, never a promoted shop
        self.popular = by_rank[: n // 5]
        self.nat_ips = np.unique(accounts.column("nat_ip")[:n_honest])
        registered = accounts.column("registered")[:n_honest]
        activity = accounts.column("activity")[:n_honest]
        veteran = ~accounts.column("fresh")[:n_honest] & (registered < self.start - 365 * DAY)
        active = activity >= np.quantile(activity, 0.8)
        self.hijackable = list(rng.permutation(np.flatnonzero(veteran & active)))
        self.paid_buyers = np.empty(0, dtype=np.int64)

    # -- shops ---------------------------------------------------------------------------
    def take(self, pool: list[int], n: int, what: str) -> np.ndarray:
        if len(pool) < n:
            raise ValueError(
                f"not enough {what} for the requested rings; raise n_shops or lower rings_per_kind"
            )
        taken = np.array(pool[:n], dtype=np.int64)
        del pool[:n]
        return taken

    def popular_shops(self, n: int) -> np.ndarray:
        """``n`` shops drawn by popularity among the popular fifth."""
        return self.popular[pick(self.rng, self.shops.popularity[self.popular], n)]

    # -- accounts ------------------------------------------------------------------------
    def people(self, n: int, *, registered: np.ndarray, fresh: bool = False) -> np.ndarray:
        """New accounts of real, distinct people (own device, phone, address, home IP)."""
        rng = self.rng
        return self.accounts.add(
            registered=registered,
            fresh=np.full(n, fresh),
            device=new_devices(rng, n),
            home_ip=new_home_ips(rng, n),
            nat_ip=rng.choice(self.nat_ips, size=n),
            phone=new_phones(rng, n),
            address=self.addresses.add(rng, n),
        )

    def veterans(self, n: int) -> np.ndarray:
        """Registration times of long-lived accounts (months to years before the window)."""
        days = np.exp(self.rng.normal(np.log(700), 0.6, size=n))
        return self.start - (days * DAY).astype(np.int64)

    def paid(self, n: int) -> np.ndarray:
        """Paid buyers (刷手); about one in ten already works for another ring."""
        reuse = min(len(self.paid_buyers), self.rng.binomial(n, 0.1))
        old = self.rng.choice(self.paid_buyers, size=reuse, replace=False)
        new = self.people(n - reuse, registered=self.veterans(n - reuse))
        self.paid_buyers = np.concatenate([self.paid_buyers, new])
        return np.concatenate([old, new])

    def shared(
        self,
        n: int,
        *,
        per_device: float,
        per_ip: float,
        per_phone: float,
        per_address: float,
        registered: np.ndarray,
        fresh: bool,
    ) -> np.ndarray:
        """New accounts drawing devices, IPs, phones and addresses from small shared pools."""
        rng = self.rng

        def pool(values: np.ndarray) -> np.ndarray:
            return values[rng.integers(0, len(values), size=n)]

        ips = pool(new_home_ips(rng, max(1, round(n / per_ip))))
        return self.accounts.add(
            registered=registered,
            fresh=np.full(n, fresh),
            device=pool(new_devices(rng, max(1, round(n / per_device)))),
            home_ip=ips,
            nat_ip=ips,
            phone=pool(new_phones(rng, max(1, round(n / per_phone)))),
            address=pool(self.addresses.add(rng, max(1, round(n / per_address)))),
        )

    # -- time ----------------------------------------------------------------------------
    def period(self, days: tuple[float, float], history: int = 0) -> tuple[int, int]:
        first, last = self.start + history, self.end - _TAIL
        length = min(int(self.rng.uniform(*days) * DAY), last - first - HOUR)
        begin = first + int(self.rng.integers(0, last - first - length)) // HOUR * HOUR
        return begin, begin + length

    def times(self, n: int, period: tuple[int, int], profile: _Profile) -> np.ndarray:
        if profile.waves_per_day == 0:
            return hourly_times(self.rng, n, *period)
        n_waves = max(1, round(profile.waves_per_day * (period[1] - period[0]) / DAY))
        times, _ = wave_times(
            self.rng,
            n,
            *period,
            n_waves,
            int(profile.wave_hours * HOUR),
            NIGHT_HOURS if profile.night else RHYTHM_HOURS,
        )
        return times


def _block(
    rng: np.random.Generator, n_accounts: int, n_shops: int, density: float, per_account: float
) -> tuple[np.ndarray, np.ndarray]:
    """Account x shop pairs of a dense block, every account and shop used at least once.

    Each account uses each shop with probability ``density`` (at most ``per_account`` shops on
    average) and places about ``per_account`` orders spread over its shops.
    """
    density = min(density, per_account / n_shops)
    uses = rng.random((n_accounts, n_shops)) < density
    uses[np.arange(n_accounts), rng.integers(0, n_shops, n_accounts)] = True
    uses[rng.integers(0, n_accounts, n_shops), np.arange(n_shops)] = True
    account, shop = np.nonzero(uses)
    repeat = 1 + rng.poisson(np.maximum(0.0, per_account / uses.sum(axis=1)[account] - 1.0))
    return np.repeat(account, repeat), np.repeat(shop, repeat)


# -- the kinds: each returns (accounts, shops) and the orders' extra columns --------------------

_Parts = tuple[np.ndarray, np.ndarray, dict]


def _dense(pl: _Planner, n_acc: int, n_shops: int, hard: bool) -> _Parts:
    return pl.paid(n_acc), pl.take(pl.tail, n_shops, "tail shops"), {"style": Style.BRUSH}


def _hijacked(pl: _Planner, n_acc: int, n_shops: int, hard: bool) -> _Parts:
    accounts = pl.take(pl.hijackable, n_acc, "long-lived active honest accounts")
    return accounts, pl.take(pl.tail, n_shops, "tail shops"), {"style": Style.BRUSH}


def _farm(pl: _Planner, n_acc: int, n_shops: int, hard: bool) -> _Parts:
    gap = (
        pl.rng.uniform(2 * HOUR, 3 * DAY, n_acc)
        if hard
        else pl.rng.uniform(5 * MINUTE, 3 * HOUR, n_acc)
    )
    sharing = (
        dict(per_device=3, per_ip=4, per_phone=3, per_address=5)
        if hard
        else dict(per_device=10, per_ip=15, per_phone=8, per_address=20)
    )
    accounts = pl.shared(n_acc, registered=gap.astype(np.int64), fresh=True, **sharing)
    return accounts, pl.take(pl.tail, n_shops, "tail shops"), {"style": Style.BRUSH}


def _mutual(pl: _Planner, n_acc: int, n_shops: int, hard: bool) -> _Parts:
    shops = pl.take(pl.tail, max(2, n_shops), "tail shops")
    pl.shops.link(pl.rng, shops)
    sharing = (
        dict(per_device=2, per_ip=2, per_phone=2, per_address=2)
        if hard
        else dict(per_device=n_acc / 2, per_ip=n_acc, per_phone=n_acc, per_address=n_acc)
    )
    accounts = pl.shared(n_acc, registered=pl.veterans(n_acc), fresh=False, **sharing)
    return accounts, shops, {"style": Style.BRUSH}


def _empty_parcel(pl: _Planner, n_acc: int, n_shops: int, hard: bool) -> _Parts:
    gap = (pl.rng.uniform(10, 120, n_acc) * DAY).astype(np.int64)
    accounts = pl.people(n_acc, registered=gap, fresh=True)
    return accounts, pl.take(pl.tail, n_shops, "tail shops"), {"style": Style.EMPTY_PARCEL}


def _one_star_attack(pl: _Planner, n_acc: int, n_shops: int, hard: bool) -> _Parts:
    if hard:
        accounts = pl.people(n_acc, registered=pl.veterans(n_acc))
    else:
        gap = (pl.rng.uniform(1, 10, n_acc) * DAY).astype(np.int64)
        accounts = pl.shared(
            n_acc, per_device=4, per_ip=3, per_phone=1, per_address=1, registered=gap, fresh=True
        )
    return accounts, pl.take(pl.competitors, 1, "competitor shops"), {"style": Style.ATTACK}


_KINDS: dict[str, Callable[[_Planner, int, int, bool], _Parts]] = {
    "dense": _dense,
    "camouflage": _dense,
    "hijacked": _hijacked,
    "farm": _farm,
    "mutual": _mutual,
    "empty_parcel": _empty_parcel,
    "one_star_attack": _one_star_attack,
}


def _hijacker_overrides(pl: _Planner, buyer: np.ndarray, hard: bool) -> dict[str, np.ndarray]:
    """The hijacker logs in from their own devices and IPs (hard: mobile NAT, looks normal)."""
    rng, n_acc = pl.rng, len(np.unique(buyer))
    devices = new_devices(rng, max(1, n_acc // 2) if hard else int(rng.integers(1, 3)))
    ips = rng.choice(pl.nat_ips, size=3) if hard else new_home_ips(rng, int(rng.integers(1, 3)))
    return {"device": rng.choice(devices, size=len(buyer)), "ip": rng.choice(ips, size=len(buyer))}


def _empty_parcel_overrides(pl: _Planner, created: np.ndarray, hard: bool) -> dict[str, np.ndarray]:
    """One carrier, consecutive tracking numbers in order of creation, 10-50 g parcels."""
    rng, n = pl.rng, len(created)
    carrier = pick(rng, carrier_shares(), 1)[0]
    step = rng.integers(1, 30, size=n) if hard else np.ones(n, dtype=np.int64)
    low = 10 ** (CARRIERS[carrier][2] - 1)
    serial = np.empty(n, dtype=np.int64)
    serial[np.argsort(created, kind="stable")] = (
        low + int(rng.integers(0, 8 * low)) + np.cumsum(step)
    )
    return {
        "carrier": np.full(n, carrier),
        "tracking": serial,
        "weight": np.round(rng.uniform(0.01, 0.05, size=n), 2),
    }


def _ring_orders(pl: _Planner, index: int, kind: str, hard: bool, budget: float) -> OrderPlan:
    rng, profile = pl.rng, _PROFILES[kind, hard]
    n_acc = int(
        np.clip(
            round(budget / profile.orders_per_account), profile.min_accounts, profile.max_accounts
        )
    )
    per_account = max(profile.orders_per_account, budget / n_acc)
    n_shops = int(rng.integers(profile.shops[0], profile.shops[1] + 1))
    accounts, shops, extra = _KINDS[kind](pl, n_acc, n_shops, hard)
    acc, shop = _block(rng, len(accounts), len(shops), profile.density, per_account)
    buyer = accounts[acc]
    period = pl.period(profile.days, _HISTORY if kind == "hijacked" else 0)
    created = pl.times(len(buyer), period, profile)
    if kind == "hijacked":
        extra |= _hijacker_overrides(pl, buyer, hard)
    if kind == "empty_parcel":
        extra |= _empty_parcel_overrides(pl, created, hard)
    plans = [
        OrderPlan.build(buyer, shops[shop], created, hard=hard, ring=index, fraud=True, **extra)
    ]

    n_camouflage = int(round(profile.camouflage * len(buyer)))
    if n_camouflage:
        around = (max(pl.start, period[0] - 14 * DAY), min(pl.end - _TAIL, period[1] + 14 * DAY))
        plans.append(
            OrderPlan.build(
                rng.choice(buyer, size=n_camouflage),
                pl.popular_shops(n_camouflage),
                hourly_times(rng, n_camouflage, *around),
                ring=index,
            )
        )
    if kind == "hijacked":
        n_history = rng.integers(2, 7, size=len(accounts))
        plans.append(
            OrderPlan.build(
                np.repeat(accounts, n_history),
                pl.popular_shops(int(n_history.sum())),
                hourly_times(rng, int(n_history.sum()), pl.start, period[0]),
            )
        )
    return OrderPlan.concat(plans)


def plan_rings(
    rng: np.random.Generator,
    *,
    rings_per_kind: int,
    hard_share: float,
    fraud_orders: float,
    accounts: Accounts,
    n_honest_accounts: int,
    addresses: AddressBook,
    shops: Shops,
    window: tuple[int, int],
) -> tuple[OrderPlan, list[Ring]]:
    """Plan ``rings_per_kind`` rings of every kind with about ``fraud_orders`` fraud orders in all.

    Ring accounts are appended to ``accounts``; shops of mutual rings are relinked in
    ``shops``. Besides fraud orders the plan holds the rings' camouflage orders (``ring`` set,
    ``fraud`` false) and the honest history of hijacked accounts (``ring`` -1). Easy rings get
    about twice the orders of hard ones.

    Examples
    --------
    >>> from antifraud.synth.buyers import honest_accounts
    >>> from antifraud.synth.shops import make_shops
    >>> rng = np.random.default_rng(0)
    >>> shops, book = make_shops(rng, 200, 20_000), AddressBook()
    >>> acc = honest_accounts(rng, 4000, 0, book, household_share=0.3, buyers_per_nat_ip=400,
    ...                       fresh_share=0.05, loyal_share=0.1, shop_popularity=shops.popularity)
    >>> plan, rings = plan_rings(rng, rings_per_kind=1, hard_share=0.5, fraud_orders=600,
    ...                          accounts=acc, n_honest_accounts=4000, addresses=book, shops=shops,
    ...                          window=(0, 61 * DAY))
    >>> sorted({r.kind for r in rings}) == sorted(RING_KINDS)
    True
    """
    kinds = np.repeat(np.array(RING_KINDS), rings_per_kind)
    n_rings = len(kinds)
    hard = np.zeros(n_rings, dtype=bool)
    hard[: int(round(hard_share * n_rings))] = True
    order = rng.permutation(n_rings)
    kinds, hard = kinds[order], rng.permutation(hard)
    weight = np.where(hard, 0.6, 1.4) * np.exp(rng.normal(0.0, 0.3, n_rings))
    budgets = fraud_orders * weight / weight.sum()

    planner = _Planner(rng, accounts, n_honest_accounts, addresses, shops, window)
    plans, rings = [], []
    for index, (kind, is_hard, budget) in enumerate(
        zip(kinds.tolist(), hard.tolist(), budgets.tolist())
    ):
        plans.append(_ring_orders(planner, index, kind, is_hard, budget))
        rings.append(Ring(f"r{index + 1:04d}", kind, "hard" if is_hard else "easy"))
    empty = OrderPlan.build(np.empty(0), np.empty(0), np.empty(0))
    return OrderPlan.concat([empty, *plans]), rings
