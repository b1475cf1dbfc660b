"""From a detection run's findings to ``acr/1`` records (``findings.jsonl``).

Every ring becomes a ``ring_finding``; every flagged merchant a ``merchant_finding``; every
flagged account that belongs to a ring an ``account_finding`` (an account flagged on its own
behaviour alone is scored in ``accounts.csv`` but not shared). All are version 1, status
``issued``, not human-reviewed, so they are shared at ``amber`` at most and are never list
entries until a person has reviewed them (``antifraud records review``).

Shared records carry no raw personal identifier: accounts appear only as
``HMAC-SHA256(alliance key, "platform_account|" + id)`` with the key's id; merchants by their
credit code, or as ``shop:<platform>:<shop id>`` when the export has no valid code.

Record ids are UUIDv5 from the issuer, the run and the subject, so re-running the same inputs
with the same parameters re-issues the same ids. Every time a record states (``created``,
``modified``, the ``issued`` event, ``retention_until``) derives from the run's one issuing time
(:func:`issuing_time`), so with ``SOURCE_DATE_EPOCH`` or an explicit time the records are
byte-identical too.
"""

from __future__ import annotations

import functools
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from antifraud import uscc
from antifraud.features.kernels import group_by
from antifraud.records.lifecycle import timestamp, utc_now
from antifraud.records.model import Record
from antifraud.records.validation import validate_record
from antifraud.signing import Signer, sign_json

__all__ = ["IssuingTime", "Issuer", "RunContext", "build_records", "issuing_time"]

_NAMESPACE = uuid.UUID("6f1d2c1e-3f5a-5b8e-9c55-8a1f0e0d7a21")
_PURPOSE = "anti-brushing alliance: detecting fictitious transactions and fake reviews (反炒信)"
_LEGAL_BASIS = "alliance information-sharing agreement; PIPL art. 13(1) para. 2 and 7"
_RETENTION_DAYS = 3 * 365
_ACCOUNT_SIGNALS = {
    "age_first_order_d": "account age at first order (days)",
    "n_shops": "distinct shops ordered from",
    "top3_share": "share of orders at its three most frequent shops",
    "burst_1h": "most orders in any hour",
    "review_delay_h": "median hours from receipt to review",
    "identity_degree": "links to other accounts through shared identities",
}
_MERCHANT_SIGNALS = {
    "fresh_buyer_share": "share of buyers with new accounts",
    "top_buyer_share": "share of orders from the most frequent buyer",
    "burst_1h": "most orders in any hour",
    "five_star_share": "share of five-star reviews",
}


class IssuingTime(NamedTuple):
    """When a run issues its records (an ``acr/1`` timestamp) and where that time came from:
    ``"given"``, ``"SOURCE_DATE_EPOCH"`` or ``"clock"``."""

    at: str
    source: str


def issuing_time(given: str | None = None, environ: Mapping[str, str] = os.environ) -> IssuingTime:
    """The issuing time of a run: ``given``, else ``SOURCE_DATE_EPOCH``, else the clock.

    Parameters
    ----------
    given : str, optional
        An RFC 3339 time with its offset (``2026-11-01T08:00:00Z``, ``...+08:00``).
    environ : mapping
        Where ``SOURCE_DATE_EPOCH`` is read: integer seconds since 1970 (the
        reproducible-builds.org convention; empty counts as unset).

    Raises
    ------
    ValueError
        If ``given`` is not RFC 3339 with an offset, or ``SOURCE_DATE_EPOCH`` not an integer.

    Examples
    --------
    >>> issuing_time("2026-11-01T16:00:00+08:00")
    IssuingTime(at='2026-11-01T08:00:00.000Z', source='given')
    >>> issuing_time(environ={"SOURCE_DATE_EPOCH": "0"})
    IssuingTime(at='1970-01-01T00:00:00.000Z', source='SOURCE_DATE_EPOCH')
    """
    if given is not None:
        try:
            moment = datetime.fromisoformat(given)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ValueError(f"issued-at {given!r} is not an RFC 3339 time with an offset, e.g. 2026-11-01T08:00:00Z")
        return IssuingTime(timestamp(moment.timestamp()), "given")
    epoch = environ.get("SOURCE_DATE_EPOCH", "")
    if epoch:
        if not re.fullmatch(r"[0-9]+", epoch):
            raise ValueError(f"SOURCE_DATE_EPOCH {epoch!r} is not integer seconds since 1970 (reproducible-builds.org)")
        return IssuingTime(timestamp(int(epoch)), "SOURCE_DATE_EPOCH")
    return IssuingTime(utc_now(), "clock")


