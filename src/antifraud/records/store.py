"""A member's record store: every valid version received, and the state they resolve to.

The store is a folder with two files:

- ``versions.jsonl``: every version accepted or held, once each, in canonical form, sorted by
  id, version and hash. No two of its versions claim the same place (id and version number).
- ``quarantine.jsonl``: every version set aside, with the reason: forks, versions that break a
  chain, change an immutable field or follow a revocation. Nothing offered to the store is
  dropped silently; ``antifraud records quarantine`` lists what is there.

What the alliance holds is *derived* from ``versions.jsonl`` by :func:`resolve`, never
accumulated step by step, so merging feeds in any order, or the same feed twice, gives the same
state.

A version that claims a place already taken is either the *same version issued again* (it
differs only in :data:`~antifraud.records.chain.ISSUING_TIME_FIELDS`, as when a detection is
re-run and its findings added again): a no-op, the first issue stands; or a *fork*: quarantined,
and the version already held stays. So a record's chain is never lost to a fork. Every write
holds the store's lock from reading to writing (:meth:`RecordStore.change` for lifecycle
actions), so two writers at once cannot fork a record either.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from antifraud.io import atomic_path, canonical_bytes
from antifraud.records.chain import content_differences, record_hash, successor_problems

__all__ = ["IN_FORCE", "RecordStore", "Resolution", "Verdict", "holdings", "resolve"]

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

    Each id's chain is followed from version 1. Where two versions validly claim the same
    place (a fork), the one whose chain reaches furthest is kept, then the earlier, then the
    lower hash; the others are rejected as forks. The result depends only on the set, not on
    the order of ``versions`` or repetitions. ``digests``, if given, are the versions'
    :func:`~antifraud.records.chain.record_hash` (computed here otherwise).

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
        good, bad = _successors(levels, chain[-1] if chain else None, n)
        if len(good) > 1:
            reach = _reach(levels, n)
            good.sort(key=lambda dv: (-reach[dv[0]], dv[1]["modified"], dv[0]))
            kept = good[0][0]
            bad += [(d, v, f"fork: {len(good)} different versions {n} claim the same place; kept {kept[:12]}, "
                           f"whose chain reaches version {n + reach[kept] - 1}") for d, v in good[1:]]
        for digest, v, reason in bad:
            out.rejected.append((v, reason))
            out.verdicts[digest] = ("rejected", reason)
        if not good:
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


def _successors(levels: dict[int, dict[str, dict]], prev: tuple[str, dict] | None,
                n: int) -> tuple[list[tuple[str, dict]], list[tuple[str, dict, str]]]:
    """The versions ``n`` that validly follow ``prev`` (any version 1 when None), and the others
    with the reason each does not."""
    good, bad = [], []
    for digest, v in sorted(levels[n].items()):
        if prev is None:
            good.append((digest, v))
        elif v["prev_hash"] != prev[0]:
            bad.append((digest, v, f"breaks the chain: prev_hash is not the hash of version {n - 1}"))
        elif problems := successor_problems(prev[1], v):
            bad.append((digest, v, "; ".join(map(str, problems))))
        else:
            good.append((digest, v))
    return good, bad


def _reach(levels: dict[int, dict[str, dict]], n: int) -> dict[str, int]:
    """Digest -> how many versions the longest valid chain from each version ``n`` holds."""
    reach: dict[str, int] = {}
    below: dict[str, int] = {}
    for m in sorted((m for m in levels if m >= n), reverse=True):
        for digest, v in levels[m].items():
            followers = [d for d, _ in _successors(levels, (digest, v), m + 1)[0]] if levels.get(m + 1) else []
            reach[digest] = 1 + max((below[d] for d in followers), default=0)
        below = {d: reach[d] for d in levels[m]}
    return reach


@dataclass(frozen=True)
class Verdict:
    """What the store made of one version offered to it.

    Attributes
    ----------
    status : {"accepted", "held", "rejected"}
    reason : str
        Why it was held or rejected, or that it was the same version issued again.
    new : bool
        True when the store had not seen the version before.
    """

    status: str
    reason: str = ""
    new: bool = False


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
    QUARANTINE = "quarantine.jsonl"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _lines(self) -> dict[str, bytes]:
        """Hash -> canonical line of every stored version."""
        return {hashlib.sha256(line).hexdigest(): line for line in _read_lines(self.path / self.FILE)}

    def _quarantined(self) -> dict[str, bytes]:
        """Hash of the version -> canonical line of its quarantine entry."""
        return {record_hash(json.loads(line)["version"]): line for line in _read_lines(self.path / self.QUARANTINE)}

    def versions(self) -> list[dict]:
        """Every version in the store (accepted or held)."""
        return [json.loads(line) for line in self._lines().values()]

    def quarantine(self) -> list[tuple[dict, str]]:
        """Every version set aside, with the reason, by id and version."""
        entries = [json.loads(line) for line in self._quarantined().values()]
        return [(e["version"], e["reason"]) for e in sorted(entries, key=lambda e: _order(e["version"]))]

    def resolution(self) -> Resolution:
        """The state the store's versions resolve to."""
        lines = self._lines()
        return resolve([json.loads(line) for line in lines.values()], lines.keys())

    def add(self, versions: Iterable[Mapping[str, Any]]) -> list[Verdict]:
        """Add schema-valid versions; return what became of each, in order.

        A version already held, or the same version issued again, changes nothing; a fork, or
        a version the chain rules reject, goes to the quarantine.
        """
        with self._locked():
            return self._merge(versions, strict=False)

    def change(self, record_id: str, make: Callable[[dict], Iterable[Mapping[str, Any]]]) -> list[dict]:
        """Make new versions from a record's current version and add them, under one lock.

        ``make`` gets the current version of ``record_id`` and returns the versions to add (its
        next version, or a new record such as a list entry). The lock is held from reading
        the current version to writing, so concurrent changes are applied one after the
        other instead of forking the record.

        Raises
        ------
        ValueError
            If the record is not in the store, or a new version would not be accepted as new
            (a fork, a broken chain, or the same version issued before); nothing is written.
        """
        with self._locked():
            current = self.resolution().current.get(record_id)
            if current is None:
                raise ValueError(f"{record_id}: not in the store {self.path}")
            new = [dict(v) for v in make(current)]
            self._merge(new, strict=True)
        return new

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "w") as lock:  # one writer at a time, from read to write
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _merge(self, versions: Iterable[Mapping[str, Any]], *, strict: bool) -> list[Verdict]:
        lines, quarantined = self._lines(), self._quarantined()
        before = set(lines), set(quarantined)
        held = {d: json.loads(line) for d, line in lines.items()}
        places = {(v["id"], v["version"]): d for d, v in held.items()}
        offered: list[tuple[str, Mapping[str, Any], str | None, bool]] = []  # digest, version, same-as, new
        for version in versions:
            line = canonical_bytes(version)
            digest = hashlib.sha256(line).hexdigest()
            place = places.get((version["id"], version["version"]))
            if digest in held or digest in quarantined:
                offered.append((digest, version, None, False))
            elif place is not None and not (differs := content_differences(held[place], version)):
                offered.append((digest, version, place, False))
            elif place is not None:
                reason = (f"fork: version {version['version']} of {version['id']} is already held as {place[:12]}; "
                          f"this one differs in {', '.join(differs)}")
                quarantined[digest] = canonical_bytes({"reason": reason, "version": version})
                offered.append((digest, version, None, True))
            else:
                lines[digest], held[digest] = line, dict(version)
                places[(version["id"], version["version"])] = digest
                offered.append((digest, version, None, True))
        resolution = resolve(held.values(), held.keys())
        for version, reason in resolution.rejected:
            digest = record_hash(version)
            quarantined[digest] = canonical_bytes({"reason": reason, "version": version})
            del lines[digest]
        verdicts = [self._verdict(d, same, new, resolution, quarantined) for d, _, same, new in offered]
        if strict:
            for (_, version, _, _), verdict in zip(offered, verdicts):
                if verdict.status != "accepted" or not verdict.new:
                    why = verdict.reason or "already in the store"
                    raise ValueError(f"{version['id']} version {version['version']} was not added: {why}")
        # Quarantine first: a crash between the two writes leaves a version in both files, never in neither.
        if set(quarantined) != before[1]:
            self._write(self.QUARANTINE, quarantined, lambda d: _order(json.loads(quarantined[d])["version"]))
        if set(lines) != before[0]:
            self._write(self.FILE, lines, lambda d: _order(held[d]))
        return verdicts

    @staticmethod
    def _verdict(digest: str, same_as: str | None, new: bool, resolution: Resolution,
                 quarantined: Mapping[str, bytes]) -> Verdict:
        if same_as is not None:
            status, _ = resolution.status_of(same_as)
            return Verdict(status, f"the same version was issued before ({same_as[:12]}); the first issue stands")
        if digest in quarantined:
            return Verdict("rejected", json.loads(quarantined[digest])["reason"], new)
        return Verdict(*resolution.status_of(digest), new)

    def _write(self, name: str, lines: Mapping[str, bytes], order: Callable[[str], tuple[str, int]]) -> None:
        """Rewrite one of the store's files with ``lines`` (hash -> line), sorted by ``order`` of
        the hash (id and version), then the hash."""
        with atomic_path(self.path / name) as tmp, open(tmp, "wb") as fh:
            fh.writelines(lines[d] + b"\n" for d in sorted(lines, key=lambda d: (*order(d), d)))


