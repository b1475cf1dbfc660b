"""A member's record store: every valid version received, and the state they resolve to.

The store is a folder with one file, ``versions.jsonl``: every schema-valid version ever
imported (own findings and other members' feeds), once each, sorted by id, version and hash.
What the alliance holds is *derived* from that set by :func:`resolve`, never accumulated step by
step, so merging feeds in any order, or the same feed twice, gives the same state.

:func:`resolve` follows each id's hash chain from version 1 and keeps the newest version reached.
A version that breaks the chain, changes an immutable field or follows a revocation is rejected
with its reason; a version whose predecessor has not arrived yet is *held* (kept, and accepted
as soon as the missing version arrives). Two different versions that both claim the same place
in a chain are a fork: neither is accepted, and the chain stops before them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from antifraud.io import write_jsonl
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

    @property
    def current(self) -> dict[str, dict]:
        """Record id -> its newest accepted version."""
        return {rid: chain[-1] for rid, chain in self.chains.items()}

    def status_of(self, version: Mapping[str, Any]) -> tuple[str, str]:
        """``("accepted" | "rejected" | "held", reason)`` for one version of the set."""
        digest = record_hash(version)
        for kind, items in (("rejected", self.rejected), ("held", self.held)):
            for other, reason in items:
                if record_hash(other) == digest:
                    return kind, reason
        return "accepted", ""


def resolve(versions: Iterable[Mapping[str, Any]]) -> Resolution:
    """Resolve a set of schema-valid versions into chains, rejections and held versions.

    The result depends only on the set, not on the order of ``versions`` or repetitions.

    Examples
    --------
    >>> resolve([]).chains
    {}
    """
    by_id: dict[str, dict[int, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
    for version in versions:
        by_id[version["id"]][version["version"]][record_hash(version)] = dict(version)
    out = Resolution()
    for rid in sorted(by_id):
        _resolve_one(by_id[rid], out)
    return out


def _resolve_one(levels: dict[int, dict[str, dict]], out: Resolution) -> None:
    chain: list[dict] = []
    rejected: list[tuple[dict, str]] = []
    n = 1
    while levels.get(n):
        good, bad = [], []
        for _, v in sorted(levels[n].items()):
            if not chain:
                good.append(v)
            elif v["prev_hash"] != record_hash(chain[-1]):
                bad.append((v, f"breaks the chain: prev_hash is not the hash of version {n - 1}"))
            elif problems := successor_problems(chain[-1], v):
                bad.append((v, "; ".join(map(str, problems))))
            else:
                good.append(v)
        rejected += bad
        if len(good) > 1:
            rejected += [(v, f"fork: {len(good)} different versions {n} claim the same place") for v in good]
        if len(good) != 1:
            break
        chain.append(good[0])
        n += 1
    if chain:
        out.chains[chain[0]["id"]] = chain
    out.rejected += rejected
    placed = {record_hash(v) for v in chain} | {record_hash(v) for v, _ in rejected}
    for m in sorted(levels):
        out.held += [(v, f"waits for a valid version {n} of {v['id']}")
                     for digest, v in sorted(levels[m].items()) if digest not in placed]


class RecordStore:
    """The folder of versions a member holds (see the module docstring).

    Parameters
    ----------
    path : path
        The store's folder; created on first write.
    """

    FILE = "versions.jsonl"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def versions(self) -> list[dict]:
        """Every version in the store."""
        file = self.path / self.FILE
        if not file.exists():
            return []
        with open(file, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    def resolution(self) -> Resolution:
        """The state the store's versions resolve to."""
        return resolve(self.versions())

    def add(self, versions: Iterable[Mapping[str, Any]]) -> int:
        """Add schema-valid versions (duplicates are ignored); return how many were new."""
        held = {record_hash(v): v for v in self.versions()}
        before = len(held)
        held.update({record_hash(v): dict(v) for v in versions})
        if len(held) != before:
            ordered = sorted(held.items(), key=lambda kv: (kv[1]["id"], kv[1]["version"], kv[0]))
            write_jsonl(self.path / self.FILE, (v for _, v in ordered))
        return len(held) - before


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
