"""Masked values: ``138****1234`` identifies nobody.

Platforms mask personal data in the reports merchants export: ``138****1234`` for a phone,
``浙江省杭州市****`` for an address, ``t**1`` for a buyer's display name. Thousands of strangers
share such a value, so it is missing, not an identity. :func:`is_masked` is the one rule that
says which values are masked: a run of two or more mask characters (``*``, the full-width
``＊`` or ``×``) in place of some of its characters, or nothing but mask characters (``*``,
``* *``). A single ``*`` inside a value (``3*4``) is kept as written.

What ingest does with a masked value depends on its column (:data:`MASKED_COLUMNS`):

- a personal column (:data:`~antifraud.schema.PERSONAL`: ``buyer_ip``, ``device_id``,
  ``ship_phone``, ``ship_address``) treats it as missing: it is normalised to null
  (:func:`~antifraud.ingest.pseudonym.normalize_personal`), so it is never pseudonymised and
  never links two accounts; the row is kept with the value missing;
- ``buyer_id`` keeps it: the buyer account is every row's key and the canonical schema has no
  other, so a masked display name remains the account (strangers with the same masked name are
  then one account, which ``run.json`` says);

and in both, ingest counts the rows whose value is masked (:class:`Masking`). A personal column
masked in at least :data:`MISSING_SHARE` of the rows that have a value counts as missing: it is
left out of the canonical table, so that :func:`~antifraud.schema.missing_columns` and every
detector and feature that needs it treat it as absent, and ``run.json`` says why.

Examples
--------
>>> import pyarrow as pa
>>> is_masked(pa.array(["138****1234", "t**1", "＊＊＊", "* *", "13800138000", "3*4", None])).to_pylist()
[True, True, True, True, False, False, None]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from antifraud.ingest.convert import shared_dictionary
from antifraud.schema import PERSONAL

__all__ = ["MASK_CHARACTERS", "MASKED_COLUMNS", "MASKING_RULE", "MISSING_SHARE", "Masking", "is_masked", "masked_rows"]

#: Characters that stand for hidden characters of a value.
MASK_CHARACTERS = "*＊×"
#: Columns whose masked values ingest counts; the personal ones also treat them as missing.
MASKED_COLUMNS: tuple[str, ...] = ("buyer_id", *PERSONAL)
#: A personal column masked in at least this share of the rows that have a value counts as missing.
MISSING_SHARE = 0.95

#: :func:`is_masked` in words, for ``run.json``.
MASKING_RULE = (f"a value with a run of two or more of {' '.join(MASK_CHARACTERS)}, or only those, is masked: "
                "missing in personal columns, kept (and counted) in buyer_id")

_MASK = f"[{MASK_CHARACTERS}]"
_MASKED = rf"{_MASK}{{2,}}|^[\s{MASK_CHARACTERS}]*{_MASK}[\s{MASK_CHARACTERS}]*$"


def is_masked(values: pa.Array | pa.ChunkedArray) -> pa.BooleanArray | pa.ChunkedArray:
    """Whether each value is masked: a run of two or more mask characters, or only mask characters.

    Parameters
    ----------
    values : pyarrow string array
        Values as written or normalised (full-width ``＊`` counts as well as ``*``).

    Returns
    -------
    pyarrow boolean array
        True for masked values, null for null ones.
    """
    return pc.match_substring_regex(values, _MASKED)


def masked_rows(encoded: pa.DictionaryArray | pa.ChunkedArray) -> np.ndarray:
    """Rows of a dictionary-encoded column whose value is masked, deciding once per distinct value.

    Parameters
    ----------
    encoded : pyarrow dictionary array, or chunked array whose chunks share one dictionary
        A string column as :func:`pyarrow.compute.dictionary_encode` gives it.

    Returns
    -------
    ndarray of bool, shape (n_rows,)

    Examples
    --------
    >>> masked_rows(pa.array(["t**1", "tb_x", None, "t**1"]).dictionary_encode()).tolist()
    [True, False, False, True]
    """
    flags = is_masked(shared_dictionary(encoded)).fill_null(False)
    chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    parts = [pc.take(flags, c.indices).fill_null(False).to_numpy(zero_copy_only=False) for c in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


@dataclass(frozen=True)
class Masking:
    """How many accepted rows of one column hold a masked value.

    Attributes
    ----------
    column : str
        A column of :data:`MASKED_COLUMNS`.
    rows : int
        Accepted rows: ``masked + empty + kept``.
    masked : int
        Rows whose value is masked.
    empty : int
        Rows without a value as written (or none left after normalisation).

    Examples
    --------
    >>> m = Masking("ship_phone", rows=100, masked=96, empty=2)
    >>> m.kept, round(m.share, 3), m.missing, m.reason
    (2, 0.98, True, 'masked in 98.0 % of rows')
    """

    column: str
    rows: int
    masked: int
    empty: int

    @property
    def kept(self) -> int:
        """Rows that keep a usable value."""
        return self.rows - self.masked - self.empty

    @property
    def share(self) -> float:
        """Share of the rows with a value whose value is masked (0 when no row has one)."""
        return self.masked / (self.masked + self.kept) if self.masked else 0.0

    @property
    def missing(self) -> bool:
        """True for a personal column masked in at least :data:`MISSING_SHARE` of its rows with a value."""
        return self.column in PERSONAL and self.masked > 0 and self.share >= MISSING_SHARE

    @property
    def reason(self) -> str:
        """The masking in words, as ``run.json`` and the terminal give it."""
        words = f"masked in {100 * self.share:.1f} % of rows"
        return words if self.column in PERSONAL else words + ", kept as the account key"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``run.json``."""
        return {"rows": self.rows, "masked": self.masked, "empty": self.empty, "kept": self.kept,
                "masked_share": round(self.share, 4), "counts_as_missing": self.missing}