@dataclass(frozen=True)
class Issuer:
    """Who issues the records: the alliance member, its credit code and role, and its platform.

    :meth:`from_environment` reads ``ANTIFRAUD_MEMBER_ID``, ``ANTIFRAUD_MEMBER_USCC``,
    ``ANTIFRAUD_MEMBER_ROLE`` and ``ANTIFRAUD_PLATFORM``. A member that has not configured its
    identity issues as ``local`` with no credit code: such records are valid locally but
    ``antifraud feed export`` refuses to share them.
    """

    member_id: str = "local"
    uscc: str | None = None
    role: str = "analyst"
    platform: str = "unknown"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ, **given: str | None) -> Issuer:
        """The issuer from explicit values, else the environment, else the defaults."""
        keys = {"member_id": "ANTIFRAUD_MEMBER_ID", "uscc": "ANTIFRAUD_MEMBER_USCC",
                "role": "ANTIFRAUD_MEMBER_ROLE", "platform": "ANTIFRAUD_PLATFORM"}
        values = {f: given.get(f) or environ.get(env) for f, env in keys.items()}
        issuer = cls(**{f: v for f, v in values.items() if v})
        if issuer.uscc is not None:
            result = uscc.validate(issuer.uscc)
            if not result.valid:
                raise ValueError(f"the issuer's credit code {issuer.uscc!r} is invalid: {'; '.join(result.reasons)}")
            issuer = Issuer(issuer.member_id, result.code, issuer.role, issuer.platform)
        return issuer

    def to_record(self) -> dict[str, Any]:
        """The record's ``issuer`` object."""
        return {"member_id": self.member_id, "uscc": self.uscc, "role": self.role}


@dataclass(frozen=True)
class RunContext:
    """What every record of one run shares: issuer, pseudonym key, provenance, evidence, and the
    key that signs the records (optional)."""

    issuer: Issuer
    pseudonymizer: Any  # antifraud.ingest.Pseudonymizer
    run_id: str
    input_sha256: tuple[str, ...]
    data_as_of: str
    toolkit_version: str
    issued_at: str
    evidence: tuple[dict[str, str], ...] = ()
    signer: Signer | None = None

    @functools.cached_property
    def shared_fields(self) -> dict[str, Any]:
        """The fields every version-1 record of the run has in common."""
        issued = datetime.fromisoformat(self.issued_at.replace("Z", "+00:00"))
        return {
            "schema": "acr/1",
            "created": self.issued_at,
            "modified": self.issued_at,
            "issuer": self.issuer.to_record(),
            "evidence": [dict(e) for e in self.evidence],
            "events": [{"type": "issued", "at": self.issued_at, "by": self.issuer.member_id,
                        "reason": "found by an antifraud detection run; not yet reviewed by a person"}],
            "sharing": {"level": "amber", "purpose": _PURPOSE, "legal_basis": _LEGAL_BASIS,
                        "retention_until": (issued + timedelta(days=_RETENTION_DAYS)).date().isoformat(),
                        "contains_personal_data": True},
            "provenance": {"source_system": f"antifraud on {self.issuer.platform}", "data_as_of": self.data_as_of,
                           "input_sha256": list(self.input_sha256), "run_id": self.run_id,
                           "toolkit_version": self.toolkit_version},
        }


