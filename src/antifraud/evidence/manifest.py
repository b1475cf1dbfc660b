"""The bundle manifest ``manifest.json``: building it, and parsing one that may be hostile.

A manifest is ``{"format": "antifraud-bundle/1", "files": {name: {"sha256", "bytes"}}, ...}`` plus
the caller's fields (inputs with their sha256, parameters, seed, toolkit version) and, when signed,
``signature`` over the RFC 8785 canonical form of the rest (see :mod:`antifraud.signing`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from antifraud.evidence.names import name_problem, printable

__all__ = ["FORMAT", "MANIFEST_NAME", "ManifestError", "build_manifest", "parse_manifest"]

FORMAT = "antifraud-bundle/1"
MANIFEST_NAME = "manifest.json"
MAX_DEPTH = 64
RESERVED = frozenset({"format", "files", "signature"})
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(ValueError):
    """``manifest.json`` is not a well-formed manifest; the message says what is wrong."""


def build_manifest(files: Mapping[str, bytes], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest listing ``files`` with their SHA-256 and size, plus the caller's ``fields``.

    Raises
    ------
    ValueError
        If ``fields`` sets a reserved member (``format``, ``files``, ``signature``).

    Examples
    --------
    >>> m = build_manifest({"a.txt": b"abc"}, {"seed": 7})
    >>> m["format"], m["files"]["a.txt"]["bytes"], m["files"]["a.txt"]["sha256"][:12], m["seed"]
    ('antifraud-bundle/1', 3, 'ba7816bf8f01', 7)
    """
    clash = RESERVED.intersection(fields)
    if clash:
        raise ValueError(f"manifest fields {sorted(clash)} are set by the bundle writer")
    listing = {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for name, data in sorted(files.items())
    }
    return {"format": FORMAT, "files": listing, **fields}


def parse_manifest(data: bytes) -> dict[str, Any]:
    """Parse and check the bytes of a ``manifest.json`` taken from an untrusted bundle.

    Rejects, with a :class:`ManifestError` that says why: text that is not UTF-8 JSON, duplicate
    keys (which readers resolve differently), ``NaN``/``Infinity``, nesting deeper than
    ``MAX_DEPTH``, a top level that is not an object, an unknown ``format``, and a ``files``
    listing whose names are unsafe or whose entries are not ``{"sha256": hex, "bytes": int}``.

    Examples
    --------
    >>> parse_manifest(b'{"format": "antifraud-bundle/1", "files": {}}')["files"]
    {}
    >>> parse_manifest(b'{"format": "antifraud-bundle/1", "files": []}')
    Traceback (most recent call last):
    ...
    antifraud.evidence.manifest.ManifestError: 'files' is not an object
    """
    try:
        obj = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise ManifestError("not UTF-8 text") from None
    except RecursionError:
        raise ManifestError(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # json.JSONDecodeError and the hooks' errors
        raise ManifestError(f"not valid JSON: {exc}") from None
    if _depth(obj) > MAX_DEPTH:
        raise ManifestError(f"nested deeper than {MAX_DEPTH} levels")
    if not isinstance(obj, dict):
        raise ManifestError("the top level is not an object")
    if obj.get("format") != FORMAT:
        raise ManifestError(f"'format' is not {FORMAT!r}")
    files = obj.get("files")
    if not isinstance(files, dict):
        raise ManifestError("'files' is not an object")
    for name, entry in files.items():
        problem = name_problem(name)
        if problem or name.endswith("/") or name == MANIFEST_NAME:
            raise ManifestError(f"'files' lists an unusable name {printable(name)!r}")
        if not (
            isinstance(entry, dict)
            and set(entry) == {"sha256", "bytes"}
            and isinstance(entry["sha256"], str)
            and _SHA256.match(entry["sha256"])
            and type(entry["bytes"]) is int
            and entry["bytes"] >= 0
        ):
            raise ManifestError(f"'files' entry for {printable(name)!r} is not {{'sha256': hex, 'bytes': int}}")
    return obj


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate key {printable(dup)!r}")
    return obj


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _depth(obj: Any) -> int:
    """How deeply ``obj`` nests, computed without recursion."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest
