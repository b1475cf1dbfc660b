"""What verifying an evidence bundle found: every problem with the member it concerns."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from antifraud.evidence.names import printable
from antifraud.signing import SignatureStatus

__all__ = ["Problem", "ProblemKind", "VerifyReport"]


class ProblemKind(enum.StrEnum):
    """Why a bundle, or one of its members, fails verification."""

    # Refused before any content is read.
    TOO_LARGE = "too_large"
    TOO_MANY_ENTRIES = "too_many_entries"
    UNSAFE_NAME = "unsafe_name"
    DUPLICATE = "duplicate"
    SYMLINK = "symlink"
    SPECIAL_FILE = "special_file"
    ENCRYPTED = "encrypted"
    UNSUPPORTED_COMPRESSION = "unsupported_compression"
    SUSPICIOUS_RATIO = "suspicious_ratio"
    # Found while reading.
    DECOMPRESSION_BOMB = "decompression_bomb"
    UNREADABLE = "unreadable"
    # Found by comparing with the manifest.
    MISSING_MANIFEST = "missing_manifest"
    MALFORMED_MANIFEST = "malformed_manifest"
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"
    # The manifest's signature.
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED_SIGNATURE = "malformed_signature"
    # Who issued the bundle, and what its findings rest on.
    WRONG_ISSUER = "wrong_issuer"
    EVIDENCE_MISMATCH = "evidence_mismatch"


@dataclass(frozen=True)
class Problem:
    """One thing wrong: the member ``name`` (None for the archive as a whole), a kind and details.

    Examples
    --------
    >>> str(Problem("rings.jsonl", ProblemKind.CHANGED, "sha256 differs from the manifest"))
    'rings.jsonl: changed: sha256 differs from the manifest'
    """

    name: str | None
    kind: ProblemKind
    detail: str

    def __str__(self) -> str:
        where = "(archive)" if self.name is None else printable(self.name)
        return f"{where}: {self.kind}: {printable(self.detail)}"


@dataclass
class VerifyReport:
    """The result of :func:`~antifraud.evidence.archive.verify_archive`.

    Attributes
    ----------
    path : Path
        The archive checked.
    problems : list of Problem
        Everything wrong, each naming its member; empty when the bundle checks.
    matched : list of str
        Members whose content matches the manifest.
    signature : SignatureStatus or None
        The manifest signature's status (None when the manifest could not be read).
    key_id : str or None
        The key id the signature names, if any.
    signer : str or None
        The member holding that key, by the keyring, when the signature is valid.
    manifest : dict or None
        The parsed manifest, when it is well-formed.
    """

    path: Path
    problems: list[Problem] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)
    signature: SignatureStatus | None = None
    key_id: str | None = None
    signer: str | None = None
    manifest: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True only when every check passed."""
        return not self.problems and self.manifest is not None

    def add(self, name: str | None, kind: ProblemKind, detail: str) -> None:
        """Record a problem."""
        self.problems.append(Problem(name, kind, detail))

    def summary(self) -> str:
        """One line: what checked, or how many problems were found.

        Examples
        --------
        >>> VerifyReport(Path("b.zip"), matched=["a"], signature=SignatureStatus.UNSIGNED, manifest={}).summary()
        'OK: b.zip: 1 file matches the manifest; signature: unsigned'
        >>> VerifyReport(Path("b.zip"), matched=["a", "b"], signature=SignatureStatus.VALID, key_id="ed25519:1f",
        ...              signer="platform-a", manifest={}).summary()
        'OK: b.zip: 2 files match the manifest; signature: valid (ed25519:1f, held by platform-a)'
        >>> VerifyReport(Path("b.zip")).summary()
        'FAILED: b.zip: 0 problems'
        """
        if not self.ok:
            count = len(self.problems)
            return f"FAILED: {printable(str(self.path))}: {count} problem{'' if count == 1 else 's'}"
        files = f"{len(self.matched)} file{' matches' if len(self.matched) == 1 else 's match'} the manifest"
        whose = [self.key_id] if self.key_id else []
        whose += [f"held by {self.signer}"] if self.signer else []
        signed = f"signature: {self.signature}" + (f" ({', '.join(whose)})" if whose else "")
        return f"OK: {printable(str(self.path))}: {files}; {signed}"
