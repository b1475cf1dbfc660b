"""The life of a credit record: every change is a new, valid, hash-chained version.

============  =========================================  ===========================
action        allowed when the status is                 status afterwards
============  =========================================  ===========================
``review``    issued, amended                            amended
``amend``     issued, amended                            amended
``object``    issued, amended                            under_objection
``resolve``   under_objection                            revoked (upheld), else amended
``repair``    issued, amended                            repaired
``expire``    issued, amended, under_objection,          expired
              repaired (once its period has ended)
``revoke``    anything but revoked                       revoked (final)
============  =========================================  ===========================

Credit repair stops publication only after a minimum time on the list: 3 months from
``listed_on`` for minor and general cases, 1 year for serious ones (records that were never
listed can be repaired at once). A record expires when the later of ``listing.publish_until``
and ``sharing.retention_until`` has passed.

Each function returns the next version (unsigned) and never changes its argument; an action
that is not allowed raises :class:`TransitionError` saying why.

A finding is never itself a list entry: :func:`list_entry` issues a new ``list_entry`` record
from a human-reviewed finding in force, carrying the decision (determination) and the listing.
"""

from __future__ import annotations

import calendar
import copy
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from antifraud.records.chain import IMMUTABLE_FIELDS, record_hash, successor_problems
from antifraud.records.model import Record
from antifraud.records.validation import RecordError, validate_record

__all__ = ["TransitionError", "utc_now", "review", "amend", "object_to", "resolve", "repair", "expire", "revoke",
           "list_entry", "parse_timestamp", "timestamp"]

_OPEN = ("issued", "amended")
_MIN_LISTED_MONTHS = {"minor": 3, "general": 3, "serious": 12}
# Fields an amendment may not touch: the immutable ones and those only lifecycle actions set.
_NOT_AMENDABLE = (*IMMUTABLE_FIELDS, "version", "modified", "prev_hash", "status", "events",
                  "objection", "repair", "signature")


class TransitionError(ValueError):
    """A lifecycle action that the record's state does not allow."""


