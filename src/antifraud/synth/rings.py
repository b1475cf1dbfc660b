"""Injected brushing rings, one planner per kind of :data:`antifraud.kinds.RING_KINDS`.

Every ring is a block of accounts ordering from a set of shops within a period; the kinds differ
in where the accounts come from, which shops they serve and how the orders behave, and each
comes in three :class:`~antifraud.synth.plan.Difficulty` levels:

*easy*
    lockstep waves (farms at night), fresh or heavily shared identities, 5-star templates posted
    within minutes, receipt confirmed before the parcel could have arrived.
*medium*
    spread over days to weeks, partly at normal hours; fewer shared identities, some camouflage,
    half the texts organic, confirmation and reviews hours after delivery.
*hard*
    the domain notes' careful rings: 10-25 accounts (farms 30-70) on 1-2 shops (farms 1-3,
    mutual 2-3), spread over two to six weeks at the ordinary daily rhythm, accounts registered
    weeks to years before; items, quantities, shipping, confirmation, review delays and most
    texts as honest buyers have them (:mod:`~antifraud.synth.fulfilment`,
    :mod:`~antifraud.synth.reviews`). Only each kind's own trace is left, weaker:

``dense_block``
    paid buyers (刷手) x promoted shops, 5-star reviews. Hard: real people recruited from the
    honest population (households, offices, NAT; their own honest history is their cover);
    what is left is their coverage of the same one or two shops in the same weeks.
``camouflage``
    the same, with the accounts also buying at popular honest shops. Hard: long-lived paid
    accounts whose cover (three orders per fraud order) spans the whole export.
``hijacked_accounts``
    long-lived active honest accounts suddenly ordering from the same shops, on the hijacker's
    devices and IPs. Hard: all accounts switch at once to a few new devices (one for about
    three accounts) on carrier gateways of their owners' own city (the victims' own NAT
    addresses, shared with thousands of strangers), shipping to the owners' addresses, while the
    owners keep buying as before.
``account_farm``
    fresh accounts sharing devices, IPs, phones and addresses, ordering only from the promoted
    shops. Hard: registered two to eight weeks before their first order, each with its own SIM
    card, online through carrier NAT; some devices (one for about three accounts) and parcel
    addresses are still shared.
``mutual_brushing``
    one operator's accounts (shared phone, address, devices) buy from several shops linked by
    a shared credit-code prefix (互刷). Hard: 6-15 accounts of the operators' family and staff
    (households: a shared address, broadband line or phone here and there); the shops share
    only the credit-code prefix of their common registration agent, not a name.
``empty_parcel``
    tiny parcel weights, one carrier, consecutive tracking numbers, receipt confirmed minutes
    after delivery (空包裹). Hard: parcels of 20-300 g (a token item), shipped and confirmed as
    honest ones, tracking numbers from two to four batches with other customers' parcels in
    between.
``negative_attack``
    a burst of 1-star reviews on a competitor (恶意差评), who is a victim, not a fraud. Hard:
    10-25 long-lived accounts over one to three weeks, 1-2 stars with organic texts, posted
    with honest delays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from antifraud.kinds import RING_KINDS
from antifraud.synth.buyers import Accounts
from antifraud.synth.identity import (
    AddressBook,
    new_devices,
    new_home_ips,
    new_phones,
    pick,
)
from antifraud.synth.logistics import CARRIERS, carrier_shares
from antifraud.synth.plan import Difficulty, OrderPlan, Style
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
    "dense_block": "paid_buyer",
    "camouflage": "paid_buyer",
    "hijacked_accounts": "hijacked",
    "account_farm": "farm",
    "mutual_brushing": "operator",
    "empty_parcel": "paid_buyer",
    "negative_attack": "attacker",
}

#: Rings end this long before the export does, so their orders are confirmed and reviewed.
_TAIL = 7 * DAY
#: Hijacked accounts need this much honest history before the hijack.
_HISTORY = 20 * DAY
#: Share of the fraud-order budget an easy and a medium ring get (hard rings keep to their size).
_BUDGET_WEIGHT = np.array([1.4, 0.6, 0.0])


@dataclass(frozen=True)
class Ring:
    """One injected ring: its id, kind and difficulty (``"easy"``, ``"medium"`` or ``"hard"``).

    Examples
    --------
    >>> Ring("r0001", "account_farm", "easy").kind
    'account_farm'
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
    min_accounts: int  # hard rings draw their size between min and max, whatever the budget
    max_accounts: int = 1_000_000
    night: bool = False  # waves between 1 and 5 am (scripts)


