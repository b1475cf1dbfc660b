"""Evidence bundles: tamper-evident, optionally signed zip archives that are safe to receive."""

from antifraud.evidence.archive import ArchiveError, safe_extract, verify_archive, write_archive
from antifraud.evidence.manifest import FORMAT, ManifestError
from antifraud.evidence.verification import Problem, ProblemKind, VerifyReport

__all__ = [
    "FORMAT",
    "ArchiveError",
    "ManifestError",
    "Problem",
    "ProblemKind",
    "VerifyReport",
    "safe_extract",
    "verify_archive",
    "write_archive",
]
