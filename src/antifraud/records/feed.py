"""Alliance feeds: ``feed.jsonl`` (one record version per line), ``grades.jsonl`` (the merchant credit
grades those records give, :mod:`antifraud.records.grades`) and ``feed.manifest.json``.

A *full* feed holds every accepted version of the issuer's own records; a *delta* feed those
modified after ``since``. Applying a full feed and then deltas gives the same state as one later
full feed, because the store resolves the set of versions (:mod:`antifraud.records.store`).

Feeds come from outside, so :func:`read_feed` treats them as hostile: lines longer than
``max_line_bytes`` are skipped without being held in memory whole, and bad UTF-8, malformed or
deeply nested JSON, and schema failures are each reported with their line number while the
good lines are kept. :func:`import_feed` then accepts a version only when its issuer's key
signed it (:func:`signature_problem`), and a feed only when its manifest checks.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from antifraud.io import atomic_path, write_json
from antifraud.records.grades import grade_merchants
from antifraud.records.lifecycle import parse_timestamp, utc_now
from antifraud.records.store import RecordStore
from antifraud.records.validation import SCHEMA_VERSION, record_problems
from antifraud.signing import Keyring, SignatureStatus, Signer, sign_json, verify_json

__all__ = ["FEED", "GRADES", "MANIFEST", "FeedLine", "ImportReport", "export_feed", "read_feed", "import_feed",
           "signature_problem"]

FEED, GRADES, MANIFEST = "feed.jsonl", "grades.jsonl", "feed.manifest.json"
MAX_LINE_BYTES = 4 << 20
MAX_MANIFEST_BYTES = 1 << 20
#: The largest integer an RFC 8785 (I-JSON) number holds exactly; a version with a larger one has
#: no canonical form, so it can be neither hashed nor signed.
MAX_SAFE_INTEGER = 2**53 - 1


@dataclass(frozen=True)
class FeedLine:
    """One line of a feed that could not be used, and why."""

    line: int
    reason: str
    record_id: str | None = None

    def __str__(self) -> str:
        return f"line {self.line}{f' ({self.record_id})' if self.record_id else ''}: {self.reason}"


@dataclass
class ImportReport:
    """What importing one feed did."""

    source: Path
    lines: int = 0
    new: int = 0
    duplicates: int = 0
    accepted: int = 0
    held: list[FeedLine] = field(default_factory=list)
    rejected: list[FeedLine] = field(default_factory=list)
    feed_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every line was accepted and the manifest checked."""
        return not (self.rejected or self.held or self.feed_problems)


def export_feed(store: RecordStore, out_dir: str | Path, *, member_id: str, since: str | None = None,
                signer: Signer | None = None) -> dict:
    """Write the member's own accepted versions (modified after ``since``, if given) as a feed.

    Beside them, ``grades.jsonl`` holds the credit grade of every merchant the member's own records
    in the store are about, today (:func:`~antifraud.records.grades.grade_merchants`, over all its
    records, not only the delta's), which platforms take as the flagged-merchant list. With
    ``signer`` the manifest is signed too, binding the feed's completeness (the SHA-256 and count of
    both files) to the member's key.

    Refuses records that must not leave the member: issued without a configured credit code,
    with pseudonyms under a run's generated key, or at TLP ``red`` (for named recipients only).
    ``since`` is any RFC 3339 time (:func:`~antifraud.records.lifecycle.parse_timestamp`).

    Returns
    -------
    dict
        The manifest written.
    """
    since = parse_timestamp(since) if since is not None else None
    resolution = store.resolution()
    versions = [v for chain in resolution.chains.values() for v in chain
                if v["issuer"]["member_id"] == member_id and (since is None or v["modified"] > since)]
    problems = [p for v in versions if (p := _unshareable(v))]
    if problems:
        raise ValueError(f"{len(problems)} versions cannot be shared; first: {problems[0]}")
    versions.sort(key=lambda v: (v["modified"], v["id"], v["version"]))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    feed_sha256 = _write_lines(out / FEED, versions)
    generated = utc_now()
    own = [v for v in resolution.current.values() if v["issuer"]["member_id"] == member_id]
    grades = [g.to_json() for g in grade_merchants(own, generated[:10])]
    issuer = versions[0]["issuer"] if versions else {"member_id": member_id}
    manifest = {"schema": SCHEMA_VERSION, "issuer": issuer, "generated_at": generated, "records": len(versions),
                "sha256": feed_sha256, "since": since,
                "grades": {"file": GRADES, "merchants": len(grades), "sha256": _write_lines(out / GRADES, grades),
                           "as_of": generated[:10]}}
    if signer is not None:
        manifest["signature"] = sign_json(manifest, signer)
    write_json(out / MANIFEST, manifest)
    return manifest


