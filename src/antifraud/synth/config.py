"""What a synthetic export should look like: :class:`SynthConfig`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from antifraud.synth.traps import TRAP_NAMES, check_traps

__all__ = ["SynthConfig"]

_MIN_ORDERS = 2_000
_MIN_DAYS = 28


def _as_date(value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


@dataclass(frozen=True)
class SynthConfig:
    """Parameters of a synthetic order/review export with planted brushing rings.

    Every field has a sensible default; sizes left as ``None`` are derived from ``n_orders``
    (see :meth:`resolved`). Dates may be given as ISO strings (``"2024-11-11"``).

    Parameters
    ----------
    n_orders : int
        Exact number of orders (rows) in the export, honest and fraudulent together.
    seed : int
        Seed of the random generator; the same configuration gives byte-identical files.
    start : datetime.date
        First day of the export window (local China time).
    days : int
        Length of the export window in days (at least 28).
    n_buyers : int or None
        Size of the honest buyer pool (``n_orders // 5``); not every buyer places an order.
        Ring accounts come on top of it.
    n_shops : int or None
        Number of shops (``n_orders // 80``, at least 50).
    fraud_share : float
        Target share of orders that are fraudulent (approximate: small rings are padded to a
        minimum size; camouflage orders placed by ring accounts at honest shops are not fraud).
        0 gives an export without any ring.
    rings_per_kind : int or None
        Rings injected of each kind in :data:`antifraud.kinds.RING_KINDS` (``n_orders // 50_000``,
        at least 1).
    medium_share, hard_share : float
        Shares of rings that are *medium* (smaller groups, fewer orders per account, longer
        periods, some camouflage, half-templated reviews) and *hard* (the careful rings of the
        domain notes, see :mod:`antifraud.synth.rings`); the rest are *easy*. The defaults keep
        the bench of earlier releases (half easy, half medium); :func:`antifraud.synth.bench_config`
        mixes in hard rings.
    camouflage_scale : float
        Factor on every ring's camouflage orders (honest-looking purchases at popular shops).
    festival_day : datetime.date or None
        A 双十一-style sales festival (midnight rush on the biggest shops); ``None`` for none.
    festival_share : float
        Share of honest orders placed in the festival rush.
    review_share : float
        Share of completed honest orders that carry a review (including the platform's default
        review for buyers who never write one).
    household_share : float
        Share of honest buyers living in a multi-person household (shared address and home IP,
        sometimes a shared phone or device).
    mobile_share : float
        Share of honest orders placed over a mobile network, behind carrier NAT.
    buyers_per_nat_ip : int
        Honest buyers behind each carrier NAT address (hundreds of strangers share one IP).
    fresh_share : float
        Share of honest buyers who register shortly before their first order.
    loyal_share : float
        Share of honest buyers who only ever buy from one favourite shop.
    repeat_share : float
        Share of shops selling consumables, whose customers reorder there within weeks.
    invalid_uscc_share : float
        Share of shops whose credit code has a wrong check character.
    traps : collection of str
        The honest traps switched on (names of :data:`antifraud.synth.traps.TRAPS`; all by
        default, ``()`` for none). A trap switched off ignores its share below.
    drop_share : float
        Share of orders placed in product drops (fans buying a mid-size shop's new item).
    incident_share : float
        Share of orders that come from a shop's bad batch (quality incidents).
    office_share : float
        Share of honest buyers on an office or campus network.
    station_share : float
        Share of honest buyers who have their parcels sent to a parcel station (驿站).
    privacy_share : float
        Share of honest orders shipped with a privacy number (隐私号) instead of the phone.
    default_device_share : float
        Share of honest buyers whose phone reports a buggy default device id.
    net_cafe_share : float
        Share of honest buyers who sometimes order from a net café.
    pasted_share : float
        Share of honest buyers who paste the same review text every time.
    cashback_share : float
        Share of shops that pay cashback for a five-star review with the text they hand out.
    five_star_share : float
        Share of shops whose buyers honestly give 98 % five stars.
    virtual_share : float
        Share of shops selling virtual goods (no parcel, confirmed within minutes).
    jewellery_share : float
        Share of shops selling jewellery (parcels of a few grams).
    tracking_batch_share : float
        Share of shops whose tracking numbers are consecutive within each day's batch.
    masked_share : float
        Share of orders whose phone is exported masked (``138****1234``).

    Examples
    --------
    >>> cfg = SynthConfig(n_orders=20_000, seed=3)
    >>> cfg.resolved().n_shops, cfg.resolved().rings_per_kind
    (250, 1)
    >>> SynthConfig(festival_day="2024-11-11").festival_day
    datetime.date(2024, 11, 11)
    >>> sorted(SynthConfig(fraud_share=0, traps={"parcel_station"}).traps)
    ['parcel_station']
    """

    n_orders: int = 100_000
    seed: int = 0
    start: dt.date = dt.date(2024, 10, 1)
    days: int = 61
    n_buyers: int | None = None
    n_shops: int | None = None
    fraud_share: float = 0.03
    rings_per_kind: int | None = None
    medium_share: float = 0.5
    hard_share: float = 0.0
    camouflage_scale: float = 1.0
    festival_day: dt.date | None = dt.date(2024, 11, 11)
    festival_share: float = 0.10
    review_share: float = 0.55
    household_share: float = 0.3
    mobile_share: float = 0.4
    buyers_per_nat_ip: int = 400
    fresh_share: float = 0.05
    loyal_share: float = 0.1
    repeat_share: float = 0.1
    invalid_uscc_share: float = 0.01
    traps: Collection[str] = frozenset(TRAP_NAMES)
    drop_share: float = 0.005
    incident_share: float = 0.002
    office_share: float = 0.04
    station_share: float = 0.05
    privacy_share: float = 0.05
    default_device_share: float = 0.01
    net_cafe_share: float = 0.01
    pasted_share: float = 0.03
    cashback_share: float = 0.03
    five_star_share: float = 0.05
    virtual_share: float = 0.03
    jewellery_share: float = 0.03
    tracking_batch_share: float = 0.3
    masked_share: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _as_date(self.start))
        object.__setattr__(self, "traps", check_traps(self.traps))
        object.__setattr__(self, "festival_day", _as_date(self.festival_day))
        if self.n_orders < _MIN_ORDERS:
            raise ValueError(f"n_orders must be at least {_MIN_ORDERS}, got {self.n_orders}")
        if self.days < _MIN_DAYS:
            raise ValueError(f"days must be at least {_MIN_DAYS}, got {self.days}")
        for name in ("n_buyers", "n_shops", "rings_per_kind"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be positive, got {value}")
        if self.camouflage_scale < 0:
            raise ValueError(f"camouflage_scale must not be negative, got {self.camouflage_scale}")
        if self.buyers_per_nat_ip < 1:
            raise ValueError(f"buyers_per_nat_ip must be positive, got {self.buyers_per_nat_ip}")
        for name in (
            "fraud_share",
            "medium_share",
            "hard_share",
            "festival_share",
            "review_share",
            "household_share",
            "mobile_share",
            "fresh_share",
            "loyal_share",
            "repeat_share",
            "invalid_uscc_share",
            "drop_share",
            "incident_share",
            "office_share",
            "station_share",
            "privacy_share",
            "default_device_share",
            "net_cafe_share",
            "pasted_share",
            "cashback_share",
            "five_star_share",
            "virtual_share",
            "jewellery_share",
            "tracking_batch_share",
            "masked_share",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.medium_share + self.hard_share > 1.0:
            raise ValueError(
                f"medium_share + hard_share must be at most 1, got {self.medium_share + self.hard_share}"
            )
        if self.fraud_share > 0.3:
            raise ValueError(f"fraud_share above 0.3 is not a realistic export: {self.fraud_share}")
        if self.festival_day is not None and not (
            self.start <= self.festival_day < self.end - dt.timedelta(days=1)
        ):
            raise ValueError(
                f"festival_day {self.festival_day} must fall inside the window "
                f"{self.start}..{self.end - dt.timedelta(days=2)}"
            )

    @property
    def end(self) -> dt.date:
        """The day after the export window (exclusive end)."""
        return self.start + dt.timedelta(days=self.days)

    def resolved(self) -> SynthConfig:
        """A copy with every derived size (``None`` fields) filled in.

        Examples
        --------
        >>> SynthConfig(n_orders=1_000_000).resolved().n_buyers
        200000
        """
        return dataclasses.replace(
            self,
            n_buyers=self.n_buyers or max(200, self.n_orders // 5),
            n_shops=self.n_shops or max(50, self.n_orders // 80),
            rings_per_kind=self.rings_per_kind or max(1, self.n_orders // 50_000),
        )

    def to_dict(self) -> dict[str, Any]:
        """The configuration as JSON-ready values (dates as ISO strings).

        Examples
        --------
        >>> SynthConfig().to_dict()["start"]
        '2024-10-01'
        >>> SynthConfig(traps={"net_cafe", "household"}).to_dict()["traps"]
        ['household', 'net_cafe']
        """
        values = dataclasses.asdict(self)
        values["traps"] = [name for name in TRAP_NAMES if name in self.traps]
        return {key: value.isoformat() if isinstance(value, dt.date) else value for key, value in values.items()}
