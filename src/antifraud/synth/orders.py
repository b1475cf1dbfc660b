"""Rendering the planned orders as the canonical order table (raw personal values)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from antifraud.schema import NAMES
from antifraud.synth.buyers import Accounts
from antifraud.synth.fulfilment import STATUSES, Fulfilment
from antifraud.synth.identity import (
    AddressBook,
    format_devices,
    format_ips,
    format_phones,
)
from antifraud.synth.logistics import CARRIERS, format_tracking
from antifraud.synth.plan import OrderPlan
from antifraud.synth.reviews import Reviews
from antifraud.synth.shops import Shops

__all__ = ["Ids", "format_ids", "render_orders"]


def format_ids(prefix: str, codes: np.ndarray, min_width: int) -> pa.Array:
    """Ids as ``prefix`` plus zero-padded codes, at least ``min_width`` digits (all the same width).

    Examples
    --------
    >>> format_ids("s", np.array([42, 7]), 5).to_pylist()
    ['s00042', 's00007']
    """
    width = max(min_width, len(str(int(codes.max())))) if len(codes) else min_width
    digits = pa.array(codes).cast(pa.string())
    padded = pc.utf8_lpad(digits, width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


@dataclass(frozen=True)
class Ids:
    """Public ids: ``order`` by position in the (time-sorted) plan, ``buyer`` by account row
    (a random numbering, so ring accounts are not the highest ids), ``seller`` by shop row.

    Examples
    --------
    >>> ids = Ids.assign(np.random.default_rng(0), n_orders=3, n_accounts=2, n_shops=2)
    >>> ids.order.to_pylist()
    ['o000000000', 'o000000001', 'o000000002']
    """

    order: pa.Array
    buyer: pa.Array
    seller: pa.Array

    @classmethod
    def assign(
        cls, rng: np.random.Generator, *, n_orders: int, n_accounts: int, n_shops: int
    ) -> Ids:
        """Number orders, accounts (randomly) and shops."""
        return cls(
            order=format_ids("o", np.arange(n_orders), 9),
            buyer=format_ids("b", rng.permutation(n_accounts), 7),
            seller=format_ids("s", np.arange(n_shops), 5),
        )


def _times(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(values.astype("datetime64[s]"), mask=mask)


def render_orders(
    rng: np.random.Generator,
    plan: OrderPlan,
    ids: Ids,
    accounts: Accounts,
    registered: np.ndarray,
    addresses: AddressBook,
    shops: Shops,
    seller_uscc: pa.Array,
    done: Fulfilment,
    reviews: Reviews,
    mobile_share: float,
) -> pa.Table:
    """The canonical order table, columns in :data:`antifraud.schema.NAMES` order.

    Timestamps are naive local China time (``timestamp[s]``), money in yuan (``float64``),
    ratings ``int8`` (null where there is no review); personal values are raw strings. Orders
    use the account's home IP, or with probability ``mobile_share`` its carrier NAT address,
    unless the plan overrides the IP or device.

    Examples
    --------
    See :func:`antifraud.synth.generate`.
    """
    buyer, shop = plan.buyer, plan.shop
    mobile = rng.random(len(plan)) < mobile_share
    ip = np.where(mobile, accounts.column("nat_ip")[buyer], accounts.column("home_ip")[buyer])
    ip = np.where(plan.ip > 0, plan.ip, ip)
    device = np.where(plan.device > 0, plan.device, accounts.column("device")[buyer])
    has_review = reviews.rating > 0
    shipped = done.shipped
    columns = {
        "order_id": ids.order,
        "buyer_id": ids.buyer.take(pa.array(buyer)),
        "seller_id": ids.seller.take(pa.array(shop)),
        "item_id": format_ids("i", done.item, 8),
        "amount": pa.array(done.amount / 100),
        "created_at": _times(plan.created),
        "paid_at": _times(done.paid, done.has_paid),
        "confirmed_at": _times(done.confirmed, done.has_confirmed),
        "status": pa.array(STATUSES).take(pa.array(done.status)),
        "refund_amount": pa.array(done.refund / 100),
        "rating": pa.array(reviews.rating, mask=~has_review),
        "review_text": reviews.text,
        "reviewed_at": _times(reviews.reviewed, has_review),
        "buyer_ip": format_ips(ip),
        "device_id": format_devices(device),
        "ship_phone": format_phones(accounts.column("phone")[buyer]),
        "ship_address": addresses.format().take(pa.array(accounts.column("address")[buyer])),
        "carrier": pa.array([c[0] for c in CARRIERS]).take(pa.array(done.carrier, mask=~shipped)),
        "tracking_no": format_tracking(done.carrier, done.tracking, shipped),
        "parcel_weight_kg": pa.array(done.weight, mask=~shipped),
        "seller_uscc": seller_uscc.take(pa.array(shop)),
        "seller_name": shops.names().take(pa.array(shop)),
        "buyer_registered_at": _times(registered[buyer]),
    }
    return pa.table({name: columns[name] for name in NAMES})
