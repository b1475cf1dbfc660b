"""The run manifest (``run.json``): what went in, what came out, and how the rows add up."""

from __future__ import annotations

import hashlib
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import antifraud

__all__ = ["sha256_file", "now_iso", "toolkit_info"]


def sha256_file(path: str | Path, chunk: int = 8 << 20) -> str:
    """SHA-256 of a file's bytes as hex (the GIL is released while hashing large chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def now_iso() -> str:
    """The current UTC time in ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def toolkit_info() -> dict[str, Any]:
    """Name and version of the toolkit and its platform, for reproducibility."""
    import numpy
    import pandas
    import pyarrow

    return {
        "name": "antifraud",
        "version": antifraud.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
    }
