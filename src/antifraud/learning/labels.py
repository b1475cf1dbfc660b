"""Confirmed cases: label files read, checked and matched to an export's accounts and merchants.

A label file is a CSV with a header: ``account_id,label`` or ``seller_id,label`` (one file may
hold both id columns, one of them empty on each line), ``label`` 1 for confirmed fraud and 0 for
confirmed honest, and optionally ``group``: the case or operation the entity belongs to, which
keeps the accounts of one operation on one side of a cross-validation split. Positive-only files
(a black list) are the common case. An entity labelled both ways, or with two groups, is an
error naming both lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from antifraud.ingest.manifest import sha256_file

__all__ = ["KINDS", "UNLABELLED", "LabelError", "Labels", "read_labels"]

#: Entity kinds a label can name, with the id column that names them.
KINDS: dict[str, str] = {"accounts": "account_id", "merchants": "seller_id"}
#: How a label's value reads: confirmed fraud, confirmed honest.
_VALUES = {"1": 1, "0": 0}
#: Unlabelled, in a label vector (the scikit-learn convention for semi-supervised learning).
UNLABELLED = -1


class LabelError(ValueError):
    """A label file that cannot be used, with the file, line and column at fault."""


@dataclass(frozen=True)
class Labels:
    """Labels by entity kind: for each of :data:`KINDS`, a frame indexed by id with columns
    ``label`` (1 or 0), ``group`` (a string, empty for none) and ``where`` (``file:line``), and
    the files they came from with their SHA-256."""

    frames: dict[str, pd.DataFrame]
    files: tuple[tuple[str, str], ...]

    def align(self, kind: str, ids: Sequence[str] | pd.Index) -> tuple[np.ndarray, np.ndarray, int]:
        """The labels of the entities ``ids`` of ``kind``: ``(y, group, unmatched)``.

        ``y`` is 1, 0 or :data:`UNLABELLED` (-1) per id, ``group`` the case group per id (empty
        string for none) and ``unmatched`` the number of labels naming no entity of ``ids``.

        Examples
        --------
        >>> frame = pd.DataFrame({"label": [1, 0], "group": ["c1", ""], "where": ["l:2", "l:3"]},
        ...                      index=pd.Index(["a", "zz"], name="id"))
        >>> y, group, unmatched = Labels({"accounts": frame, "merchants": frame.iloc[:0]}, ()).align(
        ...     "accounts", ["a", "b"])
        >>> y.tolist(), group.tolist(), unmatched
        ([1, -1], ['c1', ''], 1)
        """
        frame = self.frames[kind]
        index = pd.Index(ids)
        position = index.get_indexer(frame.index)
        found = position >= 0
        y = np.full(len(index), UNLABELLED, dtype=np.int8)
        group = np.full(len(index), "", dtype=object)
        y[position[found]] = frame["label"].to_numpy()[found]
        group[position[found]] = frame["group"].to_numpy()[found]
        return y, group, int((~found).sum())

    def counts(self) -> dict[str, dict[str, int]]:
        """Confirmed fraud and honest labels per kind, as read.

        Examples
        --------
        >>> frame = pd.DataFrame({"label": [1, 1, 0], "group": "", "where": ""}, index=["a", "b", "c"])
        >>> Labels({"accounts": frame, "merchants": frame.iloc[:0]}, ()).counts()["accounts"]
        {'fraud': 2, 'honest': 1}
        """
        return {kind: {"fraud": int((f["label"] == 1).sum()), "honest": int((f["label"] == 0).sum())}
                for kind, f in self.frames.items()}


def read_labels(paths: Sequence[str | Path]) -> Labels:
    """Read and check label files (see the module's description).

    Raises
    ------
    LabelError
        For a file without an id or ``label`` column, a value other than 0 or 1, an empty id, or
        an entity labelled twice in different ways, naming the file, line and column.
    """
    parts: dict[str, list[pd.DataFrame]] = {kind: [] for kind in KINDS}
    files = []
    for path in map(Path, paths):
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise LabelError(f"{path}: cannot be read as a UTF-8 CSV label file: {exc}") from exc
        table.columns = [c.strip() for c in table.columns]
        id_columns = [c for c in KINDS.values() if c in table.columns]
        if "label" not in table.columns or not id_columns:
            raise LabelError(f"{path}, line 1: a label file needs a 'label' column and an id column "
                             f"({' or '.join(KINDS.values())}); its header is {', '.join(table.columns)}")
        files.append((str(path), sha256_file(path)))
        lines = np.arange(2, len(table) + 2)
        values = table["label"].str.strip()
        bad = ~values.isin(list(_VALUES))
        if bad.any():
            at = int(np.flatnonzero(bad)[0])
            raise LabelError(f"{path}, line {lines[at]}, column label: {values.iloc[at]!r} is not a label "
                             "(1 confirmed fraud, 0 confirmed honest)")
        named = np.zeros(len(table), dtype=bool)
        for kind, column in KINDS.items():
            if column not in table.columns:
                continue
            ids = table[column].str.strip()
            has = ids != ""
            named |= has.to_numpy()
            parts[kind].append(pd.DataFrame({
                "id": ids[has], "label": values[has].map(_VALUES).astype(np.int8),
                "group": table["group"].str.strip()[has] if "group" in table.columns else "",
                "where": [f"{path}:{line}" for line in lines[has.to_numpy()]],
            }))
        if not named.all():
            at = int(np.flatnonzero(~named)[0])
            raise LabelError(f"{path}, line {lines[at]}, column {' / '.join(id_columns)}: the line names no entity")
    return Labels({kind: _merged(kind, frames) for kind, frames in parts.items()}, tuple(files))


def _merged(kind: str, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One frame per kind, repeated labels of one entity kept once if they agree."""
    columns = ["id", "label", "group", "where"]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    first = frame.drop_duplicates("id")
    repeated = frame.merge(first, on="id", suffixes=("", "_first"))
    clash = (repeated["label"] != repeated["label_first"]) | (repeated["group"] != repeated["group_first"])
    if clash.any():
        row = repeated[clash].iloc[0]
        what = "label" if row["label"] != row["label_first"] else "group"
        raise LabelError(f"{row['where']}, column {what}: {KINDS[kind]} {row['id']!r} is given "
                         f"{what} {str(row[what])!r} here and {str(row[what + '_first'])!r} at {row['where_first']}")
    return first.set_index("id").astype({"label": np.int8})
