"""The detector contract: what every detector takes, needs and exposes (see ``docs/detectors.md``).

A detector is a scikit-learn estimator whose ``fit(data)`` takes a
:class:`~antifraud.features.data.DetectionData` and returns ``self``. It declares the canonical
columns it needs in :attr:`Detector.required_columns`, and after ``fit`` it exposes

- ``groups_``: the :class:`~antifraud.detectors.groups.AccountGroup` it found, best first
  (empty for a detector that scores entities only);
- ``account_scores_``: per account, in [0, 1];
- ``merchant_scores_`` and ``order_scores_`` where the detector scores those.

Whether a detector can run on an export is decided here, by :func:`missing_columns`, for the
ensemble (which skips the detector and says why) and for a direct ``fit`` (which refuses).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from sklearn.base import BaseEstimator

from antifraud.features.data import DetectionData
from antifraud.schema import REQUIRED

__all__ = ["Detector", "Requirement", "missing_columns"]

#: A canonical column, or a tuple of columns of which any one will do.
Requirement = str | tuple[str, ...]


def missing_columns(required: Iterable[Requirement], columns: Iterable[str]) -> tuple[str, ...]:
    """The requirements that ``columns`` leave unmet, in words (empty when none).

    Examples
    --------
    >>> missing_columns(["buyer_id", "rating", ("device_id", "buyer_ip")], ["buyer_id", "seller_id"])
    ('rating', 'one of device_id/buyer_ip')
    >>> missing_columns(["buyer_id", ("device_id", "buyer_ip")], ["buyer_id", "buyer_ip"])
    ()
    """
    present = set(columns)
    out = []
    for need in required:
        if isinstance(need, str):
            if need not in present:
                out.append(need)
        elif not present.intersection(need):
            out.append("one of " + "/".join(need))
    return tuple(out)


class Detector(BaseEstimator):
    """Base class of the detectors: a scikit-learn estimator fitted on a ``DetectionData``.

    Subclasses list the columns they need in ``required_columns`` and implement ``_fit(data)``,
    which sets the fitted attributes; one whose ``fit`` takes more (keyword arguments the
    ensemble supplies) overrides ``fit`` and calls :meth:`_check_columns` first.
    """

    #: Canonical columns the detector needs; a tuple item means any one of its columns.
    required_columns: ClassVar[tuple[Requirement, ...]] = REQUIRED

    def fit(self, X: DetectionData, y: None = None) -> Detector:
        """Fit on ``X``; refuse an export without the columns the detector needs.

        Parameters
        ----------
        X : DetectionData
            The export's orders, graphs and features.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._check_columns(X)
        self._fit(X)
        return self

    def _check_columns(self, data: DetectionData) -> None:
        missing = missing_columns(self.required_columns, data.table.column_names)
        if missing:
            raise ValueError(f"{type(self).__name__} needs columns the export lacks: {', '.join(missing)}")

    def _fit(self, data: DetectionData) -> None:
        raise NotImplementedError
