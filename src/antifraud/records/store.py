"""A member's record store: every valid version received, and the state they resolve to.

The store is a folder with one file, ``versions.jsonl``: every schema-valid version ever
imported (own findings and other members' feeds), once each, in canonical form, sorted by id,
version and hash.
What the alliance holds is *derived* from that set by :func:`resolve`, never accumulated step by
step, so merging feeds in any order, or the same feed twice, gives the same state.

:func:`resolve` follows each id's hash chain from version 1 and keeps the newest version reached.
A version that breaks the chain, changes an immutable field or follows a revocation is rejected
with its reason; a version whose predecessor has not arrived yet is *held* (kept, and accepted
as soon as the missing version arrives). Two different versions that both claim the same place
in a chain are a fork: neither is accepted, and the chain stops before them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from antifraud.io import atomic_path, canonical_bytes
from antifraud.records.chain import record_hash, successor_problems

__all__ = ["IN_FORCE", "RecordStore", "Resolution", "holdings", "resolve"]

#: Statuses under which a record is in force (published and shared); the others are history.
IN_FORCE = frozenset({"issued", "amended", "under_objection"})


@dataclass
class Resolution:
    """The state a set of versions resolves to.

    Attributes
    ----------
    chains : dict
        Record id -> its accepted versions, in order (the last is the current one).
    rejected : list of (dict, str)
        Versions that can never be accepted as things stand, with the reason.
    held : list of (dict, str)
        Versions waiting for a missing predecessor.
    """

    chains: dict[str, list[dict]] = field(default_factory=dict)
    rejected: list[tuple[dict, str]] = field(default_factory=list)
    held: list[tuple[dict, str]] = field(default_factory=list)
    verdicts: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    @property
    def current(self) -> dict[str, dict]:
        """Record id -> its newest accepted version."""
        return {rid: chain[-1] for rid, chain in self.chains.items()}

    def status_of(self, digest: str) -> tuple[str, str]:
        """``("accepted" | "rejected" | "held", reason)`` of the version with this
        :func:`~antifraud.records.chain.record_hash`."""
        return self.verdicts.get(digest, ("accepted", ""))


def resolve(versions: Iterable[Mapping[str, Any]], digests: Iterable[str] | None = None) -> Resolution:
    """Resolve a set of schema-valid versions into chains, rejections and held versions.

    The result depends only on the set, not on the order of ``versions`` or repetitions.
    ``digests``, if given, are the versions' :func:`~antifraud.records.chain.record_hash`
    (computed here otherwise).

    Examples
    --------
    >>> resolve([]).chains
    {}
    """
    versions = list(versions)
    digests = list(digests) if digests is not None else [record_hash(v) for v in versions]
    by_id: dict[str, dict[int, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
    for digest, version in zip(digests, versions):
        by_id[version["id"]][version["version"]][digest] = version
    out = Resolution()
    for rid in sorted(by_id):
        _resolve_one(by_id[rid], out)
    return out


def _resolve_one(levels: dict[int, dict[str, dict]], out: Resolution) -> None:
    chain: list[tuple[str, dict]] = []
    n = 1
    while levels.get(n):
        good, bad = [], []
        for digest, v in sorted(levels[n].items()):
            if not chain:
                good.append((digest, v))
            elif v["prev_hash"] != chain[-1][0]:
                bad.append((digest, v, f"breaks the chain: prev_hash is not the hash of version {n - 1}"))
            elif problems := successor_problems(chain[-1][1], v):
                bad.append((digest, v, "; ".join(map(str, problems))))
            else:
                good.append((digest, v))
        if len(good) > 1:
            bad += [(d, v, f"fork: {len(good)} different versions {n} claim the same place") for d, v in good]
        for digest, v, reason in bad:
            out.rejected.append((v, reason))
            out.verdicts[digest] = ("rejected", reason)
        if len(good) != 1:
            break
        chain.append(good[0])
        n += 1
    if chain:
        out.chains[chain[0][1]["id"]] = [v for _, v in chain]
    accepted = {d for d, _ in chain}
    for m in sorted(levels):
        for digest, v in sorted(levels[m].items()):
            if digest not in accepted and digest not in out.verdicts:
                reason = f"waits for a valid version {n} of {v['id']}"
                out.held.append((v, reason))
                out.verdicts[digest] = ("held", reason)


class RecordStore:
    """The folder of versions a member holds (see the module docstring).

    Each version is stored as one line of its RFC 8785 canonical form, so its hash is the
    SHA-256 of the line: reading a large store needs no canonicalisation.

    Parameters
    ----------
    path : path
        The store's folder; created on first write.
    """

    FILE = "versions.jsonl"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _lines(self) -> dict[str, bytes]:
        """Hash -> canonical line of every stored version."""
        file = self.path / self.FILE
        if not file.exists():
            return {}
        with open(file, "rb") as fh:
            return {hashlib.sha256(line).hexdigest(): line for line in (raw.rstrip(b"\n") for raw in fh) if line}

    def versions(self) -> list[dict]:
        """Every version in the store."""
        return [json.loads(line) for line in self._lines().values()]

    def resolution(self) -> Resolution:
        """The state the store's versions resolve to."""
        lines = self._lines()
        return resolve([json.loads(line) for line in lines.values()], lines.keys())

    def add(self, versions: Iterable[Mapping[str, Any]]) -> tuple[int, list[str]]:
        """Add schema-valid versions (duplicates are ignored).

        Returns
        -------
        new : int
            How many versions were not in the store yet.
        digests : list of str
            Each given version's :func:`~antifraud.records.chain.record_hash`, in order.
        """
        new_lines = [canonical_bytes(version) for version in versions]
        digests = [hashlib.sha256(line).hexdigest() for line in new_lines]
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "w") as lock:  # one writer at a time: no lost updates
            fcntl.flock(lock, fcntl.LOCK_EX)
            lines = self._lines()
            before = len(lines)
            for digest, line in zip(digests, new_lines):
                lines.setdefault(digest, line)
            if len(lines) != before:
                ordered = sorted(lines.items(), key=lambda kv: (*_sort_key(kv[1]), kv[0]))
                with atomic_path(self.path / self.FILE) as tmp, open(tmp, "wb") as fh:
                    fh.writelines(line + b"\n" for _, line in ordered)
        return len(lines) - before, digests


def _sort_key(line: bytes) -> tuple[str, int]:
    record = json.loads(line)
    return record["id"], record["version"]


def holdings(current: Mapping[str, Mapping[str, Any]], *, uscc: str | None = None,
             pseudonym: str | None = None) -> list[dict]:
    """The current versions that concern a credit code or an account pseudonym.

    A merchant finding matches its code; an account finding its pseudonym; a ring finding any
    member. Results are ordered in force first, then newest first.
    """
    if (uscc is None) == (pseudonym is None):
        raise ValueError("ask about exactly one of a credit code or a pseudonym")
    wanted = uscc if uscc is not None else pseudonym

    def concerns(subject: Mapping[str, Any]) -> bool:
        if "merchant" in subject:
            return uscc is not None and subject["merchant"]["uscc"] == uscc
        if "account" in subject:
            return pseudonym is not None and subject["account"]["pseudonym"] == pseudonym
        kind = "merchant" if uscc is not None else "account"
        return any(m["kind"] == kind and m["ref"] == wanted for m in subject["ring"]["members"])

    found = [dict(v) for v in current.values() if concerns(v["subject"])]
    found.sort(key=lambda v: v["modified"], reverse=True)
    found.sort(key=lambda v: v["status"] not in IN_FORCE)
    return found
