"""Evidence bundles for regulators: the ring's pictures and self-contained HTML report, in a
tamper-evident, optionally signed zip archive that is safe to receive."""

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
