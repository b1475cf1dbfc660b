"""Honest traps: legitimate traffic that looks like brushing to a naive detector.

:data:`TRAPS` is the one list of them (the domain notes' "What honest traffic looks like"), each
with the :class:`~antifraud.synth.SynthConfig` field that sets how much of it there is;
``SynthConfig(traps=...)`` switches them on and off. Where each is modelled:

- accounts (:mod:`antifraud.synth.buyers`): households, office and campus networks, parcel
  stations, default device ids, net cafés, loyal regulars, fresh accounts, pasted reviews;
- shops (:mod:`antifraud.synth.shops`): virtual goods, jewellery, tracking batches, five-star
  shops, cashback-for-review shops, repeat-purchase shops (whose reorders the background places,
  :mod:`antifraud.synth.background`);
- shop events (:mod:`antifraud.synth.events`): product drops and quality incidents; the festival
  rush is part of the background (:mod:`antifraud.synth.background`);
- orders (:mod:`antifraud.synth.orders`): carrier NAT, privacy numbers, masked phones;
- reviews (:mod:`antifraud.synth.reviews`): default short texts.

Examples
--------
>>> TRAP_NAMES[:3]
('festival_rush', 'product_drop', 'loyal_regulars')
>>> check_traps(["household", "net_cafe"]) == {"household", "net_cafe"}
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from antifraud.synth.config import SynthConfig

__all__ = ["TRAPS", "TRAP_NAMES", "Trap", "check_traps", "intensity"]


class Trap(NamedTuple):
    """One honest trap: its name, what it is, and the config field setting its intensity."""

    name: str
    description: str
    share: str | None


#: Every honest trap, in the order of the domain notes.
TRAPS: tuple[Trap, ...] = (
    Trap("festival_rush", "a 双十一 day: several times the volume, a midnight rush on top shops' hot items",
         "festival_share"),
    Trap("product_drop", "fans of a mid-size shop buy its new item within minutes of the drop", "drop_share"),
    Trap("loyal_regulars", "regulars who buy only at one favourite shop, again and again", "loyal_share"),
    Trap("repeat_purchase", "consumables shops (食品, 母婴, 宠物) whose new customers reorder within weeks",
         "repeat_share"),
    Trap("household", "households of 2-4 sharing an address and broadband, sometimes a phone or device",
         "household_share"),
    Trap("carrier_nat", "mobile orders behind carrier NAT addresses shared by hundreds of strangers",
         "mobile_share"),
    Trap("office_campus", "office and campus networks and addresses shared by dozens", "office_share"),
    Trap("parcel_station", "parcel stations (驿站) receiving for hundreds of unrelated buyers", "station_share"),
    Trap("privacy_number", "privacy numbers (隐私号) standing in for the phone, each shared by dozens",
         "privacy_share"),
    Trap("default_device", "buggy default device ids reported by hundreds of phones", "default_device_share"),
    Trap("net_cafe", "net-café terminals and their one IP, shared by the café's patrons", "net_cafe_share"),
    Trap("fresh_accounts", "new accounts that buy at once, minutes after registering", "fresh_share"),
    Trap("default_text", "short texts everywhere: 好评, 系统默认好评, 此用户没有填写评价。", None),
    Trap("pasted_review", "buyers who paste the same review text every time", "pasted_share"),
    Trap("cashback_review", "好评返现 shops whose buyers post the five-star text the shop hands out",
         "cashback_share"),
    Trap("five_star_shop", "shops whose buyers honestly give 98 % five stars", "five_star_share"),
    Trap("quality_incident", "a bad batch: the shop's established buyers post 1-star reviews within days",
         "incident_share"),
    Trap("virtual_goods", "virtual goods: no parcel, receipt confirmed minutes after payment", "virtual_share"),
    Trap("jewellery", "jewellery shops whose parcels weigh grams", "jewellery_share"),
    Trap("tracking_batch", "shops whose tracking numbers are consecutive within a day's batch",
         "tracking_batch_share"),
    Trap("masked_phone", "masked exports: phones written as 138****1234, which identifies nobody",
         "masked_share"),
)

#: The trap names, in the order of :data:`TRAPS`.
TRAP_NAMES: tuple[str, ...] = tuple(t.name for t in TRAPS)
_SHARE = {t.name: t.share for t in TRAPS}


def check_traps(traps: Iterable[str]) -> frozenset[str]:
    """The trap names as a frozen set, refusing any name not in :data:`TRAPS`.

    Examples
    --------
    >>> check_traps(["net_café"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown trap 'net_café'; the traps are festival_rush, product_drop, ...
    """
    if isinstance(traps, str):
        raise ValueError(f"traps must be a collection of trap names, not the string {traps!r}")
    names = frozenset(traps)
    for name in sorted(names - set(TRAP_NAMES)):
        raise ValueError(f"unknown trap {name!r}; the traps are {', '.join(TRAP_NAMES)}")
    return names


def intensity(config: SynthConfig, name: str) -> float:
    """How much of trap ``name`` ``config`` asks for: its share field, 0 when it is switched off.

    Traps without a share field give 1.0 when on.

    Examples
    --------
    >>> from antifraud.synth import SynthConfig
    >>> intensity(SynthConfig(household_share=0.2), "household")
    0.2
    >>> intensity(SynthConfig(household_share=0.2, traps={"net_cafe"}), "household")
    0.0
    """
    if name not in config.traps:
        return 0.0
    field = _SHARE[name]
    return 1.0 if field is None else float(getattr(config, field))
