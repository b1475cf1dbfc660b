"""Telling what a file is before reading it: format, compression and text encoding.

Chinese platform exports come as UTF-8 (with or without BOM), GBK or GB18030. The encoding is
decided by strict decoding of a sample: UTF-8 first (it almost never decodes text written in
another encoding), then GBK, then its superset GB18030. When none decodes, charset-normalizer's
best guess is named in the error so the user knows what to pass to ``--encoding``.
"""

from __future__ import annotations

import codecs
import gzip
import zlib
from pathlib import Path

from antifraud.ingest.errors import InputError
from antifraud.ingest.excel import EXCEL_SUFFIXES

__all__ = ["check_encoding", "detect_format", "detect_encoding", "detect_json_encoding", "reject_binary",
           "read_sample"]

SAMPLE_BYTES = 1 << 20
_CANDIDATES = ("utf-8", "gbk", "gb18030")
# Exports are read by byte-level record scanning, which needs an encoding that keeps ASCII as is.
_WIDE = "the file is UTF-16, which cannot be read as it is; save it as UTF-8 or GBK (Excel: Save As, CSV UTF-8)"
_BINARY_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (an Excel workbook? name it .xlsx to read it as one)",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office file (name it .xls to read it as one)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\x7fELF": "an executable",
}


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    """Return the first ``size`` bytes of ``path``, decompressed if it is gzip."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read(size)
        with open(path, "rb") as fh:
            return fh.read(size)
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(path, f"cannot read the compressed file ({exc}); is it truncated?") from exc


def detect_format(path: Path) -> str:
    """Return ``"csv"``, ``"parquet"``, ``"jsonl"`` or ``"excel"`` for ``path``, from its name or
    its bytes."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(EXCEL_SUFFIXES):
        return "excel"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == b"PAR1":
        return "parquet"
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return "excel"
    return "csv"


def _strict_decodes(sample: bytes, encoding: str) -> bool:
    # An incremental decoder tolerates a multi-byte character cut at the end of the sample.
    try:
        codecs.getincrementaldecoder(encoding)(errors="strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def reject_binary(path: Path, sample: bytes) -> None:
    """Raise :class:`InputError` if ``sample`` (a file's first bytes) starts like a binary format
    or UTF-16 rather than a text export."""
    for magic, what in _BINARY_MAGIC.items():
        if sample.startswith(magic):
            raise InputError(path, f"this is {what}, not a text export")
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(path, _WIDE)


def detect_json_encoding(path: Path, sample: bytes) -> str:
    """Return ``"utf-8-sig"`` or ``"utf-8"``: JSON Lines are UTF-8 (RFC 8259).

    Lines that are not valid UTF-8 are for the reader to quarantine; a file whose start is GBK
    text raises :class:`InputError`, as do binary files (:func:`reject_binary`).
    """
    reject_binary(path, sample)
    if not _strict_decodes(sample, "utf-8") and _strict_decodes(sample, "gbk"):
        raise InputError(path, "JSON Lines must be UTF-8, this file looks like GBK")
    return "utf-8-sig" if sample.startswith(codecs.BOM_UTF8) else "utf-8"


def detect_encoding(path: Path, sample: bytes) -> str:
    """Return the text encoding of a delimited file from a ``sample`` of its first bytes.

    Returns one of ``"utf-8-sig"`` (UTF-8 with byte-order mark), ``"utf-8"``, ``"gbk"`` or
    ``"gb18030"``. Raises :class:`InputError` for binary files (:func:`reject_binary`, or NUL
    bytes in the header line) and undecodable text. NUL bytes further on are not a reason to
    reject the file: the reader quarantines the rows whose values hold them, wherever they are.

    Examples
    --------
    >>> from pathlib import Path
    >>> detect_encoding(Path("x.csv"), "订单编号,买家会员名\\n".encode("gbk"))
    'gbk'
    >>> detect_encoding(Path("x.csv"), codecs.BOM_UTF8 + b"a,b\\n")
    'utf-8-sig'
    """
    reject_binary(path, sample)
    if b"\x00" in b"".join(sample.splitlines()[:1]):
        raise InputError(path, "this is a binary file, not a text export (its header line has NUL bytes)")
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in _CANDIDATES:
        if _strict_decodes(sample, encoding):
            return encoding
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    guess = f"; it looks like {best.encoding}, try --encoding {best.encoding}" if best else ""
    raise InputError(path, f"cannot decode the file as UTF-8, GBK or GB18030{guess}")


def check_encoding(path: Path, sample: bytes, encoding: str) -> str:
    """The encoding to read ``path`` with when the user names one: ``encoding`` if ``sample``
    decodes under it, else :class:`InputError` saying what the bytes look like
    (:func:`detect_encoding`); UTF-16 and UTF-32 are refused, as :func:`reject_binary` does.

    Examples
    --------
    >>> from pathlib import Path
    >>> check_encoding(Path("x.csv"), "订单编号,买家会员名\\n".encode("gbk"), "utf-8")
    Traceback (most recent call last):
    ...
    antifraud.ingest.errors.InputError: x.csv: this file is not utf-8; it looks like gbk: pass --encoding gbk, or leave --encoding out to detect it
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(path, f"{encoding!r} is not an encoding Python knows") from None
    if name.startswith(("utf-16", "utf-32")):
        raise InputError(path, _WIDE)
    if _strict_decodes(sample, encoding):
        return encoding
    try:
        found = detect_encoding(path, sample)
    except InputError:
        raise InputError(path, f"this file is not {encoding}, nor UTF-8, GBK or GB18030") from None
    raise InputError(path, f"this file is not {encoding}; it looks like {found}: pass --encoding {found}, or leave "
                           "--encoding out to detect it")