_EASY, _MEDIUM, _HARD = Difficulty
# fmt: off
_PROFILES: dict[tuple[str, Difficulty], _Profile] = {
    ("dense_block", _EASY): _Profile(8, (3, 6), 0.8, (2, 6), 2.0, 1.0, 0.0, 8),
    ("dense_block", _MEDIUM): _Profile(3, (2, 4), 0.5, (14, 30), 0.0, 0.0, 0.5, 4),
    ("dense_block", _HARD): _Profile(3, (1, 2), 0.8, (14, 42), 0.0, 0.0, 0.0, 10, 25),
    ("camouflage", _EASY): _Profile(8, (3, 6), 0.8, (3, 8), 2.0, 1.0, 1.0, 8),
    ("camouflage", _MEDIUM): _Profile(3, (2, 3), 0.5, (14, 30), 0.0, 0.0, 3.0, 4),
    ("camouflage", _HARD): _Profile(3, (1, 2), 0.8, (14, 42), 0.0, 0.0, 3.0, 10, 25),
    ("hijacked_accounts", _EASY): _Profile(4, (2, 4), 0.8, (1, 3), 2.0, 1.0, 0.0, 6),
    ("hijacked_accounts", _MEDIUM): _Profile(2, (1, 3), 0.6, (7, 20), 0.5, 6.0, 0.0, 4),
    ("hijacked_accounts", _HARD): _Profile(2, (1, 2), 0.8, (14, 30), 0.0, 0.0, 0.0, 10, 25),
    ("account_farm", _EASY): _Profile(4, (1, 3), 0.9, (1, 3), 3.0, 1.0, 0.0, 12, night=True),
    ("account_farm", _MEDIUM): _Profile(2, (1, 2), 0.7, (10, 25), 0.0, 0.0, 0.0, 6),
    ("account_farm", _HARD): _Profile(3, (1, 3), 0.7, (14, 42), 0.0, 0.0, 0.2, 30, 70),
    ("mutual_brushing", _EASY): _Profile(12, (3, 6), 1.0, (7, 15), 1.0, 2.0, 0.0, 3, 10),
    ("mutual_brushing", _MEDIUM): _Profile(5, (2, 3), 1.0, (25, 45), 0.0, 0.0, 0.5, 2, 5),
    ("mutual_brushing", _HARD): _Profile(4, (2, 3), 0.8, (21, 45), 0.0, 0.0, 1.0, 6, 15),
    ("empty_parcel", _EASY): _Profile(6, (1, 3), 0.9, (3, 8), 1.5, 2.0, 0.0, 8),
    ("empty_parcel", _MEDIUM): _Profile(2, (1, 2), 0.8, (14, 30), 0.0, 0.0, 0.3, 4),
    ("empty_parcel", _HARD): _Profile(3, (1, 2), 0.8, (14, 42), 0.0, 0.0, 0.5, 10, 25),
    ("negative_attack", _EASY): _Profile(1.3, (1, 1), 1.0, (1, 2), 3.0, 2.0, 0.0, 8),
    ("negative_attack", _MEDIUM): _Profile(1.1, (1, 1), 1.0, (4, 10), 0.0, 0.0, 0.5, 5),
    ("negative_attack", _HARD): _Profile(1.2, (1, 1), 1.0, (7, 21), 0.0, 0.0, 0.5, 10, 25),
}
# fmt: on


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
        self.n_honest = n_honest
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
        self.veteran = ~accounts.column("fresh")[:n_honest] & (registered < self.start - 365 * DAY)
        activity = accounts.column("activity")[:n_honest]
        self.active = activity >= np.quantile(activity, 0.8)
        self.hijackable = list(rng.permutation(np.flatnonzero(self.veteran & self.active)))
        self.paid_buyers = np.empty(0, dtype=np.int64)

    @cached_property
    def recruitable(self) -> list[int]:
        """Honest people who may take up paid brushing (registered over a year before, not the
        most active fifth, who are left to hijackers), in random order."""
        return list(self.rng.permutation(np.flatnonzero(self.veteran & ~self.active)))

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
        mobile: bool = False,
    ) -> np.ndarray:
        """New accounts drawing devices, IPs, phones and addresses from small shared pools.

        The IPs are new home broadband lines, or with ``mobile`` carrier NAT gateways that
        honest strangers use too.
        """
        rng = self.rng

        def pool(values: np.ndarray) -> np.ndarray:
            return values[rng.integers(0, len(values), size=n)]

        n_ips = max(1, round(n / per_ip))
        ips = pool(rng.choice(self.nat_ips, size=n_ips) if mobile else new_home_ips(rng, n_ips))
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
_Kind = Callable[[_Planner, int, int, Difficulty], _Parts]

