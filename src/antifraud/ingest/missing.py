"""What an export's missing and masked columns take away from the detection.

Each :class:`~antifraud.schema.Signal` (a detector, the review scorer, a behaviour feature)
declares the columns it needs, and :func:`~antifraud.schema.missing_columns` decides from the
columns an export has whether it can run. :func:`missing_signals` turns that round: for each
column that is absent, or masked (:mod:`antifraud.ingest.masking`), why, and which signals it
disables. Nothing here is a table of its own: a column disables the signals whose unmet
requirements name it, as the signals declare them; a signal that needs any one of several
columns (``one of buyer_ip/device_id/ship_phone/ship_address``) is disabled by each of them,
and listed under each.

Examples
--------
>>> from antifraud.schema import Signal
>>> signals = [Signal("farms", "shared identities", (("device_id", "ship_phone"),)),
...            Signal("age", "fresh accounts", ("buyer_registered_at",))]
>>> [(m.column, m.reason, m.disables) for m in missing_signals(signals, ["buyer_id"], {})]
[('device_id', 'not in the export', ('farms',)), ('ship_phone', 'not in the export', ('farms',)), \
('buyer_registered_at', 'not in the export', ('age',))]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from antifraud.ingest.masking import Masking
from antifraud.schema import NAMES, Signal

__all__ = ["MissingColumn", "missing_signals"]

#: Why a column that the export does not have is missing.
ABSENT = "not in the export"


@dataclass(frozen=True)
class MissingColumn:
    """A column the export lacks or masks, why, and the signals it disables.

    Attributes
    ----------
    column : str
        The canonical column.
    reason : str
        ``"not in the export"`` or its masking (:attr:`Masking.reason`).
    disables : tuple of str
        Names of the signals that cannot run for want of it (empty for a column that is
        partly masked, or masked but kept).
    """

    column: str
    reason: str
    disables: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``run.json``."""
        return {"reason": self.reason, "disables": list(self.disables)}


def missing_signals(
    signals: Sequence[Signal], columns: Iterable[str], masking: Mapping[str, Masking]
) -> list[MissingColumn]:
    """The columns that disable signals, or are masked, in canonical column order.

    Parameters
    ----------
    signals : sequence of Signal
        What the detection reads (:meth:`BrushingEnsemble.signals`).
    columns : iterable of str
        The columns the export has (masked ones that count as missing left out, as
        :attr:`~antifraud.ingest.IngestResult.columns` gives them).
    masking : mapping of str to Masking
        The masked values counted per column.

    Returns
    -------
    list of MissingColumn
        Every column that an unmet requirement of a signal names, and every column with masked
        values, even where they disable nothing.
    """
    present = set(columns)
    disables: dict[str, list[str]] = {}
    for signal in signals:
        for need in signal.unmet(present):
            for column in (need,) if isinstance(need, str) else need:
                disables.setdefault(column, []).append(signal.name)
    masked = {name: m for name, m in masking.items() if m.masked}
    return [
        MissingColumn(name, masked[name].reason if name in masked else ABSENT, tuple(disables.get(name, ())))
        for name in NAMES if name in disables or name in masked
    ]
