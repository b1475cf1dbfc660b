"""Honest background orders: the noise that fools naive detectors."""

from __future__ import annotations

import numpy as np

from antifraud.synth.buyers import Accounts
from antifraud.synth.identity import pick
from antifraud.synth.plan import OrderPlan
from antifraud.synth.shops import Shops
from antifraud.synth.timeline import DAY, FESTIVAL_HOURS, hourly_times

__all__ = ["FESTIVAL_CONCENTRATION", "honest_orders"]

#: During the festival, shop choice follows popularity to this power: the big shops take the rush.
FESTIVAL_CONCENTRATION = 1.6


def honest_orders(
    rng: np.random.Generator,
    n: int,
    accounts: Accounts,
    n_honest_accounts: int,
    shops: Shops,
    window: tuple[int, int],
    festival: int | None,
    festival_share: float,
) -> OrderPlan:
    """``n`` honest orders over ``window`` (local seconds ``[start, end)``).

    Buyers are drawn by their heavy-tailed activity, shops by Zipf popularity (loyal buyers
    always use their favourite shop); times follow the daily and weekly rhythm. If ``festival``
    (local midnight of the festival day) is given, ``festival_share`` of the orders fall on that
    day with a midnight rush concentrated on the biggest shops.

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
    >>> plan = honest_orders(rng, 5_000, acc, 500, shops, (0, 30 * DAY), 10 * DAY, 0.1)
    >>> len(plan), bool(plan.fraud.any())
    (5000, False)
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
    return OrderPlan.build(buyer, shop, created)
