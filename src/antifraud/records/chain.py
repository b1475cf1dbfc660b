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

__all__ = ["IMMUTABLE_FIELDS", "ISSUING_TIME_FIELDS", "canonical_bytes", "content_differences", "record_hash",
           "successor_problems"]

#: Fields fixed at the first issue of a record; no later version may change them.
IMMUTABLE_FIELDS: tuple[str, ...] = ("schema", "id", "created", "record_type", "issuer", "subject")

#: Fields that say only *when* (and with which signature) a version was made. Two versions of one
#: id and number that differ in these alone are the same version issued twice (a re-run of the
#: same detection, say), not a fork. ``events.at`` is the time of every event;
#: ``sharing.retention_until`` is counted from the issue.
ISSUING_TIME_FIELDS: tuple[str, ...] = ("created", "modified", "signature", "events.at", "sharing.retention_until")


def record_hash(record: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical form of a whole record version (signature included)."""
    return hashlib.sha256(canonical_bytes(record)).hexdigest()


def content_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """The top-level fields in which two versions differ, apart from :data:`ISSUING_TIME_FIELDS`.

    Examples
    --------
    >>> v = {"created": "2026-11-01T00:00:00.000Z", "status": "issued", "events": [{"at": "x", "type": "issued"}]}
    >>> content_differences(v, {**v, "created": "2026-12-01T00:00:00.000Z", "events": [{"at": "y", "type": "issued"}]})
    []
    >>> content_differences(v, {**v, "status": "revoked"})
    ['status']
    """
    x, y = _without_issuing_time(a), _without_issuing_time(b)
    return sorted(k for k in x.keys() | y.keys() if x.get(k) != y.get(k))


def _without_issuing_time(record: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(record)
    for path in ISSUING_TIME_FIELDS:
        top, _, leaf = path.partition(".")
        if not leaf:
            out.pop(top, None)
        elif isinstance(value := out.get(top), list):
            out[top] = [{k: v for k, v in item.items() if k != leaf} if isinstance(item, Mapping) else item
                        for item in value]
        elif isinstance(value, Mapping):
            out[top] = {k: v for k, v in value.items() if k != leaf}
    return out


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
