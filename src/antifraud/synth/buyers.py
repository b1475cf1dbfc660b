"""Buyer accounts: the honest population (households, NAT, offices, parcel stations, net cafés,
default device ids, fresh, loyal and pasting buyers) and rings'."""

from __future__ import annotations

import numpy as np

from antifraud.synth.identity import (
    DEFAULT_DEVICES,
    AddressBook,
    new_devices,
    new_home_ips,
    new_nat_ips,
    new_phones,
    pick,
)
from antifraud.synth.timeline import DAY, HOUR, MINUTE

__all__ = ["Accounts", "honest_accounts"]

#: Members of one office or campus network, of one net café's clientele, of one parcel station.
OFFICE_SIZE = (15, 80)
CAFE_SIZE = (30, 150)
STATION_SIZE = (100, 400)
#: Share of campus networks among office networks, and who ships to the office or dormitory.
_CAMPUS_SHARE = 0.3
_SHIPS_TO_OFFICE, _SHIPS_TO_CAMPUS = 0.5, 0.9
#: Buyers per default device id before a second buggy id is used.
_PER_DEFAULT_DEVICE = 250


class Accounts:
    """Buyer accounts as columns; ring accounts are appended after the honest population.

    Columns: ``registered`` (local seconds, or for *fresh* accounts the gap in seconds between
    registration and first order, resolved by :meth:`registration`), ``fresh``, ``device``,
    ``home_ip``, ``nat_ip``, ``phone``, ``address`` (row in an :class:`AddressBook`),
    ``activity`` (relative honest order rate, 0 for ring accounts), ``loyal_shop`` (the only
    shop a loyal buyer uses, -1 otherwise) and the honest traps' columns, named for their trap:
    ``household``, ``office_campus``, ``parcel_station`` and ``net_cafe`` (the group an account
    belongs to, -1 for none), ``office_ip`` and ``campus`` (its office network, 0 for none, and
    whether that is a campus used at all hours), ``cafe_ip`` and ``cafe_device`` (its café's IP
    and first terminal, 0 for none) and ``pasted_review`` (pastes one text in every review).

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
    DEFAULTS = {
        "activity": 0.0,
        "loyal_shop": -1,
        "household": -1,
        "office_campus": -1,
        "office_ip": np.uint32(0),
        "campus": False,
        "parcel_station": -1,
        "net_cafe": -1,
        "cafe_ip": np.uint32(0),
        "cafe_device": np.uint64(0),
        "pasted_review": False,
    }

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


def _groups(rng: np.random.Generator, members: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Split ``members`` into groups of about ``size[0]..size[1]`` (one group when fewer); the
    group of each member."""
    target = rng.uniform(size[0], size[1], size=max(1, round(2 * len(members) / sum(size))))
    return pick(rng, target, len(members))