def _read_lines(path: Path) -> list[bytes]:
    if not path.exists():
        return []
    with open(path, "rb") as fh:
        return [line for line in (raw.rstrip(b"\n") for raw in fh) if line]


def _order(record: Mapping[str, Any]) -> tuple[str, int]:
    return record["id"], record["version"]


def holdings(current: Mapping[str, Mapping[str, Any]], *, uscc: str | None = None,
             pseudonym: str | None = None, ids: Iterable[str] | None = None) -> list[dict]:
    """The current versions that concern a credit code or an account pseudonym, or those of
    some record ids (:class:`~antifraud.records.subjects.Subjects` selects them by shop or ring).

    A merchant finding matches its code; an account finding its pseudonym; a ring finding any
    member. Results are ordered in force first, then newest first.
    """
    if sum(x is not None for x in (uscc, pseudonym, ids)) != 1:
        raise ValueError("ask about exactly one of a credit code, a pseudonym or record ids")
    wanted = uscc if uscc is not None else pseudonym

    def concerns(subject: Mapping[str, Any]) -> bool:
        if "merchant" in subject:
            return uscc is not None and subject["merchant"]["uscc"] == uscc
        if "account" in subject:
            return pseudonym is not None and subject["account"]["pseudonym"] == pseudonym
        kind = "merchant" if uscc is not None else "account"
        return any(m["kind"] == kind and m["ref"] == wanted for m in subject["ring"]["members"])

    if ids is not None:
        found = [dict(current[rid]) for rid in dict.fromkeys(ids)]
    else:
        found = [dict(v) for v in current.values() if concerns(v["subject"])]
    found.sort(key=lambda v: v["modified"], reverse=True)
    found.sort(key=lambda v: v["status"] not in IN_FORCE)
    return found
