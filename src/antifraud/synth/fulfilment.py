"""What happens after an order is placed: item and amount, payment, shipping, receipt, refunds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from antifraud.synth.identity import pick
from antifraud.synth.logistics import carrier_shares, tracking_serials
from antifraud.synth.plan import Difficulty, OrderPlan, Style
from antifraud.synth.shops import Shops
from antifraud.synth.timeline import DAY, HOUR, MINUTE

__all__ = ["STATUSES", "Fulfilment", "fulfil"]

#: Order statuses as Taobao-style exports spell them (index = status code).
STATUSES: tuple[str, ...] = (
    "交易成功",
    "交易关闭",
    "卖家已发货，等待买家确认",
    "买家已付款，等待卖家发货",
    "等待买家付款",
)
SUCCESS, CLOSED, SHIPPED, PAID, UNPAID = range(len(STATUSES))

#: Taobao confirms receipt automatically ten days after shipping.
AUTO_CONFIRM = 10 * DAY
FESTIVAL_DISCOUNT = 0.85


@dataclass
class Fulfilment:
    """Per-order outcome columns (aligned with the plan).

    Times are local seconds (see :mod:`antifraud.synth.timeline`) and only meaningful where the
    matching ``has_*`` mask is true; money is in cents. ``shipped`` orders were sent; those with a
    ``parcel`` (not virtual goods) have a carrier, tracking number and weight.
    """

    item: np.ndarray
    amount: np.ndarray
    refund: np.ndarray
    status: np.ndarray
    paid: np.ndarray
    has_paid: np.ndarray
    confirmed: np.ndarray
    has_confirmed: np.ndarray
    shipped: np.ndarray
    parcel: np.ndarray
    carrier: np.ndarray
    tracking: np.ndarray
    weight: np.ndarray


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return np.exp(rng.normal(np.log(median), sigma, n))


def _batch_serials(
    rng: np.random.Generator, shop: np.ndarray, carrier: np.ndarray, ship: np.ndarray
) -> np.ndarray:
    """Tracking serials printed in batches: consecutive within each (shop, shipping day), in order
    of shipping, from a random start per batch."""
    day = ship // DAY
    order = np.lexsort((ship, day, shop))
    key = np.stack([shop[order], day[order]])
    first = np.flatnonzero(np.any(np.diff(key, axis=1, prepend=-1) != 0, axis=0))
    batch = np.repeat(np.arange(len(first)), np.diff(np.append(first, len(order))))
    start = tracking_serials(rng, carrier[order][first]) // 1000 * 1000
    serial = np.empty(len(order), dtype=np.int64)
    serial[order] = start[batch] + np.arange(len(order)) - first[batch]
    return serial


def fulfil(
    rng: np.random.Generator,
    plan: OrderPlan,
    shops: Shops,
    end: int,
    festival: int | None,
) -> Fulfilment:
    """Items, amounts, payment, shipping, confirmation and refunds for every order of ``plan``.

    Honest orders: a few are never paid or refunded (交易关闭), some partially refunded; receipt is
    confirmed days after delivery or automatically ten days after shipping. Brushing orders are
    confirmed fast (easy rings before the parcel could have arrived), empty parcels minutes after
    delivery; hard rings pick items, quantities, shipping and confirmation as honest buyers do
    (an empty parcel keeps only its weight and tracking number; attackers confirm in order to
    review). Orders whose next step would fall after ``end`` keep an open status. Orders placed
    on the festival day get the festival discount.

    The shops' honest traits (:data:`~antifraud.synth.shops.SHOP_TRAPS`) show here: virtual
    goods have no parcel and are confirmed minutes after payment; jewellery comes in a small box
    (parcels of 10-50 g); ``tracking_batch`` shops send everything with their usual carrier and
    print consecutive tracking numbers each day. Orders of a bad batch
    (:attr:`~antifraud.synth.plan.Style.INCIDENT`) are confirmed within hours of delivery.

    Examples
    --------
    >>> from antifraud.synth.shops import make_shops
    >>> rng = np.random.default_rng(0)
    >>> shops = make_shops(rng, 20, 1_000)
    >>> plan = OrderPlan.build(np.zeros(100), rng.integers(0, 20, 100), np.arange(100) * 3600)
    >>> f = fulfil(rng, plan, shops, 60 * DAY, None)
    >>> bool((f.confirmed[f.has_confirmed] > f.paid[f.has_confirmed]).all())
    True
    """
    n = len(plan)
    style, shop, created = plan.style, plan.shop, plan.created
    incident = style == Style.INCIDENT
    honest = (style == Style.HONEST) | incident
    easy, medium, hard = (plan.difficulty == level for level in Difficulty)
    organic = honest | hard  # picks, ships and confirms like an honest order
    brush = style == Style.BRUSH
    empty = style == Style.EMPTY_PARCEL
    attack = style == Style.ATTACK
    virtual = shops.traps["virtual_goods"][shop]

    # item and amount: brushing concentrates on the shop's hero item; drops and rushes name theirs
    u = rng.random(n)
    u = np.where(organic, u**2, u**4)
    item = shops.item_start[shop] + (u * shops.n_items[shop]).astype(np.int64)
    item = np.where(plan.item >= 0, plan.item, item)
    quantity = np.where(organic, 1 + (rng.random(n) < 0.15) + (rng.random(n) < 0.05), 1)
    amount = shops.item_price[item] * quantity
    if festival is not None:
        on_festival = (created >= festival) & (created < festival + DAY)
        amount = np.where(on_festival, np.rint(amount * FESTIVAL_DISCOUNT).astype(np.int64), amount)

    # payment
    fate = rng.random(n)
    unpaid = honest & (fate < 0.015)
    refunded = honest & (fate >= 0.015) & (fate < 0.045)
    partial = honest & (fate >= 0.045) & (fate < 0.055)
    slow_pay = rng.random(n) < 0.03
    pay_delay = np.where(
        slow_pay, rng.integers(5 * MINUTE, HOUR, n), np.minimum(_lognormal(rng, 40, 1.0, n), 600)
    )
    paid = created + pay_delay.astype(np.int64)
    has_paid = ~unpaid & (paid < end)

    # shipping and delivery
    fast = empty & ~organic  # no goods to pick and pack
    ship = paid + np.where(
        fast,
        rng.integers(HOUR // 2, 4 * HOUR, n),
        np.clip(_lognormal(rng, 14 * HOUR, 0.6, n), HOUR, 5 * DAY),
    ).astype(np.int64)
    delivered = ship + np.where(
        fast, rng.integers(14 * HOUR, 40 * HOUR, n), _lognormal(rng, 2.2 * DAY, 0.35, n)
    ).astype(np.int64)

    # confirmation of receipt
    manual = np.minimum(
        delivered + np.minimum(_lognormal(rng, 20 * HOUR, 1.2, n), AUTO_CONFIRM), ship + AUTO_CONFIRM
    )
    honest_confirm = np.where(rng.random(n) < 0.25, ship + AUTO_CONFIRM, manual)
    confirmed = np.select(
        [
            virtual,
            incident,
            organic & ~attack,
            brush & easy,
            brush & medium,
            empty & easy,
            empty & medium,
            attack & easy,
            attack & medium,
            attack & hard,
        ],
        [
            paid + rng.integers(MINUTE, 15 * MINUTE, n),
            delivered + _lognormal(rng, 3 * HOUR, 0.8, n),
            honest_confirm,
            ship + rng.integers(10 * MINUTE, 30 * HOUR, n),
            delivered + _lognormal(rng, 6 * HOUR, 1.0, n),
            delivered + rng.integers(MINUTE, 15 * MINUTE, n),
            delivered + rng.integers(5 * MINUTE, 2 * HOUR, n),
            delivered + rng.integers(10 * MINUTE, 6 * HOUR, n),
            delivered + _lognormal(rng, 10 * HOUR, 0.8, n),
            manual,  # attackers confirm to be allowed to review
        ],
    ).astype(np.int64)

    ship = np.where(virtual, paid, ship)
    status = np.full(n, SUCCESS, dtype=np.int8)
    shipped = has_paid & (ship < end) & ~(refunded & (fate < 0.03))  # half the refunds never ship
    parcel = shipped & ~virtual
    has_confirmed = shipped & ~refunded & (confirmed < end)
    status[has_paid & ~shipped] = PAID
    status[shipped & ~has_confirmed] = SHIPPED
    status[~unpaid & ~has_paid] = UNPAID
    status[unpaid | refunded] = CLOSED
    refund = np.zeros(n, dtype=np.int64)
    refund[refunded & has_paid] = amount[refunded & has_paid]
    partial_ok = partial & has_confirmed
    refund[partial_ok] = np.rint(
        amount[partial_ok] * rng.uniform(0.1, 0.5, partial_ok.sum())
    ).astype(np.int64)

    # logistics: the shop's usual carrier mostly, random serials, weight from the item
    batched = shops.traps["tracking_batch"][shop] & (plan.tracking < 0)
    carrier = np.where(
        batched | (rng.random(n) < 0.8), shops.main_carrier[shop], pick(rng, carrier_shares(), n)
    )
    carrier = np.where(plan.carrier >= 0, plan.carrier, carrier).astype(np.int8)
    tracking = np.where(plan.tracking >= 0, plan.tracking, tracking_serials(rng, carrier))
    at = np.flatnonzero(batched & parcel)
    tracking[at] = _batch_serials(rng, shop[at], carrier[at], ship[at])
    box = np.where(shops.traps["jewellery"][shop], rng.uniform(0.005, 0.025, n), rng.uniform(0.01, 0.08, n))
    packed = shops.item_weight[item] * quantity * rng.uniform(1.0, 1.15, n) + box
    weight = np.where(np.isnan(plan.weight), np.round(packed, 2), plan.weight)

    return Fulfilment(
        item=item,
        amount=amount,
        refund=refund,
        status=status,
        paid=paid,
        has_paid=has_paid,
        confirmed=confirmed,
        has_confirmed=has_confirmed,
        shipped=shipped,
        parcel=parcel,
        carrier=carrier,
        tracking=tracking,
        weight=weight,
    )
