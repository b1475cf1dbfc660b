"""The detector contract: what every detector takes, needs and exposes (see ``docs/detectors.md``).

A detector is a scikit-learn estimator whose ``fit(data)`` takes a
:class:`~antifraud.features.data.DetectionData` and returns ``self``. It declares the canonical
columns it needs in :attr:`Detector.required_columns`, and after ``fit`` it exposes

- ``groups_``: the :class:`~antifraud.detectors.groups.AccountGroup` it found, best first
  (empty for a detector that scores entities only);
- ``account_scores_``: per account, in [0, 1];
- ``merchant_scores_`` and ``order_scores_`` where the detector scores those.

Whether a detector can run on an export is decided by :func:`~antifraud.schema.missing_columns`
on its ``required_columns``, for the ensemble (which skips the detector and says why), for a
direct ``fit`` (which refuses) and for ``validate`` (which reports the detector's signal, named
as its ensemble step and described by :meth:`Detector.description`, as unavailable).
"""

from __future__ import annotations

from typing import ClassVar

from sklearn.base import BaseEstimator

from antifraud.features.data import DetectionData
from antifraud.schema import REQUIRED, Requirement, missing_columns

__all__ = ["Detector"]


class Detector(BaseEstimator):
    """Base class of the detectors: a scikit-learn estimator fitted on a ``DetectionData``.

    Subclasses list the columns they need in ``required_columns`` and implement ``_fit(data)``,
    which sets the fitted attributes; one whose ``fit`` takes more (keyword arguments the
    ensemble supplies) overrides ``fit`` and calls :meth:`_check_columns` first. The first line
    of a subclass's docstring says what it looks for (:meth:`description`).
    """

    #: Canonical columns the detector needs; a tuple item means any one of its columns.
    required_columns: ClassVar[tuple[Requirement, ...]] = REQUIRED

    @classmethod
    def description(cls) -> str:
        """What the detector looks for, in one line: its docstring's first line without the full
        stop (its class name when it has no docstring).

        Examples
        --------
        >>> class Quiet(Detector):
        ...     pass
        >>> Quiet.description()
        'Quiet'
        """
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0].rstrip(".") if doc else cls.__name__

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
