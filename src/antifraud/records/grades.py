"""Merchant credit grades (分级分类): A to D from the records a member holds, with the records behind each.

Platforms grade merchants to decide how closely to watch them (信用分级分类监管). A grade here is a
plain function of the current version of each ``merchant_finding`` and ``list_entry`` record about
a merchant (:func:`record_grade`): each record in force gives a grade, and the merchant's is the
worst of them, D (a black-list entry, or a reviewed finding determined serious), C (another
reviewed finding, or a watch-list entry), B (a finding nobody reviewed, or a record under
objection) or A (nothing in force against it). ``docs/credit-grades.md`` gives the rule in full.

A record is believed only when its issuer signed it (with a keyring; see
:func:`~antifraud.records.feed.signature_problem`): one that is not gives no grade and is listed
with the reason. Merchants are keyed by credit code where their records carry one, else by the
shop key ``shop:<platform>:<shop id>`` (:func:`~antifraud.findings.records.merchant_keys`).

Examples
--------
>>> finding = {"id": "acr--1", "version": 2, "status": "amended", "record_type": "merchant_finding",
...            "issuer": {"member_id": "p"}, "assessment": {"human_reviewed": True}}
>>> record_grade(finding, "2026-12-01")
('C', 'a finding a person reviewed')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from antifraud.signing import Keyring

__all__ = ["GRADES", "Grade", "grade_merchants", "record_grade"]

#: What each grade means, best first.
GRADES: dict[str, str] = {
    "A": "no adverse record in force",
    "B": "suspected: an automated finding nobody has reviewed, or a record under objection",
    "C": "confirmed brushing: a finding a person reviewed, or on a watch list",
    "D": "serious: on a black list, or a reviewed finding determined serious",
}


def record_grade(version: Mapping[str, Any], as_of: str) -> tuple[str | None, str]:
    """The grade one record's current version gives its merchant on day ``as_of`` (``YYYY-MM-DD``),
    or None, with the reason in words (``docs/credit-grades.md``)."""
    status = version["status"]
    if status in ("revoked", "repaired", "expired"):
        return None, f"{status}: no longer held against the merchant"
    if status == "under_objection":
        return "B", "under objection, held at B until it is resolved"
    if version["record_type"] == "list_entry":
        listing = version["listing"]
        if listing["publish_until"] < as_of:
            return None, f"past its publication period ({listing['publish_until']})"
        return {"black": ("D", "on the black list"), "watch": ("C", "on the watch list"),
                "red": ("A", "on the red list")}[listing["list"]]
    if not version["assessment"]["human_reviewed"]:
        return "B", "a finding nobody has reviewed: a suspicion, not a determination"
    if version.get("determination", {}).get("severity") == "serious":
        return "D", "a finding a person reviewed, determined serious"
    return "C", "a finding a person reviewed"


@dataclass(frozen=True)
class Grade:
    """One merchant's grade and the records behind it.

    Attributes
    ----------
    key : str
        The merchant's credit code, or its shop key.
    name : str or None
        Its name as its newest record gives it.
    grade : str
        ``A`` to ``D`` (:data:`GRADES`).
    reasons : tuple of dict
        Every record about it: ``record_id``, ``version``, ``issuer``, ``record_type``,
        ``status``, ``grade`` (None where it gives none) and ``why``; worst first.
    """

    key: str
    name: str | None
    grade: str
    reasons: tuple[dict, ...]

    def to_json(self) -> dict:
        """The grade as a line of ``grades.jsonl``."""
        return {"merchant": self.key, "name": self.name, "grade": self.grade, "meaning": GRADES[self.grade],
                "records": list(self.reasons)}


def _key(merchant: Mapping[str, Any]) -> str:
    if merchant["uscc"]:
        return merchant["uscc"]
    return f"shop:{merchant['platform']}:{merchant['shop_ids'][0]}"


def grade_merchants(current: Iterable[Mapping[str, Any]], as_of: str,
                    keyring: Keyring | None = None) -> list[Grade]:
    """The grade of every merchant the records ``current`` (current versions) are about.

    Parameters
    ----------
    current : iterable of dict
        Current versions (``RecordStore(...).resolution().current.values()``); records about
        accounts and rings are passed over.
    as_of : str
        The day (``YYYY-MM-DD``) publication periods are judged on.
    keyring : Keyring, optional
        Where given, a record counts only when its issuer signed it.

    Returns
    -------
    list of Grade
        Worst grade first, then by key.
    """
    from antifraud.records.feed import signature_problem  # feeds carry grades, so feed imports this module

    by_key: dict[str, list[tuple[Mapping[str, Any], str | None, str]]] = {}
    for version in current:
        merchant = version["subject"].get("merchant")
        if merchant is None or version["record_type"] not in ("merchant_finding", "list_entry"):
            continue
        if version["record_type"] == "merchant_finding" and version["behavior"]["role"] == "victim":
            continue  # a shop a ring attacked: nothing against it
        grade, why = record_grade(version, as_of)
        if keyring is not None and (problem := signature_problem(version, version["issuer"]["member_id"], keyring)):
            grade, why = None, f"not counted: {problem}"
        by_key.setdefault(_key(merchant), []).append((version, grade, why))
    out = []
    for key, records in by_key.items():
        records.sort(key=lambda r: (r[1] is None, "DCBA".find(r[1] or "A"), r[0]["id"]))
        grades = [g for _, g, _ in records if g is not None]
        newest = max((v for v, _, _ in records), key=lambda v: v["modified"])
        reasons = tuple({"record_id": v["id"], "version": v["version"], "issuer": v["issuer"]["member_id"],
                         "record_type": v["record_type"], "status": v["status"], "grade": g, "why": why}
                        for v, g, why in records)
        out.append(Grade(key, newest["subject"]["merchant"]["name"], max(grades, default="A"), reasons))
    out.sort(key=lambda g: ("DCBA".find(g.grade), g.key))
    return out
