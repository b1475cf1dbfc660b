"""Validate ``acr/1`` credit records: the JSON Schema shipped in the package, then the rules
that relate one field to another.

Every record the toolkit writes and every record it reads passes through :func:`validate_record`.
Problems name the field they concern with a dotted path (``subject.merchant.uscc``,
``assessment.signals.0.value``) so that a hand-edited record says exactly what was broken.

The schema checks shapes, enumerations and formats; a value that does not have its pattern is
reported with what is expected in words (:data:`PATTERN_WORDS`), never the regular expression.
The rules checked here in code:

- ``schema`` must be ``acr/1``: other versions are refused with their version named;
- version 1 has no ``prev_hash``; later versions have one; ``modified`` is not before ``created``
  and version 1 has ``modified == created``; a period's start is not after its end;
- the first event is ``issued``; events are in time order and none is after ``modified``;
- credit codes (issuer, merchant, authority) pass :func:`antifraud.uscc.validate`, and a
  merchant's ``uscc_check`` agrees with what the code is;
- a finding that is not human-reviewed is shared at ``amber`` or tighter and is never a
  ``list_entry``; a reviewed finding names its reviewer;
- records about accounts, rings with accounts, or an individual business (a code starting
  ``92``) declare ``contains_personal_data``;
- status ``under_objection`` has a pending objection; ``repaired`` has a repair in effect;
  a list entry has a listing, whose publication period fits the determination's severity
  (general: 3 months to 1 year; serious: 1 to 3 years).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from antifraud import uscc

__all__ = ["SCHEMA_VERSION", "PATTERN_WORDS", "RecordError", "Problem", "schema", "record_problems", "validate_record"]

SCHEMA_VERSION = "acr/1"
_TIGHT_SHARING = frozenset({"amber", "amber+strict", "red"})
# Publication periods by severity, in months (GB/T and the 2016 agreement's practice).
_PUBLISH_MONTHS = {"general": (3, 12), "serious": (12, 36)}
_MAX_MESSAGE = 200


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a record: the dotted path of the field and what is wrong with it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field or '(record)'}: {self.message}"


class RecordError(ValueError):
    """A record that fails the schema or the record rules.

    Attributes
    ----------
    problems : list of Problem
        Every problem found, each naming its field.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")


@functools.cache
def schema() -> dict[str, Any]:
    """The ``acr/1`` JSON Schema (draft-07, the most widely implemented draft) shipped in the
    package (``antifraud/records/schemas``)."""
    text = resources.files("antifraud.records").joinpath("schemas/acr-1.schema.json").read_text("utf-8")
    return json.loads(text)


@functools.cache
def _validator():  # noqa: ANN202 - a compiled validator
    """The schema compiled by jsonschema-rs (Rust): about 0.01 ms per record, and every
    violation reported with its path."""
    import jsonschema_rs

    return jsonschema_rs.Draft7Validator(schema())


def record_problems(record: Any) -> list[Problem]:
    """Every problem with ``record``: schema violations first, then broken rules.

    Parameters
    ----------
    record : object
        A decoded JSON value that should be one ``acr/1`` record version.

    Returns
    -------
    list of Problem
        Empty when the record is valid.

    Examples
    --------
    >>> record_problems({"schema": "acr/2"})
    [Problem(field='schema', message="unknown record format 'acr/2': this reader knows acr/1 only")]
    """
    if not isinstance(record, Mapping):
        return [Problem("", f"a record must be a JSON object, not {type(record).__name__}")]
    if record.get("schema") != SCHEMA_VERSION:
        found = record.get("schema")
        return [Problem("schema", f"unknown record format {found!r}: this reader knows {SCHEMA_VERSION} only")]
    validator = _validator()
    if not validator.is_valid(record):
        return sorted((_schema_problem(error) for error in validator.iter_errors(record)), key=lambda p: p.field)
    return list(_rule_problems(record))


def validate_record(record: Any) -> dict[str, Any]:
    """Return ``record`` if it is a valid ``acr/1`` record version; raise otherwise.

    Raises
    ------
    RecordError
        Naming each field that is wrong.
    """
    problems = record_problems(record)
    if problems:
        raise RecordError(problems)
    return record


_HEX64 = "64 hexadecimal characters (0-9, a-f)"
#: What a value of each pattern of the schema must be, in words, by the field or definition the
#: pattern is given for (the tests check that every pattern of the schema has its words here).
PATTERN_WORDS = {
    "uscc": "a unified social credit code: 18 characters, digits and capital letters except I, O, S, V, Z",
    "timestamp": "an RFC 3339 UTC time with milliseconds, e.g. 2026-11-01T08:00:00.000Z",
    "date": "a date, YYYY-MM-DD, e.g. 2026-11-01",
    "sha256": f"a SHA-256 digest: {_HEX64}",
    "prev_hash": f"the SHA-256 of the previous version: {_HEX64}",
    "name": "a name of up to 128 letters, digits and . _ : + - (starting with a letter or digit)",
    "id": "a record id: acr-- and a lower-case UUID, e.g. acr--0b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10",
    "path": "a relative path inside the bundle, without .. or backslashes",
    "media_type": "a media type, e.g. text/html",
}


def _schema_problem(error: Any) -> Problem:
    import jsonschema_rs

    kinds = jsonschema_rs.ValidationErrorKind
    path = list(error.instance_path)
    if isinstance(error.kind, kinds.Required):
        path.append(error.kind.property)  # name the missing field itself
    field = ".".join(str(part) for part in path)
    message = error.message
    if isinstance(error.kind, kinds.Pattern) and (words := PATTERN_WORDS.get(list(error.schema_path)[-2])):
        message = f"{_shown(error.instance)} is not {words}"
    elif isinstance(error.kind, kinds.Enum):
        message = f"{_shown(error.instance)} is not one of {', '.join(map(str, error.kind.options))}"
    if len(message) > _MAX_MESSAGE:  # values may be huge (or personal): never echo them whole
        message = message[: _MAX_MESSAGE - 3] + "..."
    return Problem(field, message)


