"""Ground truth: which accounts, merchants and orders are fraudulent, and the rings they form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from antifraud.synth.orders import Ids
from antifraud.synth.plan import OrderPlan
from antifraud.synth.rings import ROLES, Ring

__all__ = ["Truth", "build_truth"]

ATTACK = "negative_attack"


@dataclass(frozen=True)
class Truth:
    """Truth tables (see :class:`antifraud.synth.SyntheticExport` for their columns)."""

    accounts: pd.DataFrame
    merchants: pd.DataFrame
    orders: pd.DataFrame
    rings: pd.DataFrame


def _labels(
    entity: np.ndarray,
    ring: np.ndarray,
    everyone: np.ndarray,
    ids: pa.Array,
    ring_ids: np.ndarray,
    id_column: str,
) -> pd.DataFrame:
    """One row per entity in ``everyone`` (sorted by id): its ``;``-joined rings, the index of its
    first ring (-1 for none) and its row.

    ``entity`` and ``ring`` list the (entity row, ring index) of every fraud order.
    """
    present = np.flatnonzero(np.bincount(everyone))
    n_rings = max(1, len(ring_ids))
    pairs = np.unique(entity.astype(np.int64) * n_rings + ring)
    pair_entity, pair_ring = pairs // n_rings, pairs % n_rings
    starts = np.flatnonzero(np.diff(pair_entity, prepend=-1))
    ends = np.append(starts[1:], len(pairs))
    joined = [";".join(ring_ids[pair_ring[a:b]]) for a, b in zip(starts.tolist(), ends.tolist())]
    at = np.searchsorted(present, pair_entity[starts])
    ring_column = np.full(len(present), "", dtype=object)
    ring_column[at] = joined
    first_ring = np.full(len(present), -1)
    first_ring[at] = pair_ring[starts]
    frame = pd.DataFrame(
        {
            id_column: ids.take(pa.array(present)).to_pandas(),
            "ring_ids": pd.array(ring_column, dtype="str"),
            "first_ring": first_ring,
            "row": present,
        }
    )
    return frame.sort_values(id_column, ignore_index=True)


def build_truth(plan: OrderPlan, rings: list[Ring], ids: Ids) -> Truth:
    """Truth tables for the time-sorted ``plan`` whose orders, accounts and shops carry ``ids``.

    An account is fraudulent when it placed a fraud order; its role comes from the kind of its
    first ring (:data:`antifraud.synth.rings.ROLES`). A shop is ``brushing`` (fraudulent) when it
    received fraud orders from a ring other than a negative attack, and a ``victim`` (not
    fraudulent) when it was the target of one. A ring's accounts, merchants and orders are those
    of its fraud orders; its period spans their creation times. Camouflage orders keep their
    ring id with ``is_fraud`` 0.

    Examples
    --------
    See :func:`antifraud.synth.generate`.
    """
    ring_ids = np.array([r.ring_id for r in rings], dtype=str)
    kinds = np.array([r.kind for r in rings], dtype=str)
    fraud = plan.fraud
    buyer, shop, ring = plan.buyer[fraud], plan.shop[fraud], plan.ring[fraud]

    orders = pd.DataFrame(
        {
            "order_id": ids.order.to_pandas(),
            "is_fraud": fraud.astype(np.int8),
            "ring_id": pa.array(np.append(ring_ids, ""))
            .take(pa.array(np.where(plan.ring < 0, len(rings), plan.ring)))
            .to_pandas(),
        }
    )

    accounts = _labels(buyer, ring, plan.buyer, ids.buyer, ring_ids, "account_id")
    accounts.pop("row")
    first_ring = accounts.pop("first_ring").to_numpy()
    roles = np.array([ROLES[k] for k in kinds] + ["honest"])
    accounts.insert(1, "is_fraud", (first_ring >= 0).astype(np.int8))
    accounts.insert(2, "role", roles[first_ring])

    merchants = _labels(shop, ring, plan.shop, ids.seller, ring_ids, "seller_id")
    merchants.pop("first_ring")
    row = merchants.pop("row").to_numpy()
    attack = kinds[ring] == ATTACK
    brushing, victim = np.isin(row, shop[~attack]), np.isin(row, shop[attack])
    merchants.insert(1, "is_fraud", brushing.astype(np.int8))
    merchants.insert(
        2, "role", np.where(brushing, "brushing", np.where(victim, "victim", "honest"))
    )

    per_order = pd.DataFrame(
        {
            "ring": ring,
            "account": ids.buyer.take(pa.array(buyer)).to_pandas(),
            "merchant": ids.seller.take(pa.array(shop)).to_pandas(),
            "order": ids.order.filter(pa.array(fraud)).to_pandas(),
            "created": plan.created[fraud].astype("datetime64[s]"),
        }
    )
    grouped = per_order.groupby("ring", sort=True)
    members = {
        name: grouped[column].agg(lambda s: sorted(set(s)))
        for name, column in (
            ("accounts", "account"),
            ("merchants", "merchant"),
            ("orders", "order"),
        )
    }
    ring_frame = pd.DataFrame(
        {
            "ring_id": ring_ids,
            "kind": kinds,
            "difficulty": [r.difficulty for r in rings],
            "accounts": members["accounts"].reindex(range(len(rings))).to_numpy(),
            "merchants": members["merchants"].reindex(range(len(rings))).to_numpy(),
            "orders": members["orders"].reindex(range(len(rings))).to_numpy(),
            "start": grouped["created"].min().reindex(range(len(rings))).to_numpy(),
            "end": grouped["created"].max().reindex(range(len(rings))).to_numpy(),
        }
    )
    ring_frame.insert(
        5, "victims", [m if k == ATTACK else [] for m, k in zip(ring_frame["merchants"], kinds)]
    )
    return Truth(accounts=accounts, merchants=merchants, orders=orders, rings=ring_frame)