def timestamp(seconds: float) -> str:
    """An epoch time as an ``acr/1`` timestamp (RFC 3339 UTC with milliseconds).

    Examples
    --------
    >>> timestamp(0)
    '1970-01-01T00:00:00.000Z'
    """
    return datetime.fromtimestamp(float(seconds), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: How far ahead of this machine's clock a time given for a change may be (clock skew between members).
MAX_CLOCK_SKEW_SECONDS = 300


def parse_timestamp(text: str, *, not_after_now: bool = False) -> str:
    """Read a time given by a user as an ``acr/1`` timestamp (RFC 3339 UTC, milliseconds).

    Accepts RFC 3339 with ``Z`` or an offset (``2026-12-03T14:36:30+08:00``) and a bare date
    (``2026-12-03``, meaning its start in UTC). With ``not_after_now``, a time more than
    :data:`MAX_CLOCK_SKEW_SECONDS` ahead of the clock is refused: a change dated in the future
    would block every later change until then.

    Raises
    ------
    ValueError
        For anything else (``yesterday``, a time without an offset, an impossible date).

    Examples
    --------
    >>> parse_timestamp("2026-12-03T14:36:30+08:00")
    '2026-12-03T06:36:30.000Z'
    >>> parse_timestamp("2026-12-03")
    '2026-12-03T00:00:00.000Z'
    """
    value = text.strip()
    is_date = len(value) == 10
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is not None and is_date:
        moment = moment.replace(tzinfo=UTC)
    if moment is None or moment.tzinfo is None or not (is_date or value[10:11] in ("T", "t")):
        raise ValueError(f"{text!r} is not an RFC 3339 time with an offset, e.g. 2026-12-03T14:36:30+08:00 "
                         f"or 2026-12-03T06:36:30Z (or a date, 2026-12-03)")
    if not_after_now and moment.timestamp() > time.time() + MAX_CLOCK_SKEW_SECONDS:
        raise ValueError(f"{text!r} is in the future; a change is dated when it is made")
    return timestamp(moment.timestamp())


def utc_now() -> str:
    """The current time as an ``acr/1`` timestamp."""
    return timestamp(time.time())


def review(record: Record, *, reviewer: str, at: str, reason: str = "") -> Record:
    """Record that a person reviewed the finding (needed before it can be listed or shared
    beyond ``amber``)."""
    _require(record, "review", _OPEN)
    new = _next(record, at)
    new["assessment"]["human_reviewed"] = True
    new["assessment"]["reviewer"] = reviewer
    return _finish(record, new, "reviewed", at, reviewer, reason, status="amended")


def amend(record: Record, changes: Mapping[str, Any], *, by: str, at: str, reason: str) -> Record:
    """Change fields of a record, given as dotted paths (``{"sharing.level": "red"}``).

    The record's identity, history and lifecycle fields cannot be amended.
    """
    _require(record, "amend", _OPEN)
    if not changes:
        raise TransitionError("an amendment changes at least one field")
    new = _next(record, at)
    for path, value in changes.items():
        top = path.split(".", 1)[0]
        if top in _NOT_AMENDABLE:
            raise TransitionError(f"{path}: cannot be amended ({top} is fixed or set only by lifecycle actions)")
        _set_path(new, path, value)
    return _finish(record, new, "amended", at, by, reason, status="amended")


def object_to(
    record: Record, *, by: str, statement: str, at: str, evidence: list[dict] | None = None
) -> Record:
    """File the subject's objection (异议) to a record; it stays under objection until resolved."""
    _require(record, "file an objection to", _OPEN)
    new = _next(record, at)
    new["objection"] = {"filed_at": at, "by": by, "statement": statement, "evidence": evidence or [],
                        "result": "pending"}
    return _finish(record, new, "objection_filed", at, by, statement[:200], status="under_objection")


def resolve(record: Record, *, result: str, by: str, at: str, reason: str) -> Record:
    """Resolve a pending objection: ``upheld`` revokes the record, ``rejected`` or ``partial``
    returns it to ``amended`` (a partial result usually comes with an amendment)."""
    _require(record, "resolve an objection on", ("under_objection",))
    if result not in ("upheld", "rejected", "partial"):
        raise TransitionError(f"an objection is resolved as upheld, rejected or partial, not {result!r}")
    new = _next(record, at)
    new["objection"].update(result=result, resolved_at=at)
    status = "revoked" if result == "upheld" else "amended"
    return _finish(record, new, "objection_resolved", at, by, f"{result}: {reason}", status=status)


def repair(
    record: Record, *, commitment: str, applied_at: str, by: str, at: str, reason: str = ""
) -> Record:
    """Credit repair (信用修复): stop publishing and sharing, lift measures, keep the history."""
    _require(record, "repair", _OPEN)
    if applied_at > at:
        raise TransitionError("a repair cannot take effect before it was applied for")
    listing = record.get("listing")
    if listing is not None:
        severity = record.get("determination", {}).get("severity", "general")
        months = _MIN_LISTED_MONTHS[severity]
        earliest = _add_months(date.fromisoformat(listing["listed_on"]), months)
        if date.fromisoformat(at[:10]) < earliest:
            raise TransitionError(
                f"a {severity} case can be repaired only after {months} months on the list, from {earliest}"
            )
    new = _next(record, at)
    new["repair"] = {"applied_at": applied_at, "commitment": commitment, "decided_at": at, "effective_at": at}
    return _finish(record, new, "repaired", at, by, reason, status="repaired")


def expire(record: Record, *, by: str, at: str, reason: str = "") -> Record:
    """Mark a record expired once its publication and retention periods have passed."""
    _require(record, "expire", (*_OPEN, "under_objection", "repaired"))
    ends = [record["sharing"]["retention_until"], record.get("listing", {}).get("publish_until", "")]
    until = max(ends)
    if at[:10] <= until:
        raise TransitionError(f"the record runs until {until}; it cannot expire on {at[:10]}")
    new = _next(record, at)
    return _finish(record, new, "expired", at, by, reason or f"period ended {until}", status="expired")


def revoke(record: Record, *, by: str, at: str, reason: str) -> Record:
    """Revoke a record issued in error. Final: no version may follow."""
    if not reason.strip():
        raise TransitionError("a revocation gives its reason")
    _require(record, "revoke", ("issued", "amended", "under_objection", "repaired", "expired"))
    return _finish(record, _next(record, at), "revoked", at, by, reason, status="revoked")


def list_entry(
    finding: Record,
    *,
    list_name: str,
    determination: Mapping[str, Any],
    listed_on: str,
    publish_until: str,
    by: str,
    at: str,
) -> Record:
    """Issue a list entry (black, red or watch list) from a reviewed finding and the decision on it.

    Parameters
    ----------
    finding : dict
        The current version of a human-reviewed finding that is in force.
    list_name : {"black", "red", "watch"}
    determination : dict
        The decision: ``basis``, ``authority`` {``name``, ``uscc``}, ``decided_on``, ``measures``,
        ``severity`` and optionally ``document_no`` and ``legal_basis``.
    listed_on, publish_until : str
        The publication period (``YYYY-MM-DD``); it must fit the severity.
    """
    _require(finding, "list", _OPEN)
    if finding["record_type"] == "list_entry":
        raise TransitionError(f"{finding['id']} is already a list entry")
    if not finding["assessment"]["human_reviewed"]:
        raise TransitionError(f"{finding['id']} has not been reviewed by a person; review it before listing")
    entry = copy.deepcopy(dict(finding))
    entry.pop("signature", None)
    rid = uuid.uuid5(uuid.NAMESPACE_URL, f"acr-list-entry|{finding['id']}|{list_name}|{listed_on}")
    entry.update(
        id=f"acr--{rid}", version=1, created=at, modified=at, prev_hash=None, record_type="list_entry",
        status="issued", determination=dict(determination),
        listing={"list": list_name, "listed_on": listed_on, "publish_until": publish_until},
        events=[{"type": "issued", "at": at, "by": by,
                 "reason": f"{list_name} list entry from finding {finding['id']} version {finding['version']}"}],
    )
    for field in ("objection", "repair"):
        entry.pop(field, None)
    try:
        return validate_record(entry)
    except RecordError as exc:
        raise TransitionError(f"the list entry would be invalid: {exc}") from exc


def _require(record: Mapping[str, Any], action: str, allowed: tuple[str, ...]) -> None:
    validate_record(record)
    status = record["status"]
    if status not in allowed:
        why = "revocation is final" if status == "revoked" else f"allowed only when {' or '.join(allowed)}"
        raise TransitionError(f"cannot {action} {record['id']} (version {record['version']}, {status}): {why}")


def _next(record: Mapping[str, Any], at: str) -> dict[str, Any]:
    if at < record["modified"]:
        raise TransitionError(f"{at} is before the current version's time {record['modified']}")
    new = copy.deepcopy(dict(record))
    new.pop("signature", None)
    new.update(version=record["version"] + 1, prev_hash=record_hash(record), modified=at)
    return new


def _finish(
    prev: Mapping[str, Any], new: dict[str, Any], event: str, at: str, by: str, reason: str, *, status: str
) -> dict[str, Any]:
    new["status"] = status
    new["events"].append({"type": event, "at": at, "by": by, "reason": reason})
    try:
        validate_record(new)
    except RecordError as exc:
        raise TransitionError(f"the new version would be invalid: {exc}") from exc
    problems = successor_problems(prev, new)
    if problems:  # a bug here, not a user error: the functions above build successors
        raise AssertionError(f"lifecycle built a broken successor: {problems}")
    return new


def _set_path(obj: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        child = obj.get(part)
        if not isinstance(child, dict):
            if child is not None:
                raise TransitionError(f"{path}: {part} is not an object")
            child = obj[part] = {}
        obj = child
    obj[leaf] = value


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
