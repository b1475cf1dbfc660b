"""What a ring does, read from its evidence: its kind in :data:`antifraud.kinds.RING_KINDS`.

A ring is named by the trace its members leave against their controls
(:mod:`antifraud.detectors.significance`), not by the detector that proposed it:

- ``negative_attack``: it attacks its shops (it has victims);
- otherwise the kind whose trace (:data:`TRACES`, and the behaviour detectors' evidence) is
  strongest, where it is significant (``log10 p`` at most :data:`TRACE_LOG10_P`): light parcels
  make an ``empty_parcel`` ring, young accounts an ``account_farm`` (or throwaway accounts that
  share identities), a takeover detector's evidence ``hijacked_accounts``;
- otherwise ``camouflage`` when most of its members' orders are at other shops (a ring that
  hides among honest purchases), and ``dense_block`` when they are at its targets.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["TRACES", "TRACE_FEATURES", "TRACE_LOG10_P", "ring_kind"]

#: The behaviour features whose significance names a ring's kind, by kind.
TRACES: dict[str, tuple[str, ...]] = {
    "empty_parcel": ("parcel_weight_kg",),
    "account_farm": ("age_first_order_d",),
}

#: A trace names the ring when its test's ``log10 p`` is at most this.
TRACE_LOG10_P = -3.0

#: Throwaway accounts (few orders) make a farm only when they also share identities.
_THROWAWAY = "n_orders"

#: Every behaviour feature whose test can name a ring.
TRACE_FEATURES: tuple[str, ...] = (*(f for features in TRACES.values() for f in features), _THROWAWAY)


def ring_kind(evidence: Mapping[str, float], *, attack: bool, linked_share: float, outside_share: float,
              traces: Mapping[str, tuple[str, ...]] | None = None) -> str:
    """The kind of a ring from its evidence (``log10_p_<feature>`` values of its members' tests).

    Parameters
    ----------
    evidence : mapping of str to float
        The ring's evidence; ``log10_p_<feature>`` is its members' test on ``feature``.
    attack : bool
        Whether the ring attacks its shops (has victims).
    linked_share : float
        Share of its members linked to another member through a shared identity.
    outside_share : float
        Median share of its members' orders placed outside its target shops.
    traces : mapping of str to tuple of str, optional
        More evidence names tracing each kind (the behaviour detectors' step names), beside
        :data:`TRACES`.

    Examples
    --------
    >>> ring_kind({"log10_p_parcel_weight_kg": -8.0, "log10_p_age_first_order_d": -4.0},
    ...           attack=False, linked_share=0.0, outside_share=0.1)
    'empty_parcel'
    >>> ring_kind({"log10_p_n_orders": -5.0}, attack=False, linked_share=0.8, outside_share=0.0)
    'account_farm'
    >>> ring_kind({}, attack=False, linked_share=0.0, outside_share=0.7)
    'camouflage'
    """
    if attack:
        return "negative_attack"
    named = {kind: TRACES.get(kind, ()) + tuple((traces or {}).get(kind, ())) for kind in {*TRACES, *(traces or {})}}
    strength = {kind: min((evidence.get(f"log10_p_{f}", 0.0) for f in features), default=0.0)
                for kind, features in sorted(named.items())}
    if linked_share >= 0.5:
        strength["account_farm"] = min(strength["account_farm"], evidence.get(f"log10_p_{_THROWAWAY}", 0.0))
    kind, best = min(strength.items(), key=lambda item: item[1])
    if best <= TRACE_LOG10_P:
        return kind
    return "camouflage" if outside_share >= 0.5 else "dense_block"
