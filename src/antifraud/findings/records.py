"""From a run's findings to ``acr/1`` records (``findings.jsonl``).

Every ring becomes a ``ring_finding``; every flagged merchant a ``merchant_finding``; every
flagged account that belongs to a ring an ``account_finding`` (an account flagged on its own
behaviour alone is scored in ``accounts.csv`` but not shared). All are version 1, status
``issued``, not human-reviewed, so they are shared at ``amber`` at most and are never list
entries until a person has reviewed them (``antifraud records review``).

Shared records carry no raw personal identifier: accounts appear only as
``HMAC-SHA256(alliance key, "platform_account|" + id)`` with the key's id; merchants by their
credit code, or as ``shop:<platform>:<shop id>`` when the export has no valid code.

Record ids are UUIDv5 from the issuer, the run and the subject, so re-running the same inputs
with the same parameters re-issues the same ids; every time a record states derives from the
run's issuing time (:class:`~antifraud.records.issuing.RunContext`).
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

import numpy as np
import pyarrow as pa

from antifraud.findings.model import AccountFinding, Findings, MerchantFinding, RingFinding, Shop
from antifraud.findings.words import Signal
from antifraud.records.issuing import RunContext
from antifraud.records.lifecycle import timestamp
from antifraud.records.model import Record
from antifraud.records.subjects import merchant_keys as subject_keys
from antifraud.records.validation import validate_record
from antifraud.signing import sign_json

__all__ = ["build_records", "merchant_keys", "record_id"]

_NAMESPACE = uuid.UUID("6f1d2c1e-3f5a-5b8e-9c55-8a1f0e0d7a21")


def build_records(findings: Findings, ctx: RunContext) -> list[Record]:
    """The run's findings as validated ``acr/1`` records: rings, then merchants, then accounts.

    Parameters
    ----------
    findings : Findings
        What the run found (:func:`~antifraud.findings.model.build_findings`).
    ctx : RunContext
        Issuer, pseudonym key, provenance, evidence and signing key.
    """
    in_rings = np.unique(np.concatenate([np.zeros(0, np.int64), *(r.accounts for r in findings.rings)]))
    accounts = dict(zip(in_rings.tolist(), ctx.pseudonymizer.pseudonymize_array(
        "platform_account", pa.array(findings.account_ids[in_rings].tolist(), pa.string())).to_pylist()))
    keys = {j: merchant_keys(shop, ctx.issuer.platform)[0] for j, shop in findings.shops.items()}
    records = [_ring_record(ring, accounts, keys, ctx) for ring in findings.rings]
    records += [_merchant_record(m, keys[m.merchant], ctx) for m in findings.merchants]
    records += [_account_record(a, accounts[a.account], ctx) for a in findings.accounts]
    if ctx.signer is not None:
        for record in records:
            record["signature"] = sign_json(record, ctx.signer)
    return [validate_record(r) for r in records]


def merchant_keys(shop: Shop, platform: str) -> list[str]:
    """The keys a record may name a merchant by, the one its records are issued under first: its
    credit code where it has a valid one, and ``shop:<platform>:<shop id>``
    (:func:`antifraud.records.subjects.merchant_keys`).

    Examples
    --------
    >>> merchant_keys(Shop("s7", None, None, "absent"), "taobao")
    ['shop:taobao:s7']
    >>> merchant_keys(Shop("s7", None, "91440300708461136T", "ok"), "taobao")
    ['91440300708461136T', 'shop:taobao:s7']
    """
    return subject_keys({"uscc": shop.uscc, "platform": platform, "shop_ids": [shop.seller_id]})


def record_id(member_id: str, run_id: str, record_type: str, key: str) -> str:
    """The id of the record a member's run issues about a subject (``key``: a ring id, merchant key
    or pseudonym): UUIDv5, so the same run re-issues the same ids.

    Examples
    --------
    >>> record_id("m", "run-1", "ring_finding", "R0001") == record_id("m", "run-1", "ring_finding", "R0001")
    True
    """
    return f"acr--{uuid.uuid5(_NAMESPACE, f'{member_id}|{run_id}|{record_type}|{key}')}"


def _base(record_type: str, subject: dict, key: str, ctx: RunContext) -> dict[str, Any]:
    """A version-1 record with its fields in the schema's order (``behavior`` and ``assessment``
    to be filled in)."""
    shared = ctx.shared_fields
    rid = record_id(ctx.issuer.member_id, ctx.run_id, record_type, key)
    return {"schema": shared["schema"], "id": rid, "version": 1, "created": shared["created"],
            "modified": shared["modified"], "prev_hash": None, "record_type": record_type, "status": "issued",
            "issuer": shared["issuer"], "subject": subject, "behavior": None, "assessment": None,
            "evidence": shared["evidence"], "events": list(shared["events"]), "sharing": dict(shared["sharing"]),
            "provenance": shared["provenance"]}


def _signal(s: Signal) -> dict:
    return {"name": s.name, "value": s.value, "population_percentile": s.percentile, "explanation": s.text}


def _assessment(score: float, threshold: float, detector: str, signals: list[dict], ctx: RunContext) -> dict:
    return {"confidence": int(round(100 * score)), "detector": detector, "detector_version": ctx.toolkit_version,
            "score": round(float(score), 6), "threshold": round(float(threshold), 6), "signals": signals,
            "human_reviewed": False, "reviewer": None}


def _span(period: tuple[int, int] | None, ctx: RunContext) -> dict[str, str]:
    """A period as ``acr/1`` times (the issue time where there is none)."""
    if period is None:
        return {"start": ctx.issued_at, "end": ctx.issued_at}
    return {"start": timestamp(period[0]), "end": timestamp(period[1])}


@functools.lru_cache(maxsize=4096)
def _ring_reference_cached(ring_id: str, kind: str, accounts: int, score: float, words: str) -> dict:
    return {"name": "ring", "value": ring_id, "population_percentile": None,
            "explanation": f"{words} {ring_id} ({kind}, {accounts} accounts, score {score:.2f})"}


def _ring_reference(ring: RingFinding, words: str) -> dict:
    """The ``ring`` signal: which ring of the run (``rings.jsonl``, evidence bundles) a finding is about
    (one shared, read-only object per ring and wording)."""
    return _ring_reference_cached(ring.ring_id, ring.kind, len(ring.accounts), round(ring.score, 6), words)


def _ring_record(ring: RingFinding, accounts: dict[int, str], keys: dict[int, str], ctx: RunContext) -> dict:
    members = [{"kind": "account", "ref": accounts[i], "key_id": ctx.pseudonymizer.key_id, "role": "participant"}
               for i in ring.accounts.tolist()]
    members += [{"kind": "merchant", "ref": keys[j], "role": ring.target_role} for j in ring.targets.tolist()]
    edges = [{"src": accounts[i], "dst": keys[j], "relation": "ordered_from", "weight": c}
             for i, j, c in ring.edges.tolist()]
    record = _base("ring_finding", {"ring": {"members": members, "edges": edges}}, ring.ring_id, ctx)
    metrics = {"accounts": len(ring.accounts), "merchants": len(ring.targets), "orders": len(ring.orders)}
    metrics.update({k: round(v, 6) for k, v in ring.evidence.items()})
    record["behavior"] = {"category": ring.category, "role": "participant", "period": _span(ring.period, ctx),
                          "metrics": metrics}
    signals = [_ring_reference(ring, "the run's ring"), *map(_signal, ring.signals)]
    record["assessment"] = _assessment(ring.score, ring.threshold, "+".join(ring.detectors), signals, ctx)
    return record


def _merchant_record(finding: MerchantFinding, key: str, ctx: RunContext) -> dict:
    shop = finding.shop
    subject = {"merchant": {"uscc": shop.uscc, "uscc_check": shop.uscc_check, "name": shop.name,
                            "shop_ids": [shop.seller_id], "platform": ctx.issuer.platform}}
    record = _base("merchant_finding", subject, key, ctx)
    if shop.uscc is None or not shop.uscc.startswith("92"):  # only individual businesses' codes are personal
        record["sharing"]["contains_personal_data"] = False
    metrics = {"orders": finding.orders, "buyers": finding.buyers,
               "flagged_order_share": round(finding.flagged_order_share, 6)}
    record["behavior"] = {"category": finding.category, "role": finding.role, "period": _span(finding.period, ctx),
                          "metrics": metrics}
    signals = [_signal(s) for s in finding.signals]
    if finding.ring is not None:
        signals.insert(0, _ring_reference(finding.ring, "target of ring"))
    record["assessment"] = _assessment(finding.score, finding.threshold, "ensemble", signals, ctx)
    return record


def _account_record(finding: AccountFinding, pseudonym: str, ctx: RunContext) -> dict:
    subject = {"account": {"pseudonym": pseudonym, "key_id": ctx.pseudonymizer.key_id,
                           "id_kind": "platform_account", "platform": ctx.issuer.platform}}
    record = _base("account_finding", subject, pseudonym, ctx)
    record["behavior"] = {"category": finding.category, "role": "participant", "period": _span(finding.period, ctx),
                          "metrics": {"orders": finding.orders, "shops": finding.shops}}
    signals = [_ring_reference(finding.ring, "member of ring"), *map(_signal, finding.signals)]
    record["assessment"] = _assessment(finding.score, finding.threshold, "ensemble", signals, ctx)
    return record
