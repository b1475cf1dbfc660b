"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) for hashing and signing."""

from __future__ import annotations

from typing import Any

import rfc8785

__all__ = ["canonical_bytes"]


def canonical_bytes(obj: Any) -> bytes:
    """The RFC 8785 form of ``obj``: sorted keys, no whitespace, ES6 number formatting.

    Raises
    ------
    ValueError
        (``rfc8785.CanonicalizationError``) for values JSON cannot represent exactly, such as
        NaN or integers beyond 2**53.

    Examples
    --------
    >>> canonical_bytes({"b": 1, "a": [1.0, "é"]})
    b'{"a":[1,"\\xc3\\xa9"],"b":1}'
    """
    return rfc8785.dumps(obj)
