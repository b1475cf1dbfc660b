"""Honest shop events: product drops and quality incidents, crowds a naive detector calls rings.

``product_drop``
    fans of a mid-size shop, most of whom bought there before, buy its new item within minutes
    of the drop (an evening or morning launch).
``quality_incident``
    a bad batch: the shop's established buyers, each with earlier orders there, order over two
    days, receive the batch together and post 1- and 2-star reviews soon after delivery
    (:attr:`~antifraud.synth.plan.Style.INCIDENT`).

The festival rush (``festival_rush``) is an event too, placed with the background orders
(:func:`antifraud.synth.background.honest_orders`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from antifraud.synth.buyers import Accounts
from antifraud.synth.plan import OrderPlan, Style
from antifraud.synth.shops import Shops
from antifraud.synth.timeline import DAY, HOUR, MINUTE, hourly_times

__all__ = ["Event", "plan_events"]

#: Fans buying in one drop, and buyers hit by one bad batch.
DROP_FANS = (200, 500)
INCIDENT_BUYERS = (30, 120)
#: Share of a drop's fans who bought at the shop before; mean minutes from the drop to an order.
_FAN_HISTORY = 0.6
_DROP_MINUTES = 4.0
#: Events keep this far from the window's edges (history before, confirmation and review after).
_LEAD, _TAIL = 14 * DAY, 9 * DAY


@dataclass(frozen=True)
class Event:
    """One honest shop event: its trap, the shop (row) and when it happened (local seconds).

    Examples
    --------
    >>> Event("product_drop", 3, 86_400).trap
    'product_drop'
    """

    trap: str
    shop: int
    at: int


def _buyers(rng: np.random.Generator, accounts: Accounts, n_honest: int, n: int, shop: int) -> np.ndarray:
    """``n`` distinct honest accounts free to buy at ``shop`` (not another shop's regulars)."""
    loyal_shop = accounts.column("loyal_shop")
    drawn = np.unique(rng.integers(0, n_honest, size=2 * n + 10))
    free = drawn[(loyal_shop[drawn] < 0) | (loyal_shop[drawn] == shop)]
    return rng.permutation(free)[:n]


def _history(rng: np.random.Generator, buyers: np.ndarray, shop: int, window: tuple[int, int]) -> OrderPlan:
    """One to three ordinary earlier orders at ``shop`` for every account of ``buyers``."""
    repeat = rng.integers(1, 4, size=len(buyers))
    n = int(repeat.sum())
    return OrderPlan.build(np.repeat(buyers, repeat), np.full(n, shop), hourly_times(rng, n, *window))


def _drop(rng: np.random.Generator, accounts: Accounts, n_honest: int, shops: Shops, shop: int,
          window: tuple[int, int], index: int) -> tuple[OrderPlan, Event]:
    start, end = window
    day = start + int(rng.integers(_LEAD // DAY, (end - start - _TAIL) // DAY)) * DAY
    at = day + (20 * HOUR if rng.random() < 0.7 else 10 * HOUR)
    fans = _buyers(rng, accounts, n_honest, int(rng.integers(*DROP_FANS, endpoint=True)), shop)
    created = at + np.minimum(rng.exponential(_DROP_MINUTES * MINUTE, size=len(fans)), 2 * HOUR).astype(np.int64)
    new_item = shops.item_start[shop] + shops.n_items[shop] - 1
    drop = OrderPlan.build(
        fans, np.full(len(fans), shop), created,
        event=np.full(len(fans), index), item=np.full(len(fans), new_item),
    )
    regulars = fans[rng.random(len(fans)) < _FAN_HISTORY]
    return OrderPlan.concat([drop, _history(rng, regulars, shop, (start, at - DAY))]), Event("product_drop", shop, at)


def _incident(rng: np.random.Generator, accounts: Accounts, n_honest: int, shop: int,
              window: tuple[int, int], index: int) -> tuple[OrderPlan, Event]:
    start, end = window
    at = start + int(rng.integers(_LEAD, end - start - _TAIL))
    buyers = _buyers(rng, accounts, n_honest, int(rng.integers(*INCIDENT_BUYERS, endpoint=True)), shop)
    batch = OrderPlan.build(
        buyers, np.full(len(buyers), shop), at - rng.integers(0, 2 * DAY, size=len(buyers)),
        style=Style.INCIDENT, event=np.full(len(buyers), index),
    )
    return OrderPlan.concat([batch, _history(rng, buyers, shop, (start, at - 7 * DAY))]), Event(
        "quality_incident", shop, at
    )


def plan_events(
    rng: np.random.Generator,
    *,
    accounts: Accounts,
    n_honest_accounts: int,
    shops: Shops,
    eligible: np.ndarray,
    window: tuple[int, int],
    drop_orders: float,
    incident_orders: float,
) -> tuple[OrderPlan, list[Event]]:
    """Product drops with about ``drop_orders`` drop orders and quality incidents with about
    ``incident_orders`` bad-batch orders, at distinct shops among ``eligible`` (rows); the
    plan's ``event`` column numbers them from 0.

    Drops go to mid-size shops (popularity ranks 1-20 %), incidents to shops among the top
    fifth, whose established buyers come from the honest accounts (never another shop's
    regulars). The plan also holds the buyers' earlier, ordinary orders at the shop.

    Examples
    --------
    >>> from antifraud.synth.buyers import honest_accounts
    >>> from antifraud.synth.identity import AddressBook
    >>> from antifraud.synth.shops import make_shops
    >>> rng = np.random.default_rng(0)
    >>> shops = make_shops(rng, 200, 50_000)
    >>> acc = honest_accounts(rng, 10_000, 0, AddressBook(), household_share=0.3,
    ...                       buyers_per_nat_ip=400, fresh_share=0.05, loyal_share=0.1,
    ...                       shop_popularity=shops.popularity)
    >>> plan, events = plan_events(rng, accounts=acc, n_honest_accounts=10_000, shops=shops,
    ...                            eligible=np.arange(200), window=(0, 61 * DAY),
    ...                            drop_orders=300, incident_orders=50)
    >>> [e.trap for e in events], int((plan.event == 0).sum()) >= 200
    (['product_drop', 'quality_incident'], True)
    """
    n = len(shops)
    rank = shops.rank[eligible]
    n_drops = 0 if drop_orders <= 0 else max(1, round(2 * drop_orders / sum(DROP_FANS)))
    n_incidents = 0 if incident_orders <= 0 else max(1, round(2 * incident_orders / sum(INCIDENT_BUYERS)))
    drop_shops = rng.permutation(eligible[(rank >= n // 100) & (rank < n // 5)])[:n_drops]
    top = eligible[(rank < n // 5) & ~np.isin(eligible, drop_shops)]
    incident_shops = rng.permutation(top)[:n_incidents]
    if len(drop_shops) < n_drops or len(incident_shops) < n_incidents:
        raise ValueError("not enough shops for the product drops and quality incidents; lower their shares")
    plans, events = [OrderPlan.build(np.empty(0), np.empty(0), np.empty(0))], []
    for shop in drop_shops.tolist():
        plan, event = _drop(rng, accounts, n_honest_accounts, shops, shop, window, len(events))
        plans.append(plan)
        events.append(event)
    for shop in incident_shops.tolist():
        plan, event = _incident(rng, accounts, n_honest_accounts, shop, window, len(events))
        plans.append(plan)
        events.append(event)
    return OrderPlan.concat(plans), events
