"""Confirmed cases: label files read, checked and matched to an export's accounts, merchants and orders.

A label file is a CSV with a header: ``account_id,label``, ``seller_id,label`` or
``order_id,label`` (one file may hold several id columns, all but one empty on each line),
``label`` 1 for confirmed fraud and 0 for confirmed honest, and optionally ``group``: the case
or operation the entity belongs to, which keeps the accounts of one operation on one side of a
cross-validation split. Positive-only files
(a black list) are the common case. An entity labelled both ways, or with two groups, is an
error naming both lines.

Labels also come from a record store (:mod:`antifraud.learning.sources`). Every source gives a
:class:`Labels`; :func:`merge_labels` makes one of several. There an entity labelled both ways
is an error naming both sources, and an entity's case groups from different sources are joined
into one case (sources name the same operation differently).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from antifraud.ingest.manifest import sha256_file

__all__ = ["KINDS", "UNLABELLED", "LabelError", "LabelSource", "Labels", "labels_of", "merge_labels",
           "read_labels"]

#: Entity kinds a label can name, with the id column that names them.
KINDS: dict[str, str] = {"accounts": "account_id", "merchants": "seller_id", "orders": "order_id"}
#: How a label's value reads: confirmed fraud, confirmed honest.
_VALUES = {"1": 1, "0": 0}
#: Unlabelled, in a label vector (the scikit-learn convention for semi-supervised learning).
UNLABELLED = -1


class LabelError(ValueError):
    """A label file that cannot be used, with the file, line and column at fault."""


@dataclass(frozen=True)
class LabelSource:
    """Where labels came from and how many it gave.

    Attributes
    ----------
    kind : {"file", "store"}
    path : str
    sha256 : str
        Of the file; of a store's ``versions.jsonl``.
    counts : dict
        Kind -> ``{"fraud": n, "honest": n}``: the entities it labels.
    unmatched : dict
        Kind -> its labels naming no entity of the export, where the source matches them itself
        (a store, whose records name accounts by pseudonym); empty for a file.
    skipped : dict
        Why records gave no label -> how many (a store); empty for a file.
    """

    kind: str
    path: str
    sha256: str
    counts: dict[str, dict[str, int]]
    unmatched: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        """The source as ``model.json`` records it.

        Examples
        --------
        >>> LabelSource("file", "black.csv", "ab", {"accounts": {"fraud": 2, "honest": 0}}).to_json()["labels"]
        {'accounts': {'fraud': 2, 'honest': 0}}
        """
        out = {"kind": self.kind, "path": self.path, "sha256": self.sha256, "labels": self.counts}
        return out | ({"unmatched": self.unmatched, "skipped": self.skipped} if self.kind == "store" else {})


@dataclass(frozen=True)
class Labels:
    """Labels by entity kind: for each of :data:`KINDS`, a frame indexed by id with columns
    ``label`` (1 or 0), ``group`` (a string, empty for none) and ``where`` (``file:line``, or the
    record in a store), and the sources they came from."""

    frames: dict[str, pd.DataFrame]
    sources: tuple[LabelSource, ...]

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
        return _counts(self.frames)


def merge_labels(parts: Sequence[Labels]) -> Labels:
    """The labels of several sources as one.

    An entity's case groups from different sources are joined: every entity of either group is
    then in one case, named by the first of its groups in sort order.

    Raises
    ------
    LabelError
        For an entity labelled 1 by one source and 0 by another, naming both.

    Examples
    --------
    >>> def one(ids, group, where):
    ...     frame = pd.DataFrame({"label": 1, "group": group, "where": where}, index=pd.Index(ids, name="id"))
    ...     return Labels({"accounts": frame, "merchants": frame.iloc[:0], "orders": frame.iloc[:0]}, ())
    >>> merged = merge_labels([one(["a", "b"], "op-1", "x"), one(["b", "c"], "R7", "y")])
    >>> merged.align("accounts", ["a", "b", "c"])[1].tolist()
    ['R7', 'R7', 'R7']
    """
    rows = {kind: pd.concat([p.frames[kind].reset_index() for p in parts], ignore_index=True) for kind in KINDS}
    return labels_of(rows, tuple(source for p in parts for source in p.sources))


def labels_of(rows: Mapping[str, pd.DataFrame], sources: tuple[LabelSource, ...]) -> Labels:
    """Labels from rows (for each of :data:`KINDS`, columns ``id``, ``label``, ``group`` and
    ``where``) that may name an entity more than once: its labels must agree, its groups are
    joined as by :func:`merge_labels`.

    Raises
    ------
    LabelError
        For an entity labelled both ways, naming both rows' ``where``.
    """
    return Labels({kind: _merged(kind, [rows[kind]], join_groups=True) for kind in KINDS}, sources)


def _counts(frames: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, int]]:
    return {kind: {"fraud": int((f["label"] == 1).sum()), "honest": int((f["label"] == 0).sum())}
            for kind, f in frames.items()}


def read_labels(paths: Sequence[str | Path]) -> Labels:
    """Read and check label files (see the module's description).

    Raises
    ------
    LabelError
        For a file without an id or ``label`` column, a value other than 0 or 1, an empty id, or
        an entity labelled twice in different ways, naming the file, line and column.
    """
    parts: dict[str, list[pd.DataFrame]] = {kind: [] for kind in KINDS}
    sources = []
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
        lines = np.arange(2, len(table) + 2)
        values = table["label"].str.strip()
        bad = ~values.isin(list(_VALUES))
        if bad.any():
            at = int(np.flatnonzero(bad)[0])
            raise LabelError(f"{path}, line {lines[at]}, column label: {values.iloc[at]!r} is not a label "
                             "(1 confirmed fraud, 0 confirmed honest)")
        named = np.zeros(len(table), dtype=bool)
        own: dict[str, list[pd.DataFrame]] = {kind: [] for kind in KINDS}  # this file's
        for kind, column in KINDS.items():
            if column not in table.columns:
                continue
            ids = table[column].str.strip()
            has = ids != ""
            named |= has.to_numpy()
            own[kind].append(pd.DataFrame({
                "id": ids[has], "label": values[has].map(_VALUES).astype(np.int8),
                "group": table["group"].str.strip()[has] if "group" in table.columns else "",
                "where": [f"{path}:{line}" for line in lines[has.to_numpy()]],
            }))
            parts[kind] += own[kind]
        if not named.all():
            at = int(np.flatnonzero(~named)[0])
            raise LabelError(f"{path}, line {lines[at]}, column {' / '.join(id_columns)}: the line names no entity")
        counts = _counts({kind: _merged(kind, frames) for kind, frames in own.items()})
        sources.append(LabelSource("file", str(path), sha256_file(path), counts))
    return Labels({kind: _merged(kind, frames) for kind, frames in parts.items()}, tuple(sources))


def _merged(kind: str, frames: list[pd.DataFrame], *, join_groups: bool = False) -> pd.DataFrame:
    """One frame per kind, repeated labels of one entity kept once if they agree; with
    ``join_groups``, an entity's groups joined (:func:`_joined`) instead of having to agree."""
    columns = ["id", "label", "group", "where"]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    if join_groups:
        frame["group"] = _joined(frame)
    first = frame.drop_duplicates("id")
    repeated = frame.merge(first, on="id", suffixes=("", "_first"))
    clash = (repeated["label"] != repeated["label_first"]) | (repeated["group"] != repeated["group_first"])
    if clash.any():
        row = repeated[clash].iloc[0]
        what = "label" if row["label"] != row["label_first"] else "group"
        raise LabelError(f"{row['where']}, column {what}: {KINDS[kind]} {row['id']!r} is given "
                         f"{what} {str(row[what])!r} here and {str(row[what + '_first'])!r} at {row['where_first']}")
    return first.set_index("id").astype({"label": np.int8})


def _joined(frame: pd.DataFrame) -> pd.Series:
    """Each row's group, the groups that share an entity joined into one named by the first of
    them in sort order; an entity without a group in one row takes its group from the others."""
    named = frame["group"] != ""
    codes, names = pd.factorize(frame.loc[named, "group"], sort=True)
    if not len(names):
        return frame["group"]
    first = pd.Series(codes, index=frame.index[named]).groupby(frame.loc[named, "id"]).transform("min").to_numpy()
    _, component = connected_components(coo_matrix((np.ones(len(codes)), (codes, first)), shape=(len(names),) * 2),
                                        directed=False)
    name = pd.Series(np.arange(len(names))).groupby(component).transform("min").to_numpy()  # sorted: min is first
    group = frame["group"].copy()
    group[named] = names.to_numpy()[name[codes]]
    return group.groupby(frame["id"]).transform("max")  # "" sorts first, an entity's named groups are now one
