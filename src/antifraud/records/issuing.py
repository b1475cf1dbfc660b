"""Who issues a run's records, when, and what every record of the run shares.

:class:`Issuer` is the alliance member; :func:`issuing_time` the run's one issuing time, from
which every time a record states derives (``created``, ``modified``, the ``issued`` event,
``retention_until``), so that with ``SOURCE_DATE_EPOCH`` or an explicit time the records of a
re-run are byte-identical; :class:`RunContext` carries both with the pseudonym key, provenance,
evidence and signing key of the run.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from antifraud import uscc
from antifraud.records.lifecycle import timestamp, utc_now
from antifraud.signing import Signer

__all__ = ["IssuingTime", "Issuer", "RunContext", "issuing_time"]

_PURPOSE = "anti-brushing alliance: detecting fictitious transactions and fake reviews (反炒信)"
_LEGAL_BASIS = "alliance information-sharing agreement; PIPL art. 13(1) para. 2 and 7"
_RETENTION_DAYS = 3 * 365


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
