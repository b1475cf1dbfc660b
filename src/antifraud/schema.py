"""The canonical order table: one row per order, with its review.

Every export, whatever its platform, headers or encoding, is read into this one schema. Only
``buyer_id``, ``seller_id`` and ``created_at`` are required; every other column is optional.
Whatever reads optional columns (a detector, a feature) declares them as requirements, and
:func:`missing_columns` is the one rule that decides, from the columns an export has, whether it
can run; a :class:`Signal` is one such reader as ``validate`` reports it
(:meth:`antifraud.detectors.ensemble.BrushingEnsemble.signals` lists them).

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
    "Requirement",
    "Signal",
    "missing_columns",
    "unmet_requirements",
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


#: A canonical column, or a tuple of columns of which any one will do.
Requirement = str | tuple[str, ...]


def missing_columns(required: Iterable[Requirement], columns: Iterable[str]) -> tuple[str, ...]:
    """The requirements that ``columns`` leave unmet, in words (empty when none).

    Parameters
    ----------
    required : iterable of str or tuple of str
        Canonical columns; a tuple is met by any one of its columns.
    columns : iterable of str
        The columns an export has.

    Returns
    -------
    tuple of str
        Each unmet requirement: the column, or ``"one of a/b"`` for a tuple.

    Examples
    --------
    >>> missing_columns(["buyer_id", "rating", ("device_id", "buyer_ip")], ["buyer_id", "seller_id"])
    ('rating', 'one of device_id/buyer_ip')
    >>> missing_columns(["buyer_id", ("device_id", "buyer_ip")], ["buyer_id", "buyer_ip"])
    ()
    """
    return tuple(need if isinstance(need, str) else "one of " + "/".join(need)
                 for need in unmet_requirements(required, columns))


def unmet_requirements(required: Iterable[Requirement], columns: Iterable[str]) -> tuple[Requirement, ...]:
    """The requirements that ``columns`` leave unmet, as given (:func:`missing_columns` words them).

    Parameters
    ----------
    required : iterable of str or tuple of str
        Canonical columns; a tuple is met by any one of its columns.
    columns : iterable of str
        The columns an export has.

    Returns
    -------
    tuple of str or tuple of str

    Examples
    --------
    >>> unmet_requirements(["buyer_id", "rating", ("device_id", "buyer_ip")], ["buyer_id"])
    ('rating', ('device_id', 'buyer_ip'))
    """
    present = set(columns)
    return tuple(need for need in required
                 if (need not in present if isinstance(need, str) else not present.intersection(need)))


@dataclass(frozen=True)
class Signal:
    """Something the detection reads (a detector, a behaviour feature) and the columns it needs.

    Attributes
    ----------
    name : str
        The detector's step name or the feature's column name.
    description : str
        What it looks for, in one line.
    required_columns : tuple of str or tuple of str
        As for :func:`missing_columns`.
    """

    name: str
    description: str
    required_columns: tuple[Requirement, ...]

    def missing(self, columns: Iterable[str]) -> tuple[str, ...]:
        """The requirements ``columns`` leave unmet (empty when the signal is available).

        Examples
        --------
        >>> Signal("review_bursts", "bad reviews together", ("rating",)).missing(["buyer_id"])
        ('rating',)
        """
        return missing_columns(self.required_columns, columns)

    def unmet(self, columns: Iterable[str]) -> tuple[Requirement, ...]:
        """The requirements ``columns`` leave unmet, as declared (:func:`unmet_requirements`).

        Examples
        --------
        >>> Signal("farms", "shared identities", (("device_id", "ship_phone"),)).unmet(["buyer_id"])
        (('device_id', 'ship_phone'),)
        """
        return unmet_requirements(self.required_columns, columns)