def build_records(data: Any, ensemble: Any, rings: Sequence[Mapping[str, Any]], ctx: RunContext) -> list[Record]:
    """The run's findings as validated ``acr/1`` records: rings, then merchants, then accounts.

    Parameters
    ----------
    data : DetectionData
        The run's tables and graphs.
    ensemble : BrushingEnsemble
        The fitted ensemble (scores, thresholds, ``rings_``).
    rings : sequence of dict
        The ring objects of ``rings.jsonl``, in the order of ``ensemble.rings_``.
    ctx : RunContext
        Issuer, key and provenance.
    """
    graph, found = data.graph, ensemble.rings_
    indptr, by_merchant = group_by(data.order_cols, graph.n_cols)  # each merchant's orders, in order
    flagged_merchants = np.flatnonzero(ensemble.merchant_labels_)
    needed = np.unique(np.concatenate(
        [flagged_merchants, *(r.merchants for r in found), *(r.victims for r in found)]).astype(np.int64))
    merchants = _merchant_keys(data, ctx.issuer.platform, needed, by_merchant[indptr[needed]])
    in_rings = np.unique(np.concatenate([np.zeros(0, np.int64), *(r.accounts for r in found)]).astype(np.int64))
    accounts = dict(zip(in_rings.tolist(), ctx.pseudonymizer.pseudonymize_array(
        "platform_account", pa.array(graph.row_labels[in_rings].tolist(), pa.string())).to_pylist()))
    records = [
        _ring_record(ring, rdict, data, ensemble, accounts, merchants, ctx)
        for ring, rdict in zip(ensemble.rings_, rings)
    ]
    ring_of_merchant = _best_ring([r.merchants for r in ensemble.rings_], rings)
    signals = _percentile_signals(data.merchants, flagged_merchants, _MERCHANT_SIGNALS, "shops")
    records += [
        _merchant_record(j, by_merchant[indptr[j]:indptr[j + 1]], data, ensemble, merchants,
                         ring_of_merchant.get(j), sig, ctx)
        for j, sig in zip(flagged_merchants.tolist(), signals)
    ]
    ring_of_account = _best_ring([r.accounts for r in ensemble.rings_], rings)
    flagged = np.flatnonzero(ensemble.account_labels_)
    flagged = flagged[np.isin(flagged, in_rings)]
    signals = _percentile_signals(data.accounts, flagged, _ACCOUNT_SIGNALS, "accounts")
    activity = _activity(graph, flagged)
    records += [
        _account_record(i, activity, ensemble, accounts[i], ring_of_account[i], sig, ctx)
        for i, activity, sig in zip(flagged.tolist(), activity, signals)
    ]
    if ctx.signer is not None:
        for record in records:
            record["signature"] = sign_json(record, ctx.signer)
    return [validate_record(r) for r in records]


def _best_ring(members: list[np.ndarray], rings: Sequence[Mapping[str, Any]]) -> dict[int, Mapping]:
    """The best-scoring ring (rings come best first) of every entity in one."""
    best: dict[int, Mapping] = {}
    for group, ring in zip(reversed(members), reversed(rings)):
        best.update(dict.fromkeys(np.asarray(group).tolist(), ring))
    return best


def _merchant_keys(data: Any, platform: str, needed: np.ndarray, first_orders: np.ndarray) -> dict[int, dict[str, Any]]:
    """For each ``needed`` merchant code: its shop id, credit code (if valid), check status,
    name, and key in the alliance (the code, or ``shop:<platform>:<shop id>``), read from the
    merchant's first order (``first_orders``, aligned with ``needed``)."""
    rows = pa.array(first_orders)
    columns = {c: data.table.column(c).take(rows).to_pylist() if c in data.table.column_names else [None] * len(needed)
               for c in ("seller_uscc", "seller_name")}
    out = {}
    for j, code, name in zip(needed.tolist(), columns["seller_uscc"], columns["seller_name"]):
        result = uscc.validate(code) if code else None
        valid = result.code if result is not None and result.valid else None
        seller = str(data.graph.col_labels[j])
        out[j] = {"seller": seller, "uscc": valid, "name": name,
                  "uscc_check": "absent" if valid is None else ("pilot_exception" if result.pilot_exception else "ok"),
                  "key": valid or f"shop:{platform}:{seller}"}
    return out


def _base(record_type: str, subject: dict, key: str, ctx: RunContext) -> dict[str, Any]:
    """A version-1 record with its fields in the schema's order (``behavior`` and ``assessment``
    to be filled in)."""
    rid = uuid.uuid5(_NAMESPACE, f"{ctx.issuer.member_id}|{ctx.run_id}|{record_type}|{key}")
    shared = ctx.shared_fields
    return {"schema": shared["schema"], "id": f"acr--{rid}", "version": 1, "created": shared["created"],
            "modified": shared["modified"], "prev_hash": None, "record_type": record_type, "status": "issued",
            "issuer": shared["issuer"], "subject": subject, "behavior": None, "assessment": None,
            "evidence": shared["evidence"], "events": list(shared["events"]), "sharing": dict(shared["sharing"]),
            "provenance": shared["provenance"]}


