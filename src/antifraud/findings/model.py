"""The findings of a detection run, built once from the fitted ensemble.

:func:`build_findings` turns a fitted :class:`~antifraud.detectors.ensemble.BrushingEnsemble`
into :class:`Findings`: every entity's score and label, the rings (numbered ``R0001`` best
first) with their targets, orders, category and reasons, and the merchant and account findings
that the ``acr/1`` records share. Every writer (score files, ``rings.jsonl``, the evidence
table, the records, the terminal summary) reads this one object, so a ring's targets, a
finding's category and a reason's wording are decided here and nowhere else.

Entities are referred to by their codes in the run's graph (accounts are rows, merchants
columns, orders positions in the canonical table); :class:`Findings` holds the ids to name them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from antifraud import uscc
from antifraud.detectors.ensemble import SUSPICIOUS_DIRECTION, BrushingEnsemble, Ring
from antifraud.features.data import DetectionData
from antifraud.features.kernels import group_by
from antifraud.kinds import category
from antifraud.findings.rings import ring_ids, ring_targets, target_role
from antifraud.findings.words import (
    MERCHANT_DIRECTION,
    Signal,
    evidence_signals,
    feature_signals,
    main_reason,
    model_signals,
)
from antifraud.learning.explain import Explanation, explain_rings
from antifraud.learning.features import EntityFeatures
from antifraud.learning.model import BrushingModel
from antifraud.records.lifecycle import timestamp

__all__ = ["AccountFinding", "DEFAULT_CATEGORY", "Findings", "MerchantFinding", "RingFinding", "Scores", "Shop",
           "build_findings", "merchant_shops"]

#: The ``acr/1`` behaviour category of a flagged merchant outside any ring (a quota run's).
DEFAULT_CATEGORY = "fake_transaction"


@dataclass(frozen=True)
class Scores:
    """Every entity's score of one kind, the threshold and who is flagged (score at or above it)."""

    score: np.ndarray
    flagged: np.ndarray
    threshold: float


@dataclass(frozen=True)
class Shop:
    """A merchant as the findings name it: shop id, name, and credit code if the export's is valid
    (``uscc_check``: ``ok``, ``pilot_exception`` or ``absent``)."""

    seller_id: str
    name: str | None
    uscc: str | None
    uscc_check: str


@dataclass
class RingFinding:
    """A ring: its accounts, the shops it brushed (``merchants``) or attacked (``victims``), its
    orders at them, and why it is a ring. ``incidental`` are shops most of its accounts also
    bought from where its orders are too small a share to benefit them.

    ``score`` is the ensemble's (after weighing by behaviour), ``threshold`` the least score a
    ring must reach to be reported; ``period`` is the first and last of its orders (epoch
    seconds), of all its accounts' orders where it has none at targets; ``edges`` are its
    ``(account, merchant, orders)`` at its targets, one row per pair that ordered. ``model``
    is what a learned model says of its accounts and the merchants it brushed
    (:func:`~antifraud.learning.explain.explain_ring`), None in a run without one.
    """

    ring_id: str
    kind: str
    detectors: tuple[str, ...]
    score: float
    threshold: float
    accounts: np.ndarray
    merchants: np.ndarray
    victims: np.ndarray
    incidental: np.ndarray
    orders: np.ndarray
    edges: np.ndarray
    period: tuple[int, int] | None
    evidence: dict[str, float]
    signals: list[Signal]
    model: list[Explanation] | None = None

    @property
    def targets(self) -> np.ndarray:
        """The shops the ring's orders are counted at (:func:`~antifraud.findings.rings.ring_targets`)."""
        return ring_targets(self.merchants, self.victims)

    @property
    def target_role(self) -> str:
        """The role of the ring's targets (:func:`~antifraud.findings.rings.target_role`)."""
        return target_role(self.victims)

    @property
    def category(self) -> str:
        """The ring's ``acr/1`` behaviour category (:func:`antifraud.kinds.category`)."""
        return category(self.kind)