#: Identity pools of farm accounts (accounts per device, IP, phone, address) and the gap between
#: registration and first order, in seconds.
_FARM_SHARING: dict[Difficulty, dict] = {
    _EASY: dict(per_device=10, per_ip=15, per_phone=8, per_address=20),
    _MEDIUM: dict(per_device=3, per_ip=4, per_phone=3, per_address=5),
    _HARD: dict(per_device=3, per_ip=20, per_phone=1, per_address=3, mobile=True),
}
_FARM_GAP: dict[Difficulty, tuple[int, int]] = {
    _EASY: (5 * MINUTE, 3 * HOUR),
    _MEDIUM: (2 * HOUR, 3 * DAY),
    _HARD: (14 * DAY, 56 * DAY),
}


def _dense(pl: _Planner, n_acc: int, n_shops: int, difficulty: Difficulty) -> _Parts:
    accounts = (
        pl.take(pl.recruitable, n_acc, "honest accounts to recruit")
        if difficulty == _HARD
        else pl.paid(n_acc)
    )
    return accounts, pl.take(pl.tail, n_shops, "tail shops"), {"style": Style.BRUSH}


def _camouflage(pl: _Planner, n_acc: int, n_shops: int, difficulty: Difficulty) -> _Parts:
    return pl.paid(n_acc), pl.take(pl.tail, n_shops, "tail shops"), {"style": Style.BRUSH}


def _hijacked(pl: _Planner, n_acc: int, n_shops: int, difficulty: Difficulty) -> _Parts:
    accounts = pl.take(pl.hijackable, n_acc, "long-lived active honest accounts")
    return accounts, pl.take(pl.tail, n_shops, "tail shops"), {"style": Style.BRUSH}


def _farm(pl: _Planner, n_acc: int, n_shops: int, difficulty: Difficulty) -> _Parts:
    gap = pl.rng.uniform(*_FARM_GAP[difficulty], n_acc)
    accounts = pl.shared(
        n_acc, registered=gap.astype(np.int64), fresh=True, **_FARM_SHARING[difficulty]
    )
    return accounts, pl.take(pl.tail, n_shops, "tail shops"), {"style": Style.BRUSH}


def _mutual(pl: _Planner, n_acc: int, n_shops: int, difficulty: Difficulty) -> _Parts:
    shops = pl.take(pl.tail, max(2, n_shops), "tail shops")
    pl.shops.link(pl.rng, shops, same_name=difficulty != _HARD)
    sharing = {
        _EASY: dict(per_device=n_acc / 2, per_ip=n_acc, per_phone=n_acc, per_address=n_acc),
        _MEDIUM: dict(per_device=2, per_ip=2, per_phone=2, per_address=2),
        _HARD: dict(per_device=1.3, per_ip=2, per_phone=1.5, per_address=2.5),
    }[difficulty]
    accounts = pl.shared(n_acc, registered=pl.veterans(n_acc), fresh=False, **sharing)
    return accounts, shops, {"style": Style.BRUSH}


def _empty_parcel(pl: _Planner, n_acc: int, n_shops: int, difficulty: Difficulty) -> _Parts:
    if difficulty == _HARD:
        accounts = pl.people(n_acc, registered=pl.veterans(n_acc))
    else:
        gap = (pl.rng.uniform(10, 120, n_acc) * DAY).astype(np.int64)
        accounts = pl.people(n_acc, registered=gap, fresh=True)
    return accounts, pl.take(pl.tail, n_shops, "tail shops"), {"style": Style.EMPTY_PARCEL}


def _negative_attack(pl: _Planner, n_acc: int, n_shops: int, difficulty: Difficulty) -> _Parts:
    if difficulty == _EASY:
        gap = (pl.rng.uniform(1, 10, n_acc) * DAY).astype(np.int64)
        accounts = pl.shared(
            n_acc, per_device=4, per_ip=3, per_phone=1, per_address=1, registered=gap, fresh=True
        )
    else:
        accounts = pl.people(n_acc, registered=pl.veterans(n_acc))
    return accounts, pl.take(pl.competitors, 1, "competitor shops"), {"style": Style.ATTACK}


_KINDS: dict[str, _Kind] = {
    "dense_block": _dense,
    "camouflage": _camouflage,
    "hijacked_accounts": _hijacked,
    "account_farm": _farm,
    "mutual_brushing": _mutual,
    "empty_parcel": _empty_parcel,
    "negative_attack": _negative_attack,
}