def _assessment(score: float, threshold: float, detector: str, signals: list[dict], ctx: RunContext) -> dict:
    return {"confidence": int(round(100 * score)), "detector": detector, "detector_version": ctx.toolkit_version,
            "score": round(float(score), 6), "threshold": round(float(threshold), 6), "signals": signals,
            "human_reviewed": False, "reviewer": None}


def _category(kind: str) -> str:
    return "malicious_negative_review" if kind == "one_star_attack" else "fake_transaction"


def _span(times: np.ndarray, ctx: RunContext) -> dict[str, str]:
    """The period of some orders (the issue time if there are none)."""
    if not times.size:
        return {"start": ctx.issued_at, "end": ctx.issued_at}
    return {"start": timestamp(times.min()), "end": timestamp(times.max())}


@functools.lru_cache(maxsize=4096)
def _ring_reference_cached(ring_id: str, kind: str, accounts: int, score: float, words: str) -> dict:
    return {"name": "ring", "value": ring_id, "population_percentile": None,
            "explanation": f"{words} {ring_id} ({kind}, {accounts} accounts, score {score:.2f})"}


def _ring_reference(ring: Mapping[str, Any], words: str) -> dict:
    """The ``ring`` signal: which ring of the run (``rings.jsonl``, evidence bundles) a finding is about
    (one shared, read-only object per ring and wording)."""
    return _ring_reference_cached(ring["ring_id"], ring["kind"], len(ring["accounts"]), ring["score"], words)


def _ring_signals(ring: Mapping[str, Any]) -> list[dict]:
    return [{"name": s["signal"], "value": s["value"], "population_percentile": s.get("percentile"),
             "explanation": s["text"]} for s in ring["signals"]]


def _ring_record(ring: Any, rdict: Mapping, data: Any, ensemble: Any, accounts: Mapping[int, str],
                 merchants: Mapping[int, dict], ctx: RunContext) -> dict:
    victim = ring.kind == "one_star_attack"
    targets = ring.victims if victim else ring.merchants
    inside = data.orders_of(ring.accounts, targets)
    pairs, counts = np.unique(
        np.stack([data.order_rows[inside], data.order_cols[inside]]), axis=1, return_counts=True
    )
    account_role = "participant"
    members = [{"kind": "account", "ref": accounts[i], "key_id": ctx.pseudonymizer.key_id, "role": account_role}
               for i in ring.accounts.tolist()]
    members += [{"kind": "merchant", "ref": merchants[j]["key"], "role": "victim" if victim else "beneficiary"}
                for j in targets.tolist()]
    edges = [{"src": accounts[i], "dst": merchants[j]["key"], "relation": "ordered_from", "weight": c}
             for (i, j), c in zip(pairs.T.tolist(), counts.tolist())]
    record = _base("ring_finding", {"ring": {"members": members, "edges": edges}}, rdict["ring_id"], ctx)
    metrics = {"accounts": len(ring.accounts), "merchants": len(targets), "orders": len(inside)}
    metrics.update({k: round(float(v), 6) for k, v in ring.evidence.items() if np.isfinite(v)})
    period = _span(data.times[inside if inside.size else data.orders_of(ring.accounts)], ctx)
    record["behavior"] = {"category": _category(ring.kind), "role": "participant", "period": period,
                          "metrics": metrics}
    signals = [_ring_reference(rdict, "the run's ring")] + _ring_signals(rdict)
    record["assessment"] = _assessment(ring.score, ensemble.min_ring_score, "+".join(ring.detectors), signals, ctx)
    return record