@dataclass
class MerchantFinding:
    """A flagged merchant: its score, the best ring it is a target of (if any), its orders,
    buyers and share of flagged orders, and the period of its flagged orders."""

    merchant: int
    shop: Shop
    score: float
    threshold: float
    ring: RingFinding | None
    orders: int
    buyers: int
    flagged_order_share: float
    period: tuple[int, int] | None
    signals: list[Signal]

    @property
    def role(self) -> str:
        """The merchant's role: that of its ring's targets, ``beneficiary`` without a ring."""
        return self.ring.target_role if self.ring is not None else "beneficiary"

    @property
    def category(self) -> str:
        """Its ring's category, :data:`DEFAULT_CATEGORY` without a ring."""
        return self.ring.category if self.ring is not None else DEFAULT_CATEGORY


@dataclass
class AccountFinding:
    """A flagged account in a ring: its score, its best ring, its orders and shops, and the
    period of its orders."""

    account: int
    score: float
    threshold: float
    ring: RingFinding
    orders: int
    shops: int
    period: tuple[int, int]
    signals: list[Signal]

    @property
    def category(self) -> str:
        """Its ring's category."""
        return self.ring.category


@dataclass
class Findings:
    """Everything a detection run found, for every writer.

    Attributes
    ----------
    account_ids, seller_ids : ndarray of str
        The id of every account and merchant code.
    order_ids : pyarrow.Array
        The id of every order position (``row:N`` where the export has none).
    scores : dict
        :class:`Scores` of ``"accounts"``, ``"merchants"`` and ``"orders"``.
    rings : list of RingFinding
        Best first, numbered ``R0001``...
    merchants : list of MerchantFinding
        Every flagged merchant, by code.
    accounts : list of AccountFinding
        Every flagged account that is in a ring, by code (an account flagged on its own
        behaviour alone is scored, not shared).
    shops : dict
        :class:`Shop` of every merchant code that a finding names.
    skipped : dict
        Detectors that could not run, with the reason.
    seller_names : ndarray of object
        The shop name of every merchant code (None where the export has none).
    reasons : dict
        For ``"accounts"`` and ``"merchants"``, the main reason of every flagged entity in words
        (:func:`~antifraud.findings.words.main_reason`), ``""`` for the others.
    """

    account_ids: np.ndarray
    seller_ids: np.ndarray
    order_ids: pa.Array
    scores: dict[str, Scores]
    rings: list[RingFinding]
    merchants: list[MerchantFinding]
    accounts: list[AccountFinding]
    shops: dict[int, Shop] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seller_names: np.ndarray | None = None
    reasons: dict[str, np.ndarray] = field(default_factory=dict)

    def ring_json(self, ring: RingFinding) -> dict:
        """``ring`` as in ``rings.jsonl`` (its period in ``acr/1`` times, as in the records; with a
        learned model, ``model``: per kind, the members' mean probability and its main contributions)."""
        learned = {} if ring.model is None else {"model": {e.kind: e.to_json() for e in ring.model}}
        return {
            "ring_id": ring.ring_id,
            "accounts": self.account_ids[ring.accounts].tolist(),
            "merchants": self.seller_ids[ring.merchants].tolist(),
            "victims": self.seller_ids[ring.victims].tolist(),
            "incidental": self.seller_ids[ring.incidental].tolist(),
            "orders": self.order_ids.take(pa.array(ring.orders, pa.int64())).to_pylist(),
            "score": round(float(ring.score), 6),
            "kind": ring.kind,
            "detectors": list(ring.detectors),
            "signals": [s.to_json() for s in ring.signals],
            "evidence": {name: round(value, 6) for name, value in ring.evidence.items()},
            "period": [timestamp(t) for t in ring.period] if ring.period is not None else None,
        } | learned