def _hijacker_overrides(
    pl: _Planner, buyer: np.ndarray, difficulty: Difficulty
) -> dict[str, np.ndarray]:
    """The hijacker logs in from their own devices and IPs: easy, one or two of each (home
    lines); medium, a device for two accounts on random carrier NAT; hard, each account on one of
    a few devices (one for three accounts), on the gateways of the owners' own city."""
    rng = pl.rng
    accounts, account_of = np.unique(buyer, return_inverse=True)
    n_acc = len(accounts)
    if difficulty == _HARD:
        devices = new_devices(rng, max(1, n_acc // 3))
        gateways = np.unique(pl.accounts.column("nat_ip")[accounts])
        return {
            "device": rng.choice(devices, size=n_acc)[account_of],
            "ip": rng.choice(gateways, size=len(buyer)),
        }
    easy = difficulty == _EASY
    devices = new_devices(rng, int(rng.integers(1, 3)) if easy else max(1, n_acc // 2))
    ips = new_home_ips(rng, int(rng.integers(1, 3))) if easy else rng.choice(pl.nat_ips, size=3)
    return {"device": rng.choice(devices, size=len(buyer)), "ip": rng.choice(ips, size=len(buyer))}


def _empty_parcel_overrides(
    pl: _Planner, created: np.ndarray, difficulty: Difficulty
) -> dict[str, np.ndarray]:
    """One carrier and tracking numbers rising in order of creation: easy, consecutive, 10-50 g
    parcels; medium, a few numbers apart; hard, two to four batches bought at different times
    with other customers' parcels in between, 20-300 g (a token item in the parcel)."""
    rng, n = pl.rng, len(created)
    carrier = pick(rng, carrier_shares(), 1)[0]
    if difficulty == _EASY:
        step = np.ones(n, dtype=np.int64)
    elif difficulty == _MEDIUM:
        step = rng.integers(1, 30, size=n)
    else:
        step = rng.integers(1, 200, size=n)
        batches = rng.choice(np.arange(1, max(2, n)), size=min(n - 1, int(rng.integers(1, 4))), replace=False)
        step[batches] += rng.integers(10**5, 10**7, size=len(batches))
    low = 10 ** (CARRIERS[carrier][2] - 1)
    serial = np.empty(n, dtype=np.int64)
    serial[np.argsort(created, kind="stable")] = (
        low + int(rng.integers(0, 8 * low)) + np.cumsum(step)
    )
    if difficulty == _HARD:
        weight = np.clip(np.exp(rng.normal(np.log(0.08), 0.5, size=n)), 0.02, 0.3)
    else:
        weight = rng.uniform(0.01, 0.05, size=n)
    return {"carrier": np.full(n, carrier), "tracking": serial, "weight": np.round(weight, 2)}


def _ring_orders(
    pl: _Planner,
    index: int,
    kind: str,
    difficulty: Difficulty,
    budget: float,
    camouflage_scale: float,
) -> OrderPlan:
    rng, profile = pl.rng, _PROFILES[kind, difficulty]
    n_acc = int(
        np.clip(
            round(budget / profile.orders_per_account), profile.min_accounts, profile.max_accounts
        )
    )
    per_account = max(profile.orders_per_account, budget / n_acc)
    n_shops = int(rng.integers(profile.shops[0], profile.shops[1] + 1))
    accounts, shops, extra = _KINDS[kind](pl, n_acc, n_shops, difficulty)
    acc, shop = _block(rng, len(accounts), len(shops), profile.density, per_account)
    buyer = accounts[acc]
    hijacked = kind == "hijacked_accounts"
    period = pl.period(profile.days, _HISTORY if hijacked else 0)
    created = pl.times(len(buyer), period, profile)
    if hijacked:
        extra |= _hijacker_overrides(pl, buyer, difficulty)
    if kind == "empty_parcel":
        extra |= _empty_parcel_overrides(pl, created, difficulty)
    plans = [
        OrderPlan.build(
            buyer, shops[shop], created, difficulty=difficulty, ring=index, fraud=True, **extra
        )
    ]

    n_camouflage = int(round(profile.camouflage * camouflage_scale * len(buyer)))
    if n_camouflage:
        # hard rings keep up their cover over the whole export, the others around their period
        around = (
            (pl.start, pl.end - _TAIL)
            if difficulty == _HARD
            else (max(pl.start, period[0] - 14 * DAY), min(pl.end - _TAIL, period[1] + 14 * DAY))
        )
        plans.append(
            OrderPlan.build(
                rng.choice(buyer, size=n_camouflage),
                pl.popular_shops(n_camouflage),
                hourly_times(rng, n_camouflage, *around),
                ring=index,
            )
        )
    if hijacked:
        n_history = rng.integers(2, 7, size=len(accounts))
        plans.append(
            OrderPlan.build(
                np.repeat(accounts, n_history),
                pl.popular_shops(int(n_history.sum())),
                hourly_times(rng, int(n_history.sum()), pl.start, period[0]),
            )
        )
    return OrderPlan.concat(plans)


def _difficulties(n_rings: int, medium_share: float, hard_share: float) -> np.ndarray:
    """:class:`Difficulty` codes of ``n_rings`` rings in the given shares (medium, hard, easy)."""
    n_medium = int(round(medium_share * n_rings))
    n_hard = min(int(round(hard_share * n_rings)), n_rings - n_medium)
    levels = np.full(n_rings, _EASY, dtype=np.int8)
    levels[:n_medium] = _MEDIUM
    levels[n_medium : n_medium + n_hard] = _HARD
    return levels


def plan_rings(
    rng: np.random.Generator,
    *,
    rings_per_kind: int,
    medium_share: float,
    hard_share: float,
    camouflage_scale: float,
    fraud_orders: float,
    accounts: Accounts,
    n_honest_accounts: int,
    addresses: AddressBook,
    shops: Shops,
    window: tuple[int, int],
) -> tuple[OrderPlan, list[Ring]]:
    """Plan ``rings_per_kind`` rings of every kind with about ``fraud_orders`` fraud orders in all.

    ``medium_share`` and ``hard_share`` of the rings are medium and hard, the rest easy; every
    ring's camouflage orders are scaled by ``camouflage_scale``. Ring accounts are appended to
    ``accounts``; shops of mutual rings are relinked in ``shops``. Besides fraud orders the plan
    holds the rings' camouflage orders (``ring`` set, ``fraud`` false) and the honest history of
    hijacked accounts (``ring`` -1). Hard rings keep to their own size (drawn from their
    profile's range, whatever the budget); easy and medium ones share the rest of the budget,
    easy ones getting about twice the orders of medium ones.

    Examples
    --------
    >>> from antifraud.synth.buyers import honest_accounts
    >>> from antifraud.synth.shops import make_shops
    >>> rng = np.random.default_rng(0)
    >>> shops, book = make_shops(rng, 200, 20_000), AddressBook()
    >>> acc = honest_accounts(rng, 4000, 0, book, household_share=0.3, buyers_per_nat_ip=400,
    ...                       fresh_share=0.05, loyal_share=0.1, shop_popularity=shops.popularity)
    >>> plan, rings = plan_rings(rng, rings_per_kind=3, medium_share=0.3, hard_share=0.4,
    ...                          camouflage_scale=1.0, fraud_orders=600, accounts=acc,
    ...                          n_honest_accounts=4000, addresses=book, shops=shops,
    ...                          window=(0, 61 * DAY))
    >>> sorted({r.kind for r in rings}) == sorted(RING_KINDS)
    True
    >>> sorted({r.difficulty for r in rings})
    ['easy', 'hard', 'medium']
    """
    kinds = np.repeat(np.array(list(RING_KINDS)), rings_per_kind)
    n_rings = len(kinds)
    levels = _difficulties(n_rings, medium_share, hard_share)
    order = rng.permutation(n_rings)
    kinds, levels = kinds[order], rng.permutation(levels)
    weight = _BUDGET_WEIGHT[levels] * np.exp(rng.normal(0.0, 0.3, n_rings))
    hard = levels == _HARD
    profiles = [_PROFILES[kind, _HARD] for kind in kinds[hard]]
    sizes = rng.integers(
        np.array([p.min_accounts for p in profiles], dtype=np.int64),
        np.array([p.max_accounts for p in profiles], dtype=np.int64) + 1,
    )
    hard_orders = sizes * np.array([p.orders_per_account for p in profiles])
    rest = max(0.0, fraud_orders - hard_orders.sum())
    budgets = rest * weight / weight.sum() if weight.sum() > 0 else weight
    budgets[hard] = hard_orders

    planner = _Planner(rng, accounts, n_honest_accounts, addresses, shops, window)
    plans, rings = [], []
    for index, (kind, level, budget) in enumerate(
        zip(kinds.tolist(), levels.tolist(), budgets.tolist())
    ):
        difficulty = Difficulty(level)
        plans.append(_ring_orders(planner, index, kind, difficulty, budget, camouflage_scale))
        rings.append(Ring(f"r{index + 1:04d}", kind, difficulty.label))
    empty = OrderPlan.build(np.empty(0), np.empty(0), np.empty(0))
    return OrderPlan.concat([empty, *plans]), rings
