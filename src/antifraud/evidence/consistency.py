"""What a bundle's finding records say about the bundle itself: who issued them and which
evidence files, by SHA-256, they rest on.

One set of rules for both ends: :func:`~antifraud.evidence.bundle.write_bundle` refuses to pack
a run folder whose files disagree, and :func:`~antifraud.evidence.archive.verify_archive` reports
a received bundle whose files disagree. Records may be hostile: anything that is not the expected
shape is simply not a citation or an issuer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["FINDINGS_NAME", "evidence_mismatches", "issuer_of"]

#: The name of a findings file (``findings.jsonl`` of a run, ``rings/<id>/findings.jsonl`` of a bundle).
FINDINGS_NAME = "findings.jsonl"


def issuer_of(obj: Any) -> str | None:
    """The member id of ``obj["issuer"]`` (a record or a manifest), or None if it names none.

    Examples
    --------
    >>> issuer_of({"issuer": {"member_id": "platform-a", "role": "platform"}}), issuer_of({"issuer": "x"})
    ('platform-a', None)
    """
    issuer = obj.get("issuer") if isinstance(obj, Mapping) else None
    member = issuer.get("member_id") if isinstance(issuer, Mapping) else None
    return member if isinstance(member, str) else None


def evidence_mismatches(records: Iterable[Any], sha256_of: Mapping[str, str]) -> list[str]:
    """Each evidence citation of ``records`` whose file is in ``sha256_of`` but with another SHA-256,
    once, in words.

    Examples
    --------
    >>> records = [{"evidence": [{"path": "e.parquet", "sha256": "ab"}, {"path": "other", "sha256": "cd"}]}]
    >>> evidence_mismatches(records, {"e.parquet": "ab"})
    []
    >>> evidence_mismatches(records * 2, {"e.parquet": "ef"})
    ["cites e.parquet with sha256 'ab', but that file's sha256 is 'ef'"]
    """
    found: dict[tuple[str, Any], str] = {}
    for record in records:
        citations = record.get("evidence") if isinstance(record, Mapping) else None
        for cited in citations if isinstance(citations, list) else []:
            path = cited.get("path") if isinstance(cited, Mapping) else None
            if isinstance(path, str) and path in sha256_of and cited.get("sha256") != sha256_of[path]:
                found.setdefault((path, repr(cited.get("sha256"))),
                                 f"cites {path} with sha256 {cited.get('sha256')!r}, but that file's sha256 is "
                                 f"{sha256_of[path]!r}")
    return list(found.values())
