"""Ground truth of the honest traps: which honest accounts and shops each trap instance holds.

An instance is what a detector could mistake for one ring: one household, one NAT address, one
product drop, one cashback shop, one masked phone value, ... (see :data:`INSTANCE_OF`). It lists
the honest accounts whose orders show the trap, the shops of those orders, the identity values
they share where sharing one is the trap, and the period of the orders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from antifraud.synth.buyers import Accounts
from antifraud.synth.events import Event
from antifraud.synth.fulfilment import Fulfilment
from antifraud.synth.identity import DEFAULT_DEVICES, AddressBook
from antifraud.synth.orders import Identities, Ids
from antifraud.synth.plan import OrderPlan
from antifraud.synth.reviews import CASHBACK, DEFAULT_TEXT, PASTED, Reviews
from antifraud.synth.shops import Shops
from antifraud.synth.traps import TRAP_NAMES

__all__ = ["INSTANCE_OF", "World", "trap_truth"]


@dataclass(frozen=True)
class World:
    """Everything a generated export is made of, for reading the traps' truth off it."""

    plan: OrderPlan
    accounts: Accounts
    addresses: AddressBook
    shops: Shops
    events: list[Event]
    done: Fulfilment
    reviews: Reviews
    identities: Identities
    table: pa.Table
    ids: Ids


@dataclass(frozen=True)
class Shown:
    """The orders showing a trap: ``rows``, the instance ``code`` of each (any integers), the
    identity values the instance shares (``(column, row mask)``: the column's value at the
    instance's first row in the mask) and how many accounts an instance needs to be one."""

    rows: np.ndarray
    code: np.ndarray
    values: tuple[tuple[str, np.ndarray | None], ...] = ()
    min_accounts: int = 1


def _rows(mask: np.ndarray, code: np.ndarray, *values: tuple[str, np.ndarray | None], min_accounts: int = 1) -> Shown:
    rows = np.flatnonzero(mask)
    return Shown(rows, code[rows], values, min_accounts)


def _event(name: str) -> Callable[[World], Shown]:
    def shown(w: World) -> Shown:
        trap = np.array([e.trap == name for e in w.events] + [False])
        return _rows(trap[w.plan.event], w.plan.event.astype(np.int64))

    return shown


def _group(column: str, *values: str, min_accounts: int = 2) -> Callable[[World], Shown]:
    """An account column naming the group (household, station, ...) an account belongs to."""

    def shown(w: World) -> Shown:
        group = w.accounts.column(column)[w.plan.buyer]
        return _rows(group >= 0, group, *((v, None) for v in values), min_accounts=min_accounts)

    return shown


def _shop_trait(name: str, where: Callable[[World], np.ndarray] | None = None) -> Callable[[World], Shown]:
    def shown(w: World) -> Shown:
        mask = w.shops.traps[name][w.plan.shop]
        return _rows(mask if where is None else mask & where(w), w.plan.shop)

    return shown


def _text(habit: int, by: Callable[[World], np.ndarray]) -> Callable[[World], Shown]:
    def shown(w: World) -> Shown:
        return _rows((w.reviews.rating > 0) & (w.reviews.habit == habit), by(w), ("review_text", None))

    return shown


def _by_value(w: World, mask: np.ndarray, column: str, min_accounts: int) -> Shown:
    """The rows of ``mask``, one instance per distinct value of ``column``."""
    rows = np.flatnonzero(mask)
    encoded = pc.dictionary_encode(w.table[column].take(pa.array(rows))).combine_chunks()
    code = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return Shown(rows, code, ((column, None),), min_accounts)


def _office(w: World) -> Shown:
    buyer, ident = w.plan.buyer, w.identities
    on_network = ident.ip == w.accounts.column("office_ip")[buyer]
    ships = w.addresses.kind(w.accounts.column("address"))[buyer] >= 2  # office or campus
    member = w.accounts.column("office_campus")[buyer]
    return _rows((member >= 0) & (on_network | ships), member, ("buyer_ip", on_network), ("ship_address", ships),
                 min_accounts=2)


def _fresh(w: World) -> Shown:
    _, first = np.unique(w.plan.buyer, return_index=True)
    mask = np.zeros(len(w.plan), dtype=bool)
    mask[first] = w.accounts.column("fresh")[w.plan.buyer[first]]
    return _rows(mask, w.plan.shop)


def _default_device(w: World) -> Shown:
    known = np.sort(DEFAULT_DEVICES)
    at = np.minimum(np.searchsorted(known, w.identities.device), len(known) - 1)
    return _rows(known[at] == w.identities.device, at.astype(np.int64), ("device_id", None), min_accounts=2)




