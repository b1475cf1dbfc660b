"""Which member names an evidence bundle may contain, and how to show hostile names safely."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["name_problem", "name_key", "printable"]

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
