"""Which member names an evidence bundle may contain, and how to show hostile names safely."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

__all__ = ["collisions", "name_problem", "name_key", "printable"]

_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_NAME_CHARS = 255


def name_problem(name: str) -> str | None:
    """Why ``name`` is unsafe as a relative archive path, or None when it is safe.

    Safe names are relative POSIX paths of plain components: no leading ``/``, no ``..`` or
    ``.`` or empty component, no backslash or drive letter, no control characters.
    A trailing ``/`` marks a directory entry and is allowed.

    Examples
    --------
    >>> name_problem("evidence/rings.jsonl") is None
    True
    >>> name_problem("../evil")
    "has a '..' component"
    >>> name_problem("/etc/passwd")
    'is an absolute path'
    >>> name_problem("C:evil")
    'has a drive letter'
    """
    if not name:
        return "is empty"
    if len(name) > MAX_NAME_CHARS:
        return f"is longer than {MAX_NAME_CHARS} characters"
    if any(unicodedata.category(c)[0] == "C" for c in name):
        return "has control or unassigned characters"
    if name.startswith("/"):
        return "is an absolute path"
    if "\\" in name:
        return "has a backslash"
    if _DRIVE.match(name):
        return "has a drive letter"
    parts = name.removesuffix("/").split("/")
    if ".." in parts:
        return "has a '..' component"
    if "." in parts or "" in parts:
        return "has an empty or '.' component"
    return None


def name_key(name: str) -> str:
    """The form under which two names would land on the same file on some filesystem.

    Examples
    --------
    >>> name_key("Evidence/A.csv") == name_key("evidence/a.csv")
    True
    """
    return unicodedata.normalize("NFC", name).casefold()


def collisions(names: Sequence[str]) -> dict[int, str]:
    """The positions of names that cannot exist on disk beside an earlier one, and why.

    Two names collide when they differ only in case or Unicode normalisation (or are equal),
    and a name cannot lie under another that is a file. Directory names end with ``/``.

    Examples
    --------
    >>> collisions(["a.txt", "A.TXT", "f", "f/x", "d/", "d/y"])
    {1: "collides with 'a.txt'", 3: "lies under the file 'f'"}
    """
    found: dict[int, str] = {}
    keys: dict[str, str] = {}
    for i, name in enumerate(names):
        key = name_key(name.removesuffix("/"))
        if key in keys:
            found[i] = f"collides with {printable(keys[key])!r}"
        else:
            keys[key] = name
    for i, name in enumerate(names):
        parts = name.removesuffix("/").split("/")
        for depth in range(1, len(parts)):
            parent = keys.get(name_key("/".join(parts[:depth])))
            if i not in found and parent is not None and not parent.endswith("/"):
                found[i] = f"lies under the file {printable(parent)!r}"
    return found


def printable(name: str) -> str:
    """``name`` with control and format characters escaped, safe to print on a terminal.

    Examples
    --------
    >>> printable("bad\\x1b[31mname")
    'bad\\\\x1b[31mname'
    >>> printable("店铺.csv")
    '店铺.csv'
    """
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c)[0] == "C" else c for c in name
    )
