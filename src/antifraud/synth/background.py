"""Honest background orders: the noise that fools naive detectors."""

from __future__ import annotations

import numba
import numpy as np

from antifraud.synth.buyers import Accounts
from antifraud.synth.events import Event
from antifraud.synth.identity import pick
from antifraud.synth.plan import OrderPlan
from antifraud.synth.shops import Shops
from antifraud.synth.timeline import DAY, FESTIVAL_HOURS, HOUR, MINUTE, hourly_times

__all__ = ["FESTIVAL_CONCENTRATION", "REORDER_DAYS", "REORDER_SHARE", "honest_orders", "reorders"]

#: During the festival, shop choice follows popularity to this power: the big shops take the rush.
FESTIVAL_CONCENTRATION = 1.6
#: A repeat-purchase shop's customer places its next order within this many days there again
#: with probability REORDER_SHARE.
REORDER_DAYS = 30
REORDER_SHARE = 0.5
#: The midnight rush: mean minutes after midnight, and the hot items (the first few of a top
#: shop's catalogue) that deal hunters buy there; top shops are the most popular 1 % (at least 5).
_RUSH_MINUTES = 6.0
_HOT_ITEMS = 3


def _festival_rush(
    rng: np.random.Generator, plan: OrderPlan, shops: Shops, festival: int, first_event: int
) -> list[Event]:
    """Turn the festival's first-hour orders at the top shops into deal hunters' rush: orders
    for the shop's hot items within minutes of midnight, one event per shop."""
    top = shops.rank < max(5, len(shops) // 100)
    rush = np.flatnonzero((plan.created >= festival) & (plan.created < festival + HOUR) & top[plan.shop])
    shop = plan.shop[rush]
    plan.created[rush] = festival + np.minimum(
        rng.exponential(_RUSH_MINUTES * MINUTE, size=len(rush)), HOUR - 1
    ).astype(np.int64)
    plan.item[rush] = shops.item_start[shop] + rng.integers(0, np.minimum(_HOT_ITEMS, shops.n_items[shop]))
    rushed, plan.event[rush] = np.unique(shop, return_inverse=True)
    plan.event[rush] += first_event
    return [Event("festival_rush", int(s), festival) for s in rushed.tolist()]


def reorders(rng: np.random.Generator, buyer: np.ndarray, shop: np.ndarray, created: np.ndarray,
             repeat: np.ndarray) -> np.ndarray:
    """The shops of ``buyer``'s orders once customers of consumables shops reorder there.

    A buyer's next order within :data:`REORDER_DAYS` of an order at a shop marked in ``repeat``
    goes back to that shop with probability :data:`REORDER_SHARE` (and may be followed by
    another reorder): a new customer of a grocery or pet-food shop comes back two or three
    times within a few weeks, as a careful ring's accounts do, and shops of one volume differ
    in how many of their customers do.

    Examples
    --------
    >>> buyer, created = np.zeros(40, dtype=np.int64), np.arange(40) * DAY
    >>> shop = np.tile([0, 1], 20)
    >>> new = reorders(np.random.default_rng(0), buyer, shop, created, np.array([True, False]))
    >>> bool((new == 0).sum() > (shop == 0).sum())
    True
    """
    order = np.lexsort((created, buyer))
    back = rng.random(len(order)) < REORDER_SHARE
    shop_sorted = _reorder(buyer[order], shop[order], created[order], np.asarray(repeat, dtype=np.bool_),
                           back, REORDER_DAYS * DAY)
    out = np.empty_like(shop)
    out[order] = shop_sorted
    return out


@numba.njit(cache=True)
def _reorder(buyer, shop, created, repeat, back, gap):  # pragma: no cover - compiled
    out = shop.copy()
    for i in range(1, len(out)):
        before = out[i - 1]
        if buyer[i] == buyer[i - 1] and repeat[before] and back[i] and created[i] - created[i - 1] <= gap:
            out[i] = before
    return out


def honest_orders(
    rng: np.random.Generator,
    n: int,
    accounts: Accounts,
    n_honest_accounts: int,
    shops: Shops,
    window: tuple[int, int],
    festival: int | None,
    festival_share: float,
    first_event: int = 0,
    reorder_rng: np.random.Generator | None = None,
) -> tuple[OrderPlan, list[Event]]:
    """``n`` honest orders over ``window`` (local seconds ``[start, end)``).

    Buyers are drawn by their heavy-tailed activity, shops by Zipf popularity (loyal buyers
    always use their favourite shop, customers of repeat-purchase shops reorder there:
    :func:`reorders`); times follow the daily and weekly rhythm. If ``festival``
    (local midnight of the festival day) is given, ``festival_share`` of the orders fall on that
    day, concentrated on the biggest shops, whose deal hunters rush their hot items in the first
    minutes: those rushes are ``festival_rush`` events, numbered from ``first_event``. The
    reorders draw from ``reorder_rng`` (default ``rng``).

    Examples
    --------
    >>> from antifraud.synth.buyers import honest_accounts
    >>> from antifraud.synth.identity import AddressBook
    >>> from antifraud.synth.shops import make_shops
    >>> rng = np.random.default_rng(0)
    >>> shops = make_shops(rng, 50, 5_000)
    >>> acc = honest_accounts(rng, 500, 0, AddressBook(), household_share=0.3,
    ...                       buyers_per_nat_ip=100, fresh_share=0.05, loyal_share=0.1,
    ...                       shop_popularity=shops.popularity)
    >>> plan, rushes = honest_orders(rng, 5_000, acc, 500, shops, (0, 30 * DAY), 10 * DAY, 0.1)
    >>> len(plan), bool(plan.fraud.any()), len(rushes) == int(plan.event.max()) + 1
    (5000, False, True)
    """
    n_festival = int(round(n * festival_share)) if festival is not None else 0
    start, end = window
    created = hourly_times(rng, n - n_festival, start, end)
    if n_festival:
        created = np.concatenate(
            [created, hourly_times(rng, n_festival, festival, festival + DAY, FESTIVAL_HOURS)]
        )

    activity = accounts.column("activity")[:n_honest_accounts]
    buyer = pick(rng, activity, n)
    shop = np.concatenate(
        [
            pick(rng, shops.popularity, n - n_festival),
            pick(rng, shops.popularity**FESTIVAL_CONCENTRATION, n_festival),
        ]
    )
    loyal_shop = accounts.column("loyal_shop")[buyer]
    shop = np.where(loyal_shop >= 0, loyal_shop, shop)
    shop = reorders(rng if reorder_rng is None else reorder_rng, buyer, shop, created, shops.traps["repeat_purchase"])
    plan = OrderPlan.build(buyer, shop, created)
    return plan, [] if festival is None else _festival_rush(rng, plan, shops, festival, first_event)
