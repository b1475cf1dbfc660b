"""Tamper-evident zip archives for evidence bundles, read as hostile input.

:func:`write_archive` writes a deterministic zip holding the files and a ``manifest.json`` that
lists each file's SHA-256 and size and, when a signer is given, an Ed25519 signature over the
manifest's canonical form.

:func:`verify_archive` checks a bundle that came from outside. It never extracts and writes
nothing. Before reading any content it refuses unsafe names (absolute, ``..``, backslash, drive
letter, control characters), duplicate or colliding names, symlinks and other special entries,
encrypted entries, compression other than stored/deflate, too many entries, a declared total size
past the limit and suspicious compression ratios. While reading it counts the bytes actually
decompressed, so a header that lies about sizes still cannot exceed the limit. Then it compares
every member with the manifest (changed, added, removed) and checks the signature against a
keyring: valid, and made with the key of the member the manifest names as issuer (the keyring's
``<member id>.pub``), so a bundle altered and re-signed by another member fails. Last it reads the
finding records (``*/findings.jsonl``): they must name the manifest's issuer, and cite every
evidence file the bundle holds with that file's SHA-256 (:mod:`antifraud.evidence.consistency`).
:func:`safe_extract` applies the same checks and then writes inside one folder only.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = write_archive(folder / "b.zip", {"rings.jsonl": b"{}\\n"}, {"seed": 7})
>>> report = verify_archive(folder / "b.zip", require_signature=False)
>>> report.ok, report.matched, report.signature
(True, ['rings.jsonl'], <SignatureStatus.UNSIGNED: 'unsigned'>)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from antifraud.evidence.consistency import FINDINGS_NAME, evidence_mismatches, issuer_of
from antifraud.evidence.manifest import MANIFEST_NAME, ManifestError, build_manifest, parse_manifest
from antifraud.evidence.names import collisions, name_key, name_problem, printable
from antifraud.evidence.verification import ProblemKind, VerifyReport
from antifraud.io import atomic_path
from antifraud.signing import Keyring, SignatureStatus, Signer, sign_json, verify_json

__all__ = [
    "ArchiveError",
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_RATIO",
    "DEFAULT_MAX_TOTAL_BYTES",
    "safe_extract",
    "verify_archive",
    "write_archive",
]

DEFAULT_MAX_TOTAL_BYTES = 1 << 30
DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_RATIO = 100.0
RATIO_FLOOR = 1 << 20  # members smaller than this may compress as well as they like
MAX_MANIFEST_BYTES = 1 << 20
MAX_FINDINGS_BYTES = 64 << 20  # per findings.jsonl, which is read whole to be checked
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_CHUNK = 1 << 16
_MAX_DIRECTORY_ENTRY_BYTES = 2048  # 46-byte header, a name of up to 255 characters in UTF-8, extra fields
_COMPRESSIONS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
# What zipfile raises for corrupt, truncated or unsupported member data.
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError, NotImplementedError)
_SIGNATURE_PROBLEMS = {
    SignatureStatus.UNSIGNED: (ProblemKind.UNSIGNED, "the manifest is not signed"),
    SignatureStatus.UNKNOWN_KEY: (ProblemKind.UNKNOWN_KEY, "signed by a key not in the keyring"),
    SignatureStatus.BAD_SIGNATURE: (ProblemKind.BAD_SIGNATURE, "the signature does not match the manifest"),
    SignatureStatus.MALFORMED: (ProblemKind.MALFORMED_SIGNATURE, "the signature object is malformed"),
}


class ArchiveError(ValueError):
    """The file cannot be treated as a bundle at all (not a zip), or extraction was refused."""


@dataclass(frozen=True)
class _Limits:
    total_bytes: int
    entries: int
    ratio: float


class _TooMuchData(Exception):
    """More bytes came out of the archive than the limit allows."""


class _Budget:
    """How many more decompressed bytes may be read."""

    def __init__(self, left: int) -> None:
        self.left = left

    def charge(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise _TooMuchData


def write_archive(
    path: str | os.PathLike[str],
    files: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    signer: Signer | None = None,
) -> dict[str, Any]:
    """Write an evidence bundle atomically: ``files`` plus ``manifest.json``, signed if ``signer`` is given.

    The zip is deterministic (entries sorted by name, fixed timestamps and permissions, deflate),
    so the same inputs give the same bytes.

    Parameters
    ----------
    path : path-like
        The zip to write; replaced only once it is complete.
    files : mapping of str to bytes
        Archive name (a relative POSIX path) to content.
    manifest : mapping
        The caller's manifest fields: inputs with their sha256, parameters, seed, toolkit version.
        ``format``, ``files`` and ``signature`` are set here.
    signer : Signer, optional
        Sign the canonical manifest (without ``signature``).

    Returns
    -------
    dict
        The manifest as written.

    Raises
    ------
    ValueError
        For an unsafe or colliding file name, a reserved manifest field, or a manifest value
        that JSON cannot represent exactly.
    """
    for name in files:
        problem = name_problem(name) or ("is a directory name" if name.endswith("/") else None)
        if name_key(name) == name_key(MANIFEST_NAME):
            problem = "is reserved for the manifest"
        if problem:
            raise ValueError(f"archive name {printable(name)!r} {problem}")
    names = list(files)
    clashes = collisions(names)
    if clashes:
        first = min(clashes)
        raise ValueError(f"archive name {printable(names[first])!r} {clashes[first]}")
    full = build_manifest(files, manifest)
    if signer is not None:
        full["signature"] = sign_json(full, signer)
    text = json.dumps(full, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False) + "\n"
    entries = {**files, MANIFEST_NAME: text.encode("utf-8")}
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, entries[name], compresslevel=6)
    return full


def verify_archive(
    path: str | os.PathLike[str],
    keyring: Keyring | None = None,
    *,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_ratio: float = DEFAULT_MAX_RATIO,
    require_signature: bool = True,
) -> VerifyReport:
    """Check an untrusted bundle without extracting it; every problem is named in the report.

    Parameters
    ----------
    path : path-like
        The zip archive.
    keyring : Keyring, optional
        Trusted public keys; without one a signed manifest reports ``unknown_key``.
    max_total_bytes : int
        Most bytes all members may decompress to (declared and actually counted).
    max_entries : int
        Most entries the archive may hold.
    max_ratio : float
        Highest declared size / compressed size of a member larger than 1 MiB.
    require_signature : bool
        Count an unsigned manifest as a problem (a bad or unknown signature always is).

    Returns
    -------
    VerifyReport
        ``ok`` only when every check passed.

    Raises
    ------
    ArchiveError
        If ``path`` is not a readable zip archive.
    """
    limits = _Limits(max_total_bytes, max_entries, max_ratio)
    report = VerifyReport(Path(path))
    with _open_zip(path, limits, report) as zf:
        if zf is not None:
            _verify(zf, keyring, limits, require_signature, report)
    return report


def safe_extract(
    path: str | os.PathLike[str],
    target_dir: str | os.PathLike[str],
    keyring: Keyring | None = None,
    *,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_ratio: float = DEFAULT_MAX_RATIO,
    require_signature: bool = True,
) -> VerifyReport:
    """Verify a bundle like :func:`verify_archive`, then write its members inside ``target_dir``.

    Nothing is written unless verification passes. Each destination is resolved and must lie
    inside the resolved ``target_dir``; existing files are never replaced and symlinks are never
    followed. Content is hashed again while writing, and if the archive changed since it was
    verified, every file written is removed (folders made for them may remain).

    Raises
    ------
    ArchiveError
        If verification fails (the message lists the problems) or the archive changed meanwhile.
    FileExistsError
        If a destination file already exists.
    """
    limits = _Limits(max_total_bytes, max_entries, max_ratio)
    report = VerifyReport(Path(path))
    with _open_zip(path, limits, report) as zf:
        members, digests = _verify(zf, keyring, limits, require_signature, report) if zf is not None else ([], {})
        if not report.ok:
            raise ArchiveError("; ".join([report.summary(), *map(str, report.problems)]))
        target = Path(target_dir).resolve()
        budget = _Budget(limits.total_bytes)
        written: list[Path] = []
        try:
            for info in members:
                written.append(_extract_one(zf, info, target, budget, digests[info.filename]))
        except BaseException:
            for done in written:
                done.unlink(missing_ok=True)
            raise
    return report


@contextlib.contextmanager
def _open_zip(
    path: str | os.PathLike[str], limits: _Limits, report: VerifyReport
) -> Iterator[zipfile.ZipFile | None]:
    """The open archive, or None when its central directory is refused before it is parsed."""
    with open(path, "rb") as fh:
        problem = _directory_problem(fh, limits)
        if problem is not None:
            report.add(None, *problem)
            yield None
            return
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
            raise ArchiveError(f"{printable(str(path))}: not a usable zip archive ({exc})") from None
        with zf:
            yield zf


def _directory_problem(fh: IO[bytes], limits: _Limits) -> tuple[ProblemKind, str] | None:
    """Check the end-of-central-directory record before :class:`zipfile.ZipFile` parses every entry.

    zipfile builds an object per central directory entry, so a directory holding millions of
    entries would cost gigabytes before the entry count could be checked. zipfile's own
    (private, but unchanged for many releases) record reader is used rather than a copy of it.
    """
    end = zipfile._EndRecData(fh)  # noqa: SLF001 - None when the file is not a zip
    if not end:
        return None
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # noqa: SLF001
    if entries > limits.entries:
        return ProblemKind.TOO_MANY_ENTRIES, f"{entries:,} entries, more than {limits.entries:,}"
    if size > limits.entries * _MAX_DIRECTORY_ENTRY_BYTES:
        return ProblemKind.TOO_LARGE, f"a central directory of {size:,} bytes, too large for {limits.entries:,} entries"
    return None


def _verify(
    zf: zipfile.ZipFile, keyring: Keyring | None, limits: _Limits, require_signature: bool, report: VerifyReport
) -> tuple[list[zipfile.ZipInfo], dict[str, tuple[str, int]]]:
    """Fill in ``report``; return the file members and the (sha256, size) of each member read."""
    members = _check_entries(zf.infolist(), limits, report)
    if report.problems:
        return members, {}
    digests, kept = _read_members(zf, members, limits, report)
    manifest_bytes = kept.pop(MANIFEST_NAME, None)
    if MANIFEST_NAME not in {m.filename for m in members}:
        report.add(MANIFEST_NAME, ProblemKind.MISSING_MANIFEST, "the archive has no manifest.json")
    elif manifest_bytes is not None:
        try:
            manifest = parse_manifest(manifest_bytes)
        except ManifestError as exc:
            report.add(MANIFEST_NAME, ProblemKind.MALFORMED_MANIFEST, str(exc))
        else:
            _compare(manifest["files"], digests, {m.filename for m in members}, report)
            _check_signature(manifest, keyring, require_signature, report)
            _check_findings(kept, digests, issuer_of(manifest), report)
            report.manifest = manifest
    return members, digests


def _check_entries(infos: list[zipfile.ZipInfo], limits: _Limits, report: VerifyReport) -> list[zipfile.ZipInfo]:
    """Every check that needs only the central directory; returns the file (not directory) entries."""
    if len(infos) > limits.entries:
        report.add(None, ProblemKind.TOO_MANY_ENTRIES, f"{len(infos):,} entries, more than {limits.entries:,}")
        return []
    declared = sum(i.file_size for i in infos)
    if declared > limits.total_bytes:
        report.add(None, ProblemKind.TOO_LARGE, f"declares {declared:,} bytes, more than {limits.total_bytes:,}")
    safe = []
    for info in infos:
        problem = name_problem(info.filename)
        if problem:
            report.add(info.filename, ProblemKind.UNSAFE_NAME, f"the name {problem}")
        else:
            safe.append(info)
    clashes = collisions([info.filename for info in safe])
    files = []
    for i, info in enumerate(safe):
        name = info.filename
        if i in clashes:
            report.add(name, ProblemKind.DUPLICATE, clashes[i])
            continue
        ftype = stat.S_IFMT(info.external_attr >> 16)
        if stat.S_ISLNK(ftype):
            report.add(name, ProblemKind.SYMLINK, "symbolic links are not allowed")
        elif ftype not in (0, stat.S_IFREG, stat.S_IFDIR):
            report.add(name, ProblemKind.SPECIAL_FILE, "only regular files and directories are allowed")
        elif info.flag_bits & 0x41:  # bit 0: encrypted, bit 6: strong encryption
            report.add(name, ProblemKind.ENCRYPTED, "encrypted entries are not allowed")
        elif info.compress_type not in _COMPRESSIONS:
            report.add(name, ProblemKind.UNSUPPORTED_COMPRESSION, f"compression method {info.compress_type}")
        elif info.file_size > RATIO_FLOOR and info.file_size > limits.ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            report.add(name, ProblemKind.SUSPICIOUS_RATIO, f"compression ratio {ratio:,.0f}, above {limits.ratio:g}")
        elif info.is_dir():
            if info.file_size:
                report.add(name, ProblemKind.SPECIAL_FILE, "a directory entry with content")
        else:
            files.append(info)
    return sorted(files, key=lambda i: i.filename)


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> Iterator[bytes]:
    """The decompressed chunks of ``info``, each charged to ``budget`` before it is used."""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            budget.charge(len(chunk))
            yield chunk


def _kept(name: str) -> tuple[int, ProblemKind] | None:
    """For a member read whole (the manifest, findings), its size limit and the problem past it."""
    if name == MANIFEST_NAME:
        return MAX_MANIFEST_BYTES, ProblemKind.MALFORMED_MANIFEST
    if PurePosixPath(name).name == FINDINGS_NAME:
        return MAX_FINDINGS_BYTES, ProblemKind.UNREADABLE
    return None


def _read_members(
    zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], limits: _Limits, report: VerifyReport
) -> tuple[dict[str, tuple[str, int]], dict[str, bytes]]:
    """Hash every member as it streams; keep the bytes of the manifest and the findings only.
    Returns (digests, kept)."""
    budget = _Budget(limits.total_bytes)
    digests: dict[str, tuple[str, int]] = {}
    kept: dict[str, bytes] = {}
    for info in members:
        keep = _kept(info.filename)
        if keep is not None and info.file_size > keep[0]:
            report.add(info.filename, keep[1], f"larger than {keep[0]:,} bytes")
            continue
        digest, size, data = hashlib.sha256(), 0, bytearray()
        try:
            for chunk in _stream(zf, info, budget):
                digest.update(chunk)
                size += len(chunk)
                if keep is not None:
                    data += chunk
                    if len(data) > keep[0]:
                        raise _TooMuchData
        except _TooMuchData:
            report.add(info.filename, ProblemKind.DECOMPRESSION_BOMB, "decompressed past the limit; reading stopped")
            return digests, {}
        except _READ_ERRORS as exc:
            report.add(info.filename, ProblemKind.UNREADABLE, f"cannot be read: {exc}")
            continue
        if size != info.file_size:
            report.add(info.filename, ProblemKind.UNREADABLE, f"{size:,} bytes, header says {info.file_size:,}")
            continue
        digests[info.filename] = (digest.hexdigest(), size)
        if keep is not None:
            kept[info.filename] = bytes(data)
    return digests, kept


def _compare(
    listed: dict[str, dict[str, Any]], digests: dict[str, tuple[str, int]], present: set[str], report: VerifyReport
) -> None:
    for name in sorted(listed):
        if name not in present:
            report.add(name, ProblemKind.REMOVED, "listed in the manifest but absent from the archive")
        elif name in digests:  # members that could not be read are already reported
            sha, size = digests[name]
            if (sha, size) == (listed[name]["sha256"], listed[name]["bytes"]):
                report.matched.append(name)
            else:
                report.add(name, ProblemKind.CHANGED, "content differs from its sha256 in the manifest")
    for name in sorted(present - set(listed) - {MANIFEST_NAME}):
        report.add(name, ProblemKind.ADDED, "present in the archive but not listed in the manifest")


def _check_signature(
    manifest: dict[str, Any], keyring: Keyring | None, require_signature: bool, report: VerifyReport
) -> None:
    signature = manifest.get("signature")
    report.signature = verify_json(manifest, signature, keyring)
    if isinstance(signature, dict) and isinstance(signature.get("key_id"), str):
        report.key_id = signature["key_id"]
    if report.signature is SignatureStatus.VALID:
        report.signer = keyring.owner(report.key_id) if keyring is not None and report.key_id else None
        _check_issuer(issuer_of(manifest), report)
        return
    if report.signature is SignatureStatus.UNSIGNED and not require_signature:
        return
    kind, detail = _SIGNATURE_PROBLEMS[report.signature]
    if report.signature is SignatureStatus.UNKNOWN_KEY:
        detail = f"{detail} ({printable(report.key_id or '')})" if keyring is not None else "no keyring to check it"
    report.add(MANIFEST_NAME, kind, detail)


def _check_issuer(issuer: str | None, report: VerifyReport) -> None:
    """A valid signature must be the named issuer's: the keyring's holder of the key."""
    if report.signer is not None and report.signer == issuer:
        return
    if report.signer is None:
        detail = "signed with a key whose holder the keyring does not name"
    else:
        named = f"issuer {issuer}" if issuer is not None else "no issuer"
        detail = f"signed with {report.signer}'s key, but the manifest names {named}"
    report.add(MANIFEST_NAME, ProblemKind.WRONG_ISSUER, f"{detail} (key {report.key_id})")


def _check_findings(
    kept: dict[str, bytes], digests: dict[str, tuple[str, int]], issuer: str | None, report: VerifyReport
) -> None:
    """Every findings file must name the manifest's issuer (when it names one) and cite the
    bundle's own evidence files with their SHA-256."""
    sha256_of = {name: sha for name, (sha, _) in digests.items()}
    for name, data in sorted(kept.items()):
        try:
            records = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
        except (UnicodeDecodeError, ValueError, RecursionError):
            report.add(name, ProblemKind.UNREADABLE, "not JSON Lines")
            continue
        for detail in evidence_mismatches(records, sha256_of):
            report.add(name, ProblemKind.EVIDENCE_MISMATCH, detail)
        others = sorted({issuer_of(r) or "nobody" for r in records} - {issuer}) if issuer is not None else []
        if others:
            report.add(name, ProblemKind.WRONG_ISSUER,
                       f"findings issued by {', '.join(others)}, but the manifest names issuer {issuer}")


def _extract_one(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: _Budget, verified: tuple[str, int]
) -> Path:
    """Write one member under ``target``; it must hash as it did when it was verified."""
    dest = (target / info.filename).resolve()
    if not dest.is_relative_to(target) or dest == target:
        raise ArchiveError(f"{printable(info.filename)}: would be written outside {target}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.parent.resolve().is_relative_to(target):
        raise ArchiveError(f"{printable(info.filename)}: would be written outside {target}")
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in _stream(zf, info, budget):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if (digest.hexdigest(), size) != verified:
            raise ArchiveError(f"{printable(info.filename)}: the archive changed after it was verified")
    except (_TooMuchData, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        dest.unlink(missing_ok=True)
        why = "decompressed past the size limit" if isinstance(exc, _TooMuchData) else f"cannot be read: {exc}"
        raise ArchiveError(f"{printable(info.filename)}: {why} while extracting") from None
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return dest
