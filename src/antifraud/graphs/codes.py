"""Dense integer codes for the ids of a canonical table.

The canonical table keeps ids dictionary-encoded (:mod:`antifraud.ingest`); its dictionary may
name values seen only in quarantined rows, so codes are compacted to the values actually used,
numbered in order of first appearance in the dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Codes", "compact", "encode", "value_codes"]


@dataclass(frozen=True)
class Codes:
    """Per-row codes of one id column and the label of every code.

    Attributes
    ----------
    codes : ndarray of int32
        For each row, its entity's code in ``0 .. len(labels) - 1``; -1 where the value is missing.
    labels : ndarray of object (str)
        The id of each code.
    """

    codes: np.ndarray
    labels: np.ndarray

    @property
    def n(self) -> int:
        """Number of distinct entities."""
        return len(self.labels)


def encode(column: pa.ChunkedArray | pa.Array) -> Codes:
    """Compact dense codes of an id column (dictionary-encoded or plain strings).

    Examples
    --------
    >>> c = encode(pa.array(["b", "a", "b", None]).dictionary_encode())
    >>> c.codes.tolist(), c.labels.tolist()
    ([0, 1, 0, -1], ['b', 'a'])
    """
    raw, column = _dictionary_encoded(column)
    used = np.zeros(len(column.dictionary) + 1, dtype=bool)
    used[raw + 1] = True  # slot 0 stands for missing
    used[0] = False
    remap = np.cumsum(used).astype(np.int32) - 1
    codes = np.where(raw >= 0, remap[raw + 1], -1).astype(np.int32)
    labels = np.asarray(column.dictionary.to_numpy(zero_copy_only=False), dtype=object)[used[1:]]
    return Codes(codes, labels)


def _dictionary_encoded(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.DictionaryArray]:
    """The column as one dictionary array, with its per-row indices (-1 where missing)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    return column.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64), column


def value_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, int]:
    """Per-row codes of an id column and their number, without :func:`encode`'s compaction and
    labels: for counting by value, where codes no row uses do no harm (and labels of a near-unique
    column such as IPs cost more than the counting).

    Examples
    --------
    >>> codes, n = value_codes(pa.array(["b", "a", "b", None]))
    >>> codes.tolist(), n
    ([0, 1, 0, -1], 2)
    """
    raw, column = _dictionary_encoded(column)
    return raw, len(column.dictionary)


def compact(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for non-negative integer keys below ``n_keys``.

    Counts instead of sorting when ``n_keys`` is at most a few times the number of keys (a
    shop x day key of ten million orders: a tenth of the time), sorts otherwise.

    Examples
    --------
    >>> values, inverse = compact(np.array([7, 2, 7, 5]), 10)
    >>> values.tolist(), inverse.tolist()
    ([2, 5, 7], [2, 0, 2, 1])
    """
    keys = np.asarray(keys, dtype=np.int64)
    if n_keys > 4 * keys.size + 1024:
        return np.unique(keys, return_inverse=True)
    present = np.bincount(keys, minlength=n_keys) > 0
    index = np.cumsum(present) - 1
    return np.flatnonzero(present), index[keys]