def _shown(value: Any, limit: int = 40) -> str:
    """A value as a problem quotes it: JSON, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _rule_problems(record: Mapping[str, Any]) -> Iterator[Problem]:
    yield from _version_rules(record)
    yield from _event_rules(record)
    yield from _code_rules(record)
    yield from _sharing_rules(record)
    yield from _status_rules(record)


def _version_rules(r: Mapping[str, Any]) -> Iterator[Problem]:
    if r["version"] == 1 and r["prev_hash"] is not None:
        yield Problem("prev_hash", "version 1 starts the chain and must have prev_hash null")
    if r["version"] > 1 and r["prev_hash"] is None:
        yield Problem("prev_hash", f"version {r['version']} must carry the hash of version {r['version'] - 1}")
    if r["modified"] < r["created"]:
        yield Problem("modified", "is before created")
    if r["version"] == 1 and r["modified"] != r["created"]:
        yield Problem("modified", "version 1 must have modified equal to created")
    period = r["behavior"]["period"]
    if period["start"] > period["end"]:
        yield Problem("behavior.period", "start is after end")


def _event_rules(r: Mapping[str, Any]) -> Iterator[Problem]:
    events = r["events"]
    if events[0]["type"] != "issued":
        yield Problem("events.0.type", "the first event must be 'issued'")
    for k in range(1, len(events)):
        if events[k]["at"] < events[k - 1]["at"]:
            yield Problem(f"events.{k}.at", "events must be in time order")
    if events[-1]["at"] > r["modified"]:
        yield Problem(f"events.{len(events) - 1}.at", "is after the version's modified time")


def _code_rules(r: Mapping[str, Any]) -> Iterator[Problem]:
    codes = [("issuer.uscc", r["issuer"]["uscc"])]
    if "determination" in r:
        codes.append(("determination.authority.uscc", r["determination"]["authority"].get("uscc")))
    merchant = r["subject"].get("merchant")
    if merchant is not None:
        codes.append(("subject.merchant.uscc", merchant["uscc"]))
        yield from _uscc_check_rule(merchant)
    for field, code in codes:
        if code is not None and not (result := uscc.validate(code)).valid:
            yield Problem(field, "invalid credit code: " + "; ".join(result.reasons))


def _uscc_check_rule(merchant: Mapping[str, Any]) -> Iterator[Problem]:
    code, check = merchant["uscc"], merchant["uscc_check"]
    if code is None:
        if check != "absent":
            yield Problem("subject.merchant.uscc_check", f"is {check!r} but there is no uscc")
        return
    status = uscc.validate(code).status
    expected = {"valid": "ok", "pilot_exception": "pilot_exception"}.get(status)
    if expected is not None and check != expected:
        yield Problem("subject.merchant.uscc_check", f"is {check!r} but the code checks as {expected!r}")


def _sharing_rules(r: Mapping[str, Any]) -> Iterator[Problem]:
    sharing, assessment = r["sharing"], r["assessment"]
    if not assessment["human_reviewed"]:
        if r["record_type"] == "list_entry":
            yield Problem("record_type", "a finding that is not human-reviewed cannot be a list entry")
        if sharing["level"] not in _TIGHT_SHARING:
            yield Problem(
                "sharing.level",
                f"is {sharing['level']!r}; a finding that is not human-reviewed is shared at amber or tighter",
            )
    elif assessment["reviewer"] is None:
        yield Problem("assessment.reviewer", "a human-reviewed finding names its reviewer")
    if _has_personal_data(r["subject"]) and not sharing["contains_personal_data"]:
        yield Problem(
            "sharing.contains_personal_data",
            "must be true: the subject is a person (an account pseudonym or an individual business)",
        )


def _has_personal_data(subject: Mapping[str, Any]) -> bool:
    if "account" in subject:
        return True
    if "ring" in subject:
        return any(m["kind"] == "account" or m["ref"].startswith("92") for m in subject["ring"]["members"])
    code = subject["merchant"]["uscc"]
    return code is not None and code.startswith("92")


def _status_rules(r: Mapping[str, Any]) -> Iterator[Problem]:
    status = r["status"]
    objection = r.get("objection")
    if status == "under_objection" and (objection is None or objection["result"] != "pending"):
        yield Problem("objection", "a record under objection carries the objection with result 'pending'")
    if objection is not None and objection["result"] != "pending" and "resolved_at" not in objection:
        yield Problem("objection.resolved_at", "a resolved objection says when it was resolved")
    if status == "repaired" and "effective_at" not in r.get("repair", {}):
        yield Problem("repair", "a repaired record carries the repair with its effective_at")
    if r["record_type"] == "list_entry" and "listing" not in r:
        yield Problem("listing", "a list entry carries its listing")
    if "listing" in r:
        yield from _listing_rule(r["listing"], r.get("determination", {}).get("severity"))


def _listing_rule(listing: Mapping[str, Any], severity: str | None) -> Iterator[Problem]:
    try:
        start, end = date.fromisoformat(listing["listed_on"]), date.fromisoformat(listing["publish_until"])
    except ValueError as exc:
        yield Problem("listing", f"not a calendar date: {exc}")
        return
    if end < start:
        yield Problem("listing.publish_until", "is before listed_on")
        return
    if severity in _PUBLISH_MONTHS:
        low, high = _PUBLISH_MONTHS[severity]
        months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
        if not low <= months <= high:
            yield Problem(
                "listing.publish_until",
                f"publication for a {severity} case lasts {low} to {high} months, not {months}",
            )