def build_findings(data: DetectionData, ensemble: BrushingEnsemble,
                   model: tuple[BrushingModel, EntityFeatures] | None = None) -> Findings:
    """The findings of ``ensemble``, fitted on ``data``: ``write_findings(build_findings(data,
    ensemble), out_dir)`` writes what ``antifraud detect`` writes but the records and evidence.

    With ``model``, a fitted learned model and the feature frames of ``data`` it scored, each
    ring is also explained by the model's main contributions to its accounts' and brushed
    merchants' probabilities (``RingFinding.model``, and among its signals)."""
    graph = data.graph
    scores = {kind: Scores(values, labels, float(ensemble.threshold_[kind])) for kind, values, labels in (
        ("accounts", ensemble.account_scores_, ensemble.account_labels_),
        ("merchants", ensemble.merchant_scores_, ensemble.merchant_labels_),
        ("orders", ensemble.order_scores_, ensemble.order_labels_),
    )}
    found = ensemble.rings_
    ring_signals = feature_signals(data.accounts, [r.accounts for r in found], SUSPICIOUS_DIRECTION, "accounts")
    learned = ([None] * len(found) if model is None
               else explain_rings(*model, [(r.accounts, r.merchants) for r in found]))
    rings = [_ring(rid, ring, data, ensemble.min_ring_score, signals, explained)
             for rid, ring, signals, explained in zip(ring_ids(len(found)), found, ring_signals, learned)]
    indptr, by_merchant = group_by(data.order_cols, graph.n_cols)  # each merchant's orders, in order
    # each merchant's first order (every merchant code has one)
    first = pa.array(by_merchant[indptr[:-1]], pa.int64())
    names = np.asarray(_column(data, "seller_name", first), dtype=object)
    flagged = np.flatnonzero(scores["merchants"].flagged)
    named = np.unique(np.concatenate([flagged, *(r.merchants for r in rings), *(r.victims for r in rings)]))
    shops = _shops(data, named.astype(np.int64), first, names)
    merchant_ring = _best_ring(rings, lambda r: r.merchants)
    signals = feature_signals(data.merchants, [[j] for j in flagged.tolist()], MERCHANT_DIRECTION, "shops")
    merchants = [_merchant(j, shops[j], by_merchant[indptr[j]:indptr[j + 1]], data, scores, merchant_ring.get(j), sig)
                 for j, sig in zip(flagged.tolist(), signals)]
    reasons = {"merchants": _reasons(graph.n_cols, flagged, merchant_ring, signals)}
    account_ring = _best_ring(rings, lambda r: r.accounts)
    flagged = np.flatnonzero(scores["accounts"].flagged)
    signals = feature_signals(data.accounts, [[i] for i in flagged.tolist()], SUSPICIOUS_DIRECTION, "accounts")
    reasons["accounts"] = _reasons(graph.n_rows, flagged, account_ring, signals)
    in_ring = np.isin(flagged, np.fromiter(account_ring, np.int64, len(account_ring)))
    signals = [sig for sig, keep in zip(signals, in_ring) if keep]
    flagged = flagged[in_ring]
    account = scores["accounts"]
    accounts = [AccountFinding(i, float(account.score[i]), account.threshold, account_ring[i], *activity, sig)
                for i, activity, sig in zip(flagged.tolist(), _activity(graph, flagged), signals)]
    return Findings(graph.row_labels, graph.col_labels, data.order_ids, scores, rings, merchants, accounts,
                    shops, dict(ensemble.skipped_), names, reasons)


def _reasons(n: int, flagged: np.ndarray, ring_of: Mapping[int, RingFinding],
             signals: list[list[Signal]]) -> np.ndarray:
    """The main reason of each of ``n`` entities: that of its best ring, else of its own signals
    where it is ``flagged``, else ``""``."""
    out = np.full(n, "", dtype=object)
    for i, own in zip(flagged.tolist(), signals):
        out[i] = main_reason(None, own)
    for i, ring in ring_of.items():
        out[i] = main_reason(ring, ring.signals)
    return out


