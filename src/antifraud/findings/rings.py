"""What a ring is aimed at, and what it is called: the rules every reader of a ring shares.

A ring either brushes shops (its ``merchants``, which benefit) or attacks them (its ``victims``,
for a one-star attack; it then has no merchants). These rules hold for the ensemble's rings and
for the rings of ``rings.jsonl`` alike, and this module imports nothing heavy, so that the
evidence bundles read them without loading the detectors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

__all__ = ["listed_targets", "ring_ids", "ring_targets", "target_role"]

T = TypeVar("T", bound=Sequence)


def ring_targets(merchants: T, victims: T) -> T:
    """The shops a ring's orders are counted at: its victims for an attack, else its merchants.

    Examples
    --------
    >>> ring_targets(["s1", "s2"], []), ring_targets([], ["s9"])
    (['s1', 's2'], ['s9'])
    """
    return victims if len(victims) else merchants


def listed_targets(ring: Mapping) -> list[str]:
    """The targets (:func:`ring_targets`) of a ring as ``rings.jsonl`` lists it, as shop ids.

    Examples
    --------
    >>> listed_targets({"merchants": [], "victims": [12]})
    ['12']
    """
    return [str(s) for s in ring_targets(ring.get("merchants") or [], ring.get("victims") or [])]


def target_role(victims: Sequence) -> str:
    """The role of a ring's targets in its records: ``victim`` of an attack, else ``beneficiary``.

    Examples
    --------
    >>> target_role([]), target_role(["s9"])
    ('beneficiary', 'victim')
    """
    return "victim" if len(victims) else "beneficiary"


def ring_ids(n: int) -> list[str]:
    """Identifiers of ``n`` rings, ``R0001`` for the best.

    Examples
    --------
    >>> ring_ids(2)
    ['R0001', 'R0002']
    """
    return [f"R{k + 1:04d}" for k in range(n)]