#: How each trap's instances are read off the world.
INSTANCE_OF: dict[str, Callable[[World], Shown]] = {
    "festival_rush": _event("festival_rush"),
    "product_drop": _event("product_drop"),
    "loyal_regulars": _group("loyal_shop", min_accounts=1),
    "repeat_purchase": _shop_trait("repeat_purchase"),
    "household": _group("household", "ship_address"),
    "carrier_nat": lambda w: _rows(w.identities.nat, w.identities.ip.astype(np.int64), ("buyer_ip", None),
                                   min_accounts=2),
    "office_campus": _office,
    "parcel_station": _group("parcel_station", "ship_address"),
    "privacy_number": lambda w: _rows(w.identities.privacy >= 0, w.identities.privacy,
                                      ("ship_phone", ~w.identities.masked), min_accounts=2),
    "default_device": _default_device,
    "net_cafe": lambda w: _rows(w.identities.cafe, w.accounts.column("net_cafe")[w.plan.buyer],
                                ("buyer_ip", None), min_accounts=2),
    "fresh_accounts": _fresh,
    "default_text": lambda w: _by_value(w, (w.reviews.rating > 0) & (w.reviews.habit == DEFAULT_TEXT),
                                        "review_text", 1),
    "pasted_review": _text(PASTED, lambda w: w.plan.buyer),
    "cashback_review": _text(CASHBACK, lambda w: w.plan.shop),
    "five_star_shop": _shop_trait("five_star_shop", lambda w: w.reviews.rating > 0),
    "quality_incident": _event("quality_incident"),
    "virtual_goods": _shop_trait("virtual_goods"),
    "jewellery": _shop_trait("jewellery", lambda w: w.done.parcel),
    "tracking_batch": _shop_trait("tracking_batch", lambda w: w.done.parcel),
    "masked_phone": lambda w: _by_value(w, w.identities.masked, "ship_phone", 2),
}


_COLUMNS = ("trap", "accounts", "merchants", "values", "orders", "start", "end")


def _split(labels: list[str], group: np.ndarray, n_groups: int) -> list[list[str]]:
    """``labels`` grouped by ``group`` (sorted), as lists."""
    bounds = np.searchsorted(group, np.arange(n_groups + 1)).tolist()
    return [labels[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _members(instance: np.ndarray, entity: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (instance, entity) pairs, sorted by instance and then by the entity's id."""
    pairs = np.unique(instance * len(rank) + rank[entity])
    return pairs // len(rank), pairs % len(rank)


def _first(instance: np.ndarray, n: int, values: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """The smallest of ``values`` in each of ``n`` instances (over the positions ``at``)."""
    out = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(out, instance if at is None else instance[at], values if at is None else values[at])
    return out


def _instances(
    w: World, trap: str, shown: Shown, honest: np.ndarray, names: tuple[tuple[np.ndarray, pa.Array], ...]
) -> pd.DataFrame:
    keep = honest[w.plan.buyer[shown.rows]]
    rows, code = shown.rows[keep], shown.code[keep]
    _, instance = np.unique(code, return_inverse=True)
    (acc_rank, acc_labels), (shop_rank, shop_labels) = names
    accounts = _members(instance, w.plan.buyer[rows], acc_rank)
    big = np.bincount(accounts[0], minlength=int(instance.max(initial=-1)) + 1) >= shown.min_accounts
    renumber = np.cumsum(big) - 1
    inside = big[instance]
    rows, instance = rows[inside], renumber[instance[inside]]
    accounts = tuple(part[big[accounts[0]]] for part in accounts)
    accounts = (renumber[accounts[0]], accounts[1])
    n = int(big.sum())
    if n == 0:
        return pd.DataFrame(columns=list(_COLUMNS))
    merchants = _members(instance, w.plan.shop[rows], shop_rank)
    created = w.plan.created[rows]
    position = np.arange(len(rows))
    values = [[] for _ in range(n)]
    for column, mask in shown.values:
        at = None if mask is None else mask[rows]
        first = _first(instance, n, position, at)
        present = np.flatnonzero(first < len(rows))
        text = w.table[column].take(pa.array(rows[first[present]])).to_pylist()
        for i, value in zip(present.tolist(), text):
            values[i].append(value)
    frame = pd.DataFrame(
        {
            "trap": trap,
            "accounts": _split(acc_labels.take(pa.array(accounts[1])).to_pylist(), accounts[0], n),
            "merchants": _split(shop_labels.take(pa.array(merchants[1])).to_pylist(), merchants[0], n),
            "values": values,
            "orders": np.bincount(instance, minlength=n),
            "start": _first(instance, n, created).astype("datetime64[s]"),
            "end": (-_first(instance, n, -created)).astype("datetime64[s]"),
        }
    )
    return frame


def _ranked(labels: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Each label's rank in sorted order, and the labels in that order."""
    order = pc.sort_indices(labels).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank, labels.take(pa.array(order))


def trap_truth(world: World, fraud_accounts: np.ndarray) -> pd.DataFrame:
    """One row per trap instance: ``trap_id, trap, accounts, merchants, values, orders, start,
    end`` (account and seller ids, shared identity values, the number of its orders and their
    period), traps in the order of :data:`~antifraud.synth.traps.TRAPS`.

    Only honest accounts count: ``fraud_accounts`` (account rows) are left out of every instance.

    Examples
    --------
    See :func:`antifraud.synth.generate`.
    """
    honest = np.ones(world.accounts.size, dtype=bool)
    honest[fraud_accounts] = False
    names = tuple(_ranked(labels) for labels in (world.ids.buyer, world.ids.seller))
    frames = [
        _instances(world, trap, INSTANCE_OF[trap](world), honest, names)
        for trap in TRAP_NAMES
    ]
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "trap_id", [f"t{i + 1:06d}" for i in range(len(frame))])
    return frame
