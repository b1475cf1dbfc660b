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
Whether its parameters are valid is decided at ``fit``, against the detector's
``_parameter_constraints``, the scikit-learn way (:func:`sklearn.base._fit_context`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from sklearn.base import BaseEstimator, _fit_context

from antifraud.features.data import DetectionData
from antifraud.schema import REQUIRED, Requirement, missing_columns

__all__ = ["Detector"]


class Detector(BaseEstimator):
    """Base class of the detectors: a scikit-learn estimator fitted on a ``DetectionData``.

    Subclasses list the columns they need in ``required_columns``, the valid values of every
    constructor parameter in ``_parameter_constraints`` (:mod:`sklearn.utils._param_validation`)
    and implement ``_fit(X, **fit_params)``, which sets the fitted attributes. :meth:`fit` is
    the one entry point: it validates the parameters and the columns, then calls ``_fit``. A
    detector whose ``fit`` takes keyword arguments (which the ensemble offers by name,
    :func:`sklearn.utils.validation.has_fit_parameter`) declares them in its own ``fit``,
    which passes them on to this one. The first line of a subclass's docstring says what it
    looks for (:meth:`description`).
    """

    #: Canonical columns the detector needs; a tuple item means any one of its columns.
    required_columns: ClassVar[tuple[Requirement, ...]] = REQUIRED
    #: Account features (:mod:`antifraud.features.tables`) the detector selects its groups on:
    #: the ensemble leaves them out when it tests the detector's rings against their controls
    #: (:mod:`antifraud.detectors.significance`), as a group chosen for extreme ratings has
    #: extreme ratings by construction.
    selects_on: ClassVar[tuple[str, ...]] = ()
    #: The ring kind (:data:`antifraud.kinds.RING_KINDS`) whose trace the detector's
    #: ``account_scores_`` measure, for a behaviour detector (light parcels, a takeover...):
    #: the ensemble tests every ring's members on them and names rings by them. None for a
    #: detector of structure (shared shops, bursts), whose scores honest crowds share.
    trace: ClassVar[str | None] = None
    #: Rough fit time, seconds per ten million orders (benchmarks/README.md): the ensemble
    #: starts the costliest detectors first, so that its threads finish together. It changes
    #: nothing but the order they are started in.
    cost: ClassVar[float] = 1.0
    #: Valid values of every constructor parameter, checked at :meth:`fit`.
    _parameter_constraints: ClassVar[dict[str, list[Any]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse, when it is defined, a detector that does not say which values its parameters take."""
        super().__init_subclass__(**kwargs)
        if not hasattr(cls, "_parameter_constraints"):
            raise TypeError(f"{cls.__name__} must declare _parameter_constraints: for each constructor parameter, "
                            "the values it takes (sklearn.utils._param_validation; {} for a detector without any)")

    @classmethod
    def description(cls) -> str:
        """What the detector looks for, in one line: its docstring's first line without the full
        stop (its class name when it has no docstring).

        Examples
        --------
        >>> class Quiet(Detector):
        ...     _parameter_constraints = {}
        >>> Quiet.description()
        'Quiet'
        """
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0].rstrip(".") if doc else cls.__name__

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: DetectionData, y: None = None, **fit_params: Any) -> Self:
        """Fit on ``X``; refuse parameters out of range and an export without the needed columns.

        Parameters
        ----------
        X : DetectionData
            The export's orders, graphs and features (or a matrix, for a detector that takes
            one).
        y : None
            Ignored.
        **fit_params
            Passed on to ``_fit``: what the subclass's own ``fit`` declares.

        Returns
        -------
        self

        Raises
        ------
        sklearn.utils._param_validation.InvalidParameterError
            For a parameter outside its constraints (a ``ValueError``), naming it.
        ValueError
            For an export that lacks the columns the detector needs, naming them.
        """
        if isinstance(X, DetectionData):
            self._check_columns(X)
        self._fit(X, **fit_params)
        return self

    def _check_columns(self, data: DetectionData) -> None:
        missing = missing_columns(self.required_columns, data.table.column_names)
        if missing:
            raise ValueError(f"{type(self).__name__} needs columns the export lacks: {', '.join(missing)}")

    def _fit(self, X: DetectionData, **fit_params: Any) -> None:
        raise NotImplementedError