def _ring(rid: str, ring: Ring, data: DetectionData, threshold: float, signals: list[Signal],
          explained: list[Explanation] | None) -> RingFinding:
    orders = data.orders_of(ring.accounts, ring_targets(ring.merchants, ring.victims))
    times = data.times[orders if orders.size else data.orders_of(ring.accounts)]
    pairs, counts = np.unique(np.stack([data.order_rows[orders], data.order_cols[orders]]), axis=1,
                              return_counts=True)
    return RingFinding(
        ring_id=rid, kind=ring.kind, detectors=tuple(ring.detectors), score=float(ring.score), threshold=threshold,
        accounts=ring.accounts, merchants=ring.merchants, victims=ring.victims, incidental=ring.incidental,
        orders=orders,
        edges=np.column_stack([pairs.T, counts]).astype(np.int64),
        period=(int(times.min()), int(times.max())) if times.size else None,
        evidence={k: float(v) for k, v in ring.evidence.items() if np.isfinite(v)},
        signals=evidence_signals(ring.evidence) + signals + model_signals(explained or []),
        model=explained,
    )


def _best_ring(rings: list[RingFinding], members: Callable[[RingFinding], np.ndarray]) -> dict[int, RingFinding]:
    """The best-scoring ring (rings come best first) of every entity that ``members`` lists in one."""
    best: dict[int, RingFinding] = {}
    for ring in reversed(rings):
        best.update(dict.fromkeys(np.asarray(members(ring)).tolist(), ring))
    return best


def _merchant(j: int, shop: Shop, orders: np.ndarray, data: DetectionData, scores: Mapping[str, Scores],
              ring: RingFinding | None, signals: list[Signal]) -> MerchantFinding:
    flagged = scores["orders"].flagged[orders]
    times = data.times[orders[flagged] if flagged.any() else orders]  # the period of the suspicious orders
    buyers = data.merchants["n_buyers"]
    return MerchantFinding(
        merchant=j, shop=shop, score=float(scores["merchants"].score[j]), threshold=scores["merchants"].threshold,
        ring=ring, orders=len(orders), buyers=int(buyers.iat[j]),
        flagged_order_share=float(flagged.mean()) if flagged.size else 0.0,
        period=(int(times.min()), int(times.max())) if times.size else None, signals=signals,
    )


def _activity(graph, rows: np.ndarray) -> list[tuple[int, int, tuple[int, int]]]:
    """Orders, shops, and first and last order time of each account in ``rows``, from the graph's edges."""
    starts = graph.indptr[rows]
    lengths = graph.indptr[rows + 1] - starts
    edges = np.repeat(np.arange(rows.size), lengths)  # which of ``rows`` each of their edges belongs to
    positions = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths - starts, lengths)
    orders = np.bincount(edges, weights=graph.count[positions], minlength=rows.size).astype(np.int64)
    first = np.full(rows.size, np.iinfo(np.int64).max)
    last = np.full(rows.size, np.iinfo(np.int64).min)
    np.minimum.at(first, edges, graph.first[positions])
    np.maximum.at(last, edges, graph.last[positions])
    return [(o, s, (f, la)) for o, s, f, la in zip(orders.tolist(), lengths.tolist(), first.tolist(), last.tolist())]


def merchant_shops(data: DetectionData) -> dict[int, Shop]:
    """Every merchant of ``data`` as records name it (:class:`Shop`), by merchant code."""
    indptr, orders = group_by(data.order_cols, data.graph.n_cols)
    first = pa.array(orders[indptr[:-1]], pa.int64())
    return _shops(data, np.arange(data.graph.n_cols), first, np.asarray(_column(data, "seller_name", first), object))


def _column(data: DetectionData, name: str, rows: pa.Array) -> list:
    """Column ``name`` of ``data``'s orders at ``rows``, as Python values (None where it is absent)."""
    if name not in data.table.column_names:
        return [None] * len(rows)
    return data.table.column(name).take(rows).to_pylist()


def _shops(data: DetectionData, needed: np.ndarray, first: pa.Array, names: np.ndarray) -> dict[int, Shop]:
    """The :class:`Shop` of each ``needed`` merchant code: its name in ``names``, and its credit code
    read from its ``first`` order."""
    out = {}
    for j, code in zip(needed.tolist(), _column(data, "seller_uscc", first.take(pa.array(needed, pa.int64())))):
        result = uscc.validate(code) if code else None
        valid = result.code if result is not None and result.valid else None
        check = "absent" if valid is None else ("pilot_exception" if result.pilot_exception else "ok")
        out[j] = Shop(str(data.graph.col_labels[j]), names[j], valid, check)
    return out
