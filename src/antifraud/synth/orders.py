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
    new_privacy_numbers,
)
from antifraud.synth.logistics import CARRIERS, format_tracking
from antifraud.synth.plan import OrderPlan
from antifraud.synth.reviews import Reviews
from antifraud.synth.shops import Shops
from antifraud.synth.timeline import DAY, HOUR

__all__ = ["Identities", "Ids", "format_ids", "order_identities", "render_orders"]

#: Terminals of a net café, share of a patron's orders placed there, orders per privacy number.
CAFE_TERMINALS = 30
_AT_CAFE = 0.4
_ORDERS_PER_PRIVACY_NUMBER = 40
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


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


@dataclass(frozen=True)
class Identities:
    """The identifiers each order was placed and shipped with (aligned with the plan).

    Attributes
    ----------
    ip, device, phone : numpy.ndarray
        IP address, device fingerprint and consignee phone as numbers.
    nat : numpy.ndarray
        Placed over a mobile network, behind the account's carrier NAT address.
    cafe : numpy.ndarray
        Placed from a terminal of the account's net café.
    privacy : numpy.ndarray
        Index of the privacy number standing in for the phone, -1 for the account's own phone.
    masked : numpy.ndarray
        The phone is exported masked.
    """

    ip: np.ndarray
    device: np.ndarray
    phone: np.ndarray
    nat: np.ndarray
    cafe: np.ndarray
    privacy: np.ndarray
    masked: np.ndarray


def order_identities(
    rng: np.random.Generator,
    plan: OrderPlan,
    accounts: Accounts,
    *,
    mobile_share: float,
    privacy_share: float,
    masked_share: float,
) -> Identities:
    """The IP, device and phone of every order.

    Orders use the account's home IP, or with probability ``mobile_share`` its carrier NAT
    address; on weekdays 9:00-18:00 office workers use their office network (students their
    campus network at any hour); café patrons place some orders from one of the café's
    terminals. The plan's IP and device overrides come last. ``privacy_share`` of the orders ship
    with a privacy number from a pool (each shared by dozens of buyers) and ``masked_share`` are
    exported with the phone masked.

    Examples
    --------
    >>> from antifraud.synth.buyers import honest_accounts
    >>> acc = honest_accounts(np.random.default_rng(0), 100, 0, AddressBook(), household_share=0.3,
    ...                       buyers_per_nat_ip=50, fresh_share=0.0, loyal_share=0.0,
    ...                       shop_popularity=np.ones(3))
    >>> plan = OrderPlan.build(np.arange(100), np.zeros(100), np.zeros(100))
    >>> ids = order_identities(np.random.default_rng(1), plan, acc, mobile_share=1.0,
    ...                        privacy_share=0.0, masked_share=0.0)
    >>> bool((ids.ip == acc.column("nat_ip")).all()), int(ids.privacy.max())
    (True, -1)
    """
    n, buyer = len(plan), plan.buyer
    nat = rng.random(n) < mobile_share
    hour, weekday = plan.created // HOUR % 24, (plan.created // DAY + 3) % 7
    office_ip = accounts.column("office_ip")[buyer]
    at_office = (office_ip > 0) & ~nat & (
        accounts.column("campus")[buyer] | ((weekday < 5) & (hour >= 9) & (hour < 18))
    )
    cafe = ~nat & (accounts.column("net_cafe")[buyer] >= 0) & (rng.random(n) < _AT_CAFE)
    ip = np.select(
        [plan.ip > 0, cafe, at_office, nat],
        [plan.ip, accounts.column("cafe_ip")[buyer], office_ip, accounts.column("nat_ip")[buyer]],
        accounts.column("home_ip")[buyer],
    )
    terminal = accounts.column("cafe_device")[buyer] ^ (
        rng.integers(0, CAFE_TERMINALS, size=n).astype(np.uint64) * _GOLDEN
    )
    device = np.select(
        [plan.device > 0, cafe], [plan.device, terminal], accounts.column("device")[buyer]
    )
    uses_privacy = np.flatnonzero(rng.random(n) < privacy_share)
    n_numbers = max(1, len(uses_privacy) // _ORDERS_PER_PRIVACY_NUMBER)
    privacy = np.full(n, -1, dtype=np.int64)
    privacy[uses_privacy] = rng.integers(0, n_numbers, size=len(uses_privacy))
    phone = accounts.column("phone")[buyer].copy()
    phone[uses_privacy] = new_privacy_numbers(rng, n_numbers)[privacy[uses_privacy]]
    return Identities(
        ip=ip.astype(np.uint32),
        device=device.astype(np.uint64),
        phone=phone,
        nat=nat & (plan.ip == 0),
        cafe=cafe & (plan.ip == 0),
        privacy=privacy,
        masked=rng.random(n) < masked_share,
    )


def _times(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(values.astype("datetime64[s]"), mask=mask)


def render_orders(
    plan: OrderPlan,
    ids: Ids,
    accounts: Accounts,
    registered: np.ndarray,
    addresses: AddressBook,
    shops: Shops,
    seller_uscc: pa.Array,
    done: Fulfilment,
    reviews: Reviews,
    identities: Identities,
) -> pa.Table:
    """The canonical order table, columns in :data:`antifraud.schema.NAMES` order.

    Timestamps are naive local China time (``timestamp[s]``), money in yuan (``float64``),
    ratings ``int8`` (null where there is no review); personal values are raw strings, phones
    masked where ``identities`` says so.

    Examples
    --------
    See :func:`antifraud.synth.generate`.
    """
    buyer, shop = plan.buyer, plan.shop
    has_review = reviews.rating > 0
    parcel = done.parcel
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
        "buyer_ip": format_ips(identities.ip),
        "device_id": format_devices(identities.device),
        "ship_phone": format_phones(identities.phone, identities.masked),
        "ship_address": addresses.format().take(pa.array(accounts.column("address")[buyer])),
        "carrier": pa.array([c[0] for c in CARRIERS]).take(pa.array(done.carrier, mask=~parcel)),
        "tracking_no": format_tracking(done.carrier, done.tracking, parcel),
        "parcel_weight_kg": pa.array(done.weight, mask=~parcel),
        "seller_uscc": seller_uscc.take(pa.array(shop)),
        "seller_name": shops.names().take(pa.array(shop)),
        "buyer_registered_at": _times(registered[buyer]),
    }
    return pa.table({name: columns[name] for name in NAMES})