def _write_lines(path: Path, objects: list[Mapping[str, Any]]) -> str:
    """Write ``objects`` to ``path`` atomically, one JSON object per line; return the SHA-256 (hex)
    of the bytes written, for the manifest."""
    digest = hashlib.sha256()
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        for obj in objects:
            line = (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")
            digest.update(line)
            fh.write(line)
    return digest.hexdigest()


def _unshareable(version: Mapping[str, Any]) -> str | None:
    rid = version["id"]
    if version["issuer"]["uscc"] is None:
        return f"{rid}: issued without the member's credit code (set ANTIFRAUD_MEMBER_USCC and re-issue)"
    if version["sharing"]["level"] == "red":
        return f"{rid}: TLP red is for named recipients only, not for a feed"
    keys = _key_ids(version["subject"])
    if any(k.startswith("run-") for k in keys):
        return f"{rid}: pseudonyms under a generated run key link nothing outside the run (set the alliance key)"
    return None


def _key_ids(subject: Mapping[str, Any]) -> set[str]:
    if "account" in subject:
        return {subject["account"]["key_id"]}
    if "ring" in subject:
        return {m["key_id"] for m in subject["ring"]["members"] if "key_id" in m}
    return set()


def read_feed(fh: BinaryIO, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, dict | None, str]]:
    """Yield ``(line number, record or None, problem)`` for every non-blank line of a feed.

    A valid record comes with an empty problem; otherwise the record is None and the problem
    says what is wrong. Over-long lines are skipped in chunks, never held in memory whole.
    """
    number = 0
    while True:
        raw = fh.readline(max_line_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            while (rest := fh.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield number, None, f"longer than {max_line_bytes:,} bytes"
            continue
        if not raw.strip():
            continue
        try:
            value = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_int=_exact_int,
                               parse_float=_finite_float)
        except UnicodeDecodeError as exc:
            yield number, None, f"not UTF-8 (byte {exc.start})"
            continue
        except RecursionError:
            yield number, None, "JSON nested too deeply"
            continue
        except json.JSONDecodeError as exc:
            yield number, None, f"not JSON: {exc.msg} at column {exc.colno}"
            continue
        except ValueError as exc:
            yield number, None, f"not canonical JSON (RFC 8785): {exc}"
            continue
        problems = record_problems(value)
        yield number, (None if problems else value), "; ".join(map(str, problems[:5]))


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _exact_int(text: str) -> int:
    if len(text) > 17 or abs(value := int(text)) > MAX_SAFE_INTEGER:
        raise ValueError(f"the integer {text[:20]} is beyond 2**53, where JSON numbers are not exact")
    return value


def _finite_float(text: str) -> float:
    if not math.isfinite(value := float(text)):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def import_feed(store: RecordStore, source: str | Path, *, expect_manifest: bool = True,
                keyring: Keyring | None = None, allow_unsigned: bool = False,
                max_line_bytes: int = MAX_LINE_BYTES) -> ImportReport:
    """Validate a peer's feed line by line and merge the good versions into ``store``.

    ``source`` is a feed folder (``feed.jsonl`` and ``feed.manifest.json``) or a ``.jsonl``
    file (its manifest, if any, beside it as ``<name>.manifest.json`` or ``feed.manifest.json``).
    A missing manifest is a problem only when ``expect_manifest`` (a member's own findings file
    has none).

    What is trusted:

    - a version only when signed with its issuer's key from ``keyring`` (``<member id>.pub``
      files); see :func:`signature_problem` for ``allow_unsigned``;
    - a feed only when its manifest checks (format, SHA-256, count and its issuer's
      signature) and every version in it is its issuer's own: otherwise nothing of it is
      imported, and every line is reported.

    Nothing is written outside the store.
    """
    feed, manifest_path = _locate(Path(source))
    report = ImportReport(source=feed)
    manifest, problems = _read_manifest(manifest_path) if manifest_path is not None else (None, [])
    feed_issuer = _issuer_of(manifest)
    good: dict[int, dict] = {}
    digest = hashlib.sha256()
    with open(feed, "rb") as fh:
        for number, record, problem in read_feed(_Hashing(fh, digest), max_line_bytes):
            report.lines = number
            if record is not None:
                issuer = record["issuer"]["member_id"]
                problem = signature_problem(record, issuer, keyring, allow_unsigned=allow_unsigned, noun="record")
                if not problem and manifest is not None and issuer != feed_issuer:
                    problem = f"issued by {issuer}, but the feed is {feed_issuer}'s: a feed carries its issuer's own"
            if problem:
                report.rejected.append(FeedLine(number, problem, record["id"] if record else None))
            else:
                good[number] = record
    if manifest is not None:
        problems += _manifest_problems(manifest, manifest_path.name, digest.hexdigest(),
                                       len(good) + len(report.rejected), keyring, allow_unsigned)
        problems += _grades_problems(manifest, manifest_path)
    elif expect_manifest:
        problems.append("no feed.manifest.json beside the feed: completeness cannot be checked")
    report.feed_problems = problems
    if problems:  # a feed that does not check is not imported at all
        report.rejected += [FeedLine(n, "not imported: the feed's manifest does not check", r["id"])
                            for n, r in good.items()]
        report.rejected.sort(key=lambda item: item.line)
        return report
    verdicts = store.add(good.values())
    report.new = sum(v.new for v in verdicts)
    for (number, record), verdict in zip(good.items(), verdicts):
        report.duplicates += not verdict.new and verdict.status != "rejected"
        if verdict.status == "accepted":
            report.accepted += 1
        else:
            getattr(report, verdict.status).append(FeedLine(number, verdict.reason, record["id"]))
    return report


def signature_problem(obj: Mapping[str, Any], issuer: str | None, keyring: Keyring | None, *,
                      allow_unsigned: bool = False, noun: str = "record") -> str:
    """What stops a record or a feed manifest issued by ``issuer`` from being trusted (empty if
    nothing).

    Trusted is what is signed with ``issuer``'s key in ``keyring``. A bad or malformed
    signature, or one made with another member's key, is never trusted. An unsigned version,
    or one signed with a key the keyring does not hold, is trusted only with
    ``allow_unsigned``, and even then not when the keyring holds a key of ``issuer``: once a
    member's key is known, everything in its name must carry its signature.
    """
    signature = obj.get("signature")
    status = verify_json(obj, signature, keyring)
    words = status.value.replace("_", " ")
    if status in (SignatureStatus.BAD_SIGNATURE, SignatureStatus.MALFORMED):
        key = signature.get("key_id") if isinstance(signature, Mapping) else None
        return f"signature: {words} (key {key!r})"
    if status is SignatureStatus.VALID:
        holder = keyring.owner(signature["key_id"])
        return "" if holder == issuer else f"signature: made with {holder}'s key, but the {noun} is issued by {issuer}"
    if keyring is not None and issuer is not None and keyring.key_ids_of(issuer):
        return f"signature: {words}, but the keyring holds {issuer}'s key: everything in its name must be signed with it"
    if allow_unsigned:
        return ""
    return (f"signature: {words}; only what its issuer signed is accepted: give a keyring holding {issuer}.pub "
            f"(--keyring), or --allow-unsigned")


def _locate(source: Path) -> tuple[Path, Path | None]:
    if source.is_dir():
        feed = source / FEED
        manifest = source / MANIFEST
    else:
        feed = source
        named = source.with_name(source.stem + ".manifest.json")
        manifest = named if named.exists() else source.with_name(MANIFEST)
    if not feed.is_file():
        raise FileNotFoundError(f"{feed}: no such feed file")
    return feed, manifest if manifest.is_file() else None


def _read_manifest(path: Path) -> tuple[dict | None, list[str]]:
    """The manifest as a JSON object, or None with the reason it cannot be read."""
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        return None, [f"{path.name}: larger than {MAX_MANIFEST_BYTES:,} bytes, not read"]
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return None, [f"{path.name}: not a JSON manifest ({type(exc).__name__})"]
    if not isinstance(manifest, dict):
        return None, [f"{path.name}: not a JSON object"]
    return manifest, []


def _issuer_of(manifest: Mapping[str, Any] | None) -> str | None:
    issuer = manifest.get("issuer") if manifest is not None else None
    return issuer.get("member_id") if isinstance(issuer, Mapping) else None


def _manifest_problems(manifest: Mapping[str, Any], name: str, sha256: str, lines: int,
                       keyring: Keyring | None, allow_unsigned: bool) -> list[str]:
    problems = []
    if manifest.get("schema") != SCHEMA_VERSION:
        problems.append(f"{name}: schema {manifest.get('schema')!r}, expected {SCHEMA_VERSION!r}")
    if manifest.get("sha256") != sha256:
        problems.append(f"{name}: sha256 does not match the feed (altered or truncated in transit)")
    if manifest.get("records") != lines:
        problems.append(f"{name}: says {manifest.get('records')!r} records, the feed has {lines} lines")
    issuer = _issuer_of(manifest)
    if issuer is None:
        problems.append(f"{name}: names no issuer")
    elif problem := signature_problem(manifest, issuer, keyring, allow_unsigned=allow_unsigned, noun="feed"):
        problems.append(f"{name}: {problem}")
    return problems


def _grades_problems(manifest: Mapping[str, Any], manifest_path: Path) -> list[str]:
    """What is wrong with the grades file a manifest names (nothing if it names none): it must be
    beside the manifest, as long and with the SHA-256 the (signed) manifest says."""
    said = manifest.get("grades")
    if said is None:
        return []
    if not isinstance(said, Mapping) or said.get("file") != GRADES:
        return [f"{manifest_path.name}: grades: expected {{'file': {GRADES!r}, ...}}"]
    path = manifest_path.with_name(GRADES)
    if not path.is_file():
        return [f"{manifest_path.name} names {GRADES}, which is not beside it"]
    digest, lines = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for line in fh:
            digest.update(line)
            lines += 1
    problems = []
    if said.get("sha256") != digest.hexdigest():
        problems.append(f"{GRADES}: sha256 does not match the manifest (altered or truncated in transit)")
    if said.get("merchants") != lines:
        problems.append(f"{GRADES}: the manifest says {said.get('merchants')!r} merchants, the file has {lines} lines")
    return problems


class _Hashing:
    """A binary reader that hashes everything read through it."""

    def __init__(self, fh: BinaryIO, digest: Any) -> None:
        self._fh, self._digest = fh, digest

    def readline(self, size: int = -1) -> bytes:
        data = self._fh.readline(size)
        self._digest.update(data)
        return data