def _percentile_signals(table: pd.DataFrame, rows: np.ndarray, spec: Mapping[str, str], noun: str,
                        most: int = 4) -> list[list[dict]]:
    """For each of ``rows``, the features of ``spec`` in which it stands out (outside the 10th to
    90th percentile of the population), most extreme first, at most ``most``, in words.

    Percentiles count ties half, so a value shared by everybody is at the 50th.
    """
    columns = [c for c in spec if c in table.columns]
    values = np.full((rows.size, len(columns)), np.nan)
    pcts = np.full((rows.size, len(columns)), 50.0)
    for k, column in enumerate(columns):
        population = table[column].to_numpy(dtype=np.float64)
        values[:, k] = population[rows]
        population = np.sort(population[np.isfinite(population)])
        below = np.searchsorted(population, values[:, k], side="left")
        equal = np.searchsorted(population, values[:, k], side="right") - below
        pcts[:, k] = np.where(np.isfinite(values[:, k]), 100.0 * (below + 0.5 * equal) / max(population.size, 1), 50)
    extremity = np.abs(pcts - 50.0)
    order = np.argsort(-extremity, axis=1, kind="stable")[:, :most]
    out = []
    for value_row, pct_row, extreme_row, picks in zip(values.tolist(), pcts.tolist(), (extremity >= 40).tolist(),
                                                      order.tolist()):
        signals = []
        for k in picks:
            if extreme_row[k]:
                value, pct = value_row[k], pct_row[k]
                where = f"higher than {pct:.0f}%" if pct >= 50 else f"lower than {100 - pct:.0f}%"
                signals.append({"name": columns[k], "value": round(value, 6), "population_percentile": round(pct, 1),
                                "explanation": f"{spec[columns[k]]}: {value:.4g}, {where} of {noun}"})
        out.append(signals)
    return out


def _merchant_record(j: int, orders: np.ndarray, data: Any, ensemble: Any, merchants: Mapping[int, dict],
                     ring: Mapping | None, signals: list[dict], ctx: RunContext) -> dict:
    info = merchants[j]
    subject = {"merchant": {"uscc": info["uscc"], "uscc_check": info["uscc_check"], "name": info["name"],
                            "shop_ids": [str(info["seller"])], "platform": ctx.issuer.platform}}
    record = _base("merchant_finding", subject, str(info["key"]), ctx)
    if info["uscc"] is None or not str(info["uscc"]).startswith("92"):
        record["sharing"]["contains_personal_data"] = False
    flagged = ensemble.order_labels_[orders]
    times = data.times[orders[flagged] if flagged.any() else orders]  # the period of the suspicious orders
    feats = data.merchants
    metrics = {"orders": len(orders), "buyers": int(feats["n_buyers"].iat[j]) if "n_buyers" in feats else 0,
               "flagged_order_share": round(float(flagged.mean()) if flagged.size else 0.0, 6)}
    role = "victim" if ring is not None and ring["kind"] == "one_star_attack" else "beneficiary"
    record["behavior"] = {"category": _category(ring["kind"]) if ring else "fake_transaction", "role": role,
                          "period": _span(times, ctx), "metrics": metrics}
    if ring is not None:
        signals.insert(0, _ring_reference(ring, "target of ring"))
    record["assessment"] = _assessment(ensemble.merchant_scores_[j], ensemble.threshold_["merchants"],
                                       "ensemble", signals, ctx)
    return record


def _activity(graph: Any, rows: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Orders, shops, first and last order time of each account in ``rows``, from the graph's edges."""
    starts = graph.indptr[rows]
    lengths = graph.indptr[rows + 1] - starts
    edges = np.repeat(np.arange(rows.size), lengths)  # which of ``rows`` each of their edges belongs to
    positions = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths - starts, lengths)
    orders = np.bincount(edges, weights=graph.count[positions], minlength=rows.size).astype(np.int64)
    first = np.full(rows.size, np.iinfo(np.int64).max)
    last = np.full(rows.size, np.iinfo(np.int64).min)
    np.minimum.at(first, edges, graph.first[positions])
    np.maximum.at(last, edges, graph.last[positions])
    return list(zip(orders.tolist(), lengths.tolist(), first.tolist(), last.tolist()))


def _account_record(i: int, activity: tuple[int, int, int, int], ensemble: Any, pseudonym: str, ring: Mapping,
                    feature_signals: list[dict], ctx: RunContext) -> dict:
    subject = {"account": {"pseudonym": pseudonym, "key_id": ctx.pseudonymizer.key_id,
                           "id_kind": "platform_account", "platform": ctx.issuer.platform}}
    record = _base("account_finding", subject, pseudonym, ctx)
    orders, shops, first, last = activity
    record["behavior"] = {"category": _category(ring["kind"]), "role": "participant",
                          "period": {"start": timestamp(first), "end": timestamp(last)},
                          "metrics": {"orders": orders, "shops": shops}}
    signals = [_ring_reference(ring, "member of ring"), *feature_signals]
    record["assessment"] = _assessment(ensemble.account_scores_[i], ensemble.threshold_["accounts"], "ensemble",
                                       signals, ctx)
    return record
