"""Canonical form, hashes and hash chains of credit record versions.

Each version of a record carries ``prev_hash``: the SHA-256 of the RFC 8785 canonical form of the
version before it (signature included), so the versions of one id form a chain that nobody can
rewrite without breaking every later link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from antifraud.io import canonical_bytes
from antifraud.records.validation import Problem

__all__ = ["IMMUTABLE_FIELDS", "canonical_bytes", "record_hash", "successor_problems"]

#: Fields fixed at the first issue of a record; no later version may change them.
IMMUTABLE_FIELDS: tuple[str, ...] = ("schema", "id", "created", "record_type", "issuer", "subject")


def record_hash(record: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical form of a whole record version (signature included)."""
    return hashlib.sha256(canonical_bytes(record)).hexdigest()


def successor_problems(prev: Mapping[str, Any], new: Mapping[str, Any]) -> list[Problem]:
    """What stops ``new`` from being the version after ``prev`` of the same record.

    Checks the version number (no skips), ``prev_hash``, the immutable fields, that nothing
    follows a revocation, that ``modified`` does not go back, and that the event history is
    copied forward with at least one new event.

    Returns
    -------
    list of Problem
        Empty when ``new`` correctly follows ``prev``.
    """
    problems = []
    if new["id"] != prev["id"]:
        return [Problem("id", f"belongs to {new['id']}, not {prev['id']}")]
    if prev["status"] == "revoked":
        problems.append(Problem("status", f"version {prev['version']} revoked the record: nothing may follow"))
    if new["version"] != prev["version"] + 1:
        problems.append(Problem("version", f"is {new['version']}; the version after {prev['version']} is "
                                           f"{prev['version'] + 1}"))
    if new["prev_hash"] != record_hash(prev):
        problems.append(Problem("prev_hash", f"does not match the hash of version {prev['version']}"))
    for field in IMMUTABLE_FIELDS:
        if new[field] != prev[field]:
            problems.append(Problem(field, "is fixed at first issue and may not change"))
    if new["modified"] < prev["modified"]:
        problems.append(Problem("modified", f"goes back before version {prev['version']}'s"))
    old_events, events = prev["events"], new["events"]
    if len(events) <= len(old_events) or events[: len(old_events)] != old_events:
        problems.append(Problem("events", "must copy every earlier event unchanged and add at least one"))
    return problems
