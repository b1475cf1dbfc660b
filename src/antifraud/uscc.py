"""Validate the unified social credit code (统一社会信用代码, GB 32100-2015) of sellers.

A credit code has 18 characters from a 31-character alphabet (no ``I``, ``O``, ``S``, ``V``,
``Z``):

==========  ===========================================================================
positions   meaning
==========  ===========================================================================
1           registering authority (``1``, ``5``, ``9``, ``Y``, later also ``2``-``8``,
            ``A``, ``N``); any character of the alphabet is accepted
2           organisation kind within the authority (``91`` enterprise, ``92`` individual
            business, ...); any character of the alphabet is accepted
3-8         administrative region code (GB/T 2260), digits; abolished codes stay valid
9-17        organisation code (GB 11714) with its own check character at position 17
18          check character over positions 1-17 (weights ``3^(i-1) mod 31``)
==========  ===========================================================================

Codes are first normalised (:func:`normalize`: Unicode NFKC, spaces and hyphens removed,
upper case) and then checked by :func:`validate`, which explains every problem it finds in
English instead of repairing it: a letter ``O`` is never read as the digit ``0``.

* A wrong position-18 check character, a wrong length, a character outside the alphabet or a
  non-digit region code makes a code ``"invalid"``.
* A wrong organisation-code check character (position 17) is only a warning: many legally
  issued codes carry one.
* The few pilot-area codes issued before the standard settled fail the position-18 check yet
  are legally valid. They are accepted one by one through :data:`PILOT_EXCEPTIONS` with status
  ``"pilot_exception"``; the check itself is never loosened.

:func:`validate_many` validates a whole column of an export, doing the work once per distinct
value.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "ALPHABET",
    "WEIGHTS",
    "ORGANISATION_WEIGHTS",
    "PILOT_EXCEPTIONS",
    "STATUSES",
    "Status",
    "UsccResult",
    "normalize",
    "check_character",
    "organisation_check_character",
    "validate",
    "is_valid",
    "validate_many",
]

#: The 31 characters of a credit code; a character's value is its index.
ALPHABET: str = "0123456789ABCDEFGHJKLMNPQRTUWXY"

#: Weights of positions 1-17 for the position-18 check character: ``3^(i-1) mod 31``.
WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))

#: Weights of positions 9-16 (the organisation code proper) for the position-17 check (GB 11714).
ORGANISATION_WEIGHTS: tuple[int, ...] = (3, 7, 9, 10, 5, 8, 4, 2)

#: Pilot-area codes issued before GB 32100-2015 settled: legally valid, yet they fail the
#: position-18 check. Accepted only as exact (normalised) matches, with status
#: ``"pilot_exception"``.
PILOT_EXCEPTIONS: frozenset[str] = frozenset(
    {
        "91350211M0000XUF46",
        "91350100M0001TGQXM",
        "91350203M0001FUE2P",
    }
)

Status = Literal["valid", "pilot_exception", "invalid"]

#: Every status :func:`validate_many` reports, in the order of its ``status`` categories.
STATUSES: tuple[str, ...] = ("valid", "pilot_exception", "invalid", "missing")

_LENGTH = 18
_VALUES: dict[str, int] = {ch: i for i, ch in enumerate(ALPHABET)}
_DIGITS = frozenset("0123456789")
# Values of the organisation-code characters: digits, then the full Latin alphabet A=10 .. Z=35.
_ORGANISATION_VALUES: dict[str, int] = {
    ch: i for i, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
}
# The check characters by value, 1-11 (``11 - sum mod 11``): 10 is written X and 11 is written 0.
_ORGANISATION_CHECK = "0123456789X0"
# Each byte's value in ALPHABET and in the organisation alphabet, -1 outside: codes checked as arrays.
_BYTE_VALUES = np.full(256, -1, dtype=np.int64)
_BYTE_VALUES[np.frombuffer(ALPHABET.encode(), np.uint8)] = np.arange(len(ALPHABET))
_BYTE_ORGANISATION_VALUES = np.full(256, -1, dtype=np.int64)
_BYTE_ORGANISATION_VALUES[np.frombuffer("".join(_ORGANISATION_VALUES).encode(), np.uint8)] = list(
    _ORGANISATION_VALUES.values()
)
# Hyphens, dashes and minus signs (after NFKC) that separate groups of a code.
_HYPHENS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
# Invisible spaces that str.isspace() does not cover (zero-width space, word joiner, BOM).
_INVISIBLE_SPACES = frozenset("\u200b\u2060\ufeff")
# Letters left out of the alphabet, with the digit each is most often mistaken for.
_EXCLUDED_LETTERS: dict[str, str | None] = {"O": "0", "I": "1", "S": None, "V": None, "Z": None}


@dataclass(frozen=True)
class UsccResult:
    """The outcome of validating one credit code.

    Attributes
    ----------
    input : str
        The code exactly as given.
    code : str
        The normalised code (see :func:`normalize`); empty if nothing was left.
    valid : bool
        True if ``status`` is ``"valid"`` or ``"pilot_exception"``.
    status : {"valid", "pilot_exception", "invalid"}
        ``"pilot_exception"`` marks a code on :data:`PILOT_EXCEPTIONS` that is legally valid
        although its position-18 check fails.
    reasons : tuple of str
        Why the code is invalid: one English sentence per problem found; empty when valid.
    warnings : tuple of str
        Problems that do not make the code invalid (an organisation-code check mismatch, the
        check failure of a pilot exception).
    pilot_exception : bool
        True if the code was accepted only through :data:`PILOT_EXCEPTIONS`.
    """

    input: str
    code: str
    valid: bool
    status: Status
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    pilot_exception: bool


def normalize(code: str) -> str:
    """Normalise a credit code as typed or exported, without repairing it.

    Applies Unicode NFKC (full-width ``９１`` becomes ``91``, the ideographic space an ordinary
    space), removes every kind of space and hyphen, and upper-cases. Look-alike characters are
    kept as they are: ``O`` is never turned into ``0`` nor ``I`` into ``1``, so that
    :func:`validate` can say what is wrong.

    Parameters
    ----------
    code : str
        A credit code in any of the forms found in exports.

    Returns
    -------
    str
        The normalised code (possibly empty, possibly still invalid).

    Examples
    --------
    >>> normalize("９１４４０３００１９２２０３８２１６")
    '914403001922038216'
    >>> normalize(" 91350100-m000100y43\u3000")
    '91350100M000100Y43'
    >>> normalize("91350100MOOO100Y43")  # letters O stay letters O
    '91350100MOOO100Y43'
    """
    text = unicodedata.normalize("NFKC", code)
    text = "".join(
        ch for ch in text if not (ch.isspace() or ch in _HYPHENS or ch in _INVISIBLE_SPACES)
    )
    return text.upper()


def check_character(first17: str) -> str:
    """Compute the position-18 check character of a credit code.

    ``c18 = (31 - sum(value(c_i) * 3^(i-1) mod 31 for i in 1..17) mod 31) mod 31``, mapped
    back through :data:`ALPHABET`.

    Parameters
    ----------
    first17 : str
        The first 17 characters of a normalised code, all from :data:`ALPHABET`.

    Returns
    -------
    str
        The check character, one character of :data:`ALPHABET`.

    Raises
    ------
    ValueError
        If ``first17`` is not 17 characters long or has a character outside the alphabet.

    Examples
    --------
    >>> check_character("91350100M000100Y4")
    '3'
    >>> check_character("91440300708461136")
    'T'
    """
    if len(first17) != 17:
        raise ValueError(f"need the first 17 characters of a code, got {len(first17)}")
    try:
        values = np.array([_VALUES[ch] for ch in first17])
    except KeyError as exc:
        raise ValueError(
            f"{_describe(exc.args[0])} is outside the credit-code alphabet {ALPHABET}"
        ) from None
    return ALPHABET[int(_check_values(values[None])[0])]


def _check_values(values: np.ndarray) -> np.ndarray:
    """Value of the position-18 check character of each row of 17 character values."""
    return (31 - values @ np.array(WEIGHTS) % 31) % 31


def _organisation_check_values(values: np.ndarray) -> np.ndarray:
    """``11 - (sum mod 11)``, 1-11, of each row of the 8 organisation-code character values."""
    return 11 - values @ np.array(ORGANISATION_WEIGHTS) % 11


def organisation_check_character(organisation_code: str) -> str:
    """Compute the GB 11714 check character of an organisation code (position 17).

    Positions 9-16 of a credit code are weighted ``3 7 9 10 5 8 4 2``, digits by their value and
    letters by ``A=10 .. Z=35`` (the full Latin alphabet); ``c = 11 - (sum mod 11)``, where 10 is
    written ``X`` and 11 is written ``0``.

    Parameters
    ----------
    organisation_code : str
        The 8 characters before the check (positions 9-16 of a credit code), digits and
        upper-case Latin letters.

    Returns
    -------
    str
        ``"0"``-``"9"`` or ``"X"``.

    Raises
    ------
    ValueError
        If the input is not 8 digits or upper-case Latin letters.

    Examples
    --------
    >>> organisation_check_character("M000100Y")  # 91350100M000100Y43: position 17 is 4
    '4'
    >>> organisation_check_character("19220382")  # 914403001922038216: position 17 is 1
    '1'
    """
    if len(organisation_code) != 8:
        raise ValueError(
            f"need the 8 characters of an organisation code, got {len(organisation_code)}"
        )
    try:
        values = np.array([_ORGANISATION_VALUES[ch] for ch in organisation_code])
    except KeyError as exc:
        raise ValueError(
            f"{_describe(exc.args[0])} is not a digit or upper-case Latin letter"
        ) from None
    return _ORGANISATION_CHECK[int(_organisation_check_values(values[None])[0])]


def validate(code: str) -> UsccResult:
    """Validate one credit code and explain every problem found.

    Parameters
    ----------
    code : str
        The code as exported; it is normalised first (:func:`normalize`).

    Returns
    -------
    UsccResult
        ``status`` is ``"valid"``, ``"pilot_exception"`` or ``"invalid"``; ``reasons`` says why
        a code is invalid and ``warnings`` lists problems that do not invalidate it.

    Raises
    ------
    TypeError
        If ``code`` is not a string.

    Examples
    --------
    >>> validate("91440300708461136T").status
    'valid'
    >>> r = validate("914403001922038217")
    >>> r.status, r.reasons
    ('invalid', ("check character (position 18) is '7', expected '6'",))
    >>> validate("91350211M0000XUF46").status
    'pilot_exception'
    >>> for reason in validate("9144O3OO1922038216").reasons:
    ...     print(reason)
    'O' at positions 5, 7 and 8: the letter O is not used in credit codes (was the digit 0 meant?)
    region code (positions 3-8) must be 6 digits, found '44O3OO'
    """
    if not isinstance(code, str):
        raise TypeError(f"a credit code must be a str, not {type(code).__name__}")
    norm = normalize(code)
    reasons: list[str] = []
    warnings: list[str] = []

    if not norm:
        reasons.append("the code is empty")
    elif len(norm) != _LENGTH:
        reasons.append(f"has {len(norm)} characters after normalisation, expected {_LENGTH}")
    reasons.extend(_alphabet_reasons(norm))

    region = norm[2:8]
    if region and not all(ch in _DIGITS for ch in region):
        reasons.append(f"region code (positions 3-8) must be 6 digits, found {region!r}")

    check_problem: str | None = None
    if len(norm) == _LENGTH and all(ch in _VALUES for ch in norm[:17]):
        expected = check_character(norm[:17])
        if norm[17] != expected:
            check_problem = (
                f"check character (position 18) is {_describe(norm[17])}, expected {expected!r}"
            )

    if len(norm) == _LENGTH and all(ch in _VALUES for ch in norm[8:17]):
        expected = organisation_check_character(norm[8:16])
        if norm[16] != expected:
            warnings.append(
                f"organisation code check character (position 17, GB 11714) is {norm[16]!r}, "
                f"expected {expected!r}"
            )

    pilot = norm in PILOT_EXCEPTIONS and not reasons and check_problem is not None
    if pilot:
        warnings.insert(
            0,
            f"{check_problem} (accepted only because the code is a known pilot-area code "
            "issued before GB 32100-2015 settled)",
        )
    elif check_problem is not None:
        reasons.append(check_problem)

    status: Status = "pilot_exception" if pilot else ("invalid" if reasons else "valid")
    return UsccResult(
        input=code,
        code=norm,
        valid=status != "invalid",
        status=status,
        reasons=tuple(reasons),
        warnings=tuple(warnings),
        pilot_exception=pilot,
    )


def is_valid(code: str) -> bool:
    """Tell whether a credit code is valid (including the listed pilot-area exceptions).

    Parameters
    ----------
    code : str
        The code as exported; it is normalised first.

    Returns
    -------
    bool
        True if :func:`validate` gives status ``"valid"`` or ``"pilot_exception"``.

    Examples
    --------
    >>> is_valid("9144 0300 1922 0382 16")
    True
    >>> is_valid("914403001922038217")
    False
    >>> is_valid("91350100M0001TGQXM")  # pilot-area exception
    True
    """
    return validate(code).valid


def validate_many(codes: Iterable[str | None]) -> pd.DataFrame:
    """Validate a column of credit codes, once per distinct value.

    Parameters
    ----------
    codes : iterable of str or None
        The codes as exported, for example the ``seller_uscc`` column of an order table (a
        categorical :class:`pandas.Series` is handled without expanding it). ``None``/NaN and
        values that normalise to nothing get status ``"missing"``; integers (digit-only codes
        read as numbers) are validated as their decimal text; other non-string values are
        ``"invalid"``.

    Returns
    -------
    pandas.DataFrame
        One row per input value, in input order (with the input's index if it is a Series), and
        columns ``input``, ``code``, ``status`` (one of :data:`STATUSES`), ``reasons`` and
        ``warnings`` (each joined with ``"; "``, empty when there are none). ``code``,
        ``status``, ``reasons`` and ``warnings`` are categorical, so millions of rows with few
        distinct sellers stay small.

    Examples
    --------
    >>> df = validate_many(
    ...     ["914403001922038216", None, "914403001922038217", "９１４４０３００１９２２０３８２１６"]
    ... )
    >>> list(df["status"])
    ['valid', 'missing', 'invalid', 'valid']
    >>> df.loc[2, "reasons"]
    "check character (position 18) is '7', expected '6'"
    """
    series = codes if isinstance(codes, pd.Series) else pd.Series(list(codes))
    labels, uniques = pd.factorize(series, use_na_sentinel=True)

    clean = _clean(uniques)
    rows: list[tuple[str | None, str, str, str]] = [
        (value, "valid", "", "") if ok else _row(value) for value, ok in zip(uniques, clean)
    ]
    rows.append((None, "missing", "", ""))  # for labels of -1 (None, NaN, NA)

    table = pd.DataFrame(
        {
            "code": pd.Categorical([r[0] for r in rows]),
            "status": pd.Categorical([r[1] for r in rows], categories=list(STATUSES)),
            "reasons": pd.Categorical([r[2] for r in rows]),
            "warnings": pd.Categorical([r[3] for r in rows]),
        }
    )
    take = np.where(labels < 0, len(rows) - 1, labels)
    out = table.take(take)
    out.index = series.index
    out.insert(0, "input", series.array)
    return out


def _clean(values: Iterable[object]) -> np.ndarray:
    """Which values are normalised codes that :func:`validate` finds valid without a warning,
    checked as one array (the others are validated one by one, for their reasons)."""
    values = list(values)
    clean = np.zeros(len(values), dtype=bool)
    at = [i for i, v in enumerate(values) if isinstance(v, str) and len(v) == _LENGTH and v.isascii()]
    if not at:
        return clean
    chars = np.frombuffer("".join(values[i] for i in at).encode("ascii"), np.uint8).reshape(-1, _LENGTH)
    code, organisation = _BYTE_VALUES[chars], _BYTE_ORGANISATION_VALUES[chars[:, 8:16]]
    expected_organisation = np.frombuffer(_ORGANISATION_CHECK.encode(), np.uint8)[
        _organisation_check_values(organisation)
    ]
    clean[at] = (
        (code >= 0).all(axis=1)
        & (code[:, 2:8] < 10).all(axis=1)  # the region code is six digits
        & (_check_values(code[:, :17]) == code[:, 17])
        & (expected_organisation == chars[:, 16])
    )
    return clean


def _row(value: object) -> tuple[str | None, str, str, str]:
    """Code, status, reasons and warnings of one distinct, non-missing input value."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        value = str(value)
    if not isinstance(value, str):
        return (
            None,
            "invalid",
            f"not text but {type(value).__name__} {value!r}: credit codes must be read as "
            "strings (a spreadsheet may have turned the code into a number)",
            "",
        )
    result = validate(value)
    if not result.code:
        return None, "missing", "", ""
    return result.code, result.status, "; ".join(result.reasons), "; ".join(result.warnings)


def _alphabet_reasons(code: str) -> list[str]:
    """One reason per distinct character outside the alphabet, naming its positions."""
    positions: dict[str, list[int]] = {}
    for i, ch in enumerate(code, start=1):
        if ch not in _VALUES:
            positions.setdefault(ch, []).append(i)
    reasons = []
    for ch, where in positions.items():
        at = f"{_describe(ch)} at {_positions(where)}"
        if ch in _EXCLUDED_LETTERS:
            digit = _EXCLUDED_LETTERS[ch]
            hint = (
                f" (was the digit {digit} meant?)"
                if digit
                else " (the alphabet has no I, O, S, V or Z)"
            )
            reasons.append(f"{at}: the letter {ch} is not used in credit codes{hint}")
        else:
            reasons.append(f"{at} is outside the credit-code alphabet {ALPHABET}")
    return reasons


def _positions(where: list[int]) -> str:
    """``position 3``, ``positions 3 and 5``, ``positions 3, 5 and 9``."""
    if len(where) == 1:
        return f"position {where[0]}"
    return "positions " + ", ".join(map(str, where[:-1])) + f" and {where[-1]}"


def _describe(ch: str) -> str:
    """A character quoted, with its code point and name unless it is printable ASCII."""
    if " " <= ch <= "~":
        return repr(ch)
    name = unicodedata.name(ch, "")
    return f"{ch!r} (U+{ord(ch):04X}{' ' + name if name else ''})"