def _assign(n: int, members: np.ndarray, group: np.ndarray) -> np.ndarray:
    column = np.full(n, -1, dtype=np.int64)
    column[members] = group
    return column


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
    office_share: float = 0.0,
    station_share: float = 0.0,
    default_device_share: float = 0.0,
    net_cafe_share: float = 0.0,
    pasted_share: float = 0.0,
) -> Accounts:
    """The honest buyer population.

    Activity is heavy-tailed (most buyers order once or twice, a few order dozens of times).
    Households of 2-4 share an address and home IP, sometimes a phone or a family device. Every
    buyer has a carrier NAT address shared with ``buyers_per_nat_ip`` strangers. ``fresh_share``
    of the buyers register shortly before their first order (half of them minutes before);
    ``loyal_share`` are regulars of one shop who come back again and again.

    The other traps take shares of the buyers: ``office_share`` work or study on an office or
    campus network of 15-80 (and half of the office workers, most students, ship there);
    ``station_share`` of the buyers outside households have their parcels sent to a parcel
    station serving 100-400; ``default_device_share`` have a phone reporting one of
    :data:`~antifraud.synth.identity.DEFAULT_DEVICES`; ``net_cafe_share`` are patrons of a net
    café (30-150 patrons, one IP); ``pasted_share`` paste one text into every review.

    Examples
    --------
    >>> acc = honest_accounts(np.random.default_rng(0), 1000, 0, AddressBook(), household_share=0.3,
    ...                       buyers_per_nat_ip=100, fresh_share=0.05, loyal_share=0.1,
    ...                       shop_popularity=np.ones(10), station_share=0.2)
    >>> acc.size, len(np.unique(acc.column("nat_ip"))) <= 10
    (1000, True)
    >>> int(np.bincount(acc.column("parcel_station")[acc.column("parcel_station") >= 0]).min()) >= 20
    True
    """
    # households: a share of buyers live with 1-3 others and share an address and home IP
    family = np.flatnonzero(rng.random(n) < household_share)
    sizes = np.minimum(rng.geometric(0.55, size=len(family)) + 1, 4)
    household = np.arange(n)
    household[family] = n + np.repeat(np.arange(len(family)), sizes)[: len(family)]
    _, head, household = np.unique(household, return_index=True, return_inverse=True)
    n_households = len(head)
    not_head = head[household] != np.arange(n)
    shared_home = np.bincount(household, minlength=n_households)[household] > 1

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
    gap = np.where(
        rng.random(n) < 0.5,
        rng.integers(MINUTE, 30 * MINUTE, size=n),
        (rng.exponential(1.5, size=n) * DAY + rng.integers(120, 3 * HOUR, size=n)).astype(np.int64),
    )
    registered = np.where(
        fresh, gap, window_start - (np.minimum(years, 15) * 365 * DAY).astype(np.int64)
    )

    activity = np.minimum(np.exp(rng.normal(0.0, 1.3, size=n)), 150.0)
    loyal = rng.random(n) < loyal_share
    loyal_shop = np.where(loyal, pick(rng, shop_popularity, n), -1)
    activity[loyal] = np.maximum(activity[loyal], 1.5)  # regulars come back

    # office and campus networks; some members ship there instead of home
    worker = np.flatnonzero(rng.random(n) < office_share)
    office = _groups(rng, worker, OFFICE_SIZE)
    n_offices = int(office.max()) + 1 if len(worker) else 0
    campus = rng.random(n_offices) < _CAMPUS_SHARE
    venue = np.empty(n_offices, dtype=np.int64)
    venue[campus] = addresses.add(rng, int(campus.sum()), kind="campus")
    venue[~campus] = addresses.add(rng, int((~campus).sum()), kind="office")
    ships = ~shared_home[worker] & (
        rng.random(len(worker)) < np.where(campus[office], _SHIPS_TO_CAMPUS, _SHIPS_TO_OFFICE)
    )
    address[worker[ships]] = venue[office[ships]]
    office_ip = np.zeros(n, dtype=np.uint32)
    office_ip[worker] = new_home_ips(rng, n_offices)[office]
    on_campus = np.zeros(n, dtype=bool)
    on_campus[worker] = campus[office]

    # parcel stations: buyers living alone who are not shipping to their office
    free = ~shared_home
    free[worker[ships]] = False
    collector = np.flatnonzero(free & (rng.random(n) < station_share))
    station = _groups(rng, collector, STATION_SIZE)
    n_stations = int(station.max()) + 1 if len(collector) else 0
    address[collector] = addresses.add(rng, n_stations, kind="station")[station]

    # buggy default device ids, shared by hundreds
    buggy = np.flatnonzero(rng.random(n) < default_device_share)
    n_ids = int(np.clip(len(buggy) // _PER_DEFAULT_DEVICE, 1, len(DEFAULT_DEVICES)))
    device[buggy] = DEFAULT_DEVICES[rng.integers(0, n_ids, size=len(buggy))]

    # net cafés: one IP and a row of terminals for each café's patrons
    patron = np.flatnonzero(rng.random(n) < net_cafe_share)
    cafe = _groups(rng, patron, CAFE_SIZE)
    n_cafes = int(cafe.max()) + 1 if len(patron) else 0
    cafe_ip = np.zeros(n, dtype=np.uint32)
    cafe_ip[patron] = new_home_ips(rng, n_cafes)[cafe]
    cafe_device = np.zeros(n, dtype=np.uint64)
    cafe_device[patron] = new_devices(rng, n_cafes)[cafe]

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
        household=np.where(shared_home, household, -1),
        office_campus=_assign(n, worker, office),
        office_ip=office_ip,
        campus=on_campus,
        parcel_station=_assign(n, collector, station),
        net_cafe=_assign(n, patron, cafe),
        cafe_ip=cafe_ip,
        cafe_device=cafe_device,
        pasted_review=rng.random(n) < pasted_share,
    )
    return accounts
