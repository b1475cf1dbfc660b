"""The canonical order table: one row per order, with its review.

Every export, whatever its platform, headers or encoding, is read into this one schema. Only
``buyer_id``, ``seller_id`` and ``created_at`` are required; every other column is optional, and
:func:`signal_availability` tells which detection signals the columns present allow.

Types in the canonical table (a :class:`pandas.DataFrame`):

========================  ==============================================================
kind                      representation
========================  ==============================================================
``id``                    ``category`` of strings (leading zeros kept; codes are dense ints)
``key``                   string, nearly unique per row (order and tracking numbers)
``timestamp``             ``datetime64[s, UTC]``; naive source times are local (UTC+8 default)
``amount``                ``float64`` yuan, never negative
``rating``                ``Int8`` 1-5 (好评/中评/差评 -> 5/3/1), missing where no review
``text``                  ``string``
``label``                 ``category`` (free-form values such as status or carrier)
``personal``              ``category`` of keyed pseudonyms (HMAC-SHA256); raw values never kept
``weight``                ``float64`` kilograms, never negative
``uscc``                  ``category`` of normalised credit codes (validity reported separately)
========================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "PERSONAL",
    "Column",
    "Signal",
    "SIGNALS",
    "signal_availability",
]


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, kind and meaning."""

    name: str
    kind: str
    description: str


COLUMNS: tuple[Column, ...] = (
    Column("order_id", "key", "platform order number (订单编号)"),
    Column("buyer_id", "id", "buyer account (买家会员名)"),
    Column("seller_id", "id", "shop / merchant id (店铺Id)"),
    Column("item_id", "id", "item (宝贝) id"),
    Column("amount", "amount", "amount actually paid, yuan"),
    Column("created_at", "timestamp", "order created (订单创建时间)"),
    Column("paid_at", "timestamp", "order paid (订单付款时间)"),
    Column("confirmed_at", "timestamp", "receipt confirmed by the buyer (确认收货时间)"),
    Column("status", "label", "order status (订单状态)"),
    Column("refund_amount", "amount", "refunded amount, yuan (退款金额)"),
    Column("rating", "rating", "review rating 1-5; 好评/中评/差评 map to 5/3/1"),
    Column("review_text", "text", "review text (评价内容)"),
    Column("reviewed_at", "timestamp", "review posted (评价时间)"),
    Column("buyer_ip", "personal", "buyer IP address at order time"),
    Column("device_id", "personal", "buyer device fingerprint"),
    Column("ship_phone", "personal", "consignee phone (联系手机)"),
    Column("ship_address", "personal", "shipping address (收货地址)"),
    Column("carrier", "label", "logistics company (物流公司)"),
    Column("tracking_no", "key", "tracking number (物流单号)"),
    Column("parcel_weight_kg", "weight", "parcel weight, kilograms"),
    Column("seller_uscc", "uscc", "merchant's unified social credit code (统一社会信用代码)"),
    Column("seller_name", "text", "shop name (店铺名称)"),
    Column("buyer_registered_at", "timestamp", "buyer account registration time"),
)

COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED: tuple[str, ...] = ("buyer_id", "seller_id", "created_at")
PERSONAL: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "personal")


@dataclass(frozen=True)
class Signal:
    """A detection signal and the columns it needs.

    A signal is available when all of ``needs_all`` and at least one of ``needs_any`` (if given)
    are present.
    """

    name: str
    description: str
    needs_all: tuple[str, ...] = ()
    needs_any: tuple[str, ...] = ()

    def missing(self, columns: Iterable[str]) -> tuple[str, ...]:
        """Columns whose absence prevents this signal (empty when it is available)."""
        present = set(columns)
        missing = tuple(c for c in self.needs_all if c not in present)
        if self.needs_any and not present.intersection(self.needs_any):
            missing += ("one of " + "/".join(self.needs_any),)
        return missing


SIGNALS: tuple[Signal, ...] = (
    Signal("dense_blocks", "dense buyer x shop blocks (FRAUDAR-style)", ("buyer_id", "seller_id")),
    Signal("time_bursts", "bursts and lockstep ordering in time", ("buyer_id", "seller_id", "created_at")),
    Signal("amounts", "order amount patterns", ("amount",)),
    Signal("refunds", "refunded brushing orders", ("refund_amount",)),
    Signal("item_concentration", "orders concentrated on few items", ("item_id",)),
    Signal("rating_extremity", "ratings more extreme than the shop's organic ones", ("rating",)),
    Signal("review_templates", "templated or near-duplicate review texts", ("review_text",)),
    Signal(
        "review_delay",
        "reviews posted very soon after receipt",
        ("reviewed_at",),
        ("confirmed_at", "paid_at"),
    ),
    Signal("fast_confirmation", "receipt confirmed minutes after payment", ("confirmed_at", "paid_at")),
    Signal("account_age", "fresh accounts at first order", ("buyer_registered_at",)),
    Signal(
        "shared_identity",
        "accounts linked through shared devices, IPs, phones or addresses",
        (),
        PERSONAL,
    ),
    Signal(
        "empty_parcels",
        "empty parcels: tiny weights, few carriers or tracking ranges",
        (),
        ("parcel_weight_kg", "tracking_no"),
    ),
    Signal("merchant_identity", "merchants linked by credit code", ("seller_uscc",)),
)


def signal_availability(columns: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Map every signal to the columns it lacks (an empty tuple means available).

    Examples
    --------
    >>> avail = signal_availability(["buyer_id", "seller_id", "created_at", "rating"])
    >>> avail["rating_extremity"]
    ()
    >>> avail["account_age"]
    ('buyer_registered_at',)
    """
    columns = list(columns)
    return {s.name: s.missing(columns) for s in SIGNALS}
