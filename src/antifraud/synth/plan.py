"""The order plan: who orders where and when, and how each order behaves afterwards."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

import numpy as np

__all__ = ["Difficulty", "OrderPlan", "Style"]


class Difficulty(enum.IntEnum):
    """How carefully a ring hides (its name, lower-case, is the ``difficulty`` in the truth).

    Examples
    --------
    >>> [d.label for d in Difficulty]
    ['easy', 'medium', 'hard']
    """

    #: scripted lockstep waves, fresh shared identities, templates, instant confirmation
    EASY = 0
    #: spread over days to weeks, fewer shared identities, some camouflage and organic texts
    MEDIUM = 1
    #: as the domain notes' careful rings: weeks at normal hours, small groups, honest-like
    #: amounts, fulfilment and texts; only the kind's own trace remains, weaker
    HARD = 2

    @property
    def label(self) -> str:
        """The name written in the truth files."""
        return self.name.lower()


class Style(enum.IntEnum):
    """How an order behaves after it is placed (payment, delivery, confirmation, review)."""

    HONEST = 0
    #: paid brushing order: fast confirmation, 5-star templated review
    BRUSH = 1
    #: brushing with an empty parcel: tiny weight, confirmed minutes after delivery
    EMPTY_PARCEL = 2
    #: malicious bad review (恶意差评) on a competitor
    ATTACK = 3
    #: honest order from a shop's bad batch: confirmed and reviewed soon after delivery, 1-2 stars
    INCIDENT = 4


@dataclass
class OrderPlan:
    """Orders before they are rendered, as columns of equal length.

    Attributes
    ----------
    buyer, shop : numpy.ndarray
        Account row and shop row.
    created : numpy.ndarray
        Creation time, local seconds (see :mod:`antifraud.synth.timeline`).
    style : numpy.ndarray
        :class:`Style` code.
    difficulty : numpy.ndarray
        :class:`Difficulty` code of the ring that placed the order (easy for honest orders).
    ring : numpy.ndarray
        Index of the ring that placed the order, -1 for honest buyers.
    event : numpy.ndarray
        Index of the honest shop event (product drop, quality incident, festival rush) the order
        belongs to, -1 for none.
    fraud : numpy.ndarray
        The order fakes reputation (ring orders that are not camouflage).
    device, ip : numpy.ndarray
        Device and IP used for this order, 0 for the account's own.
    carrier, tracking : numpy.ndarray
        Carrier and tracking serial, -1 for the shop's usual carrier and a random number.
    weight : numpy.ndarray
        Parcel weight in kilograms, NaN for the item's weight.
    item : numpy.ndarray
        Global item row, -1 for one drawn from the shop's catalogue.

    Examples
    --------
    >>> p = OrderPlan.build(buyer=np.array([3]), shop=np.array([1]), created=np.array([0]))
    >>> len(OrderPlan.concat([p, p])), int(p.ring[0]), int(p.carrier[0]), int(p.item[0])
    (2, -1, -1, -1)
    """

    buyer: np.ndarray
    shop: np.ndarray
    created: np.ndarray
    style: np.ndarray
    difficulty: np.ndarray
    ring: np.ndarray
    event: np.ndarray
    fraud: np.ndarray
    device: np.ndarray
    ip: np.ndarray
    carrier: np.ndarray
    tracking: np.ndarray
    weight: np.ndarray
    item: np.ndarray

    @classmethod
    def build(
        cls,
        buyer: np.ndarray,
        shop: np.ndarray,
        created: np.ndarray,
        *,
        style: Style = Style.HONEST,
        difficulty: Difficulty = Difficulty.EASY,
        ring: int = -1,
        fraud: bool = False,
        **overrides: np.ndarray,
    ) -> OrderPlan:
        """A plan where every order shares ``style``, ``difficulty``, ``ring`` and ``fraud``.

        ``overrides`` gives per-order ``event``, ``device``, ``ip``, ``carrier``, ``tracking``,
        ``weight`` or ``item``.
        """
        n = len(buyer)
        columns = {
            "buyer": np.asarray(buyer, dtype=np.int64),
            "shop": np.asarray(shop, dtype=np.int64),
            "created": np.asarray(created, dtype=np.int64),
            "style": np.full(n, style, dtype=np.int8),
            "difficulty": np.full(n, difficulty, dtype=np.int8),
            "ring": np.full(n, ring, dtype=np.int32),
            "event": np.full(n, -1, dtype=np.int32),
            "fraud": np.full(n, fraud),
            "device": np.zeros(n, dtype=np.uint64),
            "ip": np.zeros(n, dtype=np.uint32),
            "carrier": np.full(n, -1, dtype=np.int8),
            "tracking": np.full(n, -1, dtype=np.int64),
            "weight": np.full(n, np.nan),
            "item": np.full(n, -1, dtype=np.int64),
        }
        for name, values in overrides.items():
            columns[name] = np.asarray(values, dtype=columns[name].dtype)
        return cls(**columns)

    def __len__(self) -> int:
        return len(self.buyer)

    @classmethod
    def concat(cls, plans: list[OrderPlan]) -> OrderPlan:
        """All orders of ``plans``, in order."""
        return cls(
            **{
                f.name: np.concatenate([getattr(p, f.name) for p in plans])
                for f in dataclasses.fields(cls)
            }
        )

    def take(self, index: np.ndarray) -> OrderPlan:
        """The orders at ``index`` (a permutation sorts the plan)."""
        return OrderPlan(**{f.name: getattr(self, f.name)[index] for f in dataclasses.fields(self)})
